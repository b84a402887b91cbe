//! Dependency faults injected in-process: an HTTP client for the real SDK
//! clients that answers chosen operations with a canned AWS error instead
//! of sending them (so nothing is applied, as with a real throttle), and
//! forwards everything else to moto. The network-level fault proxy of the
//! proof issue (#21) covers lost answers; this covers refusals.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// A canned answer: status, `x-amzn-ErrorType` style JSON body.
#[derive(Clone, Debug)]
pub struct Canned {
    pub status: u16,
    pub body: String,
}

impl Canned {
    /// A `TransactionCanceledException` whose every reason is `code`, for
    /// a transaction of `actions` actions.
    pub fn cancelled(code: &str, actions: usize) -> Self {
        let reasons: Vec<_> = (0..actions).map(|_| serde_json::json!({"Code": code, "Message": code})).collect();
        let body = serde_json::json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{code}]"),
            "CancellationReasons": reasons,
        });
        Self { status: 400, body: body.to_string() }
    }

    /// An SES v2 (REST JSON) error, e.g. `TooManyRequestsException` (429).
    pub fn rest_error(code: &str, status: u16) -> Self {
        Self { status, body: serde_json::json!({"__type": code, "message": code}).to_string() }
    }

    /// A service error by its code, e.g. `ThrottlingException` (status 400).
    pub fn error(code: &str, status: u16) -> Self {
        let body = serde_json::json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": code});
        Self { status, body: body.to_string() }
    }
}

/// Which operations get a canned answer, and how many more times: JSON
/// protocols by their `X-Amz-Target` suffix (`TransactWriteItems`), REST
/// ones by their path (`/v2/email/outbound-emails`, SES v2's SendEmail).
#[derive(Clone, Debug, Default)]
pub struct Faults(Arc<Mutex<HashMap<String, (Canned, usize)>>>);

impl Faults {
    /// The next `times` calls of `operation` are answered `canned`.
    pub fn inject(&self, operation: &str, canned: Canned, times: usize) {
        self.0.lock().unwrap().insert(operation.to_owned(), (canned, times));
    }

    /// How many injected answers of `operation` are still to be given.
    pub fn left(&self, operation: &str) -> usize {
        self.0.lock().unwrap().get(operation).map_or(0, |(_, n)| *n)
    }

    fn take(&self, operation: &str) -> Option<Canned> {
        let mut plan = self.0.lock().unwrap();
        let (canned, left) = plan.get_mut(operation)?;
        if *left == 0 {
            return None;
        }
        *left -= 1;
        Some(canned.clone())
    }

    /// An HTTP client for an SDK config: `inner` for what is not injected.
    pub fn client(&self, inner: SharedHttpClient) -> FaultyHttp {
        FaultyHttp { inner, faults: self.clone() }
    }
}

#[derive(Clone, Debug)]
pub struct FaultyHttp {
    inner: SharedHttpClient,
    faults: Faults,
}

impl HttpClient for FaultyHttp {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let inner = self.inner.http_connector(settings, components);
        SharedHttpConnector::new(FaultyConnector { inner, faults: self.faults.clone() })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    faults: Faults,
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = match request.headers().get("x-amz-target") {
            Some(target) => target.rsplit('.').next().unwrap_or_default().to_owned(),
            None => request.uri().parse::<http::Uri>().map(|uri| uri.path().to_owned()).unwrap_or_default(),
        };
        match self.faults.take(&operation) {
            Some(canned) => {
                let status = StatusCode::try_from(canned.status).expect("a valid status");
                let mut response = HttpResponse::new(status, SdkBody::from(canned.body));
                response.headers_mut().insert("content-type", "application/x-amz-json-1.0");
                HttpConnectorFuture::ready(Ok(response))
            }
            None => self.inner.call(request),
        }
    }
}

/// A DynamoDB store over a new table on moto whose client answers what
/// `faults` injects.
pub async fn faulty_dynamo_store(faults: &Faults) -> Arc<galley_aws::DynamoStore> {
    let table = crate::fixtures::dynamo_store().await;
    let config = galley_aws::load_sdk_config().await;
    let http = faults.client(config.http_client().expect("the SDK config has an HTTP client"));
    let client_config = aws_sdk_dynamodb::config::Builder::from(&config).http_client(http).build();
    let client = aws_sdk_dynamodb::Client::from_conf(client_config);
    Arc::new(galley_aws::DynamoStore::with_client(client, table.table(), &config))
}

/// An SDK configuration for moto whose clients answer what `faults` injects,
/// each fault reaching Galley's code at once (no SDK retry in between).
pub async fn faulty_sdk_config(faults: &Faults) -> aws_config::SdkConfig {
    crate::fixtures::moto_endpoint();
    let config = galley_aws::load_sdk_config().await;
    let http = faults.client(config.http_client().expect("the SDK config has an HTTP client"));
    let once = aws_config::retry::RetryConfig::standard().with_max_attempts(1);
    config.into_builder().http_client(http).retry_config(once).build()
}
