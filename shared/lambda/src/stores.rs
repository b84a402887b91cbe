//! Picks and builds the adapters once per process, from configuration.

use std::sync::Arc;

use galley_aws::DynamoStore;
use galley_aws::s3::S3Blobs;
use galley_aws::ses::SesMailer;
use galley_embedded::{EmbeddedStore, FileMailer, LocalBlobs, LocalUploadUrls};
use galley_shared::Error;
use galley_shared::config::Backend;
use galley_shared::keys::SigningKey;
use galley_shared::ports::{
    Blobs, Catalog, IdempotencyRecords, LoginAttempts, Mailer, Orders, Outbox, SearchIndex, Sessions, Stock,
    UploadRecords, UploadUrls, Users,
};

/// One store object serves every port; this picks it, seen through the
/// port's trait (the coercion happens at each method's return type).
macro_rules! port {
    ($stores:expr) => {
        match $stores {
            Stores::Embedded(store) => store.clone(),
            Stores::Aws(store) => store.clone(),
        }
    };
}

/// Where the local server listens unless told otherwise (`galley serve`'s default port).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:3000";

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn upload_bucket() -> Result<String, Error> {
    env_var("UPLOAD_BUCKET").ok_or_else(|| Error::internal("UPLOAD_BUCKET is not set"))
}

/// The adapters behind every port, for one backend.
#[derive(Clone)]
pub enum Stores {
    Embedded(Arc<EmbeddedStore>),
    Aws(Arc<DynamoStore>),
}

impl Stores {
    pub async fn open(backend: &Backend) -> Result<Self, Error> {
        Ok(match backend {
            Backend::Embedded { data_dir } => Stores::Embedded(Arc::new(EmbeddedStore::open(data_dir)?)),
            Backend::Aws { table_name } => {
                let config = galley_aws::load_sdk_config().await;
                Stores::Aws(Arc::new(DynamoStore::new(&config, table_name.as_str())))
            }
        })
    }

    pub fn catalog(&self) -> Arc<dyn Catalog> {
        port!(self)
    }

    pub fn search_index(&self) -> Arc<dyn SearchIndex> {
        port!(self)
    }

    pub fn stock(&self) -> Arc<dyn Stock> {
        port!(self)
    }

    pub fn users(&self) -> Arc<dyn Users> {
        port!(self)
    }

    pub fn sessions(&self) -> Arc<dyn Sessions> {
        port!(self)
    }

    pub fn login_attempts(&self) -> Arc<dyn LoginAttempts> {
        port!(self)
    }

    pub fn orders(&self) -> Arc<dyn Orders> {
        port!(self)
    }

    pub fn idempotency_records(&self) -> Arc<dyn IdempotencyRecords> {
        port!(self)
    }

    pub fn outbox(&self) -> Arc<dyn Outbox> {
        port!(self)
    }

    pub fn upload_records(&self) -> Arc<dyn UploadRecords> {
        port!(self)
    }

    /// Where upload bytes live: the S3 bucket named by `UPLOAD_BUCKET` in
    /// AWS, the data dir's `blobs/` on the embedded store.
    pub fn blobs(&self) -> Result<Arc<dyn Blobs>, Error> {
        Ok(match self {
            Stores::Embedded(store) => Arc::new(LocalBlobs::new(store.data_dir().join("blobs"))),
            Stores::Aws(store) => Arc::new(S3Blobs::new(store.sdk_config(), upload_bucket()?)),
        })
    }

    /// Who signs upload URLs: S3 presigning in AWS; locally the local server's
    /// own scheme, with URLs under `GALLEY_PUBLIC_URL` (default
    /// `DEFAULT_PUBLIC_URL`).
    pub fn upload_urls(&self, key: &SigningKey) -> Result<Arc<dyn UploadUrls>, Error> {
        Ok(match self {
            Stores::Embedded(_) => {
                let public_url = env_var("GALLEY_PUBLIC_URL").unwrap_or_else(|| DEFAULT_PUBLIC_URL.into());
                Arc::new(LocalUploadUrls::new(&public_url, key))
            }
            Stores::Aws(store) => Arc::new(S3Blobs::new(store.sdk_config(), upload_bucket()?)),
        })
    }

    /// The mail adapter that goes with these stores: SES v2 in AWS, `.eml`
    /// files in the data dir's `outbox/` on the embedded store. `from` is the
    /// sender (in AWS a verified SES identity).
    pub fn mailer(&self, from: &str) -> Arc<dyn Mailer> {
        match self {
            Stores::Embedded(store) => Arc::new(FileMailer::new(store.data_dir().join("outbox"), from)),
            Stores::Aws(store) => Arc::new(SesMailer::new(store.sdk_config(), from)),
        }
    }

    /// A short description for start-up logs (no secrets, no credentials).
    pub fn describe(&self) -> String {
        match self {
            Stores::Embedded(store) => format!("embedded store in {}", store.data_dir().display()),
            Stores::Aws(store) => format!("DynamoDB table {}", store.table()),
        }
    }
}
