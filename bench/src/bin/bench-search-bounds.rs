//! The worst searches one can ask within API.md's rules (#20): a catalog
//! whose commonest title word is in a third of the titles, queries made only
//! of common words and prefixes, refused queries and listings whose filters
//! match nothing. For each: latency through the search function's handler,
//! store calls and entries read (the counting decorators), whether the first
//! page equals the brute-force reference, and resident memory before and
//! after. With `AWS_ENDPOINT_URL` set (moto), the same queries on a smaller
//! catalog also run on DynamoDB and on an embedded store with the same
//! products, to show both read the same entries.
//!
//! cargo run --release -p galley-bench --bin bench-search-bounds [-- PRODUCTS RUNS]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use galley_bench::catalog::{generate, plant_common_words};
use galley_bench::counting::{Counter, Counting};
use galley_bench::stats::{ms, summarize};
use galley_embedded::EmbeddedStore;
use galley_http::Handler;
use galley_search::SearchFunction;
use galley_shared::catalog::{Category, Product};
use galley_shared::keys::SigningKey;
use galley_shared::ports::{Catalog, SearchIndex};
use galley_shared::search::{MAX_QUERY_WORDS, ProductQuery, ProductSearch, distinct_words, words};
use galley_tests::reference::brute_force;

/// The shared case list: a label and a query string (already URL-encoded).
fn cases(common: &[String]) -> Vec<(String, String)> {
    let a = &common[0];
    let repeat = 200 / (a.len() + 1);
    let repeated = std::iter::repeat_n(a.as_str(), repeat).collect::<Vec<_>>().join("+");
    let prefix: String = a.chars().take(2).collect();
    let first = a.chars().next().unwrap();
    vec![
        (format!("commonest word ×{repeat} ({} chars)", repeat * (a.len() + 1) - 1), format!("q={repeated}")),
        ("commonest word, a prefix of it".into(), format!("q={a}+{prefix}")),
        ("one letter".into(), format!("q={first}")),
        ("4 common words".into(), format!("q={}", common[..4].join("+"))),
        ("3 common words + a prefix".into(), format!("q={}+{prefix}", common[..3].join("+"))),
        ("8 common words".into(), format!("q={}", common.join("+"))),
        ("8 common words, the last a prefix".into(), format!("q={}+{first}", common[..7].join("+"))),
        ("9 distinct words (refused)".into(), format!("q={}+extra", common.join("+"))),
        ("?category=none-such".into(), "category=none-such".into()),
        ("?min_price= above every price".into(), "min_price=999999999999".into()),
        ("?category= + min_price above all".into(), "category=kitchen&min_price=999999999999".into()),
    ]
}

/// Generated products with common words planted in their titles.
fn catalog(products: usize) -> (Vec<Product>, Vec<String>) {
    let (mut catalog, vocabulary, mut rng) = generate(products, 7);
    let common = plant_common_words(&mut catalog, &vocabulary, &mut rng);
    (catalog, common)
}

fn request(query: &str) -> galley_http::Request {
    http::Request::builder().uri(format!("/products?{query}&limit=20")).body(Bytes::new()).unwrap()
}

/// The same request as a `ProductQuery`, for the reference.
fn product_query(query: &str) -> Option<ProductQuery> {
    let mut parsed = ProductQuery { limit: 20, ..Default::default() };
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=')?;
        let value = value.replace('+', " ");
        match name {
            "q" => parsed.words = words(&value),
            "category" => parsed.filter.category = Category::parse(&value).ok(),
            "min_price" => parsed.filter.min_price = value.parse().ok(),
            _ => return None,
        }
    }
    Some(parsed)
}

/// Resident memory in kB: the process's own (heap, stacks) and the mapped
/// file pages (SQLite's memory map: page cache, shared and reclaimable).
fn resident_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("RssAnon:"), field("RssFile:"))
}

struct Answer {
    status: u16,
    ids: Vec<String>,
    next: bool,
}

async fn ask(function: &SearchFunction, query: &str) -> Answer {
    let response = function.handle(request(query)).await;
    let status = response.status().as_u16();
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    let ids = body["items"]
        .as_array()
        .map(|items| items.iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    Answer { status, ids, next: body["next_cursor"].is_string() }
}

/// A search function over `store` whose calls and reads `calls` counts.
fn counted<S: Catalog + SearchIndex + 'static>(store: Arc<S>, calls: &Arc<Counter>) -> SearchFunction {
    let counted = Arc::new(Counting { inner: store, calls: calls.clone() });
    SearchFunction::new(counted.clone(), counted, &SigningKey::new(vec![9; 32]).unwrap())
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let products: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);
    let (catalog, common) = catalog(products);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let started = Instant::now();
    store.upsert(&catalog).await.unwrap();
    println!("{products} products imported in {:.1} s", started.elapsed().as_secs_f64());
    let share = |word: &str| catalog.iter().filter(|p| words(&p.title).iter().any(|w| w == word)).count();
    println!(
        "commonest title word {:?} in {:.1} % of titles",
        common[0],
        100.0 * share(&common[0]) as f64 / products as f64
    );

    let calls = Arc::new(Counter::default());
    let function = counted(store.clone(), &calls);
    let cases = cases(&common);
    for (_, query) in &cases {
        ask(&function, query).await; // the page cache and statement cache
    }
    calls.take();
    calls.take_entries();
    // Timed first, with memory read around the queries alone; checked
    // against the reference after, whose own allocations would blur it.
    let (anon_before, file_before) = resident_kb();
    let mut rows = Vec::new();
    for (label, query) in &cases {
        let mut timings: Vec<Duration> = Vec::with_capacity(runs);
        let mut answer = None;
        for _ in 0..runs {
            let started = Instant::now();
            let a = ask(&function, query).await;
            timings.push(started.elapsed());
            answer = Some(a);
        }
        let (calls_per, entries_per) = (calls.take() / runs, calls.take_entries() / runs);
        rows.push((label, query, answer.unwrap(), summarize(timings), calls_per, entries_per));
    }
    let (anon_after, file_after) = resident_kb();
    println!();
    println!("| query | status | p50 | max | store calls | entries read | first page | = brute force |");
    println!("|---|---|---|---|---|---|---|---|");
    for (label, query, answer, s, calls_per, entries_per) in rows {
        let equal = match product_query(query) {
            Some(q) if answer.status == 200 => {
                let reference = brute_force(&catalog, &q);
                let first = &reference[..reference.len().min(20)];
                if answer.ids == first {
                    format!("yes (of {})", reference.len())
                } else if first.starts_with(&answer.ids) && answer.next {
                    format!("its first {} of {} (page ended early)", answer.ids.len(), reference.len())
                } else {
                    "NO".to_owned()
                }
            }
            _ => "–".to_owned(),
        };
        let page = format!("{}{}", answer.ids.len(), if answer.next { " + cursor" } else { "" });
        println!(
            "| {label} | {} | {} | {} | {calls_per} | {entries_per} | {page} | {equal} |",
            answer.status,
            ms(s.p50),
            ms(s.max)
        );
    }
    println!();
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "resident memory, before → after {} queries: own {:.1} → {:.1} MB; mapped database pages {:.1} → {:.1} MB",
        runs * cases.len(),
        mb(anon_before),
        mb(anon_after),
        mb(file_before),
        mb(file_after),
    );

    if std::env::var("AWS_ENDPOINT_URL").is_ok() {
        both_stores().await;
    }
}

/// The same queries on DynamoDB (moto) and on an embedded store holding the
/// same smaller catalog, reads counted. Thresholds are scaled to the catalog
/// (common above 1 % of it, a scan budget of 2 %, as 1 000 and 2 000 are of
/// 100 000), so the same paths run as at full size.
async fn both_stores() {
    let products = 1_500;
    let (catalog, common) = catalog(products);
    let dynamo = galley_tests::fixtures::dynamo_store().await;
    let started = Instant::now();
    dynamo.upsert(&catalog).await.unwrap();
    println!();
    println!("DynamoDB (moto): {products} products imported in {:.1} s", started.elapsed().as_secs_f64());
    let dir = tempfile::tempdir().unwrap();
    let embedded = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    embedded.upsert(&catalog).await.unwrap();
    println!();
    println!("| query | DynamoDB calls | DynamoDB entries read | embedded calls | embedded entries read | same page |");
    println!("|---|---|---|---|---|---|");
    let (on_dynamo, on_embedded) = (Arc::new(Counter::default()), Arc::new(Counter::default()));
    let on = [scaled(dynamo, &on_dynamo, products), scaled(embedded, &on_embedded, products)];
    for (label, query) in cases(&common) {
        let Some(query) = product_query(&query).filter(|q| distinct_words(&q.words) <= MAX_QUERY_WORDS) else {
            continue;
        };
        let a = on[0].search(&query, None).await.unwrap();
        let b = on[1].search(&query, None).await.unwrap();
        let same = a.items == b.items && a.next == b.next;
        println!(
            "| {label} | {} | {} | {} | {} | {} |",
            on_dynamo.take(),
            on_dynamo.take_entries(),
            on_embedded.take(),
            on_embedded.take_entries(),
            if same { "yes" } else { "NO" }
        );
    }
}

fn scaled<S: Catalog + SearchIndex + 'static>(store: Arc<S>, calls: &Arc<Counter>, products: usize) -> ProductSearch {
    let counted = Arc::new(Counting { inner: store, calls: calls.clone() });
    ProductSearch::new(counted.clone(), counted).with_probe_above(products / 100).with_scan_budget(products / 50)
}
