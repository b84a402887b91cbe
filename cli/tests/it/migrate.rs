//! `galley migrate`: a box's shop holding every kind of data, moved into
//! DynamoDB and S3 on moto by a run killed half-way and run again, answers
//! the same HTTP requests the same way on both stores: the catalog, the
//! accounts (logging in with the migrated passwords), the orders with their
//! history, the idempotency records (a checkout retried after the move gets
//! its stored answer), the uploads and images, the back office.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use galley_tests::fixtures::PNG_1X1 as PNG;
use serde_json::{Value, json};

use crate::common::{Backend, GALLEY, Reply, Server};
use crate::uploads_http::{send, ticket};
use crate::webhook_http::{SECRET, card_method, stripe_api, stripe_post};

const PASSWORD: &str = "correct horse battery";
const CDN: &str = "http://cdn.galley.test";
const ADMIN: &str = "owner@move.test";
const CUSTOMERS: [&str; 3] = ["alice@move.test", "bob@move.test", "carol@move.test"];

fn login(server: &Server, email: &str) -> String {
    let login = server.json("POST", "/auth/login", &json!({"email": email, "password": PASSWORD}), None);
    assert_eq!(login.status, 200, "{email} logs in: {:?}", login.body);
    login.body["access_token"].as_str().unwrap().to_owned()
}

fn register(server: &Server, email: &str) -> String {
    let body = json!({"email": email, "password": PASSWORD, "name": email.split('@').next().unwrap()});
    assert_eq!(server.json("POST", "/auth/register", &body, None).status, 201);
    login(server, email)
}

fn post(server: &Server, path: &str, token: &str, key: Option<&str>, body: &Value) -> Reply {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("Content-Type", "application/json"), ("Authorization", auth.as_str())];
    if let Some(key) = key {
        headers.push(("Idempotency-Key", key));
    }
    server.request("POST", path, &headers, body.to_string().as_bytes())
}

fn cart(product: &str, quantity: u32, payment: &str, promo: Option<&str>) -> Value {
    let mut cart = json!({"items": [{"product_id": product, "quantity": quantity}], "payment": {"token": payment}});
    if let Some(code) = promo {
        cart["promo_code"] = json!(code);
    }
    cart
}

fn created(reply: Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    reply.body
}

/// What the box holds before the move; the requests compared after it.
struct Shop {
    orders: Vec<(String, String)>,
    /// A checkout's key and body, retried on both stores after the move.
    retried: (String, Value),
    uploads: Vec<(String, String)>,
    image: String,
    archived: String,
}

/// Builds a shop with every kind of data on the box: accounts, an admin,
/// products made, edited, archived and moved in stock, promotions (one
/// capped, one once per customer), orders confirmed, declined, fulfilled,
/// refunded, cancelled (the sandbox's ledger and refunds), uploads stored
/// and pending, a product image, the audit log, unsent and sent notices.
fn sandbox_shop(server: &Server) -> Shop {
    let admin = register(server, ADMIN);
    let granted = server.backend.command(server.data_dir.path(), &["admin", "grant", ADMIN]).status().unwrap();
    assert!(granted.success());
    let tokens: Vec<String> = CUSTOMERS.iter().map(|email| register(server, email)).collect();
    let (alice, bob) = (&tokens[0], &tokens[1]);

    let code = |body: Value| created(post(server, "/admin/promotions", &admin, None, &body), 201);
    code(json!({"code": "MOVE10", "percent_off": 10, "once_per_customer": true}));
    code(json!({"code": "CAPPED", "amount_off": {"amount": 100, "currency": "USD"}, "max_redemptions": 5,
                "once_per_customer": false}));

    // A product with an image from the admin's upload; one archived.
    let upload = ticket(server, &admin, "mug.png", "image/png", PNG.len() as u64);
    assert_eq!(send(&upload, PNG).0, 200);
    let upload_id = upload.body["id"].as_str().unwrap().to_owned();
    let product = json!({"id": "moved-mug", "title": "Moved mug", "description": "Survives the move",
                         "category": "kitchen", "price": {"amount": 1500, "currency": "USD"}, "stock": 30,
                         "image_upload_id": upload_id});
    let made = created(post(server, "/admin/products", &admin, None, &product), 201);
    let image = made["image_url"].as_str().unwrap().to_owned();
    let stock = json!({"delta": 5, "reason": "recount"});
    created(post(server, "/admin/products/moved-mug/stock", &admin, Some("move-stock-1"), &stock), 200);
    let archived = "mug-blue-350".to_owned();
    let record = server.get_as(&format!("/admin/products/{archived}"), &admin);
    let etag = record.header("etag").unwrap().to_owned();
    let auth = format!("Bearer {admin}");
    let archive = server.request(
        "PATCH",
        &format!("/admin/products/{archived}"),
        &[("Content-Type", "application/json"), ("Authorization", &auth), ("If-Match", &etag)],
        json!({"archived": true}).to_string().as_bytes(),
    );
    assert_eq!(archive.status, 200, "{:?}", archive.body);

    let mut orders = Vec::new();
    let mut order = |token: &str, email: &str, key: &str, body: &Value, status: u16| {
        let placed = created(post(server, "/checkout", token, Some(key), body), status);
        let id = placed["id"].as_str().or(placed["order"]["id"].as_str()).unwrap().to_owned();
        orders.push((email.to_owned(), id.clone()));
        id
    };
    let retried_body = cart("moved-mug", 2, "pm_card_visa", Some("MOVE10"));
    order(alice, CUSTOMERS[0], "move-alice-1", &retried_body, 201);
    let shipped =
        order(alice, CUSTOMERS[0], "move-alice-2", &cart("moved-mug", 1, "pm_card_visa", Some("CAPPED")), 201);
    let refunded = order(bob, CUSTOMERS[1], "move-bob-1", &cart("moved-mug", 3, "pm_card_visa", None), 201);
    let cancelled = order(bob, CUSTOMERS[1], "move-bob-2", &cart("moved-mug", 1, "pm_card_visa", None), 201);
    let declined =
        post(server, "/checkout", bob, Some("move-bob-3"), &cart("moved-mug", 1, "pm_card_chargeDeclined", None));
    assert_eq!(declined.status, 402, "{:?}", declined.body);

    let fulfil = json!({"carrier": "UPS", "tracking_number": "1Z999"});
    created(post(server, &format!("/admin/orders/{shipped}/fulfil"), &admin, Some("move-fulfil-1"), &fulfil), 200);
    let refund = json!({"amount": {"amount": 1500, "currency": "USD"}, "reason": "one was chipped"});
    created(post(server, &format!("/admin/orders/{refunded}/refunds"), &admin, Some("move-refund-1"), &refund), 201);
    created(post(server, &format!("/orders/{cancelled}/cancel"), bob, Some("move-cancel-1"), &json!({})), 200);

    let pending = ticket(server, bob, "later.png", "image/png", PNG.len() as u64);
    assert_eq!(pending.status, 201);
    let uploads =
        vec![(ADMIN.to_owned(), upload_id), (CUSTOMERS[1].to_owned(), pending.body["id"].as_str().unwrap().to_owned())];
    Shop { orders, retried: ("move-alice-1".into(), retried_body), uploads, image, archived }
}

/// A Stripe checkout whose customer authenticates: its PaymentIntent
/// recorded, and the webhook event that confirmed it applied.
fn stripe_order(server: &Server, shop: &mut Shop) {
    let endpoint = format!("http://127.0.0.1:{}/webhooks/stripe", server.port);
    let (status, _) =
        stripe_post(&format!("/_config/webhooks/galley-{}", server.port), &[("url", &endpoint), ("secret", SECRET)]);
    assert_eq!(status, 200, "localstripe takes the webhook");
    let carol = login(server, CUSTOMERS[2]);
    let body = cart("moved-mug", 1, &card_method("4000002500003155"), None);
    let asked = created(post(server, "/checkout", &carol, Some("move-carol-1"), &body), 202);
    let order = asked["order"]["id"].as_str().unwrap().to_owned();
    let secret = asked["next_action"]["client_secret"].as_str().unwrap().to_owned();
    let intent = secret.split("_secret_").next().unwrap().to_owned();
    let path = format!("/v1/payment_intents/{intent}/_authenticate");
    assert_eq!(stripe_post(&path, &[("client_secret", &secret), ("success", "true")]).0, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.get_as(&format!("/orders/{order}"), &carol).body["status"] != "confirmed" {
        assert!(Instant::now() < deadline, "the webhook confirms the order");
        std::thread::sleep(Duration::from_millis(100));
    }
    shop.orders.push((CUSTOMERS[2].to_owned(), order));
}

fn migrate(data_dir: &Path, backend: &Backend, batch: &str) -> Command {
    let Backend::Aws { table, bucket } = backend else { panic!("migrate goes to AWS") };
    let mut command = Command::new(GALLEY);
    command
        .args(["migrate", "--aws", "--batch", batch, "--images-url", CDN, "--from-data-dir"])
        .arg(data_dir)
        .env("TABLE_NAME", table)
        .env("UPLOAD_BUCKET", bucket)
        .env_remove("GALLEY_PUBLIC_URL")
        .env_remove("IMAGES_URL");
    command
}

fn checkpoint(data_dir: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(data_dir.join("migration.json")).ok()?).ok()
}

fn copied(checkpoint: &Value) -> u64 {
    checkpoint["kinds"].as_object().unwrap().values().map(|k| k["copied"].as_u64().unwrap()).sum()
}

/// The counts table `galley migrate` prints: kind → (data dir, aws).
fn counts(stdout: &str) -> Vec<(String, u64, u64)> {
    stdout
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [kind, from, to, ..] => Some((kind.to_string(), from.parse().ok()?, to.parse().ok()?)),
                _ => None,
            }
        })
        .collect()
}

/// An object's bytes, type and caching in the bucket on moto.
fn object(bucket: &str, key: &str) -> (Vec<u8>, Option<String>, Option<String>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let config = galley_aws::load_sdk_config().await;
        let blobs = galley_aws::s3::S3Blobs::new(&config, bucket);
        let head = blobs.client().head_object().bucket(bucket).key(key).send().await.unwrap();
        let bytes = galley_shared::ports::Blobs::read(&blobs, key).await.unwrap().unwrap();
        (bytes.to_vec(), head.content_type().map(str::to_owned), head.cache_control().map(str::to_owned))
    })
}

/// An answer as compared across stores: image URLs on the box's origin
/// are on the CDN's after the move.
fn comparable(reply: &Reply, box_origin: &str) -> (u16, Value) {
    let text = reply.body.to_string().replace(&format!("{box_origin}/images/"), &format!("{CDN}/images/"));
    (reply.status, serde_json::from_str(&text).unwrap())
}

#[test]
fn a_shop_moved_to_aws_half_way_and_again_answers_as_it_did_on_the_box() {
    // The box, first with the sandbox gateway, then with Stripe.
    let server = Server::start(Backend::Embedded);
    let mut shop = sandbox_shop(&server);
    let data_dir = server.stop_keeping_data();
    let api = stripe_api();
    let stripe = [
        ("PAYMENT_GATEWAY", "stripe"),
        ("STRIPE_SECRET_KEY", "sk_test_galley"),
        ("STRIPE_API_BASE", api.as_str()),
        ("STRIPE_WEBHOOK_SECRET", SECRET),
    ];
    let server = Server::start_over_with_env(Backend::Embedded, data_dir, &stripe);
    stripe_order(&server, &mut shop);
    let data_dir = server.stop_keeping_data();
    let dir = data_dir.path().to_path_buf();

    // The move, killed half-way, then run again to the end.
    let aws = Backend::aws();
    let mut first = migrate(&dir, &aws, "1").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while checkpoint(&dir).is_none_or(|c| copied(&c) < 50) {
        assert!(first.try_wait().unwrap().is_none(), "the first run ended before it was killed");
        assert!(Instant::now() < deadline, "the first run made no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    first.kill().unwrap();
    assert!(!first.wait().unwrap().success());
    let stopped = checkpoint(&dir).unwrap();
    let done = |kind: &str| stopped["kinds"][kind]["done"] == true;
    assert!(done("products") && !done("audit"), "killed half-way: {stopped}");

    let second = migrate(&dir, &aws, "7").output().unwrap();
    let stdout = String::from_utf8_lossy(&second.stdout).into_owned();
    assert!(second.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&second.stderr));
    assert!(String::from_utf8_lossy(&second.stderr).contains("resuming"));
    let table = counts(&stdout);
    assert_eq!(table.len(), 14, "every kind counted: {stdout}");
    for (kind, from, to) in &table {
        assert!(*from > 0, "the box holds {kind}: {stdout}");
        assert_eq!(from, to, "{kind}: {stdout}");
    }
    // Run again: nothing left to copy, the same counts.
    let third = migrate(&dir, &aws, "7").output().unwrap();
    assert!(third.status.success());
    assert_eq!(counts(&String::from_utf8_lossy(&third.stdout)), table, "no duplicates");
    // Copying everything again over it changes no count either.
    let again = migrate(&dir, &aws, "50").args(["--restart", "--force"]).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(counts(&String::from_utf8_lossy(&again.stdout)), table, "a record written twice is kept once");

    // Both stores under one key, so their cursors compare equal (a stack
    // seals cursors with its own key: a box's cursor is refused there as stale).
    let aws_dir = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("signing.key"), aws_dir.path().join("signing.key")).unwrap();
    let on_aws = Server::start_over_with_env(aws, aws_dir, &[("IMAGES_URL", CDN)]);
    let on_box = Server::start_over(Backend::Embedded, data_dir);
    let box_origin = shop.image.split("/images/").next().unwrap().to_owned();
    assert!(shop.image.starts_with(&box_origin) && !box_origin.is_empty());

    let admin = (login(&on_box, ADMIN), login(&on_aws, ADMIN));
    let customers: Vec<(String, String)> = CUSTOMERS.iter().map(|e| (login(&on_box, e), login(&on_aws, e))).collect();
    let token_of = |email: &str| {
        let at = CUSTOMERS.iter().position(|c| *c == email);
        at.map_or(&admin, |at| &customers[at])
    };
    let same = |path: &str, tokens: Option<&(String, String)>| {
        let (a, b) = match tokens {
            Some((box_token, aws_token)) => (on_box.get_as(path, box_token), on_aws.get_as(path, aws_token)),
            None => (on_box.get(path), on_aws.get(path)),
        };
        let (a, b) = (comparable(&a, &box_origin), comparable(&b, &box_origin));
        assert_eq!(a, b, "GET {path}: the box, then AWS");
        a
    };

    // The catalog, public and back office.
    assert_eq!(same("/products?limit=100", None).0, 200);
    let moved = same("/products/moved-mug", None).1;
    assert_eq!(moved["image_url"], format!("{CDN}/images/moved-mug/{}", shop.uploads[0].1));
    assert_eq!(same(&format!("/products/{}", shop.archived), None).0, 404);
    same("/products?q=mug", None);
    same("/products?category=kitchen&limit=5", None);
    for path in ["/admin/products?limit=100", "/admin/products?archived=true", "/admin/products/moved-mug"] {
        assert_eq!(same(path, Some(&admin)).0, 200, "{path}");
    }
    // Accounts, orders and their history, promotions, the audit log.
    for email in CUSTOMERS {
        same("/auth/me", Some(token_of(email)));
        assert_eq!(same("/orders?limit=50", Some(token_of(email))).0, 200);
    }
    for (email, order) in &shop.orders {
        assert_eq!(same(&format!("/orders/{order}"), Some(token_of(email))).0, 200);
        assert_eq!(same(&format!("/admin/orders/{order}"), Some(&admin)).0, 200);
    }
    for path in
        ["/admin/orders?limit=50", "/admin/orders?status=refunded", "/admin/promotions", "/admin/audit?limit=100"]
    {
        assert_eq!(same(path, Some(&admin)).0, 200, "{path}");
    }
    assert_eq!(same("/admin/promotions/MOVE10", Some(&admin)).1["redeemed"], 1);
    // Uploads, and the image's bytes where each store serves them.
    for (email, upload) in &shop.uploads {
        assert_eq!(same(&format!("/uploads/{upload}"), Some(token_of(email))).0, 200);
    }
    let key = shop.image.strip_prefix(&format!("{box_origin}/")).unwrap();
    assert_eq!(on_box.get(&format!("/{key}")).bytes, PNG);
    let Backend::Aws { bucket, .. } = &on_aws.backend else { unreachable!() };
    let (bytes, content_type, cache_control) = object(bucket, key);
    assert_eq!(bytes, PNG, "the image is in the bucket");
    assert_eq!(content_type.as_deref(), Some("image/png"));
    assert_eq!(
        cache_control.as_deref(),
        Some(galley_shared::admin::IMAGE_CACHE_CONTROL),
        "served as the stack serves images"
    );

    // The moved records still work: a retried checkout gets its stored
    // answer, a once-per-customer code stays used, and the box's tokens
    // are refused by the stack (sessions are not moved).
    let (key, body) = &shop.retried;
    let retry = |server: &Server, token: &str| {
        let reply = post(server, "/checkout", token, Some(key), body);
        assert_eq!(reply.header("idempotent-replayed"), Some("true"), "{:?}", reply.body);
        (reply.status, reply.body)
    };
    assert_eq!(retry(&on_box, &customers[0].0), retry(&on_aws, &customers[0].1));
    let quote = json!({"items": [{"product_id": "moved-mug", "quantity": 1}], "promo_code": "MOVE10"});
    let quoted = |server: &Server, token: &str| {
        let reply = post(server, "/checkout/quote", token, None, &quote);
        (reply.status, reply.code().to_owned())
    };
    assert_eq!(quoted(&on_box, &customers[0].0), quoted(&on_aws, &customers[0].1));
    assert_eq!(on_aws.get_as("/auth/me", &customers[0].0).status, 401, "a box session is not the stack's");
}
