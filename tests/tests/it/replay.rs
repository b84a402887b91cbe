//! Replays every event in `events/` through its function, in-process, against
//! an embedded store seeded with the demo catalog, and compares the answer
//! with the snapshot kept beside the event (`NAME.expected.json`). An event
//! without a snapshot fails; `GALLEY_UPDATE_SNAPSHOTS=1` writes missing ones
//! for review.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use galley_admin::{AdminFunction, AdminStores};
use galley_checkout::{CheckoutFunction, CheckoutStores};
use galley_embedded::{EmbeddedStore, FileMailer, LocalBlobs, LocalUploadUrls};
use galley_lambda::stores::DEFAULT_PUBLIC_URL;
use galley_login::{AccountStores, LoginFunction};
use galley_payments::Payments;
use galley_payments::SandboxGateway;
use galley_payments::stripe::{StripeClient, StripeEvents};
use galley_receipts::ReceiptsFunction;
use galley_search::SearchFunction;
use galley_shared::admin::{Actor, ImageHost, ProductDesk, PromotionDesk};
use galley_shared::auth::{
    DisplayName, Email, LOGIN_LOCKOUT, Password, PasswordHasher, RefreshToken, Role, SESSION_TTL, Session, User,
    UserProfile,
};
use galley_shared::clock::{Clock, ManualClock};
use galley_shared::id::{OrderId, ProductId};
use galley_shared::id::{SessionId, UploadId, UserId};
use galley_shared::orders::{CartLine, NoticeSender, Order, OrderStatus, price};
use galley_shared::ports::LedgerEntry;
use galley_shared::ports::UploadRecords as _;
use galley_shared::ports::{FixedSecret, SecretSource};
use galley_shared::stock::Quantity;
use galley_shared::uploads::{ArrivalCheck, Upload, UploadStatus};
use galley_tests::contract::pending_upload;
use galley_upload::{CheckFunction, UploadFunction, UploadStores};
use galley_webhook::WebhookFunction;
use secrecy::SecretString;

use galley_http::Handler;
use galley_http::documents::parse_catalog;
use galley_http::request::{REQUEST_ID_HEADER, Request, Response};
use galley_shared::keys::{Keys, SigningKey};
use galley_shared::ports::Catalog;
use galley_shared::ports::{LoginAttempts, Sessions, Users};
use serde_json::{Value, json};
use time::OffsetDateTime;

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

pub(crate) fn event_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for function in std::fs::read_dir(events_dir()).unwrap() {
        let function = function.unwrap().path();
        for entry in std::fs::read_dir(&function).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".json") && !name.ends_with(".expected.json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The replay clock: 2026-11-21T12:00:00Z, the time the events' tokens were
/// minted at (`scripts/make_events.py`).
const REPLAY_TIME: i64 = 1_795_262_400;
const REPLAY_USER: &str = "01JREPLAYUSER0000000000000";
const REPLAY_ADMIN: &str = "01JREPLAYADM1N000000000000";

/// One in-process instance of every function, over one seeded store.
pub(crate) struct Functions {
    search: SearchFunction,
    login: LoginFunction,
    checkout: CheckoutFunction,
    admin: AdminFunction,
    receipts: ReceiptsFunction,
    upload: UploadFunction,
    upload_check: CheckFunction,
    webhook: WebhookFunction,
    data_dir: tempfile::TempDir,
}

/// The webhook's signing secret in the replay (scripts/make_events.py signs with it).
const WEBHOOK_SECRET: &str = "whsec_replay_tests_fixed_secret";

fn refresh_token(session: &str, fill: u8) -> RefreshToken {
    RefreshToken::parse(&format!("{session}.{}", B64URL.encode([fill; 32]))).unwrap()
}

/// The accounts the events speak for: one user, a session per event that
/// needs one (so replay order does not matter), and an email already locked.
async fn seed_accounts(store: &EmbeddedStore, clock: &ManualClock) {
    let profile = UserProfile {
        id: UserId::parse(REPLAY_USER).unwrap(),
        email: Email::parse("replay@example.com").unwrap(),
        name: DisplayName::parse("Replay User").unwrap(),
    };
    let password_hash = PasswordHasher::default().hash(&Password::offered("replay password 123")).unwrap();
    Users::create(store, &User { profile: profile.clone(), password_hash, role: Role::Customer }).await.unwrap();
    let now = clock.unix_now();
    let sessions = [
        ("sess-me", 9),
        ("sess-logout", 9),
        ("sess-refresh", 1),
        ("sess-reuse", 2),
        ("sess-checkout", 9),
        ("sess-upload", 9),
    ];
    for (id, refresh_fill) in sessions {
        let session = Session {
            id: SessionId::parse(id).unwrap(),
            user: profile.clone(),
            refresh_hash: refresh_token(id, refresh_fill).hash(),
            rotations: 0,
            created_at: now,
            expires_at: now + SESSION_TTL.as_secs() as i64,
        };
        Sessions::create(store, &session).await.unwrap();
    }
    let admin = UserProfile {
        id: UserId::parse(REPLAY_ADMIN).unwrap(),
        email: Email::parse("owner@example.com").unwrap(),
        name: DisplayName::parse("Shop Owner").unwrap(),
    };
    let password_hash = PasswordHasher::default().hash(&Password::offered("owner password 123")).unwrap();
    Users::create(store, &User { profile: admin.clone(), password_hash, role: Role::Admin }).await.unwrap();
    let session = Session {
        id: SessionId::parse("sess-admin").unwrap(),
        user: admin,
        refresh_hash: refresh_token("sess-admin", 9).hash(),
        rotations: 0,
        created_at: now,
        expires_at: now + SESSION_TTL.as_secs() as i64,
    };
    Sessions::create(store, &session).await.unwrap();
    let locked = Email::parse("locked@example.com").unwrap();
    for _ in 0..LOGIN_LOCKOUT.max_attempts {
        store.take_attempt(&locked, &LOGIN_LOCKOUT, now).await.unwrap();
    }
}

const REPLAY_ORDER: &str = "01JREPLAYORDER000000000000";
/// The admin's cancel event cancels this one; the customer's, the next.
const REPLAY_ORDER_CANCELLED: &str = "01JREPLAYORDER0CANCE000000";
const REPLAY_ORDER_OWN_CANCEL: &str = "01JREPLAYORDER0WNCANCE0000";

/// A confirmed order whose receipt waits in the outbox, for the stream and
/// the order events.
async fn seed_confirmed_order(store: &EmbeddedStore, clock: &ManualClock, id: &str) {
    let demo_mug = store.product(&ProductId::parse("mug-blue-350").unwrap()).await.unwrap().unwrap();
    let cart = [CartLine { product_id: demo_mug.id.clone(), quantity: Quantity::new(2).unwrap() }];
    let quote = price(&cart, &[demo_mug], None, clock.now()).unwrap();
    let order = Order {
        id: OrderId::parse(id).unwrap(),
        user_id: UserId::parse(REPLAY_USER).unwrap(),
        email: Email::parse("replay@example.com").unwrap(),
        status: OrderStatus::Pending,
        created_at: clock.now(),
        items: quote.items,
        total: quote.total,
        promotion: None,
        history: vec![galley_shared::orders::HistoryEntry::placed(clock.now())],
        state: Default::default(),
        version: 0,
    };
    let key = format!("replay-seed-{id}");
    galley_tests::fixtures::confirmed_order(store, store, &order, &key, clock.unix_now()).await;
    // Charged, as the sandbox gateway records it, so it can be refunded.
    let charged = LedgerEntry::Charged { amount: order.total, reference: format!("ch_sandbox_{id}") };
    galley_shared::ports::ChargeLedger::record(store, &order.id, &charged).await.unwrap();
}

const REPLAY_UPLOAD_PENDING: &str = "01JREPLAYPENDNG00000000000";
const REPLAY_UPLOAD_PNG: &str = "01JREPLAYPNG0000000000000A";
const REPLAY_UPLOAD_TEXT: &str = "01JREPLAYTEXT000000000000A";
const REPLAY_FOREIGN_UPLOAD: &str = "01JREPLAYF0RE1GN000000000A";
const OTHER_USER: &str = "01JREPLAY0THER000000000000";
const REPLAY_ADMIN_PNG: &str = "01JREPLAYADM1NPNG000000000";

/// Admin writes before the events, so the audit log has entries to show,
/// and the promotion `REPLAY10` (10 %, from 20.00, capped at 100).
async fn seed_audit(store: &Arc<EmbeddedStore>, images: ImageHost, clock: Arc<ManualClock>) {
    let desk =
        ProductDesk::new(store.clone(), store.clone(), images, clock.clone(), galley_http::problem::stored_response);
    let actor = Actor { id: UserId::parse(REPLAY_ADMIN).unwrap(), email: Email::parse("owner@example.com").unwrap() };
    let lamp = json!({"id": "replay-seed-lamp", "title": "Brass Reading Lamp", "description": "", "category": "home",
                      "price": {"amount": 8900, "currency": "USD"}, "stock": 4});
    desk.create(&actor, galley_http::documents::admin::new_product(lamp).unwrap()).await.unwrap();
    // Audit ids sort by their millisecond: the second entry in a later one.
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let promotions = PromotionDesk::new(store.clone(), clock);
    let replay10 = json!({"code": "REPLAY10", "percent_off": 10, "min_subtotal": {"amount": 2000, "currency": "USD"},
                          "max_redemptions": 100, "once_per_customer": false});
    promotions.create(&actor, galley_http::documents::promotion::new_promotion(replay10).unwrap()).await.unwrap();
}

/// Uploads the events ask about: one pending, one whose PNG bytes and one
/// whose text bytes have arrived, and one of another user.
async fn seed_uploads(store: &EmbeddedStore, blobs: &LocalBlobs, clock: &ManualClock) {
    let upload = |owner: &str, id: &str| Upload {
        id: UploadId::parse(id).unwrap(),
        created_at: clock.now(),
        ..pending_upload(&UserId::parse(owner).unwrap(), "cat.png")
    };
    for (owner, id) in [
        (REPLAY_USER, REPLAY_UPLOAD_PENDING),
        (REPLAY_USER, REPLAY_UPLOAD_PNG),
        (REPLAY_USER, REPLAY_UPLOAD_TEXT),
        (OTHER_USER, REPLAY_FOREIGN_UPLOAD),
        (REPLAY_ADMIN, REPLAY_ADMIN_PNG),
    ] {
        store.create_upload(&upload(owner, id)).await.unwrap();
    }
    for (owner, id) in [(REPLAY_USER, REPLAY_UPLOAD_PNG), (REPLAY_ADMIN, REPLAY_ADMIN_PNG)] {
        blobs.store(&upload(owner, id).object_key(), galley_tests::fixtures::PNG_1X1).await.unwrap();
    }
    // The admin's image has been checked: stored, ready to become a product's.
    let admin = UserId::parse(REPLAY_ADMIN).unwrap();
    let admin_png = UploadId::parse(REPLAY_ADMIN_PNG).unwrap();
    assert!(store.set_status(&admin, &admin_png, &[UploadStatus::Pending], UploadStatus::Stored).await.unwrap());
    let text = galley_tests::fixtures::text_posing_as_png();
    blobs.store(&upload(REPLAY_USER, REPLAY_UPLOAD_TEXT).object_key(), text).await.unwrap();
}

impl Functions {
    pub(crate) async fn seeded() -> Functions {
        let temp = galley_tests::fixtures::embedded_store();
        let demo = parse_catalog(include_str!("../../../catalog/demo.jsonl"));
        temp.store.upsert(&demo.products).await.unwrap();
        let clock = Arc::new(ManualClock::at(OffsetDateTime::from_unix_timestamp(REPLAY_TIME).unwrap()));
        seed_accounts(&temp.store, &clock).await;
        // A fixed key, so cursors and tokens in events and snapshots are stable.
        let key = SigningKey::new(b"replay-tests-fixed-signing-key-0123456789".to_vec()).unwrap();
        let search = SearchFunction::new(temp.store.clone(), temp.store.clone(), &key);
        let store = temp.store.clone();
        let accounts = AccountStores { users: store.clone(), sessions: store.clone(), attempts: store.clone() };
        let keys = Keys::from_secret(&key);
        let login = LoginFunction::new(accounts, &keys, clock.clone()).unwrap();
        let orders = CheckoutStores::over(store.clone());
        let checkout =
            CheckoutFunction::new(orders, Arc::new(SandboxGateway::new(temp.store.clone())), &keys, clock.clone())
                .unwrap();
        for id in [REPLAY_ORDER, REPLAY_ORDER_CANCELLED, REPLAY_ORDER_OWN_CANCEL] {
            seed_confirmed_order(&temp.store, &clock, id).await;
        }
        let blobs = LocalBlobs::new(temp.dir.path().join("blobs"));
        seed_uploads(&temp.store, &blobs, &clock).await;
        let images = ImageHost::new(temp.store.clone(), Arc::new(blobs.clone()), DEFAULT_PUBLIC_URL);
        seed_audit(&temp.store, images, clock.clone()).await;
        let admin = AdminFunction::new(
            AdminStores {
                users: temp.store.clone(),
                sessions: temp.store.clone(),
                records: temp.store.clone(),
                audit: temp.store.clone(),
                keys: temp.store.clone(),
                book: temp.store.clone(),
                orders: temp.store.clone(),
                uploads: temp.store.clone(),
                blobs: Arc::new(blobs.clone()),
                promotions: temp.store.clone(),
                images_url: DEFAULT_PUBLIC_URL.to_owned(),
            },
            Arc::new(SandboxGateway::new(temp.store.clone())),
            &keys,
            clock.clone(),
        )
        .unwrap();
        let mailer = Arc::new(FileMailer::new(temp.dir.path().join("outbox"), "Galley <receipts@galley.localhost>"));
        let receipts = ReceiptsFunction::new(NoticeSender::new(temp.store.clone(), mailer, clock.clone()));
        let uploads = UploadStores {
            records: temp.store.clone(),
            sessions: temp.store.clone(),
            urls: Arc::new(LocalUploadUrls::new(DEFAULT_PUBLIC_URL, &key)),
        };
        let upload = UploadFunction::new(uploads, &keys, clock.clone());
        let upload_check = CheckFunction::new(ArrivalCheck::new(temp.store.clone(), Arc::new(blobs)));
        // Stripe's events read for real; the orders they name were paid
        // through the sandbox, and the payment events read nothing from
        // Stripe, so its client is never called.
        let stripe_key: Arc<dyn SecretSource> = Arc::new(FixedSecret(SecretString::from("sk_test_replay")));
        let unused = Arc::new(StripeClient::new("http://127.0.0.1:9", stripe_key));
        let payments = Payments {
            gateway: Arc::new(SandboxGateway::new(temp.store.clone())),
            stripe_events: Some(StripeEvents::new(unused)),
        };
        let signing: Arc<dyn SecretSource> = Arc::new(FixedSecret(SecretString::from(WEBHOOK_SECRET)));
        let webhook = WebhookFunction::new(
            galley_shared::orders::EventStores {
                orders: temp.store.clone(),
                book: temp.store.clone(),
                keys: temp.store.clone(),
                applied: temp.store.clone(),
            },
            payments,
            Some(signing),
            clock.clone(),
        );
        Functions { search, login, checkout, admin, receipts, upload, upload_check, webhook, data_dir: temp.dir }
    }

    /// Non-HTTP events (streams, S3) go to their function as JSON.
    async fn call_event(&self, function: &str, event: Value) -> Option<Value> {
        match function {
            "receipts" => Some(self.receipts.handle(serde_json::from_value(event).expect("a stream event")).await),
            // An error fails the invocation, so S3's event is delivered again.
            "upload-check" => {
                let event = serde_json::from_value(event).expect("an S3 event");
                Some(self.upload_check.answer(event).await.unwrap_or_else(|e| json!({"error": e.to_string()})))
            }
            _ => None,
        }
    }

    pub(crate) async fn call(&self, function: &str, request: Request) -> Response {
        match function {
            "search" => self.search.handle(request).await,
            "login" => self.login.handle(request).await,
            "checkout" => self.checkout.handle(request).await,
            "admin" => self.admin.handle(request).await,
            "upload" => self.upload.handle(request).await,
            "webhook" => self.webhook.handle(request).await,
            other => panic!("events/{other}: no such function"),
        }
    }
}

/// Values made fresh on every run (ids, tokens) become placeholders, so a
/// snapshot pins the body's shape and its stable values.
fn normalize(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                match name.as_str() {
                    "access_token" | "refresh_token" if member.is_string() => *member = json!("<token>"),
                    "url" if member.is_string() => *member = json!(normalized_url(member.as_str().unwrap())),
                    _ => normalize(member),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::String(text) if ulid::Ulid::from_string(text).is_ok() && text != REPLAY_USER => *value = json!("<ulid>"),
        _ => {}
    }
}

/// A presigned URL's path with fresh ids as placeholders, and its signature
/// (which covers the fresh id) as one placeholder.
fn normalized_url(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let path: Vec<&str> = path
        .split('/')
        .map(|segment| if ulid::Ulid::from_string(segment).is_ok() { "<ulid>" } else { segment })
        .collect();
    let signed = if query.is_empty() { "" } else { "?<signature>" };
    format!("{}{signed}", path.join("/"))
}

fn snapshot_of(event: &Value, response: &Response) -> Value {
    let mut body: Value = if response.body().is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(response.body()).expect("JSON body")
    };
    normalize(&mut body);
    let gateway_id = event["requestContext"]["requestId"].as_str().unwrap_or_default();
    let request_id = response.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(request_id, gateway_id, "x-request-id carries the gateway's request id");
    let mut headers = serde_json::Map::new();
    for name in
        ["content-type", "allow", "www-authenticate", "retry-after", "cache-control", "idempotent-replayed", "etag"]
    {
        if let Some(value) = response.headers().get(name) {
            headers.insert(name.into(), json!(value.to_str().unwrap()));
        }
    }
    json!({"status": response.status().as_u16(), "headers": headers, "body": body})
}

#[tokio::test]
async fn every_event_answers_as_its_snapshot_says() {
    let functions = Functions::seeded().await;
    let files = event_files();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for file in files {
        let function = file.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let event: Value = serde_json::from_str(&text).unwrap();
        let actual = match functions.call_event(&function, event.clone()).await {
            Some(answer) => json!({ "answer": answer }),
            None => {
                let request = galley_lambda::into_web_request(lambda_http::request::from_str(&text).unwrap());
                snapshot_of(&event, &functions.call(&function, request).await)
            }
        };
        let expected_path = file.with_extension("expected.json");
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) => {
                let expected: Value = serde_json::from_str(&expected).unwrap();
                if expected != actual {
                    failures.push(format!("{}:\n expected {expected}\n actual   {actual}", file.display()));
                }
            }
            Err(_) if std::env::var_os("GALLEY_UPDATE_SNAPSHOTS").is_some() => {
                std::fs::write(&expected_path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
            }
            Err(_) => failures.push(format!("{}: no snapshot; actual {actual}", file.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // What the S3 events did, beyond their answers: text named .png is gone,
    // the real PNG stays.
    let blobs = functions.data_dir.path().join("blobs/uploads").join(REPLAY_USER);
    assert!(!blobs.join(REPLAY_UPLOAD_TEXT).exists(), "rejected bytes are deleted");
    assert!(blobs.join(REPLAY_UPLOAD_PNG).exists());
}
