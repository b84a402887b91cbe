//! The order lifecycle of API.md (the status machine, the order rows of
//! "Back office", the customer's cancel) over HTTP through `galley serve`,
//! on the embedded store and on DynamoDB (moto): every allowed move, every
//! refused one, the races, and one email per event.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Backend, Reply, Server};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

fn admin(server: &Server) -> String {
    let email = format!("{}@example.com", unique("owner"));
    let token = server.signed_in(&email);
    assert!(server.backend.command(server.data_dir.path(), &["admin", "grant", &email]).status().unwrap().success());
    token
}

fn post(server: &Server, path: &str, token: &str, key: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    let headers = [("Content-Type", "application/json"), ("Authorization", auth.as_str()), ("Idempotency-Key", key)];
    server.request("POST", path, &headers, body.to_string().as_bytes())
}

fn get(server: &Server, path: &str, token: &str) -> Reply {
    server.get_as(path, token)
}

/// A product of its own at 10.00 with `stock` units.
fn product(server: &Server, admin: &str, stock: u32) -> String {
    let id = unique("life");
    let body = json!({"id": id, "title": "Lifecycle teapot", "description": "", "category": "test",
                      "price": {"amount": 1000, "currency": "USD"}, "stock": stock});
    let auth = format!("Bearer {admin}");
    let created = server.request(
        "POST",
        "/admin/products",
        &[("Content-Type", "application/json"), ("Authorization", auth.as_str())],
        body.to_string().as_bytes(),
    );
    assert_eq!(created.status, 201, "{:?}", created.body);
    id
}

fn stock(server: &Server, admin: &str, product: &str) -> i64 {
    get(server, &format!("/admin/products/{product}"), admin).body["stock"].as_i64().unwrap()
}

/// A confirmed order of one unit (10.00) by `shopper`.
fn order(server: &Server, shopper: &str, product: &str) -> String {
    buy(server, shopper, product, "pm_card_visa")
}

fn buy(server: &Server, shopper: &str, product: &str, card: &str) -> String {
    let cart = json!({"items": [{"product_id": product, "quantity": 1}], "payment": {"token": card}});
    let bought = post(server, "/checkout", shopper, &unique("buy"), &cart);
    match bought.status {
        201 => bought.body["id"].as_str().unwrap().to_owned(),
        402 => get(server, "/orders?limit=1", shopper).body["items"][0]["id"].as_str().unwrap().to_owned(),
        other => panic!("checkout answered {other}: {:?}", bought.body),
    }
}

fn usd(amount: i64) -> Value {
    json!({"amount": amount, "currency": "USD"})
}

fn refund(server: &Server, admin: &str, order: &str, key: &str, amount: i64) -> Reply {
    post(
        server,
        &format!("/admin/orders/{order}/refunds"),
        admin,
        key,
        &json!({"amount": usd(amount), "reason": "dent"}),
    )
}

fn fulfil(server: &Server, admin: &str, order: &str, key: &str) -> Reply {
    let shipping = json!({"carrier": "UPS", "tracking_number": "1Z999AA10123456784"});
    post(server, &format!("/admin/orders/{order}/fulfil"), admin, key, &shipping)
}

fn cancel(server: &Server, admin: &str, order: &str, key: &str, restock: bool) -> Reply {
    post(
        server,
        &format!("/admin/orders/{order}/cancel"),
        admin,
        key,
        &json!({"reason": "no stock", "restock": restock}),
    )
}

fn own_cancel(server: &Server, shopper: &str, order: &str, key: &str) -> Reply {
    post(server, &format!("/orders/{order}/cancel"), shopper, key, &json!({"reason": "ordered twice"}))
}

fn history(reply: &Reply) -> Vec<String> {
    reply.body["history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap().to_owned()).collect()
}

/// Every email the server sent, as text: the outbox folder's `.eml` files
/// (embedded), or moto's record of what SES accepted (`--aws`).
pub(crate) fn sent_mail(server: &Server) -> String {
    match server.backend {
        Backend::Embedded => {
            let Ok(entries) = std::fs::read_dir(server.data_dir.path().join("outbox")) else { return String::new() };
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .map(|p| std::fs::read_to_string(p).unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        }
        Backend::Aws { .. } => crate::orders_http::moto_sent_mail(),
    }
}

/// Waits until every marker has reached the mail, then a little more so
/// any extra copy would too; the count of each.
pub(crate) fn mail_counts(server: &Server, markers: &[String]) -> Vec<usize> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !markers.iter().all(|m| sent_mail(server).contains(m.as_str())) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(800));
    let mail = sent_mail(server);
    markers.iter().map(|m| mail.matches(m.as_str()).count()).collect()
}

/// SES sends only from verified identities; the deploy verifies one.
pub(crate) fn verify_sender(server: &Server) {
    if let Backend::Aws { .. } = server.backend {
        verify_default_sender();
    }
}

/// Verifies the domain of the default `MAIL_FROM` on moto's SES.
pub(crate) fn verify_default_sender() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        // Already there from another test: fine.
        let _ =
            aws_sdk_sesv2::Client::new(&config).create_email_identity().email_identity("galley.localhost").send().await;
    });
}

fn every_allowed_move_succeeds_and_every_other_is_refused(server: &Server) {
    verify_sender(server);
    let admin = admin(server);
    let shopper = server.signed_in(&format!("{}@example.com", unique("buyer")));
    let product = product(server, &admin, 20);

    // confirmed → fulfilled → partially_refunded → refunded
    let shipped = order(server, &shopper, &product);
    let fulfilled = fulfil(server, &admin, &shipped, "life-fulfil-1");
    assert_eq!((fulfilled.status, fulfilled.body["status"].as_str()), (200, Some("fulfilled")), "{:?}", fulfilled.body);
    assert_eq!(fulfilled.body["fulfilment"]["carrier"], "UPS");
    let replayed = fulfil(server, &admin, &shipped, "life-fulfil-1");
    assert_eq!((replayed.status, replayed.header("idempotent-replayed")), (200, Some("true")));
    assert_eq!(replayed.body, fulfilled.body);
    fulfil(server, &admin, &shipped, "life-fulfil-2").assert_problem(409, "invalid_transition");
    cancel(server, &admin, &shipped, "life-cancel-1", true).assert_problem(409, "invalid_transition");
    let part = refund(server, &admin, &shipped, "life-refund-1", 300);
    assert_eq!((part.status, part.body["status"].as_str()), (201, Some("partially_refunded")), "{:?}", part.body);
    let over = refund(server, &admin, &shipped, "life-refund-2", 701);
    over.assert_problem(409, "refund_exceeds_balance");
    assert_eq!(over.body["refundable"], usd(700));
    let rest = refund(server, &admin, &shipped, "life-refund-3", 700);
    assert_eq!((rest.status, rest.body["status"].as_str()), (201, Some("refunded")));
    assert_eq!(rest.body["refunds"].as_array().unwrap().len(), 2);
    assert_eq!(history(&rest), ["pending", "confirmed", "fulfilled", "partially_refunded", "refunded"]);
    refund(server, &admin, &shipped, "life-refund-4", 1).assert_problem(409, "invalid_transition");
    let stored = refund(server, &admin, &shipped, "life-refund-4", 1);
    assert_eq!((stored.status, stored.header("idempotent-replayed")), (409, Some("true")), "refusals are stored too");

    // confirmed → refunded at once, and fulfilled → refunded at once.
    let whole = order(server, &shopper, &product);
    let all = refund(server, &admin, &whole, &unique("whole"), 1000);
    assert_eq!((all.status, all.body["status"].as_str()), (201, Some("refunded")), "{:?}", all.body);
    let sent = order(server, &shopper, &product);
    assert_eq!(fulfil(server, &admin, &sent, &unique("ship")).status, 200);
    let after_shipping = refund(server, &admin, &sent, &unique("whole"), 1000);
    assert_eq!((after_shipping.status, after_shipping.body["status"].as_str()), (201, Some("refunded")));
    assert_eq!(history(&after_shipping), ["pending", "confirmed", "fulfilled", "refunded"]);

    // confirmed → cancelled (stock back); nothing after
    let before = stock(server, &admin, &product);
    let cancelled_id = order(server, &shopper, &product);
    let cancelled = cancel(server, &admin, &cancelled_id, "life-cancel-2", true);
    assert_eq!((cancelled.status, cancelled.body["status"].as_str()), (200, Some("cancelled")), "{:?}", cancelled.body);
    assert_eq!(cancelled.body["refunds"][0]["amount"], usd(1000));
    assert_eq!(stock(server, &admin, &product), before, "its stock is back");
    for (path, body) in [
        ("fulfil", json!({})),
        ("refunds", json!({"amount": usd(1), "reason": "x"})),
        ("cancel", json!({"reason": "again", "restock": true})),
    ] {
        post(server, &format!("/admin/orders/{cancelled_id}/{path}"), &admin, &unique("after-cancel"), &body)
            .assert_problem(409, "invalid_transition");
    }
    own_cancel(server, &shopper, &cancelled_id, &unique("own")).assert_problem(409, "invalid_transition");

    // A cancel without restock keeps the stock out (damaged goods).
    let damaged = order(server, &shopper, &product);
    let before = stock(server, &admin, &product);
    assert_eq!(cancel(server, &admin, &damaged, "life-cancel-3", false).status, 200);
    assert_eq!(stock(server, &admin, &product), before, "not restocked");

    // The customer cancels their own confirmed order; not another's.
    let own = order(server, &shopper, &product);
    let other = server.signed_in(&format!("{}@example.com", unique("other")));
    own_cancel(server, &other, &own, "life-own-1").assert_problem(404, "not_found");
    let mine = own_cancel(server, &shopper, &own, "life-own-2");
    assert_eq!((mine.status, mine.body["status"].as_str()), (200, Some("cancelled")), "{:?}", mine.body);
    assert!(mine.body.get("history").is_none(), "the customer's view");

    // A declined order moves nowhere; bad amounts change nothing.
    let declined = buy(server, &shopper, &product, "pm_card_chargeDeclined");
    fulfil(server, &admin, &declined, &unique("declined")).assert_problem(409, "invalid_transition");
    refund(server, &admin, &declined, &unique("declined"), 1).assert_problem(409, "invalid_transition");
    let fresh = order(server, &shopper, &product);
    refund(server, &admin, &fresh, &unique("zero"), 0).assert_problem(400, "validation_failed");
    let euros = json!({"amount": {"amount": 100, "currency": "EUR"}, "reason": "x"});
    post(server, &format!("/admin/orders/{fresh}/refunds"), &admin, &unique("eur"), &euros)
        .assert_problem(400, "validation_failed");
    fulfil(server, &admin, "01JNOSUCHORDER000000000000", &unique("missing")).assert_problem(404, "not_found");
    let untouched = get(server, &format!("/admin/orders/{fresh}"), &admin);
    assert_eq!(
        (untouched.body["status"].as_str(), untouched.body["refunds"].as_array().unwrap().len()),
        (Some("confirmed"), 0)
    );

    // One email per event: none for refusals or replays.
    let refund_ids: Vec<String> =
        rest.body["refunds"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect();
    let markers = vec![
        format!("fulfilled-{shipped}@galley"),
        format!("refund-{}@galley", refund_ids[0]),
        format!("refund-{}@galley", refund_ids[1]),
        format!("cancelled-{cancelled_id}@galley"),
        format!("cancelled-{own}@galley"),
    ];
    assert_eq!(mail_counts(server, &markers), [1, 1, 1, 1, 1], "{markers:?}");
    assert!(!sent_mail(server).contains(&format!("cancelled-{shipped}@galley")));
    assert!(!sent_mail(server).contains(&format!("fulfilled-{declined}@galley")));
}

fn refunds_and_cancels_race_without_double_spending(server: &Server) {
    let admin = admin(server);
    let shopper = server.signed_in(&format!("{}@example.com", unique("racer")));
    let product = product(server, &admin, 20);

    // Ten refunds of 30 % race: three fit.
    let raced = order(server, &shopper, &product);
    let statuses: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let (admin, raced) = (&admin, &raced);
                scope.spawn(move || {
                    let reply = refund(server, admin, raced, &format!("race-refund-{i}-{raced}"), 300);
                    (reply.status, reply.code().to_owned())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 201).count(), 3, "{statuses:?}");
    assert!(
        statuses.iter().filter(|(s, _)| *s != 201).all(|(s, c)| *s == 409 && c == "refund_exceeds_balance"),
        "{statuses:?}"
    );
    let after = get(server, &format!("/admin/orders/{raced}"), &admin);
    let refunded: i64 =
        after.body["refunds"].as_array().unwrap().iter().map(|r| r["amount"]["amount"].as_i64().unwrap()).sum();
    assert_eq!(refunded, 900, "refunded total never above the charge");

    // A cancel racing a fulfil: one wins.
    let contested = order(server, &shopper, &product);
    let (a, b) = std::thread::scope(|scope| {
        let shipping = scope.spawn(|| fulfil(server, &admin, &contested, &format!("race-fulfil-{contested}")).status);
        let cancelling =
            scope.spawn(|| cancel(server, &admin, &contested, &format!("race-cancel-{contested}"), true).status);
        (shipping.join().unwrap(), cancelling.join().unwrap())
    });
    let mut both = [a, b];
    both.sort();
    assert_eq!(both, [200, 409], "fulfil {a}, cancel {b}");

    // The customer and an admin cancel at once, with different keys: one
    // cancellation, one refund, the stock back once.
    let before = stock(server, &admin, &product);
    let twice = order(server, &shopper, &product);
    let (mine, theirs) = std::thread::scope(|scope| {
        let mine = scope.spawn(|| own_cancel(server, &shopper, &twice, &format!("race-own-{twice}")).status);
        let theirs = scope.spawn(|| cancel(server, &admin, &twice, &format!("race-admin-{twice}"), true).status);
        (mine.join().unwrap(), theirs.join().unwrap())
    });
    let mut both = [mine, theirs];
    both.sort();
    assert_eq!(both, [200, 409], "customer {mine}, admin {theirs}");
    let final_order = get(server, &format!("/admin/orders/{twice}"), &admin);
    assert_eq!(final_order.body["status"], "cancelled");
    assert_eq!(final_order.body["refunds"].as_array().unwrap().len(), 1, "one refund");
    assert_eq!(stock(server, &admin, &product), before, "stock back once");
}

// Its own servers: these rules add products the catalog rules would list.
crate::rules_on_shared_servers!(
    pool "admin":
    every_allowed_move_succeeds_and_every_other_is_refused,
    refunds_and_cancels_race_without_double_spending,
);
