//! Which mailer `galley serve` sends receipts with.

use std::path::Path;
use std::sync::Arc;

use galley_embedded::FileMailer;
use galley_lambda::Stores;
use galley_shared::ports::Mailer;

/// The sender address of receipts (`MAIL_FROM`; in AWS a verified SES identity).
pub fn mail_from() -> String {
    std::env::var("MAIL_FROM").unwrap_or_else(|_| "Galley <receipts@galley.localhost>".into())
}

/// Embedded store: `.eml` files in `<data dir>/outbox/`; AWS: SES v2.
pub fn mailer(stores: &Stores, data_dir: &Path) -> Arc<dyn Mailer> {
    match stores {
        Stores::Embedded(_) => Arc::new(FileMailer::new(data_dir.join("outbox"), mail_from())),
        Stores::Aws(store) => Arc::new(galley_aws::ses::SesMailer::new(store.sdk_config(), mail_from())),
    }
}
