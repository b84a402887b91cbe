//! The invocation events a Lambda function receives, built for the bench's
//! own data (the files in `events/` carry the replay fixtures' ids and tokens).

use serde_json::{Map, Value, json};

/// An API Gateway HTTP API (payload 2.0) request event.
pub fn http(method: &str, path_and_query: &str, headers: &[(&str, String)], body: Option<&str>) -> Value {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let mut header_map = Map::new();
    for (name, value) in headers {
        header_map.insert((*name).to_owned(), Value::String(value.clone()));
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": header_map,
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "bench.example", "domainPrefix": "bench",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
            "requestId": "bench-request", "routeKey": "$default", "stage": "$default",
            "time": "21/Nov/2026:12:00:00 +0000", "timeEpoch": 1_795_262_400_000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// The HTTP API event that carries `request`.
pub fn from_request(request: &galley_http::Request) -> Value {
    let headers: Vec<(&str, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.to_str().unwrap_or_default().to_owned()))
        .collect();
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let body = String::from_utf8_lossy(request.body());
    http(request.method().as_str(), path, &headers, (!body.is_empty()).then_some(&*body))
}

/// An S3 `ObjectCreated:Put` notification for one object.
pub fn s3_created(bucket: &str, key: &str, size: usize) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-21T12:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": "galley-upload-check",
            "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": key, "size": size, "sequencer": "0062E99A88DC407460"}
        }
    }]})
}

/// A DynamoDB stream `INSERT` of an order's receipt into the outbox, as the
/// table writes it (`OUTBOX#<order>` / `RECEIPT`, the order as JSON in `doc`).
pub fn receipt_inserted(order_id: &str, order_json: &str) -> Value {
    let pk = format!("OUTBOX#{order_id}");
    json!({"Records": [{
        "eventID": format!("bench-{order_id}"), "eventName": "INSERT", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_795_262_400u64,
            "Keys": {"pk": {"S": pk}, "sk": {"S": "RECEIPT"}},
            "NewImage": {"pk": {"S": pk}, "sk": {"S": "RECEIPT"}, "doc": {"S": order_json}, "sent": {"N": "0"}},
            "SequenceNumber": "100000000000000000001", "SizeBytes": 512, "StreamViewType": "NEW_IMAGE"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/galley/stream/2026-11-21T12:00:00.000"
    }]})
}
