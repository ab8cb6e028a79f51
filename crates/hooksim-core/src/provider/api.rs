//! The provider's API as hooksim simulates it: `GET` of an invoice as it is now, in the
//! provider's own object shape, so a receiver that follows the provider's advice (fetch the
//! object's current state before acting on a snapshot) can be certified. Pure: the caller gives
//! the store as it is at its virtual now and that instant in unix seconds; the HTTP listener is
//! the shell's (`hooksim certify receiver`). docs/providers.md gives each path its source, or
//! says it is hooksim's choice.

use super::{Provider, github, rfc3339, shopify, stripe};
use crate::domain::{Invoice, InvoiceState, Store};
use serde_json::{Value, json};

/// The longest request target (path and query) the API reads; a longer one is answered 414.
pub const API_TARGET_BYTES_MAX: usize = 1_024;

/// One answer of the simulated API: the status and the JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiAnswer {
    /// The HTTP status: 200, 404 for an unknown id or path, 405 for another method, 414.
    pub status: u16,
    /// The JSON body (an error object for a status other than 200).
    pub body: String,
}

impl ApiAnswer {
    fn ok(body: Value) -> ApiAnswer {
        ApiAnswer { status: 200, body: body.to_string() }
    }

    fn error(status: u16, message: &str) -> ApiAnswer {
        ApiAnswer { status, body: json!({"error": {"message": message}}).to_string() }
    }
}

impl Provider {
    /// Whether hooksim simulates this provider's API. SnapBill renders every attempt at send
    /// time (the body is the current state), and the Standard Webhooks specification defines no
    /// API (each sender has its own): neither has one.
    pub fn has_api(self) -> bool {
        self.invoice_path(0).is_some()
    }

    /// The API path (and query) that reads invoice `id` as it is now, where the provider has an
    /// API: `/v1/invoices/in_{id}` (Stripe), `/marketplace_listing/plans/{id}/accounts` (GitHub),
    /// `/admin/api/{version}/orders/{id}.json` (Shopify), `/api/billing.invoices.info?invoice={id}`
    /// (Slack, hooksim's choice).
    pub fn invoice_path(self, id: u64) -> Option<String> {
        match self {
            Self::Snapbill | Self::StandardWebhooks => None,
            Self::Stripe => Some(format!("/v1/invoices/in_{id}")),
            Self::Github => Some(format!("/marketplace_listing/plans/{id}/accounts")),
            Self::Shopify => Some(format!("/admin/api/{}/orders/{id}.json", shopify::API_VERSION)),
            Self::Slack => Some(format!("/api/billing.invoices.info?invoice={id}")),
        }
    }

    /// The API's answer to `method target` (`target`: the path and query), reading `store` as it
    /// is at unix second `now_s`. Only `GET` of an invoice is served: an unknown id or path is a
    /// 404, another method a 405, a target longer than [`API_TARGET_BYTES_MAX`] a 414.
    pub fn api_get(self, method: &str, target: &str, store: &Store, now_s: i64) -> ApiAnswer {
        if target.len() > API_TARGET_BYTES_MAX {
            return ApiAnswer::error(414, "request target too long");
        }
        if !self.has_api() {
            return ApiAnswer::error(404, &format!("{self} has no API hooksim simulates"));
        }
        if method != "GET" {
            return ApiAnswer::error(405, "only GET of an invoice is served");
        }
        let Some(id) = self.invoice_id(target) else {
            return ApiAnswer::error(404, &format!("no such resource: {target}"));
        };
        match store.invoice(id) {
            Some(inv) => self.invoice_answer(inv, now_s),
            None => ApiAnswer::error(404, &format!("no such invoice: {id}")),
        }
    }

    /// The invoice id `target` names, when it is this provider's invoice path.
    fn invoice_id(self, target: &str) -> Option<u64> {
        // The path of invoice 0 with its id cut out: what comes before and after an id.
        let zero = self.invoice_path(0)?;
        let at = zero.rfind('0')?;
        let (prefix, suffix) = (&zero[..at], &zero[at + 1..]);
        let digits = target.strip_prefix(prefix)?.strip_suffix(suffix)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    fn invoice_answer(self, inv: &Invoice, now_s: i64) -> ApiAnswer {
        match self {
            Self::Stripe => ApiAnswer::ok(stripe::invoice_object(inv)),
            // "List accounts for a plan": the accounts that hold the plan now; a cancelled (or
            // not yet purchased) plan has none.
            Self::Github => {
                let held = inv.state == InvoiceState::Paid;
                ApiAnswer::ok(Value::Array(held.then(|| github::account_on_plan(inv)).into_iter().collect()))
            }
            Self::Shopify => ApiAnswer::ok(json!({"order": shopify::order(inv, &rfc3339(now_s))})),
            Self::Slack => ApiAnswer::ok(json!({"ok": true, "invoice": inv})),
            Self::Snapbill | Self::StandardWebhooks => ApiAnswer::error(404, "no API"),
        }
    }
}
