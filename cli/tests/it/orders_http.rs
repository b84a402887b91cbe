//! The Orders section of API.md, over HTTP through `galley serve`, on the
//! embedded store (receipts in `outbox/`) and on DynamoDB (moto).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::common::{Reply, Server};
use serde_json::{Value, json};

fn product_line(id: &str, amount: i64, currency: &str, stock: u32) -> String {
    json!({"id": id, "title": format!("Test {id}"), "description": "For tests", "category": "test",
           "price": {"amount": amount, "currency": currency}, "stock": stock})
    .to_string()
}

fn checkout(server: &Server, token: &str, key: &str, body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    server.request(
        "POST",
        "/checkout",
        &[("Content-Type", "application/json"), ("Authorization", &auth), ("Idempotency-Key", key)],
        body.to_string().as_bytes(),
    )
}

fn cart(lines: &[(&str, u32)], token: &str) -> Value {
    let items: Vec<Value> = lines.iter().map(|(id, q)| json!({"product_id": id, "quantity": q})).collect();
    json!({"items": items, "payment": {"token": token}})
}

fn in_stock(server: &Server, id: &str) -> bool {
    server.get(&format!("/products/{id}")).body["in_stock"].as_bool().unwrap()
}

fn check_rules(server: &Server) {
    server.import(
        &[
            product_line("t-two", 1250, "USD", 2),
            product_line("t-one", 400, "USD", 1),
            product_line("t-euro", 900, "EUR", 5),
        ]
        .join("\n"),
    );
    let ann = server.signed_in("ann@example.com");
    let bob = server.signed_in("bob@example.com");
    let visa = cart(&[("t-two", 2), ("mug-blue-350", 1)], "pm_card_visa");

    // Refusals that change nothing.
    let unauthenticated = server.request(
        "POST",
        "/checkout",
        &[("Content-Type", "application/json"), ("Idempotency-Key", "key-00001")],
        visa.to_string().as_bytes(),
    );
    unauthenticated.assert_problem(401, "unauthorized");
    let no_key = server.request(
        "POST",
        "/checkout",
        &[("Content-Type", "application/json"), ("Authorization", &format!("Bearer {ann}"))],
        visa.to_string().as_bytes(),
    );
    no_key.assert_problem(400, "idempotency_key_required");
    checkout(server, &ann, "short", &visa).assert_problem(400, "idempotency_key_required");
    checkout(server, &ann, &"k".repeat(256), &visa).assert_problem(400, "idempotency_key_required");
    let bad = checkout(
        server,
        &ann,
        "key-bad-1",
        &json!({"items": [{"product_id": "t-two", "quantity": 0}, {"product_id": "t-two", "quantity": 1}], "payment": {}, "price": 1}),
    );
    bad.assert_problem(400, "validation_failed");
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["items[0].quantity", "payment.token", "price"]);
    checkout(server, &ann, "key-dup-1", &cart(&[("t-two", 1), ("t-two", 1)], "pm_card_visa"))
        .assert_problem(400, "validation_failed");
    let unknown =
        checkout(server, &ann, "key-unknown", &cart(&[("ghost-1", 1), ("t-two", 1), ("ghost-2", 1)], "pm_card_visa"));
    unknown.assert_problem(400, "unknown_product");
    assert_eq!(unknown.body["items"], json!(["ghost-1", "ghost-2"]));
    checkout(server, &ann, "key-mixed", &cart(&[("t-euro", 1), ("t-two", 1)], "pm_card_visa"))
        .assert_problem(400, "validation_failed");
    let text = server.request(
        "POST",
        "/checkout",
        &[
            ("Content-Type", "text/plain"),
            ("Authorization", &format!("Bearer {ann}")),
            ("Idempotency-Key", "key-text-1"),
        ],
        b"{}",
    );
    text.assert_problem(415, "unsupported_media_type");
    let short = checkout(server, &ann, "key-short", &cart(&[("t-two", 3), ("t-one", 1)], "pm_card_visa"));
    short.assert_problem(409, "out_of_stock");
    assert_eq!(short.body["items"], json!([{"product_id": "t-two", "requested": 3, "available": 2}]));
    assert!(in_stock(server, "t-two") && in_stock(server, "t-one"), "nothing was taken");

    // A declined card gives the stock back.
    let declined = checkout(server, &ann, "key-declined", &cart(&[("t-one", 1)], "pm_card_chargeDeclined"));
    declined.assert_problem(402, "payment_declined");
    assert_eq!(declined.body["decline_code"], "generic_decline", "the sandbox's reason, as Stripe names them");
    assert!(in_stock(server, "t-one"));
    let replayed_decline = checkout(server, &ann, "key-declined", &cart(&[("t-one", 1)], "pm_card_chargeDeclined"));
    assert_eq!((replayed_decline.status, replayed_decline.header("idempotent-replayed")), (402, Some("true")));

    // Success, priced from the catalog.
    let placed = checkout(server, &ann, "key-first-order", &visa);
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let order = &placed.body;
    assert_eq!(order["status"], "confirmed");
    assert_eq!(order["email"], "ann@example.com");
    assert_eq!(order["total"], json!({"amount": 2 * 1250 + 1299, "currency": "USD"}));
    assert_eq!(
        order["items"][0],
        json!({"product_id": "t-two", "title": "Test t-two", "quantity": 2,
        "unit_price": {"amount": 1250, "currency": "USD"}, "line_total": {"amount": 2500, "currency": "USD"},
        "discount": {"amount": 0, "currency": "USD"}})
    );
    assert_eq!(order["subtotal"], order["total"], "no discount without a promotion");
    assert_eq!((order["promo_code"].clone(), order["fulfilment"].clone()), (Value::Null, Value::Null));
    assert_eq!(order["refunds"], json!([]));
    assert!(order["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(placed.header("idempotent-replayed").is_none());
    assert!(!in_stock(server, "t-two"), "both units taken");

    // The same request again: the first answer, nothing more taken.
    let again = checkout(server, &ann, "key-first-order", &visa);
    assert_eq!((again.status, again.header("idempotent-replayed")), (201, Some("true")));
    assert_eq!(again.body, placed.body);
    checkout(server, &ann, "key-first-order", &cart(&[("t-one", 1)], "pm_card_visa"))
        .assert_problem(422, "idempotency_key_reused");
    // Keys are scoped to the user: Bob's same key is his own.
    let bobs = checkout(server, &bob, "key-first-order", &cart(&[("t-one", 1)], "pm_card_visa"));
    assert_eq!((bobs.status, bobs.header("idempotent-replayed")), (201, None));

    // Reading orders: own only, newest first, paged.
    let id = order["id"].as_str().unwrap();
    let read = server.get_as(&format!("/orders/{id}"), &ann);
    assert_eq!((read.status, &read.body), (200, &placed.body));
    server.get_as(&format!("/orders/{id}"), &bob).assert_problem(404, "not_found");
    server.get_as("/orders/no-such-order", &ann).assert_problem(404, "not_found");
    server.get(&format!("/orders/{id}")).assert_problem(401, "unauthorized");
    server.get("/orders").assert_problem(401, "unauthorized");
    let more = checkout(server, &ann, "key-second-order", &cart(&[("mug-white-350", 1)], "pm_card_visa"));
    assert_eq!(more.status, 201);
    let first_page = server.get_as("/orders?limit=1", &ann);
    assert_eq!(first_page.status, 200);
    assert_eq!(first_page.body["items"][0]["id"], more.body["id"], "newest first");
    let cursor = first_page.body["next_cursor"].as_str().unwrap().to_owned();
    let second_page = server.get_as(&format!("/orders?limit=1&cursor={cursor}"), &ann);
    let statuses: Vec<&str> =
        second_page.body["items"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(second_page.body["items"][0]["id"], order["id"]);
    assert_eq!(statuses, ["confirmed"]);
    let next = second_page.body["next_cursor"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?} {:?}", server.backend, second_page.body));
    let third = server.get_as(&format!("/orders?limit=5&cursor={next}"), &ann);
    assert_eq!(third.body["items"][0]["status"], "declined", "the declined order is kept, with its status");
    assert!(third.body["next_cursor"].is_null());
    server.get_as(&format!("/orders?cursor={cursor}"), &bob).assert_problem(400, "invalid_cursor");
    server.get_as("/orders?limit=0", &ann).assert_problem(400, "validation_failed");
    let bobs_list = server.get_as("/orders", &bob);
    assert_eq!(bobs_list.body["items"].as_array().unwrap().len(), 1);
}

/// What the server's metrics say the races did: orders confirmed, their
/// revenue, out-of-stock answers, checkouts answered 2xx and 4xx.
fn race_figures(server: &Server) -> [f64; 5] {
    let usd = [("Currency", "USD")];
    let answered = |outcome| server.metric("Requests", &[("Route", "POST /checkout"), ("Outcome", outcome)]);
    [
        server.metric("OrdersConfirmed", &usd),
        server.metric("Revenue", &usd),
        server.metric("OutOfStock", &[]),
        answered("2xx"),
        answered("4xx"),
    ]
}

/// 60 buyers race for 10 units; 10 concurrent requests share one key. The
/// metrics the server recorded match what the buyers saw.
fn check_races(server: &Server) {
    server.import(&product_line("t-hot", 700, "USD", 10));
    let before = race_figures(server);
    let server = Arc::new(server);
    let tokens: Vec<String> = (0..4).map(|i| server.signed_in(&format!("racer{i}@example.com"))).collect();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..60)
            .map(|i| {
                let (server, token) = (server.clone(), tokens[i % tokens.len()].clone());
                scope.spawn(move || {
                    let reply =
                        checkout(&server, &token, &format!("race-key-{i:03}"), &cart(&[("t-hot", 1)], "pm_card_visa"));
                    if reply.status == 409 {
                        assert_eq!(reply.code(), "out_of_stock");
                        assert_eq!(reply.body["items"][0]["available"], 0);
                    }
                    reply.status
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 50, "{statuses:?}");
    assert!(!in_stock(&server, "t-hot"));

    server.import(&product_line("t-warm", 700, "USD", 10));
    let token = tokens[0].clone();
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let same: Vec<_> = (0..10)
            .map(|_| {
                let (server, token) = (server.clone(), token.clone());
                scope.spawn(move || {
                    checkout(&server, &token, "one-key-for-all", &cart(&[("t-warm", 1)], "pm_card_visa"))
                })
            })
            .collect();
        same.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let orders: BTreeSet<String> =
        replies.iter().filter(|r| r.status == 201).map(|r| r.body["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(orders.len(), 1, "one order for one key");
    for reply in &replies {
        assert!(reply.status == 201 || reply.code() == "request_in_progress", "{:?}", reply.body);
    }
    let listed = server.get_as("/orders?limit=100", &token).body;
    let warm_orders =
        listed["items"].as_array().unwrap().iter().filter(|o| o["items"][0]["product_id"] == "t-warm").count();
    assert_eq!(warm_orders, 1);

    let after = race_figures(&server);
    let moved: Vec<f64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    let count = |status: u16| {
        (statuses.iter().filter(|s| **s == status).count() + replies.iter().filter(|r| r.status == status).count())
            as f64
    };
    assert_eq!(moved, [11.0, 11.0 * 700.0, 50.0, count(201), count(409)], "confirmed, revenue, out of stock, 2xx, 4xx");
}

fn receipts_in(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// The demo products these tests buy, and nothing else.
fn small_catalog() -> String {
    let demo = include_str!("../../../catalog/demo.jsonl");
    let wanted = ["\"mug-blue-350\"", "\"mug-white-350\""];
    demo.lines().filter(|line| wanted.iter().any(|id| line.contains(id))).collect::<Vec<_>>().join("\n")
}

/// The rules, then the races for the last units, on a small catalog of its
/// own (moto copies a whole table for every transaction).
fn orders_contract_holds(backend: crate::common::Backend) {
    let server = Server::start_with_catalog(backend, &small_catalog());
    check_rules(&server);
    check_races(&server);
    assert!(server.stop().success());
}

crate::on_both_backends!(orders_contract_holds);

#[test]
fn each_confirmed_order_gets_exactly_one_receipt_in_the_outbox_folder() {
    let server = Server::start_with_catalog(crate::common::Backend::Embedded, &small_catalog());
    let token = server.signed_in("receipts@example.com");
    let placed = checkout(&server, &token, "receipt-key-1", &cart(&[("mug-blue-350", 2)], "pm_card_visa"));
    assert_eq!(placed.status, 201);
    let _replay = checkout(&server, &token, "receipt-key-1", &cart(&[("mug-blue-350", 2)], "pm_card_visa"));
    let declined = checkout(&server, &token, "receipt-key-2", &cart(&[("mug-blue-350", 1)], "pm_card_chargeDeclined"));
    assert_eq!(declined.status, 402);
    let outbox = server.data_dir.path().join("outbox");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while receipts_in(&outbox).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(600)); // a few more polls: nothing else may arrive
    let receipts = receipts_in(&outbox);
    assert_eq!(receipts.len(), 1, "one receipt: none for the replay, none for the decline");
    let id = placed.body["id"].as_str().unwrap();
    let mime = &receipts[0];
    assert!(mime.contains("To: receipts@example.com"));
    assert!(mime.contains(&format!("Subject: Your Galley order {id}")));
    assert!(mime.contains("multipart/alternative") && mime.contains("text/html"));
    assert!(mime.contains("Blue Stoneware Mug") && mime.contains("25.98 USD"), "lines and total");
    assert!(server.stop().success());
}

/// moto's record of the mail SES accepted (the `ses` part of
/// `/moto-api/data.json`, served on its own by `scripts/moto_server.py`).
pub(crate) fn moto_sent_mail() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let address = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    use std::io::{Read, Write};
    write!(stream, "GET /galley/ses-sent HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    raw
}

#[test]
fn on_aws_each_confirmed_order_gets_exactly_one_receipt_through_ses() {
    let backend = crate::common::Backend::aws();
    // SES sends only from verified identities; in AWS that is the deploy's manual step.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        let ses = aws_sdk_sesv2::Client::new(&config);
        ses.create_email_identity().email_identity("galley.localhost").send().await.unwrap();
    });
    let server = Server::start_with_catalog(backend, &small_catalog());
    let token = server.signed_in("ses-buyer@example.com");
    let placed = checkout(&server, &token, "ses-receipt-1", &cart(&[("mug-blue-350", 1)], "pm_card_visa"));
    assert_eq!(placed.status, 201);
    let _replay = checkout(&server, &token, "ses-receipt-1", &cart(&[("mug-blue-350", 1)], "pm_card_visa"));
    let declined = checkout(&server, &token, "ses-receipt-2", &cart(&[("mug-white-350", 1)], "pm_card_chargeDeclined"));
    let declined_id = server.get_as("/orders?limit=1", &token).body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(declined.status, 402);
    let marker = format!("receipt-{}@galley", placed.body["id"].as_str().unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !moto_sent_mail().contains(&marker) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(600));
    let sent = moto_sent_mail();
    assert_eq!(sent.matches(&marker).count(), 1, "exactly one receipt reached SES");
    assert!(!sent.contains(&format!("receipt-{declined_id}@galley")), "no receipt for a declined order");
    assert!(sent.contains("ses-buyer@example.com"));
    assert!(server.stop().success());
}
