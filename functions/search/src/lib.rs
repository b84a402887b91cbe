//! The `search` function: `GET /products` and `GET /products/{id}`.

use std::sync::Arc;

use galley_shared::Error;
use galley_shared::catalog::ProductView;
use galley_shared::id::ProductId;
use galley_shared::keys::SigningKey;
use galley_shared::ports::{Catalog, SearchIndex};
use galley_shared::search::{ProductQuery, ProductSearch};
use galley_shared::web::{self, Request, RequestId, Response, Route};
use http::{Method, StatusCode};

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
}

impl SearchFunction {
    pub fn new(catalog: Arc<dyn Catalog>, index: Arc<dyn SearchIndex>, key: &SigningKey) -> Self {
        Self { search: ProductSearch::new(catalog.clone(), index, key.cursor_key()), catalog }
    }

    pub async fn handle(&self, request: Request) -> Response {
        web::finish(&RequestId::of(&request), self.route(&request).await)
    }

    async fn route(&self, request: &Request) -> Result<Response, Error> {
        let (endpoint, params) = web::resolve(ROUTES, request.method(), request.uri().path())?;
        match endpoint {
            Endpoint::ListProducts => {
                let query = ProductQuery::parse(&web::query_pairs(request))?;
                let page = self.search.search(&query).await?;
                Ok(web::json_response(StatusCode::OK, &page))
            }
            Endpoint::GetProduct => {
                // An id that cannot exist is simply not found.
                let id = params.get("id").and_then(|raw| ProductId::parse(raw).ok()).ok_or(Error::NotFound)?;
                let product = self.catalog.product(&id).await?.ok_or(Error::NotFound)?;
                Ok(web::json_response(StatusCode::OK, &ProductView::from(&product)))
            }
        }
    }
}
