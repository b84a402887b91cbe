//! The admin listings' query strings, parsed once at the edge.

use galley_http::paging::PageRequest;
use galley_http::query::QueryParams;
use galley_shared::admin::{OrderQuery, RecordFilter};
use galley_shared::auth::Email;
use galley_shared::catalog::Category;
use galley_shared::orders::OrderStatus;
use galley_shared::search::query_words;
use galley_shared::{Error, FieldError};

/// `GET /admin/products?q=&category=&archived=&stock_below=&limit=&cursor=`.
pub fn records_query(mut params: QueryParams) -> Result<(RecordFilter, PageRequest), Error> {
    let mut errors = Vec::new();
    let page = PageRequest::take(&mut params, &mut errors);
    let mut filter = RecordFilter::default();
    if let Some(q) = params.take("q") {
        match query_words(&q) {
            Ok(words) => filter.words = words,
            Err(message) => errors.push(FieldError::new("q", message)),
        }
    }
    if let Some(category) = params.take("category") {
        match Category::parse(&category) {
            Ok(c) => filter.category = Some(c),
            Err(message) => errors.push(FieldError::new("category", message)),
        }
    }
    if let Some(archived) = params.take("archived") {
        match archived.as_str() {
            "true" => filter.archived = Some(true),
            "false" => filter.archived = Some(false),
            _ => errors.push(FieldError::new("archived", "must be true or false")),
        }
    }
    if let Some(below) = params.take("stock_below") {
        match below.parse::<i64>() {
            Ok(n) if n >= 0 => filter.stock_below = Some(n),
            _ => errors.push(FieldError::new("stock_below", "must be a non-negative integer")),
        }
    }
    params.finish(errors, Vec::new())?;
    Ok((filter, page))
}

/// `GET /admin/orders?status=&email=&limit=&cursor=`.
pub fn orders_query(mut params: QueryParams) -> Result<(OrderQuery, PageRequest), Error> {
    let mut errors = Vec::new();
    let page = PageRequest::take(&mut params, &mut errors);
    let mut query = OrderQuery::default();
    if let Some(status) = params.take("status") {
        match OrderStatus::parse(&status) {
            Ok(s) => query.status = Some(s),
            Err(_) => errors.push(FieldError::new("status", "must be an order status")),
        }
    }
    if let Some(email) = params.take("email") {
        match Email::parse(&email) {
            Ok(e) => query.email = Some(e),
            Err(message) => errors.push(FieldError::new("email", message)),
        }
    }
    params.finish(errors, Vec::new())?;
    Ok((query, page))
}

/// `GET /admin/audit?limit=&cursor=` and `GET /admin/promotions?limit=&cursor=`.
pub fn page_query(mut params: QueryParams) -> Result<PageRequest, Error> {
    let mut errors = Vec::new();
    let page = PageRequest::take(&mut params, &mut errors);
    params.finish(errors, Vec::new())?;
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad_fields(query: &str) -> Vec<String> {
        match records_query(QueryParams::parse(query)) {
            Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("{query}: expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn filters_combine_and_bad_ones_are_named() {
        let (filter, page) =
            records_query(QueryParams::parse("category=kitchen&archived=false&stock_below=5&limit=3")).unwrap();
        assert_eq!(filter.category.unwrap().as_str(), "kitchen");
        assert_eq!((filter.archived, filter.stock_below, page.limit), (Some(false), Some(5), 3));
        assert_eq!(bad_fields("archived=yes&stock_below=-1&category=A"), ["archived", "stock_below", "category"]);
        let (filter, _) = records_query(QueryParams::parse("q=Blue+MUGS")).unwrap();
        assert_eq!(filter.words, ["blue", "mugs"]);
        assert_eq!(bad_fields("q=a+b+c+d+e+f+g+h+i"), ["q"], "nine distinct words");
    }

    #[test]
    fn order_filters_are_parsed_once_and_bad_ones_named() {
        let (query, page) =
            orders_query(QueryParams::parse("status=confirmed&email=%20Ann%40Example.com&limit=5")).unwrap();
        assert_eq!(query.status, Some(OrderStatus::Confirmed));
        assert_eq!(query.email.unwrap().as_str(), "ann@example.com");
        assert_eq!(page.limit, 5);
        match orders_query(QueryParams::parse("status=lost&email=nobody&limit=0")) {
            Err(Error::Validation(errors)) => {
                let fields: Vec<_> = errors.into_iter().map(|e| e.field).collect();
                assert_eq!(fields, ["status", "email", "limit"]);
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
}
