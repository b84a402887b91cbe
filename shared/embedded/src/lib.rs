//! The embedded default: every port over local files, so Galley runs offline
//! with nothing to install. One data dir holds `galley.db` (SQLite, WAL),
//! and later `outbox/` and `blobs/`; several processes may share it.
//!
//! | module              | what it is for                                          |
//! |---------------------|---------------------------------------------------------|
//! | `db`                | the SQLite file: connections, schema, transactions      |
//! | `checkpoint`        | copying the WAL back off the request path               |
//! | `blocking`          | where SQLite and file work runs on the async runtime    |
//! | `catalog`           | products, stock and the search index                    |
//! | `accounts`          | users, sessions and login attempts                      |
//! | `admin`             | the back office: product records, the audit log          |
//! | `orders`            | orders, their lifecycle moves, idempotency records      |
//! | `notices`           | the outbox: one notice per order event, sent once       |
//! | `order_book`        | every customer's orders for the back office, by index   |
//! | `charges`           | the sandbox gateway's ledger                            |
//! | `promotions`        | discount codes, their redemptions and uses              |
//! | `uploads`           | upload records                                          |
//! | `local_blobs`       | upload bytes in `blobs/`                                |
//! | `local_upload_urls` | the local server's signed upload URLs                   |
//! | `file_mailer`       | mail as `.eml` files in `outbox/`                       |
//! | `private_files`     | the data dir is its owner's alone: 0700 dirs, 0600 files |
//! | `signing_key_file`  | the data dir's `signing.key`, made on first start       |
//! | `public_key_file`   | `signing.pub`: the tokens' public keys, kept for starts  |
//! | `backup`            | the data dir as one archive, taken live, and restored    |
//! | `export`            | the data dir read whole, for a move to AWS (`migrate`)   |

mod accounts;
mod admin;
pub mod backup;
mod blocking;
mod catalog;
mod charges;
mod checkpoint;
mod db;
mod export;
mod file_mailer;
mod local_blobs;
mod local_upload_urls;
mod notices;
mod order_book;
mod orders;
pub mod private_files;
mod promotions;
pub mod public_key_file;
pub mod signing_key_file;
mod uploads;

use std::path::{Path, PathBuf};

use galley_shared::Error;

pub use db::Db;
pub use file_mailer::FileMailer;
pub use local_blobs::LocalBlobs;
pub use local_upload_urls::{LocalPut, LocalUploadUrls, PutRefused, URL_PATH_PREFIX};
pub use public_key_file::public_keys;
pub use signing_key_file::load_or_create;

/// All embedded adapters over one data dir.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Db,
    data_dir: PathBuf,
}

impl EmbeddedStore {
    /// Opens (creating if needed) the data dir and its database, running
    /// any pending schema migrations.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, Error> {
        let data_dir = data_dir.as_ref().to_path_buf();
        private_files::create_dir(&data_dir)
            .map_err(|e| Error::internal(format!("create data dir {}: {e}", data_dir.display())))?;
        let db_path = data_dir.join("galley.db");
        private_files::prepare_file(&db_path)
            .map_err(|e| Error::internal(format!("prepare {}: {e}", db_path.display())))?;
        let db = Db::open(&db_path)?;
        Ok(Self { db, data_dir })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}
