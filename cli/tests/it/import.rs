//! `galley import` into the embedded store and into DynamoDB (moto).

use std::process::Output;

use crate::common::Backend;

const GOOD_A: &str = r#"{"id":"kettle","title":"Gooseneck Kettle","description":"Steel, 1 l.","category":"coffee","price":{"amount":5400,"currency":"USD"},"stock":4,"image_url":null}"#;
const BAD_JSON: &str = r#"{"id":"broken","title":"#;
const BAD_FIELDS: &str = r#"{"id":"x y","title":"","description":"d","category":"coffee","price":{"amount":-1,"currency":"USD"},"stock":1,"image_url":null,"colour":"red"}"#;
const GOOD_B: &str = r#"{"id":"cups","title":"Café Cups","description":"Glass.","category":"coffee","price":{"amount":2450,"currency":"EUR"},"stock":0,"image_url":"https://img.example/cups.png"}"#;

fn import(backend: &Backend, dir: &std::path::Path, text: &str) -> Output {
    let file = dir.join("catalog.jsonl");
    std::fs::write(&file, text).unwrap();
    backend.command(dir, &["import", file.to_str().unwrap()]).output().unwrap()
}

/// Everything the store holds, as sorted lines: every row of every table, or
/// every item of the table.
fn snapshot(backend: &Backend, dir: &std::path::Path) -> Vec<String> {
    let mut lines = match backend {
        Backend::Embedded => {
            let conn = rusqlite::Connection::open(dir.join("galley.db")).unwrap();
            let mut lines = Vec::new();
            for table in ["products", "search_terms"] {
                let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
                let columns = stmt.column_count();
                let mut rows = stmt.query([]).unwrap();
                while let Some(row) = rows.next().unwrap() {
                    let values: Vec<String> = (0..columns)
                        .map(|i| format!("{:?}", row.get::<_, rusqlite::types::Value>(i).unwrap()))
                        .collect();
                    lines.push(format!("{table}: {}", values.join(" | ")));
                }
            }
            lines
        }
        Backend::Aws { table, .. } => {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async {
                let config = galley_aws::load_sdk_config().await;
                let client = aws_sdk_dynamodb::Client::new(&config);
                let mut lines = Vec::new();
                let mut start = None;
                loop {
                    let page =
                        client.scan().table_name(table).set_exclusive_start_key(start.take()).send().await.unwrap();
                    for item in page.items() {
                        let mut attributes: Vec<String> = item.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                        attributes.sort();
                        lines.push(attributes.join(" "));
                    }
                    match page.last_evaluated_key() {
                        Some(key) => start = Some(key.clone()),
                        None => break lines,
                    }
                }
            })
        }
    };
    lines.sort();
    lines
}

#[test]
fn bad_lines_are_named_and_the_rest_imported() {
    for backend in [Backend::Embedded, Backend::aws()] {
        let dir = tempfile::tempdir().unwrap();
        let output = import(&backend, dir.path(), &format!("{GOOD_A}\n{BAD_JSON}\n\n{BAD_FIELDS}\n{GOOD_B}\n"));
        assert!(!output.status.success(), "{backend:?}: bad lines must fail the import");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("catalog.jsonl:2: not valid JSON"), "{stderr}");
        assert!(stderr.contains("catalog.jsonl:4: id must be"), "{stderr}");
        for field in ["title", "price.amount", "colour"] {
            assert!(stderr.contains(field), "line 4's {field} not named: {stderr}");
        }
        assert!(!stderr.contains(":1:") && !stderr.contains(":5:"), "good lines reported: {stderr}");
        let stored = snapshot(&backend, dir.path()).join("\n");
        assert!(
            stored.contains("Gooseneck Kettle") && stored.contains("Café Cups"),
            "{backend:?}: good lines imported"
        );
        assert!(!stored.contains("broken"));
    }
}

/// A snapshot's product rows at version 2 (the embedded row's `version`
/// column, the item's `version` attribute).
fn at_version_2(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .map(|line| match line.strip_prefix("products: ") {
            Some(row) => {
                let mut columns: Vec<&str> = row.split(" | ").collect();
                assert_eq!(columns[10], "Integer(1)", "the version column");
                columns[10] = "Integer(2)";
                format!("products: {}", columns.join(" | "))
            }
            None => line.replace("version=N(\"1\")", "version=N(\"2\")"),
        })
        .collect()
}

#[test]
fn importing_twice_leaves_the_store_unchanged() {
    for backend in [Backend::Embedded, Backend::aws()] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{GOOD_A}\n{GOOD_B}\n");
        assert!(import(&backend, dir.path(), &text).status.success());
        let first = snapshot(&backend, dir.path());
        assert!(first.len() > 2, "products and their index entries");
        assert!(import(&backend, dir.path(), &text).status.success());
        assert_eq!(snapshot(&backend, dir.path()), first, "{backend:?}");
    }
}

#[test]
fn reimport_replaces_a_product_and_its_index_entries() {
    for (backend, fresh_backend) in [(Backend::Embedded, Backend::Embedded), (Backend::aws(), Backend::aws())] {
        let dir = tempfile::tempdir().unwrap();
        assert!(import(&backend, dir.path(), GOOD_A).status.success());
        let renamed = GOOD_A.replace("Gooseneck Kettle", "Pour-over Kettle");
        assert!(import(&backend, dir.path(), &renamed).status.success());
        // The store must hold exactly what importing only the new version
        // gives, but at version 2: an ETag from before the rename is stale.
        let fresh = tempfile::tempdir().unwrap();
        assert!(import(&fresh_backend, fresh.path(), &renamed).status.success());
        let (updated, expected) = (snapshot(&backend, dir.path()), snapshot(&fresh_backend, fresh.path()));
        assert!(!updated.iter().any(|l| l.contains("gooseneck")), "{backend:?}: stale index entry left");
        assert_eq!(updated, at_version_2(expected), "{backend:?}");
    }
}
