//! The data dir read whole for a move to another store (`galley migrate`):
//! each kind a page at a time in its primary key's order, the key (joined
//! with U+001F where it has two parts) being the position a page resumes
//! after. Rows are read back by the same functions the adapters use.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use galley_shared::Error;
use galley_shared::admin::{AuditEntry, IMAGE_CACHE_CONTROL, IMAGES_PREFIX};
use galley_shared::auth::{DisplayName, Email, PasswordHashString, Role, User, UserProfile};
use galley_shared::id::{OrderId, RefundId, UserId};
use galley_shared::idempotency::{Fingerprint, IdempotencyKey, IdempotencyScope};
use galley_shared::migration::{Blob, Counts, KeyRecord, Kind, Record, StoredOrder};
use galley_shared::money::{Currency, Money};
use galley_shared::ports::{Export, OutboxEntry};
use galley_shared::promotions::PromoCode;
use galley_shared::uploads::ImageType;
use rusqlite::{Connection, Row, params};

use crate::EmbeddedStore;
use crate::admin::{RECORD_COLUMNS, record_from_row};
use crate::blocking::run_blocking;
use crate::catalog::PRODUCT_COLUMNS;
use crate::charges::entry_from_row;
use crate::db::store_error;
use crate::notices::notice_from_doc;
use crate::orders::{ORDER_COLUMNS, order_from_row};
use crate::promotions::{COLUMNS as PROMOTION_COLUMNS, promotion_from_row};
use crate::uploads::restore as upload_from_row;

/// Joins the parts of a two-part key into one position.
const SEPARATOR: char = '\u{1f}';

fn corrupt(kind: Kind, detail: impl std::fmt::Display) -> Error {
    Error::internal(format!("corrupt {kind} row: {detail}"))
}

/// One kind's page query: `?1` (and `?2`) the position, `?3` the clock,
/// `?4` the limit (every query binds all four).
fn query(kind: Kind) -> Option<String> {
    let sql = match kind {
        Kind::Products => format!(
            "SELECT {PRODUCT_COLUMNS}, {RECORD_COLUMNS} FROM products WHERE id > ?1 AND ?2 = ?2 AND ?3 = ?3 \
             ORDER BY id LIMIT ?4"
        ),
        Kind::Users => "SELECT email, id, name, password_hash, role FROM users WHERE email > ?1 AND ?2 = ?2 \
             AND ?3 = ?3 ORDER BY email LIMIT ?4"
            .into(),
        Kind::Promotions => format!(
            "SELECT {PROMOTION_COLUMNS}, code_key FROM promotions WHERE code_key > ?1 AND ?2 = ?2 AND ?3 = ?3 \
             ORDER BY code_key LIMIT ?4"
        ),
        Kind::Orders => format!(
            "SELECT {ORDER_COLUMNS}, idempotency_key, settle_from FROM orders WHERE id > ?1 AND ?2 = ?2 \
             AND ?3 = ?3 ORDER BY id LIMIT ?4"
        ),
        Kind::PromotionUses => "SELECT code_key, user_id, order_id FROM promotion_uses \
             WHERE (code_key, user_id) > (?1, ?2) AND ?3 = ?3 ORDER BY code_key, user_id LIMIT ?4"
            .into(),
        Kind::IdempotencyRecords => "SELECT user_id, key, fingerprint, complete, claim, lease_until, progress, \
             status, body, expires_at, keep_until FROM idempotency \
             WHERE (user_id, key) > (?1, ?2) AND expires_at > ?3 ORDER BY user_id, key LIMIT ?4"
            .into(),
        Kind::Notices => "SELECT order_id, kind, doc, sent_at FROM notices WHERE (order_id, kind) > (?1, ?2) \
             AND ?3 = ?3 ORDER BY order_id, kind LIMIT ?4"
            .into(),
        Kind::Charges => "SELECT order_id, state, amount, currency, reference FROM charges WHERE order_id > ?1 \
             AND ?2 = ?2 AND ?3 = ?3 ORDER BY order_id LIMIT ?4"
            .into(),
        Kind::Refunds => "SELECT refund_id, order_id, amount, currency FROM refunds WHERE refund_id > ?1 \
             AND ?2 = ?2 AND ?3 = ?3 ORDER BY refund_id LIMIT ?4"
            .into(),
        Kind::Intents => "SELECT order_id, intent FROM intents WHERE order_id > ?1 AND ?2 = ?2 AND ?3 = ?3 \
             ORDER BY order_id LIMIT ?4"
            .into(),
        Kind::Events => "SELECT id, expires_at FROM applied_events WHERE id > ?1 AND ?2 = ?2 \
             AND expires_at > ?3 ORDER BY id LIMIT ?4"
            .into(),
        Kind::Uploads => "SELECT owner, id, filename, content_type, size, status, created_at FROM uploads \
             WHERE (owner, id) > (?1, ?2) AND ?3 = ?3 ORDER BY owner, id LIMIT ?4"
            .into(),
        Kind::Audit => "SELECT id, doc FROM audit WHERE id > ?1 AND ?2 = ?2 AND ?3 = ?3 ORDER BY id LIMIT ?4".into(),
        Kind::Blobs => return None,
    };
    Some(sql)
}

/// What `page` counts: the same rows, without the position.
fn count_query(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Products => "SELECT COUNT(*) FROM products WHERE ?1 = ?1",
        Kind::Users => "SELECT COUNT(*) FROM users WHERE ?1 = ?1",
        Kind::Promotions => "SELECT COUNT(*) FROM promotions WHERE ?1 = ?1",
        Kind::Orders => "SELECT COUNT(*) FROM orders WHERE ?1 = ?1",
        Kind::PromotionUses => "SELECT COUNT(*) FROM promotion_uses WHERE ?1 = ?1",
        Kind::IdempotencyRecords => "SELECT COUNT(*) FROM idempotency WHERE expires_at > ?1",
        Kind::Notices => "SELECT COUNT(*) FROM notices WHERE ?1 = ?1",
        Kind::Charges => "SELECT COUNT(*) FROM charges WHERE ?1 = ?1",
        Kind::Refunds => "SELECT COUNT(*) FROM refunds WHERE ?1 = ?1",
        Kind::Intents => "SELECT COUNT(*) FROM intents WHERE ?1 = ?1",
        Kind::Events => "SELECT COUNT(*) FROM applied_events WHERE expires_at > ?1",
        Kind::Uploads => "SELECT COUNT(*) FROM uploads WHERE ?1 = ?1",
        Kind::Audit => "SELECT COUNT(*) FROM audit WHERE ?1 = ?1",
        Kind::Blobs => return None,
    })
}

fn text(row: &Row<'_>, i: usize) -> Result<String, Error> {
    row.get(i).map_err(store_error)
}

/// One row as its position and record. An adapter's own column list comes
/// first where its function reads the row, the rest after it.
fn record(kind: Kind, row: &Row<'_>) -> Result<(String, Record), Error> {
    let bad = |detail: String| corrupt(kind, detail);
    let pair = |a: String, b: String| format!("{a}{SEPARATOR}{b}");
    Ok(match kind {
        Kind::Products => {
            let r = record_from_row(row)?;
            (r.product.id.to_string(), Record::Product(r))
        }
        Kind::Users => {
            let email = text(row, 0)?;
            let profile = UserProfile {
                id: UserId::parse(&text(row, 1)?).map_err(bad)?,
                email: Email::parse(&email).map_err(|e| bad(e.to_string()))?,
                name: DisplayName::parse(&text(row, 2)?).map_err(|e| bad(e.to_string()))?,
            };
            let role: String = text(row, 4)?;
            let user = User {
                profile,
                password_hash: PasswordHashString::from_stored(text(row, 3)?),
                role: Role::from_stored(Some(&role)),
            };
            (email, Record::User(user))
        }
        Kind::Promotions => (text(row, 3)?, Record::Promotion(promotion_from_row(row)?)),
        Kind::Orders => {
            let order = order_from_row(row)?;
            let key: Option<String> = row.get(5).map_err(store_error)?;
            let key = key.map(|k| IdempotencyKey::parse(&k)).transpose().map_err(bad)?;
            let settle_from: i64 = row.get(6).map_err(store_error)?;
            (order.id.to_string(), Record::Order(StoredOrder { order, key, settle_from }))
        }
        Kind::PromotionUses => {
            let (code, user) = (text(row, 0)?, text(row, 1)?);
            let record = Record::PromotionUse {
                code: PromoCode::parse(&code).map_err(bad)?,
                user: UserId::parse(&user).map_err(bad)?,
                order: OrderId::parse(&text(row, 2)?).map_err(bad)?,
            };
            (pair(code, user), record)
        }
        Kind::IdempotencyRecords => {
            let (user, key) = (text(row, 0)?, text(row, 1)?);
            let scope = IdempotencyScope {
                user: UserId::parse(&user).map_err(bad)?,
                key: IdempotencyKey::parse(&key).map_err(bad)?,
            };
            let status: Option<i64> = row.get(7).map_err(store_error)?;
            let body: Option<Vec<u8>> = row.get(8).map_err(store_error)?;
            let record = KeyRecord {
                scope,
                fingerprint: Fingerprint::from_stored(text(row, 2)?),
                complete: row.get::<_, i64>(3).map_err(store_error)? == 1,
                claim: row.get(4).map_err(store_error)?,
                lease_until: row.get(5).map_err(store_error)?,
                progress: row.get(6).map_err(store_error)?,
                status: status.map(u16::try_from).transpose().map_err(|e| bad(e.to_string()))?,
                body: body.map(Bytes::from),
                expires_at: row.get(9).map_err(store_error)?,
                keep_until: row.get(10).map_err(store_error)?,
            };
            (pair(user, key), Record::IdempotencyRecord(record))
        }
        Kind::Notices => {
            let (order, notice_kind) = (text(row, 0)?, text(row, 1)?);
            let sent_at: Option<i64> = row.get(3).map_err(store_error)?;
            let entry = OutboxEntry { notice: notice_from_doc(&text(row, 2)?)?, sent: sent_at.is_some() };
            (pair(order, notice_kind), Record::Notice(entry))
        }
        Kind::Charges => {
            let order = text(row, 0)?;
            let columns = (text(row, 1)?, row.get(2).map_err(store_error)?, row.get(3).map_err(store_error)?, {
                row.get(4).map_err(store_error)?
            });
            let record =
                Record::Charge { order: OrderId::parse(&order).map_err(bad)?, entry: entry_from_row(columns)? };
            (order, record)
        }
        Kind::Refunds => {
            let refund = text(row, 0)?;
            let currency = Currency::parse(&text(row, 3)?).map_err(|e| bad(e.to_string()))?;
            let amount = Money::new(row.get(2).map_err(store_error)?, currency).map_err(|e| bad(e.to_string()))?;
            let record = Record::Refund {
                order: OrderId::parse(&text(row, 1)?).map_err(bad)?,
                refund: RefundId::parse(&refund).map_err(bad)?,
                amount,
            };
            (refund, record)
        }
        Kind::Intents => {
            let order = text(row, 0)?;
            let record = Record::Intent { order: OrderId::parse(&order).map_err(bad)?, intent: text(row, 1)? };
            (order, record)
        }
        Kind::Events => {
            let id = text(row, 0)?;
            (id.clone(), Record::Event { id, expires_at: row.get(1).map_err(store_error)? })
        }
        Kind::Uploads => {
            let columns = (
                text(row, 1)?,
                text(row, 0)?,
                text(row, 2)?,
                text(row, 3)?,
                { row.get(4).map_err(store_error)? },
                text(row, 5)?,
                row.get(6).map_err(store_error)?,
            );
            let upload = upload_from_row(&columns)?;
            (pair(upload.owner.to_string(), upload.id.to_string()), Record::Upload(upload))
        }
        Kind::Audit => {
            let entry: AuditEntry = serde_json::from_str(&text(row, 1)?).map_err(|e| bad(e.to_string()))?;
            (text(row, 0)?, Record::Audit(entry))
        }
        Kind::Blobs => return Err(Error::internal("blobs are files, not rows")),
    })
}

fn page_of_rows(
    conn: &Connection,
    kind: Kind,
    after: Option<&str>,
    limit: usize,
    now: i64,
) -> Result<Vec<(String, Record)>, Error> {
    let sql = query(kind).ok_or_else(|| Error::internal(format!("no query for {kind}")))?;
    let (first, second) = match after.and_then(|a| a.split_once(SEPARATOR)) {
        Some((a, b)) => (a.to_owned(), b.to_owned()),
        None => (after.unwrap_or("").to_owned(), String::new()),
    };
    let mut statement = conn.prepare(&sql).map_err(store_error)?;
    let mut rows = statement.query(params![first, second, now, limit as i64]).map_err(store_error)?;
    let mut page = Vec::new();
    while let Some(row) = rows.next().map_err(store_error)? {
        page.push(record(kind, row)?);
    }
    Ok(page)
}

/// Every blob's key under `root`, sorted (the half-written `.partial`
/// files a store leaves while it writes are not blobs).
fn blob_keys(root: &Path) -> Result<Vec<String>, Error> {
    fn walk(dir: &Path, prefix: &str, keys: &mut Vec<String>) -> std::io::Result<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let key = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if entry.file_type()?.is_dir() {
                walk(&entry.path(), &key, keys)?;
            } else {
                keys.push(key);
            }
        }
        Ok(())
    }
    let mut keys = Vec::new();
    walk(root, "", &mut keys).map_err(|e| Error::unavailable(format!("blob folder: {e}")))?;
    keys.sort();
    Ok(keys)
}

/// An image is served with its type and cached for good; an upload's bytes
/// are read by the check and the image copy only.
fn blob(root: &Path, key: String) -> Result<Blob, Error> {
    let path = key.split('/').fold(root.to_path_buf(), |path, segment| path.join(segment));
    let bytes = std::fs::read(&path).map_err(|e| Error::unavailable(format!("blob {key}: {e}")))?;
    let content_type = ImageType::sniff(&bytes).unwrap_or("application/octet-stream").to_owned();
    let cache_control = key.starts_with(IMAGES_PREFIX).then(|| IMAGE_CACHE_CONTROL.to_owned());
    Ok(Blob { key, bytes: Bytes::from(bytes), content_type, cache_control })
}

impl EmbeddedStore {
    fn blob_root(&self) -> PathBuf {
        self.data_dir().join("blobs")
    }
}

#[async_trait]
impl Export for EmbeddedStore {
    async fn page(
        &self,
        kind: Kind,
        after: Option<&str>,
        limit: usize,
        now: i64,
    ) -> Result<Vec<(String, Record)>, Error> {
        let after = after.map(str::to_owned);
        if kind == Kind::Blobs {
            let root = self.blob_root();
            return run_blocking(move || {
                let keys = blob_keys(&root)?;
                let start = after.map_or(0, |after| keys.partition_point(|k| *k <= after));
                let page = keys.into_iter().skip(start).take(limit);
                page.map(|key| Ok((key.clone(), Record::Blob(blob(&root, key)?)))).collect()
            })
            .await;
        }
        self.db.read(move |conn| page_of_rows(conn, kind, after.as_deref(), limit, now)).await
    }

    async fn counts(&self, now: i64) -> Result<Counts, Error> {
        let root = self.blob_root();
        let blobs = run_blocking(move || blob_keys(&root)).await?.len() as u64;
        let mut counts = self
            .db
            .read(move |conn| {
                let mut counts = Counts::new();
                for kind in Kind::ALL {
                    if let Some(sql) = count_query(kind) {
                        let n: i64 = conn.query_row(sql, [now], |row| row.get(0)).map_err(store_error)?;
                        counts.insert(kind, n as u64);
                    }
                }
                Ok(counts)
            })
            .await?;
        counts.insert(Kind::Blobs, blobs);
        Ok(counts)
    }
}
