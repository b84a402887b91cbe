//! The requests the harness sends, one kind per route, each meant to
//! succeed (its status is checked), built fresh per sample where the route
//! changes state (a new idempotency key per checkout, a new session per
//! logout, the rotated token per refresh).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use galley_http::Handler;
use galley_http::Request;
use galley_lambda::Stores;
use serde_json::Value;

use super::rig::{EMAIL, Fixture, Functions, HOT_PRODUCT, PASSWORD};

/// What a route measures and how often.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    ListProducts,
    SearchProducts,
    GetProduct,
    Register,
    Login,
    Refresh,
    Logout,
    Me,
    Checkout,
    ListOrders,
    GetOrder,
    CreateUpload,
    GetUpload,
    UploadCheck,
    Receipt,
}

pub const ROUTES: &[Route] = &[
    Route::ListProducts,
    Route::SearchProducts,
    Route::GetProduct,
    Route::Register,
    Route::Login,
    Route::Refresh,
    Route::Logout,
    Route::Me,
    Route::Checkout,
    Route::ListOrders,
    Route::GetOrder,
    Route::CreateUpload,
    Route::GetUpload,
    Route::UploadCheck,
    Route::Receipt,
];

impl Route {
    pub fn name(self) -> &'static str {
        match self {
            Route::ListProducts => "GET /products",
            Route::SearchProducts => "GET /products?q=",
            Route::GetProduct => "GET /products/{id}",
            Route::Register => "POST /auth/register",
            Route::Login => "POST /auth/login",
            Route::Refresh => "POST /auth/refresh",
            Route::Logout => "POST /auth/logout",
            Route::Me => "GET /auth/me",
            Route::Checkout => "POST /checkout",
            Route::ListOrders => "GET /orders",
            Route::GetOrder => "GET /orders/{id}",
            Route::CreateUpload => "POST /uploads",
            Route::GetUpload => "GET /uploads/{id}",
            Route::UploadCheck => "S3 event (upload-check)",
            Route::Receipt => "stream event (receipts)",
        }
    }

    pub fn function(self) -> &'static str {
        match self {
            Route::ListProducts | Route::SearchProducts | Route::GetProduct => "search",
            Route::Register | Route::Login | Route::Refresh | Route::Logout | Route::Me => "login",
            Route::Checkout | Route::ListOrders | Route::GetOrder => "checkout",
            Route::CreateUpload | Route::GetUpload => "upload",
            Route::UploadCheck => "upload-check",
            Route::Receipt => "receipts",
        }
    }

    /// Routes whose cost is the password hash (Argon2id): sampled less,
    /// reported beside the rest.
    pub fn hashes_a_password(self) -> bool {
        matches!(self, Route::Register | Route::Login)
    }

    /// The fewest sequential round trips the data model allows on the
    /// success path, and why.
    pub fn minimum(self) -> (usize, &'static str) {
        match self {
            Route::ListProducts => (1, "one query of the title-sorted GSI"),
            Route::SearchProducts => (2, "term postings (concurrently), then a batch read of the page"),
            Route::GetProduct => (1, "one item"),
            Route::Register => (1, "one conditional put: the email is the account's key"),
            Route::Login => (2, "attempt counter with the account, then the new session"),
            Route::Refresh => (1, "one conditional rotation of the session"),
            Route::Logout => (1, "one delete"),
            Route::Me => (1, "the session item carries the profile"),
            Route::Checkout => (3, "session and prices; claim, stock and order; confirm with the receipt"),
            Route::ListOrders => (1, "the token names the user: session and orders query together"),
            Route::GetOrder => (1, "the token names the user: session and order together"),
            Route::CreateUpload => (1, "the token names the user: session and upload record together"),
            Route::GetUpload => (1, "the token names the user: session and record together"),
            Route::UploadCheck => (2, "record and bytes together, then the status"),
            Route::Receipt => (3, "is it sent yet; send; mark sent"),
        }
    }
}

/// One invocation of a function.
pub enum Invocation {
    Http(Box<Request>, u16),
    Event(Value),
}

fn request(method: &str, uri: &str, headers: &[(&str, String)], body: &str) -> Request {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(Bytes::from(body.to_owned())).expect("a valid request")
}

/// Per-run state the routes draw on.
pub struct Bench<'a> {
    pub functions: &'a Functions,
    pub stores: &'a Stores,
    pub fixture: &'a Fixture,
    pub bucket: String,
    refresh_token: Mutex<Option<String>>,
    spare_sessions: Mutex<Vec<String>>,
    receipts_sent: Mutex<usize>,
}

impl<'a> Bench<'a> {
    pub fn new(functions: &'a Functions, stores: &'a Stores, fixture: &'a Fixture, bucket: String) -> Self {
        Self {
            functions,
            stores,
            fixture,
            bucket,
            refresh_token: Mutex::new(None),
            spare_sessions: Mutex::new(Vec::new()),
            receipts_sent: Mutex::new(0),
        }
    }

    /// Seeds what `samples` invocations of `route` will use up.
    pub async fn prepare(&self, route: Route, samples: usize) {
        match route {
            Route::Logout => {
                let mut sessions = Vec::with_capacity(samples);
                for _ in 0..samples {
                    sessions.push(self.fixture.session(self.stores).await.0);
                }
                *self.spare_sessions.lock().unwrap() = sessions;
            }
            Route::Refresh => {
                *self.refresh_token.lock().unwrap() = Some(self.fixture.session(self.stores).await.1);
            }
            _ => {}
        }
    }

    /// How many fresh receipts are left to send.
    pub fn receipts_left(&self) -> usize {
        self.fixture.receipts.len() - *self.receipts_sent.lock().unwrap()
    }

    /// The `i`th invocation of `route`.
    pub fn invocation(&self, route: Route, i: usize) -> Invocation {
        let auth = || vec![("authorization", self.fixture.bearer())];
        let json_auth = || vec![("authorization", self.fixture.bearer()), ("content-type", "application/json".into())];
        let json = || vec![("content-type", "application/json".to_owned())];
        let nonce = ulid::Ulid::new().to_string().to_lowercase();
        match route {
            Route::ListProducts => Invocation::Http(Box::new(request("GET", "/products?limit=20", &[], "")), 200),
            Route::SearchProducts => Invocation::Http(Box::new(request("GET", "/products?q=blue%20mu", &[], "")), 200),
            Route::GetProduct => {
                Invocation::Http(Box::new(request("GET", &format!("/products/{HOT_PRODUCT}"), &[], "")), 200)
            }
            Route::Register => {
                let body =
                    format!(r#"{{"email":"bench-{nonce}@example.com","password":"{PASSWORD}","name":"Bench {i}"}}"#);
                Invocation::Http(Box::new(request("POST", "/auth/register", &json(), &body)), 201)
            }
            Route::Login => {
                let body = format!(r#"{{"email":"{EMAIL}","password":"{PASSWORD}"}}"#);
                Invocation::Http(Box::new(request("POST", "/auth/login", &json(), &body)), 200)
            }
            Route::Refresh => {
                let token = self.refresh_token.lock().unwrap().clone().expect("prepared");
                let body = format!(r#"{{"refresh_token":"{token}"}}"#);
                Invocation::Http(Box::new(request("POST", "/auth/refresh", &json(), &body)), 200)
            }
            Route::Logout => {
                let access = self.spare_sessions.lock().unwrap().pop().expect("prepared sessions");
                Invocation::Http(
                    Box::new(request("POST", "/auth/logout", &[("authorization", format!("Bearer {access}"))], "")),
                    204,
                )
            }
            Route::Me => Invocation::Http(Box::new(request("GET", "/auth/me", &auth(), "")), 200),
            Route::Checkout => {
                let mut headers = json_auth();
                headers.push(("idempotency-key", nonce));
                let body = format!(
                    r#"{{"items":[{{"product_id":"{HOT_PRODUCT}","quantity":1}}],"payment":{{"token":"pm_card_visa"}}}}"#
                );
                Invocation::Http(Box::new(request("POST", "/checkout", &headers, &body)), 201)
            }
            Route::ListOrders => Invocation::Http(Box::new(request("GET", "/orders?limit=20", &auth(), "")), 200),
            Route::GetOrder => {
                let (order, _) = &self.fixture.receipts[0];
                Invocation::Http(Box::new(request("GET", &format!("/orders/{order}"), &auth(), "")), 200)
            }
            Route::CreateUpload => {
                let body = r#"{"filename":"cat.png","content_type":"image/png","size":67}"#;
                let headers =
                    [("authorization", self.fixture.uploader()), ("content-type", "application/json".to_owned())];
                Invocation::Http(Box::new(request("POST", "/uploads", &headers, body)), 201)
            }
            Route::GetUpload => {
                let uri = format!("/uploads/{}", self.fixture.upload.id);
                Invocation::Http(Box::new(request("GET", &uri, &auth(), "")), 200)
            }
            Route::UploadCheck => {
                let key = self.fixture.upload.object_key();
                Invocation::Event(super::events::s3_created(&self.bucket, &key, galley_tests::fixtures::PNG_1X1.len()))
            }
            Route::Receipt => {
                let mut sent = self.receipts_sent.lock().unwrap();
                let (order, json) = &self.fixture.receipts[*sent % self.fixture.receipts.len()];
                *sent += 1;
                Invocation::Event(super::events::receipt_inserted(order.as_str(), json))
            }
        }
    }

    /// The Lambda event of a function's representative request (its
    /// `i`th), and the status it must answer (`None`: an event function).
    pub fn event(&self, function: &str, i: usize) -> (Value, Option<u16>) {
        let route = match function {
            "search" => Route::SearchProducts,
            // Every page checks the session; the password hash is measured apart.
            "login" => Route::Me,
            "checkout" => Route::Checkout,
            "upload" => Route::CreateUpload,
            "upload-check" => Route::UploadCheck,
            _ => Route::Receipt,
        };
        match self.invocation(route, i) {
            Invocation::Http(request, status) => (super::events::from_request(&request), Some(status)),
            Invocation::Event(event) => (event, None),
        }
    }

    /// Sends one invocation of `route` in-process and times it.
    pub async fn call(&self, route: Route, i: usize) -> Duration {
        let invocation = self.invocation(route, i);
        let f = self.functions;
        let started = Instant::now();
        match invocation {
            Invocation::Http(request, expected) => {
                let request = *request;
                let response = match route.function() {
                    "search" => f.search.handle(request).await,
                    "login" => f.login.handle(request).await,
                    "checkout" => f.checkout.handle(request).await,
                    _ => f.upload.handle(request).await,
                };
                let elapsed = started.elapsed();
                let status = response.status().as_u16();
                assert_eq!(status, expected, "{}: {}", route.name(), String::from_utf8_lossy(response.body()));
                if route == Route::Refresh {
                    let body: Value = serde_json::from_slice(response.body()).expect("refresh answer");
                    let next = body["refresh_token"].as_str().expect("a rotated refresh token").to_owned();
                    *self.refresh_token.lock().unwrap() = Some(next);
                }
                elapsed
            }
            Invocation::Event(event) => {
                let answer = match route {
                    Route::UploadCheck => {
                        let event = serde_json::from_value(event).expect("an S3 event");
                        f.upload_check.answer(event).await.expect("upload check")
                    }
                    _ => f.receipts.handle(serde_json::from_value(event).expect("a stream event")).await,
                };
                let elapsed = started.elapsed();
                let failures = answer.get("batchItemFailures").and_then(Value::as_array).map_or(0, Vec::len);
                assert_eq!(failures, 0, "{}: {answer}", route.name());
                elapsed
            }
        }
    }
}
