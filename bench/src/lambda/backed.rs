//! The two backends a harness run measures, each seeded and with every
//! function wired in-process: the embedded store in a folder, and the AWS
//! adapters on moto (a fresh table, bucket, secret and mail identity), whose
//! SDK calls go through the counting client (`trips`). `env` is what a
//! started function binary needs to open the same store.

use std::path::Path;
use std::sync::Arc;

use galley_lambda::Stores;
use galley_shared::auth::{KeyId, TokenSigner};
use galley_shared::config::Backend;
use galley_shared::keys::SigningKey;

use super::rig::{self, Fixture, Functions, MAIL_FROM};
use super::trips::{self, CallLog};

/// The name of the backend on moto, beside `"embedded"`.
pub const AWS: &str = "aws";

/// The per-run state of one backend.
pub struct Backed {
    pub name: &'static str,
    pub stores: Stores,
    pub fixture: Fixture,
    pub functions: Functions,
    pub bucket: String,
    pub env: Vec<(String, String)>,
    pub calls: Option<CallLog>,
}

pub async fn embedded(dir: &Path, receipts: usize) -> Backed {
    let backend = Backend::Embedded { data_dir: dir.to_owned() };
    let stores = Stores::open(&backend).await.expect("open the embedded store");
    let key = galley_lambda::keys::load_or_create(dir).expect("signing key");
    let fixture = rig::seed(&stores, &key, receipts).await;
    let functions = Functions::new(&stores, &key);
    let env =
        vec![("GALLEY_DATA_DIR".to_owned(), dir.display().to_string()), ("MAIL_FROM".to_owned(), MAIL_FROM.to_owned())];
    Backed { name: "embedded", stores, fixture, functions, bucket: "local".into(), env, calls: None }
}

pub async fn aws(receipts: usize) -> Backed {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL: run me through ./scripts/bench");
    let plain = galley_aws::load_sdk_config().await;
    let (config, calls) = trips::counted(&plain);
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    let table = format!("galley-bench-{suffix}");
    let bucket = format!("galley-bench-{suffix}");
    let client = aws_sdk_dynamodb::Client::new(&plain);
    galley_aws::table::create_table(&client, &table).await.expect("create the table");
    galley_aws::s3::S3Blobs::new(&plain, bucket.clone()).create_bucket().await.expect("create the bucket");
    let secret = format!("bench-signing-key-{suffix}-0123456789abcdef");
    let secrets = aws_sdk_secretsmanager::Client::new(&plain);
    let arn = secrets
        .create_secret()
        .name(format!("galley-bench-{suffix}"))
        .secret_string(&secret)
        .send()
        .await
        .expect("create the signing key secret")
        .arn
        .expect("an ARN");
    aws_sdk_sesv2::Client::new(&plain)
        .create_email_identity()
        .email_identity("galley.example")
        .send()
        .await
        .expect("verify the mail domain");
    // The in-process functions read the bucket as the deployed ones do.
    unsafe { std::env::set_var("UPLOAD_BUCKET", &bucket) };
    let key = SigningKey::new(secret.as_bytes().to_vec()).unwrap();
    let stores = Stores::Aws(Arc::new(galley_aws::DynamoStore::new(&config, table.clone())));
    let fixture = rig::seed(&stores, &key, receipts).await;
    let functions = Functions::new(&stores, &key);
    calls.take();
    let mut env = vec![
        ("TABLE_NAME".to_owned(), table),
        ("UPLOAD_BUCKET".to_owned(), bucket.clone()),
        ("SIGNING_KEY_SECRET_ARN".to_owned(), arn),
        // What the stack hands every function: the public key (its
        // `TokenKeys`), and a cursor key (the same text here, so cursors the
        // in-process functions seal open in the started ones).
        ("GALLEY_TOKEN_PUBLIC_KEYS".to_owned(), TokenSigner::derive(&key, &KeyId::first()).public_key().to_string()),
        ("GALLEY_CURSOR_KEY".to_owned(), secret.clone()),
        ("MAIL_FROM".to_owned(), MAIL_FROM.to_owned()),
        ("AWS_ENDPOINT_URL".to_owned(), endpoint),
    ];
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
        env.push((name.to_owned(), std::env::var(name).unwrap_or_default()));
    }
    Backed { name: AWS, stores, fixture, functions, bucket, env, calls: Some(calls) }
}
