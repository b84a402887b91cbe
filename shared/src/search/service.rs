//! The search use case: words → postings → ranked page of products.

use std::sync::Arc;

use futures_util::future::try_join_all;
use serde::Serialize;

use crate::catalog::{Product, ProductView};
use crate::error::Error;
use crate::ports::{Catalog, SearchIndex};

use super::cursor::{CursorKey, Position};
use super::query::ProductQuery;
use super::rank::{intersect, page_after};

#[derive(Debug, Serialize)]
pub struct ProductPage {
    pub items: Vec<ProductView>,
    pub next_cursor: Option<String>,
}

#[derive(Clone)]
pub struct ProductSearch {
    catalog: Arc<dyn Catalog>,
    index: Arc<dyn SearchIndex>,
    cursor_key: CursorKey,
}

impl ProductSearch {
    pub fn new(catalog: Arc<dyn Catalog>, index: Arc<dyn SearchIndex>, cursor_key: CursorKey) -> Self {
        Self { catalog, index, cursor_key }
    }

    pub async fn search(&self, query: &ProductQuery) -> Result<ProductPage, Error> {
        let fingerprint = query.fingerprint();
        let after = query.cursor.as_deref().map(|c| self.cursor_key.decode(&fingerprint, c)).transpose()?;
        let (products, last) =
            if query.words.is_empty() { self.list(query, after).await? } else { self.matches(query, after).await? };
        Ok(ProductPage {
            items: products.iter().map(ProductView::from).collect(),
            next_cursor: last.map(|position| self.cursor_key.encode(&fingerprint, &position)),
        })
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
        let mut products = self.catalog.list(&query.filter, after_key.as_deref(), query.limit + 1).await?;
        let more = products.len() > query.limit;
        products.truncate(query.limit);
        let last =
            products.last().filter(|_| more).map(|p| Position { title_words: None, title_key: p.title_order_key() });
        Ok((products, last))
    }

    /// Words: every word's postings (the last word as a prefix) looked up
    /// concurrently, intersected and ranked here, then one batch read of the
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
        let last = query.words.len() - 1;
        let lookups = query.words.iter().enumerate().map(|(i, word)| async move {
            if i == last { self.index.prefix_postings(word).await } else { self.index.postings(word).await }
        });
        let hits = intersect(try_join_all(lookups).await?, &query.filter);
        let (page, more) = page_after(hits, after.as_ref().map(|(w, k)| (*w, k.as_str())), query.limit);
        let ids: Vec<_> = page.iter().map(|hit| hit.product_id.clone()).collect();
        let products = if ids.is_empty() { Vec::new() } else { self.catalog.products(&ids).await? };
        let last = page
            .last()
            .filter(|_| more)
            .map(|hit| Position { title_words: Some(hit.title_words), title_key: hit.title_key.clone() });
        Ok((products, last))
    }
}
