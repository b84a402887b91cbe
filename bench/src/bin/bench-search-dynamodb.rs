//! What a search costs on DynamoDB: imports N generated products (the
//! catalog and query mix of `bench-search`, the commonest title words in a
//! third to a sixteenth of the titles) into a fresh table on moto, answers
//! the two-word queries through the search function's handler over the
//! DynamoDB adapter, and reports per query the read request units it
//! consumed, the DynamoDB calls and the round trips that waited for one
//! another, and whether its first page equals the brute-force reference.
//!
//! . scripts/moto.sh && start_moto .venv && target/release/bench-search-dynamodb [PRODUCTS QUERIES]
//!
//! Read units are computed from the items each call read, by DynamoDB's
//! rounding rules (`lambda::capacity`): moto answers `ReturnConsumedCapacity`
//! with a constant per call. The catalog is as large as moto can serve in
//! a run of minutes: moto evaluates every Query against every item of the
//! table, so its latency here says nothing of DynamoDB's and is not reported
//! as such; the units do not depend on it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use galley_aws::DynamoStore;
use galley_bench::catalog::{generate, plant_common_words, two_word_queries};
use galley_bench::exact::{Verdict, first_page};
use galley_bench::lambda::cost::{PER_MILLION_READ_UNITS, PRICES_AS_OF};
use galley_bench::lambda::trips::{self, sequential};
use galley_bench::stats::spread;
use galley_http::Handler;
use galley_search::SearchFunction;
use galley_shared::keys::SigningKey;
use galley_shared::ports::Catalog;
use galley_shared::search::words;

/// One answered query: what it cost and whether it was right.
struct Measured {
    query: String,
    units: f64,
    /// Calls, read units, items and bytes returned, by operation.
    by_operation: BTreeMap<String, (usize, f64, usize, usize)>,
    calls: usize,
    sequential: usize,
    verdict: Verdict,
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let products: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let queries: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL: start moto first (scripts/moto.sh)");
    let (mut catalog, vocabulary, mut rng) = generate(products, 42);
    let common = plant_common_words(&mut catalog, &vocabulary, &mut rng);

    let plain = galley_aws::load_sdk_config().await;
    let table = format!("galley-bench-search-{}", ulid::Ulid::new().to_string().to_lowercase());
    let importer = DynamoStore::new(&plain, table.clone());
    galley_aws::table::create_table(importer.client(), &table).await.expect("create the table");
    let started = Instant::now();
    for chunk in catalog.chunks(500) {
        importer.upsert(chunk).await.expect("import");
    }
    let import = started.elapsed();
    let described = importer.client().describe_table().table_name(&table).send().await.expect("describe the table");
    let items = described.table.and_then(|t| t.item_count).unwrap_or_default();

    // The searching store's calls go through the counting client, metered.
    let (config, log) = trips::counted(&plain);
    let store = Arc::new(DynamoStore::new(&config, table.clone()));
    let function = SearchFunction::new(store.clone(), store, &SigningKey::new(vec![9; 32]).unwrap());
    let query_strings = two_word_queries(&catalog, &mut rng, queries);
    log.meter(true);
    let started = Instant::now();
    let mut measured = Vec::with_capacity(queries);
    for q in &query_strings {
        log.take();
        let response = function.handle(request(q)).await;
        assert_eq!(response.status(), 200, "{q}: {:?}", response.body());
        let calls = log.take();
        let mut by_operation: BTreeMap<String, (usize, f64, usize, usize)> = BTreeMap::new();
        for call in &calls {
            let entry = by_operation.entry(call.action.trim_start_matches("dynamodb:").to_owned()).or_default();
            entry.0 += 1;
            entry.1 += call.units.read;
            entry.2 += call.returned.0;
            entry.3 += call.returned.1;
        }
        measured.push(Measured {
            query: q.replace("%20", " "),
            units: calls.iter().map(|c| c.units.read).sum(),
            by_operation,
            calls: calls.len(),
            sequential: sequential(&calls),
            verdict: first_page(&catalog, q, 20, response.body()),
        });
    }
    let elapsed = started.elapsed();
    report(&catalog, &common, items, import, elapsed, &measured);
}

fn request(q: &str) -> galley_http::Request {
    http::Request::builder().uri(format!("/products?q={q}&limit=20")).body(Bytes::new()).unwrap()
}

fn report(
    catalog: &[galley_shared::catalog::Product],
    common: &[String],
    items: i64,
    import: std::time::Duration,
    elapsed: std::time::Duration,
    measured: &[Measured],
) {
    let n = measured.len() as f64;
    let products = catalog.len();
    let share = |word: &str| catalog.iter().filter(|p| words(&p.title).iter().any(|w| w == word)).count();
    let shares: Vec<String> =
        common.iter().take(3).map(|w| format!("{:.0} %", 100.0 * share(w) as f64 / products as f64)).collect();
    println!(
        "products: {products}, table items: {items} (import {:.1} s on moto); the three commonest title words are \
         in {} of the titles",
        import.as_secs_f64(),
        shares.join(", ")
    );
    let equal = measured.iter().filter(|m| m.verdict == Verdict::Equal).count();
    let early = measured.iter().filter(|m| matches!(m.verdict, Verdict::Early { .. })).count();
    let wrong: Vec<&str> = measured.iter().filter(|m| m.verdict == Verdict::Wrong).map(|m| m.query.as_str()).collect();
    println!(
        "two-word queries: {} ({:.1} s on moto); first pages equal to the brute-force reference: {equal}; ended \
         early by the read budget, the reference's first items and a cursor: {early}; wrong: {}",
        measured.len(),
        elapsed.as_secs_f64(),
        wrong.len()
    );
    for q in wrong.iter().take(5) {
        println!("  wrong: {q}");
    }
    println!();
    println!("| per search | mean | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|");
    let row = |label: &str, values: Vec<f64>| {
        let [mean, p50, p99, max] = spread(values);
        println!("| {label} | {mean:.2} | {p50:.1} | {p99:.1} | {max:.1} |");
    };
    row("read request units", measured.iter().map(|m| m.units).collect());
    row("DynamoDB calls", measured.iter().map(|m| m.calls as f64).collect());
    row("round trips in sequence", measured.iter().map(|m| m.sequential as f64).collect());
    let [mean, ..] = spread(measured.iter().map(|m| m.units));
    let mut operations: BTreeMap<&str, (usize, f64, usize, usize)> = BTreeMap::new();
    for m in measured {
        for (op, (calls, units, items, bytes)) in &m.by_operation {
            let entry = operations.entry(op).or_default();
            entry.0 += calls;
            entry.1 += units;
            entry.2 += items;
            entry.3 += bytes;
        }
    }
    println!();
    println!("| operation | calls per search | read units per search | items per search | mean item |");
    println!("|---|---:|---:|---:|---:|");
    for (op, (calls, units, items, bytes)) in &operations {
        println!(
            "| {op} | {:.2} | {:.2} | {:.1} | {} bytes |",
            *calls as f64 / n,
            units / n,
            *items as f64 / n,
            bytes / (*items).max(1)
        );
    }
    println!();
    println!(
        "DynamoDB reads per million searches: ${:.2} (mean {mean:.1} units at ${PER_MILLION_READ_UNITS} per million \
         read request units, {PRICES_AS_OF})",
        mean * PER_MILLION_READ_UNITS,
    );
    let mut costly: Vec<&Measured> = measured.iter().collect();
    costly.sort_by(|a, b| b.units.total_cmp(&a.units));
    let top: Vec<String> =
        costly.iter().take(5).map(|m| format!("{} ({:.1} units, {} calls)", m.query, m.units, m.calls)).collect();
    println!("costliest: {}", top.join(", "));
}
