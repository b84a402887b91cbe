//! Every customer's orders for the back office, by index: a status through
//! `orders_by_status`, a customer through `orders_by_user`, neither through
//! the primary key; one statement per shape, so each plans onto its index.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::id::OrderId;
use galley_shared::orders::Order;
use galley_shared::ports::{OrderBook, OrderFilter, OrderListing};
use rusqlite::params;

use crate::EmbeddedStore;
use crate::db::store_error;
use crate::orders::{ORDER_COLUMNS, order_from_row, orders_from_rows};

/// Above every order id (ULIDs are Crockford base 32), so "below the
/// cursor" needs no second statement for the first page.
const ABOVE_ALL: &str = "~";

#[async_trait]
impl OrderBook for EmbeddedStore {
    async fn any_order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        let id = id.clone();
        self.db
            .read(move |conn| {
                let mut statement = conn
                    .prepare_cached(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"))
                    .map_err(store_error)?;
                let mut rows = statement.query(params![id.as_str()]).map_err(store_error)?;
                rows.next().map_err(store_error)?.map(order_from_row).transpose()
            })
            .await
    }

    async fn all_orders(
        &self,
        filter: &OrderFilter,
        before: Option<&OrderId>,
        limit: usize,
    ) -> Result<OrderListing, Error> {
        let filter = filter.clone();
        let before = before.map_or_else(|| ABOVE_ALL.to_owned(), |id| id.to_string());
        self.db
            .read(move |conn| {
                let status = filter.status.map(|s| s.as_str());
                let user = filter.user.as_ref().map(|u| u.as_str().to_owned());
                let (condition, value) = match (&user, status) {
                    (Some(user), Some(status)) => {
                        ("user_id = ?3 AND status = ?4 AND", vec![user.clone(), status.into()])
                    }
                    (Some(user), None) => ("user_id = ?3 AND", vec![user.clone()]),
                    (None, Some(status)) => ("status = ?3 AND", vec![status.into()]),
                    (None, None) => ("", Vec::new()),
                };
                let sql =
                    format!("SELECT {ORDER_COLUMNS} FROM orders WHERE {condition} id < ?1 ORDER BY id DESC LIMIT ?2");
                let mut statement = conn.prepare_cached(&sql).map_err(store_error)?;
                let limit = limit as i64;
                let mut values: Vec<&dyn rusqlite::ToSql> = vec![&before, &limit];
                values.extend(value.iter().map(|v| v as &dyn rusqlite::ToSql));
                let rows = statement.query(values.as_slice()).map_err(store_error)?;
                Ok(OrderListing { orders: orders_from_rows(rows)?, read_up_to: None })
            })
            .await
    }
}
