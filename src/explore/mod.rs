//! Exploring worlds: a seed becomes a world with faults (the nemesis), every property is
//! checked on its trace, and the results are written so that shards run on many machines merge
//! into one report.

pub mod fingerprint;
pub mod nemesis;
pub mod page;
pub mod report;
pub mod scenario_file;
pub mod search;
pub mod shape;
pub mod shard;
pub mod shrink;
