//! Promotions (API.md "Orders: Promotion", `POST /checkout/quote`, and the
//! back office's `/admin/promotions`) over HTTP through `galley serve`, on
//! the embedded store and on DynamoDB (moto): every rule a code is judged
//! by, the cap and once-per-customer under racing checkouts, and the
//! redemption a decline or a cancellation gives back.

use serde_json::{Value, json};

use crate::common::{Backend, Reply, Server};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// A code of its own (codes are at most 32 characters).
fn code(prefix: &str) -> String {
    let id = ulid::Ulid::new().to_string();
    format!("{prefix}-{}", &id[id.len() - 12..])
}

fn shopper(server: &Server) -> String {
    server.signed_in(&format!("{}@example.com", unique("saver")))
}

fn admin(server: &Server) -> String {
    let email = format!("{}@example.com", unique("owner"));
    let token = server.signed_in(&email);
    assert!(server.backend.command(server.data_dir.path(), &["admin", "grant", &email]).status().unwrap().success());
    token
}

fn send(server: &Server, method: &str, path: &str, token: &str, extra: &[(&str, &str)], body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("Content-Type", "application/json"), ("Authorization", auth.as_str())];
    headers.extend_from_slice(extra);
    server.request(method, path, &headers, body.to_string().as_bytes())
}

fn money(amount: i64, currency: &str) -> Value {
    json!({"amount": amount, "currency": currency})
}

/// A product of its own priced `amount` minor units of `currency`, with plenty of stock.
fn product(server: &Server, admin: &str, amount: i64, currency: &str) -> String {
    let id = unique("promo");
    let body = json!({"id": id, "title": "Promotion teapot", "description": "", "category": "test",
                      "price": money(amount, currency), "stock": 10_000});
    let created = send(server, "POST", "/admin/products", admin, &[], &body);
    assert_eq!(created.status, 201, "{:?}", created.body);
    id
}

fn create(server: &Server, admin: &str, promotion: Value) -> Reply {
    send(server, "POST", "/admin/promotions", admin, &[], &promotion)
}

fn created(server: &Server, admin: &str, promotion: Value) -> Value {
    let reply = create(server, admin, promotion);
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.header("etag"), Some("\"1\""));
    reply.body
}

fn cart(product: &str, quantity: u32, code: Option<&str>, card: &str) -> Value {
    let mut cart = json!({"items": [{"product_id": product, "quantity": quantity}], "payment": {"token": card}});
    if let Some(code) = code {
        cart["promo_code"] = json!(code);
    }
    cart
}

fn checkout(server: &Server, shopper: &str, key: &str, cart: &Value) -> Reply {
    send(server, "POST", "/checkout", shopper, &[("Idempotency-Key", key)], cart)
}

fn quote(server: &Server, shopper: &str, cart: &Value) -> Reply {
    let mut basket = cart.clone();
    basket.as_object_mut().unwrap().remove("payment");
    send(server, "POST", "/checkout/quote", shopper, &[], &basket)
}

fn promotion(server: &Server, admin: &str, code: &str) -> Reply {
    server.get_as(&format!("/admin/promotions/{code}"), admin)
}

/// The money members of an order or a quote, to compare the two.
fn priced(body: &Value) -> Value {
    let items: Vec<Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!([i["product_id"], i["quantity"], i["unit_price"], i["line_total"], i["discount"]]))
        .collect();
    json!({"items": items, "subtotal": body["subtotal"], "discount": body["discount"], "total": body["total"]})
}

fn every_promotion_rule_holds(server: &Server) {
    let admin = admin(server);
    let buyer = shopper(server);
    let teapot = product(server, &admin, 1999, "USD");
    let euro_pot = product(server, &admin, 500, "EUR");

    // A percentage, found ignoring case, rounded half up, spread over the lines.
    let twenty = code("Twenty");
    created(server, &admin, json!({"code": twenty, "percent_off": 20, "once_per_customer": false}));
    let lower = twenty.to_lowercase();
    let asked = cart(&teapot, 3, Some(&lower), "pm_card_visa");
    let quoted = quote(server, &buyer, &asked);
    assert_eq!(quoted.status, 200, "{:?}", quoted.body);
    let bought = checkout(server, &buyer, &unique("pct"), &asked);
    assert_eq!(bought.status, 201, "{:?}", bought.body);
    assert_eq!(bought.body["subtotal"], money(5997, "USD"));
    assert_eq!(bought.body["discount"], money(1199, "USD"), "5997 × 20 % = 1199.4, half up");
    assert_eq!(bought.body["total"], money(4798, "USD"));
    assert_eq!(bought.body["promo_code"], json!(twenty), "the code as its admin wrote it");
    assert_eq!(bought.body["items"][0]["discount"], money(1199, "USD"));
    assert_eq!(priced(&quoted.body), priced(&bought.body), "the quote is what checkout charged");
    let read = server.get_as(&format!("/orders/{}", bought.body["id"].as_str().unwrap()), &buyer);
    assert_eq!(priced(&read.body), priced(&bought.body));

    // An amount, at most the subtotal: a total of zero is confirmed.
    let five = code("Five");
    created(server, &admin, json!({"code": five, "amount_off": money(500, "USD"), "once_per_customer": false}));
    let cheap = product(server, &admin, 300, "USD");
    let free = checkout(server, &buyer, &unique("amt"), &cart(&cheap, 1, Some(&five), "pm_card_chargeDeclined"));
    assert_eq!(free.status, 201, "nothing to charge, so no decline: {:?}", free.body);
    assert_eq!((free.body["discount"].clone(), free.body["total"].clone()), (money(300, "USD"), money(0, "USD")));
    assert_eq!(free.body["status"], "confirmed");

    // Every refusal, with its reason, stored under the key like any answer.
    let min = code("Min");
    created(
        server,
        &admin,
        json!({"code": min, "percent_off": 10, "min_subtotal": money(5000, "USD"), "once_per_customer": false}),
    );
    let later = code("Later");
    created(
        server,
        &admin,
        json!({"code": later, "percent_off": 10, "starts_at": "2099-01-01T00:00:00Z", "once_per_customer": false}),
    );
    let gone = code("Gone");
    created(
        server,
        &admin,
        json!({"code": gone, "percent_off": 10, "starts_at": "2000-01-01T00:00:00Z", "ends_at": "2001-01-01T00:00:00Z", "once_per_customer": false}),
    );
    let off = code("Off");
    created(server, &admin, json!({"code": off, "percent_off": 10, "once_per_customer": false}));
    let paused = send(
        server,
        "PATCH",
        &format!("/admin/promotions/{off}"),
        &admin,
        &[("If-Match", "\"1\"")],
        &json!({"active": false}),
    );
    assert_eq!(
        (paused.status, paused.body["active"].clone(), paused.header("etag")),
        (200, json!(false), Some("\"2\""))
    );
    let euros = code("Euros");
    created(server, &admin, json!({"code": euros, "amount_off": money(100, "EUR"), "once_per_customer": false}));
    let cases = [
        (cart(&teapot, 2, Some(&min), "pm_card_visa"), "min_subtotal"),
        (cart(&teapot, 1, Some(&later), "pm_card_visa"), "not_started"),
        (cart(&teapot, 1, Some(&gone), "pm_card_visa"), "expired"),
        (cart(&teapot, 1, Some(&off), "pm_card_visa"), "inactive"),
        (cart(&teapot, 1, Some(&euros), "pm_card_visa"), "currency"),
        (cart(&teapot, 1, Some("NO-SUCH-CODE"), "pm_card_visa"), "unknown"),
    ];
    for (asked, reason) in &cases {
        let quoted = quote(server, &buyer, asked);
        quoted.assert_problem(400, "promo_code_invalid");
        assert_eq!(quoted.body["reason"], *reason);
        let key = unique("bad");
        let refused = checkout(server, &buyer, &key, asked);
        refused.assert_problem(400, "promo_code_invalid");
        assert_eq!(refused.body["reason"], *reason);
        let again = checkout(server, &buyer, &key, asked);
        assert_eq!((again.status, again.body.clone()), (400, refused.body.clone()));
        assert_eq!(again.header("idempotent-replayed"), Some("true"), "{reason}: stored under the key");
    }
    let met = checkout(server, &buyer, &unique("min"), &cart(&teapot, 3, Some(&min), "pm_card_visa"));
    assert_eq!((met.status, met.body["discount"].clone()), (201, money(600, "USD")), "5997 meets 5000");
    let euro_cart = checkout(server, &buyer, &unique("eur"), &cart(&euro_pot, 2, Some(&euros), "pm_card_visa"));
    assert_eq!((euro_cart.status, euro_cart.body["total"].clone()), (201, money(900, "EUR")));
    let malformed = quote(server, &buyer, &cart(&teapot, 1, Some("a b"), "pm_card_visa"));
    malformed.assert_problem(400, "validation_failed");

    // The cap, and once per customer: 409, at checkout and in a quote.
    let once = code("Once");
    created(server, &admin, json!({"code": once, "percent_off": 50, "once_per_customer": true}));
    assert_eq!(checkout(server, &buyer, &unique("once"), &cart(&teapot, 1, Some(&once), "pm_card_visa")).status, 201);
    quote(server, &buyer, &cart(&teapot, 1, Some(&once), "pm_card_visa")).assert_problem(409, "promo_code_exhausted");
    checkout(server, &buyer, &unique("twice"), &cart(&teapot, 1, Some(&once), "pm_card_visa"))
        .assert_problem(409, "promo_code_exhausted");
    let other = shopper(server);
    assert_eq!(quote(server, &other, &cart(&teapot, 1, Some(&once), "pm_card_visa")).status, 200, "another customer's");
    let single = code("Single");
    created(
        server,
        &admin,
        json!({"code": single, "percent_off": 5, "max_redemptions": 1, "once_per_customer": false}),
    );
    assert_eq!(checkout(server, &other, &unique("cap"), &cart(&teapot, 1, Some(&single), "pm_card_visa")).status, 201);
    checkout(server, &buyer, &unique("cap"), &cart(&teapot, 1, Some(&single), "pm_card_visa"))
        .assert_problem(409, "promo_code_exhausted");
    quote(server, &buyer, &cart(&teapot, 1, Some(&single), "pm_card_visa")).assert_problem(409, "promo_code_exhausted");

    // The back office: codes unique ignoring case, listed with `redeemed`,
    // edited under If-Match, every write audited.
    create(server, &admin, json!({"code": single.to_lowercase(), "percent_off": 5, "once_per_customer": false}))
        .assert_problem(409, "promotion_exists");
    for bad in [
        json!({"code": code("Both"), "percent_off": 5, "amount_off": money(5, "USD"), "once_per_customer": false}),
        json!({"code": code("Pct"), "percent_off": 0, "once_per_customer": false}),
        json!({"code": "x", "percent_off": 5, "once_per_customer": false}),
        json!({"code": code("Win"), "percent_off": 5, "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z", "once_per_customer": false}),
    ] {
        create(server, &admin, bad).assert_problem(400, "validation_failed");
    }
    let read = promotion(server, &admin, &single.to_uppercase());
    assert_eq!((read.status, read.body["redeemed"].clone(), read.header("etag")), (200, json!(1), Some("\"1\"")));
    let path = format!("/admin/promotions/{single}");
    send(server, "PATCH", &path, &admin, &[], &json!({"max_redemptions": 5}))
        .assert_problem(428, "precondition_required");
    send(server, "PATCH", &path, &admin, &[("If-Match", "\"9\"")], &json!({"max_redemptions": 5}))
        .assert_problem(412, "precondition_failed");
    let raised = send(server, "PATCH", &path, &admin, &[("If-Match", "\"1\"")], &json!({"max_redemptions": 5}));
    assert_eq!(
        (raised.status, raised.body["max_redemptions"].clone(), raised.body["version"].clone()),
        (200, json!(5), json!(2))
    );
    assert_eq!(checkout(server, &buyer, &unique("cap"), &cart(&teapot, 1, Some(&single), "pm_card_visa")).status, 201);
    let below = send(server, "PATCH", &path, &admin, &[("If-Match", "\"2\"")], &json!({"max_redemptions": 1}));
    below.assert_problem(400, "validation_failed");
    shopper_cannot_reach(server, &buyer, &path);
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(c) => format!("/admin/promotions?limit=3&cursor={c}"),
            None => "/admin/promotions?limit=3".to_owned(),
        };
        let page = server.get_as(&page_path, &admin);
        assert_eq!(page.status, 200, "{:?}", page.body);
        listed.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let keys: Vec<String> = listed.iter().map(|p| p["code"].as_str().unwrap().to_uppercase()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "code order");
    let mine = listed.iter().find(|p| p["code"] == json!(single)).expect("listed");
    assert_eq!((mine["redeemed"].clone(), mine["max_redemptions"].clone()), (json!(2), json!(5)));
    let audit = server.get_as("/admin/audit?limit=100", &admin);
    let actions: Vec<(String, String)> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"]["kind"] == "promotion" && e["target"]["id"] == json!(single))
        .map(|e| (e["action"].as_str().unwrap().to_owned(), e["actor"]["email"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(actions.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(), ["promotion.update", "promotion.create"]);
}

fn shopper_cannot_reach(server: &Server, shopper: &str, path: &str) {
    server.get_as(path, shopper).assert_problem(403, "forbidden");
}

fn a_decline_and_a_cancellation_give_the_redemption_back(server: &Server) {
    let admin = admin(server);
    let teapot = product(server, &admin, 1000, "USD");
    let solo = code("Solo");
    created(server, &admin, json!({"code": solo, "percent_off": 10, "max_redemptions": 1, "once_per_customer": true}));
    let ann = shopper(server);
    checkout(server, &ann, &unique("declined"), &cart(&teapot, 1, Some(&solo), "pm_card_chargeDeclined"))
        .assert_problem(402, "payment_declined");
    assert_eq!(promotion(server, &admin, &solo).body["redeemed"], 0, "the decline gave it back");
    let bob = shopper(server);
    let bought = checkout(server, &bob, &unique("won"), &cart(&teapot, 1, Some(&solo), "pm_card_visa"));
    assert_eq!((bought.status, bought.body["discount"].clone()), (201, money(100, "USD")), "{:?}", bought.body);
    checkout(server, &ann, &unique("late"), &cart(&teapot, 1, Some(&solo), "pm_card_visa"))
        .assert_problem(409, "promo_code_exhausted");
    let order = bought.body["id"].as_str().unwrap();
    let cancelled = send(
        server,
        "POST",
        &format!("/orders/{order}/cancel"),
        &bob,
        &[("Idempotency-Key", &unique("cancel"))],
        &json!({}),
    );
    assert_eq!((cancelled.status, cancelled.body["status"].clone()), (200, json!("cancelled")), "{:?}", cancelled.body);
    assert_eq!(cancelled.body["refunds"][0]["amount"], money(900, "USD"), "what was paid, not the subtotal");
    assert_eq!(promotion(server, &admin, &solo).body["redeemed"], 0, "the cancellation gave it back");
    let again = checkout(server, &ann, &unique("again"), &cart(&teapot, 1, Some(&solo), "pm_card_visa"));
    assert_eq!((again.status, again.body["discount"].clone()), (201, money(100, "USD")), "the next checkout gets it");
    let twice = checkout(server, &bob, &unique("bob-again"), &cart(&teapot, 1, Some(&solo), "pm_card_visa"));
    twice.assert_problem(409, "promo_code_exhausted");
}

/// A catalog of `count` teapots at `amount` cents with plenty of stock,
/// for a server of its own (moto copies a whole table for every
/// transaction: races run over small tables).
fn catalog(count: usize, amount: i64) -> (String, Vec<String>) {
    let ids: Vec<String> = (0..count).map(|i| format!("promo-teapot-{i:02}")).collect();
    let lines: Vec<String> = ids
        .iter()
        .map(|id| {
            json!({"id": id, "title": "Promotion teapot", "description": "", "category": "test",
                   "price": money(amount, "USD"), "stock": 10_000, "image_url": null})
            .to_string()
        })
        .collect();
    (lines.join("\n"), ids)
}

fn racing_checkouts_never_redeem_past_the_cap(backend: Backend) {
    let (lines, ids) = catalog(1, 1000);
    let server = &Server::start_with_catalog(backend, &lines);
    let admin = admin(server);
    let teapot = ids[0].clone();
    let first = code("First10");
    created(
        server,
        &admin,
        json!({"code": first, "percent_off": 20, "max_redemptions": 10, "once_per_customer": false}),
    );
    let buyers: Vec<String> = (0..50).map(|_| shopper(server)).collect();
    let answers: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = buyers
            .iter()
            .map(|buyer| {
                let (teapot, first) = (&teapot, &first);
                scope.spawn(move || {
                    checkout(server, buyer, &unique("race"), &cart(teapot, 1, Some(first), "pm_card_visa"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won: Vec<&Reply> = answers.iter().filter(|a| a.status == 201).collect();
    let refused = answers.iter().filter(|a| a.status == 409 && a.code() == "promo_code_exhausted").count();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!((won.len(), refused), (10, 40), "{statuses:?}");
    assert!(won.iter().all(|a| a.body["discount"] == money(200, "USD")));
    assert_eq!(promotion(server, &admin, &first).body["redeemed"], 10);

    // One customer, ten keys at once, a once-per-customer code: one discount.
    let welcome = code("Welcome");
    created(server, &admin, json!({"code": welcome, "percent_off": 15, "once_per_customer": true}));
    let eager = shopper(server);
    let answers: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let (teapot, welcome, eager) = (&teapot, &welcome, &eager);
                scope.spawn(move || {
                    checkout(server, eager, &unique("eager"), &cart(teapot, 1, Some(welcome), "pm_card_visa"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let statuses: Vec<(u16, String)> = answers.iter().map(|a| (a.status, a.code().to_owned())).collect();
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().filter(|(s, _)| *s != 201).all(|(s, c)| *s == 409 && c == "promo_code_exhausted"));
    let orders = server.get_as("/orders?limit=100", &eager);
    let discounted =
        orders.body["items"].as_array().unwrap().iter().filter(|o| o["promo_code"] == json!(welcome)).count();
    assert_eq!(discounted, 1);
}

fn the_largest_cart_checks_out_with_a_capped_once_per_customer_code(backend: Backend) {
    let (lines, products) = catalog(50, 250);
    let server = &Server::start_with_catalog(backend, &lines);
    let admin = admin(server);
    let last = code("Last");
    created(server, &admin, json!({"code": last, "percent_off": 30, "max_redemptions": 2, "once_per_customer": true}));
    let items: Vec<Value> = products.iter().map(|p| json!({"product_id": p, "quantity": 100})).collect();
    let cart = json!({"items": items, "payment": {"token": "pm_card_visa"}, "promo_code": last});
    let buyer = shopper(server);
    let bought = checkout(server, &buyer, &unique("big"), &cart);
    assert_eq!(bought.status, 201, "{:?}", bought.body);
    assert_eq!(bought.body["items"].as_array().unwrap().len(), 50);
    assert_eq!(bought.body["subtotal"], money(1_250_000, "USD"));
    assert_eq!(bought.body["discount"], money(375_000, "USD"));
    assert_eq!(bought.body["total"], money(875_000, "USD"));
    assert_eq!(promotion(server, &admin, &last).body["redeemed"], 1);
    let stock = server.get_as(&format!("/admin/products/{}", products[49]), &admin);
    assert_eq!(stock.body["stock"], 9_900, "all 50 lines taken in the one transaction");
}

// Its own servers: these rules add products the catalog rules would list.
crate::rules_on_shared_servers!(
    pool "admin":
    every_promotion_rule_holds,
    a_decline_and_a_cancellation_give_the_redemption_back,
);

// Servers of their own, over small catalogs.
crate::on_both_backends!(
    racing_checkouts_never_redeem_past_the_cap,
    the_largest_cart_checks_out_with_a_capped_once_per_customer_code,
);
