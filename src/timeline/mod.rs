//! One run's trace as a self-contained HTML page: hosts as lanes (the dispatcher, each
//! receiver, mail), each attempt and its answer as arrows, warning emails, faults as bands,
//! quiet time squeezed out of the axis (each gap labelled with its length), an attempt's body
//! on hover or click, failed expectations marked.
//!
//! One call: [`render`]. The page needs no network and no build step: CSS and JS are inline,
//! the trace is embedded as JSON (escaped so that no body can close the script), and every text
//! is put in the page with `textContent`, never parsed as HTML.
//!
//! Limits: at most [`TimelineOptions::attempts_max`] attempts and
//! [`TimelineOptions::entries_max`] entries are drawn; the page is cut at the first entry past
//! either limit and says so. A body is shown up to [`TimelineOptions::body_bytes_max`].

mod model;
mod page;

use crate::time::SimTime;
use crate::trace::Trace;
use crate::world::{World, url_host};

/// How a timeline page is drawn: its title, lanes, marks and limits.
#[derive(Clone, Debug)]
pub struct TimelineOptions {
    /// The page's title.
    pub title: String,
    /// The lane of webhook `n` is `webhook_lanes[n]` (the receiver's host, so that webhook and
    /// receiver share a lane); missing names read `webhook#n`.
    pub webhook_lanes: Vec<String>,
    /// Failed expectations, marked on the axis at their time.
    pub failures: Vec<(SimTime, String)>,
    /// Attempts drawn at most; the page says where it was cut.
    pub attempts_max: usize,
    /// Trace entries read at most; the page says where it was cut.
    pub entries_max: usize,
    /// Bytes of each body shown at most.
    pub body_bytes_max: usize,
}

impl TimelineOptions {
    /// Default limits (2,000 attempts, 20,000 entries, 8 KiB of each body), titled `title`.
    pub fn new(title: impl Into<String>) -> Self {
        TimelineOptions {
            title: title.into(),
            webhook_lanes: Vec::new(),
            failures: Vec::new(),
            attempts_max: 2_000,
            entries_max: 20_000,
            body_bytes_max: 8 * 1024,
        }
    }

    /// Titled with the world's name, one lane per receiver host its webhooks point at.
    pub fn for_world(world: &World) -> Self {
        let lanes = world
            .webhooks
            .iter()
            .enumerate()
            .map(|(i, w)| url_host(&w.url).unwrap_or_else(|| format!("webhook#{i}")))
            .collect();
        TimelineOptions { webhook_lanes: lanes, ..TimelineOptions::new(world.name.clone()) }
    }
}

/// The whole page, as one string.
pub fn render(trace: &Trace, options: &TimelineOptions) -> String {
    let data = model::build(trace, options);
    page::html(&options.title, &data)
}
