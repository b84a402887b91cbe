//! Checkout under injected faults, on both stores, through the handler:
//! a declined card, a payment timeout retried, a mail outage, and a crash
//! between taking the stock and confirming the order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use galley_checkout::{CheckoutFunction, CheckoutStores};
use galley_http::Handler;
use galley_shared::Error;
use galley_shared::auth::{DisplayName, Email, KeyId, Session, TokenSigner, UserProfile};
use galley_shared::clock::{Clock, ManualClock};
use galley_shared::id::{OrderId, ProductId, RefundId, SessionId, UserId};
use galley_shared::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope, LeaseId, LeaseOutcome, LeaseRequest};
use galley_shared::keys::{Keys, SigningKey};
use galley_shared::mail::EmailMessage;
use galley_shared::money::Money;
use galley_shared::orders::{NoticeId, NoticeSender, OrderStatus, PaymentToken};
use galley_shared::ports::{Charge, Mailer, PaymentGateway, Sessions};
use galley_shared::stock::{Quantity, StockLine};
use galley_tests::contract::Store;
use galley_tests::fixtures::product;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// A gateway that is idempotent per order like a real one, records every
/// call, and can be told to fail.
#[derive(Default)]
struct ScriptedGateway {
    /// Order ids it was asked to charge, in order (retries included).
    calls: Mutex<Vec<OrderId>>,
    /// Orders actually charged: at most one charge each.
    charged: Mutex<HashMap<OrderId, usize>>,
    /// The first `time_out_first` calls charge but lose the answer.
    time_out_first: AtomicUsize,
    /// The first `hang_first` calls never answer (the process "dies" meanwhile).
    hang_first: AtomicUsize,
    /// The first `hang_after_charge` calls charge, then never answer.
    hang_after_charge: AtomicUsize,
    entered: Notify,
}

#[async_trait]
impl PaymentGateway for ScriptedGateway {
    async fn charge(&self, order: &OrderId, _amount: Money, _token: &PaymentToken) -> Result<Charge, Error> {
        self.calls.lock().unwrap().push(order.clone());
        if self.hang_first.load(Ordering::SeqCst) > 0 {
            self.hang_first.fetch_sub(1, Ordering::SeqCst);
            self.entered.notify_one();
            std::future::pending::<()>().await;
        }
        *self.charged.lock().unwrap().entry(order.clone()).or_default() = 1;
        if self.hang_after_charge.load(Ordering::SeqCst) > 0 {
            self.hang_after_charge.fetch_sub(1, Ordering::SeqCst);
            self.entered.notify_one();
            std::future::pending::<()>().await;
        }
        if self.time_out_first.load(Ordering::SeqCst) > 0 {
            self.time_out_first.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::unavailable("payment provider timed out"));
        }
        Ok(Charge::Approved { reference: format!("ch_{order}") })
    }

    async fn settle(&self, order: &OrderId) -> Result<Charge, Error> {
        match self.charged.lock().unwrap().contains_key(order) {
            true => Ok(Charge::Approved { reference: format!("ch_{order}") }),
            false => Ok(Charge::Declined { code: "generic_decline".into() }),
        }
    }

    async fn outcome(&self, order: &OrderId) -> Result<Option<Charge>, Error> {
        Ok(self
            .charged
            .lock()
            .unwrap()
            .contains_key(order)
            .then(|| Charge::Approved { reference: format!("ch_{order}") }))
    }

    async fn refund(&self, _order: &OrderId, refund: &RefundId, _amount: Money) -> Result<String, Error> {
        Err(Error::internal(format!("checkout never refunds ({refund})")))
    }
}

/// A mailer that fails its first `failures` sends and records the rest.
#[derive(Default)]
struct FlakyMailer {
    failures: AtomicUsize,
    sent: Mutex<Vec<EmailMessage>>,
}

#[async_trait]
impl Mailer for FlakyMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), Error> {
        if self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::unavailable("mail service down"));
        }
        self.sent.lock().unwrap().push(message.clone());
        Ok(())
    }
}

struct Shop<S> {
    store: Arc<S>,
    checkout: CheckoutFunction,
    gateway: Arc<ScriptedGateway>,
    clock: Arc<ManualClock>,
    token: String,
    user: UserId,
    session: SessionId,
}

const KEY: &[u8] = b"checkout-fault-tests-signing-key-0123456789";

impl<S: Store> Shop<S> {
    async fn open(store: Arc<S>) -> Shop<S> {
        store.upsert(&[product("hot", 3)]).await.unwrap();
        let clock = Arc::new(ManualClock::starting_now());
        let gateway = Arc::new(ScriptedGateway::default());
        let key = SigningKey::new(KEY.to_vec()).unwrap();
        let stores = CheckoutStores::over(store.clone());
        let checkout = CheckoutFunction::new(stores, gateway.clone(), &Keys::from_secret(&key), clock.clone()).unwrap();
        let user = UserId::generate();
        let profile = UserProfile {
            id: user.clone(),
            email: Email::parse("buyer@example.com").unwrap(),
            name: DisplayName::parse("Buyer").unwrap(),
        };
        let (session, _) = Session::start(profile, clock.unix_now());
        Sessions::create(&*store, &session).await.unwrap();
        let token =
            TokenSigner::derive(&key, &KeyId::first()).issue(&user, &session.id, clock.unix_now()).expose().to_owned();
        Shop { store, checkout, gateway, clock, token, user, session: session.id }
    }

    async fn buy(&self, key: &str, units: u32) -> (u16, Value, bool) {
        let body = json!({"items": [{"product_id": "hot", "quantity": units}], "payment": {"token": "pm_card_visa"}});
        self.send(key, &body.to_string()).await
    }

    /// A checkout with this exact body text.
    async fn send(&self, key: &str, body: &str) -> (u16, Value, bool) {
        let request = http::Request::builder()
            .method("POST")
            .uri("/checkout")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.token))
            .header("idempotency-key", key)
            .body(Bytes::from(body.to_owned()))
            .unwrap();
        let response = self.checkout.handle(request).await;
        let replayed = response.headers().contains_key("idempotent-replayed");
        (response.status().as_u16(), serde_json::from_slice(response.body()).unwrap(), replayed)
    }

    async fn stock(&self) -> u32 {
        self.store.level(&ProductId::parse("hot").unwrap()).await.unwrap().unwrap()
    }

    async fn orders(&self) -> Vec<galley_shared::orders::Order> {
        galley_shared::ports::Orders::orders(&*self.store, &self.user, None, 100).await.unwrap()
    }
}

async fn a_payment_timeout_retried_charges_once_and_orders_once<S: Store>(store: Arc<S>) {
    let shop = Shop::open(store).await;
    shop.gateway.time_out_first.store(1, Ordering::SeqCst);
    let (status, body, _) = shop.buy("retry-after-timeout", 2).await;
    assert_eq!((status, body["code"].as_str()), (503, Some("unavailable")));
    assert_eq!(shop.stock().await, 1, "the order holds its stock while the payment is unknown");
    let (status, body, replayed) = shop.buy("retry-after-timeout", 2).await;
    assert_eq!((status, replayed), (201, false), "{body}");
    let orders = shop.orders().await;
    assert_eq!(orders.len(), 1, "one order");
    assert_eq!(body["id"], orders[0].id.as_str());
    let calls = shop.gateway.calls.lock().unwrap().clone();
    assert_eq!(calls, [orders[0].id.clone(), orders[0].id.clone()], "the retry asked about the same order");
    assert_eq!(shop.gateway.charged.lock().unwrap().len(), 1, "one charge");
    assert_eq!(shop.stock().await, 1, "stock taken once");
    let (status, again, replayed) = shop.buy("retry-after-timeout", 2).await;
    assert_eq!((status, replayed, &again), (201, true, &body));
}

async fn a_crash_before_confirmation_is_completed_by_the_retry<S: Store>(store: Arc<S>) {
    let shop = Arc::new(Shop::open(store).await);
    shop.gateway.hang_first.store(1, Ordering::SeqCst);
    let crashed = {
        let shop = shop.clone();
        tokio::spawn(async move { shop.buy("survives-a-crash", 1).await })
    };
    shop.gateway.entered.notified().await;
    // The invocation dies mid-payment: nothing after this point of it runs.
    crashed.abort();
    assert!(crashed.await.unwrap_err().is_cancelled());
    assert_eq!(shop.stock().await, 2, "stock was taken before the crash");
    let (status, body, _) = shop.buy("survives-a-crash", 1).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("request_in_progress")),
        "the crashed holder's lease is live"
    );
    shop.clock.advance(galley_shared::orders::CHECKOUT_LEASE + Duration::from_secs(1));
    let (status, body, _) = shop.buy("survives-a-crash", 1).await;
    assert_eq!(status, 201, "{body}");
    let orders = shop.orders().await;
    assert_eq!(orders.len(), 1, "the retry completed the crashed order instead of placing another");
    assert_eq!(body["id"], orders[0].id.as_str());
    assert_eq!(shop.stock().await, 2, "stock taken once");
}

async fn a_mail_outage_delays_the_receipt_but_never_the_order<S: Store>(store: Arc<S>) {
    let shop = Shop::open(store.clone()).await;
    let (status, body, _) = shop.buy("mail-outage", 1).await;
    assert_eq!((status, body["status"].as_str()), (201, Some("confirmed")), "confirmed at once");
    let mailer = Arc::new(FlakyMailer { failures: AtomicUsize::new(3), sent: Mutex::new(Vec::new()) });
    let sender = NoticeSender::new(store.clone(), mailer.clone(), shop.clock.clone());
    for attempt in 0..3 {
        assert!(sender.drain(10).await.is_err(), "attempt {attempt} fails while mail is down");
    }
    assert_eq!(sender.drain(10).await.unwrap(), 1);
    for _ in 0..3 {
        assert_eq!(sender.drain(10).await.unwrap(), 0, "sent once");
    }
    // A redelivered entry (a stream may deliver twice) sends nothing either.
    let receipt = NoticeId::receipt(&OrderId::parse(body["id"].as_str().unwrap()).unwrap());
    let entry = galley_shared::ports::Outbox::entry(&*store, &receipt).await.unwrap().unwrap();
    assert_eq!(sender.deliver(&entry).await.unwrap(), galley_shared::orders::Delivery::AlreadySent);
    let sent = mailer.sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].text.contains(body["id"].as_str().unwrap()));
}

/// #20 item 4: a token whose session has ended is refused before its key
/// is looked at: no replay of the answer stored under the key, and no
/// record written for a new key.
async fn a_logged_out_token_gets_401_and_never_a_replay_or_a_record<S: Store>(store: Arc<S>) {
    let shop = Shop::open(store).await;
    assert_eq!(shop.buy("bought-before-logout", 1).await.0, 201);
    Sessions::revoke(&*shop.store, &shop.session).await.unwrap();
    let (status, body, replayed) = shop.buy("bought-before-logout", 1).await;
    assert_eq!((status, body["code"].as_str(), replayed), (401, Some("unauthorized"), false), "{body}");
    assert_eq!(shop.buy("tried-after-logout", 1).await.0, 401);
    // A record under the new key, whatever its state, would refuse another body.
    let now = shop.clock.unix_now();
    let scope = IdempotencyScope { user: shop.user.clone(), key: IdempotencyKey::parse("tried-after-logout").unwrap() };
    let probe = LeaseRequest {
        scope,
        fingerprint: Fingerprint::of("POST", "/checkout", b"another body"),
        lease: LeaseId::generate(),
        now,
        lease_until: now + 30,
        expires_at: now + 86_400,
    };
    assert_eq!(shop.store.lease(&probe).await.unwrap(), LeaseOutcome::Acquired { progress: None });
    assert_eq!(shop.stock().await, 2, "only the first checkout took stock");
}

/// #20 item 18: once past authentication and shape validation, a final
/// answer is stored whatever it is: an out-of-stock 409 is replayed to the
/// same key even after a restock, instead of the key being let go.
async fn an_out_of_stock_answer_is_stored_and_replayed_even_after_a_restock<S: Store>(store: Arc<S>) {
    let shop = Shop::open(store).await;
    let (status, first, replayed) = shop.buy("too-many-at-once", 5).await;
    assert_eq!((status, first["code"].as_str(), replayed), (409, Some("out_of_stock"), false), "{first}");
    let restock = StockLine { product_id: ProductId::parse("hot").unwrap(), quantity: Quantity::new(5).unwrap() };
    shop.store.release(&[restock]).await.unwrap();
    let (status, again, replayed) = shop.buy("too-many-at-once", 5).await;
    assert_eq!((status, replayed, &again), (409, true, &first));
    assert_eq!(shop.stock().await, 8, "the replay took nothing");
    assert!(shop.orders().await.is_empty());
}

/// #20 item 18: keys of up to 255 characters, and the quoted form of the
/// IETF draft is the same key.
async fn keys_up_to_255_characters_bare_or_quoted_are_one_key<S: Store>(store: Arc<S>) {
    let shop = Shop::open(store).await;
    let key = "k".repeat(255);
    let (status, first, _) = shop.buy(&key, 1).await;
    assert_eq!(status, 201, "{first}");
    let (status, again, replayed) = shop.buy(&format!("\"{key}\""), 1).await;
    assert_eq!((status, replayed, &again), (201, true, &first));
    let (status, body, _) = shop.buy(&"k".repeat(256), 1).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("idempotency_key_required")));
    assert_eq!(shop.stock().await, 2);
}

/// #20 item 18: bodies are compared as parsed JSON, so a client that
/// re-encodes its retry (spacing, member order) gets its first answer.
async fn a_retry_re_encoded_is_the_same_request_and_another_body_is_not<S: Store>(store: Arc<S>) {
    let shop = Shop::open(store).await;
    let compact = r#"{"items":[{"product_id":"hot","quantity":1}],"payment":{"token":"pm_card_visa"}}"#;
    let spaced =
        "{ \"payment\": {\"token\": \"pm_card_visa\"},\n  \"items\": [ {\"quantity\": 1, \"product_id\": \"hot\"} ] }";
    let (status, first, _) = shop.send("re-encoded-1", compact).await;
    assert_eq!(status, 201, "{first}");
    let (status, again, replayed) = shop.send("re-encoded-1", spaced).await;
    assert_eq!((status, replayed, &again), (201, true, &first));
    let other = compact.replace("\"quantity\":1", "\"quantity\":2");
    let (status, body, _) = shop.send("re-encoded-1", &other).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("idempotency_key_reused")));
    assert_eq!(shop.stock().await, 2);
}

/// Starts a checkout of one unit that dies inside the gateway call
/// (before or after the charge, as the gateway was told) and is never
/// retried, then lets the lease lapse.
async fn a_checkout_killed_in_the_payment<S: Store>(shop: &Arc<Shop<S>>, key: &'static str) {
    let killed = {
        let shop = shop.clone();
        tokio::spawn(async move { shop.buy(key, 1).await })
    };
    shop.gateway.entered.notified().await;
    killed.abort();
    assert!(killed.await.unwrap_err().is_cancelled());
    assert_eq!(shop.stock().await, 2, "the killed checkout holds its stock");
    shop.clock.advance(galley_shared::orders::CHECKOUT_LEASE + Duration::from_secs(1));
}

fn settler<S: Store>(shop: &Shop<S>, mailer: Arc<FlakyMailer>) -> galley_settler::SettlerFunction {
    galley_settler::SettlerFunction::new(
        galley_settler::SettlerStores::over(shop.store.clone()),
        shop.gateway.clone(),
        mailer,
        shop.clock.clone(),
    )
}

/// #20 item 11: a checkout killed after the charge and never retried ends
/// confirmed, with one receipt, by the settler alone; a retry afterwards
/// replays the settler's answer.
async fn a_checkout_killed_after_the_charge_is_confirmed_by_the_settler<S: Store>(store: Arc<S>) {
    let shop = Arc::new(Shop::open(store).await);
    shop.gateway.hang_after_charge.store(1, Ordering::SeqCst);
    a_checkout_killed_in_the_payment(&shop, "killed-after-charge").await;
    let orders = shop.orders().await;
    assert_eq!((orders.len(), orders[0].status), (1, OrderStatus::Pending));

    let mailer = Arc::new(FlakyMailer::default());
    let settler = settler(&shop, mailer.clone());
    let galley_settler::Run { settled, receipts_sent: sent, .. } = settler.run().await.unwrap();
    assert_eq!((settled.confirmed, settled.declined, sent), (1, 0, 1));
    assert_eq!(shop.orders().await[0].status, OrderStatus::Confirmed);
    assert_eq!(shop.stock().await, 2, "the stock stays sold");
    assert_eq!(mailer.sent.lock().unwrap().len(), 1, "one receipt");
    assert_eq!(shop.gateway.charged.lock().unwrap().len(), 1, "charged once");
    assert_eq!(settler.run().await.unwrap(), Default::default(), "nothing left to settle, send or repair");

    let (status, body, replayed) = shop.buy("killed-after-charge", 1).await;
    assert_eq!((status, replayed, body["id"].as_str()), (201, true, Some(orders[0].id.as_str())));
}

/// #20 item 11: a checkout killed before the charge ends declined with its
/// stock back, by the settler alone, and nothing is charged or sent.
async fn a_checkout_killed_before_the_charge_is_declined_by_the_settler<S: Store>(store: Arc<S>) {
    let shop = Arc::new(Shop::open(store).await);
    shop.gateway.hang_first.store(1, Ordering::SeqCst);
    a_checkout_killed_in_the_payment(&shop, "killed-before-charge").await;

    let mailer = Arc::new(FlakyMailer::default());
    let galley_settler::Run { settled, receipts_sent: sent, .. } = settler(&shop, mailer.clone()).run().await.unwrap();
    assert_eq!((settled.confirmed, settled.declined, sent), (0, 1, 0));
    assert_eq!(shop.orders().await[0].status, OrderStatus::Declined);
    assert_eq!(shop.stock().await, 3, "the stock is back");
    assert!(shop.gateway.charged.lock().unwrap().is_empty() && mailer.sent.lock().unwrap().is_empty());
    let (status, body, replayed) = shop.buy("killed-before-charge", 1).await;
    assert_eq!((status, replayed, body["code"].as_str()), (402, true, Some("payment_declined")));
}

/// A mailer that takes a while, as SES does, and records what it sent.
#[derive(Default)]
struct SlowMailer(Mutex<Vec<EmailMessage>>);

#[async_trait]
impl Mailer for SlowMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), Error> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.0.lock().unwrap().push(message.clone());
        Ok(())
    }
}

/// #20 item 12: a stream delivery and the settler's sweep racing for one
/// receipt send it once: the second finds the send lease taken.
async fn a_stream_delivery_and_a_sweep_racing_send_one_receipt<S: Store>(store: Arc<S>) {
    let shop = Shop::open(store.clone()).await;
    let (status, body, _) = shop.buy("raced-receipt", 1).await;
    assert_eq!(status, 201, "{body}");
    let mailer = Arc::new(SlowMailer::default());
    let sender = NoticeSender::new(store.clone(), mailer.clone(), shop.clock.clone());
    let entry = store.pending(10).await.unwrap().pop().expect("the receipt waits in the outbox");
    let (stream, sweep) = tokio::join!(sender.deliver(&entry), sender.drain(10));
    assert_eq!(mailer.0.lock().unwrap().len(), 1, "one receipt: {stream:?}, {sweep:?}");
    assert!(store.entry(&entry.notice.id()).await.unwrap().unwrap().sent);
}

galley_tests::on_both_stores!(
    a_stream_delivery_and_a_sweep_racing_send_one_receipt,
    a_checkout_killed_after_the_charge_is_confirmed_by_the_settler,
    a_checkout_killed_before_the_charge_is_declined_by_the_settler,
    an_out_of_stock_answer_is_stored_and_replayed_even_after_a_restock,
    keys_up_to_255_characters_bare_or_quoted_are_one_key,
    a_retry_re_encoded_is_the_same_request_and_another_body_is_not,
    a_logged_out_token_gets_401_and_never_a_replay_or_a_record,
    a_payment_timeout_retried_charges_once_and_orders_once,
    a_crash_before_confirmation_is_completed_by_the_retry,
    a_mail_outage_delays_the_receipt_but_never_the_order
);
