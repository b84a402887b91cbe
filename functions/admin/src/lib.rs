//! The `admin` function: the back office (API.md "Back office") for
//! accounts whose role is `admin`, checked against the store on every
//! request: products, stock moves, every customer's orders and their moves
//! (fulfil, cancel, refund), promotions, and the audit log.

mod query;

use std::sync::Arc;

use async_trait::async_trait;
use galley_http::Handler;
use galley_http::documents::admin::{admin_cancel, fulfilment, new_product, product_patch, refund, stock_move};
use galley_http::documents::promotion::{new_promotion, promotion_patch};
use galley_http::idempotency::{self, stored_answer};
use galley_http::paging::{CursorKey, Page};
use galley_http::problem;
use galley_http::query::QueryParams;
use galley_http::request::{Request, Response, bearer_token, json_body, json_response};
use galley_http::route::{Route, pattern, resolve};
use galley_shared::Error;
use galley_shared::admin::{Actor, AdminProductView, ImageHost, OrderDesk, ProductDesk, ProductRecord, PromotionDesk};
use galley_shared::auth::{Authenticator, Role, Roles};
use galley_shared::clock::Clock;
use galley_shared::id::{AuditId, OrderId, ProductId};
use galley_shared::idempotency::Fingerprint;
use galley_shared::keys::Keys;
use galley_shared::orders::{AdminOrderView, Asker, Keyed, Lifecycle};
use galley_shared::ports::{
    AuditLog, Blobs, IdempotencyRecords, OrderBook, Orders, PaymentGateway, ProductRecords, Promotions, Sessions,
    UploadRecords, Users,
};
use galley_shared::promotions::{PromoCode, Promotion, PromotionView};
use http::header::{ETAG, HeaderValue, IF_MATCH};
use http::{Method, StatusCode};

pub use query::{orders_query, page_query, records_query};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    ListProducts,
    CreateProduct,
    GetProduct,
    PatchProduct,
    MoveStock,
    ListOrders,
    GetOrder,
    FulfilOrder,
    CancelOrder,
    RefundOrder,
    ListPromotions,
    CreatePromotion,
    GetPromotion,
    PatchPromotion,
    Audit,
}

pub const ROUTES: &[Route<Endpoint>] = &[
    Route::new(Method::GET, "/admin/products", Endpoint::ListProducts),
    Route::new(Method::POST, "/admin/products", Endpoint::CreateProduct),
    Route::new(Method::GET, "/admin/products/{id}", Endpoint::GetProduct),
    Route::new(Method::PATCH, "/admin/products/{id}", Endpoint::PatchProduct),
    Route::new(Method::POST, "/admin/products/{id}/stock", Endpoint::MoveStock),
    Route::new(Method::GET, "/admin/orders", Endpoint::ListOrders),
    Route::new(Method::GET, "/admin/orders/{id}", Endpoint::GetOrder),
    Route::new(Method::POST, "/admin/orders/{id}/fulfil", Endpoint::FulfilOrder),
    Route::new(Method::POST, "/admin/orders/{id}/cancel", Endpoint::CancelOrder),
    Route::new(Method::POST, "/admin/orders/{id}/refunds", Endpoint::RefundOrder),
    Route::new(Method::GET, "/admin/promotions", Endpoint::ListPromotions),
    Route::new(Method::POST, "/admin/promotions", Endpoint::CreatePromotion),
    Route::new(Method::GET, "/admin/promotions/{code}", Endpoint::GetPromotion),
    Route::new(Method::PATCH, "/admin/promotions/{code}", Endpoint::PatchPromotion),
    Route::new(Method::GET, "/admin/audit", Endpoint::Audit),
];

/// The ports the function uses, built once at cold start.
pub struct AdminStores {
    pub users: Arc<dyn Users>,
    pub sessions: Arc<dyn Sessions>,
    pub records: Arc<dyn ProductRecords>,
    pub audit: Arc<dyn AuditLog>,
    pub keys: Arc<dyn IdempotencyRecords>,
    pub book: Arc<dyn OrderBook>,
    pub orders: Arc<dyn Orders>,
    pub uploads: Arc<dyn UploadRecords>,
    pub blobs: Arc<dyn Blobs>,
    pub promotions: Arc<dyn Promotions>,
    /// The public origin of product images.
    pub images_url: String,
}

impl AdminStores {
    /// The ports over `stores`, with images served from `images_url`
    /// (`Stores::images_url` in a function; the local server's own address
    /// under `galley serve`).
    pub fn open(stores: &galley_lambda::Stores, images_url: String) -> Result<Self, Error> {
        Ok(Self {
            users: stores.users(),
            sessions: stores.sessions(),
            records: stores.product_records(),
            audit: stores.audit_log(),
            keys: stores.idempotency_records(),
            book: stores.order_book(),
            orders: stores.orders(),
            uploads: stores.upload_records(),
            blobs: stores.blobs()?,
            promotions: stores.promotions(),
            images_url,
        })
    }
}

#[derive(Clone)]
pub struct AdminFunction {
    authenticator: Authenticator,
    roles: Roles,
    desk: ProductDesk,
    promotions: PromotionDesk,
    orders: OrderDesk,
    lifecycle: Lifecycle,
    audit: Arc<dyn AuditLog>,
    cursors: CursorKey,
}

impl AdminFunction {
    pub fn new(
        stores: AdminStores,
        payments: Arc<dyn PaymentGateway>,
        keys: &Keys,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        Ok(Self {
            authenticator: Authenticator::new(keys.access.clone(), stores.sessions, clock.clone()),
            roles: Roles::new(stores.users.clone()),
            lifecycle: Lifecycle::new(
                stores.orders,
                stores.book.clone(),
                stores.keys.clone(),
                payments,
                clock.clone(),
                problem::stored_response,
            ),
            orders: OrderDesk::new(stores.book, stores.users),
            promotions: PromotionDesk::new(stores.promotions, clock.clone()),
            desk: ProductDesk::new(
                stores.records,
                stores.keys,
                ImageHost::new(stores.uploads, stores.blobs, &stores.images_url),
                clock,
                problem::stored_response,
            ),
            audit: stores.audit,
            cursors: CursorKey::derive(keys.cursor()?),
        })
    }

    /// The signed-in admin: 401 without a live session, 403 unless the
    /// account is an admin now.
    async fn admin(&self, request: &Request) -> Result<Actor, Error> {
        let principal = self.authenticator.authenticate(bearer_token(request)?).await?;
        let account = self.roles.require(&principal, Role::Admin).await?;
        Ok(Actor { id: account.profile.id, email: account.profile.email })
    }
}

/// An AdminProduct with its `ETag`.
fn product_response(status: StatusCode, record: &ProductRecord) -> Response {
    tagged(json_response(status, &AdminProductView::from(record)), record.etag())
}

/// A Promotion with its `ETag`.
fn promotion_response(status: StatusCode, promotion: &Promotion) -> Response {
    tagged(json_response(status, &PromotionView::from(promotion)), promotion.etag())
}

/// `response` with the `ETag` of the version it shows.
fn tagged(mut response: Response, etag: String) -> Response {
    if let Ok(etag) = HeaderValue::try_from(etag) {
        response.headers_mut().insert(ETAG, etag);
    }
    response
}

fn promo_code(params: &galley_http::route::PathParams) -> Result<PromoCode, Error> {
    // A code that cannot exist is simply not found.
    params.get("code").and_then(|raw| PromoCode::parse(raw).ok()).ok_or(Error::NotFound)
}

fn order_id(params: &galley_http::route::PathParams) -> Result<OrderId, Error> {
    // An id that cannot exist is simply not found.
    params.get("id").and_then(|raw| OrderId::parse(raw).ok()).ok_or(Error::NotFound)
}

fn product_id(params: &galley_http::route::PathParams) -> Result<ProductId, Error> {
    // An id that cannot exist is simply not found.
    params.get("id").and_then(|raw| ProductId::parse(raw).ok()).ok_or(Error::NotFound)
}

#[async_trait]
impl Handler for AdminFunction {
    fn route(&self, request: &Request) -> Option<String> {
        pattern(ROUTES, request)
    }

    async fn respond(&self, request: &Request) -> Result<Response, Error> {
        let (endpoint, params) = resolve(ROUTES, request.method(), request.uri().path())?;
        let actor = self.admin(request).await?;
        match endpoint {
            Endpoint::ListProducts => {
                let (filter, page) = records_query(QueryParams::of(request))?;
                let scope = format!("admin-products|{filter:?}");
                let after = page.cursor.map(|c| self.cursors.open::<String>(&scope, &c)).transpose()?;
                let (records, next) = self.desk.records(&filter, after.as_deref(), page.limit).await?;
                let items: Vec<AdminProductView> = records.iter().map(AdminProductView::from).collect();
                let next_cursor = next.map(|key| self.cursors.seal(&scope, &key));
                Ok(json_response(StatusCode::OK, &Page { items, next_cursor }))
            }
            Endpoint::CreateProduct => {
                let record = self.desk.create(&actor, json_body(request, new_product)?).await?;
                Ok(product_response(StatusCode::CREATED, &record))
            }
            Endpoint::GetProduct => {
                Ok(product_response(StatusCode::OK, &self.desk.record(&product_id(&params)?).await?))
            }
            Endpoint::PatchProduct => {
                let id = product_id(&params)?;
                let patch = json_body(request, product_patch)?;
                let if_match = request.headers().get(IF_MATCH).map(|v| v.to_str().unwrap_or_default());
                let record = self.desk.patch(&actor, &id, if_match, patch).await?;
                Ok(product_response(StatusCode::OK, &record))
            }
            Endpoint::MoveStock => {
                let id = product_id(&params)?;
                let stock_move = json_body(request, stock_move)?;
                let key = idempotency::key(request)?;
                let fingerprint = Fingerprint::of_json("POST", request.uri().path(), request.body());
                let answer = self.desk.move_stock(&actor, &id, stock_move, key, fingerprint).await?;
                Ok(stored_answer(answer.response.status, answer.response.body, answer.replayed))
            }
            Endpoint::ListOrders => {
                let (query, page) = orders_query(QueryParams::of(request))?;
                let scope = format!("admin-orders|{query:?}");
                let before = page.cursor.map(|c| self.cursors.open::<OrderId>(&scope, &c)).transpose()?;
                let (orders, next) = self.orders.orders(&query, before.as_ref(), page.limit).await?;
                let items: Vec<AdminOrderView> = orders.iter().map(AdminOrderView::from).collect();
                let next_cursor = next.map(|id| self.cursors.seal(&scope, &id));
                Ok(json_response(StatusCode::OK, &Page { items, next_cursor }))
            }
            Endpoint::GetOrder => {
                Ok(json_response(StatusCode::OK, &AdminOrderView::from(&self.orders.order(&order_id(&params)?).await?)))
            }
            Endpoint::FulfilOrder | Endpoint::CancelOrder | Endpoint::RefundOrder => {
                let ask = match endpoint {
                    Endpoint::FulfilOrder => json_body(request, fulfilment)?,
                    Endpoint::CancelOrder => json_body(request, admin_cancel)?,
                    _ => json_body(request, refund)?,
                };
                let keyed = Keyed {
                    key: idempotency::key(request)?,
                    fingerprint: Fingerprint::of_json("POST", request.uri().path(), request.body()),
                };
                let answer = self.lifecycle.run(&Asker::Admin(actor), &order_id(&params)?, ask, keyed).await?;
                Ok(stored_answer(answer.response.status, answer.response.body, answer.replayed))
            }
            Endpoint::ListPromotions => {
                let page = page_query(QueryParams::of(request))?;
                let scope = "admin-promotions";
                let after = page.cursor.map(|c| self.cursors.open::<PromoCode>(scope, &c)).transpose()?;
                let (found, next) = self.promotions.promotions(after.as_ref(), page.limit).await?;
                let items: Vec<PromotionView> = found.iter().map(PromotionView::from).collect();
                let next_cursor = next.map(|code| self.cursors.seal(scope, &code));
                Ok(json_response(StatusCode::OK, &Page { items, next_cursor }))
            }
            Endpoint::CreatePromotion => {
                let promotion = self.promotions.create(&actor, json_body(request, new_promotion)?).await?;
                Ok(promotion_response(StatusCode::CREATED, &promotion))
            }
            Endpoint::GetPromotion => {
                Ok(promotion_response(StatusCode::OK, &self.promotions.promotion(&promo_code(&params)?).await?))
            }
            Endpoint::PatchPromotion => {
                let code = promo_code(&params)?;
                let patch = json_body(request, promotion_patch)?;
                let if_match = request.headers().get(IF_MATCH).map(|v| v.to_str().unwrap_or_default());
                let promotion = self.promotions.patch(&actor, &code, if_match, patch).await?;
                Ok(promotion_response(StatusCode::OK, &promotion))
            }
            Endpoint::Audit => {
                let page = page_query(QueryParams::of(request))?;
                let scope = "admin-audit";
                let before = page.cursor.map(|c| self.cursors.open::<AuditId>(scope, &c)).transpose()?;
                let mut items = self.audit.entries(before.as_ref(), page.limit + 1).await?;
                let more = items.len() > page.limit;
                items.truncate(page.limit);
                let next_cursor = items.last().filter(|_| more).map(|last| self.cursors.seal(scope, &last.id));
                Ok(json_response(StatusCode::OK, &Page { items, next_cursor }))
            }
        }
    }
}
