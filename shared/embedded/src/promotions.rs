//! Promotions on SQLite. A checkout's redemption is counted in its own
//! transaction (`redeem`, called by `Orders::place`) and given back in a
//! decline's or a cancellation's (`give_back`), so `redeemed` is exactly
//! the orders holding one.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::admin::AuditEntry;
use galley_shared::id::{OrderId, UserId};
use galley_shared::ports::{PromotionChange, Promotions};
use galley_shared::promotions::{PromoCode, Promotion, Redemption};
use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::EmbeddedStore;
use crate::admin::put_audit;
use crate::db::store_error;

pub(crate) const COLUMNS: &str = "doc, redeemed, version";

pub(crate) fn promotion_from_row(row: &Row<'_>) -> Result<Promotion, Error> {
    let doc: String = row.get(0).map_err(store_error)?;
    let mut promotion: Promotion =
        serde_json::from_str(&doc).map_err(|e| Error::internal(format!("corrupt promotion row: {e}")))?;
    promotion.redeemed = u32::try_from(row.get::<_, i64>(1).map_err(store_error)?).map_err(Error::internal)?;
    promotion.version = u64::try_from(row.get::<_, i64>(2).map_err(store_error)?).map_err(Error::internal)?;
    Ok(promotion)
}

/// Counts one redemption of `r` for `order`: refused (`PromoCodeExhausted`,
/// and the caller's transaction rolls back) when the cap is reached or the
/// customer holds a redemption of a once-per-customer code already.
pub(crate) fn redeem(tx: &Transaction<'_>, r: &Redemption, user: &UserId, order: &OrderId) -> Result<(), Error> {
    let key = r.code.key();
    let counted = tx
        .execute(
            "UPDATE promotions SET redeemed = redeemed + 1
             WHERE code_key = ?1 AND (max_redemptions IS NULL OR redeemed < max_redemptions)",
            params![key],
        )
        .map_err(store_error)?;
    if counted == 0 {
        return Err(Error::PromoCodeExhausted);
    }
    if r.once_per_customer {
        let used = tx
            .execute(
                "INSERT INTO promotion_uses (code_key, user_id, order_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                params![key, user.as_str(), order.as_str()],
            )
            .map_err(store_error)?;
        if used == 0 {
            return Err(Error::PromoCodeExhausted);
        }
    }
    Ok(())
}

/// Gives back the redemption `order` holds: one less counted, and the
/// customer's use of a once-per-customer code (only this order's).
pub(crate) fn give_back(tx: &Transaction<'_>, r: &Redemption, user: &UserId, order: &OrderId) -> Result<(), Error> {
    let key = r.code.key();
    tx.execute("UPDATE promotions SET redeemed = MAX(redeemed - 1, 0) WHERE code_key = ?1", params![key])
        .map_err(store_error)?;
    tx.execute(
        "DELETE FROM promotion_uses WHERE code_key = ?1 AND user_id = ?2 AND order_id = ?3",
        params![key, user.as_str(), order.as_str()],
    )
    .map_err(store_error)?;
    Ok(())
}

fn doc(promotion: &Promotion) -> Result<String, Error> {
    serde_json::to_string(promotion).map_err(|e| Error::internal(format!("promotion to JSON: {e}")))
}

#[async_trait]
impl Promotions for EmbeddedStore {
    async fn promotion(&self, code: &PromoCode) -> Result<Option<Promotion>, Error> {
        let key = code.key();
        self.db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(&format!("SELECT {COLUMNS} FROM promotions WHERE code_key = ?1"))
                    .map_err(store_error)?;
                let mut rows = stmt.query(params![key]).map_err(store_error)?;
                rows.next().map_err(store_error)?.map(promotion_from_row).transpose()
            })
            .await
    }

    async fn used(&self, code: &PromoCode, user: &UserId) -> Result<bool, Error> {
        let (key, user) = (code.key(), user.clone());
        self.db
            .read(move |conn| {
                let found: Option<i64> = conn
                    .query_row(
                        "SELECT 1 FROM promotion_uses WHERE code_key = ?1 AND user_id = ?2",
                        params![key, user.as_str()],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(store_error)?;
                Ok(found.is_some())
            })
            .await
    }

    async fn promotions(&self, after: Option<&PromoCode>, limit: usize) -> Result<Vec<Promotion>, Error> {
        let after = after.map(PromoCode::key).unwrap_or_default();
        self.db
            .read(move |conn| {
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM promotions WHERE code_key > ?1 ORDER BY code_key LIMIT ?2"
                    ))
                    .map_err(store_error)?;
                let mut rows = stmt.query(params![after, limit as i64]).map_err(store_error)?;
                let mut found = Vec::new();
                while let Some(row) = rows.next().map_err(store_error)? {
                    found.push(promotion_from_row(row)?);
                }
                Ok(found)
            })
            .await
    }

    async fn write(&self, change: &PromotionChange, audit: &AuditEntry) -> Result<bool, Error> {
        let change = change.clone();
        let audit_doc = serde_json::to_string(audit).map_err(Error::internal)?;
        let audit_id = audit.id.clone();
        self.db
            .write(move |tx| {
                let written = match &change {
                    PromotionChange::Create(p) => tx
                        .execute(
                            "INSERT INTO promotions (code_key, doc, redeemed, max_redemptions, version)
                             VALUES (?1, ?2, 0, ?3, ?4) ON CONFLICT DO NOTHING",
                            params![p.code.key(), doc(p)?, p.max_redemptions, p.version as i64],
                        )
                        .map_err(store_error)?,
                    PromotionChange::Replace(p) => tx
                        .execute(
                            "UPDATE promotions SET doc = ?2, max_redemptions = ?3, version = ?4
                             WHERE code_key = ?1 AND version = ?4 - 1 AND (?3 IS NULL OR redeemed <= ?3)",
                            params![p.code.key(), doc(p)?, p.max_redemptions, p.version as i64],
                        )
                        .map_err(store_error)?,
                };
                if written == 0 {
                    return Ok(false);
                }
                put_audit(tx, &audit_id, &audit_doc)?;
                Ok(true)
            })
            .await
    }
}
