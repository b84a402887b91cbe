//! The sandbox gateway's ledger (`charges`): one row per order, the first
//! outcome recorded; and the gateway events applied (`applied_events`).

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::id::{OrderId, RefundId};
use galley_shared::money::{Currency, Money};
use galley_shared::ports::{AppliedEvents, ChargeLedger, LedgerEntry};
use rusqlite::{OptionalExtension, params};

use crate::EmbeddedStore;
use crate::db::store_error;

pub(crate) type Row = (String, Option<i64>, Option<String>, Option<String>);

pub(crate) fn entry_from_row((state, amount, currency, reference): Row) -> Result<LedgerEntry, Error> {
    let corrupt = || Error::internal("corrupt charge row");
    match state.as_str() {
        "charged" => {
            let currency = Currency::parse(&currency.ok_or_else(corrupt)?).map_err(Error::internal)?;
            let amount = Money::new(amount.ok_or_else(corrupt)?, currency).map_err(Error::internal)?;
            Ok(LedgerEntry::Charged { amount, reference: reference.ok_or_else(corrupt)? })
        }
        "declined" => Ok(LedgerEntry::Declined),
        "closed" => Ok(LedgerEntry::Closed),
        _ => Err(corrupt()),
    }
}

const SELECT: &str = "SELECT state, amount, currency, reference FROM charges WHERE order_id = ?1";

#[async_trait]
impl ChargeLedger for EmbeddedStore {
    async fn record(&self, order: &OrderId, entry: &LedgerEntry) -> Result<LedgerEntry, Error> {
        let (order, entry) = (order.clone(), entry.clone());
        self.db
            .write(move |tx| {
                let (state, amount, currency, reference) = match &entry {
                    LedgerEntry::Charged { amount, reference } => {
                        ("charged", Some(amount.amount), Some(amount.currency.as_str()), Some(reference.as_str()))
                    }
                    LedgerEntry::Declined => ("declined", None, None, None),
                    LedgerEntry::Closed => ("closed", None, None, None),
                };
                tx.execute(
                    "INSERT INTO charges (order_id, state, amount, currency, reference) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (order_id) DO NOTHING",
                    params![order.as_str(), state, amount, currency, reference],
                )
                .map_err(store_error)?;
                let row: Row = tx
                    .query_row(SELECT, [order.as_str()], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
                    .map_err(store_error)?;
                entry_from_row(row)
            })
            .await
    }

    async fn recorded(&self, order: &OrderId) -> Result<Option<LedgerEntry>, Error> {
        let order = order.clone();
        self.db
            .read(move |conn| {
                let row: Option<Row> = conn
                    .query_row(SELECT, [order.as_str()], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
                    .optional()
                    .map_err(store_error)?;
                row.map(entry_from_row).transpose()
            })
            .await
    }

    async fn record_refund(&self, order: &OrderId, refund: &RefundId, amount: Money) -> Result<Money, Error> {
        let (order, refund) = (order.clone(), refund.clone());
        self.db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO refunds (refund_id, order_id, amount, currency) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (refund_id) DO NOTHING",
                    params![refund.as_str(), order.as_str(), amount.amount, amount.currency.as_str()],
                )
                .map_err(store_error)?;
                let (amount, currency): (i64, String) = tx
                    .query_row("SELECT amount, currency FROM refunds WHERE refund_id = ?1", [refund.as_str()], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .map_err(store_error)?;
                Money::new(amount, Currency::parse(&currency).map_err(Error::internal)?).map_err(Error::internal)
            })
            .await
    }

    async fn record_intent(&self, order: &OrderId, intent: &str) -> Result<String, Error> {
        let (order, intent) = (order.clone(), intent.to_owned());
        self.db
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO intents (order_id, intent) VALUES (?1, ?2) ON CONFLICT (order_id) DO NOTHING",
                    params![order.as_str(), intent],
                )
                .map_err(store_error)?;
                tx.query_row("SELECT intent FROM intents WHERE order_id = ?1", [order.as_str()], |row| row.get(0))
                    .map_err(store_error)
            })
            .await
    }

    async fn intent(&self, order: &OrderId) -> Result<Option<String>, Error> {
        let order = order.clone();
        self.db
            .read(move |conn| {
                conn.query_row("SELECT intent FROM intents WHERE order_id = ?1", [order.as_str()], |row| row.get(0))
                    .optional()
                    .map_err(store_error)
            })
            .await
    }

    async fn replace_intent(&self, order: &OrderId, from: &str, to: &str) -> Result<String, Error> {
        let (order, from, to) = (order.clone(), from.to_owned(), to.to_owned());
        self.db
            .write(move |tx| {
                tx.execute(
                    "UPDATE intents SET intent = ?3 WHERE order_id = ?1 AND intent = ?2",
                    params![order.as_str(), from, to],
                )
                .map_err(store_error)?;
                tx.query_row("SELECT intent FROM intents WHERE order_id = ?1", [order.as_str()], |row| row.get(0))
                    .map_err(store_error)
            })
            .await
    }

    async fn refunds(&self, order: &OrderId) -> Result<Vec<(RefundId, Money)>, Error> {
        let order = order.clone();
        self.db
            .read(move |conn| {
                let mut statement = conn
                    .prepare_cached(
                        "SELECT refund_id, amount, currency FROM refunds WHERE order_id = ?1 ORDER BY refund_id",
                    )
                    .map_err(store_error)?;
                let rows = statement
                    .query_map([order.as_str()], |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?))
                    })
                    .map_err(store_error)?;
                rows.map(|row| {
                    let (id, amount, currency) = row.map_err(store_error)?;
                    let currency = Currency::parse(&currency).map_err(Error::internal)?;
                    Ok((
                        RefundId::parse(&id).map_err(Error::internal)?,
                        Money::new(amount, currency).map_err(Error::internal)?,
                    ))
                })
                .collect()
            })
            .await
    }
}

#[async_trait]
impl AppliedEvents for EmbeddedStore {
    async fn applied(&self, event: &str) -> Result<bool, Error> {
        let event = event.to_owned();
        self.db
            .read(move |conn| {
                let found: Option<i64> = conn
                    .query_row("SELECT 1 FROM applied_events WHERE id = ?1", [event.as_str()], |row| row.get(0))
                    .optional()
                    .map_err(store_error)?;
                Ok(found.is_some())
            })
            .await
    }

    async fn record_applied(&self, event: &str, expires_at: i64) -> Result<(), Error> {
        let event = event.to_owned();
        self.db
            .write(move |tx| {
                // Expired ids go as new ones come, as DynamoDB's TTL does.
                tx.execute("DELETE FROM applied_events WHERE expires_at < unixepoch()", []).map_err(store_error)?;
                tx.execute(
                    "INSERT INTO applied_events (id, expires_at) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
                    params![event.as_str(), expires_at],
                )
                .map_err(store_error)?;
                Ok(())
            })
            .await
    }
}
