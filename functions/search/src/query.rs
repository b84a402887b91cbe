//! `GET /products`'s query string, parsed once at the edge into a search.

use galley_http::paging::PageRequest;
use galley_http::query::QueryParams;
use galley_shared::catalog::Category;
use galley_shared::search::{ProductQuery, query_words};
use galley_shared::{Error, FieldError};

/// The search a query string asks for, and which page of it; every bad
/// parameter is named.
pub fn product_query(mut params: QueryParams) -> Result<(ProductQuery, PageRequest), Error> {
    let mut errors = Vec::new();
    let page = PageRequest::take(&mut params, &mut errors);
    let mut query = ProductQuery { limit: page.limit, ..Default::default() };
    if let Some(q) = params.take("q") {
        match query_words(&q) {
            Ok(words) => query.words = words,
            Err(message) => errors.push(FieldError::new("q", message)),
        }
    }
    if let Some(category) = params.take("category") {
        match Category::parse(&category) {
            Ok(c) => query.filter.category = Some(c),
            Err(message) => errors.push(FieldError::new("category", message)),
        }
    }
    let mut price = |name: &str| {
        let value = params.take(name)?;
        match value.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                errors.push(FieldError::new(name, "must be a non-negative integer amount in minor units"));
                None
            }
        }
    };
    query.filter.min_price = price("min_price");
    query.filter.max_price = price("max_price");
    let mut rules = Vec::new();
    if let (Some(min), Some(max)) = (query.filter.min_price, query.filter.max_price)
        && min > max
    {
        rules.push(FieldError::new("min_price", "must not be greater than max_price"));
    }
    params.finish(errors, rules)?;
    Ok((query, page))
}

#[cfg(test)]
mod tests {
    use galley_http::paging::DEFAULT_LIMIT;

    use super::*;

    fn parse(query: &str) -> Result<(ProductQuery, PageRequest), Error> {
        product_query(QueryParams::parse(query))
    }

    fn bad_fields(query: &str) -> Vec<String> {
        match parse(query) {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("{query}: expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn parses_every_parameter() {
        let (q, page) = parse("q=Blue+Mu&category=kitchen&min_price=100&max_price=2000&limit=5&cursor=abc").unwrap();
        assert_eq!(q.words, ["blue", "mu"]);
        assert_eq!(q.filter.category.unwrap().as_str(), "kitchen");
        assert_eq!((q.filter.min_price, q.filter.max_price), (Some(100), Some(2000)));
        assert_eq!(q.limit, 5);
        assert_eq!(page.cursor.as_deref(), Some("abc"));
        assert_eq!(parse("").unwrap().0.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn names_every_bad_parameter() {
        assert_eq!(bad_fields(&format!("q={}", "x".repeat(201))), ["q"]);
        assert_eq!(bad_fields("min_price=-1&max_price=abc&limit=0"), ["min_price", "max_price", "limit"]);
        assert_eq!(bad_fields("limit=101&category=Not%20A%20Slug&sort=price"), ["limit", "category", "sort"]);
        assert_eq!(bad_fields("min_price=500&max_price=100"), ["min_price"]);
        assert_eq!(bad_fields("limit=5&limit=6"), ["limit"]);
        assert!(parse(&format!("q={}", "é".repeat(200))).is_ok(), "limit counts characters, not bytes");
        let nine = "one two three four five six seven eight nine";
        assert_eq!(bad_fields(&format!("q={nine}")), ["q"], "9 distinct words");
        let eight_repeated = "a b c d e f g h a b c d e f g h h h";
        assert!(parse(&format!("q={eight_repeated}")).is_ok(), "repeats count once");
        assert!(parse("q=Cafe+CAFÉ+café+a+b+c+d+e+f+g").is_ok(), "distinct after folding");
    }
}
