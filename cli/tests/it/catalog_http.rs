//! The Catalog section of API.md, over HTTP through `galley serve`, on the
//! embedded store and on DynamoDB (moto).

use crate::common::{Backend, Server};

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn check_catalog(server: &Server) {
    // Unknown route and method.
    server.get("/nope").assert_problem(404, "not_found");
    let wrong_method = server.request("DELETE", "/products", &[], b"");
    wrong_method.assert_problem(405, "method_not_allowed");
    assert_eq!(wrong_method.header("allow"), Some("GET"));

    // Product pages.
    let mug = server.get("/products/mug-blue-350");
    assert_eq!(mug.status, 200);
    assert_eq!(mug.body["title"], "Blue Stoneware Mug");
    assert_eq!(mug.body["price"], serde_json::json!({"amount": 1299, "currency": "USD"}));
    assert_eq!(mug.body["in_stock"], true);
    assert!(mug.body["image_url"].is_null());
    assert!(mug.header("x-request-id").is_some());
    assert_eq!(server.get("/products/earbuds-sport").body["in_stock"], false, "stock 0");
    server.get("/products/no-such-thing").assert_problem(404, "not_found");
    server.get("/products/%2E%2E").assert_problem(404, "not_found");

    // No q: the whole catalog in title order, paged by opaque cursors.
    let mut titles = Vec::new();
    let mut path = "/products?limit=7".to_owned();
    let mut pages = 0;
    loop {
        let page = server.get(&path);
        assert_eq!(page.status, 200, "{:?}", page.body);
        titles.extend(page.titles());
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                // Sealed: no table key, and nothing of the page it ends (its
                // last id or title), in whatever the cursor decodes to.
                use base64::Engine;
                let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).unwrap();
                let shown = String::from_utf8_lossy(&decoded).to_lowercase();
                let last_id = page.ids().last().unwrap().clone();
                let last_title = page.titles().last().unwrap().to_lowercase();
                for secret in ["product#", "\"pk\"", last_id.as_str(), last_title.as_str()] {
                    assert!(!shown.contains(secret), "cursor shows {secret:?}: {shown}");
                }
                path = format!("/products?limit=7&cursor={}", encode(cursor));
            }
            None => break,
        }
    }
    assert_eq!(titles.len(), 36);
    assert_eq!(pages, 6);
    let mut sorted = titles.clone();
    sorted.sort_by_key(|t| t.to_lowercase());
    assert_eq!(titles, sorted);
    assert_eq!(server.get("/products").ids().len(), 20, "default limit");

    // Search rules.
    let found = server.get("/products?q=blue%20mu");
    assert_eq!(found.titles(), ["Blue Stoneware Mug", "Enamel Camp Mug"], "title words rank first");
    assert_eq!(server.get("/products?q=Caf%C3%A9").ids(), server.get("/products?q=cafe").ids());
    assert_eq!(server.get("/products?q=cafe").titles(), ["Café Crème Espresso Cups (set of 4)"]);
    assert!(server.get("/products?q=blue%20teapot").ids().is_empty(), "every word must match");
    assert_eq!(
        server.get("/products?q=MERINO").titles(),
        ["Merino Trail Socks (2 pairs)", "Merino Wool Throw Blanket"]
    );

    // Filters: category and inclusive minor-unit bounds.
    let coffee = server.get("/products?category=coffee&min_price=2800&max_price=3600");
    assert_eq!(coffee.ids(), ["pour-over-dripper", "espresso-beans-1kg", "french-press-1l"]);
    assert_eq!(server.get("/products?q=mug&category=outdoor").ids(), ["camp-mug-enamel"]);

    // Bad input.
    let bad = server.get(&format!("/products?q={}&min_price=9&max_price=1&limit=500", "x".repeat(201)));
    bad.assert_problem(400, "validation_failed");
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["q", "limit", "min_price"]);

    // Cursors: altered, or from another query.
    let first = server.get("/products?q=mug&limit=1");
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let next = server.get(&format!("/products?q=mug&limit=1&cursor={}", encode(&cursor)));
    assert_eq!(next.status, 200);
    assert_ne!(next.ids(), first.ids());
    server.get(&format!("/products?q=cup&limit=1&cursor={}", encode(&cursor))).assert_problem(400, "invalid_cursor");
    let mut altered = cursor.clone().into_bytes();
    altered[2] = if altered[2] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    server.get(&format!("/products?q=mug&limit=1&cursor={}", encode(&altered))).assert_problem(400, "invalid_cursor");
}

crate::rules_on_shared_servers!(check_catalog);

fn added_and_restocked_products_are_visible_at_once(backend: Backend) {
    {
        let server = Server::start(backend.clone());
        let file = server.data_dir.path().join("more.jsonl");
        std::fs::write(
            &file,
            concat!(
                r#"{"id":"teapot-cast","title":"Cast Iron Teapot","description":"Tetsubin style, 900 ml.","category":"kitchen","price":{"amount":4900,"currency":"USD"},"stock":3,"image_url":null}"#,
                "\n",
                r#"{"id":"earbuds-sport","title":"Sport Earbuds","description":"Sweat-resistant wireless earbuds with ear hooks and a charging case.","category":"audio","price":{"amount":5900,"currency":"USD"},"stock":5,"image_url":null}"#,
                "\n"
            ),
        )
        .unwrap();
        let status = backend.command(server.data_dir.path(), &["import", file.to_str().unwrap()]).status().unwrap();
        assert!(status.success());
        assert_eq!(server.get("/products?q=tetsu").ids(), ["teapot-cast"], "{backend:?}");
        assert_eq!(server.get("/products/earbuds-sport").body["in_stock"], true, "{backend:?}: restocked");
    }
}

crate::on_both_backends!(added_and_restocked_products_are_visible_at_once);
