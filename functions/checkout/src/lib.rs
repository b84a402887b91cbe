//! The `checkout` function: `POST /checkout`, `POST /checkout/quote`,
//! `GET /orders/{id}`, `GET /orders`, and the customer's
//! `POST /orders/{id}/cancel`.

mod listing;

use std::sync::Arc;

use async_trait::async_trait;
use galley_http::Handler;
use galley_http::documents::admin::customer_cancel;
use galley_http::documents::{basket, cart};
use galley_http::paging::{CursorKey, Page};
use galley_http::query::QueryParams;
use galley_http::request::{Request, Response, bearer_token, json_body, json_response};
use galley_http::route::{Route, pattern, resolve};
use galley_http::{idempotency, problem};
use galley_shared::Error;
use galley_shared::auth::Authenticator;
use galley_shared::clock::Clock;
use galley_shared::id::OrderId;
use galley_shared::idempotency::Fingerprint;
use galley_shared::keys::Keys;
use galley_shared::orders::{Asker, Checkout, CheckoutRequest, Keyed, Lifecycle, OrderView, QuoteView};
use galley_shared::ports::{Catalog, IdempotencyRecords, OrderBook, Orders, PaymentGateway, Promotions, Sessions};
use http::{Method, StatusCode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Checkout,
    Quote,
    ListOrders,
    GetOrder,
    CancelOrder,
}

pub const ROUTES: &[Route<Endpoint>] = &[
    Route::new(Method::POST, "/checkout", Endpoint::Checkout),
    Route::new(Method::POST, "/checkout/quote", Endpoint::Quote),
    Route::new(Method::GET, "/orders", Endpoint::ListOrders),
    Route::new(Method::GET, "/orders/{id}", Endpoint::GetOrder),
    Route::new(Method::POST, "/orders/{id}/cancel", Endpoint::CancelOrder),
];

/// The ports the function uses, built once at cold start.
pub struct CheckoutStores {
    pub catalog: Arc<dyn Catalog>,
    pub promotions: Arc<dyn Promotions>,
    pub orders: Arc<dyn Orders>,
    pub records: Arc<dyn IdempotencyRecords>,
    pub sessions: Arc<dyn Sessions>,
    pub book: Arc<dyn OrderBook>,
}

impl CheckoutStores {
    /// Every port over one store (tests and benchmarks over one adapter).
    pub fn over<S>(store: Arc<S>) -> Self
    where
        S: Catalog + Promotions + Orders + IdempotencyRecords + Sessions + OrderBook + 'static,
    {
        Self {
            catalog: store.clone(),
            promotions: store.clone(),
            orders: store.clone(),
            records: store.clone(),
            sessions: store.clone(),
            book: store,
        }
    }
}

impl From<&galley_lambda::Stores> for CheckoutStores {
    fn from(stores: &galley_lambda::Stores) -> Self {
        Self {
            catalog: stores.catalog(),
            promotions: stores.promotions(),
            orders: stores.orders(),
            records: stores.idempotency_records(),
            sessions: stores.sessions(),
            book: stores.order_book(),
        }
    }
}

#[derive(Clone)]
pub struct CheckoutFunction {
    checkout: Checkout,
    lifecycle: Lifecycle,
    orders: Arc<dyn Orders>,
    authenticator: Authenticator,
    cursors: CursorKey,
}

impl CheckoutFunction {
    pub fn new(
        stores: CheckoutStores,
        payments: Arc<dyn PaymentGateway>,
        keys: &Keys,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let authenticator = Authenticator::new(keys.access.clone(), stores.sessions, clock.clone());
        let lifecycle = Lifecycle::new(
            stores.orders.clone(),
            stores.book,
            stores.records.clone(),
            payments.clone(),
            clock.clone(),
            problem::stored_response,
        );
        let checkout = Checkout::new(
            (stores.catalog, stores.promotions),
            stores.orders.clone(),
            stores.records,
            payments,
            clock,
            problem::stored_response,
        );
        let cursors = CursorKey::derive(keys.cursor()?);
        Ok(Self { checkout, lifecycle, orders: stores.orders, authenticator, cursors })
    }
}

#[async_trait]
impl Handler for CheckoutFunction {
    fn route(&self, request: &Request) -> Option<String> {
        pattern(ROUTES, request)
    }

    async fn respond(&self, request: &Request) -> Result<Response, Error> {
        let (endpoint, params) = resolve(ROUTES, request.method(), request.uri().path())?;
        match endpoint {
            Endpoint::Checkout => {
                // Signature and expiry first (no I/O); the session is read
                // alongside the prices, before the key is leased.
                let claims = self.authenticator.claims(bearer_token(request)?)?;
                let key = idempotency::key(request)?;
                let cart = json_body(request, cart)?;
                let fingerprint = Fingerprint::of_json("POST", "/checkout", request.body());
                let checkout = CheckoutRequest { key, fingerprint, cart };
                let answer = self.checkout.checkout(self.authenticator.principal(&claims), checkout).await?;
                Ok(idempotency::stored_answer(answer.status, answer.body, answer.replayed))
            }
            Endpoint::Quote => {
                let claims = self.authenticator.claims(bearer_token(request)?)?;
                let basket = json_body(request, basket)?;
                let quote = self.checkout.quote(self.authenticator.principal(&claims), &basket).await?;
                Ok(json_response(StatusCode::OK, &QuoteView::from(&quote)))
            }
            Endpoint::GetOrder => {
                let buyer = self.authenticator.authenticate(bearer_token(request)?).await?;
                let id = params.get("id").and_then(|raw| OrderId::parse(raw).ok()).ok_or(Error::NotFound)?;
                let order = self.orders.order(&buyer.user.id, &id).await?.ok_or(Error::NotFound)?;
                Ok(json_response(StatusCode::OK, &OrderView::from(&order)))
            }
            Endpoint::CancelOrder => {
                let buyer = self.authenticator.authenticate(bearer_token(request)?).await?;
                let ask = json_body(request, customer_cancel)?;
                let keyed = Keyed {
                    key: idempotency::key(request)?,
                    fingerprint: Fingerprint::of_json("POST", request.uri().path(), request.body()),
                };
                // Another customer's order, or one that cannot exist, is not found.
                let id = params.get("id").and_then(|raw| OrderId::parse(raw).ok()).ok_or(Error::NotFound)?;
                let answer = self.lifecycle.run(&Asker::Customer(buyer.user.id), &id, ask, keyed).await?;
                Ok(idempotency::stored_answer(answer.response.status, answer.response.body, answer.replayed))
            }
            Endpoint::ListOrders => {
                let buyer = self.authenticator.authenticate(bearer_token(request)?).await?;
                let page = listing::page_request(QueryParams::of(request))?;
                let (orders, next_cursor) = listing::page(&*self.orders, &self.cursors, &buyer.user.id, &page).await?;
                let items: Vec<OrderView<'_>> = orders.iter().map(OrderView::from).collect();
                Ok(json_response(StatusCode::OK, &Page { items, next_cursor }))
            }
        }
    }
}
