//! PaymentIntents and Refunds, as the payments port asks for them.

use std::sync::Arc;

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::id::{OrderId, RefundId};
use galley_shared::money::Money;
use galley_shared::orders::PaymentToken;
use galley_shared::ports::{Charge, ChargeLedger, NextAction, PaymentGateway};
use serde::{Deserialize, Serialize};

use super::client::{StripeClient, StripeError};

/// What the ledger's intent slot holds once the settler has closed an
/// order's payment with no intent made: none may be made after.
const CLOSED: &str = "closed";

/// What it holds while an attempt makes the order's intent, before the
/// intent's id replaces it.
const CREATING: &str = "creating";

#[derive(Serialize)]
struct NewIntent<'a> {
    amount: i64,
    currency: String,
    payment_method: &'a str,
    #[serde(rename = "payment_method_types[]")]
    payment_method_types: &'a str,
    #[serde(rename = "metadata[order_id]")]
    order_id: &'a str,
}

#[derive(Serialize)]
struct NoParameters {}

#[derive(Deserialize)]
struct Intent {
    id: String,
    status: String,
    #[serde(default)]
    last_payment_error: Option<StripeError>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    next_action: Option<IntentAction>,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
}

#[derive(Deserialize)]
struct Found {
    data: Vec<Intent>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Deserialize)]
struct IntentAction {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize)]
struct NewRefund<'a> {
    payment_intent: &'a str,
    amount: i64,
    #[serde(rename = "metadata[refund_id]")]
    refund_id: &'a str,
}

#[derive(Deserialize)]
struct StripeRefund {
    id: String,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
}

#[derive(Deserialize)]
struct Refunds {
    data: Vec<StripeRefund>,
}

pub struct StripeGateway {
    client: Arc<StripeClient>,
    /// Where the order's intent id is recorded, once, before confirming.
    ledger: Arc<dyn ChargeLedger>,
}

/// An order's payment as the ledger holds it.
enum Recorded {
    /// No attempt has started.
    Nothing,
    /// An attempt started making an intent and never recorded it (it
    /// died between the two): Stripe may hold one for the order.
    Creating,
    /// The settler closed the payment before any intent was recorded.
    Closed,
    Intent(String),
}

impl StripeGateway {
    pub fn new(client: Arc<StripeClient>, ledger: Arc<dyn ChargeLedger>) -> Self {
        Self { client, ledger }
    }

    async fn recorded(&self, order: &OrderId) -> Result<Recorded, Error> {
        Ok(match self.ledger.intent(order).await?.as_deref() {
            None => Recorded::Nothing,
            Some(CREATING) => Recorded::Creating,
            Some(CLOSED) => Recorded::Closed,
            Some(id) => Recorded::Intent(id.to_owned()),
        })
    }

    /// The order's intent: the recorded one; or one an attempt that died
    /// made and never recorded; or a new one. The ledger holds a marker
    /// while an intent is being made and the intent's id from then on, so
    /// a retry after a crash reuses what was made and never makes a second
    /// (Stripe also answers the same `Idempotency-Key` with the same intent;
    /// an emulator may not). `None` when the settler closed the payment.
    async fn intent_for(
        &self,
        order: &OrderId,
        amount: Money,
        token: &PaymentToken,
    ) -> Result<Option<Result<Intent, StripeError>>, Error> {
        match self.recorded(order).await? {
            Recorded::Closed => return Ok(None),
            Recorded::Intent(id) => return self.read(&id).await.map(Some),
            Recorded::Creating => {
                if let Some(stray) = self.strays(order).await?.into_iter().next() {
                    let in_force = self.ledger.replace_intent(order, CREATING, &stray.id).await?;
                    return self.in_force(&in_force).await;
                }
            }
            Recorded::Nothing => {
                let in_force = self.ledger.record_intent(order, CREATING).await?;
                if in_force != CREATING {
                    return self.in_force(&in_force).await;
                }
            }
        }
        let new = NewIntent {
            amount: amount.amount,
            currency: amount.currency.as_str().to_ascii_lowercase(),
            payment_method: token.expose(),
            payment_method_types: "card",
            order_id: order.as_str(),
        };
        let created: Intent =
            match self.client.post("/v1/payment_intents", &new, &format!("galley-{order}-intent")).await? {
                Ok(intent) => intent,
                // An unknown payment method is a decline too (API.md).
                Err(refused) => return Ok(Some(Err(refused))),
            };
        let in_force = self.ledger.replace_intent(order, CREATING, &created.id).await?;
        if in_force != created.id {
            // The settler closed the payment (or another attempt recorded
            // its intent) first: ours is never confirmed, so cancel it.
            self.cancel(&created.id).await?;
            return self.in_force(&in_force).await;
        }
        Ok(Some(Ok(created)))
    }

    /// What the ledger's entry in force leads to: an intent, or `None` once closed.
    async fn in_force(&self, recorded: &str) -> Result<Option<Result<Intent, StripeError>>, Error> {
        match recorded {
            CLOSED => Ok(None),
            CREATING => Err(Error::unavailable("another attempt is making the order's intent")),
            id => self.read(id).await.map(Some),
        }
    }

    async fn read(&self, intent: &str) -> Result<Result<Intent, StripeError>, Error> {
        self.client.get(&format!("/v1/payment_intents/{intent}")).await
    }

    async fn read_ok(&self, intent: &str) -> Result<Intent, Error> {
        self.read(intent).await?.map_err(|e| Error::internal(format!("Stripe refused to read an intent: {e:?}")))
    }

    /// The intents Stripe holds for `order` (its `metadata.order_id`),
    /// newest first. Stripe finds them with its Search API; localstripe
    /// has none, so there the list of intents is read and filtered (the
    /// one place the two differ here).
    async fn strays(&self, order: &OrderId) -> Result<Vec<Intent>, Error> {
        let query = [("query", format!("metadata['order_id']:'{order}'"))];
        let query = serde_urlencoded::to_string(query).map_err(|e| Error::internal(format!("Stripe query: {e}")))?;
        let path = format!("/v1/payment_intents/search?{query}");
        let found: Result<Found, StripeError> = self.client.get(&path).await?;
        let found = match found {
            Ok(found) => found.data,
            Err(_) => {
                // The emulator: every intent, a page at a time.
                let mut all = Vec::new();
                loop {
                    let after = all.last().map(|i: &Intent| format!("&starting_after={}", i.id)).unwrap_or_default();
                    let page: Found = self
                        .client
                        .get(&format!("/v1/payment_intents?limit=100{after}"))
                        .await?
                        .map_err(|e| Error::internal(format!("Stripe refused to list intents: {e:?}")))?;
                    all.extend(page.data);
                    if !page.has_more {
                        break all;
                    }
                }
            }
        };
        Ok(found
            .into_iter()
            .filter(|i| i.metadata.get("order_id").map(String::as_str) == Some(order.as_str()))
            .collect())
    }

    async fn cancel(&self, intent: &str) -> Result<(), Error> {
        let path = format!("/v1/payment_intents/{intent}/cancel");
        // Refused when it is already canceled or succeeded: either way not ours to cancel.
        let _: Result<Intent, StripeError> =
            self.client.post(&path, &NoParameters {}, &format!("galley-{intent}-cancel")).await?;
        Ok(())
    }

    /// What an intent's status means for the order, confirming it when it
    /// waits for that; a 3-D Secure challenge goes to the customer with the
    /// intent's client secret (Stripe.js finishes it, the webhook tells).
    async fn outcome_of(&self, order: &OrderId, intent: Intent) -> Result<Charge, Error> {
        let intent = if intent.status == "requires_confirmation" {
            let path = format!("/v1/payment_intents/{}/confirm", intent.id);
            match self.client.post::<_, Intent>(&path, &NoParameters {}, &format!("galley-{order}-confirm")).await? {
                Ok(confirmed) => confirmed,
                Err(refused) => return Ok(Charge::Declined { code: refused.decline_code() }),
            }
        } else {
            intent
        };
        match intent.status.as_str() {
            "succeeded" => Ok(Charge::Approved { reference: intent.id }),
            "processing" => Err(Error::unavailable("Stripe is still processing the payment")),
            "requires_action" => match (intent.next_action, intent.client_secret) {
                (Some(action), Some(client_secret)) => Ok(Charge::NeedsAction {
                    reference: intent.id,
                    next_action: NextAction { kind: action.kind, client_secret },
                }),
                _ => Err(Error::internal(format!("intent {} needs an action Stripe did not name", intent.id))),
            },
            _ => Ok(Charge::Declined { code: declined_code(&intent) }),
        }
    }

    /// Closes an intent that has not succeeded, so nothing can follow, and
    /// says what held: it may have succeeded in between.
    async fn close(&self, intent: Intent) -> Result<Charge, Error> {
        if intent.status == "succeeded" {
            return Ok(Charge::Approved { reference: intent.id });
        }
        if intent.status != "canceled" {
            self.cancel(&intent.id).await?;
        }
        let after = self.read_ok(&intent.id).await?;
        match after.status.as_str() {
            "succeeded" => Ok(Charge::Approved { reference: after.id }),
            // The failure's own code, kept from before the cancel.
            _ => Ok(Charge::Declined { code: declined_code(&intent) }),
        }
    }
}

/// API.md's `decline_code` for an intent that did not succeed: its last
/// error's, else `canceled`.
fn declined_code(intent: &Intent) -> String {
    intent.last_payment_error.as_ref().map_or_else(|| "canceled".into(), StripeError::decline_code)
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    async fn charge(&self, order: &OrderId, amount: Money, token: &PaymentToken) -> Result<Charge, Error> {
        match self.intent_for(order, amount, token).await? {
            None => Ok(Charge::Declined { code: "canceled".into() }),
            Some(Err(refused)) => Ok(Charge::Declined { code: refused.decline_code() }),
            Some(Ok(intent)) => self.outcome_of(order, intent).await,
        }
    }

    /// The order's intent settled from its status: succeeded is approved;
    /// anything else is cancelled first, so no late success can follow. An
    /// order with no intent is closed so none can be made, and one an
    /// attempt made but never recorded is found and closed too.
    async fn settle(&self, order: &OrderId) -> Result<Charge, Error> {
        let intent = match self.recorded(order).await? {
            Recorded::Intent(id) => self.read_ok(&id).await?,
            Recorded::Closed => return Ok(Charge::Declined { code: "canceled".into() }),
            recorded @ (Recorded::Nothing | Recorded::Creating) => {
                let closed = match self.ledger.record_intent(order, CLOSED).await?.as_str() {
                    CREATING => self.ledger.replace_intent(order, CREATING, CLOSED).await?,
                    other => other.to_owned(),
                };
                if closed != CLOSED {
                    // An attempt recorded its intent in between.
                    return self.settle(order).await;
                }
                if matches!(recorded, Recorded::Nothing) {
                    return Ok(Charge::Declined { code: "canceled".into() });
                }
                // An attempt died while making an intent: close any it made
                // (never confirmed by Galley, it cannot have been charged;
                // should one have succeeded all the same, it is the payment).
                let mut answer = Charge::Declined { code: "canceled".into() };
                for stray in self.strays(order).await? {
                    if let Charge::Approved { reference } = self.close(stray).await? {
                        self.ledger.replace_intent(order, CLOSED, &reference).await?;
                        answer = Charge::Approved { reference };
                    }
                }
                return Ok(answer);
            }
        };
        match intent.status.as_str() {
            "processing" => Err(Error::unavailable("Stripe is still processing the payment")),
            _ => self.close(intent).await,
        }
    }

    /// As the webhook asks: succeeded is approved; failed or cancelled is
    /// closed and declined with the failure's code; waiting on the
    /// customer, processing or not confirmed yet is `None`, left alone.
    async fn outcome(&self, order: &OrderId) -> Result<Option<Charge>, Error> {
        let intent = match self.recorded(order).await? {
            Recorded::Intent(id) => self.read_ok(&id).await?,
            Recorded::Closed => return Ok(Some(Charge::Declined { code: "canceled".into() })),
            Recorded::Nothing | Recorded::Creating => return Ok(None),
        };
        match intent.status.as_str() {
            "succeeded" => Ok(Some(Charge::Approved { reference: intent.id })),
            "requires_payment_method" | "canceled" => self.close(intent).await.map(Some),
            _ => Ok(None),
        }
    }

    /// A refund through Stripe's Refunds API, keyed by the refund's id. The
    /// intent's refunds are read first and one made for this refund id is
    /// the answer (localstripe ignores `Idempotency-Key`; Stripe honours it).
    async fn refund(&self, order: &OrderId, refund: &RefundId, amount: Money) -> Result<String, Error> {
        let intent = match self.ledger.intent(order).await? {
            Some(intent) if intent != CLOSED && intent != CREATING => intent,
            _ => return Err(Error::internal(format!("refund {refund} of order {order}, which has no payment"))),
        };
        let made: Refunds = match self.client.get(&format!("/v1/refunds?payment_intent={intent}")).await? {
            Ok(list) => list,
            Err(refused) => return Err(Error::internal(format!("Stripe refused to list refunds: {refused:?}"))),
        };
        let id = match made
            .data
            .into_iter()
            .find(|r| r.metadata.get("refund_id").map(String::as_str) == Some(refund.as_str()))
        {
            Some(existing) => existing.id,
            None => {
                let new = NewRefund { payment_intent: &intent, amount: amount.amount, refund_id: refund.as_str() };
                match self
                    .client
                    .post::<_, StripeRefund>("/v1/refunds", &new, &format!("galley-refund-{refund}"))
                    .await?
                {
                    Ok(made) => made.id,
                    Err(refused) => {
                        return Err(Error::internal(format!("Stripe refused refund {refund}: {refused:?}")));
                    }
                }
            }
        };
        self.ledger.record_refund(order, refund, amount).await?;
        Ok(id)
    }
}
