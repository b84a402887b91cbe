//! Catalog and stock over the `products` table; the search index over
//! `search_terms`, rewritten in the same transaction as its product.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::catalog::{Category, Product};
use galley_shared::id::ProductId;
use galley_shared::money::{Currency, Money};
use galley_shared::ports::{Catalog, ImportReport, Listing, SearchIndex, Stock, Written};
use galley_shared::search::{CatalogFilter, Posting, Term, TitleFrom, TitleRun, index_entries};
use galley_shared::stock::{Shortage, StockLevel, StockLine, check_distinct};
use hashbrown::{DefaultHashBuilder, HashTable};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use std::hash::BuildHasher;

use crate::EmbeddedStore;
use crate::db::store_error;

pub(crate) const PRODUCT_COLUMNS: &str =
    "id, title, description, category, price_amount, price_currency, image_url, stock";

/// Rows larger imports are split into, so one import does not hold the write
/// lock for long while other processes wait.
const UPSERT_CHUNK: usize = 500;

pub(crate) fn corrupt(detail: impl std::fmt::Display) -> Error {
    Error::internal(format!("corrupt product row: {detail}"))
}

pub(crate) fn product_from_row(row: &Row<'_>) -> Result<Product, Error> {
    let text = |i: usize| row.get::<_, String>(i).map_err(store_error);
    let amount: i64 = row.get(4).map_err(store_error)?;
    let stock: i64 = row.get(7).map_err(store_error)?;
    let currency = Currency::parse(&text(5)?).map_err(corrupt)?;
    Ok(Product {
        id: ProductId::parse(&text(0)?).map_err(corrupt)?,
        title: text(1)?,
        description: text(2)?,
        category: Category::parse(&text(3)?).map_err(corrupt)?,
        price: Money::new(amount, currency).map_err(corrupt)?,
        image_url: row.get(6).map_err(store_error)?,
        stock: StockLevel::try_from(stock).map_err(corrupt)?,
    })
}

/// Turns index rows into postings. Category and currency repeat across a
/// term's thousands of rows, so the last one parsed is kept and reused.
#[derive(Default)]
struct PostingDecoder {
    category: Option<Category>,
    currency: Option<Currency>,
}

impl PostingDecoder {
    /// Columns: product_id, in_title, title_key, category, price_amount, price_currency.
    fn decode(&mut self, row: &Row<'_>) -> Result<Posting, Error> {
        let text = |i: usize| row.get_ref(i).and_then(|v| Ok(v.as_str()?)).map_err(store_error);
        let bytes = |i: usize| row.get_ref(i).and_then(|v| Ok(v.as_bytes()?)).map_err(store_error);
        let category = match &self.category {
            Some(known) if known.as_str().as_bytes() == bytes(3)? => known.clone(),
            _ => self.category.insert(Category::parse(text(3)?).map_err(corrupt)?).clone(),
        };
        let currency = match self.currency {
            Some(known) if known.as_str().as_bytes() == bytes(5)? => known,
            _ => *self.currency.insert(Currency::parse(text(5)?).map_err(corrupt)?),
        };
        Ok(Posting {
            product_id: ProductId::parse(text(0)?).map_err(corrupt)?,
            in_title: row.get::<_, i64>(1).map_err(store_error)? != 0,
            title_key: text(2)?.to_owned(),
            category,
            price: Money::new(row.get(4).map_err(store_error)?, currency).map_err(corrupt)?,
        })
    }
}

fn collect<T>(
    mut rows: rusqlite::Rows<'_>,
    mut map: impl FnMut(&Row<'_>) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(store_error)? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// Writes one product row (insert, or replace when `replace`) and its index
/// entries. Returns whether a row was written. An import replaces a
/// product's fields and stock; it keeps the back office's archive.
pub(crate) fn write_product(tx: &Transaction<'_>, p: &Product, replace: bool) -> Result<bool, Error> {
    // A change to what a shopper sees moves the version (so an ETag from
    // before is stale) and marks the product as the import wrote it; stock
    // alone, like a sale, does neither.
    const CHANGED: &str = "(title IS NOT excluded.title OR description IS NOT excluded.description \
         OR category IS NOT excluded.category OR price_amount IS NOT excluded.price_amount \
         OR price_currency IS NOT excluded.price_currency OR image_url IS NOT excluded.image_url)";
    let conflict = if replace {
        format!(
            "ON CONFLICT(id) DO UPDATE SET title = excluded.title, description = excluded.description, \
             category = excluded.category, price_amount = excluded.price_amount, \
             price_currency = excluded.price_currency, image_url = excluded.image_url, \
             stock = excluded.stock, title_key = excluded.title_key, version = version + {CHANGED}, \
             updated_at = CASE WHEN {CHANGED} THEN 0 ELSE updated_at END"
        )
    } else {
        "ON CONFLICT(id) DO NOTHING".to_owned()
    };
    let sql = format!(
        "INSERT INTO products ({PRODUCT_COLUMNS}, title_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) {conflict} \
         RETURNING archived"
    );
    let archived: Option<i64> = tx
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_row(
                params![
                    p.id.as_str(),
                    p.title,
                    p.description,
                    p.category.as_str(),
                    p.price.amount,
                    p.price.currency.as_str(),
                    p.image_url,
                    i64::from(p.stock),
                    p.title_order_key(),
                ],
                |row| row.get(0),
            )
            .optional()
        })
        .map_err(store_error)?;
    // Nothing written (a create of an existing id) returns no row.
    let Some(archived) = archived else { return Ok(false) };
    // An import keeps what the back office decided: archived stays archived.
    index_product(tx, p, archived == 0)?;
    Ok(true)
}

/// Replaces a product's search index entries: its current words when
/// `live`, none when archived (an archived product is never found).
pub(crate) fn index_product(tx: &Transaction<'_>, p: &Product, live: bool) -> Result<(), Error> {
    tx.prepare_cached("DELETE FROM search_terms WHERE product_id = ?1")
        .and_then(|mut stmt| stmt.execute(params![p.id.as_str()]))
        .map_err(store_error)?;
    if !live {
        return Ok(());
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO search_terms (term, product_id, in_title, title_key, category, price_amount, price_currency) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(store_error)?;
    let title_key = p.title_order_key();
    for (term, in_title) in index_entries(p) {
        insert
            .execute(params![
                term,
                p.id.as_str(),
                i64::from(in_title),
                title_key,
                p.category.as_str(),
                p.price.amount,
                p.price.currency.as_str()
            ])
            .map_err(store_error)?;
    }
    Ok(())
}

/// A walk of products in title order after a title key, within one category
/// when given, that stops at `limit` admitted rows or after reading
/// `budget` rows (the listing's share of the store for one request).
pub(crate) struct TitleWalk<'a> {
    pub columns: &'a str,
    /// Archived products are left out (every public read).
    pub live_only: bool,
    pub limit: usize,
    pub budget: usize,
}

impl TitleWalk<'_> {
    /// The admitted rows, and the title key the walk stopped at when the
    /// budget ran out first. `admit` maps a row to its title key and the
    /// item, if the filter admits it.
    pub(crate) fn run<T>(
        &self,
        conn: &rusqlite::Connection,
        category: Option<&str>,
        after: &str,
        admit: impl Fn(&Row<'_>) -> Result<(String, Option<T>), Error>,
    ) -> Result<(Vec<T>, Option<String>), Error> {
        // The category narrows the read by index (one statement per shape:
        // `?2 IS NULL OR category = ?2` would walk the whole title index);
        // other filters are checked on the rows read, at most `budget`.
        let columns = self.columns;
        let live = if self.live_only { " AND archived = 0" } else { "" };
        let sql = match category {
            Some(_) => format!(
                "SELECT {columns} FROM products INDEXED BY products_by_category \
                 WHERE category = ?2 AND title_key > ?1{live} ORDER BY title_key"
            ),
            None => {
                format!("SELECT {columns} FROM products WHERE title_key > ?1 AND ?2 IS NULL{live} ORDER BY title_key")
            }
        };
        let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
        let mut rows = stmt.query(params![after, category]).map_err(store_error)?;
        let mut items = Vec::new();
        let mut read = 0;
        while let Some(row) = rows.next().map_err(store_error)? {
            let (title_key, item) = admit(row)?;
            read += 1;
            if let Some(item) = item {
                items.push(item);
                if items.len() >= self.limit {
                    return Ok((items, None));
                }
            }
            if read >= self.budget {
                return Ok((items, Some(title_key)));
            }
        }
        Ok((items, None))
    }
}

/// The smallest string above every string that starts with `prefix`
/// (bytewise, as SQLite compares TEXT): the prefix with U+10FFFF appended.
fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

#[async_trait]
impl Catalog for EmbeddedStore {
    async fn product(&self, id: &ProductId) -> Result<Option<Product>, Error> {
        let mut found = self.products(std::slice::from_ref(id)).await?;
        Ok(found.pop())
    }

    async fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, Error> {
        let ids: Vec<ProductId> = ids.to_vec();
        self.db
            .read(move |conn| {
                // Archived products are the back office's only.
                let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?1 AND archived = 0");
                let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
                let mut found = Vec::with_capacity(ids.len());
                for id in &ids {
                    let mut rows = stmt.query(params![id.as_str()]).map_err(store_error)?;
                    if let Some(row) = rows.next().map_err(store_error)? {
                        found.push(product_from_row(row)?);
                    }
                }
                Ok(found)
            })
            .await
    }

    async fn create(&self, product: &Product) -> Result<Written, Error> {
        let product = product.clone();
        let created = self.db.write(move |tx| write_product(tx, &product, false)).await?;
        Ok(if created { Written::Created } else { Written::AlreadyExists })
    }

    async fn upsert(&self, products: &[Product]) -> Result<ImportReport, Error> {
        let mut report = ImportReport::default();
        for chunk in products.chunks(UPSERT_CHUNK) {
            let written = chunk.len();
            let chunk = chunk.to_vec();
            self.db
                .write(move |tx| {
                    for product in &chunk {
                        write_product(tx, product, true)?;
                    }
                    Ok(())
                })
                .await?;
            report.written += written;
        }
        Ok(report)
    }

    async fn list(
        &self,
        filter: &CatalogFilter,
        after: Option<&str>,
        limit: usize,
        budget: usize,
    ) -> Result<Listing, Error> {
        let filter = filter.clone();
        let after = after.unwrap_or("").to_owned();
        self.db
            .read(move |conn| {
                let walk = TitleWalk { columns: PRODUCT_COLUMNS, live_only: true, limit, budget };
                let category = filter.category.as_ref().map(|c| c.as_str());
                let (products, read_up_to) = walk.run(conn, category, &after, |row| {
                    let product = product_from_row(row)?;
                    let admitted = filter.admits(&product.category, product.price.amount);
                    Ok((product.title_order_key(), admitted.then_some(product)))
                })?;
                Ok(Listing { products, read_up_to })
            })
            .await
    }

    async fn is_empty(&self) -> Result<bool, Error> {
        self.db
            .read(|conn| {
                conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM products)", [], |row| row.get(0)).map_err(store_error)
            })
            .await
    }
}

const POSTING_COLUMNS: &str = "product_id, in_title, title_key, category, price_amount, price_currency";

/// Folds index rows into one posting per product: under a prefix, several of
/// a product's terms may match (its posting is `in_title` if any is). The
/// table holds indices into `postings` with their hashes, so a product seen
/// again costs a probe, not an allocation, and growing never rehashes ids.
#[derive(Default)]
struct PostingsByProduct {
    postings: Vec<Posting>,
    seen: HashTable<(u64, usize)>,
    hasher: DefaultHashBuilder,
    decoder: PostingDecoder,
}

impl PostingsByProduct {
    fn add(&mut self, row: &Row<'_>) -> Result<(), Error> {
        let id = row.get_ref(0).and_then(|v| Ok(v.as_str()?)).map_err(store_error)?;
        let hash = self.hasher.hash_one(id);
        let postings = &mut self.postings;
        match self.seen.find(hash, |&(_, i)| postings[i].product_id.as_str() == id) {
            Some(&(_, i)) => postings[i].in_title |= row.get::<_, i64>(1).map_err(store_error)? != 0,
            None => {
                postings.push(self.decoder.decode(row)?);
                self.seen.insert_unique(hash, (hash, postings.len() - 1), |&(hash, _)| hash);
            }
        }
        Ok(())
    }
}

/// SQLite's LIMIT for "more than `limit`": one row past it, or none (-1).
fn limit_past(limit: usize) -> i64 {
    limit.checked_add(1).and_then(|n| i64::try_from(n).ok()).unwrap_or(-1)
}

#[async_trait]
impl SearchIndex for EmbeddedStore {
    async fn postings(&self, term: Term<'_>, limit: usize) -> Result<Option<Vec<Posting>>, Error> {
        let term = OwnedTerm::from(term);
        self.db
            .read(move |conn| match term {
                OwnedTerm::Word(word) => {
                    let sql = format!("SELECT {POSTING_COLUMNS} FROM search_terms WHERE term = ?1 LIMIT ?2");
                    let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
                    let mut decoder = PostingDecoder::default();
                    let postings =
                        collect(stmt.query(params![word, limit_past(limit)]).map_err(store_error)?, |row| {
                            decoder.decode(row)
                        })?;
                    Ok((postings.len() <= limit).then_some(postings))
                }
                OwnedTerm::Prefix(prefix) => {
                    let sql = format!("SELECT {POSTING_COLUMNS} FROM search_terms WHERE term >= ?1 AND term < ?2");
                    let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
                    let mut rows = stmt.query(params![prefix, prefix_upper_bound(&prefix)]).map_err(store_error)?;
                    let mut by_product = PostingsByProduct::default();
                    while let Some(row) = rows.next().map_err(store_error)? {
                        by_product.add(row)?;
                        if by_product.postings.len() > limit {
                            return Ok(None);
                        }
                    }
                    Ok(Some(by_product.postings))
                }
            })
            .await
    }

    async fn postings_among(&self, term: Term<'_>, ids: &[ProductId]) -> Result<Vec<Posting>, Error> {
        let term = OwnedTerm::from(term);
        let ids = ids.to_vec();
        self.db.read(move |conn| postings_among(conn, &term, &ids)).await
    }

    /// A word is a range of the title index; a prefix of a few words a
    /// merge of theirs; a prefix of more, a range of the prefix index
    /// (`PREFIX_KEY_CHARS` letters or more) or else a walk of the catalog.
    async fn title_ordered(&self, term: Term<'_>) -> Result<bool, Error> {
        match OwnedTerm::from(term) {
            OwnedTerm::Word(_) => Ok(true),
            OwnedTerm::Prefix(prefix) if prefix_keyed(&prefix) => Ok(true),
            OwnedTerm::Prefix(prefix) => self.db.read(move |conn| Ok(terms_under(conn, &prefix)?.is_some())).await,
        }
    }

    async fn postings_in_title_order(
        &self,
        term: Term<'_>,
        from: TitleFrom<'_>,
        read: usize,
        titles_only: bool,
    ) -> Result<TitleRun, Error> {
        let term = OwnedTerm::from(term);
        let from = Bound::of(from);
        let read = read.max(1);
        let kinds: &[i64] = if titles_only { &[1] } else { &[1, 0] };
        self.db
            .read(move |conn| {
                let words = match &term {
                    OwnedTerm::Word(word) => vec![word.clone()],
                    OwnedTerm::Prefix(prefix) => match terms_under(conn, prefix)? {
                        Some(words) => words,
                        None if prefix_keyed(prefix) => {
                            let ranges: Vec<i64> = kinds.to_vec();
                            return merged_in_title_order(&ranges, read, |&kind, share| {
                                prefix_in_title_order(conn, (prefix, kind), &from, share)
                            });
                        }
                        None => return walk_in_title_order(conn, &term, &from, read, titles_only),
                    },
                };
                let ranges: Vec<(&str, i64)> =
                    words.iter().flat_map(|word| kinds.iter().map(move |&kind| (word.as_str(), kind))).collect();
                merged_in_title_order(&ranges, read, |&range, share| range_in_title_order(conn, range, &from, share))
            })
            .await
    }
}

/// A title key bound as SQL takes it: the operator and the key.
struct Bound {
    op: &'static str,
    key: String,
}

impl Bound {
    fn of(from: TitleFrom<'_>) -> Self {
        match from {
            TitleFrom::Start => Self { op: ">=", key: String::new() },
            TitleFrom::After(key) => Self { op: ">", key: key.to_owned() },
            TitleFrom::AtOrAfter(key) => Self { op: ">=", key: key.to_owned() },
        }
    }
}

/// The run's end: the last key when the read was full, else the list's end.
fn run_of(postings: Vec<Posting>, read: usize) -> TitleRun {
    let read_up_to = postings.last().filter(|_| postings.len() >= read).map(|p| p.title_key.clone());
    TitleRun { postings, read_up_to }
}

/// One word's postings in title order, in the title (`in_title` 1) or in
/// the description only (0): a range of the covering index
/// `search_terms_by_title`, read in sequence.
fn range_in_title_order(
    conn: &rusqlite::Connection,
    (word, in_title): (&str, i64),
    from: &Bound,
    read: usize,
) -> Result<TitleRun, Error> {
    let sql = format!(
        "SELECT {POSTING_COLUMNS} FROM search_terms INDEXED BY search_terms_by_title \
         WHERE term = ?1 AND in_title = ?2 AND title_key {} ?3 ORDER BY title_key LIMIT ?4",
        from.op
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
    let mut decoder = PostingDecoder::default();
    let limit = i64::try_from(read).unwrap_or(i64::MAX);
    let rows = stmt.query(params![word, in_title, from.key, limit]).map_err(store_error)?;
    let postings = collect(rows, |row| decoder.decode(row))?;
    Ok(run_of(postings, read))
}

/// Several ranges' postings in title order: each read in title order by
/// `read_range`, a share of `read` each, merged up to the first key one of
/// them stopped at (below it every range's postings are in hand), one
/// posting per product (`in_title` if any of its terms is).
fn merged_in_title_order<R>(
    ranges: &[R],
    read: usize,
    read_range: impl Fn(&R, usize) -> Result<TitleRun, Error>,
) -> Result<TitleRun, Error> {
    if let [range] = ranges {
        return read_range(range, read);
    }
    let share = (read / ranges.len().max(1)).max(1);
    let mut merged = Vec::new();
    let mut cut: Option<String> = None;
    for range in ranges {
        let run = read_range(range, share)?;
        if let Some(end) = run.read_up_to {
            cut = Some(cut.map_or(end.clone(), |cut| cut.min(end)));
        }
        merged.extend(run.postings);
    }
    if let Some(cut) = &cut {
        merged.retain(|p| p.title_key <= *cut);
    }
    merged.sort_by(|a, b| a.title_key.cmp(&b.title_key));
    merged.dedup_by(|later, kept| {
        let same = later.title_key == kept.title_key;
        if same {
            kept.in_title |= later.in_title;
        }
        same
    });
    Ok(TitleRun { postings: merged, read_up_to: cut })
}

/// Letters of a term the prefix index `search_terms_by_prefix` is keyed by
/// (`substr(term, 1, 3)` in its definition): a prefix as long serves its
/// postings in title order from one range of it.
const PREFIX_KEY_CHARS: usize = 3;

fn prefix_keyed(prefix: &str) -> bool {
    prefix.chars().nth(PREFIX_KEY_CHARS - 1).is_some()
}

/// A prefix's postings in title order, in the title (`in_title` 1) or in
/// the description only (0): a range of `search_terms_by_prefix` under the
/// prefix's first letters, in sequence. Rows of words there that the
/// longer prefix does not start are read (counted in `read`) and passed
/// over; a product holding several of its words is one posting.
fn prefix_in_title_order(
    conn: &rusqlite::Connection,
    (prefix, in_title): (&str, i64),
    from: &Bound,
    read: usize,
) -> Result<TitleRun, Error> {
    let key: String = prefix.chars().take(PREFIX_KEY_CHARS).collect();
    let sql = format!(
        "SELECT {POSTING_COLUMNS}, term FROM search_terms INDEXED BY search_terms_by_prefix \
         WHERE substr(term, 1, 3) = ?1 AND in_title = ?2 AND title_key {} ?3 ORDER BY title_key LIMIT ?4",
        from.op
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
    let mut decoder = PostingDecoder::default();
    let limit = i64::try_from(read).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![key, in_title, from.key, limit]).map_err(store_error)?;
    let (mut postings, mut scanned, mut last_key) = (Vec::<Posting>::new(), 0, None);
    while let Some(row) = rows.next().map_err(store_error)? {
        scanned += 1;
        let text = |i: usize| row.get_ref(i).and_then(|v| Ok(v.as_str()?)).map_err(store_error);
        let title_key = text(2)?;
        if scanned == read {
            last_key = Some(title_key.to_owned());
        }
        if text(6)?.starts_with(prefix) && postings.last().is_none_or(|p| p.title_key != title_key) {
            postings.push(decoder.decode(row)?);
        }
    }
    let Some(last_key) = last_key else { return Ok(TitleRun { postings, read_up_to: None }) };
    // The read may have stopped inside the last product's rows, before the
    // one of its words the prefix starts: the run decides up to its key.
    if postings.last().is_none_or(|p| p.title_key != last_key) {
        let mut held = conn
            .prepare_cached(&format!(
                "SELECT {POSTING_COLUMNS} FROM search_terms INDEXED BY search_terms_by_prefix \
                 WHERE substr(term, 1, 3) = ?1 AND in_title = ?2 AND title_key = ?3 \
                 AND term >= ?4 AND term < ?5 LIMIT 1"
            ))
            .map_err(store_error)?;
        let upper = prefix_upper_bound(prefix);
        let rows = held.query(params![key, in_title, last_key, prefix, upper]).map_err(store_error)?;
        postings.extend(collect(rows, |row| decoder.decode(row))?);
    }
    Ok(TitleRun { postings, read_up_to: Some(last_key) })
}

/// Terms under a prefix served in title order by merging theirs; more than
/// this and the catalog is walked instead.
const MERGED_TERMS: usize = 4;

/// The terms starting with `prefix`, one seek each; `None` past `MERGED_TERMS`.
fn terms_under(conn: &rusqlite::Connection, prefix: &str) -> Result<Option<Vec<String>>, Error> {
    let mut first = conn
        .prepare_cached("SELECT term FROM search_terms WHERE term >= ?1 AND term < ?2 ORDER BY term LIMIT 1")
        .map_err(store_error)?;
    let mut next = conn
        .prepare_cached("SELECT term FROM search_terms WHERE term > ?1 AND term < ?2 ORDER BY term LIMIT 1")
        .map_err(store_error)?;
    let upper = prefix_upper_bound(prefix);
    let mut terms: Vec<String> = Vec::new();
    loop {
        let found: Option<String> = match terms.last() {
            None => first.query_row(params![prefix, upper], |row| row.get(0)),
            Some(last) => next.query_row(params![last, upper], |row| row.get(0)),
        }
        .optional()
        .map_err(store_error)?;
        match found {
            Some(_) if terms.len() == MERGED_TERMS => return Ok(None),
            Some(term) => terms.push(term),
            None => return Ok(Some(terms)),
        }
    }
}

/// A prefix spanning many terms: the catalog walked in title order, each
/// product probed for the prefix.
fn walk_in_title_order(
    conn: &rusqlite::Connection,
    term: &OwnedTerm,
    from: &Bound,
    read: usize,
    titles_only: bool,
) -> Result<TitleRun, Error> {
    let sql = format!(
        "SELECT id, title_key FROM products WHERE title_key {} ?1 AND archived = 0 ORDER BY title_key LIMIT ?2",
        from.op
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
    let limit = i64::try_from(read).unwrap_or(i64::MAX);
    let walked = collect(stmt.query(params![from.key, limit]).map_err(store_error)?, |row| {
        let id: String = row.get(0).map_err(store_error)?;
        let key: String = row.get(1).map_err(store_error)?;
        Ok((ProductId::parse(&id).map_err(corrupt)?, key))
    })?;
    let read_up_to = walked.last().filter(|_| walked.len() >= read).map(|(_, key)| key.clone());
    let ids: Vec<ProductId> = walked.into_iter().map(|(id, _)| id).collect();
    let mut postings = postings_among(conn, term, &ids)?;
    postings.retain(|p| p.in_title || !titles_only);
    Ok(TitleRun { postings, read_up_to })
}

/// The postings of `term` among `ids`, in the order of `ids`: one statement
/// that seeks each id by key (the ids passed as one JSON array, so a probe of
/// hundreds of products is one call into SQLite, not hundreds).
fn postings_among(conn: &rusqlite::Connection, term: &OwnedTerm, ids: &[ProductId]) -> Result<Vec<Posting>, Error> {
    let ids_json =
        serde_json::to_string(&ids.iter().map(ProductId::as_str).collect::<Vec<_>>()).map_err(Error::internal)?;
    let mut by_product = PostingsByProduct::default();
    // `ids.key` is the id's place in the array: rows come back in its order.
    // CROSS JOIN keeps the ids outermost: SQLite cannot weigh `json_each`,
    // and walking a common term's postings against it costs their product.
    let (sql, low, high) = match term {
        OwnedTerm::Word(word) => (
            format!(
                "SELECT {POSTING_COLUMNS} FROM json_each(?1) AS ids \
                 CROSS JOIN search_terms ON term = ?2 AND product_id = ids.value ORDER BY ids.key"
            ),
            word.clone(),
            String::new(),
        ),
        OwnedTerm::Prefix(prefix) => (
            format!(
                "SELECT {POSTING_COLUMNS} FROM json_each(?1) AS ids \
                 CROSS JOIN search_terms INDEXED BY search_terms_by_product \
                 ON product_id = ids.value AND term >= ?2 AND term < ?3 ORDER BY ids.key"
            ),
            prefix.clone(),
            prefix_upper_bound(prefix),
        ),
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(store_error)?;
    let mut rows = match term {
        OwnedTerm::Word(_) => stmt.query(params![ids_json, low]),
        OwnedTerm::Prefix(_) => stmt.query(params![ids_json, low, high]),
    }
    .map_err(store_error)?;
    while let Some(row) = rows.next().map_err(store_error)? {
        by_product.add(row)?;
    }
    Ok(by_product.postings)
}

/// A `Term` that can move to the blocking thread that reads SQLite.
enum OwnedTerm {
    Word(String),
    Prefix(String),
}

impl From<Term<'_>> for OwnedTerm {
    fn from(term: Term<'_>) -> Self {
        match term {
            Term::Word(word) => Self::Word(word.to_owned()),
            Term::Prefix(prefix) => Self::Prefix(prefix.to_owned()),
        }
    }
}

/// Takes every line's units inside `tx`, where `stock >= quantity` and the
/// product is live; any short line fails the whole with each shortage named,
/// and a product archived since the cart was priced fails it as unknown (the
/// caller's error rolls the transaction back).
pub(crate) fn take_stock(tx: &Transaction<'_>, lines: &[StockLine]) -> Result<(), Error> {
    let mut take = tx
        .prepare_cached("UPDATE products SET stock = stock - ?2 WHERE id = ?1 AND stock >= ?2 AND archived = 0")
        .map_err(store_error)?;
    let mut level = tx.prepare_cached("SELECT stock, archived FROM products WHERE id = ?1").map_err(store_error)?;
    let mut shortages = Vec::new();
    let mut archived = Vec::new();
    for line in lines {
        let quantity = i64::from(line.quantity.get());
        let taken = take.execute(params![line.product_id.as_str(), quantity]).map_err(store_error)?;
        if taken == 0 {
            let found: Option<(i64, bool)> = level
                .query_row(params![line.product_id.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
                .map_err(store_error)?;
            match found {
                Some((_, true)) => archived.push(line.product_id.clone()),
                found => shortages.push(Shortage {
                    product_id: line.product_id.clone(),
                    requested: line.quantity.get(),
                    available: found.and_then(|(n, _)| StockLevel::try_from(n).ok()).unwrap_or(0),
                }),
            }
        }
    }
    if !archived.is_empty() {
        return Err(Error::UnknownProduct(archived));
    }
    if shortages.is_empty() { Ok(()) } else { Err(Error::OutOfStock(shortages)) }
}

/// Gives every line's units back inside `tx`.
pub(crate) fn give_stock(tx: &Transaction<'_>, lines: &[StockLine]) -> Result<(), Error> {
    let mut give = tx.prepare_cached("UPDATE products SET stock = stock + ?2 WHERE id = ?1").map_err(store_error)?;
    for line in lines {
        let quantity = i64::from(line.quantity.get());
        if give.execute(params![line.product_id.as_str(), quantity]).map_err(store_error)? == 0 {
            return Err(Error::internal(format!("release of unknown product {}", line.product_id)));
        }
    }
    Ok(())
}

#[async_trait]
impl Stock for EmbeddedStore {
    async fn reserve(&self, lines: &[StockLine]) -> Result<(), Error> {
        check_distinct(lines)?;
        let lines = lines.to_vec();
        self.db.write(move |tx| take_stock(tx, &lines)).await
    }

    async fn release(&self, lines: &[StockLine]) -> Result<(), Error> {
        check_distinct(lines)?;
        let lines = lines.to_vec();
        self.db.write(move |tx| give_stock(tx, &lines)).await
    }

    async fn level(&self, id: &ProductId) -> Result<Option<StockLevel>, Error> {
        let id = id.clone();
        self.db
            .read(move |conn| {
                let stock: Option<i64> = conn
                    .query_row("SELECT stock FROM products WHERE id = ?1", params![id.as_str()], |row| row.get(0))
                    .optional()
                    .map_err(store_error)?;
                stock.map(|n| StockLevel::try_from(n).map_err(corrupt)).transpose()
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, title: &str) -> Product {
        Product {
            id: ProductId::parse(id).unwrap(),
            title: title.to_owned(),
            description: String::new(),
            category: Category::parse("kitchen").unwrap(),
            price: Money::new(100, Currency::parse("USD").unwrap()).unwrap(),
            image_url: None,
            stock: 1,
        }
    }

    /// A read of one entry that stops on a product's row of a word the
    /// prefix does not start ("cup" under "cupo") still finds the product's
    /// row that it does start ("cupola"), before the run moves past it.
    #[tokio::test]
    async fn a_prefix_read_cut_inside_a_products_rows_keeps_its_match() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        // "Mm cups" is under the index's "cup" but not under "cupo".
        let mut catalog = vec![product("a", "Aa cup cupola"), product("m", "Mm cups")];
        // More words under "cupo" than a store merges: the prefix index serves it.
        for (i, word) in ["cupolas", "cupolar", "cupolaed", "cupolated", "cupolette"].iter().enumerate() {
            catalog.push(product(&format!("z{i}"), &format!("Zz {word}")));
        }
        store.upsert(&catalog).await.unwrap();
        let prefix = Term::Prefix("cupo");
        assert!(store.title_ordered(prefix).await.unwrap());
        let run = store.postings_in_title_order(prefix, TitleFrom::Start, 1, true).await.unwrap();
        let ids: Vec<&str> = run.postings.iter().map(|p| p.product_id.as_str()).collect();
        assert_eq!(ids, ["a"], "the first product holds cupola");
        assert_eq!(run.read_up_to.as_deref(), Some(catalog[0].title_order_key().as_str()));
        let rest = store
            .postings_in_title_order(prefix, TitleFrom::After(run.read_up_to.as_deref().unwrap()), 10, true)
            .await
            .unwrap();
        let ids: Vec<&str> = rest.postings.iter().map(|p| p.product_id.as_str()).collect();
        assert_eq!(ids, ["z2", "z1", "z0", "z3", "z4"], "in title order, each holding a word under cupo, once");
        assert_eq!(rest.read_up_to, None);
    }
}
