//! openapi.yaml describes exactly the routes the functions serve.

use std::collections::BTreeSet;

use galley_http::route::Route;

fn served() -> BTreeSet<(String, String)> {
    fn of<R>(routes: &[Route<R>]) -> impl Iterator<Item = (String, String)> + '_ {
        routes.iter().map(|r| (r.method.as_str().to_lowercase(), r.pattern.to_owned()))
    }
    of(galley_search::ROUTES)
        .chain(of(galley_login::ROUTES))
        .chain(of(galley_checkout::ROUTES))
        .chain(of(galley_upload::ROUTES))
        .chain(of(galley_admin::ROUTES))
        .chain(of(galley_webhook::ROUTES))
        .collect()
}

/// (method, path) pairs under `paths:`; paths are indented two spaces,
/// methods four, as the file is written.
fn documented() -> BTreeSet<(String, String)> {
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml")).unwrap();
    let mut pairs = BTreeSet::new();
    let mut in_paths = false;
    let mut path = None;
    for line in spec.lines() {
        // A blank line inside a block scalar (a description) ends nothing.
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            in_paths = line == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            path = Some(format!("/{p}"));
        } else if let Some(method) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
            && ["get", "post", "put", "patch", "delete"].contains(&method)
        {
            pairs.insert((method.to_owned(), path.clone().expect("method before any path")));
        }
    }
    pairs
}

#[test]
fn every_served_route_is_documented_and_nothing_else() {
    assert_eq!(documented(), served());
}
