//! Stripe's webhook: the `Stripe-Signature` check, as Stripe documents it
//! (`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>">`, several `v1`
//! allowed during a secret's rotation, a five-minute tolerance, a
//! constant-time compare), and the events Galley acts on, read into the
//! payments port's `GatewayEvent`.

use std::sync::Arc;

use galley_shared::Error;
use galley_shared::id::{OrderId, RefundId};
use galley_shared::money::{Currency, Money};
use galley_shared::ports::{GatewayEvent, GatewayRefund};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use super::client::StripeClient;

/// How old (or how far ahead) a signature's timestamp may be: Stripe's
/// libraries' default, which bounds a replayed delivery.
pub const TOLERANCE_SECS: i64 = 300;

/// Checks `header` signs `payload` with `secret` within the tolerance of
/// `now` (Unix seconds). Anything else is `Error::InvalidSignature`.
pub fn verify_signature(secret: &SecretString, header: Option<&str>, payload: &[u8], now: i64) -> Result<(), Error> {
    let header = header.ok_or(Error::InvalidSignature)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t),
            Some(("v1", v1)) => signatures.push(v1),
            _ => {}
        }
    }
    let t = timestamp.ok_or(Error::InvalidSignature)?;
    let at: i64 = t.parse().map_err(|_| Error::InvalidSignature)?;
    if now.abs_diff(at) > TOLERANCE_SECS.unsigned_abs() {
        return Err(Error::InvalidSignature);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| Error::internal("an HMAC key of any length is valid"))?;
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(payload);
    // `verify_slice` compares in constant time.
    let matches =
        signatures.iter().filter_map(|v1| hex::decode(v1).ok()).any(|given| mac.clone().verify_slice(&given).is_ok());
    if matches { Ok(()) } else { Err(Error::InvalidSignature) }
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventId {
    id: String,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

#[derive(Deserialize)]
struct IntentMetadata {
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
}

#[derive(Deserialize)]
struct Refund {
    id: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    created: i64,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
}

#[derive(Deserialize)]
struct Refunds {
    data: Vec<Refund>,
}

/// Reads verified Stripe events into what they ask of Galley, asking Stripe
/// what an event does not carry (a charge's order and its refunds).
#[derive(Clone)]
pub struct StripeEvents {
    client: Arc<StripeClient>,
}

impl StripeEvents {
    pub fn new(client: Arc<StripeClient>) -> Self {
        Self { client }
    }

    /// The event's id, read first: a redelivery is known by it before
    /// anything else is read. A payload that is not a Stripe event is
    /// `MalformedJson`.
    pub fn event_id(payload: &[u8]) -> Result<String, Error> {
        serde_json::from_slice::<EventId>(payload).map(|e| e.id).map_err(|_| Error::MalformedJson)
    }

    /// What the event asks.
    pub async fn read(&self, payload: &[u8]) -> Result<GatewayEvent, Error> {
        let event: Event = serde_json::from_slice(payload).map_err(|_| Error::MalformedJson)?;
        let intent = || event.data.object.get("payment_intent").and_then(|v| v.as_str());
        Ok(match event.kind.as_str() {
            "payment_intent.succeeded" | "payment_intent.payment_failed" | "payment_intent.canceled" => {
                match order_of(&event.data.object) {
                    Some(order) => GatewayEvent::Payment { order, succeeded: event.kind == "payment_intent.succeeded" },
                    None => GatewayEvent::Other,
                }
            }
            // A refund made (a charge's event), or one that was pending and
            // went through (a refund's): the intent's refunds are read again.
            "charge.refunded" | "charge.refund.updated" | "refund.updated" => match intent() {
                Some(intent) => self.refunded(intent).await?,
                None => GatewayEvent::Other,
            },
            _ => GatewayEvent::Other,
        })
    }

    /// A refunded charge's order and every refund made of its intent; a
    /// charge's object does not list refunds on Stripe's current API, so
    /// they are read (Galley's own carry `metadata.refund_id`).
    async fn refunded(&self, intent: &str) -> Result<GatewayEvent, Error> {
        let refused = |what: &str, e| Error::internal(format!("Stripe refused to read {what}: {e:?}"));
        let paid: IntentMetadata =
            self.client.get(&format!("/v1/payment_intents/{intent}")).await?.map_err(|e| refused("an intent", e))?;
        let Some(order) = paid.metadata.get("order_id").and_then(|id| OrderId::parse(id).ok()) else {
            return Ok(GatewayEvent::Other);
        };
        let made: Refunds = self
            .client
            .get(&format!("/v1/refunds?payment_intent={intent}&limit=100"))
            .await?
            .map_err(|e| refused("refunds", e))?;
        let mut refunds = Vec::new();
        for refund in made.data {
            // A refund still pending or failed has moved no money yet.
            if refund.status.as_deref().is_some_and(|s| s != "succeeded") {
                continue;
            }
            let currency = Currency::parse(&refund.currency.to_ascii_uppercase()).map_err(Error::internal)?;
            refunds.push(GatewayRefund {
                amount: Money::new(refund.amount, currency).map_err(Error::internal)?,
                ours: refund.metadata.get("refund_id").and_then(|id| RefundId::parse(id).ok()),
                reference: refund.id,
                created: refund.created,
            });
        }
        Ok(GatewayEvent::Refunded { order, refunds })
    }
}

/// `metadata.order_id` of an intent object.
fn order_of(object: &serde_json::Value) -> Option<OrderId> {
    object.pointer("/metadata/order_id").and_then(|v| v.as_str()).and_then(|id| OrderId::parse(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, payload: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(payload);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn a_signature_holds_only_for_its_secret_payload_and_time() {
        let secret = SecretString::from("whsec_test");
        let payload = br#"{"id":"evt_1"}"#;
        let now = 1_800_000_000;
        let good = format!("t={now},v1={}", sign("whsec_test", now, payload));
        assert!(verify_signature(&secret, Some(&good), payload, now + 10).is_ok());
        // Rotation: an old secret's signature beside the new one.
        let both = format!("t={now},v1={},v1={}", sign("whsec_old", now, payload), sign("whsec_test", now, payload));
        assert!(verify_signature(&secret, Some(&both), payload, now).is_ok());
        let refused = |header: &str, body: &[u8], at: i64| {
            matches!(verify_signature(&secret, Some(header), body, at), Err(Error::InvalidSignature))
        };
        assert!(refused(&good, br#"{"id":"evt_2"}"#, now), "another payload");
        assert!(refused(&good, payload, now + TOLERANCE_SECS + 1), "stale");
        assert!(refused(&format!("t={now},v1={}", sign("whsec_other", now, payload)), payload, now), "foreign");
        assert!(refused(&format!("v1={}", sign("whsec_test", now, payload)), payload, now), "no timestamp");
        assert!(refused(&format!("t={now},v0={}", sign("whsec_test", now, payload)), payload, now), "no v1");
        assert!(refused(&format!("t={now},v1=zz"), payload, now), "not hex");
        assert!(matches!(verify_signature(&secret, None, payload, now), Err(Error::InvalidSignature)));
    }
}
