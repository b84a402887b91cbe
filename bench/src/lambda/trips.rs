//! Counting the AWS calls a request makes: an HTTP client around the SDK's
//! own that logs every request it sends (operation, start, end), so round
//! trips are observed on the wire, retries and pages included. While
//! metering is on it also prices each DynamoDB call in request units
//! (`capacity`), from the items the call read and, for writes, each
//! item's image before and after (read aside, with a client of its own).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, Projection as Projected};
use aws_smithy_types::body::SdkBody;
use http_body_util::BodyExt as _;
use serde_json::Value;

use super::capacity::{self, Index, Item, Projection, Schema, Units};
use super::iam::{self, Need};

use aws_config::SdkConfig;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// One request sent to AWS.
#[derive(Clone, Debug)]
pub struct Call {
    /// The IAM action it needs, e.g. `dynamodb:GetItem`, `s3:GetObject`.
    pub action: String,
    pub started: Instant,
    pub ended: Instant,
    /// What it cost in request units (metered calls only).
    pub units: Units,
    /// The items a metered read returned, and their size in bytes.
    pub returned: (usize, usize),
    /// The IAM actions and resources AWS authorizes it by.
    pub needs: Vec<Need>,
}

#[derive(Clone, Debug, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<Call>>>,
    metering: Arc<AtomicBool>,
}

impl CallLog {
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }

    /// Prices the calls from now on (each write then costs two reads aside,
    /// so it is off while latency is timed).
    pub fn meter(&self, on: bool) {
        self.metering.store(on, Ordering::SeqCst);
    }
}

/// How many of `calls` had to wait for one another: the longest chain of
/// calls each starting after the previous one ended. Calls in flight
/// together (a `try_join_all`) count once.
pub fn sequential(calls: &[Call]) -> usize {
    let mut by_end: Vec<&Call> = calls.iter().collect();
    by_end.sort_by_key(|c| c.ended);
    // Interval scheduling: the most non-overlapping calls, greedily by end time.
    let mut chain = 0;
    let mut free_from: Option<Instant> = None;
    for call in by_end {
        if free_from.is_none_or(|end| call.started >= end) {
            chain += 1;
            free_from = Some(call.ended);
        }
    }
    chain
}

/// `config` with every request logged to the returned log.
pub fn counted(config: &SdkConfig) -> (SdkConfig, CallLog) {
    let log = CallLog::default();
    // The client the SDK would pick by default, wrapped.
    let inner = config.http_client().unwrap_or_else(|| {
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
            .build_https()
    });
    let meter = Arc::new(Meter { client: aws_sdk_dynamodb::Client::new(config), schemas: Mutex::default() });
    let client = SharedHttpClient::new(CountingClient { inner, log: log.clone(), meter });
    (config.to_builder().http_client(client).build(), log)
}

#[derive(Debug)]
struct CountingClient {
    inner: SharedHttpClient,
    log: CallLog,
    meter: Arc<Meter>,
}

impl HttpClient for CountingClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let inner = self.inner.http_connector(settings, components);
        SharedHttpConnector::new(CountingConnector { inner, log: self.log.clone(), meter: self.meter.clone() })
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
    log: CallLog,
    meter: Arc<Meter>,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let action = action_of(&request);
        let needs = needs_of(&action, &request);
        let log = self.log.clone();
        let metered = log.metering.load(Ordering::SeqCst);
        let operation = action.strip_prefix("dynamodb:").filter(|_| metered).map(str::to_owned);
        let asked: Option<Value> =
            operation.as_ref().and_then(|_| serde_json::from_slice(request.body().bytes()?).ok());
        let (inner, meter) = (self.inner.clone(), self.meter.clone());
        HttpConnectorFuture::new(async move {
            let before = match (&operation, &asked) {
                (Some(op), Some(asked)) => meter.images(op, asked).await,
                _ => Vec::new(),
            };
            let started = Instant::now();
            let mut response = inner.call(request).await;
            let ended = Instant::now();
            let mut units = Units::default();
            let mut returned = (0, 0);
            if let (Some(op), Some(asked), Ok(answer)) = (&operation, &asked, response.as_mut()) {
                let body = std::mem::replace(answer.body_mut(), SdkBody::taken());
                let bytes = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
                let answered: Value = serde_json::from_slice(&bytes).unwrap_or_default();
                *answer.body_mut() = SdkBody::from(bytes);
                units.read = capacity::read_request_units(op, asked, &answered);
                returned = capacity::items_returned(&answered);
                units.write = meter.write_units(before).await;
            }
            log.calls.lock().unwrap().push(Call { action, started, ended, units, returned, needs });
            response
        })
    }
}

/// Reads items and table schemas aside, for pricing writes.
#[derive(Debug)]
struct Meter {
    client: aws_sdk_dynamodb::Client,
    schemas: Mutex<BTreeMap<String, Schema>>,
}

/// One item a write touches: its table, key, whether in a transaction, and
/// its image before the write.
type Written = (String, Item, bool, Option<Item>);

impl Meter {
    async fn schema(&self, table: &str) -> Schema {
        if let Some(known) = self.schemas.lock().unwrap().get(table) {
            return known.clone();
        }
        let described = self.client.describe_table().table_name(table).send().await.expect("describe the table");
        let table_desc = described.table.expect("a table");
        let names = |keys: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
            keys.iter().map(|k| k.attribute_name.clone()).collect::<Vec<_>>()
        };
        let index = |keys: &[aws_sdk_dynamodb::types::KeySchemaElement], projection: Option<&Projected>| {
            let kind = projection.and_then(|p| p.projection_type.as_ref());
            let non_key = projection.map(|p| p.non_key_attributes().to_vec()).unwrap_or_default();
            Index { keys: names(keys), projection: Projection::of(kind, &non_key) }
        };
        let global = table_desc.global_secondary_indexes().iter().map(|i| index(i.key_schema(), i.projection.as_ref()));
        let local = table_desc.local_secondary_indexes().iter().map(|i| index(i.key_schema(), i.projection.as_ref()));
        let indexes = global.chain(local).collect();
        let schema = Schema { keys: names(table_desc.key_schema()), indexes };
        self.schemas.lock().unwrap().insert(table.to_owned(), schema.clone());
        schema
    }

    async fn image(&self, table: &str, key: &Item) -> Option<Item> {
        let key: HashMap<String, AttributeValue> = key.iter().filter_map(|(n, v)| Some((n.clone(), sdk(v)?))).collect();
        let got = self.client.get_item().table_name(table).set_key(Some(key)).consistent_read(true).send().await;
        got.ok()?.item.as_ref().map(capacity::wire_item)
    }

    /// The items a write request touches, with their images before it.
    async fn images(&self, operation: &str, asked: &Value) -> Vec<Written> {
        let mut tables = BTreeMap::new();
        for name in table_names(asked) {
            tables.insert(name.clone(), self.schema(&name).await);
        }
        let mut written = Vec::new();
        for (table, key, transactional) in capacity::written_keys(operation, asked, &tables) {
            let before = self.image(&table, &key).await;
            written.push((table, key, transactional, before));
        }
        written
    }

    /// Write units of the items `written` touched, from their images now.
    async fn write_units(&self, written: Vec<Written>) -> f64 {
        let mut total = 0.0;
        for (table, key, transactional, before) in written {
            let after = self.image(&table, &key).await;
            total += self.schema(&table).await.write_units(before.as_ref(), after.as_ref(), transactional);
        }
        total
    }
}

/// The tables a write request names.
fn table_names(asked: &Value) -> Vec<String> {
    let mut names: Vec<String> = asked["TableName"].as_str().map(str::to_owned).into_iter().collect();
    for action in asked["TransactItems"].as_array().into_iter().flatten() {
        for kind in ["Put", "Update", "Delete", "ConditionCheck"] {
            names.extend(action[kind]["TableName"].as_str().map(str::to_owned));
        }
    }
    names.extend(asked["RequestItems"].as_object().into_iter().flatten().map(|(name, _)| name.clone()));
    names.sort();
    names.dedup();
    names
}

/// A key attribute in the SDK's type (keys are strings, numbers or binary).
fn sdk(value: &Value) -> Option<AttributeValue> {
    let (kind, inner) = value.as_object()?.iter().next()?;
    let text = inner.as_str()?.to_owned();
    match kind.as_str() {
        "S" => Some(AttributeValue::S(text)),
        "N" => Some(AttributeValue::N(text)),
        "B" => {
            use base64::Engine as _;
            let raw = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
            Some(AttributeValue::B(aws_smithy_types::Blob::new(raw)))
        }
        _ => None,
    }
}

/// The IAM action a request needs, from what is on the wire: the JSON
/// protocols name it in `X-Amz-Target`; S3 and SES v2 are REST.
/// What authorizes `request`: its body is read only where it names more
/// than the table (an index, a transaction's writes).
fn needs_of(action: &str, request: &HttpRequest) -> Vec<Need> {
    let bytes = request.body().bytes().unwrap_or_default();
    let names_more = |word: &[u8]| bytes.windows(word.len()).any(|w| w == word);
    let body: Option<Value> = (action.starts_with("dynamodb:")
        && (names_more(b"IndexName") || names_more(b"TransactItems")))
    .then(|| serde_json::from_slice(bytes).ok())
    .flatten();
    let uri = request.uri();
    let path = uri.split_once("://").map_or(uri, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    iam::needs(action, body.as_ref(), path.split('?').next().unwrap_or_default())
}

fn action_of(request: &HttpRequest) -> String {
    if let Some(target) = request.headers().get("x-amz-target") {
        let (service, operation) = target.split_once('.').unwrap_or(("", target));
        let service = if service.starts_with("DynamoDB") {
            "dynamodb"
        } else if service.starts_with("secretsmanager") {
            "secretsmanager"
        } else {
            service
        };
        return format!("{service}:{operation}");
    }
    let uri = request.uri();
    let path = uri.split_once("://").map_or(uri, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    if path.starts_with("v2/email/outbound-emails") {
        return "ses:SendEmail".into();
    }
    match request.method() {
        "GET" | "HEAD" => "s3:GetObject".into(),
        "PUT" => "s3:PutObject".into(),
        "DELETE" => "s3:DeleteObject".into(),
        other => format!("s3:{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn call(start_ms: u64, end_ms: u64, base: Instant) -> Call {
        Call {
            action: "x".into(),
            started: base + Duration::from_millis(start_ms),
            ended: base + Duration::from_millis(end_ms),
            units: Units::default(),
            returned: (0, 0),
            needs: Vec::new(),
        }
    }

    #[test]
    fn concurrent_calls_count_once_in_the_chain() {
        let t = Instant::now();
        assert_eq!(sequential(&[]), 0);
        // Two lookups together, then one batch read: two waits.
        assert_eq!(sequential(&[call(0, 5, t), call(1, 6, t), call(7, 9, t)]), 2);
        // Three in a row.
        assert_eq!(sequential(&[call(0, 1, t), call(2, 3, t), call(4, 5, t)]), 3);
    }
}
