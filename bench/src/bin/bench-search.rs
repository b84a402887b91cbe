//! Search at scale: imports N generated products (default 100 000), the
//! commonest title words planted in a third to a sixteenth of the titles,
//! into an embedded store, then answers two-word queries through the search
//! function's handler, reports p50/p99 and store calls per query, and
//! checks every query's first page against the brute-force reference.
//!
//! cargo run --release -p galley-bench --bin bench-search [-- PRODUCTS QUERIES]
//!
//! For quick rounds while tuning: `BENCH_SEARCH_DIR=DIR` keeps the imported
//! store in DIR and reuses it (the same products: the generator is seeded),
//! and `BENCH_SEARCH_CHECK=0` skips the check against the reference.
//! `BENCH_SEARCH_ITEM_BYTES=N` also prices the same reads as DynamoDB would
//! (`Counter::price_items_at`), N being the mean index item size
//! `bench-search-dynamodb` measures on moto.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use galley_bench::catalog::{generate, plant_common_words, two_word_queries};
use galley_bench::counting::{Counter, Counting};
use galley_bench::exact::{Verdict, first_page};
use galley_bench::lambda::cost::PER_MILLION_READ_UNITS;
use galley_bench::stats::{ms, spread, summarize};
use galley_embedded::EmbeddedStore;
use galley_http::Handler;
use galley_search::SearchFunction;
use galley_shared::keys::SigningKey;
use galley_shared::ports::Catalog;
use galley_shared::search::words;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let products: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let queries: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let (mut catalog, vocabulary, mut rng) = generate(products, 42);
    let common = plant_common_words(&mut catalog, &vocabulary, &mut rng);

    let temporary = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("BENCH_SEARCH_DIR").map(|dir| std::path::PathBuf::from(dir).join(products.to_string()));
    let dir = kept.clone().unwrap_or_else(|| temporary.path().to_path_buf());
    let reused = kept.is_some() && dir.join("galley.db").exists();
    let store = Arc::new(EmbeddedStore::open(&dir).unwrap());
    let started = Instant::now();
    if !reused {
        store.upsert(&catalog).await.unwrap();
    }
    let import = started.elapsed();
    let check = std::env::var("BENCH_SEARCH_CHECK").map_or(true, |v| v != "0");

    let calls = Arc::new(Counter::default());
    let counted = Arc::new(Counting { inner: store.clone(), calls: calls.clone() });
    let key = SigningKey::new(vec![9; 32]).unwrap();
    let function = SearchFunction::new(counted.clone(), counted, &key);

    let query_strings = two_word_queries(&catalog, &mut rng, queries);

    let query_strings: Vec<String> = match std::env::var("BENCH_SEARCH_ONLY") {
        Ok(only) => only.split(',').map(|q| q.replace(' ', "%20")).collect(),
        Err(_) => query_strings,
    };
    let queries = query_strings.len();
    for q in query_strings.iter().take(200) {
        function.handle(request(q)).await; // warm the page cache and statement cache
    }
    calls.take();
    calls.take_index_ms();
    let mut timings = Vec::with_capacity(queries);
    let mut results = 0usize;
    let mut pages = Vec::with_capacity(queries);
    let (mut calls_each, mut entries_each) = (Vec::with_capacity(queries), Vec::with_capacity(queries));
    let (mut keyed_each, mut units_each) = (Vec::with_capacity(queries), Vec::with_capacity(queries));
    let mut all_calls = 0;
    // What the same reads would cost on DynamoDB, given its index items' size.
    let item_bytes: Option<usize> = std::env::var("BENCH_SEARCH_ITEM_BYTES").ok().and_then(|b| b.parse().ok());
    if let Some(bytes) = item_bytes {
        calls.price_items_at(bytes);
    }
    calls.take_entries();
    calls.take_keyed();
    calls.take_units();
    for q in &query_strings {
        let started = Instant::now();
        let response = function.handle(request(q)).await;
        timings.push(started.elapsed());
        let made = calls.take();
        all_calls += made;
        calls_each.push(made);
        entries_each.push(calls.take_entries());
        keyed_each.push(calls.take_keyed() as f64);
        units_each.push(calls.take_units() as f64);
        assert_eq!(response.status(), 200);
        results += usize::from(response.body().len() > 30);
        pages.push(response);
    }
    // Every first page is the reference's: the rules of API.md applied to
    // every product (after the timing, so it costs the queries nothing).
    // A page the read budget ended early (API.md: fewer items and a cursor)
    // must be the reference's first items; any other difference is wrong.
    let (mut differ, mut early) = (Vec::new(), 0);
    for (q, response) in query_strings.iter().zip(&pages).filter(|_| check) {
        match first_page(&catalog, q, 20, response.body()) {
            Verdict::Equal => {}
            Verdict::Early { items, wanted, matches } => {
                early += 1;
                if std::env::var("BENCH_SEARCH_DEBUG").is_ok() {
                    println!("  ended early: {} ({items} of {wanted} items, {matches} matches)", q.replace("%20", " "));
                }
            }
            Verdict::Wrong => differ.push(q.replace("%20", " ")),
        }
    }
    let with = |word: &str| catalog.iter().filter(|p| words(&p.title).iter().any(|w| w == word)).count();
    let reads = all_calls as f64 / queries as f64;
    let index_ms = calls.take_index_ms() / queries as f64;
    let total_ms = timings.iter().map(|t| t.as_secs_f64() * 1000.0).sum::<f64>() / queries as f64;
    let mut slowest: Vec<(std::time::Duration, &String, usize, usize)> =
        (0..queries).map(|i| (timings[i], &query_strings[i], calls_each[i], entries_each[i])).collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let s = summarize(timings);
    println!("products: {products} (import {:.1} s)", import.as_secs_f64());
    let shares: Vec<String> =
        common.iter().take(3).map(|w| format!("{:.0} %", 100.0 * with(w) as f64 / products as f64)).collect();
    println!("the three commonest title words are in {} of the titles", shares.join(", "));
    println!(
        "first pages equal to the brute-force reference: {} of {queries}; ended early by the read budget, \
         the reference's first items and a cursor: {early}; wrong: {}",
        queries - differ.len() - early,
        differ.len()
    );
    for q in differ.iter().take(5) {
        println!("  wrong: {q}");
    }
    println!("two-word queries: {} (non-empty: {results})", s.samples);
    println!("p50: {}  p99: {}  max: {}", ms(s.p50), ms(s.p99), ms(s.max));
    println!(
        "store calls per query: {reads:.2} (a bounded postings read per word, concurrently; probes by key for \
         common words, concurrently; one batch read of the page)"
    );
    println!("mean per query: {total_ms:.2} ms in all, {index_ms:.2} ms summed over index lookups");
    let [mean, p50, p99, max] = spread(entries_each.iter().map(|&e| e as f64));
    let [keyed, ..] = spread(keyed_each);
    println!(
        "entries read per query: mean {mean:.0}, p50 {p50:.0}, p99 {p99:.0}, max {max:.0}; of them by key: mean {keyed:.0}"
    );
    if let Some(bytes) = item_bytes {
        let [mean, p50, p99, max] = spread(units_each);
        println!(
            "the same reads on DynamoDB ({bytes}-byte index items, strongly consistent): read units per query mean \
             {mean:.1}, p50 {p50:.0}, p99 {p99:.0}, max {max:.0}; ${:.2} per million searches",
            mean * PER_MILLION_READ_UNITS
        );
    }
    let slow: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|(d, q, c, e)| format!("{} {} ({c} calls, {e} entries)", q.replace("%20", " "), ms(*d)))
        .collect();
    println!("slowest: {}", slow.join(", "));
}

fn request(q: &str) -> galley_http::Request {
    http::Request::builder().uri(format!("/products?q={q}&limit=20")).body(Bytes::new()).unwrap()
}
