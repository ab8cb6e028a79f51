//! SnapBill: the reference behaviour (the published policies; `policy::Profile::Snapbill`).

use super::facts::{DAY_MS, Facts, Rendered, SECOND_MS};
use crate::policy::Profile;

pub(super) const FACTS: Facts = Facts {
    timeout_ms: 30 * SECOND_MS,
    // Retried until a 2xx: 10 s, 1 min, 5 min, 15 min, then every 30 min (hooksim's reading).
    retry_delays_ms: None,
    retries_max: None,
    // Warned after a week of failure, disabled a day later.
    redelivery_window_ms: 8 * DAY_MS,
    body_bytes_max: None,
    rendered: Rendered::AtSend,
    dedup_on: "`uuid` of the envelope",
    retry_keeps_id: true,
    scheme: None,
    profile: Profile::Snapbill,
};
