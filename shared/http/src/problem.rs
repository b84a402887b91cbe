//! The single mapping from [`Error`] to RFC 9457 problem+json.

use bytes::Bytes;
use galley_shared::Error;
use galley_shared::idempotency::StoredResponse;
use http::StatusCode;
use http::header::HeaderValue;
use serde_json::{Map, Value, json};

use crate::request::{Response, with_content_type};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// A problem document plus the headers its status calls for.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub extensions: Map<String, Value>,
    pub headers: Vec<(http::HeaderName, String)>,
}

impl Problem {
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("type".into(), json!(format!("urn:galley:problem:{}", self.code)));
        body.insert("title".into(), json!(self.title));
        body.insert("status".into(), json!(self.status.as_u16()));
        body.insert("detail".into(), json!(self.detail));
        body.insert("code".into(), json!(self.code));
        body.extend(self.extensions.clone());
        Value::Object(body)
    }
}

impl From<&Error> for Problem {
    fn from(error: &Error) -> Self {
        use http::header::{ALLOW, RETRY_AFTER, WWW_AUTHENTICATE};
        let mut extensions = Map::new();
        let mut headers = Vec::new();
        let (status, code, title, detail): (StatusCode, &'static str, &'static str, String) = match error {
            Error::MalformedJson => (
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "Malformed JSON",
                "The request body is not valid JSON.".into(),
            ),
            Error::Validation(errors) => {
                extensions.insert("errors".into(), json!(errors));
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                (
                    StatusCode::BAD_REQUEST,
                    "validation_failed",
                    "Validation failed",
                    format!("Invalid fields: {}.", fields.join(", ")),
                )
            }
            Error::UnsupportedMediaType { allowed } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                format!("Use one of: {}.", allowed.join(", ")),
            ),
            Error::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
                format!("The request body must be at most {limit} bytes."),
            ),
            Error::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found", "No such resource.".into()),
            Error::MethodNotAllowed { allow } => {
                headers.push((ALLOW, allow.join(", ")));
                (
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    "Method not allowed",
                    format!("This resource allows: {}.", allow.join(", ")),
                )
            }
            Error::Unauthorized => {
                headers.push((WWW_AUTHENTICATE, "Bearer".into()));
                (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized", "A valid bearer token is required.".into())
            }
            Error::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                "Your account does not have the role this route needs.".into(),
            ),
            Error::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Invalid credentials",
                "The email or password is wrong.".into(),
            ),
            Error::TooManyAttempts { retry_after_secs } => {
                headers.push((RETRY_AFTER, retry_after_secs.to_string()));
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    "Too many attempts",
                    "Too many failed logins for this account; try again later.".into(),
                )
            }
            Error::EmailTaken => (
                StatusCode::CONFLICT,
                "email_taken",
                "Email taken",
                "An account with this email already exists.".into(),
            ),
            Error::InvalidCursor => (
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                "Invalid cursor",
                "The cursor is not one this query handed out.".into(),
            ),
            Error::IdempotencyKeyRequired => (
                StatusCode::BAD_REQUEST,
                "idempotency_key_required",
                "Idempotency key required",
                "Send an Idempotency-Key header of 8 to 255 characters of [A-Za-z0-9_-].".into(),
            ),
            Error::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency key reused",
                "This key was used with a different request body.".into(),
            ),
            Error::RequestInProgress => {
                headers.push((RETRY_AFTER, "1".into()));
                (
                    StatusCode::CONFLICT,
                    "request_in_progress",
                    "Request in progress",
                    "A request with this key is still running; retry shortly.".into(),
                )
            }
            Error::OutOfStock(shortages) => {
                extensions.insert("items".into(), json!(shortages));
                (StatusCode::CONFLICT, "out_of_stock", "Out of stock", "Some items do not have enough stock.".into())
            }
            Error::UnknownProduct(ids) => {
                extensions.insert("items".into(), json!(ids));
                (
                    StatusCode::BAD_REQUEST,
                    "unknown_product",
                    "Unknown product",
                    "Some items name products that do not exist.".into(),
                )
            }
            Error::PaymentDeclined { decline_code } => {
                extensions.insert("decline_code".into(), json!(decline_code));
                (
                    StatusCode::PAYMENT_REQUIRED,
                    "payment_declined",
                    "Payment declined",
                    "The payment was declined.".into(),
                )
            }
            Error::PromoCodeInvalid { reason } => {
                extensions.insert("reason".into(), json!(reason.as_str()));
                (
                    StatusCode::BAD_REQUEST,
                    "promo_code_invalid",
                    "Promotion code invalid",
                    "The promotion code does not apply to this order.".into(),
                )
            }
            Error::PromoCodeExhausted => (
                StatusCode::CONFLICT,
                "promo_code_exhausted",
                "Promotion code exhausted",
                "The promotion code has been used up.".into(),
            ),
            Error::InvalidSignature => (
                StatusCode::BAD_REQUEST,
                "invalid_signature",
                "Invalid signature",
                "The Stripe-Signature header is missing, wrong or more than 5 minutes old.".into(),
            ),
            Error::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                "Precondition required",
                "Send If-Match with the ETag of the version you are changing.".into(),
            ),
            Error::PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "Precondition failed",
                "The resource changed since that ETag; read it again and retry.".into(),
            ),
            Error::ProductExists => (
                StatusCode::CONFLICT,
                "product_exists",
                "Product exists",
                "A product with this id already exists.".into(),
            ),
            Error::PromotionExists => (
                StatusCode::CONFLICT,
                "promotion_exists",
                "Promotion exists",
                "A promotion with this code (ignoring case) already exists.".into(),
            ),
            Error::InsufficientStock { available } => {
                extensions.insert("available".into(), json!(available));
                (
                    StatusCode::CONFLICT,
                    "insufficient_stock",
                    "Insufficient stock",
                    "The adjustment would take stock below zero.".into(),
                )
            }
            Error::InvalidTransition => (
                StatusCode::CONFLICT,
                "invalid_transition",
                "Invalid transition",
                "The order's status does not allow this.".into(),
            ),
            Error::RefundExceedsBalance { refundable } => {
                extensions.insert("refundable".into(), json!(refundable));
                (
                    StatusCode::CONFLICT,
                    "refund_exceeds_balance",
                    "Refund exceeds balance",
                    "The refund is larger than what is left to refund.".into(),
                )
            }
            Error::UploadTooLarge { max_size } => {
                extensions.insert("max_size".into(), json!(max_size));
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "Upload too large",
                    format!("Files may be at most {max_size} bytes."),
                )
            }
            Error::TooManyUploads { retry_after_secs } => {
                headers.push((RETRY_AFTER, retry_after_secs.to_string()));
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_uploads",
                    "Too many uploads",
                    "You hold as many pending uploads as allowed; finish or wait for one.".into(),
                )
            }
            Error::Unavailable { .. } => {
                headers.push((RETRY_AFTER, "1".into()));
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Service unavailable",
                    "A dependency is unavailable; retry shortly.".into(),
                )
            }
            Error::Internal { .. } => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "Something went wrong on our side.".into(),
            ),
        };
        Problem { status, code, title, detail, extensions, headers }
    }
}

/// The one place an [`Error`] becomes an HTTP response.
pub fn problem_response(error: &Error) -> Response {
    let problem = Problem::from(error);
    let body: Bytes = serde_json::to_vec(&problem.body()).unwrap_or_default().into();
    let mut response = with_content_type(problem.status, CONTENT_TYPE, body);
    for (name, value) in problem.headers {
        if let Ok(value) = HeaderValue::try_from(value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// An error's answer as an idempotency record keeps it for replay.
pub fn stored_response(error: &Error) -> StoredResponse {
    let problem = Problem::from(error);
    let body: Bytes = serde_json::to_vec(&problem.body()).unwrap_or_default().into();
    StoredResponse { status: problem.status.as_u16(), body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use galley_shared::FieldError;
    use galley_shared::id::ProductId;
    use galley_shared::stock::Shortage;

    fn problem(error: Error) -> (u16, Value, Vec<(String, String)>) {
        let p = Problem::from(&error);
        let headers = p.headers.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
        (p.status.as_u16(), p.body(), headers)
    }

    fn assert_problem(error: Error, status: u16, code: &str) -> Value {
        let (got_status, body, _) = problem(error);
        assert_eq!(got_status, status, "{code}");
        assert_eq!(body["code"], code);
        assert_eq!(body["status"], status);
        for member in ["type", "title", "detail"] {
            assert!(body[member].is_string(), "{code} lacks {member}");
        }
        body
    }

    #[test]
    fn every_code_of_the_contract_has_its_status() {
        assert_problem(Error::MalformedJson, 400, "malformed_json");
        assert_problem(Error::UnsupportedMediaType { allowed: &["application/json"] }, 415, "unsupported_media_type");
        assert_problem(Error::PayloadTooLarge { limit: 65536 }, 413, "payload_too_large");
        assert_problem(Error::NotFound, 404, "not_found");
        assert_problem(Error::InvalidCredentials, 401, "invalid_credentials");
        assert_problem(Error::EmailTaken, 409, "email_taken");
        assert_problem(Error::InvalidCursor, 400, "invalid_cursor");
        assert_problem(Error::IdempotencyKeyRequired, 400, "idempotency_key_required");
        assert_problem(Error::IdempotencyKeyReused, 422, "idempotency_key_reused");
        assert_problem(Error::RequestInProgress, 409, "request_in_progress");
        assert_problem(Error::PaymentDeclined { decline_code: "insufficient_funds".into() }, 402, "payment_declined");
        assert_problem(Error::InvalidSignature, 400, "invalid_signature");
        let invalid = assert_problem(
            Error::PromoCodeInvalid { reason: galley_shared::promotions::PromoRefusal::MinSubtotal },
            400,
            "promo_code_invalid",
        );
        assert_eq!(invalid["reason"], "min_subtotal");
        assert_problem(Error::PromoCodeExhausted, 409, "promo_code_exhausted");
        assert_problem(Error::PromotionExists, 409, "promotion_exists");
        assert_problem(Error::UploadTooLarge { max_size: 10 }, 413, "too_large");
        assert_problem(Error::TooManyUploads { retry_after_secs: 60 }, 429, "too_many_uploads");
    }

    #[test]
    fn validation_names_every_bad_field() {
        let body = assert_problem(
            Error::Validation(vec![
                FieldError::new("email", "must be an email address"),
                FieldError::new("password", "must be 10 to 128 characters"),
            ]),
            400,
            "validation_failed",
        );
        assert_eq!(body["errors"][0]["field"], "email");
        assert_eq!(body["errors"][1]["field"], "password");
        assert!(body["errors"][1]["message"].is_string());
    }

    #[test]
    fn auth_and_throttling_problems_carry_their_headers() {
        let (_, _, headers) = problem(Error::Unauthorized);
        assert!(headers.contains(&("www-authenticate".into(), "Bearer".into())));
        let (_, _, headers) = problem(Error::TooManyAttempts { retry_after_secs: 600 });
        assert!(headers.contains(&("retry-after".into(), "600".into())));
        let (status, _, headers) = problem(Error::RequestInProgress);
        assert_eq!(status, 409);
        assert!(headers.contains(&("retry-after".into(), "1".into())), "a duplicate is told when to retry");
        let (status, _, headers) = problem(Error::MethodNotAllowed { allow: vec!["GET", "POST"] });
        assert_eq!(status, 405);
        assert!(headers.contains(&("allow".into(), "GET, POST".into())));
    }

    #[test]
    fn stock_problems_list_the_items() {
        let id = ProductId::parse("mug").unwrap();
        let body = assert_problem(
            Error::OutOfStock(vec![Shortage { product_id: id.clone(), requested: 3, available: 1 }]),
            409,
            "out_of_stock",
        );
        assert_eq!(body["items"][0], json!({"product_id": "mug", "requested": 3, "available": 1}));
        let body = assert_problem(Error::UnknownProduct(vec![id]), 400, "unknown_product");
        assert_eq!(body["items"], json!(["mug"]));
    }

    #[test]
    fn server_faults_never_show_their_cause() {
        let secret = "arn:aws:dynamodb:eu-west-1:123:table/galley-prod ResourceNotFoundException";
        for error in [Error::internal(secret), Error::unavailable(secret)] {
            let (status, body, _) = problem(error);
            assert!(status == 500 || status == 503);
            let text = body.to_string();
            assert!(!text.contains("dynamodb") && !text.contains("galley-prod"), "{text}");
            assert!(body["code"] == "internal" || body["code"] == "unavailable");
        }
    }
}
