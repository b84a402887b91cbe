//! The moves after checkout on DynamoDB: each is one `TransactWriteItems`
//! whose first action replaces the order's status and state on condition
//! that its `version` is the one the move was judged on; the stock given
//! back, the notice, the audit entry and the key record ride along. While a
//! refund is being asked of the gateway the order sits in GSI1's sparse
//! `REFUNDING` partition (`<since>#<order id>`), where the settler finds
//! the ones a request left half-way.

use aws_sdk_dynamodb::types::AttributeValue;
use galley_shared::Error;
use galley_shared::orders::{Notice, Order};
use galley_shared::ports::{KeyNote, OrderMove};

use crate::DynamoStore;
use crate::errors::sdk_error;
use crate::item::{n, s};
use crate::orders::{history_value, order_from_item, order_key, record_key, status_partition, update};
use crate::table::{GSI1, GSI1_PARTITION_KEY, GSI1_SORT_KEY, GSI2_PARTITION_KEY};
use crate::transact::Outcome;

const REFUNDING: &str = "REFUNDING";

/// When the oldest refund being asked was asked, if any.
pub(crate) fn refunding_since(order: &Order) -> Option<i64> {
    order.state.pending_refunds.iter().map(|p| p.refund.created_at.unix_timestamp()).min()
}

/// An order's place in the `REFUNDING` partition: since when, then its id.
pub(crate) fn refunding_keys(order: &Order, since: i64) -> (&'static str, String) {
    (REFUNDING, format!("{since:012}#{}", order.id))
}

impl DynamoStore {
    pub(crate) async fn write_move(&self, m: &OrderMove<'_>) -> Result<bool, Error> {
        let order = &m.moved.order;
        let state = serde_json::to_string(&order.state).map_err(Error::internal)?;
        let mut set = vec!["#status = :status", "#listed = :listed", "#state = :state", "version = :version"];
        // Orders placed before versions were kept have none: version 0.
        let condition =
            if order.version == 1 { "attribute_not_exists(version) OR version = :read" } else { "version = :read" };
        let mut change = update(order_key(&order.user_id, &order.id))
            .condition_expression(condition)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#listed", GSI2_PARTITION_KEY)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":status", s(order.status.as_str()))
            .expression_attribute_values(":listed", s(status_partition(order.status)))
            .expression_attribute_values(":state", s(state))
            .expression_attribute_values(":version", n(order.version))
            .expression_attribute_values(":read", n(order.version - 1));
        if let Some(entry) = &m.moved.entry {
            set.push("history = list_append(if_not_exists(history, :none), :entry)");
            change = change
                .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
                .expression_attribute_values(":entry", history_value(std::slice::from_ref(entry))?);
        }
        let remove = match refunding_since(order) {
            Some(since) => {
                let (partition, sort) = refunding_keys(order, since);
                set.push("#gpk = :refunding");
                set.push("#gsk = :since");
                change = change
                    .expression_attribute_values(":refunding", s(partition))
                    .expression_attribute_values(":since", s(sort));
                ""
            }
            None => " REMOVE #gpk, #gsk",
        };
        change = change
            .expression_attribute_names("#gpk", GSI1_PARTITION_KEY)
            .expression_attribute_names("#gsk", GSI1_SORT_KEY)
            .update_expression(format!("SET {}{remove}", set.join(", ")));
        let mut actions = vec![self.table_update(change)?];
        for line in &m.moved.restock {
            actions.push(self.give_back_stock(line)?);
        }
        if let Some(redemption) = &m.moved.redemption_back {
            actions.extend(self.give_back_actions(redemption, &order.user_id)?);
        }
        if let Some(kind) = &m.moved.notice {
            actions.push(self.notice_action(&Notice { kind: kind.clone(), order: order.clone() })?);
        }
        if let Some(audit) = m.audit {
            actions.push(self.audit_action(audit)?);
        }
        match &m.key {
            Some(KeyNote::Complete(hold, response)) => actions.push(self.complete_action(hold, response)?),
            Some(KeyNote::Progress(hold, progress)) => actions.push(
                self.table_update(
                    update(record_key(hold.scope))
                        .update_expression("SET progress = :progress")
                        .condition_expression("claim = :claim AND complete = :zero")
                        .expression_attribute_values(":progress", s(progress))
                        .expression_attribute_values(":claim", s(&hold.lease.0))
                        .expression_attribute_values(":zero", n(0)),
                )?,
            ),
            None => {}
        }
        match self.transact(actions).await? {
            Outcome::Committed => Ok(true),
            // Another move changed the order first: judge it again.
            refused if refused.failed_in(0..1) => Ok(false),
            // The key's lease lapsed: a retry took over.
            Outcome::Refused(_) => Err(Error::RequestInProgress),
        }
    }

    pub(crate) async fn orders_refunding_before(&self, cutoff: i64, limit: usize) -> Result<Vec<Order>, Error> {
        let output = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk AND #sk < :cutoff")
            .expression_attribute_names("#pk", GSI1_PARTITION_KEY)
            .expression_attribute_names("#sk", GSI1_SORT_KEY)
            .expression_attribute_values(":pk", s(REFUNDING))
            .expression_attribute_values(":cutoff", s(format!("{cutoff:012}")))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error("Query", e))?;
        output.items().iter().map(order_from_item).collect()
    }
}
