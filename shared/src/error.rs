//! The one error type of Galley's domain. The HTTP edge (`galley_http::problem`)
//! maps it to problem+json.

use std::error::Error as StdError;
use std::fmt;

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
    #[error("forbidden")]
    Forbidden,
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
    PaymentDeclined { decline_code: String },
    /// A promotion code that does not apply (API.md's `reason`).
    #[error("promotion code invalid")]
    PromoCodeInvalid { reason: crate::promotions::PromoRefusal },
    /// A promotion code used up: its cap reached, or once per customer and used.
    #[error("promotion code exhausted")]
    PromoCodeExhausted,
    /// A webhook whose signature is missing, wrong or stale, or that came
    /// with no signing secret configured.
    #[error("invalid signature")]
    InvalidSignature,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("product exists")]
    ProductExists,
    /// A promotion code taken already (codes are unique ignoring case).
    #[error("promotion exists")]
    PromotionExists,
    #[error("insufficient stock")]
    InsufficientStock { available: i64 },
    /// The order's status does not allow the move (API.md's status machine).
    #[error("invalid transition")]
    InvalidTransition,
    /// A refund larger than what is left to refund (pending refunds count).
    #[error("refund exceeds balance")]
    RefundExceedsBalance { refundable: crate::money::Money },
    #[error("upload too large")]
    UploadTooLarge { max_size: u64 },
    #[error("too many pending uploads")]
    TooManyUploads { retry_after_secs: u64 },
    /// A dependency (store, mail, payments) is down or throttling: retry later.
    /// The cause is for logs only, never for a response body.
    #[error("unavailable: {context}")]
    Unavailable { context: String, source: Option<Cause> },
    /// A bug or an impossible state. The cause is for logs only.
    #[error("internal: {context}")]
    Internal { context: String, source: Option<Cause> },
}

/// The error under a server fault, whose own chain stays reachable by `source()`.
pub type Cause = Box<dyn StdError + Send + Sync>;

impl Error {
    pub fn internal(context: impl fmt::Display) -> Self {
        Self::Internal { context: context.to_string(), source: None }
    }

    pub fn unavailable(context: impl fmt::Display) -> Self {
        Self::Unavailable { context: context.to_string(), source: None }
    }

    /// A bug or impossible state found while doing `context`, caused by `source`.
    pub fn internal_from(context: impl fmt::Display, source: impl StdError + Send + Sync + 'static) -> Self {
        Self::Internal { context: context.to_string(), source: Some(Box::new(source)) }
    }

    /// A dependency failing while doing `context`, because of `source`.
    pub fn unavailable_from(context: impl fmt::Display, source: impl StdError + Send + Sync + 'static) -> Self {
        Self::Unavailable { context: context.to_string(), source: Some(Box::new(source)) }
    }
}

/// An error and every cause under it, `: `-separated, for a log line.
pub struct Chain<'a>(pub &'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            write!(f, ": {cause}")?;
            next = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_keeps_its_cause_chain_for_the_logs() {
        let io = std::io::Error::other("disk full");
        let error = Error::unavailable_from("write blob uploads/u/1", io);
        assert_eq!(Chain(&error).to_string(), "unavailable: write blob uploads/u/1: disk full");
        assert_eq!(error.source().map(ToString::to_string).as_deref(), Some("disk full"), "the io error is the source");
    }
}
