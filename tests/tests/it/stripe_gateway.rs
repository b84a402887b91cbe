//! The Stripe gateway against localstripe (started by `scripts/test`), its
//! intent ids recorded in each store: a card that succeeds is charged once
//! whatever is retried, a declining card is declined with Stripe's code, a
//! crash after the intent was recorded resumes it, the settler cancels what
//! was not paid, and each refund is made once.

use std::sync::Arc;

use galley_payments::{StripeClient, StripeGateway};
use galley_shared::Error;
use galley_shared::id::{OrderId, RefundId};
use galley_shared::money::{Currency, Money};
use galley_shared::orders::PaymentToken;
use galley_shared::ports::{Charge, ChargeLedger, FixedSecret, LedgerEntry, PaymentGateway};
use galley_tests::contract::Store;
use secrecy::SecretString;
use serde_json::Value;

fn api() -> String {
    std::env::var("GALLEY_TEST_STRIPE_API")
        .expect("the Stripe tests need localstripe in GALLEY_TEST_STRIPE_API; run them with ./scripts/test")
}

fn client() -> Arc<StripeClient> {
    Arc::new(StripeClient::new(&api(), Arc::new(FixedSecret(SecretString::from("sk_test_galley".to_owned())))))
}

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::parse("USD").unwrap()).unwrap()
}

fn card(token: &str) -> PaymentToken {
    PaymentToken::parse(token).unwrap()
}

async fn intent(id: &str) -> Value {
    client().get::<Value>(&format!("/v1/payment_intents/{id}")).await.unwrap().unwrap()
}

async fn a_card_that_succeeds_is_charged_once_whatever_is_retried(store: Arc<impl Store>) {
    let gateway = StripeGateway::new(client(), store.clone());
    let order = OrderId::generate();
    let first = gateway.charge(&order, usd(1999), &card("pm_card_visa")).await.unwrap();
    let Charge::Approved { reference } = first.clone() else { panic!("declined: {first:?}") };
    assert!(reference.starts_with("pi_"), "{reference}");
    assert_eq!(gateway.charge(&order, usd(1999), &card("pm_card_visa")).await.unwrap(), first, "the same intent");
    assert_eq!(store.intent(&order).await.unwrap().as_deref(), Some(reference.as_str()));
    let paid = intent(&reference).await;
    assert_eq!((paid["status"].as_str(), paid["amount"].as_i64()), (Some("succeeded"), Some(1999)));
    assert_eq!(paid["metadata"]["order_id"], order.as_str());
    assert_eq!(gateway.settle(&order).await.unwrap(), first, "the settler finds it paid");
}

async fn a_declining_card_is_declined_with_stripe_s_code(store: Arc<impl Store>) {
    let gateway = StripeGateway::new(client(), store);
    let declined = gateway.charge(&OrderId::generate(), usd(500), &card("pm_card_chargeCustomerFail")).await.unwrap();
    assert_eq!(declined, Charge::Declined { code: "card_declined".into() });
    let unknown = gateway.charge(&OrderId::generate(), usd(500), &card("pm_no_such_method")).await.unwrap();
    assert!(matches!(unknown, Charge::Declined { .. }), "an unknown payment method is a decline: {unknown:?}");
}

/// The checkout died after the intent was recorded and before it was
/// confirmed: the retry confirms that intent, and makes no other.
async fn a_crash_after_the_intent_was_recorded_resumes_it(store: Arc<impl Store>) {
    let order = OrderId::generate();
    let form = [
        ("amount", "700"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa"),
        ("payment_method_types[]", "card"),
    ];
    let made: Value = client().post("/v1/payment_intents", &form, "test-orphan").await.unwrap().unwrap();
    let made = made["id"].as_str().unwrap().to_owned();
    store.record_intent(&order, &made).await.unwrap();
    let gateway = StripeGateway::new(client(), store.clone());
    let charged = gateway.charge(&order, usd(700), &card("pm_card_visa")).await.unwrap();
    assert_eq!(charged, Charge::Approved { reference: made.clone() });
    assert_eq!(intent(&made).await["status"], "succeeded");
}

/// The settler cancels an intent never confirmed, and closes a payment
/// never started: no late charge can succeed after either.
async fn the_settler_cancels_what_was_not_paid(store: Arc<impl Store>) {
    let gateway = StripeGateway::new(client(), store.clone());
    let order = OrderId::generate();
    let form = [
        ("amount", "300"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa"),
        ("payment_method_types[]", "card"),
    ];
    let made: Value = client().post("/v1/payment_intents", &form, "test-unpaid").await.unwrap().unwrap();
    let made = made["id"].as_str().unwrap().to_owned();
    store.record_intent(&order, &made).await.unwrap();
    assert!(matches!(gateway.settle(&order).await.unwrap(), Charge::Declined { .. }));
    assert_eq!(intent(&made).await["status"], "canceled");
    assert!(matches!(gateway.charge(&order, usd(300), &card("pm_card_visa")).await.unwrap(), Charge::Declined { .. }));

    let never = OrderId::generate();
    assert!(matches!(gateway.settle(&never).await.unwrap(), Charge::Declined { .. }));
    let late = gateway.charge(&never, usd(300), &card("pm_card_visa")).await.unwrap();
    assert!(matches!(late, Charge::Declined { .. }), "closed: {late:?}");
}

async fn each_refund_is_made_once(store: Arc<impl Store>) {
    let gateway = StripeGateway::new(client(), store.clone());
    let order = OrderId::generate();
    let Charge::Approved { reference } = gateway.charge(&order, usd(1000), &card("pm_card_visa")).await.unwrap() else {
        panic!("declined")
    };
    let refund = RefundId::generate();
    let first = gateway.refund(&order, &refund, usd(400)).await.unwrap();
    assert!(first.starts_with("re_"), "{first}");
    assert_eq!(gateway.refund(&order, &refund, usd(400)).await.unwrap(), first, "asked again, refunded once");
    let made: Value = client().get(&format!("/v1/refunds?payment_intent={reference}")).await.unwrap().unwrap();
    assert_eq!(made["data"].as_array().unwrap().len(), 1);
    assert_eq!(store.refunds(&order).await.unwrap(), [(refund, usd(400))]);
}

/// A PaymentMethod made from a raw test card, as Stripe.js would.
async fn card_method(number: &str) -> PaymentToken {
    let form = galley_tests::fixtures::test_card_form(number);
    let method: Value = client().post("/v1/payment_methods", &form, "test-method").await.unwrap().unwrap();
    card(method["id"].as_str().unwrap())
}

/// A card that asks for 3-D Secure goes to the customer; what the customer
/// does then is what settling finds: paid once authenticated, declined (and
/// the intent cancelled) when the card fails after it or nobody finished.
async fn a_card_that_asks_for_authentication_waits_for_the_customer(store: Arc<impl Store>) {
    let gateway = StripeGateway::new(client(), store.clone());
    let order = OrderId::generate();
    let method = card_method("4000002500003155").await;
    let Charge::NeedsAction { reference, next_action } = gateway.charge(&order, usd(900), &method).await.unwrap()
    else {
        panic!("no action asked")
    };
    assert_eq!(next_action.kind, "use_stripe_sdk");
    assert!(next_action.client_secret.starts_with(&format!("{reference}_secret_")));
    assert!(format!("{next_action:?}").find(&next_action.client_secret).is_none(), "the secret is never logged");
    let again = gateway.charge(&order, usd(900), &method).await.unwrap();
    assert!(
        matches!(&again, Charge::NeedsAction { reference: r, .. } if *r == reference),
        "the same intent: {again:?}"
    );
    let form = [("client_secret", next_action.client_secret.as_str()), ("success", "true")];
    let _: Value = client()
        .post(&format!("/v1/payment_intents/{reference}/_authenticate"), &form, "test-auth")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gateway.settle(&order).await.unwrap(), Charge::Approved { reference });

    let failing = OrderId::generate();
    let method = card_method("4000008260003178").await;
    let Charge::NeedsAction { reference, next_action } = gateway.charge(&failing, usd(900), &method).await.unwrap()
    else {
        panic!("no action asked")
    };
    let form = [("client_secret", next_action.client_secret.as_str()), ("success", "true")];
    let refused =
        client().post::<_, Value>(&format!("/v1/payment_intents/{reference}/_authenticate"), &form, "t").await;
    assert!(matches!(refused, Ok(Err(_))), "the charge after authentication fails: {refused:?}");
    assert!(matches!(gateway.settle(&failing).await.unwrap(), Charge::Declined { .. }));
    assert_eq!(intent(&reference).await["status"], "canceled");

    let abandoned = OrderId::generate();
    let method = card_method("4000002500003155").await;
    let Charge::NeedsAction { reference, .. } = gateway.charge(&abandoned, usd(900), &method).await.unwrap() else {
        panic!("no action asked")
    };
    assert!(matches!(gateway.settle(&abandoned).await.unwrap(), Charge::Declined { .. }));
    assert_eq!(intent(&reference).await["status"], "canceled", "no late authentication can charge it");
}

/// The ledger of a process that dies right after Stripe made the intent,
/// before the intent's id is recorded: that write never happens.
struct DiesBeforeRecording<S> {
    store: Arc<S>,
}

#[async_trait::async_trait]
impl<S: Store> ChargeLedger for DiesBeforeRecording<S> {
    async fn record(&self, order: &OrderId, entry: &LedgerEntry) -> Result<LedgerEntry, Error> {
        self.store.record(order, entry).await
    }
    async fn recorded(&self, order: &OrderId) -> Result<Option<LedgerEntry>, Error> {
        self.store.recorded(order).await
    }
    async fn record_refund(&self, order: &OrderId, refund: &RefundId, amount: Money) -> Result<Money, Error> {
        self.store.record_refund(order, refund, amount).await
    }
    async fn refunds(&self, order: &OrderId) -> Result<Vec<(RefundId, Money)>, Error> {
        self.store.refunds(order).await
    }
    async fn record_intent(&self, order: &OrderId, intent: &str) -> Result<String, Error> {
        self.store.record_intent(order, intent).await
    }
    async fn intent(&self, order: &OrderId) -> Result<Option<String>, Error> {
        self.store.intent(order).await
    }
    async fn replace_intent(&self, _order: &OrderId, _from: &str, _to: &str) -> Result<String, Error> {
        Err(Error::unavailable("the process died"))
    }
}

/// Every intent localstripe holds for `order`, read a page at a time.
async fn intents_of(order: &OrderId) -> Vec<Value> {
    let mut found = Vec::new();
    let mut after = String::new();
    loop {
        let page: Value = client().get(&format!("/v1/payment_intents?limit=100{after}")).await.unwrap().unwrap();
        let data = page["data"].as_array().unwrap();
        found.extend(data.iter().filter(|i| i["metadata"]["order_id"] == order.as_str()).cloned());
        match data.last() {
            Some(last) if page["has_more"] == true => {
                after = format!("&starting_after={}", last["id"].as_str().unwrap())
            }
            _ => return found,
        }
    }
}

/// A checkout that died after Stripe made the intent and before it was
/// recorded: its retry finds that intent and pays with it (no second); or,
/// the customer gone, the settler finds it and cancels it.
async fn a_crash_before_the_intent_was_recorded_makes_no_second_intent(store: Arc<impl Store>) {
    let dying = StripeGateway::new(client(), Arc::new(DiesBeforeRecording { store: store.clone() }));
    let gateway = StripeGateway::new(client(), store.clone());

    let retried = OrderId::generate();
    assert!(dying.charge(&retried, usd(800), &card("pm_card_visa")).await.is_err(), "the attempt dies");
    let made = intents_of(&retried).await;
    assert_eq!(made.len(), 1);
    let charged = gateway.charge(&retried, usd(800), &card("pm_card_visa")).await.unwrap();
    assert_eq!(charged, Charge::Approved { reference: made[0]["id"].as_str().unwrap().to_owned() }, "the same intent");
    let after = intents_of(&retried).await;
    assert_eq!((after.len(), after[0]["status"].as_str()), (1, Some("succeeded")), "one intent, charged once");

    let abandoned = OrderId::generate();
    assert!(dying.charge(&abandoned, usd(800), &card("pm_card_visa")).await.is_err());
    assert!(matches!(gateway.settle(&abandoned).await.unwrap(), Charge::Declined { .. }));
    let after = intents_of(&abandoned).await;
    assert_eq!((after.len(), after[0]["status"].as_str()), (1, Some("canceled")), "the stray is cancelled");
    let late = gateway.charge(&abandoned, usd(800), &card("pm_card_visa")).await.unwrap();
    assert!(matches!(late, Charge::Declined { .. }), "closed: {late:?}");
    assert_eq!(intents_of(&abandoned).await.len(), 1, "and none is made after");
}

/// The webhook's question leaves alone what may still succeed and closes
/// what failed, with the failure's own code.
async fn the_webhook_s_question_closes_only_what_failed(store: Arc<impl Store>) {
    let gateway = StripeGateway::new(client(), store.clone());
    let waiting = OrderId::generate();
    let Charge::NeedsAction { reference, .. } =
        gateway.charge(&waiting, usd(900), &card_method("4000002500003155").await).await.unwrap()
    else {
        panic!("no action asked")
    };
    assert_eq!(gateway.outcome(&waiting).await.unwrap(), None, "the customer may still pay");
    assert_eq!(intent(&reference).await["status"], "requires_action", "and is not cancelled");
    assert_eq!(gateway.outcome(&OrderId::generate()).await.unwrap(), None, "nothing made yet");

    let failing = OrderId::generate();
    let Charge::NeedsAction { reference, next_action } =
        gateway.charge(&failing, usd(900), &card_method("4000008260003178").await).await.unwrap()
    else {
        panic!("no action asked")
    };
    let form = [("client_secret", next_action.client_secret.as_str()), ("success", "true")];
    let _ = client().post::<_, Value>(&format!("/v1/payment_intents/{reference}/_authenticate"), &form, "t").await;
    let declined = gateway.outcome(&failing).await.unwrap();
    assert!(
        matches!(&declined, Some(Charge::Declined { code }) if code != "canceled"),
        "the failure's own code: {declined:?}"
    );
    assert_eq!(intent(&reference).await["status"], "canceled", "closed");
}

galley_tests::on_both_stores!(
    a_crash_before_the_intent_was_recorded_makes_no_second_intent,
    the_webhook_s_question_closes_only_what_failed,
    a_card_that_asks_for_authentication_waits_for_the_customer,
    a_card_that_succeeds_is_charged_once_whatever_is_retried,
    a_declining_card_is_declined_with_stripe_s_code,
    a_crash_after_the_intent_was_recorded_resumes_it,
    the_settler_cancels_what_was_not_paid,
    each_refund_is_made_once
);
