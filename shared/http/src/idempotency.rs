//! Idempotent routes at the edge (API.md "idempotency"): the
//! `Idempotency-Key` header read once, and a stored answer sent back as the
//! route first gave it, marked `Idempotent-Replayed` when it is a replay.

use bytes::Bytes;
use galley_shared::Error;
use galley_shared::idempotency::{self, IdempotencyKey};
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use crate::problem;
use crate::request::{self, Request, Response};

pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The request's key; missing or malformed is `idempotency_key_required`.
pub fn key(request: &Request) -> Result<IdempotencyKey, Error> {
    let raw = request.headers().get(idempotency::HEADER).and_then(|v| v.to_str().ok());
    raw.and_then(|raw| IdempotencyKey::parse(raw).ok()).ok_or(Error::IdempotencyKeyRequired)
}

/// An answer as stored under a key: its status and body, JSON or (an
/// error) problem+json, and the headers its status calls for.
pub fn stored_answer(status: u16, body: Bytes, replayed: bool) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if status >= 400 { problem::CONTENT_TYPE } else { request::JSON };
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if status == 503 || status == 429 {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if replayed {
        response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_key(value: &str) -> Request {
        http::Request::builder().header("idempotency-key", value).body(Bytes::new()).unwrap()
    }

    #[test]
    fn the_key_is_read_bare_or_quoted_and_required() {
        assert_eq!(key(&with_key("\"order-0001\"")).unwrap(), key(&with_key("order-0001")).unwrap());
        assert!(matches!(key(&with_key("short")), Err(Error::IdempotencyKeyRequired)));
        let none = http::Request::builder().body(Bytes::new()).unwrap();
        assert!(matches!(key(&none), Err(Error::IdempotencyKeyRequired)));
    }

    #[test]
    fn a_replay_is_marked_and_an_error_stays_problem_json() {
        let replay = stored_answer(409, Bytes::from_static(b"{}"), true);
        assert_eq!(replay.headers()[REPLAYED_HEADER], "true");
        assert_eq!(replay.headers()[CONTENT_TYPE], problem::CONTENT_TYPE);
        let first = stored_answer(201, Bytes::from_static(b"{}"), false);
        assert!(!first.headers().contains_key(REPLAYED_HEADER));
        assert_eq!(first.headers()[CONTENT_TYPE], request::JSON);
    }
}
