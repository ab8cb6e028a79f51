//! What a caller tunes of a live run beyond the world itself: how long the effects lists are
//! waited for at the end, which certificate authorities are trusted, and whether entries already
//! on a list when the run starts count as acts of this run.

/// Entries already on an effects list when the run starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EarlierEffects {
    /// Not this run's doing: never traced (`hooksim run --receiver`).
    #[default]
    Ignored,
    /// Counted as acts of the deliveries of this run that carry their uuid: a second
    /// certification with the same seed sends the same uuids, and a receiver that acted on them
    /// the first time has acted on them once, not zero times.
    Counted,
}

use super::{Pace, Settle};

/// How a live run behaves besides its bindings; [`LiveOptions::default`] is `hooksim run
/// --receiver`'s.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// How virtual time relates to the wall clock (`hooksim dispatch` plays in real time).
    pub pace: Pace,
    /// How the effects lists are read after answers and at the end (quiet window, bounds).
    pub settle: Settle,
    /// PEM certificates of private certificate authorities to trust (`--ca-cert`), besides the
    /// built-in roots.
    pub ca_cert_pem: Option<Vec<u8>>,
    /// Whether entries already on an effects list when the run starts count as this run's acts.
    pub earlier_effects: EarlierEffects,
    /// Added to every event id (`body.id`) on the wire, not in the trace: the worlds number
    /// their events from 1, and a receiver that remembers event ids must not meet the same id
    /// from two runs, or from two worlds of one certification.
    pub event_id_offset: u64,
    /// End the run at the first attempt the receiver fails (a non-2xx answer, a timeout, a
    /// broken connection: not a fault the timeline set up): certification has its verdict
    /// then, and a receiver that never answers must not cost a ten-day story's every retry in
    /// real timeouts.
    pub stop_at_first_failure: bool,
    /// Signs every attempt (over the bytes sent, the delivery uuid as message id, the wall
    /// clock's time: a real receiver judges the timestamp against its own clock).
    pub signer: Option<hooksim_core::signing::Signer>,
    /// Virtual time zero as unix seconds: when the events a provider's body dates happened
    /// (`hooksim_sim::shell::signing::EPOCH_S` by default). Certification moves it forward case
    /// by case, so a receiver sees event times grow across a run as they do in production.
    pub epoch_s: i64,
    /// Where the run publishes its store after every change of the timeline, with the change's
    /// virtual instant in unix seconds (from `epoch_s`): what a simulated provider API reads as the world "now" (`hooksim
    /// certify receiver --provider P`).
    pub store_view: Option<StoreView>,
}

/// The store of a live run as it is now, shared with a reader on another thread (the simulated
/// provider API): replaced whole at each change, so a reader never sees half a change.
#[derive(Clone, Debug, Default)]
pub struct StoreView(std::sync::Arc<std::sync::Mutex<(i64, hooksim_core::domain::Store)>>);

impl StoreView {
    /// Publishes `store` as it is at unix second `at_s` (a virtual instant).
    pub fn publish(&self, at_s: i64, store: &hooksim_core::domain::Store) {
        // A poisoned lock only means a reader panicked: the data is still whole.
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *slot = (at_s, store.clone());
    }

    /// The store last published and the unix second of its last change.
    pub fn read(&self) -> (i64, hooksim_core::domain::Store) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            pace: Pace::Jumping,
            settle: Settle::default(),
            ca_cert_pem: None,
            earlier_effects: EarlierEffects::default(),
            event_id_offset: 0,
            stop_at_first_failure: false,
            signer: None,
            epoch_s: hooksim_sim::shell::signing::EPOCH_S,
            store_view: None,
        }
    }
}

/// Notes kept of how attempts failed on the wire (at most this many per run; later ones are
/// counted, not kept).
pub const WIRE_NOTES_MAX: usize = 1_000;

/// How one attempt went wrong on the wire, in words: what the trace's outcome (`refused`,
/// `reset`, a status) cannot say: a TLS error, a redirect's target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireNote {
    /// The attempt's id, as in its `attempt_started` entry.
    pub attempt: u64,
    /// The delivery's uuid.
    pub delivery: uuid::Uuid,
    /// What happened, in words (e.g. the TLS error, a redirect's `Location`).
    pub what: String,
    /// What kind of failure `what` tells (the advice follows it).
    pub failure: crate::http::wire::WireFailure,
}

/// What the receiver wrote for one act it was seen to do (an entry of its effects list): its
/// `kind` when it gave one, and its own words. The trace names the act without reading the
/// words ([`crate::effects::act_name`]); certification shows them, and needs `kind` to
/// tell a fulfilment from other work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActNote {
    /// The delivery the entry names (by its uuid).
    pub delivery: uuid::Uuid,
    /// The event that delivery carries.
    pub event: u64,
    /// The entry's `kind` (the effects contract), when it gave one.
    pub kind: Option<crate::effects::ActKind>,
    /// The entry's own words (`action`), when it gave any.
    pub said: Option<String>,
}

/// What a live run saw besides its trace (at most [`WIRE_NOTES_MAX`] of each; later ones are
/// not kept).
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// Wire notes, in the order the attempts ended.
    pub notes: Vec<WireNote>,
    /// Effects entries, in the order they were read.
    pub acts: Vec<ActNote>,
}
