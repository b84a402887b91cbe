//! Catalog and stock: one item per product (`PRODUCT#<id>` / `PRODUCT`),
//! stock as a number on it, changed only by conditional updates inside
//! `TransactWriteItems`. Search index items (`TERM#<term>` and
//! `PREFIX#<prefix>` / `P#<id>`) are written in the same batches as their
//! product; see `docs/data-model.md`.

use std::collections::HashMap;
use std::future::Future;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest};
use futures_util::{StreamExt, TryStreamExt};
use galley_shared::Error;
use galley_shared::catalog::{Category, Product};
use galley_shared::id::ProductId;
use galley_shared::money::{Currency, Money};
use galley_shared::ports::{Catalog, ImportReport, Listing, SearchIndex, Stock, Written};
use galley_shared::search::{CatalogFilter, Posting, Term, TitleFrom, TitleRun, index_entries, prefix_entries};
use galley_shared::stock::{StockLevel, StockLine, check_distinct};

use crate::DynamoStore;
use crate::errors::sdk_error;
use crate::item::{Item, Reader, key, n, s};
use crate::table::{
    GSI1, GSI1_PARTITION_KEY, GSI1_SORT_KEY, GSI2, GSI2_PARTITION_KEY, GSI2_SORT_KEY, TITLE_INDEX, TITLE_INDEX_SORT_KEY,
};
use crate::transact::{Outcome, RETRY, stock_refusal};

const PRODUCT_SK: &str = "PRODUCT";
/// Every live product sits in this GSI1 partition, sorted by title.
const CATALOG_PARTITION: &str = "CATALOG";
/// Archived products sit in this one instead (the back office lists them).
const ARCHIVED_PARTITION: &str = "ARCHIVED";
const ARCHIVED: &str = "archived";
/// DynamoDB's limits per call.
const BATCH_WRITE_MAX: usize = 25;
const BATCH_GET_MAX: usize = 100;
/// `BatchGetItem`s one request keeps in flight: a search probing a common
/// word reads its candidates a few batches at a time, not all at once.
const BATCHES_AT_ONCE: usize = 4;

fn product_pk(id: &ProductId) -> String {
    format!("PRODUCT#{id}")
}

pub(crate) fn product_key(id: &ProductId) -> Item {
    key(product_pk(id), PRODUCT_SK)
}

pub(crate) fn product_item(p: &Product) -> Item {
    record_item(p, false, 1, 0)
}

/// A product's item with what the back office keeps: archived products sit
/// in the archived partitions of GSI1 and GSI2, out of every public listing.
pub(crate) fn record_item(p: &Product, archived: bool, version: u64, updated_at: i64) -> Item {
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
    item.insert(ARCHIVED.into(), AttributeValue::Bool(archived));
    item.insert("version".into(), n(version));
    item.insert("updated_at".into(), n(updated_at));
    let catalog = if archived { ARCHIVED_PARTITION } else { CATALOG_PARTITION };
    item.insert(GSI1_PARTITION_KEY.into(), s(catalog));
    item.insert(GSI1_SORT_KEY.into(), s(p.title_order_key()));
    item.insert(GSI2_PARTITION_KEY.into(), s(category_partition(&p.category, archived)));
    item.insert(GSI2_SORT_KEY.into(), s(p.title_order_key()));
    item
}

/// Whether an item is an archived product (items from before #22 have no flag: live).
pub(crate) fn is_archived(item: &Item) -> bool {
    matches!(item.get(ARCHIVED), Some(AttributeValue::Bool(true)))
}

/// The GSI2 partition of a category's products, sorted by title.
pub(crate) fn category_partition(category: &Category, archived: bool) -> String {
    let kind = if archived { "ARCHIVED" } else { "CATEGORY" };
    format!("{kind}#{}", category.as_str())
}

fn index_key(kind: &str, term: &str, id: &ProductId) -> Item {
    key(format!("{kind}#{term}"), &format!("P#{id}"))
}

/// The index items of a product: one per term and one per term prefix, each
/// carrying what ranking and filtering need.
pub(crate) fn index_items(p: &Product) -> Vec<Item> {
    let entries = index_entries(p);
    let prefixes = prefix_entries(&entries);
    let title_key = p.title_order_key();
    let kinds = [("TERM", &entries), ("PREFIX", &prefixes)];
    kinds
        .into_iter()
        .flat_map(|(kind, terms)| terms.iter().map(move |(term, in_title)| (kind, term, *in_title)))
        .map(|(kind, term, in_title)| {
            let mut item = index_key(kind, term, &p.id);
            item.insert("product_id".into(), s(p.id.as_str()));
            item.insert("in_title".into(), AttributeValue::Bool(in_title));
            item.insert("title_key".into(), s(&title_key));
            item.insert("category".into(), s(p.category.as_str()));
            item.insert("price".into(), n(p.price.amount));
            item.insert("currency".into(), s(p.price.currency.as_str()));
            item
        })
        .collect()
}

pub(crate) fn index_keys(p: &Product) -> Vec<Item> {
    let entries = index_entries(p);
    let prefixes = prefix_entries(&entries);
    let terms = entries.keys().map(|t| index_key("TERM", t, &p.id));
    terms.chain(prefixes.keys().map(|t| index_key("PREFIX", t, &p.id))).collect()
}

fn posting_from_item(item: &Item) -> Result<Posting, Error> {
    let r = Reader(item);
    let corrupt = |e: String| Error::internal(format!("corrupt index item: {e}"));
    let in_title = matches!(item.get("in_title"), Some(AttributeValue::Bool(true)));
    Ok(Posting {
        product_id: ProductId::parse(r.s("product_id")?).map_err(corrupt)?,
        in_title,
        title_key: r.s("title_key")?.to_owned(),
        category: Category::parse(r.s("category")?).map_err(corrupt)?,
        price: Money::new(r.n("price")?, Currency::parse(r.s("currency")?).map_err(corrupt)?).map_err(corrupt)?,
    })
}

pub(crate) fn product_from_item(item: &Item) -> Result<Product, Error> {
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

/// Sends `first`, then whatever the service answers it left unprocessed,
/// with `RETRY`'s backoff, until nothing is left; collects what every answer returned.
async fn until_processed<R, T, F, Fut>(operation: &str, first: R, mut send: F) -> Result<Vec<T>, Error>
where
    F: FnMut(R) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<R>), Error>>,
{
    let mut done = Vec::new();
    let mut pending = Some(first);
    let mut attempt = 0;
    while let Some(request) = pending.take() {
        let (items, left) = send(request).await?;
        done.extend(items);
        pending = left;
        if pending.is_some() {
            attempt += 1;
            if attempt >= RETRY.attempts {
                return Err(Error::unavailable(format!("{operation} kept leaving requests unprocessed")));
            }
            RETRY.wait(attempt).await;
        }
    }
    Ok(done)
}

pub(crate) fn pk_sk(item: &Item) -> (String, String) {
    let r = Reader(item);
    (r.s("pk").unwrap_or_default().to_owned(), r.s("sk").unwrap_or_default().to_owned())
}

impl DynamoStore {
    /// A product's item, live or archived, read consistently.
    pub(crate) async fn product_item(&self, id: &ProductId) -> Result<Option<Item>, Error> {
        self.read_item(product_key(id)).await
    }

    /// Writes requests 25 at a time, retrying unprocessed ones with backoff.
    pub(crate) async fn batch_write(&self, writes: Vec<WriteRequest>) -> Result<(), Error> {
        for chunk in writes.chunks(BATCH_WRITE_MAX) {
            until_processed("BatchWriteItem", chunk.to_vec(), |pending| async move {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(self.table.as_ref(), pending)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchWriteItem", e))?;
                let left = output.unprocessed_items.and_then(|mut u| u.remove(self.table.as_ref()));
                Ok((Vec::<()>::new(), left.filter(|l| !l.is_empty())))
            })
            .await?;
        }
        Ok(())
    }

    /// The postings under one index partition key, all pages, read
    /// consistently so a product written a moment ago is found; `None` once
    /// more than `limit` turn up.
    async fn postings_under(&self, pk: String, limit: usize) -> Result<Option<Vec<Posting>>, Error> {
        let mut postings = Vec::new();
        let mut start_key = None;
        loop {
            // Ask for one item past the limit at most: a common word's read stays one page.
            let wanted = limit.saturating_sub(postings.len()).saturating_add(1);
            let output = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk.as_str()))
                .consistent_read(true)
                .limit(i32::try_from(wanted).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            for item in output.items() {
                postings.push(posting_from_item(item)?);
            }
            if postings.len() > limit {
                return Ok(None);
            }
            match output.last_evaluated_key() {
                Some(key) => start_key = Some(key.clone()),
                None => return Ok(Some(postings)),
            }
        }
    }

    /// The items at `keys`, read consistently: 100 keys per `BatchGetItem`,
    /// at most `BATCHES_AT_ONCE` of them in flight, unprocessed keys retried
    /// with backoff.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, Error> {
        // Collected first: a lazy iterator of futures would not be `Send`.
        let batches: Vec<_> = keys.chunks(BATCH_GET_MAX).map(|chunk| self.batch_get_one(chunk.to_vec())).collect();
        let done: Vec<Vec<Item>> = futures_util::stream::iter(batches).buffered(BATCHES_AT_ONCE).try_collect().await?;
        Ok(done.into_iter().flatten().collect())
    }

    async fn batch_get_one(&self, keys: Vec<Item>) -> Result<Vec<Item>, Error> {
        let request =
            KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(true).build().map_err(Error::internal)?;
        until_processed("BatchGetItem", request, |keys| async move {
            let output = self
                .client
                .batch_get_item()
                .request_items(self.table.as_ref(), keys)
                .send()
                .await
                .map_err(|e| sdk_error("BatchGetItem", e))?;
            let found = output.responses.and_then(|mut r| r.remove(self.table.as_ref())).unwrap_or_default();
            Ok((found, output.unprocessed_keys.and_then(|mut u| u.remove(self.table.as_ref()))))
        })
        .await
    }
}

/// A title-ordered partition of products: GSI1's catalog or GSI2's
/// category, live or archived (archived products sit in partitions of
/// their own, so public listings never read them).
pub(crate) struct Partition {
    index: &'static str,
    partition_key: &'static str,
    sort_key: &'static str,
    value: String,
}

impl Partition {
    pub(crate) fn catalog(archived: bool) -> Self {
        let value = if archived { ARCHIVED_PARTITION } else { CATALOG_PARTITION };
        Self { index: GSI1, partition_key: GSI1_PARTITION_KEY, sort_key: GSI1_SORT_KEY, value: value.to_owned() }
    }

    pub(crate) fn category(category: &Category, archived: bool) -> Self {
        let value = category_partition(category, archived);
        Self { index: GSI2, partition_key: GSI2_PARTITION_KEY, sort_key: GSI2_SORT_KEY, value }
    }
}

/// A filter condition: its expression, its placeholder and value.
pub(crate) type Condition = (&'static str, &'static str, AttributeValue);

/// A test no filter expression can make, run on each item read.
pub(crate) type Keep<'a> = &'a (dyn Fn(&Item) -> Result<bool, Error> + Send + Sync);

impl DynamoStore {
    /// Up to `limit` items of `partition` in title order after `after`
    /// that pass `conditions` (and `keep`, if any), reading at most `budget`
    /// items (a page's `Limit` counts items read, not items returned); when
    /// the budget runs out first, also the sort key of the last item read.
    pub(crate) async fn title_ordered(
        &self,
        partition: &Partition,
        after: Option<&str>,
        (conditions, keep): (&[Condition], Option<Keep<'_>>),
        limit: usize,
        budget: usize,
    ) -> Result<(Vec<Item>, Option<String>), Error> {
        let filtered = !conditions.is_empty() || keep.is_some();
        let mut items = Vec::new();
        let mut start_key = None;
        let mut read = 0;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .index_name(partition.index)
                .expression_attribute_names("#pk", partition.partition_key)
                .expression_attribute_values(":partition", s(partition.value.as_str()))
                .set_exclusive_start_key(start_key.take());
            // DynamoDB refuses an empty string in a key condition: no cursor, no bound.
            query = match after {
                Some(after) => query
                    .key_condition_expression("#pk = :partition AND #sk > :after")
                    .expression_attribute_names("#sk", partition.sort_key)
                    .expression_attribute_values(":after", s(after)),
                None => query.key_condition_expression("#pk = :partition"),
            };
            for (_, placeholder, value) in conditions {
                query = query.expression_attribute_values(*placeholder, value.clone());
            }
            let wanted = if filtered { budget - read } else { limit - items.len() };
            query = query.limit(i32::try_from(wanted).unwrap_or(i32::MAX));
            if !conditions.is_empty() {
                let all: Vec<&str> = conditions.iter().map(|(expression, _, _)| *expression).collect();
                query = query.filter_expression(all.join(" AND "));
            }
            let output = query.send().await.map_err(|e| sdk_error("Query", e))?;
            read += usize::try_from(output.scanned_count()).unwrap_or(0);
            for item in output.items() {
                if items.len() < limit && keep.map_or(Ok(true), |keep| keep(item))? {
                    items.push(item.clone());
                }
            }
            let Some(key) = output.last_evaluated_key() else { return Ok((items, None)) };
            if items.len() >= limit {
                return Ok((items, None));
            }
            if read >= budget {
                return Ok((items, Some(Reader(key).s(partition.sort_key)?.to_owned())));
            }
            start_key = Some(key.clone());
        }
    }
}

#[async_trait]
impl Catalog for DynamoStore {
    async fn product(&self, id: &ProductId) -> Result<Option<Product>, Error> {
        // Archived products are the back office's only.
        let item = self.product_item(id).await?;
        item.as_ref().filter(|item| !is_archived(item)).map(product_from_item).transpose()
    }

    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, Error> {
        let items = self.batch_get(ids.iter().map(product_key).collect()).await?;
        let mut found =
            items.iter().filter(|item| !is_archived(item)).map(product_from_item).collect::<Result<Vec<_>, _>>()?;
        // Callers get products in the order they asked for them.
        let position: HashMap<&ProductId, usize> = ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
        found.sort_by_key(|p| position.get(&p.id).copied().unwrap_or(usize::MAX));
        Ok(found)
    }

    async fn create(&self, product: &Product) -> Result<Written, Error> {
        let created = self
            .client
            .put_item()
            .table_name(self.table.as_ref())
            .set_item(Some(product_item(product)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                return Ok(Written::AlreadyExists);
            }
            Err(e) => return Err(sdk_error("PutItem", e)),
        }
        let puts = index_items(product)
            .into_iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item)).build().map_err(Error::internal)?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, Error>>()?;
        self.batch_write(puts).await?;
        Ok(Written::Created)
    }

    /// An import rewrites a product's fields and stock but not what the
    /// back office decided: an archived product stays archived (and out of
    /// the index), and its version moves on, so an ETag from before the
    /// import is stale. (Read, then written in a batch: an admin edit in
    /// between may be overwritten; imports are an operator's bulk action.)
    async fn upsert(&self, products: &[Product]) -> Result<ImportReport, Error> {
        for chunk in products.chunks(BATCH_GET_MAX) {
            let keys: Vec<Item> = chunk.iter().map(|p| product_key(&p.id)).collect();
            let mut old: HashMap<ProductId, (Product, bool, u64, i64)> = HashMap::new();
            for item in self.batch_get(keys).await? {
                let r = Reader(&item);
                let version = if item.contains_key("version") { r.n("version")? } else { 1 };
                let updated_at = if item.contains_key("updated_at") { r.n("updated_at")? } else { 0 };
                let product = product_from_item(&item)?;
                old.insert(product.id.clone(), (product, is_archived(&item), version, updated_at));
            }
            let mut writes = Vec::new();
            for product in chunk {
                // What a shopper sees changed: the version moves (an ETag from
                // before is stale); stock alone, like a sale, does not.
                let (archived, version, updated_at) = match old.get(&product.id) {
                    Some((was, archived, version, updated_at)) => {
                        if (Product { stock: was.stock, ..product.clone() }) == *was {
                            (*archived, *version, *updated_at)
                        } else {
                            (*archived, version + 1, 0)
                        }
                    }
                    None => (false, 1, 0),
                };
                let new_items = if archived { Vec::new() } else { index_items(product) };
                // Index entries of the old version that the new one lacks must go.
                if let Some((old, ..)) = old.get(&product.id) {
                    let keep: std::collections::HashSet<(String, String)> = new_items.iter().map(pk_sk).collect();
                    for stale in index_keys(old).into_iter().filter(|k| !keep.contains(&pk_sk(k))) {
                        let delete = DeleteRequest::builder().set_key(Some(stale)).build().map_err(Error::internal)?;
                        writes.push(WriteRequest::builder().delete_request(delete).build());
                    }
                }
                for item in std::iter::once(record_item(product, archived, version, updated_at)).chain(new_items) {
                    let put = PutRequest::builder().set_item(Some(item)).build().map_err(Error::internal)?;
                    writes.push(WriteRequest::builder().put_request(put).build());
                }
            }
            self.batch_write(writes).await?;
        }
        Ok(ImportReport { written: products.len() })
    }

    /// Pages the live products in title order — GSI2's partition of the
    /// category when there is one, else GSI1's whole catalog — with price
    /// bounds applied by DynamoDB; at most `budget` products are read (see
    /// `DynamoStore::title_ordered`).
    async fn list(
        &self,
        filter: &CatalogFilter,
        after: Option<&str>,
        limit: usize,
        budget: usize,
    ) -> Result<Listing, Error> {
        let partition = match &filter.category {
            Some(category) => Partition::category(category, false),
            None => Partition::catalog(false),
        };
        let mut conditions = Vec::new();
        if let Some(min) = filter.min_price {
            conditions.push(("price >= :min", ":min", n(min)));
        }
        if let Some(max) = filter.max_price {
            conditions.push(("price <= :max", ":max", n(max)));
        }
        let (items, read_up_to) = self.title_ordered(&partition, after, (&conditions, None), limit, budget).await?;
        let products = items.iter().map(product_from_item).collect::<Result<_, _>>()?;
        Ok(Listing { products, read_up_to })
    }

    /// No product at all, live or archived (both GSI1 partitions), as the
    /// embedded store counts: a shop whose products are all archived is
    /// not empty.
    async fn is_empty(&self) -> Result<bool, Error> {
        for partition in [CATALOG_PARTITION, ARCHIVED_PARTITION] {
            let output = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .index_name(GSI1)
                .key_condition_expression("gsi1pk = :catalog")
                .expression_attribute_values(":catalog", s(partition))
                .limit(1)
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            if !output.items().is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The index partition a term's postings live under.
fn term_partition(term: Term<'_>) -> (&'static str, &str) {
    match term {
        Term::Word(word) => ("TERM", word),
        Term::Prefix(prefix) => ("PREFIX", prefix),
    }
}

#[async_trait]
impl SearchIndex for DynamoStore {
    async fn postings(&self, term: Term<'_>, limit: usize) -> Result<Option<Vec<Posting>>, Error> {
        let (kind, term) = term_partition(term);
        self.postings_under(format!("{kind}#{term}"), limit).await
    }

    async fn postings_among(&self, term: Term<'_>, ids: &[ProductId]) -> Result<Vec<Posting>, Error> {
        let (kind, term) = term_partition(term);
        let items = self.batch_get(ids.iter().map(|id| index_key(kind, term, id)).collect()).await?;
        items.iter().map(posting_from_item).collect()
    }

    /// Every term and prefix has its own partition in the title index.
    async fn title_ordered(&self, _term: Term<'_>) -> Result<bool, Error> {
        Ok(true)
    }

    async fn postings_in_title_order(
        &self,
        term: Term<'_>,
        from: TitleFrom<'_>,
        read: usize,
        titles_only: bool,
    ) -> Result<TitleRun, Error> {
        let (kind, term) = term_partition(term);
        let mut postings = Vec::new();
        let mut evaluated = 0;
        let mut start_key = None;
        // A page of the query may hold fewer items than asked (1 MB), so
        // it pages on until `read` entries were read, or the end.
        loop {
            let wanted = read.saturating_sub(evaluated).max(1);
            let mut query = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .index_name(TITLE_INDEX)
                .expression_attribute_values(":pk", s(format!("{kind}#{term}")))
                .consistent_read(true)
                .limit(i32::try_from(wanted).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key.take());
            if titles_only {
                // Read and paid for, not returned: the limit counts them.
                query = query
                    .filter_expression("in_title = :yes")
                    .expression_attribute_values(":yes", AttributeValue::Bool(true));
            }
            // DynamoDB refuses an empty string in a key condition: no cursor, no bound.
            let bound = match from {
                TitleFrom::After(key) if !key.is_empty() => Some((">", key)),
                TitleFrom::AtOrAfter(key) if !key.is_empty() => Some((">=", key)),
                _ => None,
            };
            query = match bound {
                Some((op, key)) => query
                    .key_condition_expression(format!("pk = :pk AND #title {op} :from"))
                    .expression_attribute_names("#title", TITLE_INDEX_SORT_KEY)
                    .expression_attribute_values(":from", s(key)),
                None => query.key_condition_expression("pk = :pk"),
            };
            let output = query.send().await.map_err(|e| sdk_error("Query", e))?;
            evaluated += usize::try_from(output.scanned_count()).unwrap_or_default();
            for item in output.items() {
                postings.push(posting_from_item(item)?);
            }
            match output.last_evaluated_key() {
                Some(key) if evaluated < read => start_key = Some(key.clone()),
                Some(key) => {
                    let read_up_to = Reader(key).s(TITLE_INDEX_SORT_KEY)?.to_owned();
                    return Ok(TitleRun { postings, read_up_to: Some(read_up_to) });
                }
                None => return Ok(TitleRun { postings, read_up_to: None }),
            }
        }
    }
}

#[async_trait]
impl Stock for DynamoStore {
    async fn reserve(&self, lines: &[StockLine]) -> Result<(), Error> {
        check_distinct(lines)?;
        let actions = lines.iter().map(|line| self.take_stock(line)).collect::<Result<Vec<_>, Error>>()?;
        match self.transact(actions).await? {
            Outcome::Committed => Ok(()),
            refused => Err(stock_refusal(lines, &refused)?),
        }
    }

    async fn release(&self, lines: &[StockLine]) -> Result<(), Error> {
        check_distinct(lines)?;
        let actions = lines.iter().map(|line| self.give_back_stock(line)).collect::<Result<Vec<_>, Error>>()?;
        match self.transact(actions).await? {
            Outcome::Committed => Ok(()),
            Outcome::Refused(_) => Err(Error::internal("release of an unknown product")),
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
