//! The whole HTTP API, route by route, and which function serves each:
//! what answers a request no function's route matched (API Gateway's
//! `$default` route, `cargo lambda watch`'s catch-all) with the same 404 or
//! 405 (and `Allow`) that the functions give. A test holds it equal to the
//! functions' own route tables and to template.yaml.

use galley_shared::Error;
use http::Method;

use crate::route::{Route, resolve};

/// The function (binary) that serves a route.
pub type Function = &'static str;

pub const API: &[Route<Function>] = &[
    Route::new(Method::POST, "/auth/register", "login"),
    Route::new(Method::POST, "/auth/login", "login"),
    Route::new(Method::POST, "/auth/refresh", "login"),
    Route::new(Method::POST, "/auth/logout", "login"),
    Route::new(Method::GET, "/auth/me", "login"),
    Route::new(Method::GET, "/products", "search"),
    Route::new(Method::GET, "/products/{id}", "search"),
    Route::new(Method::POST, "/checkout", "checkout"),
    Route::new(Method::POST, "/checkout/quote", "checkout"),
    Route::new(Method::GET, "/orders", "checkout"),
    Route::new(Method::GET, "/orders/{id}", "checkout"),
    Route::new(Method::POST, "/orders/{id}/cancel", "checkout"),
    Route::new(Method::POST, "/uploads", "upload"),
    Route::new(Method::GET, "/uploads/{id}", "upload"),
    Route::new(Method::GET, "/admin/products", "admin"),
    Route::new(Method::POST, "/admin/products", "admin"),
    Route::new(Method::GET, "/admin/products/{id}", "admin"),
    Route::new(Method::PATCH, "/admin/products/{id}", "admin"),
    Route::new(Method::POST, "/admin/products/{id}/stock", "admin"),
    Route::new(Method::GET, "/admin/orders", "admin"),
    Route::new(Method::GET, "/admin/orders/{id}", "admin"),
    Route::new(Method::POST, "/admin/orders/{id}/fulfil", "admin"),
    Route::new(Method::POST, "/admin/orders/{id}/cancel", "admin"),
    Route::new(Method::POST, "/admin/orders/{id}/refunds", "admin"),
    Route::new(Method::GET, "/admin/promotions", "admin"),
    Route::new(Method::POST, "/admin/promotions", "admin"),
    Route::new(Method::GET, "/admin/promotions/{code}", "admin"),
    Route::new(Method::PATCH, "/admin/promotions/{code}", "admin"),
    Route::new(Method::GET, "/admin/audit", "admin"),
    Route::new(Method::POST, "/webhooks/stripe", "webhook"),
];

/// What a request no route took is answered: 405 with the methods its path
/// allows, or 404.
pub fn unmatched(method: &Method, path: &str) -> Error {
    match resolve(API, method, path) {
        // Only reached for a request a function's own table refused: its
        // route exists under another function, a wiring mistake.
        Ok((function, _)) => Error::internal(format!("{method} {path} belongs to {function}")),
        Err(error) => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_path_is_404_and_a_known_one_405_with_allow() {
        assert!(matches!(unmatched(&Method::GET, "/nope"), Error::NotFound));
        assert!(matches!(unmatched(&Method::GET, "/products/a/b"), Error::NotFound));
        let Error::MethodNotAllowed { allow } = unmatched(&Method::DELETE, "/products") else { panic!() };
        assert_eq!(allow, ["GET"]);
        let Error::MethodNotAllowed { allow } = unmatched(&Method::PUT, "/orders/01J0") else { panic!() };
        assert_eq!(allow, ["GET"]);
    }
}
