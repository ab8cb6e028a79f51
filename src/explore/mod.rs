//! checked on its trace, and the results are written so that shards run on many machines merge
//! into one report.

pub mod page;
