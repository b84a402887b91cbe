//! The functions' metrics as Lambda's log agent reads them: each function
//! binary, started through the bench harness as Lambda starts it, writes
//! EMF documents that follow the specification, with bounded dimensions,
//! and figures that match what its invocations did.
//!
//! Needs the debug builds of the functions (`scripts/test` builds them
//! first): `cargo test -p galley-bench --test emf -- --ignored`.

use std::path::PathBuf;

use galley_bench::lambda::emf::{self, check, documents};
use galley_bench::lambda::launch::{Launch, standard_output};
use galley_bench::lambda::rig::{self, Functions, MAIL_FROM};
use galley_bench::lambda::routes::Bench;
use galley_lambda::Stores;
use galley_shared::config::Backend;
use serde_json::Value;

const INVOCATIONS: usize = 3;

/// A metric, the dimensions its value is read under, and the value.
type Figure = (&'static str, &'static [(&'static str, &'static str)], f64);

fn binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug").join(name);
    assert!(path.exists(), "{}: build the functions first (cargo build --bins)", path.display());
    path
}

fn total(docs: &[Value], name: &str, wanted: &[(&str, &str)]) -> f64 {
    docs.iter().map(|doc| emf::value(doc, name, wanted)).sum()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the functions' debug builds; scripts/test runs it"]
async fn every_function_writes_valid_emf_that_counts_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::Embedded { data_dir: dir.path().to_owned() };
    let stores = Stores::open(&backend).await.unwrap();
    let key = galley_lambda::keys::load_or_create(dir.path()).unwrap();
    let fixture = rig::seed(&stores, &key, INVOCATIONS).await;
    let functions = Functions::new(&stores, &key);
    let bench = Bench::new(&functions, &stores, &fixture, "local".into());
    let env = vec![
        ("GALLEY_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("MAIL_FROM".to_owned(), MAIL_FROM.to_owned()),
    ];

    for function in ["search", "login", "checkout", "upload", "upload-check", "receipts"] {
        let launch = Launch { binary: binary(function), env: env.clone() };
        let events = (0..INVOCATIONS).map(|i| bench.event(function, i)).collect();
        let output = standard_output(&launch, events).await.unwrap_or_else(|e| panic!("{function}: {e}"));
        let docs = documents(&output);
        assert!(!docs.is_empty(), "{function} wrote no metrics:\n{output}");
        for doc in &docs {
            check(doc).unwrap_or_else(|e| panic!("{function}: {e}: {doc}"));
            assert_eq!(doc["Function"], function, "{doc}");
            assert!(doc["requestId"].as_str().is_some_and(|id| !id.is_empty()), "{function}: {doc}");
        }
        assert_eq!(total(&docs, "ColdStarts", &[]), 1.0, "{function}: one cold start");
        let http = bench.event(function, 0).1.is_some();
        if http {
            // One document per set of dimensions an invocation recorded under.
            let invocations: std::collections::BTreeSet<_> =
                docs.iter().map(|doc| doc["requestId"].to_string()).collect();
            assert_eq!(invocations.len(), INVOCATIONS, "{function}: every request counted:\n{output}");
            assert_eq!(total(&docs, "Requests", &[("Outcome", "2xx")]), INVOCATIONS as f64, "{function}");
            assert_eq!(total(&docs, "Latency", &[]), INVOCATIONS as f64, "{function}: one sample each");
        }
        let figures: &[Figure] = match function {
            "checkout" => &[("OrdersConfirmed", &[("Currency", "USD")], 3.0)],
            "receipts" => &[("EmailsSent", &[], 3.0)],
            // One upload, checked three times (storage notifies at least once).
            "upload-check" => &[("UploadsStored", &[], 1.0)],
            _ => &[],
        };
        for (name, wanted, expected) in figures {
            assert_eq!(total(&docs, name, wanted), *expected, "{function}: {name}");
        }
    }
}
