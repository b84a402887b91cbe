//! A minimal Lambda Runtime API on loopback, as the Lambda service serves it
//! to a function's process: `GET /2018-06-01/runtime/invocation/next` hands
//! out the queued events one at a time (and waits when there are none), and
//! `POST …/response` or `…/error` reports the answer. It records when the
//! first `/next` poll arrives, which is when the function's init ended, as
//! the kernel stamped its bytes (`stamped`), and also when the harness
//! noticed it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Mutex as AsyncMutex, mpsc};

use super::stamped::{Arrivals, Stamped, stamp_arrivals};

/// What a function answered to one invocation.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    Error(Bytes),
    InitError(Bytes),
}

/// One answer and when it arrived.
#[derive(Debug)]
pub struct Answer {
    pub at: Arrival,
    pub outcome: Outcome,
}

/// When a request arrived: as the kernel stamped it, and when the
/// harness's task got to it.
#[derive(Clone, Copy, Debug)]
pub struct Arrival {
    pub sent: Instant,
    pub noticed: Instant,
}

struct State {
    events: AsyncMutex<mpsc::UnboundedReceiver<Value>>,
    answers: mpsc::UnboundedSender<Answer>,
    first_poll: Mutex<Option<Arrival>>,
    invocations: Mutex<u64>,
}

/// The server side, for one function process.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    events: mpsc::UnboundedSender<Value>,
    answers: mpsc::UnboundedReceiver<Answer>,
    state: Arc<State>,
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        stamp_arrivals(&listener)?;
        let addr = listener.local_addr()?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (answers_tx, answers_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            events: AsyncMutex::new(events_rx),
            answers: answers_tx,
            first_poll: Mutex::new(None),
            invocations: Mutex::new(0),
        });
        let serving = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = serving.clone();
                let stream = Stamped::new(stream);
                let arrivals = stream.arrivals();
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(state.clone(), arrivals.clone(), request));
                    // A killed function drops its connection mid-poll; that is expected.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(Self { addr, events: events_tx, answers: answers_rx, state })
    }

    /// Queues an invocation; the function receives it on its next poll.
    pub fn invoke(&self, event: Value) {
        let _ = self.events.send(event);
    }

    /// The next answer, or `None` if none came within `timeout`.
    pub async fn answer(&mut self, timeout: Duration) -> Option<Answer> {
        tokio::time::timeout(timeout, self.answers.recv()).await.ok().flatten()
    }

    /// When the function first asked for work: the end of its init.
    pub fn first_poll(&self) -> Option<Arrival> {
        *self.state.first_poll.lock().unwrap()
    }
}

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
}

async fn answer(
    state: Arc<State>,
    arrivals: Arrivals,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let noticed = Instant::now();
    let arrived = Arrival { sent: arrivals.latest(noticed), noticed };
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    if method == Method::GET && path == "/2018-06-01/runtime/invocation/next" {
        state.first_poll.lock().unwrap().get_or_insert(arrived);
        let Some(event) = state.events.lock().await.recv().await else {
            return Ok(reply(StatusCode::GONE, Bytes::new()));
        };
        let n = {
            let mut invocations = state.invocations.lock().unwrap();
            *invocations += 1;
            *invocations
        };
        let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + Duration::from_secs(30);
        let mut response = reply(StatusCode::OK, Bytes::from(serde_json::to_vec(&event).unwrap_or_default()));
        let headers = response.headers_mut();
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.insert("lambda-runtime-aws-request-id", format!("bench-{n:08}").parse().unwrap());
        headers.insert("lambda-runtime-deadline-ms", deadline.as_millis().to_string().parse().unwrap());
        headers.insert(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:galley-bench".parse().unwrap(),
        );
        headers
            .insert("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".parse().unwrap());
        return Ok(response);
    }
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let outcome = if method != Method::POST {
        None
    } else if path == "/2018-06-01/runtime/init/error" {
        Some(Outcome::InitError(body))
    } else if path.starts_with("/2018-06-01/runtime/invocation/") && path.ends_with("/response") {
        Some(Outcome::Response(body))
    } else if path.starts_with("/2018-06-01/runtime/invocation/") && path.ends_with("/error") {
        Some(Outcome::Error(body))
    } else {
        None
    };
    match outcome {
        Some(outcome) => {
            let _ = state.answers.send(Answer { at: arrived, outcome });
            Ok(reply(StatusCode::ACCEPTED, Bytes::from_static(br#"{"status":"OK"}"#)))
        }
        None => Ok(reply(StatusCode::NOT_FOUND, Bytes::new())),
    }
}
