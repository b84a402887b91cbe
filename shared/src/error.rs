//! The one error type of Galley's domain. `problem` maps it to HTTP.

use serde::Serialize;

use crate::id::ProductId;
use crate::stock::Shortage;

/// One bad field of a request body or query: `field` is a JSON-pointer-like
/// path (`items[2].quantity`), `message` says what a valid value looks like.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("request body is not valid JSON")]
    MalformedJson,
    #[error("request failed validation")]
    Validation(Vec<FieldError>),
    #[error("content type not supported")]
    UnsupportedMediaType { allowed: &'static [&'static str] },
    #[error("request body over the limit")]
    PayloadTooLarge { limit: usize },
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<&'static str> },
    #[error("unauthorized")]
    Unauthorized,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("email taken")]
    EmailTaken,
    #[error("invalid cursor")]
    InvalidCursor,
    #[error("idempotency key required")]
    IdempotencyKeyRequired,
    #[error("idempotency key reused with another request")]
    IdempotencyKeyReused,
    #[error("request with this idempotency key still in progress")]
    RequestInProgress,
    #[error("not enough stock")]
    OutOfStock(Vec<Shortage>),
    #[error("unknown product")]
    UnknownProduct(Vec<ProductId>),
    #[error("payment declined")]
    PaymentDeclined,
    #[error("upload too large")]
    UploadTooLarge { max_size: u64 },
    /// A dependency (store, mail, payments) is down or throttling: retry later.
    /// The message is for logs only, never for a response body.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an impossible state. The message is for logs only.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn internal(context: impl std::fmt::Display) -> Self {
        Self::Internal(context.to_string())
    }

    pub fn unavailable(context: impl std::fmt::Display) -> Self {
        Self::Unavailable(context.to_string())
    }
}
