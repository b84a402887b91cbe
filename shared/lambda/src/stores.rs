//! Picks and builds the adapters once per process, from configuration.

use std::sync::Arc;

#[cfg(feature = "aws")]
use galley_aws::DynamoStore;
#[cfg(feature = "embedded")]
use galley_embedded::{EmbeddedStore, FileMailer, LocalBlobs, LocalUploadUrls};
use galley_shared::Error;
use galley_shared::config::Backend;
use galley_shared::ports::{
    AppliedEvents, AuditLog, Blobs, Catalog, ChargeLedger, FixedSecret, IdempotencyRecords, LoginAttempts, Mailer,
    OrderBook, Orders, Outbox, ProductRecords, Promotions, SearchIndex, SecretSource, Sessions, Stock, UploadRecords,
    UploadUrls, Users,
};

/// One store object serves every port; this picks it, seen through the
/// port's trait (the coercion happens at each method's return type).
macro_rules! port {
    ($stores:expr) => {
        match $stores {
            #[cfg(feature = "embedded")]
            Stores::Embedded(store) => store.clone(),
            #[cfg(feature = "aws")]
            Stores::Aws(store) => store.clone(),
        }
    };
}

/// Where the local server listens unless told otherwise (`galley serve`'s default port).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:3000";

#[cfg(not(any(feature = "embedded", feature = "aws")))]
compile_error!("galley-lambda needs a backend: the `embedded` feature, `aws`, or both");

#[cfg(any(feature = "embedded", feature = "s3"))]
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(feature = "aws")]
fn images_url_in_aws() -> Result<String, Error> {
    #[cfg(feature = "s3")]
    {
        env_var("IMAGES_URL").ok_or_else(|| Error::internal("IMAGES_URL is not set (template.yaml sets it)"))
    }
    #[cfg(not(feature = "s3"))]
    Err(not_built("image hosting"))
}

/// The error of a build asked for an adapter it was compiled without (a
/// function's features name what it uses, so this is a wiring mistake).
#[allow(dead_code)]
fn not_built(what: &str) -> Error {
    Error::internal(format!("this build has no {what}; see the function's cargo features"))
}

/// The adapters behind every port, for one backend.
#[derive(Clone)]
pub enum Stores {
    #[cfg(feature = "embedded")]
    Embedded(Arc<EmbeddedStore>),
    #[cfg(feature = "aws")]
    Aws(Arc<DynamoStore>),
}

impl Stores {
    pub async fn open(backend: &Backend) -> Result<Self, Error> {
        Ok(match backend {
            #[cfg(feature = "embedded")]
            Backend::Embedded { data_dir } => Stores::Embedded(Arc::new(EmbeddedStore::open(data_dir)?)),
            #[cfg(feature = "aws")]
            Backend::Aws { table_name } => {
                let config = galley_aws::load_sdk_config().await;
                Stores::Aws(Arc::new(DynamoStore::new(&config, table_name.as_str())))
            }
            #[cfg(not(feature = "embedded"))]
            Backend::Embedded { .. } => return Err(not_built("embedded store (set TABLE_NAME)")),
            #[cfg(not(feature = "aws"))]
            Backend::Aws { .. } => return Err(not_built("AWS adapters (unset TABLE_NAME)")),
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

    pub fn promotions(&self) -> Arc<dyn Promotions> {
        port!(self)
    }

    pub fn outbox(&self) -> Arc<dyn Outbox> {
        port!(self)
    }

    pub fn charge_ledger(&self) -> Arc<dyn ChargeLedger> {
        port!(self)
    }

    pub fn upload_records(&self) -> Arc<dyn UploadRecords> {
        port!(self)
    }

    pub fn product_records(&self) -> Arc<dyn ProductRecords> {
        port!(self)
    }

    pub fn audit_log(&self) -> Arc<dyn AuditLog> {
        port!(self)
    }

    pub fn order_book(&self) -> Arc<dyn OrderBook> {
        port!(self)
    }

    pub fn applied_events(&self) -> Arc<dyn AppliedEvents> {
        port!(self)
    }

    /// The payment gateway the environment names (`galley_payments`), its
    /// records in this store and its secrets found by `secret`.
    pub fn payments(&self) -> Result<galley_payments::Payments, Error> {
        galley_payments::payments_from_env(self.charge_ledger(), &|name| self.secret(name))
    }

    /// A secret read on first use (the Stripe keys): the variable `name`
    /// itself (locally, or injected), or in AWS the Secrets Manager secret
    /// `<name>_ARN` names, cached for a while; `None` when neither is set.
    pub fn secret(&self, name: &str) -> Result<Option<Arc<dyn SecretSource>>, Error> {
        let value = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        if let Some(plain) = value(name) {
            return Ok(Some(Arc::new(FixedSecret(plain.trim().into()))));
        }
        let Some(arn) = value(&format!("{name}_ARN")) else { return Ok(None) };
        match self {
            #[cfg(feature = "secrets")]
            Stores::Aws(store) => Ok(Some(Arc::new(galley_aws::secrets::ManagedSecret::new(store.sdk_config(), &arn)))),
            #[allow(unreachable_patterns)] // in a build with Secrets Manager and no embedded store
            _ => Err(Error::internal(format!("{name}_ARN={arn} needs the AWS backend built with `secrets`"))),
        }
    }

    /// Where upload bytes live: the S3 bucket named by `UPLOAD_BUCKET` in
    /// AWS, the data dir's `blobs/` on the embedded store.
    pub fn blobs(&self) -> Result<Arc<dyn Blobs>, Error> {
        Ok(match self {
            #[cfg(feature = "embedded")]
            Stores::Embedded(store) => Arc::new(LocalBlobs::new(store.data_dir().join("blobs"))),
            #[cfg(feature = "aws")]
            Stores::Aws(store) => aws::s3(store)?,
        })
    }

    /// Who signs upload URLs: S3 presigning in AWS, with the function's own
    /// credentials; locally the local server's own scheme, with URLs under
    /// `GALLEY_PUBLIC_URL` (default `DEFAULT_PUBLIC_URL`) sealed under a key
    /// derived from the data dir's secret, which that server checks them with.
    pub fn upload_urls(&self) -> Result<Arc<dyn UploadUrls>, Error> {
        Ok(match self {
            #[cfg(feature = "embedded")]
            Stores::Embedded(store) => {
                let public_url = env_var("GALLEY_PUBLIC_URL").unwrap_or_else(|| DEFAULT_PUBLIC_URL.into());
                let secret = galley_embedded::load_or_create(store.data_dir())?;
                Arc::new(LocalUploadUrls::new(&public_url, &secret))
            }
            #[cfg(feature = "aws")]
            Stores::Aws(store) => aws::s3(store)?,
        })
    }

    /// The public origin of product images (`images/...` keys): in AWS the
    /// CloudFront distribution in `IMAGES_URL` (template.yaml sets it);
    /// locally the local server, which serves them itself, at
    /// `GALLEY_PUBLIC_URL` (default `DEFAULT_PUBLIC_URL`).
    pub fn images_url(&self) -> Result<String, Error> {
        match self {
            #[cfg(feature = "embedded")]
            Stores::Embedded(_) => Ok(env_var("GALLEY_PUBLIC_URL").unwrap_or_else(|| DEFAULT_PUBLIC_URL.into())),
            #[cfg(feature = "aws")]
            Stores::Aws(_) => images_url_in_aws(),
        }
    }

    /// The mail adapter that goes with these stores: SES v2 in AWS, `.eml`
    /// files in the data dir's `outbox/` on the embedded store. `from` is the
    /// sender (in AWS a verified SES identity).
    pub fn mailer(&self, from: &str) -> Result<Arc<dyn Mailer>, Error> {
        Ok(match self {
            #[cfg(feature = "embedded")]
            Stores::Embedded(store) => Arc::new(FileMailer::new(store.data_dir().join("outbox"), from)),
            #[cfg(feature = "aws")]
            Stores::Aws(store) => aws::ses(store, from)?,
        })
    }

    /// A short description for start-up logs (no secrets, no credentials).
    pub fn describe(&self) -> String {
        match self {
            #[cfg(feature = "embedded")]
            Stores::Embedded(store) => format!("embedded store in {}", store.data_dir().display()),
            #[cfg(feature = "aws")]
            Stores::Aws(store) => format!("DynamoDB table {}", store.table()),
        }
    }
}

/// The AWS adapters beside DynamoDB, each there only when its feature is.
#[cfg(feature = "aws")]
mod aws {
    use super::*;

    #[cfg(feature = "s3")]
    pub fn s3(store: &DynamoStore) -> Result<Arc<galley_aws::s3::S3Blobs>, Error> {
        let bucket = env_var("UPLOAD_BUCKET").ok_or_else(|| Error::internal("UPLOAD_BUCKET is not set"))?;
        Ok(Arc::new(galley_aws::s3::S3Blobs::new(store.sdk_config(), bucket)))
    }

    #[cfg(not(feature = "s3"))]
    pub fn s3<Port: ?Sized>(_: &DynamoStore) -> Result<Arc<Port>, Error> {
        Err(not_built("S3 adapter"))
    }

    #[cfg(feature = "ses")]
    pub fn ses(store: &DynamoStore, from: &str) -> Result<Arc<dyn Mailer>, Error> {
        Ok(Arc::new(galley_aws::ses::SesMailer::new(store.sdk_config(), from)))
    }

    #[cfg(not(feature = "ses"))]
    pub fn ses(_: &DynamoStore, _: &str) -> Result<Arc<dyn Mailer>, Error> {
        Err(not_built("SES adapter"))
    }
}
