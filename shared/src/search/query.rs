//! `GET /products` query parameters, parsed once at the edge.

use crate::catalog::Category;
use crate::error::{Error, FieldError};

use super::analyze::words;

pub const MAX_QUERY_CHARS: usize = 200;
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

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
    pub cursor: Option<String>,
}

impl ProductQuery {
    /// What a cursor is bound to: the same words and filter (not the limit,
    /// which a client may change between pages).
    pub fn fingerprint(&self) -> String {
        let f = &self.filter;
        format!(
            "q={}|category={}|min={}|max={}",
            self.words.join(" "),
            f.category.as_ref().map_or("", |c| c.as_str()),
            f.min_price.map(|n| n.to_string()).unwrap_or_default(),
            f.max_price.map(|n| n.to_string()).unwrap_or_default(),
        )
    }

    /// Parses query parameters, naming every bad one.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let mut query = ProductQuery { limit: DEFAULT_LIMIT, ..Default::default() };
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if seen.contains(&name.as_str()) {
                errors.push(FieldError::new(name.clone(), "must be given at most once"));
                continue;
            }
            seen.push(name);
            let mut bad = |message: String| errors.push(FieldError::new(name.clone(), message));
            match name.as_str() {
                "q" if value.chars().count() > MAX_QUERY_CHARS => {
                    bad(format!("must be at most {MAX_QUERY_CHARS} characters"))
                }
                "q" => query.words = words(value),
                "category" => match Category::parse(value) {
                    Ok(c) => query.filter.category = Some(c),
                    Err(message) => bad(message),
                },
                "min_price" | "max_price" => match value.parse::<i64>() {
                    Ok(n) if n >= 0 => {
                        if name == "min_price" {
                            query.filter.min_price = Some(n)
                        } else {
                            query.filter.max_price = Some(n)
                        }
                    }
                    _ => bad("must be a non-negative integer amount in minor units".into()),
                },
                "limit" => match value.parse::<usize>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => query.limit = n,
                    _ => bad(format!("must be an integer from 1 to {MAX_LIMIT}")),
                },
                "cursor" => query.cursor = Some(value.clone()),
                _ => bad("is not a known parameter".into()),
            }
        }
        if let (Some(min), Some(max)) = (query.filter.min_price, query.filter.max_price)
            && min > max
        {
            errors.push(FieldError::new("min_price", "must not be greater than max_price"));
        }
        if errors.is_empty() { Ok(query) } else { Err(Error::Validation(errors)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<ProductQuery, Error> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        ProductQuery::parse(&pairs)
    }

    fn bad_fields(query: &str) -> Vec<String> {
        match parse(query) {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("{query}: expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn parses_every_parameter() {
        let q = parse("q=Blue+Mu&category=kitchen&min_price=100&max_price=2000&limit=5&cursor=abc").unwrap();
        assert_eq!(q.words, ["blue", "mu"]);
        assert_eq!(q.filter.category.unwrap().as_str(), "kitchen");
        assert_eq!((q.filter.min_price, q.filter.max_price), (Some(100), Some(2000)));
        assert_eq!(q.limit, 5);
        assert_eq!(q.cursor.as_deref(), Some("abc"));
        assert_eq!(parse("").unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn names_every_bad_parameter() {
        assert_eq!(bad_fields(&format!("q={}", "x".repeat(201))), ["q"]);
        assert_eq!(bad_fields("min_price=-1&max_price=abc&limit=0"), ["min_price", "max_price", "limit"]);
        assert_eq!(bad_fields("limit=101&category=Not%20A%20Slug&sort=price"), ["limit", "category", "sort"]);
        assert_eq!(bad_fields("min_price=500&max_price=100"), ["min_price"]);
        assert_eq!(bad_fields("limit=5&limit=6"), ["limit"]);
        assert!(parse(&format!("q={}", "é".repeat(200))).is_ok(), "limit counts characters, not bytes");
    }
}
