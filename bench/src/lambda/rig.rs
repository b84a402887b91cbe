//! Every function, in-process, over one seeded backend: what the warm
//! latency and round-trip measurements call, and what the cold-start
//! processes find in the store when they open it.

use std::sync::Arc;

use galley_checkout::{CheckoutFunction, CheckoutStores};
use galley_http::documents::parse_catalog;
use galley_lambda::Stores;
use galley_login::{AccountStores, LoginFunction};
use galley_payments::SandboxGateway;
use galley_receipts::ReceiptsFunction;
use galley_search::SearchFunction;
use galley_shared::auth::{
    DisplayName, Email, KeyId, Password, PasswordHasher, Role, Session, TokenSigner, User, UserProfile,
};
use galley_shared::clock::{Clock, SystemClock};
use galley_shared::id::{OrderId, ProductId, UploadId, UserId};
use galley_shared::keys::{Keys, SigningKey};
use galley_shared::orders::{CartLine, HistoryEntry, NoticeSender, Order, OrderStatus, price};
use galley_shared::stock::Quantity;
use galley_shared::uploads::{
    ArrivalCheck, Filename, ImageType, MAX_PENDING_UPLOADS, Upload, UploadSize, UploadStatus,
};
use galley_tests::fixtures::{self, PNG_1X1};
use galley_upload::{CheckFunction, UploadFunction, UploadStores};
use time::OffsetDateTime;

/// The product checkouts buy; its stock is raised so no run sells out.
pub const HOT_PRODUCT: &str = "mug-blue-350";
pub const EMAIL: &str = "bench@example.com";
pub const PASSWORD: &str = "bench password 123";
pub const MAIL_FROM: &str = "Galley <receipts@galley.example>";

/// What the seeded store holds for the requests to name.
pub struct Fixture {
    pub user: UserProfile,
    /// Renewed before each phase of a run and each warm route: a full run
    /// outlasts an access token's 15 minutes.
    access_token: std::sync::Mutex<String>,
    pub upload: Upload,
    /// Confirmed orders whose receipts wait in the outbox, with their JSON.
    pub receipts: Vec<(OrderId, String)>,
    pub key: SigningKey,
    /// Who asks for upload tickets: a user may hold only
    /// `MAX_PENDING_UPLOADS` pending ones, and a run asks for thousands, so
    /// each ticket goes to the next of enough fresh users (`expect_uploads`).
    uploaders: std::sync::Mutex<Uploaders>,
}

#[derive(Default)]
struct Uploaders {
    /// How many tickets a run asks for.
    wanted: usize,
    bearers: Vec<String>,
    issued: usize,
}

impl Fixture {
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.access_token.lock().expect("the access token"))
    }

    /// Signs the user in afresh, for the requests from here on, and the
    /// uploaders too (as new users: the earlier ones may be at their cap).
    pub async fn renew_access(&self, stores: &Stores) {
        let (access, _) = self.session(stores).await;
        *self.access_token.lock().expect("the access token") = access;
        let wanted = self.uploaders.lock().expect("uploaders").wanted;
        let users = wanted.div_ceil(MAX_PENDING_UPLOADS - 1);
        let mut bearers = Vec::with_capacity(users);
        for i in 0..users {
            let user = UserProfile {
                id: UserId::generate(),
                email: Email::parse(&format!("uploader-{i}-{}@example.com", ulid::Ulid::new())).unwrap(),
                name: DisplayName::parse("Bench Uploader").unwrap(),
            };
            bearers.push(format!("Bearer {}", start_session(stores, &self.key, &user).await.0));
        }
        let mut uploaders = self.uploaders.lock().expect("uploaders");
        (uploaders.bearers, uploaders.issued) = (bearers, 0);
    }

    /// Prepares for `n` upload tickets between renewals (from the next).
    pub fn expect_uploads(&self, n: usize) {
        self.uploaders.lock().expect("uploaders").wanted = n;
    }

    /// The `Authorization` of the next upload ticket's request: the user's
    /// own while no uploaders are prepared.
    pub fn uploader(&self) -> String {
        let mut uploaders = self.uploaders.lock().expect("uploaders");
        let at = uploaders.issued / (MAX_PENDING_UPLOADS - 1);
        uploaders.issued += 1;
        uploaders.bearers.get(at).cloned().unwrap_or_else(|| self.bearer())
    }

    /// A new session for the same user: its access and refresh tokens.
    pub async fn session(&self, stores: &Stores) -> (String, String) {
        start_session(stores, &self.key, &self.user).await
    }
}

async fn start_session(stores: &Stores, key: &SigningKey, user: &UserProfile) -> (String, String) {
    let now = SystemClock.unix_now();
    let (session, refresh) = Session::start(user.clone(), now);
    stores.sessions().create(&session).await.expect("seed a session");
    let access = TokenSigner::derive(key, &KeyId::first()).issue(&user.id, &session.id, now).expose().to_owned();
    (access, refresh.expose().to_owned())
}

/// Seeds the demo catalog, one account with a session, `receipts` confirmed
/// orders and one upload whose PNG bytes have arrived.
pub async fn seed(stores: &Stores, key: &SigningKey, receipts: usize) -> Fixture {
    let mut demo = parse_catalog(include_str!("../../../catalog/demo.jsonl")).products;
    for product in &mut demo {
        if product.id.as_str() == HOT_PRODUCT {
            product.stock = 900_000_000;
        }
    }
    stores.catalog().upsert(&demo).await.expect("import the demo catalog");
    let user = UserProfile {
        id: UserId::generate(),
        email: Email::parse(EMAIL).unwrap(),
        name: DisplayName::parse("Bench User").unwrap(),
    };
    let password_hash = PasswordHasher::default().hash(&Password::offered(PASSWORD)).unwrap();
    stores
        .users()
        .create(&User { profile: user.clone(), password_hash, role: Role::Customer })
        .await
        .expect("seed the account");
    let (access_token, _) = start_session(stores, key, &user).await;
    let now = SystemClock.unix_now();

    let upload = Upload {
        id: UploadId::generate(),
        owner: user.id.clone(),
        filename: Filename::parse("cat.png").unwrap(),
        content_type: ImageType::Png,
        size: UploadSize::new(PNG_1X1.len() as u64).unwrap(),
        status: UploadStatus::Pending,
        created_at: OffsetDateTime::from_unix_timestamp(now).unwrap(),
    };
    stores.upload_records().create_upload(&upload).await.expect("seed the upload");
    put_blob(stores, &upload.object_key(), PNG_1X1).await;

    let mut seeded = Vec::with_capacity(receipts);
    for _ in 0..receipts {
        seeded.push(confirmed_order(stores, &user).await);
    }
    let uploaders = Default::default();
    Fixture { user, access_token: access_token.into(), upload, receipts: seeded, key: key.clone(), uploaders }
}

async fn put_blob(stores: &Stores, key: &str, bytes: &[u8]) {
    match stores {
        Stores::Embedded(store) => galley_embedded::LocalBlobs::new(store.data_dir().join("blobs"))
            .store(key, bytes.to_vec())
            .await
            .expect("store blob"),
        Stores::Aws(store) => {
            let bucket = std::env::var("UPLOAD_BUCKET").expect("UPLOAD_BUCKET");
            let s3 = galley_aws::s3::S3Blobs::new(store.sdk_config(), bucket.clone());
            s3.client()
                .put_object()
                .bucket(bucket)
                .key(key)
                .content_type("image/png")
                .body(bytes.to_vec().into())
                .send()
                .await
                .expect("put the upload's bytes");
        }
    }
}

/// A confirmed order of one hot product, its receipt waiting in the outbox.
async fn confirmed_order(stores: &Stores, user: &UserProfile) -> (OrderId, String) {
    let now = SystemClock.unix_now();
    let mug = stores.catalog().product(&ProductId::parse(HOT_PRODUCT).unwrap()).await.unwrap().unwrap();
    let cart = [CartLine { product_id: mug.id.clone(), quantity: Quantity::new(1).unwrap() }];
    let quote = price(&cart, &[mug], None, OffsetDateTime::from_unix_timestamp(now).unwrap()).unwrap();
    let mut order = Order {
        id: OrderId::generate(),
        user_id: user.id.clone(),
        email: user.email.clone(),
        status: OrderStatus::Pending,
        created_at: OffsetDateTime::from_unix_timestamp(now).unwrap(),
        items: quote.items,
        total: quote.total,
        promotion: None,
        history: vec![HistoryEntry::placed(OffsetDateTime::from_unix_timestamp(now).unwrap())],
        state: Default::default(),
        version: 0,
    };
    let key = ulid::Ulid::new().to_string();
    fixtures::confirmed_order(&*stores.idempotency_records(), &*stores.orders(), &order, &key, now).await;
    order.status = OrderStatus::Confirmed;
    (order.id.clone(), serde_json::to_string(&order).unwrap())
}

/// Every function, wired as its `main.rs` wires it.
pub struct Functions {
    pub search: SearchFunction,
    pub login: LoginFunction,
    pub checkout: CheckoutFunction,
    pub upload: UploadFunction,
    pub upload_check: CheckFunction,
    pub receipts: ReceiptsFunction,
}

impl Functions {
    pub fn new(stores: &Stores, key: &SigningKey) -> Self {
        let clock = Arc::new(SystemClock);
        let keys = Keys::from_secret(key);
        Functions {
            search: SearchFunction::new(stores.catalog(), stores.search_index(), key),
            login: LoginFunction::new(AccountStores::from(stores), &keys, clock.clone()).expect("login"),
            checkout: CheckoutFunction::new(
                CheckoutStores::from(stores),
                Arc::new(SandboxGateway::new(stores.charge_ledger())),
                &keys,
                clock.clone(),
            )
            .expect("checkout"),
            upload: UploadFunction::new(UploadStores::new(stores).expect("upload stores"), &keys, clock.clone()),
            upload_check: CheckFunction::new(ArrivalCheck::new(
                stores.upload_records(),
                stores.blobs().expect("blobs"),
            )),
            receipts: ReceiptsFunction::new(NoticeSender::new(
                stores.outbox(),
                stores.mailer(MAIL_FROM).expect("a mailer"),
                clock,
            )),
        }
    }
}
