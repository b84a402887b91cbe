//! The sandbox gateway's ledger: `CHARGE#<order>` / `CHARGE`, written once
//! (a conditional put), the first outcome recorded; its refunds beside it,
//! `CHARGE#<order>` / `REFUND#<id>`, each written once; and the gateway's
//! payment id, `CHARGE#<order>` / `INTENT`, recorded once. The gateway's
//! webhook events applied: `EVENT#<id>` / `EVENT`, with a TTL.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use galley_shared::Error;
use galley_shared::id::{OrderId, RefundId};
use galley_shared::money::{Currency, Money};
use galley_shared::ports::{AppliedEvents, ChargeLedger, LedgerEntry};

use crate::DynamoStore;
use crate::errors::sdk_error;
use crate::item::{Item, Reader, key, n, s};

fn charge_key(order: &OrderId) -> Item {
    key(format!("CHARGE#{order}"), "CHARGE")
}

/// A refund, in its order's charge partition: `CHARGE#<order>` / `REFUND#<id>`.
fn refund_key(order: &OrderId, refund: &RefundId) -> Item {
    key(format!("CHARGE#{order}"), &format!("REFUND#{refund}"))
}

pub(crate) fn charge_item(order: &OrderId, entry: &LedgerEntry) -> Item {
    let mut item = charge_key(order);
    match entry {
        LedgerEntry::Charged { amount, reference } => {
            item.insert("state".into(), s("charged"));
            item.insert("amount".into(), n(amount.amount));
            item.insert("currency".into(), s(amount.currency.as_str()));
            item.insert("reference".into(), s(reference));
        }
        LedgerEntry::Declined => {
            item.insert("state".into(), s("declined"));
        }
        LedgerEntry::Closed => {
            item.insert("state".into(), s("closed"));
        }
    }
    item
}

pub(crate) fn refund_item(order: &OrderId, refund: &RefundId, amount: Money) -> Item {
    let mut item = refund_key(order, refund);
    item.insert("amount".into(), n(amount.amount));
    item.insert("currency".into(), s(amount.currency.as_str()));
    item
}

/// The gateway's payment id of an order: `CHARGE#<order>` / `INTENT`.
pub(crate) fn intent_item(order: &OrderId, intent: &str) -> Item {
    let mut item = key(format!("CHARGE#{order}"), "INTENT");
    item.insert("intent".into(), s(intent));
    item
}

pub(crate) fn event_item(event: &str, expires_at: i64) -> Item {
    let mut item = event_key(event);
    item.insert("expires_at".into(), n(expires_at));
    item
}

fn money_of(item: &Item) -> Result<Money, Error> {
    let r = Reader(item);
    let currency = Currency::parse(r.s("currency")?).map_err(Error::internal)?;
    Money::new(r.n("amount")?, currency).map_err(Error::internal)
}

fn entry_from_item(item: &Item) -> Result<LedgerEntry, Error> {
    let r = Reader(item);
    match r.s("state")? {
        "charged" => {
            let currency = Currency::parse(r.s("currency")?).map_err(Error::internal)?;
            let amount = Money::new(r.n("amount")?, currency).map_err(Error::internal)?;
            Ok(LedgerEntry::Charged { amount, reference: r.s("reference")?.to_owned() })
        }
        "declined" => Ok(LedgerEntry::Declined),
        "closed" => Ok(LedgerEntry::Closed),
        other => Err(Error::internal(format!("corrupt charge item: state {other}"))),
    }
}

impl DynamoStore {
    /// Puts `item` unless its key is taken (the first write wins): `None`
    /// when written, else the item in force.
    async fn put_first(&self, item: Item) -> Result<Option<Item>, Error> {
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match put {
            Ok(_) => Ok(None),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(failed)) => {
                    failed.item().cloned().map(Some).ok_or_else(|| Error::internal("a put refused without an item"))
                }
                _ => Err(sdk_error("PutItem", e)),
            },
        }
    }
}

#[async_trait]
impl ChargeLedger for DynamoStore {
    async fn record(&self, order: &OrderId, entry: &LedgerEntry) -> Result<LedgerEntry, Error> {
        match self.put_first(charge_item(order, entry)).await? {
            None => Ok(entry.clone()),
            Some(old) => entry_from_item(&old),
        }
    }

    async fn recorded(&self, order: &OrderId) -> Result<Option<LedgerEntry>, Error> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(charge_key(order)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        output.item().map(entry_from_item).transpose()
    }

    async fn record_refund(&self, order: &OrderId, refund: &RefundId, amount: Money) -> Result<Money, Error> {
        match self.put_first(refund_item(order, refund, amount)).await? {
            None => Ok(amount),
            Some(old) => money_of(&old),
        }
    }

    async fn record_intent(&self, order: &OrderId, intent: &str) -> Result<String, Error> {
        match self.put_first(intent_item(order, intent)).await? {
            None => Ok(intent.to_owned()),
            Some(old) => Ok(Reader(&old).s("intent")?.to_owned()),
        }
    }

    async fn intent(&self, order: &OrderId) -> Result<Option<String>, Error> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(format!("CHARGE#{order}"), "INTENT")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        output.item().map(|item| Reader(item).s("intent").map(str::to_owned)).transpose()
    }

    async fn replace_intent(&self, order: &OrderId, from: &str, to: &str) -> Result<String, Error> {
        let replaced = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(format!("CHARGE#{order}"), "INTENT")))
            .update_expression("SET intent = :to")
            .condition_expression("intent = :from")
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .send()
            .await;
        match replaced {
            Ok(_) => Ok(to.to_owned()),
            Err(e) => match e.as_service_error() {
                Some(aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(_)) => {
                    self.intent(order).await?.ok_or_else(|| Error::internal(format!("order {order} has no intent")))
                }
                _ => Err(sdk_error("UpdateItem", e)),
            },
        }
    }

    async fn refunds(&self, order: &OrderId) -> Result<Vec<(RefundId, Money)>, Error> {
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :refund)")
            .expression_attribute_values(":pk", s(format!("CHARGE#{order}")))
            .expression_attribute_values(":refund", s("REFUND#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("Query", e))?;
        output
            .items()
            .iter()
            .map(|item| {
                let sk = Reader(item).s("sk")?.to_owned();
                let id = sk.strip_prefix("REFUND#").ok_or_else(|| Error::internal("refund key without REFUND#"))?;
                Ok((RefundId::parse(id).map_err(Error::internal)?, money_of(item)?))
            })
            .collect()
    }
}

fn event_key(event: &str) -> Item {
    key(format!("EVENT#{event}"), "EVENT")
}

#[async_trait]
impl AppliedEvents for DynamoStore {
    async fn applied(&self, event: &str) -> Result<bool, Error> {
        Ok(self.read_item(event_key(event)).await?.is_some())
    }

    async fn record_applied(&self, event: &str, expires_at: i64) -> Result<(), Error> {
        let item = event_item(event, expires_at);
        // Recorded before (a delivery racing its redelivery): either way applied.
        self.put_first(item).await.map(|_| ())
    }
}
