//! `POST /checkout`, as a sequence of store transactions around one payment:
//!
//! 1. lease the idempotency key, read the catalog prices and check the
//!    session, all at once;
//! 2. one transaction: take the stock, write the order as pending, note the
//!    order on the idempotency record;
//! 3. charge the gateway, idempotently on the order id;
//! 4. one transaction: confirm the order, complete the idempotency record
//!    with the answer, put the receipt in the outbox — or, on a decline,
//!    give the stock back and complete the record with the 402; or, when
//!    the payment waits on the customer (3-D Secure), complete the record
//!    with the 202 and leave the order pending for the gateway's webhook
//!    (or, once `AUTHENTICATION_WINDOW` is over, the settler) to settle.
//!
//! Any failure between 2 and 4 leaves a pending order the record points at;
//! the retry with the same key resumes it (asking the gateway again, which
//! never charges twice) instead of taking stock a second time.
//!
//! A promotion code is read in step 1 too and priced in; its redemption is
//! counted in step 2's transaction (cap and once-per-customer as
//! conditions) and given back by a decline's. An order whose total is zero
//! is confirmed without asking the gateway. `quote` prices a basket the
//! same way and takes nothing.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::cart::{Basket, Cart};
use super::history::{HistoryEntry, Party};
use super::order::{Order, OrderStatus, OrderView};
use super::pricing::{Offered, Quote, price};
use crate::auth::Principal;
use crate::catalog::Product;
use crate::clock::Clock;
use crate::error::Error;
use crate::id::{OrderId, ProductId};
use crate::idempotency::{Claim, Fingerprint, Guard, IdempotencyKey, IdempotencyScope, StoredResponse};
use crate::metrics;
use crate::ports::{Catalog, Charge, Hold, IdempotencyRecords, NextAction, Orders, PaymentGateway, Promotions};
use crate::promotions::{PromoCode, Promotion};

/// How long a lease holds before a retry may take it over: longer than the
/// checkout function's timeout (25 s in the template), so only a crashed or
/// timed-out invocation's lease lapses.
pub const CHECKOUT_LEASE: Duration = Duration::from_secs(30);

/// How long a customer has to finish authenticating a payment (3-D
/// Secure) before the settler asks the gateway and, the payment unfinished,
/// declines the order and gives its stock back.
pub const AUTHENTICATION_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The answer a checkout gives while the payment waits on the customer:
/// 202 `{order, next_action}` (API.md).
fn awaiting_answer(pending: &Order, next_action: &NextAction) -> Result<StoredResponse, Error> {
    #[derive(serde::Serialize)]
    struct Awaiting<'a> {
        order: OrderView<'a>,
        next_action: &'a NextAction,
    }
    let body =
        serde_json::to_vec(&Awaiting { order: OrderView::from(pending), next_action }).map_err(Error::internal)?;
    Ok(StoredResponse { status: 202, body: body.into() })
}

/// The answer a confirmed order's checkout gives (and its key replays).
pub(crate) fn confirmed_answer(confirmed: &Order) -> Result<StoredResponse, Error> {
    let body = serde_json::to_vec(&OrderView::from(confirmed)).map_err(Error::internal)?;
    Ok(StoredResponse { status: 201, body: body.into() })
}

/// The answer to give, and whether it is a replay of an earlier one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutAnswer {
    pub status: u16,
    pub body: Bytes,
    pub replayed: bool,
}

#[derive(Clone)]
pub struct Checkout {
    catalog: Arc<dyn Catalog>,
    promotions: Arc<dyn Promotions>,
    orders: Arc<dyn Orders>,
    records: Arc<dyn IdempotencyRecords>,
    payments: Arc<dyn PaymentGateway>,
    clock: Arc<dyn Clock>,
    answer_error: AnswerError,
}

/// How the edge answers an error, so that the answer a decline stores for
/// replay is the one the edge gives (over HTTP: `galley_http::problem`).
pub type AnswerError = fn(&Error) -> StoredResponse;

/// One checkout request, parsed at the edge.
pub struct CheckoutRequest {
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
    pub cart: Cart,
}

impl Checkout {
    pub fn new(
        (catalog, promotions): (Arc<dyn Catalog>, Arc<dyn Promotions>),
        orders: Arc<dyn Orders>,
        records: Arc<dyn IdempotencyRecords>,
        payments: Arc<dyn PaymentGateway>,
        clock: Arc<dyn Clock>,
        answer_error: AnswerError,
    ) -> Self {
        Self { catalog, promotions, orders, records, payments, clock, answer_error }
    }

    /// The promotion a code names, read only when there is a code.
    async fn offered(&self, code: Option<&PromoCode>) -> Result<Option<Promotion>, Error> {
        match code {
            Some(code) => self.promotions.promotion(code).await,
            None => Ok(None),
        }
    }

    /// `basket` priced exactly as a checkout by `buyer` now would price it,
    /// taking nothing: the same errors, and a once-per-customer code the
    /// buyer holds a redemption of is `PromoCodeExhausted` here too.
    pub async fn quote(
        &self,
        buyer: impl Future<Output = Result<Principal, Error>> + Send,
        basket: &Basket,
    ) -> Result<Quote, Error> {
        let ids: Vec<ProductId> = basket.lines.iter().map(|l| l.product_id.clone()).collect();
        let code = basket.promo_code.as_ref();
        let (buyer, products, promotion) = tokio::join!(buyer, self.catalog.products(&ids), self.offered(code));
        let (buyer, products, promotion) = (buyer?, products?, promotion?);
        let offered = code.map(|code| Offered { code, promotion: promotion.as_ref() });
        let quote = price(&basket.lines, &products, offered, self.clock.stamp())?;
        if let (Some(code), Some(redemption)) = (code, &quote.redemption)
            && redemption.once_per_customer
            && self.promotions.used(code, &buyer.user.id).await?
        {
            return Err(Error::PromoCodeExhausted);
        }
        Ok(quote)
    }

    /// `buyer` resolves the signed-in user (a session read); it runs
    /// alongside the price read, and the key is leased only once it has
    /// answered: an unauthenticated caller never writes a record.
    pub async fn checkout(
        &self,
        buyer: impl Future<Output = Result<Principal, Error>> + Send,
        request: CheckoutRequest,
    ) -> Result<CheckoutAnswer, Error> {
        let CheckoutRequest { key, fingerprint, cart } = request;
        let ids: Vec<ProductId> = cart.basket.lines.iter().map(|l| l.product_id.clone()).collect();
        let (buyer, products, promotion) =
            tokio::join!(buyer, self.catalog.products(&ids), self.offered(cart.basket.promo_code.as_ref()));
        let buyer = buyer?;
        let now = self.clock.unix_now();
        let scope = IdempotencyScope { user: buyer.user.id.clone(), key };
        let guard = match Guard::claim(self.records.clone(), scope, fingerprint, now, CHECKOUT_LEASE).await? {
            Claim::Replay(stored) => {
                return Ok(CheckoutAnswer { status: stored.status, body: stored.body, replayed: true });
            }
            Claim::Held(guard) => guard,
        };
        let read = products.and_then(|products| Ok((products, promotion?)));
        match self.run(&buyer, &cart, read, guard.progress.clone(), guard.hold()).await {
            // A final answer is stored like a success (API.md): a retry with
            // the key gets the same 409 or 400, even once stock is back.
            Err(
                error @ (Error::OutOfStock(_)
                | Error::UnknownProduct(_)
                | Error::PromoCodeInvalid { .. }
                | Error::PromoCodeExhausted),
            ) => {
                if matches!(error, Error::OutOfStock(_)) {
                    metrics::out_of_stock();
                }
                let answer = (self.answer_error)(&error);
                guard.store(&answer).await?;
                Ok(CheckoutAnswer { status: answer.status, body: answer.body, replayed: false })
            }
            Err(error) => {
                // Let the retry in at once; what was done (the pending order) stays recorded.
                guard.release().await;
                Err(error)
            }
            answered => answered,
        }
    }

    async fn run(
        &self,
        buyer: &Principal,
        cart: &Cart,
        read: Result<(Vec<Product>, Option<Promotion>), Error>,
        progress: Option<String>,
        hold: Hold<'_>,
    ) -> Result<CheckoutAnswer, Error> {
        let order = match progress {
            Some(recorded) => self.resume(buyer, &recorded).await?,
            None => {
                let (products, promotion) = read?;
                let offered =
                    cart.basket.promo_code.as_ref().map(|code| Offered { code, promotion: promotion.as_ref() });
                let created_at = self.clock.stamp();
                let quote = price(&cart.basket.lines, &products, offered, created_at)?;
                let order = Order {
                    id: OrderId::generate(),
                    user_id: buyer.user.id.clone(),
                    email: buyer.user.email.clone(),
                    status: OrderStatus::Pending,
                    created_at,
                    items: quote.items,
                    total: quote.total,
                    promotion: quote.redemption,
                    history: vec![HistoryEntry::placed(created_at)],
                    state: Default::default(),
                    version: 0,
                };
                self.orders.place(&order, hold).await?;
                order
            }
        };
        // Nothing to pay (a promotion took it all): no gateway to ask.
        let charge = if order.total.amount == 0 {
            Charge::Approved { reference: String::new() }
        } else {
            self.payments.charge(&order.id, order.total, &cart.payment).await?
        };
        match charge {
            Charge::Approved { .. } => {
                let confirmed = Order { status: OrderStatus::Confirmed, ..order };
                let answer = confirmed_answer(&confirmed)?;
                let entry = HistoryEntry::new(OrderStatus::Confirmed, self.clock.stamp(), Party::Customer);
                self.orders.confirm(&confirmed, &entry, hold, &answer).await?;
                metrics::order_confirmed(confirmed.total, confirmed.promotion.is_some());
                Ok(CheckoutAnswer { status: answer.status, body: answer.body, replayed: false })
            }
            Charge::Declined { code } => {
                let answer = (self.answer_error)(&Error::PaymentDeclined { decline_code: code });
                let entry = HistoryEntry::new(OrderStatus::Declined, self.clock.stamp(), Party::Customer);
                self.orders.decline(&order, &entry, hold, &answer).await?;
                metrics::order_declined();
                Ok(CheckoutAnswer { status: answer.status, body: answer.body, replayed: false })
            }
            Charge::NeedsAction { next_action, .. } => {
                let answer = awaiting_answer(&order, &next_action)?;
                let settle_from = self.clock.unix_now() + AUTHENTICATION_WINDOW.as_secs() as i64;
                self.orders.await_customer(&order, hold, &answer, settle_from).await?;
                Ok(CheckoutAnswer { status: answer.status, body: answer.body, replayed: false })
            }
        }
    }

    /// The pending order an earlier attempt with this key placed.
    async fn resume(&self, buyer: &Principal, recorded: &str) -> Result<Order, Error> {
        let id = OrderId::parse(recorded).map_err(|e| Error::internal(format!("recorded order id: {e}")))?;
        match self.orders.order(&buyer.user.id, &id).await? {
            Some(order) if order.status == OrderStatus::Pending => {
                tracing::info!(order_id = %order.id, "resuming a pending order for a retried checkout");
                Ok(order)
            }
            Some(order) => {
                Err(Error::internal(format!("order {} is {} under an open claim", order.id, order.status.as_str())))
            }
            None => Err(Error::internal(format!("recorded order {id} is missing"))),
        }
    }
}
