//! Lambda events ⇄ `galley_http` requests and responses.

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use galley_http::request::{self as web, RequestId};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The request id a response carries: the Lambda invocation's, else API
/// Gateway's (a replayed event has no Lambda context), else a fresh one.
fn request_id(event: &lambda_http::Request) -> RequestId {
    let from_lambda = event.lambda_context_ref().map(|c| c.request_id.clone()).filter(|id| !id.is_empty());
    let from_gateway = || match event.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.request_id.clone(),
        Some(RequestContext::ApiGatewayV1(c)) => c.request_id.clone(),
        _ => None,
    };
    from_lambda.or_else(from_gateway).map(RequestId).unwrap_or_else(RequestId::generate)
}

/// Converts an API Gateway request (HTTP API v2 or REST v1) to the handlers'
/// request type. The path is the one the client asked for, without the REST
/// stage prefix that `lambda_http` adds, so routes match on every gateway.
pub fn into_web_request(event: lambda_http::Request) -> web::Request {
    let id = request_id(&event);
    let path_and_query = match event.uri().query() {
        Some(query) => format!("{}?{query}", event.raw_http_path()),
        None => event.raw_http_path().to_owned(),
    };
    let (mut parts, body) = event.into_parts();
    if let Ok(uri) = http::Uri::try_from(path_and_query) {
        parts.uri = uri;
    }
    parts.extensions.insert(id);
    // lambda_http has already decoded base64 bodies into bytes.
    let bytes = match body {
        Body::Text(text) => Bytes::from(text),
        Body::Binary(binary) => Bytes::from(binary),
        _ => Bytes::new(),
    };
    http::Request::from_parts(parts, bytes)
}

pub fn into_lambda_response(response: web::Response) -> lambda_http::Response<Body> {
    let (parts, bytes) = response.into_parts();
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(binary) => Body::Binary(binary.into_bytes()),
        }
    };
    lambda_http::Response::from_parts(parts, body)
}

/// Runs `handler` as the Lambda function's HTTP handler until the runtime
/// stops, writing each invocation's metrics after its answer.
pub async fn run<H, F>(handler: H) -> Result<(), lambda_http::Error>
where
    H: Fn(web::Request) -> F + Send + Sync,
    F: Future<Output = web::Response> + Send,
{
    let handler = &handler;
    lambda_http::run(lambda_http::service_fn(move |event: lambda_http::Request| async move {
        let request = into_web_request(event);
        let id = RequestId::of(&request);
        let response = handler(request).await;
        crate::metrics::flush(&id.0);
        Ok::<_, Infallible>(into_lambda_response(response))
    }))
    .await
}

/// Runs `handler` as an event function's handler (a stream, S3 or schedule
/// event) until the runtime stops, writing each invocation's metrics after
/// its answer.
pub async fn run_events<E, R, H, F>(handler: H) -> Result<(), lambda_http::Error>
where
    E: DeserializeOwned + Send,
    R: Serialize,
    H: Fn(E) -> F + Send + Sync,
    F: Future<Output = Result<R, lambda_http::Error>> + Send,
{
    let handler = &handler;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<E>| async move {
        let answer = handler(event.payload).await;
        crate::metrics::flush(&event.context.request_id);
        answer
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP_API_EVENT: &str = r#"{
        "version": "2.0", "routeKey": "$default", "rawPath": "/products/mug",
        "rawQueryString": "q=blue%20mug", "headers": {"content-type": "application/json"},
        "requestContext": {"accountId": "1", "apiId": "a", "domainName": "x", "domainPrefix": "x",
            "http": {"method": "POST", "path": "/products/mug", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": "gw-req-1", "routeKey": "$default", "stage": "$default",
            "time": "21/Nov/2026:12:00:00 +0000", "timeEpoch": 1795000000000},
        "body": "eyJhIjoxfQ==", "isBase64Encoded": true
    }"#;

    const REST_EVENT: &str = r#"{
        "resource": "/{proxy+}", "path": "/products", "httpMethod": "GET",
        "headers": {}, "multiValueHeaders": {}, "queryStringParameters": {"limit": "5"},
        "multiValueQueryStringParameters": {"limit": ["5"]}, "pathParameters": {"proxy": "products"},
        "stageVariables": null,
        "requestContext": {"accountId": "1", "resourceId": "r", "stage": "prod", "requestId": "rest-req-1",
            "identity": {"sourceIp": "127.0.0.1"}, "resourcePath": "/{proxy+}", "httpMethod": "GET",
            "apiId": "a", "path": "/prod/products"},
        "body": null, "isBase64Encoded": false
    }"#;

    #[test]
    fn http_api_event_keeps_path_query_and_decoded_body() {
        let request = into_web_request(lambda_http::request::from_str(HTTP_API_EVENT).unwrap());
        assert_eq!(request.uri().path(), "/products/mug");
        assert_eq!(request.uri().query(), Some("q=blue%20mug"));
        assert_eq!(request.method(), "POST");
        assert_eq!(request.body().as_ref(), br#"{"a":1}"#);
        assert_eq!(RequestId::of(&request).0, "gw-req-1");
    }

    #[test]
    fn rest_event_path_has_no_stage_prefix() {
        let request = into_web_request(lambda_http::request::from_str(REST_EVENT).unwrap());
        assert_eq!(request.uri().path(), "/products");
        assert_eq!(request.uri().query(), Some("limit=5"));
        assert_eq!(RequestId::of(&request).0, "rest-req-1");
    }

    #[test]
    fn responses_keep_status_headers_and_body() {
        let response = web::json_response(http::StatusCode::CREATED, &serde_json::json!({"ok": true}));
        let lambda = into_lambda_response(response);
        assert_eq!(lambda.status(), 201);
        assert_eq!(lambda.headers()["content-type"], "application/json");
        assert_eq!(lambda.body(), &Body::Text(r#"{"ok":true}"#.into()));
        let empty = into_lambda_response(web::empty_response(http::StatusCode::NO_CONTENT));
        assert_eq!(empty.body(), &Body::Empty);
    }
}
