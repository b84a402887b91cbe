//! What a catalog search asks: words, a filter and a page size.

use crate::catalog::Category;

/// The longest `q` a search takes, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// Category and inclusive price bounds (minor units).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatalogFilter {
    pub category: Option<Category>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
}

impl CatalogFilter {
    pub fn admits(&self, category: &Category, price: i64) -> bool {
        self.category.as_ref().is_none_or(|c| c == category)
            && self.min_price.is_none_or(|min| price >= min)
            && self.max_price.is_none_or(|max| price <= max)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProductQuery {
    /// The folded words of `q`; empty lists the catalog.
    pub words: Vec<String>,
    pub filter: CatalogFilter,
    pub limit: usize,
}

impl ProductQuery {
    /// The cursor scope: a cursor is good for the same words and filter
    /// (not the limit, which a client may change between pages).
    pub fn cursor_scope(&self) -> String {
        let f = &self.filter;
        format!(
            "q={}|category={}|min={}|max={}",
            self.words.join(" "),
            f.category.as_ref().map_or("", |c| c.as_str()),
            f.min_price.map(|n| n.to_string()).unwrap_or_default(),
            f.max_price.map(|n| n.to_string()).unwrap_or_default(),
        )
    }
}
