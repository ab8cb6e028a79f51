//! Scenario files: a [`World`] to run and the expectations its trace must meet, written in TOML
//! for people (`scenarios/README.md` documents the format, key by key).
//!
//! - [`load_file`] / [`load_str`] read one scenario, [`discover`] lists the files under paths,
//!   [`check_paths`] loads them all and reports every error (what `hooksim check` prints).
//! - [`evaluate`] matches a scenario's expectations against the [`Trace`] of a run.
//!
//! The loader never panics on input, whatever the bytes, and costs time in proportion to the
//! file: every problem is a [`ScenarioError`] with `file:line:column`, all of a file's errors
//! are reported (up to [`ERRORS_PER_FILE_MAX`]; only a TOML syntax error stops a file), and
//! `body` expectations are bounded by [`BODY_DEPTH_MAX`] and [`KEY_BYTES_MAX`]. `fuzz/` holds
//! the loader's fuzzer.
//!
//! [`Trace`]: hooksim_core::trace::Trace

mod body;
mod duration;
mod error;
mod excerpt;
mod expect;
mod file;
mod files;
mod load;
mod matching;
mod reader;
mod reply;
mod validate;

pub use body::{BODY_DEPTH_MAX, KEY_BYTES_MAX};
pub use duration::{Duration, LatencyRange, parse_duration, parse_latency};
pub use error::{ERRORS_PER_FILE_MAX, ScenarioError, ScenarioErrors};
pub use excerpt::{Names, render_entry};
pub use expect::{Count, Expectation, Failure, OutcomeFilter, Qualifier, Subject, Window, evaluate};
pub use files::{CheckReport, SCENARIO_FILE_BYTES_MAX, check_paths, discover, load_file_all, read_regular_file};
pub use load::{load_bytes, load_file, load_str};
pub use reply::parse_reply;

use crate::world::World;
use hooksim_core::domain::{EntityRef, EventPath, WebhookId};
use hooksim_core::time::SimTime;
use std::path::PathBuf;

/// A loaded, valid scenario: what to run and what to expect.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file's `name`.
    pub name: String,
    /// The file's `description`.
    pub description: String,
    /// The file it was loaded from.
    pub file: PathBuf,
    /// The world to run.
    pub world: World,
    /// The `[[expect]]` entries, each with its position.
    pub expectations: Vec<Located<Expectation>>,
    /// Webhook names, indexed by [`WebhookId`] (the order the file declares them in).
    pub webhook_names: Vec<String>,
    /// The events the timeline's changes record, in order: `events[i]` is event id `i + 1`.
    pub events: Vec<EventInfo>,
}

impl Scenario {
    /// The id of the webhook the file names so, if any.
    pub fn webhook_id(&self, name: &str) -> Option<WebhookId> {
        self.webhook_names.iter().position(|n| n == name).and_then(|i| u32::try_from(i).ok()).map(WebhookId)
    }

    /// The name the file gives the webhook, or its id when there is none (an engine's trace
    /// could in principle name a webhook the scenario does not have).
    pub fn webhook_name(&self, id: WebhookId) -> String {
        self.webhook_names.get(id.0 as usize).cloned().unwrap_or_else(|| id.to_string())
    }

    /// How trace lines name webhooks and events for this scenario.
    pub fn names(&self) -> Names<'_> {
        Names::new(&self.webhook_names, &self.events)
    }
}

/// A value with the position in the file it was written at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
    /// The value.
    pub value: T,
}

/// One event a timeline change records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventInfo {
    /// The event id (1-based, the order of the changes in the timeline).
    pub id: u64,
    /// The change step's `name`, if it has one.
    pub name: Option<String>,
    /// When the change step happens.
    pub at: SimTime,
    /// The line of the change step.
    pub line: usize,
    /// The event's path and entity; `None` when its change step is in error.
    pub path: Option<EventPath>,
    /// The entity it is about; `None` when its change step is in error.
    pub entity: Option<EntityRef>,
}
