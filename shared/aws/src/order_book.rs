//! Every customer's orders for the back office, never by scanning: a status
//! is one GSI2 partition (`ORDERS#<status>`, sorted by order id), all
//! statuses are those partitions read at once and merged, a customer is
//! their own partition, and an id is found through its `ORDER#<id>` item.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use galley_shared::Error;
use galley_shared::id::{OrderId, UserId};
use galley_shared::orders::{Order, OrderStatus};
use galley_shared::ports::{OrderBook, OrderFilter, OrderListing, Orders};

use crate::DynamoStore;
use crate::errors::sdk_error;
use crate::item::{Reader, s};
use crate::orders::{order_from_item, order_pointer_key, status_partition};
use crate::table::{GSI2, GSI2_PARTITION_KEY, GSI2_SORT_KEY};

fn orders_of(output: &QueryOutput) -> Result<Vec<Order>, Error> {
    output.items().iter().map(order_from_item).collect()
}

fn page_size(limit: usize) -> i32 {
    i32::try_from(limit).unwrap_or(i32::MAX)
}

impl DynamoStore {
    /// One status's orders below `before`, newest first (GSI2: eventually
    /// consistent, as every index read).
    async fn with_status(
        &self,
        status: OrderStatus,
        before: Option<&OrderId>,
        limit: usize,
    ) -> Result<Vec<Order>, Error> {
        let mut query = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(GSI2)
            .scan_index_forward(false)
            .limit(page_size(limit))
            .expression_attribute_names("#pk", GSI2_PARTITION_KEY)
            .expression_attribute_values(":pk", s(status_partition(status)));
        query = match before {
            Some(before) => query
                .key_condition_expression("#pk = :pk AND #sk < :before")
                .expression_attribute_names("#sk", GSI2_SORT_KEY)
                .expression_attribute_values(":before", s(before.as_str())),
            None => query.key_condition_expression("#pk = :pk"),
        };
        orders_of(&query.send().await.map_err(|e| sdk_error("Query", e))?)
    }

    /// One customer's orders below `before`, newest first, those with
    /// `status` only: the page may stop short where its read did.
    pub(crate) async fn of_user(
        &self,
        user: &UserId,
        status: Option<OrderStatus>,
        before: Option<&OrderId>,
        limit: usize,
    ) -> Result<OrderListing, Error> {
        let mut query = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .consistent_read(true)
            .scan_index_forward(false)
            .limit(page_size(limit))
            .expression_attribute_values(":pk", s(format!("ORDERS#{user}")));
        query = match before {
            Some(before) => query
                .key_condition_expression("pk = :pk AND sk < :before")
                .expression_attribute_values(":before", s(format!("ORDER#{before}"))),
            None => query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s("ORDER#")),
        };
        if let Some(status) = status {
            query = query
                .filter_expression("#status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()));
        }
        let output = query.send().await.map_err(|e| sdk_error("Query", e))?;
        let read_up_to = match output.last_evaluated_key() {
            Some(last) => {
                let last = Reader(last);
                let sk = last.s("sk")?;
                let id = sk.strip_prefix("ORDER#").ok_or_else(|| Error::internal("order key without ORDER#"))?;
                Some(OrderId::parse(id).map_err(Error::internal)?)
            }
            None => None,
        };
        Ok(OrderListing { orders: orders_of(&output)?, read_up_to })
    }
}

#[async_trait]
impl OrderBook for DynamoStore {
    async fn any_order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        let pointer = self.read_item(order_pointer_key(id)).await?;
        let Some(item) = pointer.as_ref() else { return Ok(None) };
        let user = UserId::parse(Reader(item).s("user_id")?).map_err(Error::internal)?;
        self.order(&user, id).await
    }

    async fn all_orders(
        &self,
        filter: &OrderFilter,
        before: Option<&OrderId>,
        limit: usize,
    ) -> Result<OrderListing, Error> {
        match (&filter.user, filter.status) {
            (Some(user), status) => self.of_user(user, status, before, limit).await,
            (None, Some(status)) => {
                Ok(OrderListing { orders: self.with_status(status, before, limit).await?, read_up_to: None })
            }
            (None, None) => {
                // The newest `limit` of all are among the newest `limit` of each status.
                let reads = OrderStatus::ALL.map(|status| self.with_status(status, before, limit));
                let mut orders: Vec<Order> =
                    futures_util::future::try_join_all(reads).await?.into_iter().flatten().collect();
                orders.sort_by(|a, b| b.id.as_str().cmp(a.id.as_str()));
                orders.truncate(limit);
                Ok(OrderListing { orders, read_up_to: None })
            }
        }
    }
}
