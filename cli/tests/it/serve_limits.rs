//! #20 item 8: `galley serve` bounds what a client can make it hold: a
//! body is read no further than the 64 KiB any route takes, a request head
//! must arrive within its timeout, connections beyond the cap wait, and a
//! failing accept (out of file descriptors) is waited out, not spun on.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{Backend, Server};

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream
}

/// The status line's code, or `None` when the server closed without answering.
fn status(stream: &mut TcpStream) -> Option<u16> {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buffer[..n]);
                if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(e) => panic!("no answer: {e}"),
        }
    }
    let line = String::from_utf8_lossy(&answer);
    line.split(' ').nth(1).and_then(|code| code.parse().ok())
}

#[test]
fn a_body_announced_huge_is_refused_after_64_kib_without_waiting_for_the_rest() {
    let server = Server::start(Backend::Embedded);
    let mut stream = connect(&server);
    let head =
        "POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16777216\r\n\r\n";
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&vec![b' '; 100 * 1024]).unwrap();
    let started = Instant::now();
    assert_eq!(status(&mut stream), Some(413));
    assert!(started.elapsed() < Duration::from_secs(5), "answered without the other 16 MiB");
}

#[test]
fn a_request_head_that_never_ends_is_cut_off() {
    let server = Server::start(Backend::Embedded);
    let mut stream = connect(&server);
    stream.write_all(b"GET /products HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = Instant::now();
    assert_eq!(status(&mut stream), None, "closed without an answer");
    assert!(started.elapsed() < Duration::from_secs(15), "within the header timeout");
}

#[test]
fn connections_beyond_the_cap_wait_for_a_free_one() {
    let server = Server::start_limited(Backend::Embedded, &["--max-connections", "2"], None);
    let idle: Vec<TcpStream> = (0..2).map(|_| connect(&server)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut waiting = connect(&server);
    waiting.set_read_timeout(Some(Duration::from_millis(700))).unwrap();
    waiting.write_all(b"GET /products/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut byte = [0u8; 1];
    let early = waiting.read(&mut byte);
    assert!(early.is_err(), "no answer while both slots are held: {early:?}");
    drop(idle);
    waiting.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = vec![0u8; 12];
    waiting.read_exact(&mut rest).unwrap();
    assert!(String::from_utf8_lossy(&rest).contains("404"), "answered once a slot freed");
}

#[test]
fn out_of_file_descriptors_the_server_waits_instead_of_spinning() {
    let server = Server::start_limited(Backend::Embedded, &[], Some(64));
    // Every descriptor the server has left goes to a connection; the rest queue.
    let held: Vec<TcpStream> = (0..80).map(|_| connect(&server)).collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = server.cpu_ticks();
    std::thread::sleep(Duration::from_secs(2));
    let used = server.cpu_ticks() - before;
    assert!(used < 40, "{used} ticks of CPU in 2 s with accept failing (a spin is ~200)");
    drop(held);
    assert_eq!(server.get("/products/mug-blue-350").status, 200, "serves again once descriptors free up");
}
