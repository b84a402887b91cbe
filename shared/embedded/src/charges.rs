//! The sandbox gateway's ledger (`charges`): one row per order, the first
//! outcome recorded.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::id::OrderId;
use galley_shared::money::{Currency, Money};
use galley_shared::ports::{ChargeLedger, LedgerEntry};
use rusqlite::{OptionalExtension, params};

use crate::EmbeddedStore;
use crate::db::store_error;

type Row = (String, Option<i64>, Option<String>, Option<String>);

fn entry_from_row((state, amount, currency, reference): Row) -> Result<LedgerEntry, Error> {
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
}
