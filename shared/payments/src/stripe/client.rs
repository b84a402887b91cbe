//! A thin typed client for Stripe's API: form-encoded requests built from
//! `Serialize` structs (`serde_urlencoded`; Stripe's `a[b]` keys are field
//! names), JSON answers read into `Deserialize` structs, an
//! `Idempotency-Key` on every write. The HTTPS client is built on first
//! use, not at cold start (a function that never pays never reads the
//! system's roots), and `http://` is allowed only for a loopback emulator.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use galley_shared::Error;
use galley_shared::calls::traced;
use galley_shared::metrics::{self, Fault};
use galley_shared::ports::SecretSource;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

/// Stripe's own API; an emulator (localstripe) is given by configuration.
pub const STRIPE_API: &str = "https://api.stripe.com";

/// Longer than Stripe takes to answer, shorter than the function's timeout
/// (a checkout's retry then resumes the payment).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// An error Stripe answered with (4xx): what a decline or a refusal says.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct StripeError {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl StripeError {
    /// API.md's `decline_code`: Stripe's `decline_code`, else its `code`.
    pub fn decline_code(&self) -> String {
        self.decline_code.clone().or_else(|| self.code.clone()).unwrap_or_else(|| "generic_decline".into())
    }
}

#[derive(serde::Deserialize)]
struct ErrorEnvelope {
    error: StripeError,
}

type Https = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

pub struct StripeClient {
    base: String,
    /// The API key, read on the first call (Secrets Manager in AWS).
    secret: Arc<dyn SecretSource>,
    http: OnceCell<Https>,
}

#[cfg(not(any(feature = "tls-aws-lc", feature = "tls-ring")))]
compile_error!("the Stripe gateway needs a TLS provider: galley-payments' tls-aws-lc or tls-ring");

/// The TLS crypto the build has (Cargo.toml says which and why).
fn tls_provider() -> rustls::crypto::CryptoProvider {
    #[cfg(feature = "tls-aws-lc")]
    return rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
    return rustls::crypto::ring::default_provider();
}

impl StripeClient {
    pub fn new(base: &str, secret: Arc<dyn SecretSource>) -> Self {
        Self { base: base.trim_end_matches('/').to_owned(), secret, http: OnceCell::new() }
    }

    async fn http(&self) -> Result<&Https, Error> {
        self.http
            .get_or_try_init(|| async {
                let connector = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_provider_and_native_roots(tls_provider())
                    .map_err(|e| Error::internal(format!("TLS roots for Stripe: {e}")))?
                    .https_or_http()
                    .enable_http1()
                    .build();
                Ok(Client::builder(TokioExecutor::new()).build(connector))
            })
            .await
    }

    /// POSTs `form` to `path` under `key`: the answer, or Stripe's refusal.
    pub async fn post<F: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        form: &F,
        key: &str,
    ) -> Result<Result<T, StripeError>, Error> {
        let body = serde_urlencoded::to_string(form).map_err(|e| Error::internal(format!("Stripe form: {e}")))?;
        self.call(Method::POST, path, Some((body, key))).await
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Result<T, StripeError>, Error> {
        self.call(Method::GET, path, None).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<(String, &str)>,
    ) -> Result<Result<T, StripeError>, Error> {
        let secret = self.secret.read().await?;
        let operation = format!("{method} {path}");
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(header::AUTHORIZATION, format!("Bearer {}", secret.expose_secret()));
        let body = match body {
            Some((form, key)) => {
                request = request
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header("Idempotency-Key", key);
                Bytes::from(form)
            }
            None => Bytes::new(),
        };
        let request = request.body(Full::new(body)).map_err(Error::internal)?;
        let http = self.http().await?;
        let (status, bytes) =
            traced(STRIPE, &operation, exchanged, exchange(http, request)).await.map_err(|(fault, error)| {
                metrics::dependency_error(STRIPE, fault);
                error
            })?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map(Ok).map_err(|e| Error::internal(format!("Stripe answer: {e}")));
        }
        // Throttled or failing: ask again later; the keys make that safe.
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            let fault = if status.is_server_error() { Fault::Server } else { Fault::Throttled };
            metrics::dependency_error(STRIPE, fault);
            return Err(Error::unavailable(format!("Stripe answered {status}")));
        }
        let refused: ErrorEnvelope = serde_json::from_slice(&bytes)
            .map_err(|e| Error::internal(format!("Stripe error answer ({status}): {e}")))?;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            // A wrong or revoked key is a deployment fault, not the shopper's.
            metrics::dependency_error(STRIPE, Fault::Refused);
            return Err(Error::internal(format!("Stripe refused the API key ({status})")));
        }
        Ok(Err(refused.error))
    }
}

/// The dependency's name in call lines and metrics.
const STRIPE: &str = "stripe";

/// A request sent and its answer read, or why not.
type Exchange = Result<(StatusCode, Bytes), (Fault, Error)>;

async fn exchange(http: &Https, request: Request<Full<Bytes>>) -> Exchange {
    let broken = |e: &dyn std::fmt::Display| (Fault::Connection, Error::unavailable(format!("Stripe: {e}")));
    let answer = tokio::time::timeout(CALL_TIMEOUT, async {
        let response = http.request(request).await.map_err(|e| broken(&e))?;
        let status = response.status();
        let bytes = response.into_body().collect().await.map_err(|e| broken(&e))?;
        Ok((status, bytes.to_bytes()))
    })
    .await;
    answer.unwrap_or_else(|_| Err((Fault::Timeout, Error::unavailable("Stripe did not answer in time"))))
}

/// An exchange's outcome in its call line.
fn exchanged(exchange: &Exchange) -> &'static str {
    match exchange {
        Ok((status, _)) if status.is_success() => "ok",
        Ok(_) => "refused",
        Err((fault, _)) => fault.as_str(),
    }
}
