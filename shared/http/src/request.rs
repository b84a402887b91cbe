//! Requests and responses by the conventions every Galley route shares
//! (API.md "Conventions"), over plain `http` types so the Lambda runtime,
//! the local server and tests all drive the same code.

use bytes::Bytes;
use http::StatusCode;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use serde_json::Value;

use galley_shared::{Chain, Error};

use crate::problem::problem_response;

pub type Request = http::Request<Bytes>;
pub type Response = http::Response<Bytes>;

/// Largest JSON body any route accepts.
pub const MAX_JSON_BODY: usize = 64 * 1024;
pub const JSON: &str = "application/json";
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The target of the request span: the log filter records it whatever
/// level or target list `RUST_LOG` asks for (`galley_lambda::telemetry`).
pub const SPAN_TARGET: &str = "galley::request";

/// The span every line a request logs is written in: its request id and,
/// in Lambda, the invocation's X-Ray trace id (which the runtime puts in
/// `_X_AMZN_TRACE_ID` for each invocation). A span, not a field of each
/// event, so no line can forget it.
pub fn span(id: &RequestId) -> tracing::Span {
    let trace = std::env::var("_X_AMZN_TRACE_ID").ok();
    tracing::info_span!(target: SPAN_TARGET, "request", request_id = %id.0, xray_trace_id = trace.as_deref())
}

/// The id a response is traced by: the Lambda request id where there is one.
/// The entry point (Lambda glue, local server) puts it in the request's extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }

    pub fn of(request: &Request) -> RequestId {
        request.extensions().get::<RequestId>().cloned().unwrap_or_else(RequestId::generate)
    }
}

fn is_json_media_type(content_type: &str) -> bool {
    let mut parts = content_type.split(';').map(str::trim);
    let essence_ok = parts.next().is_some_and(|m| m.eq_ignore_ascii_case(JSON));
    essence_ok
        && parts.all(|param| match param.split_once('=') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
                value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            }
            _ => param.is_empty(),
        })
}

/// Reads a JSON body by the conventions: JSON content type (else 415), at most
/// 64 KiB (else 413), well-formed (else `malformed_json`), then `parse` turns
/// the document into a domain value (else `validation_failed`).
pub fn json_body<T>(request: &Request, parse: impl FnOnce(Value) -> Result<T, Error>) -> Result<T, Error> {
    let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !is_json_media_type(content_type) {
        return Err(Error::UnsupportedMediaType { allowed: &[JSON] });
    }
    let body = request.body();
    if body.len() > MAX_JSON_BODY {
        return Err(Error::PayloadTooLarge { limit: MAX_JSON_BODY });
    }
    let document: Value = serde_json::from_slice(body).map_err(|_| Error::MalformedJson)?;
    parse(document)
}

/// The token of an `Authorization: Bearer …` header; anything else is
/// `Unauthorized`.
pub fn bearer_token(request: &Request) -> Result<&str, Error> {
    let header = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(Error::Unauthorized)?;
    let (scheme, token) = header.trim().split_once(' ').ok_or(Error::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Error::Unauthorized);
    }
    Ok(token.trim())
}

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => with_content_type(status, JSON, bytes.into()),
        Err(e) => problem_response(&Error::internal(format!("response serialization: {e}"))),
    }
}

pub fn empty_response(status: StatusCode) -> Response {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

pub(crate) fn with_content_type(status: StatusCode, content_type: &'static str, body: Bytes) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Turns a handler's outcome into the response sent: errors become problems,
/// server faults are logged (with their cause, which the body never shows),
/// and every response carries `x-request-id`.
pub fn finish(request_id: &RequestId, outcome: Result<Response, Error>) -> Response {
    let mut response = match outcome {
        Ok(response) => response,
        Err(error) => {
            match &error {
                Error::Internal { .. } => {
                    tracing::error!(request_id = %request_id.0, cause = %Chain(&error), "internal error")
                }
                Error::Unavailable { .. } => {
                    tracing::warn!(request_id = %request_id.0, cause = %Chain(&error), "dependency unavailable")
                }
                _ => {}
            }
            problem_response(&error)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id.0) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use galley_shared::FieldError;

    fn request(content_type: Option<&str>, body: &[u8]) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/auth/register");
        if let Some(ct) = content_type {
            builder = builder.header(CONTENT_TYPE, ct);
        }
        builder.body(Bytes::copy_from_slice(body)).unwrap()
    }

    fn code(response: &Response) -> String {
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        body["code"].as_str().unwrap().to_owned()
    }

    fn any(value: Value) -> Result<Value, Error> {
        Ok(value)
    }

    #[test]
    fn json_content_types_with_utf8_charset_are_accepted() {
        for ct in ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=\"UTF-8\""] {
            assert!(json_body(&request(Some(ct), b"{}"), any).is_ok(), "{ct}");
        }
    }

    #[test]
    fn other_content_types_are_unsupported_media_type() {
        for ct in [None, Some("text/plain"), Some("application/json; charset=latin1"), Some("application/jsonp")] {
            let err = json_body(&request(ct, b"{}"), any).unwrap_err();
            assert_eq!(code(&problem_response(&err)), "unsupported_media_type", "{ct:?}");
            assert_eq!(problem_response(&err).status(), 415);
        }
    }

    #[test]
    fn bodies_over_64_kib_are_payload_too_large() {
        let at_limit = format!("\"{}\"", "a".repeat(MAX_JSON_BODY - 2));
        assert!(json_body(&request(Some(JSON), at_limit.as_bytes()), any).is_ok());
        let over = vec![b' '; MAX_JSON_BODY + 1];
        let err = json_body(&request(Some(JSON), &over), any).unwrap_err();
        assert_eq!(problem_response(&err).status(), 413);
        assert_eq!(code(&problem_response(&err)), "payload_too_large");
    }

    #[test]
    fn broken_json_is_malformed_json() {
        for body in [&b""[..], b"{", b"{\"a\":}", b"\xff\xfe"] {
            let err = json_body(&request(Some(JSON), body), any).unwrap_err();
            assert_eq!(code(&problem_response(&err)), "malformed_json");
        }
    }

    #[test]
    fn wrong_shapes_are_validation_failed_with_fields() {
        let err = json_body(&request(Some(JSON), b"{\"x\":1}"), |_| {
            Err::<(), _>(Error::Validation(vec![FieldError::new("x", "is not a known field")]))
        })
        .unwrap_err();
        let response = problem_response(&err);
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["errors"][0]["field"], "x");
    }

    #[test]
    fn every_response_carries_the_request_id() {
        let id = RequestId("req-123".into());
        let ok = finish(&id, Ok(empty_response(StatusCode::NO_CONTENT)));
        assert_eq!(ok.headers()[REQUEST_ID_HEADER], "req-123");
        let failed = finish(&id, Err(Error::internal("table galley-prod missing")));
        assert_eq!(failed.headers()[REQUEST_ID_HEADER], "req-123");
        assert_eq!(failed.status(), 500);
        assert!(!String::from_utf8_lossy(failed.body()).contains("galley-prod"));
    }
}
