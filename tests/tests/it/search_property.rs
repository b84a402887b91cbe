//! For random catalogs and random queries, the index-backed search (paged
//! through its cursors) returns exactly what a brute-force scan of the whole
//! catalog returns, in the same order, on every store.

use std::sync::Arc;

use galley_http::paging::CursorKey;
use galley_shared::catalog::{Category, Product};
use galley_shared::keys::SigningKey;
use galley_shared::ports::{Catalog, SearchIndex};
use galley_shared::search::{
    CatalogFilter, LIST_BUDGET, PROBE_ABOVE, Position, ProductQuery, ProductSearch, SCAN_BUDGET, words,
};
use galley_tests::fixtures;
use galley_tests::reference::brute_force;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const VOCABULARY: &[&str] = &[
    "blue", "Blüe", "mug", "mugs", "Mugshot", "café", "CAFE", "crème", "cream", "oak", "o", "42", "tea-pot", "teapot",
    // With the words above, `c` and `cu` are prefixes of more than the few
    // words a store merges in title order (read whole or probed instead);
    // so are `cup`, `cupo`, `cupol` and `cupola`, which the embedded store
    // reads from its prefix index under `cup`, passing over the other words.
    "cup", "cups", "cupola", "curd", "cut", "cupid", "cupolas", "cupolar", "cupolae", "cupolaed",
];
const CATEGORIES: &[&str] = &["kitchen", "home", "coffee"];

fn text(max_words: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCABULARY), 0..=max_words).prop_map(|w| w.join(" "))
}

fn catalog() -> impl Strategy<Value = Vec<Product>> {
    let product = (text(4), text(6), prop::sample::select(CATEGORIES), 0i64..5000);
    prop::collection::vec(product, 0..25).prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (title, description, category, price))| {
                let mut p = fixtures::product(&format!("p{i:02}"), 1);
                p.title = if title.is_empty() { "untitled".into() } else { title };
                p.description = description;
                p.category = Category::parse(category).unwrap();
                p.price.amount = price;
                p
            })
            .collect()
    })
}

/// A query word: a whole vocabulary word or a leading part of one.
fn query_word() -> impl Strategy<Value = String> {
    (prop::sample::select(VOCABULARY), 1usize..6).prop_map(|(w, n)| w.chars().take(n).collect())
}

fn query() -> impl Strategy<Value = (ProductQuery, usize)> {
    let raw_words = prop::collection::vec(query_word(), 0..=3);
    let category = prop::option::of(prop::sample::select(CATEGORIES));
    let bounds = (prop::option::of(0i64..5000), prop::option::of(0i64..5000));
    (raw_words, category, bounds, 1usize..6).prop_map(|(w, category, (min, max), limit)| {
        let (min_price, max_price) = match (min, max) {
            (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
            other => other,
        };
        let query = ProductQuery {
            words: words(&w.join(" ")),
            filter: CatalogFilter { category: category.map(|c| Category::parse(c).unwrap()), min_price, max_price },
            limit,
        };
        (query, limit)
    })
}

/// Every page in turn, each next position through a sealed cursor as a
/// client would carry it.
async fn paged_search(search: &ProductSearch, cursors: &CursorKey, query: &ProductQuery) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let scope = query.cursor_scope();
    loop {
        let after = cursor.map(|c| cursors.open::<Position>(&scope, &c).expect("our own cursor"));
        let page = search.search(query, after).await.expect("search");
        assert!(page.items.len() <= query.limit);
        ids.extend(page.items.iter().map(|p| p.id.to_string()));
        match page.next {
            Some(position) => cursor = Some(cursors.seal(&scope, &position)),
            None => return ids,
        }
    }
}

fn check_store<S, F>(cases: u32, make_store: F)
where
    S: Catalog + SearchIndex + 'static,
    F: Fn(&tokio::runtime::Runtime) -> Arc<S>,
{
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cursors = CursorKey::derive(&SigningKey::new(vec![3; 32]).unwrap());
    let mut runner = TestRunner::new(Config { cases, ..Config::default() });
    // Small thresholds make small catalogs' words "common", so every path
    // runs: all words read, some probed by key, all read whole.
    let probe_above = prop_oneof![Just(PROBE_ABOVE), 0usize..6];
    // Small listing budgets make filtered listings stop early with a cursor.
    let list_budget = prop_oneof![Just(LIST_BUDGET), 1usize..4];
    // Small scan budgets make pages of common words only end early; middle
    // ones read a prefix whole within half of theirs, or find it too long.
    let scan_budget = prop_oneof![Just(SCAN_BUDGET), 1usize..4, 8usize..40];
    let strategy = (catalog(), prop::collection::vec(query(), 1..6), (probe_above, list_budget, scan_budget));
    runner
        .run(&strategy, |(catalog, queries, (probe_above, list_budget, scan_budget))| {
            let store = make_store(&runtime);
            runtime.block_on(store.upsert(&catalog)).expect("import");
            let search = ProductSearch::new(store.clone(), store)
                .with_probe_above(probe_above)
                .with_list_budget(list_budget)
                .with_scan_budget(scan_budget);
            for (query, _) in &queries {
                let expected = brute_force(&catalog, query);
                let got = runtime.block_on(paged_search(&search, &cursors, query));
                prop_assert_eq!(
                    got,
                    expected,
                    "query {:?}, probing above {}, listing budget {}, scan budget {}",
                    query,
                    probe_above,
                    list_budget,
                    scan_budget
                );
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn embedded_search_equals_brute_force() {
    let dirs = std::sync::Mutex::new(Vec::new());
    check_store(128, |_| {
        let temp = fixtures::embedded_store();
        let store = temp.store.clone();
        dirs.lock().unwrap().push(temp);
        store
    });
}

#[test]
fn dynamodb_search_equals_brute_force() {
    check_store(24, |runtime| runtime.block_on(fixtures::dynamo_store()));
}
