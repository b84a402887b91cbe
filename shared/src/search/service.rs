//! The search use case: words → postings → ranked page of products.

use std::sync::Arc;

use futures_util::future::try_join_all;

use crate::catalog::{Product, ProductView};
use crate::error::Error;
use crate::id::ProductId;
use crate::ports::{Catalog, SearchIndex};

use super::position::Position;
use super::query::{CatalogFilter, ProductQuery};
use super::rank::{Hit, intersect, page_after};
use super::scan::{Scan, ScanPosition};
use super::term::Term;

/// One page of results, and where the next one starts (`None` at the end).
#[derive(Debug)]
pub struct SearchPage {
    pub items: Vec<ProductView>,
    pub next: Option<Position>,
}

#[derive(Clone)]
pub struct ProductSearch {
    catalog: Arc<dyn Catalog>,
    index: Arc<dyn SearchIndex>,
    probe_above: usize,
    list_budget: usize,
    scan_budget: usize,
}

/// Products one listing request reads at most: a filter that matches
/// little answers a short page and a cursor instead of scanning on.
pub const LIST_BUDGET: usize = 1_000;

/// Postings read per word before the word counts as common and is probed
/// instead (see `ProductSearch::hits`). A thousand postings is about a
/// millisecond on the embedded store and one page of a DynamoDB query.
pub const PROBE_ABOVE: usize = 1_000;

/// Index entries one page of a query made only of common words reads at
/// most (see `scan`), keys probed included: the join's reads and probes
/// stay within some 15 ms on the embedded store at 100 000 products
/// (BENCHMARKS.md), whatever the words, and 40 read stretches on DynamoDB.
pub const SCAN_BUDGET: usize = 10_000;

impl ProductSearch {
    pub fn new(catalog: Arc<dyn Catalog>, index: Arc<dyn SearchIndex>) -> Self {
        Self { catalog, index, probe_above: PROBE_ABOVE, list_budget: LIST_BUDGET, scan_budget: SCAN_BUDGET }
    }

    /// With another threshold for common words; tests use tiny ones so
    /// small catalogs take the probing path.
    pub fn with_probe_above(self, probe_above: usize) -> Self {
        Self { probe_above, ..self }
    }

    /// With another listing budget; tests use tiny ones so small catalogs
    /// take the short-page path.
    pub fn with_list_budget(self, list_budget: usize) -> Self {
        Self { list_budget: list_budget.max(1), ..self }
    }

    /// With another budget for queries of common words only; tests use tiny
    /// ones so small catalogs end pages early.
    pub fn with_scan_budget(self, scan_budget: usize) -> Self {
        Self { scan_budget: scan_budget.max(1), ..self }
    }

    /// The page of `query`'s results after `after` (a position this query's
    /// previous page handed out; one of another kind is `InvalidCursor`).
    pub async fn search(&self, query: &ProductQuery, after: Option<Position>) -> Result<SearchPage, Error> {
        let (products, next) =
            if query.words.is_empty() { self.list(query, after).await? } else { self.matches(query, after).await? };
        Ok(SearchPage { items: products.iter().map(ProductView::from).collect(), next })
    }

    /// No words: the catalog in title order, filtered by the store.
    async fn list(
        &self,
        query: &ProductQuery,
        after: Option<Position>,
    ) -> Result<(Vec<Product>, Option<Position>), Error> {
        if after.as_ref().is_some_and(|p| p.title_words.is_some()) {
            return Err(Error::InvalidCursor);
        }
        let after_key = after.map(|p| p.title_key);
        let listing = self.catalog.list(&query.filter, after_key.as_deref(), query.limit + 1, self.list_budget).await?;
        let mut products = listing.products;
        let more = products.len() > query.limit;
        products.truncate(query.limit);
        // A full page resumes after its last product; a page the budget cut
        // short (API.md: fewer than `limit`, with a cursor) after the last read.
        let resume = match products.last() {
            Some(last) if more => Some(last.title_order_key()),
            _ => listing.read_up_to,
        };
        Ok((products, resume.map(|title_key| Position { title_words: None, title_key })))
    }

    /// Words: the matching products, ranked; then one batch read of the
    /// page's products.
    async fn matches(
        &self,
        query: &ProductQuery,
        after: Option<Position>,
    ) -> Result<(Vec<Product>, Option<Position>), Error> {
        let after = match after {
            Some(Position { title_words: Some(words), title_key }) => Some((words, title_key)),
            Some(_) => return Err(Error::InvalidCursor),
            None => None,
        };
        let terms = Term::for_query(&query.words);
        let page = match self.hits(&terms, &query.filter).await? {
            Some(hits) => {
                let (page, more) = page_after(hits, after.as_ref().map(|(w, k)| (*w, k.as_str())), query.limit);
                let last = page.last().filter(|_| more).map(|hit| (hit.title_words, hit.title_key.clone()));
                (page, last)
            }
            None => {
                let scan = Scan {
                    index: self.index.as_ref(),
                    terms: &terms,
                    filter: &query.filter,
                    limit: query.limit,
                    budget: self.scan_budget,
                };
                let from = after.map(|(level, key)| ScanPosition { level, after: Some(key).filter(|k| !k.is_empty()) });
                let (page, next) = scan.page(from).await?;
                (page, next.map(|n| (n.level, n.after.unwrap_or_default())))
            }
        };
        let (page, next) = page;
        let ids: Vec<_> = page.iter().map(|hit| hit.product_id.clone()).collect();
        let products = if ids.is_empty() { Vec::new() } else { self.catalog.products(&ids).await? };
        let next = next.map(|(words, title_key)| Position { title_words: Some(words), title_key });
        Ok((products, next))
    }

    /// Every product matching all terms, or `None` when every term is
    /// common. Each term's postings are read concurrently, up to
    /// `probe_above` of them. A term with more (a very common word) is not
    /// read whole: the products the other terms allow are probed for it by
    /// key instead, so its cost follows the rarest word, not the commonest.
    /// When every term is common none is read whole: the caller scans.
    async fn hits(&self, terms: &[Term<'_>], filter: &CatalogFilter) -> Result<Option<Vec<Hit>>, Error> {
        let bounded = try_join_all(terms.iter().map(|&term| self.index.postings(term, self.probe_above))).await?;
        let mut read = Vec::new();
        let mut common = Vec::new();
        for (term, postings) in terms.iter().zip(bounded) {
            match postings {
                Some(postings) => read.push(postings),
                None => common.push(*term),
            }
        }
        if read.is_empty() {
            return Ok(None);
        }
        if common.is_empty() {
            return Ok(Some(intersect(&read, filter)));
        }
        let candidates: Vec<ProductId> = intersect(&read, filter).into_iter().map(|hit| hit.product_id).collect();
        if candidates.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let probed = try_join_all(common.iter().map(|&term| self.index.postings_among(term, &candidates))).await?;
        read.extend(probed);
        Ok(Some(intersect(&read, filter)))
    }
}
