//! The `login` function: register, login, refresh, logout and me.

use std::sync::Arc;

use async_trait::async_trait;
use galley_http::Handler;
use galley_http::json::{self, Fields};
use galley_http::request::{Request, Response, bearer_token, empty_response, json_body, json_response};
use galley_http::route::{Route, pattern, resolve};
use galley_shared::Error;
use galley_shared::auth::{
    Account, Accounts, Authenticator, Credentials, DisplayName, Email, Password, Registration, Roles,
};
use galley_shared::clock::Clock;
use galley_shared::keys::Keys;
use galley_shared::ports::{LoginAttempts, Sessions, Users};
use http::header::{CACHE_CONTROL, HeaderValue};
use http::{Method, StatusCode};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Register,
    Login,
    Refresh,
    Logout,
    Me,
}

pub const ROUTES: &[Route<Endpoint>] = &[
    Route::new(Method::POST, "/auth/register", Endpoint::Register),
    Route::new(Method::POST, "/auth/login", Endpoint::Login),
    Route::new(Method::POST, "/auth/refresh", Endpoint::Refresh),
    Route::new(Method::POST, "/auth/logout", Endpoint::Logout),
    Route::new(Method::GET, "/auth/me", Endpoint::Me),
];

/// The account ports the function needs, built once at cold start.
pub struct AccountStores {
    pub users: Arc<dyn Users>,
    pub sessions: Arc<dyn Sessions>,
    pub attempts: Arc<dyn LoginAttempts>,
}

impl From<&galley_lambda::Stores> for AccountStores {
    fn from(stores: &galley_lambda::Stores) -> Self {
        Self { users: stores.users(), sessions: stores.sessions(), attempts: stores.login_attempts() }
    }
}

#[derive(Clone)]
pub struct LoginFunction {
    accounts: Accounts,
    authenticator: Authenticator,
    roles: Roles,
}

fn registration(value: Value) -> Result<Registration, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let email = f.required("email", Email::from_json);
        let password = f.required("password", Password::from_json_for_account);
        let name = f.required("name", DisplayName::from_json);
        Some(Registration { email: email?, password: password?, name: name? })
    })
}

fn credentials(value: Value) -> Result<Credentials, Error> {
    json::parse_object(value, |f: &mut Fields| {
        let email = f.required("email", json::string);
        let password = f.required("password", Password::offered_from_json);
        Some(Credentials { email: email?, password: password? })
    })
}

fn refresh_token(value: Value) -> Result<String, Error> {
    json::parse_object(value, |f: &mut Fields| f.required("refresh_token", json::string))
}

fn user_body(user: &Account) -> Value {
    json!({ "user": user })
}

/// Tokens and account data must not sit in shared caches (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl LoginFunction {
    /// Login is the one function given the secret that signs tokens.
    pub fn new(stores: AccountStores, keys: &Keys, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let authenticator = Authenticator::new(keys.access.clone(), stores.sessions.clone(), clock.clone());
        let roles = Roles::new(stores.users.clone());
        let accounts = Accounts::new(stores.users, stores.sessions, stores.attempts, keys, clock)?;
        Ok(Self { accounts, authenticator, roles })
    }
}

#[async_trait]
impl Handler for LoginFunction {
    fn route(&self, request: &Request) -> Option<String> {
        pattern(ROUTES, request)
    }

    async fn respond(&self, request: &Request) -> Result<Response, Error> {
        let (endpoint, _) = resolve(ROUTES, request.method(), request.uri().path())?;
        let response = match endpoint {
            Endpoint::Register => {
                let user = self.accounts.register(json_body(request, registration)?).await?;
                json_response(StatusCode::CREATED, &user_body(&user))
            }
            Endpoint::Login => {
                let grant = self.accounts.login(json_body(request, credentials)?).await?;
                json_response(StatusCode::OK, &grant)
            }
            Endpoint::Refresh => {
                let grant = self.accounts.refresh(&json_body(request, refresh_token)?).await?;
                json_response(StatusCode::OK, &grant)
            }
            Endpoint::Logout => {
                let principal = self.authenticator.authenticate(bearer_token(request)?).await?;
                self.accounts.logout(&principal).await?;
                empty_response(StatusCode::NO_CONTENT)
            }
            Endpoint::Me => {
                // The account as it is now: a role granted or revoked shows at once.
                let principal = self.authenticator.authenticate(bearer_token(request)?).await?;
                json_response(StatusCode::OK, &user_body(&self.roles.account(&principal).await?))
            }
        };
        Ok(no_store(response))
    }
}
