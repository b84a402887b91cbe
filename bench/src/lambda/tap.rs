//! A loopback forwarder between a started function and the AWS endpoint
//! (moto) that records when each connection was opened, so a cold start
//! can show it made no AWS call before its first poll of `/next`. The SDK
//! opens no connection until it sends a request, and a request in init
//! holds init until its answer, which cannot come before the connection is
//! accepted here: every call made in init is a connection accepted before
//! the first poll.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Tap {
    /// The endpoint to hand the function (`http://127.0.0.1:PORT`).
    pub endpoint: String,
    opened: Arc<Mutex<Vec<Instant>>>,
    accepting: JoinHandle<()>,
}

impl Tap {
    /// Forwards to `endpoint`, an `http://host:port` URL.
    pub async fn start(endpoint: &str) -> std::io::Result<Tap> {
        let upstream = endpoint
            .strip_prefix("http://")
            .map(|rest| rest.trim_end_matches('/').to_owned())
            .ok_or_else(|| std::io::Error::other(format!("not an http:// endpoint: {endpoint}")))?;
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let opened = Arc::new(Mutex::new(Vec::new()));
        let log = opened.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((mut function, _)) = listener.accept().await {
                log.lock().unwrap().push(Instant::now());
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if let Ok(mut aws) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut function, &mut aws).await;
                    }
                });
            }
        });
        Ok(Tap { endpoint, opened, accepting })
    }

    /// How many connections were opened before `moment`.
    pub fn opened_before(&self, moment: Instant) -> usize {
        self.opened.lock().unwrap().iter().filter(|&&at| at < moment).count()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A call through the tap reaches the endpoint, and its connection is
    /// dated between what came before it and what came after.
    #[tokio::test]
    async fn a_call_is_forwarded_and_dated() {
        let aws = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tap = Tap::start(&format!("http://{}/", aws.local_addr().unwrap())).await.unwrap();
        let before = Instant::now();
        let mut function = TcpStream::connect(tap.endpoint.strip_prefix("http://").unwrap()).await.unwrap();
        function.write_all(b"POST /").await.unwrap();
        let (mut upstream, _) = aws.accept().await.unwrap();
        let mut got = [0u8; 6];
        upstream.read_exact(&mut got).await.unwrap();
        upstream.write_all(b"200").await.unwrap();
        function.read_exact(&mut got[..3]).await.unwrap();
        let after = Instant::now();

        assert_eq!(&got[..3], b"200");
        assert_eq!(tap.opened_before(before), 0);
        assert_eq!(tap.opened_before(after), 1);
    }
}
