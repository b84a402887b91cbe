//! Counting the AWS calls a request makes: an HTTP client around the SDK's
//! own that logs every request it sends (operation, start, end), so round
//! trips are observed on the wire, retries and pages included.

use std::sync::{Arc, Mutex};
use std::time::Instant;

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
}

#[derive(Clone, Debug, Default)]
pub struct CallLog(Arc<Mutex<Vec<Call>>>);

impl CallLog {
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.0.lock().unwrap())
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
    let client = SharedHttpClient::new(CountingClient { inner, log: log.clone() });
    (config.to_builder().http_client(client).build(), log)
}

#[derive(Debug)]
struct CountingClient {
    inner: SharedHttpClient,
    log: CallLog,
}

impl HttpClient for CountingClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let inner = self.inner.http_connector(settings, components);
        SharedHttpConnector::new(CountingConnector { inner, log: self.log.clone() })
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
    log: CallLog,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let action = action_of(&request);
        let log = self.log.clone();
        let started = Instant::now();
        let sent = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let response = sent.await;
            log.0.lock().unwrap().push(Call { action, started, ended: Instant::now() });
            response
        })
    }
}

/// The IAM action a request needs, from what is on the wire: the JSON
/// protocols name it in `X-Amz-Target`; S3 and SES v2 are REST.
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
