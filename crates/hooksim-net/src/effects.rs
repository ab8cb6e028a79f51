//! Reading the effects contract ([`hooksim_sim::receiver::effects`]) from a real receiver
//! over HTTP: once, until the list settles, or until it changes.

pub use hooksim_sim::receiver::effects::*;

use crate::http::client::{Answer, Client};

/// Reads the effects list, at most `bytes_max` bytes of it: a larger answer is unavailable, not
/// guessed at.
pub async fn fetch(client: &Client, url: Option<&str>, bytes_max: usize) -> Effects {
    let Some(url) = url else {
        return Effects::Unavailable("no --effects-url given".into());
    };
    match client.get(url, bytes_max).await {
        Answer::Status { truncated: true, .. } => {
            Effects::Unavailable(format!("effects list larger than {bytes_max} bytes"))
        }
        Answer::Status { code: 200, body, .. } => match serde_json::from_slice::<EffectsDoc>(&body) {
            Ok(doc) => Effects::Read(doc.effects),
            Err(e) => Effects::Unavailable(format!("effects list is not in the contract's format: {e}")),
        },
        other => Effects::Unavailable(format!("GET {url} answered {}", other.describe(client.limits()))),
    }
}

/// [`fetch`] until the list settles ([`crate::live::Settle::until_quiet`]): a receiver that
/// answers first and acts from a queue is seen to act. An unreadable list ends the wait at once.
pub async fn fetch_settled(
    client: &Client,
    url: Option<&str>,
    bytes_max: usize,
    settle: crate::live::Settle,
) -> Effects {
    let read = || async {
        match fetch(client, url, bytes_max).await {
            Effects::Read(records) => Ok(records),
            Effects::Unavailable(why) => Err(why),
        }
    };
    match settle.until_quiet(read).await {
        Ok(records) => Effects::Read(records),
        Err(why) => Effects::Unavailable(why),
    }
}

/// The list read again after `before` (what it settled to), watched until it changes and
/// settles again, or for at most the settle's `max_ms` ([`crate::live::Settle::until_changed`]):
/// acts that land after the quiet window.
pub async fn fetch_changed(
    client: &Client,
    url: &str,
    bytes_max: usize,
    settle: crate::live::Settle,
    before: &[EffectRecord],
) -> Effects {
    let read = || async {
        match fetch(client, Some(url), bytes_max).await {
            Effects::Read(records) => Ok(records),
            Effects::Unavailable(why) => Err(why),
        }
    };
    match settle.until_changed(&before.to_vec(), read).await {
        Ok(records) => Effects::Read(records),
        Err(why) => Effects::Unavailable(why),
    }
}
