//! Promotions (`PROMO#<CODE>` / `PROMO`, listed in GSI2's `PROMOTIONS`
//! partition sorted by the upper-case code) and the customers holding a
//! redemption of a once-per-customer code (`PROMOUSE#<CODE>#<user>` /
//! `USE`, holding the `order_id` while an order holds the redemption). The checkout's transaction counts a redemption (`redeem_actions`:
//! `redeemed < max_redemptions` as its condition, and the use put only if
//! absent); a decline's or a cancellation's gives it back.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use galley_shared::Error;
use galley_shared::admin::AuditEntry;
use galley_shared::id::{OrderId, UserId};
use galley_shared::ports::{PromotionChange, Promotions};
use galley_shared::promotions::{PromoCode, Promotion, Redemption};

use crate::DynamoStore;
use crate::errors::sdk_error;
use crate::item::{Item, Reader, key, n, s};
use crate::orders::update;
use crate::table::{GSI2, GSI2_PARTITION_KEY, GSI2_SORT_KEY};
use crate::transact::Outcome;

const PROMOTIONS_PARTITION: &str = "PROMOTIONS";

fn promotion_key(code: &PromoCode) -> Item {
    key(format!("PROMO#{}", code.key()), "PROMO")
}

fn use_key(code: &PromoCode, user: &UserId) -> Item {
    key(format!("PROMOUSE#{}#{user}", code.key()), "USE")
}

/// A promotion's item: its document, and beside it what conditions read.
pub(crate) fn promotion_item(p: &Promotion) -> Result<Item, Error> {
    let mut item = promotion_key(&p.code);
    item.insert("doc".into(), doc(p)?);
    item.insert("redeemed".into(), n(p.redeemed));
    item.insert("version".into(), n(p.version));
    if let Some(max) = p.max_redemptions {
        item.insert("max_redemptions".into(), n(max));
    }
    item.insert(GSI2_PARTITION_KEY.into(), s(PROMOTIONS_PARTITION));
    item.insert(GSI2_SORT_KEY.into(), s(p.code.key()));
    Ok(item)
}

/// A customer's redemption of a once-per-customer code, held by `order`.
pub(crate) fn use_item(code: &PromoCode, user: &UserId, order: &OrderId) -> Item {
    let mut used = use_key(code, user);
    used.insert("order_id".into(), s(order.as_str()));
    used
}

fn promotion_from_item(item: &Item) -> Result<Promotion, Error> {
    let r = Reader(item);
    let mut promotion: Promotion =
        serde_json::from_str(r.s("doc")?).map_err(|e| Error::internal(format!("corrupt promotion item: {e}")))?;
    promotion.redeemed = r.n("redeemed")?;
    promotion.version = r.n("version")?;
    Ok(promotion)
}

fn doc(promotion: &Promotion) -> Result<AttributeValue, Error> {
    serde_json::to_string(promotion).map(s).map_err(|e| Error::internal(format!("promotion to JSON: {e}")))
}

impl DynamoStore {
    /// The actions that count `r`'s redemption for `order`: the counter,
    /// on condition the cap is not reached, then the customer's use of a
    /// once-per-customer code, on condition there is none. A refusal of
    /// any of them is `PromoCodeExhausted`.
    pub(crate) fn redeem_actions(
        &self,
        r: &Redemption,
        user: &UserId,
        order: &OrderId,
    ) -> Result<Vec<TransactWriteItem>, Error> {
        let mut actions = vec![self.table_update(
            update(promotion_key(&r.code))
                .update_expression("SET redeemed = redeemed + :one")
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(max_redemptions) OR redeemed < max_redemptions)",
                )
                .expression_attribute_values(":one", n(1)),
        )?];
        if r.once_per_customer {
            actions.push(self.table_put(use_item(&r.code, user, order), "attribute_not_exists(order_id)")?);
        }
        Ok(actions)
    }

    /// The actions that give back the redemption an order of `user` holds:
    /// one less counted, and the customer's use (a once-per-customer code
    /// has one order holding it at a time). They carry no condition, so a
    /// decline never fails for them: the count is exact by construction.
    pub(crate) fn give_back_actions(&self, r: &Redemption, user: &UserId) -> Result<Vec<TransactWriteItem>, Error> {
        let mut actions = vec![
            self.table_update(
                update(promotion_key(&r.code))
                    .update_expression("SET redeemed = redeemed - :one")
                    .expression_attribute_values(":one", n(1)),
            )?,
        ];
        if r.once_per_customer {
            // Released, not deleted: the functions that decline and cancel
            // write items but delete none (least privilege).
            actions.push(self.table_update(update(use_key(&r.code, user)).update_expression("REMOVE order_id"))?);
        }
        Ok(actions)
    }
}

#[async_trait]
impl Promotions for DynamoStore {
    async fn promotion(&self, code: &PromoCode) -> Result<Option<Promotion>, Error> {
        self.read_item(promotion_key(code)).await?.as_ref().map(promotion_from_item).transpose()
    }

    async fn used(&self, code: &PromoCode, user: &UserId) -> Result<bool, Error> {
        Ok(self.read_item(use_key(code, user)).await?.is_some_and(|item| item.contains_key("order_id")))
    }

    async fn promotions(&self, after: Option<&PromoCode>, limit: usize) -> Result<Vec<Promotion>, Error> {
        let query = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(GSI2)
            .expression_attribute_names("#pk", GSI2_PARTITION_KEY)
            .expression_attribute_values(":pk", s(PROMOTIONS_PARTITION))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        let query = match after {
            Some(after) => query
                .key_condition_expression("#pk = :pk AND #sk > :after")
                .expression_attribute_names("#sk", GSI2_SORT_KEY)
                .expression_attribute_values(":after", s(after.key())),
            None => query.key_condition_expression("#pk = :pk"),
        };
        let output = query.send().await.map_err(|e| sdk_error("Query", e))?;
        output.items().iter().map(promotion_from_item).collect()
    }

    async fn write(&self, change: &PromotionChange, audit: &AuditEntry) -> Result<bool, Error> {
        let action = match change {
            PromotionChange::Create(p) => self.table_put(promotion_item(p)?, "attribute_not_exists(pk)")?,
            PromotionChange::Replace(p) => {
                let mut change = update(promotion_key(&p.code))
                    .expression_attribute_values(":doc", doc(p)?)
                    .expression_attribute_values(":version", n(p.version))
                    .expression_attribute_values(":read", n(p.version - 1));
                change = match p.max_redemptions {
                    Some(max) => change
                        .update_expression("SET doc = :doc, version = :version, max_redemptions = :max")
                        .condition_expression("version = :read AND redeemed <= :max")
                        .expression_attribute_values(":max", n(max)),
                    None => change
                        .update_expression("SET doc = :doc, version = :version REMOVE max_redemptions")
                        .condition_expression("version = :read"),
                };
                self.table_update(change)?
            }
        };
        match self.transact(vec![action, self.audit_action(audit)?]).await? {
            Outcome::Committed => Ok(true),
            refused if refused.failed_in(0..1) => Ok(false),
            Outcome::Refused(_) => Err(Error::internal("an audit entry's id was taken")),
        }
    }
}
