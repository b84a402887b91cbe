//! `GET /metrics` on `galley serve`: the figures the functions write as
//! CloudWatch EMF lines in Lambda (`galley_shared::metrics`), here as a
//! Prometheus text page. The server listens on loopback only; a request a
//! proxy forwarded (it says so in `Forwarded` / `X-Forwarded-For`) is not
//! shown them, so putting the server behind one publishes no figures.

use std::time::Duration;

use bytes::Bytes;
use galley_http::request::{RequestId, finish};
use galley_shared::Error;
use http::header::{CONTENT_TYPE, HeaderValue};
use http_body_util::Full;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const PATH: &str = "/metrics";

/// How often histograms are folded into the page's summaries.
const UPKEEP: Duration = Duration::from_secs(5);

pub struct MetricsPage {
    handle: PrometheusHandle,
}

impl MetricsPage {
    /// Installs the process's metrics recorder.
    pub fn install() -> anyhow::Result<Self> {
        let handle = PrometheusBuilder::new().install_recorder()?;
        galley_shared::metrics::describe();
        Ok(Self { handle })
    }

    /// The task that keeps histograms from growing without bound.
    pub fn spawn_upkeep(&self) -> tokio::task::JoinHandle<()> {
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP);
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        })
    }

    pub fn answer<B>(&self, request: &hyper::Request<B>) -> hyper::Response<Full<Bytes>> {
        let forwarded = ["forwarded", "x-forwarded-for"].iter().any(|h| request.headers().contains_key(*h));
        if forwarded || request.method() != http::Method::GET {
            return finish(&RequestId::generate(), Err(Error::NotFound)).map(Full::new);
        }
        let mut response = hyper::Response::new(Full::new(Bytes::from(self.handle.render())));
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
        response
    }
}
