//! Replays every event in `events/` through its function, in-process, against
//! an embedded store seeded with the demo catalog, and compares the answer
//! with the snapshot kept beside the event (`NAME.expected.json`). An event
//! without a snapshot fails; `GALLEY_UPDATE_SNAPSHOTS=1` writes missing ones
//! for review.

use std::path::{Path, PathBuf};

use galley_search::SearchFunction;
use galley_shared::import::parse_catalog;
use galley_shared::keys::SigningKey;
use galley_shared::ports::Catalog;
use galley_shared::web::{REQUEST_ID_HEADER, Request, Response};
use serde_json::{Value, json};

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn event_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for function in std::fs::read_dir(events_dir()).unwrap() {
        let function = function.unwrap().path();
        for entry in std::fs::read_dir(&function).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".json") && !name.ends_with(".expected.json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// One in-process instance of every function, over one seeded store.
struct Functions {
    search: SearchFunction,
    _data_dir: tempfile::TempDir,
}

impl Functions {
    async fn seeded() -> Functions {
        let temp = galley_tests::fixtures::embedded_store();
        let demo = parse_catalog(include_str!("../../catalog/demo.jsonl"));
        temp.store.upsert(&demo.products).await.unwrap();
        // A fixed key, so cursors in snapshots are stable.
        let key = SigningKey::new(b"replay-tests-fixed-signing-key-0123456789".to_vec()).unwrap();
        let search = SearchFunction::new(temp.store.clone(), temp.store.clone(), &key);
        Functions { search, _data_dir: temp.dir }
    }

    async fn call(&self, function: &str, request: Request) -> Response {
        match function {
            "search" => self.search.handle(request).await,
            other => panic!("events/{other}: no such function"),
        }
    }
}

fn snapshot_of(event: &Value, response: &Response) -> Value {
    let body: Value = if response.body().is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(response.body()).expect("JSON body")
    };
    let gateway_id = event["requestContext"]["requestId"].as_str().unwrap_or_default();
    let request_id = response.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(request_id, gateway_id, "x-request-id carries the gateway's request id");
    let mut headers = serde_json::Map::new();
    for name in ["content-type", "allow", "www-authenticate", "retry-after"] {
        if let Some(value) = response.headers().get(name) {
            headers.insert(name.into(), json!(value.to_str().unwrap()));
        }
    }
    json!({"status": response.status().as_u16(), "headers": headers, "body": body})
}

#[tokio::test]
async fn every_event_answers_as_its_snapshot_says() {
    let functions = Functions::seeded().await;
    let files = event_files();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for file in files {
        let function = file.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let event: Value = serde_json::from_str(&text).unwrap();
        let request = galley_lambda::into_web_request(lambda_http::request::from_str(&text).unwrap());
        let actual = snapshot_of(&event, &functions.call(&function, request).await);
        let expected_path = file.with_extension("expected.json");
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) => {
                let expected: Value = serde_json::from_str(&expected).unwrap();
                if expected != actual {
                    failures.push(format!("{}:\n expected {expected}\n actual   {actual}", file.display()));
                }
            }
            Err(_) if std::env::var_os("GALLEY_UPDATE_SNAPSHOTS").is_some() => {
                std::fs::write(&expected_path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
            }
            Err(_) => failures.push(format!("{}: no snapshot; actual {actual}", file.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
