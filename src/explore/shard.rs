//! Seed ranges and shards: `A..B` split into `N` contiguous parts, part `K` (0-based) run by
//! one machine. Without `--shard`, the shard comes from the environment (see [`from_env`]).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The most shards one run may be split into: far more machines than any CI gives one job, few
/// enough that a report can name each missing one.
pub const SHARDS_MAX: u64 = 10_000;

/// Seeds `start..end` (end excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRange {
    /// The first seed.
    pub start: u64,
    /// One past the last seed.
    pub end: u64,
}

/// A seed range or shard that cannot be read (exit 2, nothing runs).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    /// `--seeds` is not `A..B` with `A < B`.
    #[error("--seeds: expected A..B with A < B (A included, B not), got {0:?}")]
    BadRange(String),
    /// `--shard` is not `K/N` with `K < N <= SHARDS_MAX`.
    #[error("--shard: expected K/N with 0 <= K < N <= {SHARDS_MAX} (K counts from 0; SHARDS_MAX), got {0:?}")]
    BadShard(String),
    /// A CI variable has a value that is not a number of the range it needs.
    #[error("{var}: expected {expected}, got {value:?}")]
    BadEnv {
        /// The variable's name.
        var: String,
        /// Its value.
        value: String,
        /// What it should be, in words.
        expected: String,
    },
    /// The CI's shard index is set without its shard count.
    #[error("{index} is set but {total} is not: the shard count is needed too")]
    NoTotal {
        /// The index variable's name.
        index: String,
        /// The count variable's name.
        total: String,
    },
}

impl FromStr for SeedRange {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ShardError::BadRange(s.to_string());
        let (a, b) = s.split_once("..").ok_or_else(bad)?;
        let (start, end) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
        if start < end { Ok(SeedRange { start, end }) } else { Err(bad()) }
    }
}

impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl SeedRange {
    /// How many seeds.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether it holds no seed.
    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }
}

/// Part `index` of `total`, counting from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    /// Which part, from 0.
    pub index: u64,
    /// How many parts.
    pub total: u64,
}

impl Shard {
    /// The whole range: part 0 of 1.
    pub const WHOLE: Shard = Shard { index: 0, total: 1 };

    /// Whether `index < total <= SHARDS_MAX` (a shard file may say anything).
    pub fn is_valid(self) -> bool {
        self.index < self.total && self.total <= SHARDS_MAX
    }

    /// This shard's seeds of `range`: contiguous, the parts of all shards cover it exactly.
    pub fn of(self, range: SeedRange) -> SeedRange {
        let at = |k: u64| range.start + (u128::from(range.len()) * u128::from(k) / u128::from(self.total)) as u64;
        SeedRange { start: at(self.index), end: at(self.index + 1) }
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ShardError::BadShard(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, total): (u64, u64) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        let shard = Shard { index, total };
        if shard.is_valid() { Ok(shard) } else { Err(bad()) }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

/// The environment variables read when `--shard` is absent, first match wins: (index, total,
/// whether the index counts from 1).
pub const ENV_SHARDS: &[(&str, &str, bool)] = &[
    // Kubernetes Indexed Job: the index is set by Kubernetes, the count by the Job's env.
    ("JOB_COMPLETION_INDEX", "HOOKSIM_SHARDS", false),
    // Any CI matrix: set both from the matrix (docs/explore.md shows GitHub Actions).
    ("HOOKSIM_SHARD_INDEX", "HOOKSIM_SHARDS", false),
    // GitLab CI `parallel: N`.
    ("CI_NODE_INDEX", "CI_NODE_TOTAL", true),
    // CircleCI `parallelism: N`.
    ("CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", false),
    // Buildkite `parallelism: N`.
    ("BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", false),
];

/// The shard the environment names (through `var`, for tests), or `None`.
pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>, ShardError> {
    for &(index_var, total_var, from_one) in ENV_SHARDS {
        let Some(index) = var(index_var) else { continue };
        let total =
            var(total_var).ok_or_else(|| ShardError::NoTotal { index: index_var.into(), total: total_var.into() })?;
        let bad = |v: &str, value: &str, expected: String| ShardError::BadEnv {
            var: v.into(),
            value: value.into(),
            expected,
        };
        let n: u64 = total
            .trim()
            .parse()
            .ok()
            .filter(|&n| n > 0 && n <= SHARDS_MAX)
            .ok_or_else(|| bad(total_var, &total, format!("a shard count from 1 to {SHARDS_MAX} (SHARDS_MAX)")))?;
        let first = u64::from(from_one);
        let range = || format!("a shard index from {first} to {}", n - 1 + first);
        let k: u64 = index.trim().parse().map_err(|_| bad(index_var, &index, range()))?;
        let k = k.checked_sub(first).filter(|&k| k < n).ok_or_else(|| bad(index_var, &index, range()))?;
        return Ok(Some(Shard { index: k, total: n }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_range_exactly() {
        let range: SeedRange = "10..1011".parse().unwrap();
        let mut next = range.start;
        for k in 0..8 {
            let part = Shard { index: k, total: 8 }.of(range);
            assert_eq!(part.start, next);
            next = part.end;
        }
        assert_eq!(next, range.end);
    }

    #[test]
    fn the_environment_names_the_shard() {
        let env =
            |pairs: &'static [(&str, &str)]| move |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_string());
        assert_eq!(from_env(env(&[])), Ok(None));
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3"), ("HOOKSIM_SHARDS", "8")]);
        assert_eq!(from_env(k8s), Ok(Some(Shard { index: 3, total: 8 })));
        let gitlab = env(&[("CI_NODE_INDEX", "1"), ("CI_NODE_TOTAL", "4")]);
        assert_eq!(from_env(gitlab), Ok(Some(Shard { index: 0, total: 4 })));
        assert!(from_env(env(&[("JOB_COMPLETION_INDEX", "3")])).is_err());
        assert!(from_env(env(&[("JOB_COMPLETION_INDEX", "8"), ("HOOKSIM_SHARDS", "8")])).is_err());
        assert!("5..5".parse::<SeedRange>().is_err() && "3/3".parse::<Shard>().is_err());
    }
}
