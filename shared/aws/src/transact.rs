//! DynamoDB transactions, in one place: the runner, the reading of a
//! cancelled transaction's reasons, the stock updates every transaction
//! that moves stock carries.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use galley_shared::Error;
use galley_shared::metrics::{self, Fault};
use galley_shared::stock::{Shortage, StockLine};

use crate::DynamoStore;
use crate::catalog::product_key;
use crate::errors::sdk_error;
use crate::item::{Item, Reader, n};

/// The policy of every retry in this crate (unprocessed batch items,
/// conflicting transactions, contended conditional updates): the domain's
/// one backoff policy.
pub(crate) use galley_shared::backoff::RETRY;

/// The one cancellation reason that is a condition failure.
const CONDITION_FAILED: &str = "ConditionalCheckFailed";
/// Cancellation reasons that pass: another transaction, or throttling.
const RETRIED: &[&str] = &["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"];

/// The reasons among `RETRIED` that are throttling: counted when they
/// outlast the retries (`DependencyErrors`).
const THROTTLED: &[&str] = &["ThrottlingError", "ProvisionedThroughputExceeded"];

/// How one action of a refused transaction fared.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ActionReason {
    /// Its condition held (another action's did not).
    Held,
    /// Its condition failed; the item as it was, if there was one.
    ConditionFailed(Option<Item>),
}

impl ActionReason {
    fn of(reason: &aws_sdk_dynamodb::types::CancellationReason) -> Self {
        match reason.code() {
            Some(CONDITION_FAILED) => ActionReason::ConditionFailed(reason.item().cloned()),
            _ => ActionReason::Held,
        }
    }
}

/// What a transaction came to.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Outcome {
    Committed,
    /// A condition failed, so nothing was written: one reason per action, in order.
    Refused(Vec<ActionReason>),
}

impl Outcome {
    /// The reasons of the actions in `range` (fewer if DynamoDB sent fewer).
    pub fn reasons(&self, range: std::ops::Range<usize>) -> &[ActionReason] {
        match self {
            Outcome::Committed => &[],
            Outcome::Refused(reasons) => reasons.get(range.start..range.end.min(reasons.len())).unwrap_or(&[]),
        }
    }

    /// Whether any action in `range` failed its condition.
    pub fn failed_in(&self, range: std::ops::Range<usize>) -> bool {
        self.reasons(range).iter().any(|r| matches!(r, ActionReason::ConditionFailed(_)))
    }
}

impl DynamoStore {
    /// Runs a transaction. A failed condition is `Refused`, with each
    /// action's reason. Conflicts with other transactions and throttling
    /// are retried by `RETRY`; throttling that outlasts it is
    /// `Unavailable` (503 with `Retry-After`), never a bug.
    pub(crate) async fn transact(&self, actions: Vec<TransactWriteItem>) -> Result<Outcome, Error> {
        let mut throttled = false;
        for attempt in 1..=RETRY.attempts {
            let outcome = self.client.transact_write_items().set_transact_items(Some(actions.clone())).send().await;
            let error = match outcome {
                Ok(_) => return Ok(Outcome::Committed),
                Err(error) => error,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() {
                let reasons = cancelled.cancellation_reasons();
                if reasons.iter().any(|r| r.code() == Some(CONDITION_FAILED)) {
                    return Ok(Outcome::Refused(reasons.iter().map(ActionReason::of).collect()));
                }
                if reasons.iter().any(|r| r.code().is_some_and(|code| RETRIED.contains(&code))) {
                    throttled = reasons.iter().any(|r| r.code().is_some_and(|code| THROTTLED.contains(&code)));
                    if attempt < RETRY.attempts {
                        RETRY.wait(attempt).await;
                    }
                    continue;
                }
            }
            return Err(sdk_error("TransactWriteItems", error));
        }
        if throttled {
            metrics::dependency_error("dynamodb", Fault::Throttled);
        }
        Err(Error::unavailable("transaction kept conflicting or being throttled"))
    }

    /// `live_only`: the condition names `:archived` (true), so an archived
    /// product refuses the update.
    fn stock_update(
        &self,
        line: &StockLine,
        expression: &str,
        condition: &str,
        live_only: bool,
    ) -> Result<TransactWriteItem, Error> {
        let mut update = Update::builder()
            .table_name(self.table.as_ref())
            .set_key(Some(product_key(&line.product_id)))
            .update_expression(expression)
            .condition_expression(condition)
            .expression_attribute_values(":q", n(line.quantity.get()));
        if live_only {
            update =
                update.expression_attribute_values(":archived", aws_sdk_dynamodb::types::AttributeValue::Bool(true));
        }
        let update = update
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Takes a line's quantity from its product's stock, only if that much is
    /// there and the product is live (one archived since the cart was priced
    /// is not sold).
    pub(crate) fn take_stock(&self, line: &StockLine) -> Result<TransactWriteItem, Error> {
        self.stock_update(
            line,
            "SET stock = stock - :q",
            "attribute_exists(pk) AND stock >= :q AND NOT archived = :archived",
            true,
        )
    }

    /// Gives a line's quantity back to its product's stock.
    pub(crate) fn give_back_stock(&self, line: &StockLine) -> Result<TransactWriteItem, Error> {
        self.stock_update(line, "SET stock = stock + :q", "attribute_exists(pk)", false)
    }
}

/// Why a transaction whose first actions are `take_stock` for `lines`, in
/// order, was refused: a product archived since the cart was priced (unknown
/// now), or the short lines with what each product had left.
pub(crate) fn stock_refusal(lines: &[StockLine], outcome: &Outcome) -> Result<Error, Error> {
    let mut shortages = Vec::new();
    let mut archived = Vec::new();
    for (line, reason) in lines.iter().zip(outcome.reasons(0..lines.len())) {
        let ActionReason::ConditionFailed(old_item) = reason else { continue };
        if old_item.as_ref().is_some_and(crate::catalog::is_archived) {
            archived.push(line.product_id.clone());
            continue;
        }
        let available = match old_item {
            Some(item) => Reader(item).n("stock")?,
            None => 0,
        };
        shortages.push(Shortage { product_id: line.product_id.clone(), requested: line.quantity.get(), available });
    }
    Ok(if archived.is_empty() { Error::OutOfStock(shortages) } else { Error::UnknownProduct(archived) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_from_the_first_wait_up_to_the_cap() {
        let waits: Vec<u128> = (1..=9).map(|k| RETRY.ceiling(k).as_millis()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        assert_eq!(RETRY.ceiling(u32::MAX), RETRY.cap);
    }

    #[test]
    fn reasons_past_what_dynamodb_sent_are_none_not_a_panic() {
        let outcome = Outcome::Refused(vec![ActionReason::Held, ActionReason::ConditionFailed(None)]);
        assert!(outcome.failed_in(0..2));
        assert!(!outcome.failed_in(0..1));
        assert_eq!(outcome.reasons(1..5).len(), 1);
        assert!(outcome.reasons(3..5).is_empty());
        assert!(!Outcome::Committed.failed_in(0..3));
    }
}
