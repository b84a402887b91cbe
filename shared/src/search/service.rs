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
}

/// Products one listing request reads at most: a filter that matches
/// little answers a short page and a cursor instead of scanning on.
pub const LIST_BUDGET: usize = 1_000;

/// Postings read per word before the word counts as common and is probed
/// instead (see `ProductSearch::hits`). A thousand postings is about a
/// millisecond on the embedded store and one page of a DynamoDB query.
pub const PROBE_ABOVE: usize = 1_000;

impl ProductSearch {
    pub fn new(catalog: Arc<dyn Catalog>, index: Arc<dyn SearchIndex>) -> Self {
        Self { catalog, index, probe_above: PROBE_ABOVE, list_budget: LIST_BUDGET }
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
        let hits = self.hits(&query.words, &query.filter).await?;
        let (page, more) = page_after(hits, after.as_ref().map(|(w, k)| (*w, k.as_str())), query.limit);
        let ids: Vec<_> = page.iter().map(|hit| hit.product_id.clone()).collect();
        let products = if ids.is_empty() { Vec::new() } else { self.catalog.products(&ids).await? };
        let last = page
            .last()
            .filter(|_| more)
            .map(|hit| Position { title_words: Some(hit.title_words), title_key: hit.title_key.clone() });
        Ok((products, last))
    }

    /// Every product matching all words. Each word's postings are read
    /// concurrently, up to `probe_above` of them. A word with more (a very
    /// common one) is not read whole: the products the other words allow
    /// are probed for it by key instead, so its cost follows the rarest
    /// word, not the commonest. Only when every word is common are they
    /// read whole.
    async fn hits(&self, words: &[String], filter: &CatalogFilter) -> Result<Vec<Hit>, Error> {
        let terms = Term::for_query(words);
        let bounded = try_join_all(terms.iter().map(|&term| self.index.postings(term, self.probe_above))).await?;
        let mut read = Vec::new();
        let mut common = Vec::new();
        for (term, postings) in terms.iter().zip(bounded) {
            match postings {
                Some(postings) => read.push(postings),
                None => common.push(*term),
            }
        }
        if common.is_empty() {
            return Ok(intersect(&read, filter));
        }
        if read.is_empty() {
            let whole = try_join_all(terms.iter().map(|&term| self.index.postings(term, usize::MAX))).await?;
            let whole: Option<Vec<_>> = whole.into_iter().collect();
            let whole = whole.ok_or_else(|| Error::internal("an unbounded postings read came back cut short"))?;
            return Ok(intersect(&whole, filter));
        }
        let candidates: Vec<ProductId> = intersect(&read, filter).into_iter().map(|hit| hit.product_id).collect();
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let probed = try_join_all(common.iter().map(|&term| self.index.postings_among(term, &candidates))).await?;
        read.extend(probed);
        Ok(intersect(&read, filter))
    }
}
