//! Catalog and stock: one item per product (`PRODUCT#<id>` / `PRODUCT`),
//! stock as a number on it, changed only by conditional updates inside
//! `TransactWriteItems`.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    KeysAndAttributes, PutRequest, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use galley_shared::Error;
use galley_shared::catalog::{Category, Product};
use galley_shared::id::ProductId;
use galley_shared::money::{Currency, Money};
use galley_shared::ports::{Catalog, ImportReport, Stock, Written};
use galley_shared::stock::{Shortage, StockLevel, StockLine, check_distinct};

use crate::DynamoStore;
use crate::errors::sdk_error;
use crate::item::{Item, Reader, key, n, s};
use crate::table::{GSI1, GSI1_PARTITION_KEY, GSI1_SORT_KEY};

const PRODUCT_SK: &str = "PRODUCT";
/// Every product sits in this GSI1 partition, sorted by title.
const CATALOG_PARTITION: &str = "CATALOG";
/// DynamoDB's limits per call.
const BATCH_WRITE_MAX: usize = 25;
const BATCH_GET_MAX: usize = 100;
/// Attempts for unprocessed batch items and conflicting transactions.
const MAX_ATTEMPTS: u32 = 8;

fn product_pk(id: &ProductId) -> String {
    format!("PRODUCT#{id}")
}

fn product_key(id: &ProductId) -> Item {
    key(product_pk(id), PRODUCT_SK)
}

fn product_item(p: &Product) -> Item {
    let mut item = product_key(&p.id);
    item.insert("id".into(), s(p.id.as_str()));
    item.insert("title".into(), s(&p.title));
    item.insert("description".into(), s(&p.description));
    item.insert("category".into(), s(p.category.as_str()));
    item.insert("price".into(), n(p.price.amount));
    item.insert("currency".into(), s(p.price.currency.as_str()));
    if let Some(url) = &p.image_url {
        item.insert("image_url".into(), s(url));
    }
    item.insert("stock".into(), n(p.stock));
    item.insert(GSI1_PARTITION_KEY.into(), s(CATALOG_PARTITION));
    item.insert(GSI1_SORT_KEY.into(), s(p.title_order_key()));
    item
}

fn product_from_item(item: &Item) -> Result<Product, Error> {
    let r = Reader(item);
    let corrupt = |e: String| Error::internal(format!("corrupt product item: {e}"));
    let currency = Currency::parse(r.s("currency")?).map_err(corrupt)?;
    Ok(Product {
        id: ProductId::parse(r.s("id")?).map_err(corrupt)?,
        title: r.s("title")?.to_owned(),
        description: r.s("description")?.to_owned(),
        category: Category::parse(r.s("category")?).map_err(corrupt)?,
        price: Money::new(r.n("price")?, currency).map_err(corrupt)?,
        image_url: r.opt_s("image_url")?.map(str::to_owned),
        stock: r.n("stock")?,
    })
}

/// Exponential backoff with full jitter: 10 ms, 20 ms, … capped at 1 s.
async fn backoff(attempt: u32) {
    let cap_ms = (10u64 << attempt.min(7)).min(1000);
    let jittered = rand::random_range(cap_ms / 2..=cap_ms);
    tokio::time::sleep(Duration::from_millis(jittered)).await;
}

impl DynamoStore {
    fn stock_update(&self, line: &StockLine, expression: &str, condition: &str) -> Result<TransactWriteItem, Error> {
        let update = Update::builder()
            .table_name(self.table.as_ref())
            .set_key(Some(product_key(&line.product_id)))
            .update_expression(expression)
            .condition_expression(condition)
            .expression_attribute_values(":q", n(line.quantity.get()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(Error::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs a stock transaction, retrying while DynamoDB reports only
    /// conflicts with other transactions. Condition failures come back as
    /// the per-line old items (`None` where the line's condition held).
    async fn transact_stock(
        &self,
        actions: Vec<TransactWriteItem>,
    ) -> Result<Result<(), Vec<Option<Option<Item>>>>, Error> {
        for attempt in 0..MAX_ATTEMPTS {
            let outcome = self.client.transact_write_items().set_transact_items(Some(actions.clone())).send().await;
            let error = match outcome {
                Ok(_) => return Ok(Ok(())),
                Err(error) => error,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() {
                let reasons = cancelled.cancellation_reasons();
                let failed: Vec<Option<Option<Item>>> = reasons
                    .iter()
                    .map(|r| (r.code() == Some("ConditionalCheckFailed")).then(|| r.item().cloned()))
                    .collect();
                if failed.iter().any(Option::is_some) {
                    return Ok(Err(failed));
                }
                if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                    backoff(attempt).await;
                    continue;
                }
            }
            return Err(sdk_error("TransactWriteItems", error));
        }
        Err(Error::unavailable("stock transaction kept conflicting"))
    }
}

#[async_trait]
impl Catalog for DynamoStore {
    async fn product(&self, id: &ProductId) -> Result<Option<Product>, Error> {
        let output = self
            .client
            .get_item()
            .table_name(self.table.as_ref())
            .set_key(Some(product_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        output.item().map(product_from_item).transpose()
    }

    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, Error> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_GET_MAX) {
            let keys: Vec<Item> = chunk.iter().map(product_key).collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(Error::internal)?,
            );
            let mut attempt = 0;
            while let Some(keys) = request.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(self.table.as_ref(), keys)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchGetItem", e))?;
                for item in output.responses().and_then(|r| r.get(self.table.as_ref())).into_iter().flatten() {
                    found.push(product_from_item(item)?);
                }
                request = output.unprocessed_keys().and_then(|u| u.get(self.table.as_ref())).cloned();
                if request.is_some() {
                    attempt += 1;
                    if attempt >= MAX_ATTEMPTS {
                        return Err(Error::unavailable("BatchGetItem kept leaving keys unprocessed"));
                    }
                    backoff(attempt).await;
                }
            }
        }
        // Callers get products in the order they asked for them.
        let position: HashMap<&ProductId, usize> = ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
        found.sort_by_key(|p| position.get(&p.id).copied().unwrap_or(usize::MAX));
        Ok(found)
    }

    async fn create(&self, product: &Product) -> Result<Written, Error> {
        let outcome = self
            .client
            .put_item()
            .table_name(self.table.as_ref())
            .set_item(Some(product_item(product)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(Written::Created),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(Written::AlreadyExists)
            }
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }

    async fn upsert(&self, products: &[Product]) -> Result<ImportReport, Error> {
        for chunk in products.chunks(BATCH_WRITE_MAX) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|p| {
                    let put = PutRequest::builder().set_item(Some(product_item(p))).build().map_err(Error::internal)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<_, Error>>()?;
            let mut attempt = 0;
            while !pending.is_empty() {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(self.table.as_ref(), pending)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchWriteItem", e))?;
                pending =
                    output.unprocessed_items().and_then(|u| u.get(self.table.as_ref())).cloned().unwrap_or_default();
                if !pending.is_empty() {
                    attempt += 1;
                    if attempt >= MAX_ATTEMPTS {
                        return Err(Error::unavailable("BatchWriteItem kept leaving items unprocessed"));
                    }
                    backoff(attempt).await;
                }
            }
        }
        Ok(ImportReport { written: products.len() })
    }

    async fn is_empty(&self) -> Result<bool, Error> {
        let output = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :catalog")
            .expression_attribute_values(":catalog", s(CATALOG_PARTITION))
            .limit(1)
            .send()
            .await
            .map_err(|e| sdk_error("Query", e))?;
        Ok(output.items().is_empty())
    }
}

#[async_trait]
impl Stock for DynamoStore {
    async fn reserve(&self, lines: &[StockLine]) -> Result<(), Error> {
        check_distinct(lines)?;
        let actions = lines
            .iter()
            .map(|line| self.stock_update(line, "SET stock = stock - :q", "attribute_exists(pk) AND stock >= :q"))
            .collect::<Result<Vec<_>, Error>>()?;
        let failed = match self.transact_stock(actions).await? {
            Ok(()) => return Ok(()),
            Err(failed) => failed,
        };
        let mut shortages = Vec::new();
        for (line, failure) in lines.iter().zip(failed) {
            let Some(old_item) = failure else { continue };
            let available = match old_item {
                Some(item) => Reader(&item).n("stock")?,
                None => 0,
            };
            shortages.push(Shortage { product_id: line.product_id.clone(), requested: line.quantity.get(), available });
        }
        Err(Error::OutOfStock(shortages))
    }

    async fn release(&self, lines: &[StockLine]) -> Result<(), Error> {
        check_distinct(lines)?;
        let actions = lines
            .iter()
            .map(|line| self.stock_update(line, "SET stock = stock + :q", "attribute_exists(pk)"))
            .collect::<Result<Vec<_>, Error>>()?;
        match self.transact_stock(actions).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(Error::internal("release of an unknown product")),
        }
    }

    async fn level(&self, id: &ProductId) -> Result<Option<StockLevel>, Error> {
        let output = self
            .client
            .get_item()
            .table_name(self.table.as_ref())
            .set_key(Some(product_key(id)))
            .projection_expression("stock")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        output.item().map(|item| Reader(item).n("stock")).transpose()
    }
}
