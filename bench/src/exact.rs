//! Whether a search page is right: the first page of a query against the
//! brute-force reference (`galley_tests::reference`, API.md's rules applied
//! to every product).

use galley_shared::catalog::Product;
use galley_shared::search::{ProductQuery, words};
use galley_tests::reference::brute_force;

/// How a first page compares with the reference's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The reference's first page.
    Equal,
    /// The read budget ended it early: the reference's first items and a
    /// cursor (API.md allows a short page, never a dropped hit).
    Early {
        items: usize,
        wanted: usize,
        matches: usize,
    },
    Wrong,
}

/// Compares `body`, the JSON answer to the two-word query `q` (as sent,
/// `%20` between words, page size `limit`), with the reference.
pub fn first_page(catalog: &[Product], q: &str, limit: usize, body: &[u8]) -> Verdict {
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let ids: Vec<String> =
        body["items"].as_array().into_iter().flatten().filter_map(|p| p["id"].as_str().map(str::to_owned)).collect();
    let asked = ProductQuery { words: words(&q.replace("%20", " ")), limit, ..Default::default() };
    let reference = brute_force(catalog, &asked);
    let first = &reference[..reference.len().min(limit)];
    if ids == first {
        Verdict::Equal
    } else if ids.len() < first.len() && first.starts_with(&ids) && body["next_cursor"].is_string() {
        Verdict::Early { items: ids.len(), wanted: first.len(), matches: reference.len() }
    } else {
        Verdict::Wrong
    }
}
