//! Fuzzing the request parsing through every function's own handler: the
//! HTTP events of `events/` (the corpus, kept in the repository and
//! replayed by `replay`) mutated at random — a body replaced by any JSON,
//! by bytes that are not JSON, a member replaced or removed, the query
//! string, the path's last segment, a header (`Idempotency-Key`,
//! `If-Match`, `Authorization`, `Stripe-Signature`) — and sent through the
//! same Lambda event decoding the functions use. Whatever comes in, the
//! answer is a 2xx, or a 4xx as problem+json with a `code`: never a 5xx,
//! never a panic. A failure prints the case and proptest's seed replays it.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

use crate::replay::{Functions, event_files};

/// How many mutated requests a test-command run sends
/// (`GALLEY_FUZZ_CASES` for a longer run).
const CASES: u32 = 400;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec!["", "0", "-1", "1e400", "USD", "pm_card_visa", "mug-blue-350", "\u{0}"])
            .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    Body(Value),
    Bytes(Vec<u8>),
    Member(usize, Value),
    Remove(usize),
    Query(String),
    Segment(String),
    Header(&'static str, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let header = prop::sample::select(vec!["idempotency-key", "if-match", "authorization", "stripe-signature"]);
    prop_oneof![
        any_json().prop_map(Mutation::Body),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Mutation::Bytes),
        (any::<usize>(), any_json()).prop_map(|(i, v)| Mutation::Member(i, v)),
        any::<usize>().prop_map(Mutation::Remove),
        // What a client can put on a request line (API Gateway passes it on raw).
        "([a-z_=&+0-9.~-]|%[0-9A-F]{2}){0,60}".prop_map(Mutation::Query),
        ".{0,40}".prop_map(Mutation::Segment),
        (header, ".{0,80}").prop_map(|(h, v)| Mutation::Header(h, v)),
    ]
}

/// The seed event with the mutation applied, as API Gateway would send it.
fn mutate(seed: &Value, mutation: &Mutation) -> Value {
    let mut event = seed.clone();
    let body: Option<Value> = event["body"].as_str().and_then(|b| serde_json::from_str(b).ok());
    let set_body = |event: &mut Value, text: String| {
        event["body"] = json!(text);
        event["isBase64Encoded"] = json!(false);
        event["headers"]["content-type"] = json!("application/json");
    };
    match mutation {
        Mutation::Body(value) => set_body(&mut event, value.to_string()),
        Mutation::Bytes(bytes) => set_body(&mut event, String::from_utf8_lossy(bytes).into_owned()),
        Mutation::Member(i, _) | Mutation::Remove(i) => {
            if let Some(Value::Object(mut members)) = body {
                if let Some(name) = members.keys().nth(i % members.len().max(1)).cloned() {
                    match mutation {
                        Mutation::Member(_, value) => members.insert(name, value.clone()),
                        _ => members.remove(&name),
                    };
                }
                set_body(&mut event, Value::Object(members).to_string());
            }
        }
        Mutation::Query(query) => {
            event["rawQueryString"] = json!(query);
            let pairs: Map<String, Value> = url_pairs(query);
            event["queryStringParameters"] = Value::Object(pairs);
        }
        Mutation::Segment(segment) => {
            let path = event["rawPath"].as_str().unwrap_or("/").to_owned();
            let encoded: String = segment.bytes().map(|b| format!("%{b:02X}")).collect();
            let mutated = match path.rsplit_once('/') {
                Some((head, _)) => format!("{head}/{encoded}"),
                None => format!("/{encoded}"),
            };
            event["rawPath"] = json!(mutated);
            event["requestContext"]["http"]["path"] = json!(mutated);
        }
        Mutation::Header(name, value) => {
            let value = if *name == "authorization" { format!("Bearer {value}") } else { value.clone() };
            // Header values are visible ASCII on the wire.
            let value: String = value.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').collect();
            event["headers"][*name] = json!(value);
        }
    }
    event
}

fn url_pairs(query: &str) -> Map<String, Value> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), json!(value))
        })
        .collect()
}

#[test]
fn no_request_gets_a_server_error_or_a_panic() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let functions = runtime.block_on(Functions::seeded());
    // The HTTP events of the corpus (the stream and S3 events are not requests).
    let seeds: Vec<(String, Value)> = event_files()
        .into_iter()
        .filter_map(|file| {
            let function = file.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
            let event: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            (event.get("rawPath").is_some() || event.get("path").is_some()).then_some((function, event))
        })
        .collect();
    assert!(seeds.len() > 80, "the corpus has the HTTP events: {}", seeds.len());
    let (sent, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let cases = std::env::var("GALLEY_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(CASES);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&(any::<usize>(), mutation()), |(pick, mutation)| {
            let (function, seed) = &seeds[pick % seeds.len()];
            let event = mutate(seed, &mutation);
            let text = event.to_string();
            let Ok(request) = lambda_http::request::from_str(&text) else {
                // API Gateway would not send what its own format cannot hold.
                return Ok(());
            };
            let request = galley_lambda::into_web_request(request);
            let response = runtime.block_on(functions.call(function, request));
            let status = response.status().as_u16();
            sent.fetch_add(1, Ordering::Relaxed);
            if status >= 400 {
                refused.fetch_add(1, Ordering::Relaxed);
            }
            let shown = || format!("{function} {mutation:?} -> {status} {}", String::from_utf8_lossy(response.body()));
            if status >= 500 {
                return Err(TestCaseError::fail(format!("a server error: {}", shown())));
            }
            if status >= 400 {
                let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok());
                let problem: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
                prop_assert_eq!(content_type, Some("application/problem+json"), "{}", shown());
                prop_assert!(problem["code"].is_string(), "{}", shown());
            }
            Ok(())
        })
        .unwrap();
    // Not a vacuous pass: the requests reached the handlers, and most
    // mutations were refused there.
    let (sent, refused) = (sent.into_inner(), refused.into_inner());
    assert!(sent * 10 >= cases as usize * 9, "{sent} of {cases} requests sent");
    assert!(refused * 2 >= sent, "{refused} of {sent} refused");
}
