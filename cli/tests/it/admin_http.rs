//! The Back office of API.md (products, stock, orders, audit) and its roles, over
//! HTTP through `galley serve`, on the embedded store and on DynamoDB (moto).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::common::{Reply, Server};

/// Every admin route, with a body where it takes one.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/admin/products"),
    ("POST", "/admin/products"),
    ("GET", "/admin/products/p-1"),
    ("PATCH", "/admin/products/p-1"),
    ("POST", "/admin/products/p-1/stock"),
    ("GET", "/admin/orders"),
    ("GET", "/admin/orders/o-1"),
    ("GET", "/admin/audit"),
];

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// `galley admin grant|revoke EMAIL` against the server's store.
fn role(server: &Server, change: &str, email: &str) -> bool {
    server.backend.command(server.data_dir.path(), &["admin", change, email]).status().unwrap().success()
}

/// A signed-in admin's token.
fn admin(server: &Server) -> String {
    let email = format!("{}@example.com", unique("admin"));
    let token = server.signed_in(&email);
    assert!(role(server, "grant", &email));
    token
}

fn call(server: &Server, method: &str, path: &str, token: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    let mut all = vec![("Content-Type", "application/json"), ("Authorization", auth.as_str())];
    all.extend_from_slice(headers);
    let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    server.request(method, path, &all, &body)
}

fn new_product(id: &str, title: &str, stock: u32) -> Value {
    json!({"id": id, "title": title, "description": "A back office test", "category": "test",
           "price": {"amount": 2500, "currency": "USD"}, "stock": stock})
}

fn create(server: &Server, token: &str, id: &str, title: &str, stock: u32) -> Reply {
    let created = call(server, "POST", "/admin/products", token, &[], &new_product(id, title, stock));
    assert_eq!(created.status, 201, "{:?}", created.body);
    created
}

fn move_stock(server: &Server, token: &str, id: &str, key: &str, delta: i64) -> Reply {
    let body = json!({"delta": delta, "reason": "count"});
    call(server, "POST", &format!("/admin/products/{id}/stock"), token, &[("Idempotency-Key", key)], &body)
}

/// The audit entries about product `id`, newest first (all pages).
fn audit_of(server: &Server, token: &str, id: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut path = "/admin/audit?limit=100".to_owned();
    loop {
        let page = call(server, "GET", &path, token, &[], &Value::Null);
        assert_eq!(page.status, 200, "{:?}", page.body);
        entries.extend(page.body["items"].as_array().unwrap().iter().filter(|e| e["target"]["id"] == id).cloned());
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/admin/audit?limit=100&cursor={cursor}"),
            None => return entries,
        }
    }
}

/// Every product id an admin listing walks to, page by page.
fn walk_products(server: &Server, token: &str, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = format!("/admin/products?{query}");
    loop {
        let page = call(server, "GET", &path, token, &[], &Value::Null);
        assert_eq!(page.status, 200, "{:?}", page.body);
        ids.extend(page.ids());
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/admin/products?{query}&cursor={cursor}"),
            None => return ids,
        }
    }
}

fn search_ids(server: &Server, q: &str) -> Vec<String> {
    server.get(&format!("/products?q={}&limit=100", q.replace(' ', "+"))).ids()
}

fn roles_guard_every_admin_route(server: &Server) {
    for (method, path) in ROUTES {
        server.request(method, path, &[], b"").assert_problem(401, "unauthorized");
    }
    let email = format!("{}@example.com", unique("owner"));
    let token = server.signed_in(&email);
    assert_eq!(server.get_as("/auth/me", &token).body["user"]["role"], "customer");
    for (method, path) in ROUTES {
        call(server, method, path, &token, &[], &json!({})).assert_problem(403, "forbidden");
    }

    assert!(role(server, "grant", &email));
    let listed = call(server, "GET", "/admin/products", &token, &[], &Value::Null);
    assert_eq!(listed.status, 200, "the same token works at once: {:?}", listed.body);
    assert_eq!(server.get_as("/auth/me", &token).body["user"]["role"], "admin");

    assert!(role(server, "revoke", &email));
    call(server, "GET", "/admin/products", &token, &[], &Value::Null).assert_problem(403, "forbidden");
    assert_eq!(server.get_as("/auth/me", &token).body["user"]["role"], "customer");
    assert!(!role(server, "grant", "nobody-here@example.com"), "granting an unknown account fails");
}

fn products_change_under_if_match_and_search_follows(server: &Server) {
    let token = admin(server);
    let id = unique("lamp");
    let created = create(server, &token, &id, "Brass desk lamp", 5);
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!((created.body["version"].clone(), created.body["archived"].clone()), (json!(1), json!(false)));
    assert_eq!(created.body["stock"], 5);
    call(server, "POST", "/admin/products", &token, &[], &new_product(&id, "Again", 1))
        .assert_problem(409, "product_exists");
    assert!(search_ids(server, "brass desk").contains(&id), "a created product is found at once");

    let path = format!("/admin/products/{id}");
    let read = call(server, "GET", &path, &token, &[], &Value::Null);
    assert_eq!((read.status, read.header("etag")), (200, Some("\"1\"")));
    let rename = json!({"title": "Copper reading light"});
    call(server, "PATCH", &path, &token, &[], &rename).assert_problem(428, "precondition_required");
    for stale in ["\"7\"", "W/\"1\"", "*"] {
        call(server, "PATCH", &path, &token, &[("If-Match", stale)], &rename)
            .assert_problem(412, "precondition_failed");
    }
    let renamed = call(server, "PATCH", &path, &token, &[("If-Match", "\"1\"")], &rename);
    assert_eq!((renamed.status, renamed.header("etag")), (200, Some("\"2\"")), "{:?}", renamed.body);
    assert_eq!(renamed.body["title"], "Copper reading light");
    assert!(search_ids(server, "copper reading").contains(&id), "found by its new words");
    assert!(!search_ids(server, "brass desk").contains(&id), "and not by its old ones");

    let buyer = server.signed_in(&format!("{}@example.com", unique("early")));
    let cart = json!({"items": [{"product_id": id, "quantity": 1}], "payment": {"token": "pm_card_visa"}});
    let bought = call(server, "POST", "/checkout", &buyer, &[("Idempotency-Key", &unique("buy"))], &cart);
    assert_eq!(bought.status, 201, "{:?}", bought.body);
    let order_path = format!("/orders/{}", bought.body["id"].as_str().unwrap());

    let archived = call(server, "PATCH", &path, &token, &[("If-Match", "\"2\"")], &json!({"archived": true}));
    assert_eq!(archived.status, 200, "{:?}", archived.body);
    let kept = server.get_as(&order_path, &buyer);
    assert_eq!((kept.status, &kept.body["items"][0]["product_id"]), (200, &json!(id)), "the order that bought it");
    assert_eq!(kept.body["items"][0]["title"], "Copper reading light");
    let seen = call(server, "GET", &format!("/admin{order_path}"), &token, &[], &Value::Null);
    assert_eq!(seen.body["items"], kept.body["items"], "and the back office's view of it");
    server.get(&format!("/products/{id}")).assert_problem(404, "not_found");
    assert!(!search_ids(server, "copper reading").contains(&id), "an archived product is not found");
    let shopper = server.signed_in(&format!("{}@example.com", unique("shopper")));
    let cart = json!({"items": [{"product_id": id, "quantity": 1}], "payment": {"token": "pm_card_visa"}});
    call(server, "POST", "/checkout", &shopper, &[("Idempotency-Key", &unique("buy"))], &cart)
        .assert_problem(400, "unknown_product");
    let record = call(server, "GET", &path, &token, &[], &Value::Null);
    assert_eq!((record.status, record.body["archived"].clone()), (200, json!(true)));
    let listed =
        |query: &str| call(server, "GET", &format!("/admin/products?{query}"), &token, &[], &Value::Null).ids();
    assert!(listed("archived=true&category=test&limit=100").contains(&id));
    assert!(!listed("archived=false&category=test&limit=100").contains(&id));
    let searched = walk_products(server, &token, "q=copper+readi&limit=5");
    assert!(searched.contains(&id), "the back office finds archived products by their words");
    assert!(!walk_products(server, &token, "q=brass+desk&limit=5").contains(&id), "not by old ones");
    assert!(walk_products(server, &token, "q=copper+reading&archived=false").iter().all(|i| *i != id));

    // One entry per write, newest first; none for the refused ones.
    let entries = audit_of(server, &token, &id);
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["product.update", "product.update", "product.create"]);
    assert_eq!(entries[2]["before"], Value::Null);
    assert_eq!(entries[1]["before"]["title"], "Brass desk lamp");
    assert_eq!(entries[1]["after"]["title"], "Copper reading light");
    assert_eq!(entries[0]["after"]["archived"], true);
    assert!(entries[0]["actor"]["email"].as_str().unwrap().starts_with("admin-"));
}

fn stock_moves_happen_once_per_key(server: &Server) {
    let token = admin(server);
    let id = unique("mug");
    create(server, &token, &id, "Stock test mug", 3);
    let key = unique("move");
    let moved = move_stock(server, &token, &id, &key, -2);
    assert_eq!((moved.status, moved.body.clone()), (200, json!({"product_id": id, "stock": 1})));
    let replay = move_stock(server, &token, &id, &key, -2);
    assert_eq!((replay.status, &replay.body), (200, &moved.body));
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    move_stock(server, &token, &id, &key, -1).assert_problem(422, "idempotency_key_reused");

    let short = unique("move");
    let refused = move_stock(server, &token, &id, &short, -5);
    refused.assert_problem(409, "insufficient_stock");
    assert_eq!(refused.body["available"], 1);
    assert_eq!(move_stock(server, &token, &id, &short, -5).header("idempotent-replayed"), Some("true"));

    let path = format!("/admin/products/{id}/stock");
    call(server, "POST", &path, &token, &[], &json!({"delta": 1, "reason": "x"}))
        .assert_problem(400, "idempotency_key_required");
    call(server, "POST", &path, &token, &[("Idempotency-Key", &unique("move"))], &json!({"delta": 0, "reason": "x"}))
        .assert_problem(400, "validation_failed");
    move_stock(server, &token, "no-such-product", &unique("move"), 1).assert_problem(404, "not_found");

    // Refused by the stock it would reach, not by its shape: stored and replayed.
    let full = unique("full");
    create(server, &token, &full, "Warehouse of mugs", 999_999_999);
    let over = unique("move");
    move_stock(server, &token, &full, &over, 1_000_000).assert_problem(400, "validation_failed");
    let again = move_stock(server, &token, &full, &over, 1_000_000);
    again.assert_problem(400, "validation_failed");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    let record = call(server, "GET", &format!("/admin/products/{id}"), &token, &[], &Value::Null);
    assert_eq!(
        (record.body["stock"].clone(), record.header("etag")),
        (json!(1), Some("\"1\"")),
        "a move leaves the ETag"
    );
    let moves: Vec<Value> =
        audit_of(server, &token, &id).into_iter().filter(|e| e["action"] == "product.stock").collect();
    assert_eq!(moves.len(), 1, "one entry for the one move: {moves:?}");
    assert_eq!((moves[0]["before"]["stock"].clone(), moves[0]["after"]["stock"].clone()), (json!(3), json!(1)));
}

/// 40 checkouts of one unit and 20 moves of -1 race for 30 units: exactly
/// 30 succeed, the rest are 409, and the stock ends at 0. Two PATCHes with
/// the same If-Match: one 200, one 412.
fn sales_and_moves_race_without_overselling(server: &Server) {
    let token = Arc::new(admin(server));
    let shopper = Arc::new(server.signed_in(&format!("{}@example.com", unique("racer"))));
    let id = Arc::new(unique("race"));
    create(server, &token, &id, "Race test kettle", 30);
    let results: Vec<(u16, String)> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for i in 0..60 {
            let (token, shopper, id) = (token.clone(), shopper.clone(), id.clone());
            handles.push(scope.spawn(move || {
                let reply = if i % 3 == 2 {
                    move_stock(server, &token, &id, &unique("race-move"), -1)
                } else {
                    let cart =
                        json!({"items": [{"product_id": *id, "quantity": 1}], "payment": {"token": "pm_card_visa"}});
                    call(server, "POST", "/checkout", &shopper, &[("Idempotency-Key", &unique("race-buy"))], &cart)
                };
                (reply.status, reply.code().to_owned())
            }));
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won = results.iter().filter(|(status, _)| *status == 200 || *status == 201).count();
    let lost: Vec<&(u16, String)> = results.iter().filter(|(status, _)| *status != 200 && *status != 201).collect();
    assert_eq!(won, 30, "{results:?}");
    assert!(
        lost.iter().all(|(status, code)| *status == 409 && (code == "out_of_stock" || code == "insufficient_stock")),
        "{lost:?}"
    );
    let record = call(server, "GET", &format!("/admin/products/{id}"), &token, &[], &Value::Null);
    assert_eq!(record.body["stock"], 0);

    let path = format!("/admin/products/{id}");
    let patches: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["Kettle one", "Kettle two"]
            .into_iter()
            .map(|title| {
                let (token, path) = (token.clone(), path.clone());
                scope.spawn(move || {
                    call(server, "PATCH", &path, &token, &[("If-Match", "\"1\"")], &json!({"title": title})).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = patches.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 412], "{patches:?}");
}

fn buy(server: &Server, shopper: &str, id: &str, card: &str) -> String {
    let cart = json!({"items": [{"product_id": id, "quantity": 1}], "payment": {"token": card}});
    let reply = call(server, "POST", "/checkout", shopper, &[("Idempotency-Key", &unique("buy"))], &cart);
    assert!(reply.status == 201 || reply.status == 402, "{:?}", reply.body);
    match reply.status {
        201 => reply.body["id"].as_str().unwrap().to_owned(),
        // A decline names no order: the shopper's own listing does.
        _ => server.get_as("/orders?limit=1", shopper).body["items"][0]["id"].as_str().unwrap().to_owned(),
    }
}

/// Every order a listing walks to, page by page, with each page's statuses.
fn walk_orders(server: &Server, token: &str, query: &str) -> Vec<Value> {
    let mut orders = Vec::new();
    let mut path = format!("/admin/orders?{query}");
    loop {
        let page = call(server, "GET", &path, token, &[], &Value::Null);
        assert_eq!(page.status, 200, "{:?}", page.body);
        orders.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/admin/orders?{query}&cursor={cursor}"),
            None => return orders,
        }
    }
}

fn order_ids(orders: &[Value]) -> Vec<&str> {
    orders.iter().map(|o| o["id"].as_str().unwrap()).collect()
}

/// The admin sees every customer's orders, newest first, filtered by
/// status and email, each with its history from `pending` on.
fn orders_are_listed_across_customers_with_their_history(server: &Server) {
    let token = admin(server);
    let ann_email = format!("{}@example.com", unique("ann"));
    let (ann, bob) = (server.signed_in(&ann_email), server.signed_in(&format!("{}@example.com", unique("bob"))));
    let id = unique("teapot");
    create(server, &token, &id, "Order listing teapot", 10);
    let first = buy(server, &ann, &id, "pm_card_visa");
    let declined = buy(server, &ann, &id, "pm_card_chargeDeclined");
    let bobs = buy(server, &bob, &id, "pm_card_visa");

    let order = call(server, "GET", &format!("/admin/orders/{first}"), &token, &[], &Value::Null);
    assert_eq!(order.status, 200, "{:?}", order.body);
    assert_eq!((order.body["status"].as_str(), order.body["email"].as_str()), (Some("confirmed"), Some(&*ann_email)));
    let history: Vec<(&str, &str)> = order.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["status"].as_str().unwrap(), h["by"].as_str().unwrap()))
        .collect();
    assert_eq!(history, [("pending", "customer"), ("confirmed", "customer")]);
    let refused = call(server, "GET", &format!("/admin/orders/{declined}"), &token, &[], &Value::Null);
    assert_eq!(refused.body["history"][1]["status"], "declined");
    assert!(server.get_as(&format!("/orders/{first}"), &ann).body.get("history").is_none(), "the customer's view");
    call(server, "GET", "/admin/orders/01J0NOSUCHORDER0000000000", &token, &[], &Value::Null)
        .assert_problem(404, "not_found");

    let shouted = ann_email.to_uppercase().replace('@', "%40");
    let anns = walk_orders(server, &token, &format!("email=%20{shouted}%20&limit=1"));
    assert_eq!(order_ids(&anns), [declined.as_str(), first.as_str()], "exact email, newest first");
    let anns_declined = walk_orders(server, &token, &format!("email={shouted}&status=declined"));
    assert_eq!(order_ids(&anns_declined), [declined.as_str()], "filters combine");
    assert!(walk_orders(server, &token, "email=nobody-at-all%40example.com").is_empty());

    let confirmed = walk_orders(server, &token, "status=confirmed&limit=2");
    assert!(confirmed.iter().all(|o| o["status"] == "confirmed"));
    let listed = order_ids(&confirmed);
    let (at_bob, at_first) = (listed.iter().position(|i| *i == bobs), listed.iter().position(|i| *i == first));
    assert!(at_bob.unwrap() < at_first.unwrap(), "both customers, newest first: {listed:?}");
    let all = walk_orders(server, &token, "limit=3");
    let mut sorted = order_ids(&all);
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(sorted, order_ids(&all), "every order once, newest first");
    assert!([&first, &declined, &bobs].iter().all(|o| order_ids(&all).contains(&o.as_str())));

    for bad in ["status=lost", "email=not-an-email", "limit=0", "cursor=forged"] {
        let reply = call(server, "GET", &format!("/admin/orders?{bad}"), &token, &[], &Value::Null);
        assert_eq!(reply.status, 400, "{bad}: {:?}", reply.body);
    }
}

/// An uploaded PNG attached to a product is served at its `image_url`,
/// byte for byte, typed and cacheable; only the uploader's stored uploads
/// may be attached; `null` removes the image.
fn uploaded_images_become_public_product_images(server: &Server) {
    use crate::uploads_http::{send, settled_status, ticket};
    use galley_tests::fixtures::PNG_1X1 as PNG;

    let token = admin(server);
    let png = ticket(server, &token, "teapot.png", "image/png", PNG.len() as u64);
    assert_eq!(send(&png, PNG).0, 200);
    let upload_id = png.body["id"].as_str().unwrap().to_owned();
    assert_eq!(settled_status(server, &token, &upload_id), "stored");

    let id = unique("pictured");
    let body = json!({"id": id, "title": "Pictured teapot", "description": "", "category": "test",
                      "price": {"amount": 2500, "currency": "USD"}, "stock": 1, "image_upload_id": upload_id});
    let created = call(server, "POST", "/admin/products", &token, &[], &body);
    assert_eq!(created.status, 201, "{:?}", created.body);
    let url = created.body["image_url"].as_str().unwrap().to_owned();
    let path = url.strip_prefix(&format!("http://127.0.0.1:{}", server.port)).expect("served by galley serve");
    assert!(path.starts_with(&format!("/images/{id}/")), "{url}");
    let image = server.get(path);
    assert_eq!(image.status, 200);
    assert_eq!(image.bytes, PNG, "byte for byte");
    assert_eq!(image.header("content-type"), Some("image/png"));
    assert_eq!(image.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(server.get(&format!("/products/{id}")).body["image_url"], url.as_str(), "shown to shoppers");
    server.request("POST", path, &[], b"").assert_problem(405, "method_not_allowed");
    let private = format!("/images/../uploads/{upload_id}");
    assert_eq!(server.get(&private).status, 404, "uploads are never served");

    // Another admin's upload, or one that never arrived, is refused and changes nothing.
    let other = admin(server);
    let theirs = call(
        server,
        "PATCH",
        &format!("/admin/products/{id}"),
        &other,
        &[("If-Match", "\"1\"")],
        &json!({"image_upload_id": upload_id}),
    );
    theirs.assert_problem(400, "validation_failed");
    assert_eq!(theirs.body["errors"][0]["field"], "image_upload_id");
    let pending = ticket(server, &token, "later.png", "image/png", 67);
    let early = call(
        server,
        "PATCH",
        &format!("/admin/products/{id}"),
        &token,
        &[("If-Match", "\"1\"")],
        &json!({"image_upload_id": pending.body["id"]}),
    );
    early.assert_problem(400, "validation_failed");
    assert_eq!(audit_of(server, &token, &id).len(), 1, "only the creation is audited");

    let removed = call(
        server,
        "PATCH",
        &format!("/admin/products/{id}"),
        &token,
        &[("If-Match", "\"1\"")],
        &json!({"image_upload_id": null}),
    );
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    assert_eq!(removed.body["image_url"], Value::Null);
}

// Its own servers: these rules add products the catalog rules would list.
crate::rules_on_shared_servers!(
    pool "admin":
    roles_guard_every_admin_route,
    products_change_under_if_match_and_search_follows,
    stock_moves_happen_once_per_key,
    sales_and_moves_race_without_overselling,
    orders_are_listed_across_customers_with_their_history,
    uploaded_images_become_public_product_images,
);
