//! The `search` function: `GET /products` and `GET /products/{id}`, and
//! the API's fallback: a request no route matched gets its 404 or 405.

mod query;

use std::sync::Arc;

use async_trait::async_trait;
use galley_http::paging::{CursorKey, Page};
use galley_http::query::QueryParams;
use galley_http::request::{Request, Response, json_response};
use galley_http::route::{Route, pattern, resolve};
use galley_http::{Handler, api};
use galley_shared::Error;
use galley_shared::catalog::ProductView;
use galley_shared::id::ProductId;
use galley_shared::keys::SigningKey;
use galley_shared::ports::{Catalog, SearchIndex};
use galley_shared::search::{Position, ProductSearch};
use http::{Method, StatusCode};

pub use query::product_query;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    ListProducts,
    GetProduct,
}

pub const ROUTES: &[Route<Endpoint>] = &[
    Route::new(Method::GET, "/products", Endpoint::ListProducts),
    Route::new(Method::GET, "/products/{id}", Endpoint::GetProduct),
];

/// The function's dependencies, built once at cold start.
#[derive(Clone)]
pub struct SearchFunction {
    catalog: Arc<dyn Catalog>,
    search: ProductSearch,
    cursors: CursorKey,
}

impl SearchFunction {
    pub fn new(catalog: Arc<dyn Catalog>, index: Arc<dyn SearchIndex>, key: &SigningKey) -> Self {
        Self { search: ProductSearch::new(catalog.clone(), index), catalog, cursors: CursorKey::derive(key) }
    }
}

#[async_trait]
impl Handler for SearchFunction {
    fn route(&self, request: &Request) -> Option<String> {
        pattern(ROUTES, request)
    }

    async fn respond(&self, request: &Request) -> Result<Response, Error> {
        // Search also takes what no route matched (API Gateway's `$default`):
        // the whole API's table says 404 or 405.
        let (endpoint, params) = resolve(ROUTES, request.method(), request.uri().path())
            .map_err(|_| api::unmatched(request.method(), request.uri().path()))?;
        match endpoint {
            Endpoint::ListProducts => {
                let (query, page) = product_query(QueryParams::of(request))?;
                let scope = query.cursor_scope();
                let after = page.cursor.map(|cursor| self.cursors.open::<Position>(&scope, &cursor)).transpose()?;
                let found = self.search.search(&query, after).await?;
                let next_cursor = found.next.map(|position| self.cursors.seal(&scope, &position));
                Ok(json_response(StatusCode::OK, &Page { items: found.items, next_cursor }))
            }
            Endpoint::GetProduct => {
                // An id that cannot exist is simply not found.
                let id = params.get("id").and_then(|raw| ProductId::parse(raw).ok()).ok_or(Error::NotFound)?;
                let product = self.catalog.product(&id).await?.ok_or(Error::NotFound)?;
                Ok(json_response(StatusCode::OK, &ProductView::from(&product)))
            }
        }
    }
}
