//! The `webhook` function: `POST /webhooks/stripe`, Stripe's events. Each
//! delivery's `Stripe-Signature` is checked against the endpoint's signing
//! secret (read on first use), then the event is applied once
//! (`galley_shared::orders::GatewayEvents`): a payment settles its pending
//! order from what Stripe says now, a refund made in Stripe's dashboard
//! shows on the order. No Bearer: the signature is the authentication.

use std::sync::Arc;

use async_trait::async_trait;
use galley_http::Handler;
use galley_http::request::{Request, Response, json_response};
use galley_http::route::{Route, pattern, resolve};
use galley_payments::Payments;
use galley_payments::stripe::{StripeEvents, verify_signature};
use galley_shared::Error;
use galley_shared::clock::Clock;
use galley_shared::orders::{EventStores, GatewayEvents};
use galley_shared::ports::SecretSource;
use http::{Method, StatusCode};
use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Stripe,
}

pub const ROUTES: &[Route<Endpoint>] = &[Route::new(Method::POST, "/webhooks/stripe", Endpoint::Stripe)];

/// The ports the webhook reads and writes, over the stores the
/// deployment opened.
pub fn event_stores(stores: &galley_lambda::Stores) -> EventStores {
    EventStores {
        orders: stores.orders(),
        book: stores.order_book(),
        keys: stores.idempotency_records(),
        applied: stores.applied_events(),
    }
}

#[derive(Clone)]
pub struct WebhookFunction {
    /// The endpoint's signing secret; none configured refuses every delivery.
    signing: Option<Arc<dyn SecretSource>>,
    /// Stripe's event reader; none when the gateway is the sandbox, whose
    /// payments no Stripe event concerns.
    stripe: Option<StripeEvents>,
    events: GatewayEvents,
    clock: Arc<dyn Clock>,
}

impl WebhookFunction {
    pub fn new(
        stores: EventStores,
        payments: Payments,
        signing: Option<Arc<dyn SecretSource>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let events = GatewayEvents::new(stores, payments.gateway, clock.clone(), galley_http::problem::stored_response);
        Self { signing, stripe: payments.stripe_events, events, clock }
    }
}

#[async_trait]
impl Handler for WebhookFunction {
    fn route(&self, request: &Request) -> Option<String> {
        pattern(ROUTES, request)
    }

    async fn respond(&self, request: &Request) -> Result<Response, Error> {
        let (Endpoint::Stripe, _) = resolve(ROUTES, request.method(), request.uri().path())?;
        let secret = self.signing.as_ref().ok_or(Error::InvalidSignature)?.read().await?;
        let header = request.headers().get("stripe-signature").and_then(|v| v.to_str().ok());
        verify_signature(&secret, header, request.body(), self.clock.unix_now())?;
        if let Some(stripe) = &self.stripe {
            let id = StripeEvents::event_id(request.body())?;
            self.events.apply(&id, stripe.read(request.body())).await?;
        }
        Ok(json_response(StatusCode::OK, &json!({"received": true})))
    }
}
