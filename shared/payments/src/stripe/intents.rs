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

impl StripeGateway {
    pub fn new(client: Arc<StripeClient>, ledger: Arc<dyn ChargeLedger>) -> Self {
        Self { client, ledger }
    }

    /// The order's intent: the recorded one, or a new one recorded before
    /// anything else happens to it. `None` when the settler closed the
    /// order's payment first.
    async fn intent_for(
        &self,
        order: &OrderId,
        amount: Money,
        token: &PaymentToken,
    ) -> Result<Option<Result<Intent, StripeError>>, Error> {
        if let Some(recorded) = self.ledger.intent(order).await? {
            return self.recorded(&recorded).await;
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
        let in_force = self.ledger.record_intent(order, &created.id).await?;
        if in_force != created.id {
            // Another attempt recorded its intent (or the settler closed
            // the payment) first: ours is never confirmed, so cancel it.
            self.cancel(&created.id).await?;
            return self.recorded(&in_force).await;
        }
        Ok(Some(Ok(created)))
    }

    async fn recorded(&self, recorded: &str) -> Result<Option<Result<Intent, StripeError>>, Error> {
        if recorded == CLOSED {
            return Ok(None);
        }
        self.client.get(&format!("/v1/payment_intents/{recorded}")).await.map(Some)
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
    async fn outcome(&self, order: &OrderId, intent: Intent) -> Result<Charge, Error> {
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
            _ => Ok(Charge::Declined {
                code: intent.last_payment_error.map_or_else(|| "canceled".into(), |e| e.decline_code()),
            }),
        }
    }
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    async fn charge(&self, order: &OrderId, amount: Money, token: &PaymentToken) -> Result<Charge, Error> {
        match self.intent_for(order, amount, token).await? {
            None => Ok(Charge::Declined { code: "canceled".into() }),
            Some(Err(refused)) => Ok(Charge::Declined { code: refused.decline_code() }),
            Some(Ok(intent)) => self.outcome(order, intent).await,
        }
    }

    /// The order's intent settled from its status: succeeded is approved;
    /// anything else is cancelled first, so no late success can follow. An
    /// order with no intent is closed so none can be made.
    async fn settle(&self, order: &OrderId) -> Result<Charge, Error> {
        let recorded = self.ledger.record_intent(order, CLOSED).await?;
        let intent: Intent = match self.recorded(&recorded).await? {
            None => return Ok(Charge::Declined { code: "canceled".into() }),
            Some(Err(refused)) => {
                return Err(Error::internal(format!("Stripe refused to read an intent: {refused:?}")));
            }
            Some(Ok(intent)) => intent,
        };
        match intent.status.as_str() {
            "succeeded" => Ok(Charge::Approved { reference: intent.id }),
            "processing" => Err(Error::unavailable("Stripe is still processing the payment")),
            _ => {
                self.cancel(&intent.id).await?;
                // Cancelled, or it succeeded in between: read what held.
                match self.recorded(&intent.id).await? {
                    Some(Ok(after)) if after.status == "succeeded" => Ok(Charge::Approved { reference: after.id }),
                    _ => Ok(Charge::Declined { code: "canceled".into() }),
                }
            }
        }
    }

    /// A refund through Stripe's Refunds API, keyed by the refund's id. The
    /// intent's refunds are read first and one made for this refund id is
    /// the answer (localstripe ignores `Idempotency-Key`; Stripe honours it).
    async fn refund(&self, order: &OrderId, refund: &RefundId, amount: Money) -> Result<String, Error> {
        let intent = match self.ledger.intent(order).await? {
            Some(intent) if intent != CLOSED => intent,
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
