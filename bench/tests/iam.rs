//! Every function is granted what its calls need, as IAM will check them in
//! a deployed stack: each route of the harness runs once in-process over
//! the AWS adapters on moto, every SDK request is recorded on the wire, and
//! each request's action on its resource must be in the function's
//! `deploy.json` (which `tests/it/template.rs` holds `template.yaml` to).
//! moto authorizes nothing, so without this a missing grant first shows as
//! `AccessDenied` in production.
//!
//! Needs moto (`scripts/test` starts it):
//! `cargo test -p galley-bench --test iam -- --ignored`.

use std::collections::BTreeMap;

use bytes::Bytes;
use galley_bench::lambda::backed;
use galley_bench::lambda::iam::Grants;
use galley_bench::lambda::routes::{Bench, ROUTES};
use galley_http::Handler;
use galley_shared::uploads::MAX_PENDING_UPLOADS;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs moto; scripts/test runs it"]
async fn every_call_a_route_makes_is_granted_to_its_function() {
    let cloud = backed::aws(2).await;
    let log = cloud.calls.clone().expect("the counted client");
    let bench = Bench::new(&cloud.functions, &cloud.stores, &cloud.fixture, cloud.bucket.clone());
    let mut missing = BTreeMap::new();
    for &route in ROUTES {
        cloud.fixture.renew_access(&cloud.stores).await;
        bench.prepare(route, 1).await;
        log.take();
        bench.call(route, 0).await;
        let calls = log.take();
        assert!(!calls.is_empty(), "{}: no AWS call seen; is the counting client wired?", route.name());
        let lacking = Grants::of(route.function()).missing(calls.iter().flat_map(|c| &c.needs));
        if !lacking.is_empty() {
            missing.insert(route.name().to_owned(), lacking);
        }
    }

    // A user at the pending-upload cap: the quota is read and its tickets
    // looked up before the answer is 429.
    let mut refused = false;
    let mut calls = Vec::new();
    for _ in 0..=MAX_PENDING_UPLOADS {
        let request = http::Request::builder()
            .method("POST")
            .uri("/uploads")
            .header("authorization", cloud.fixture.bearer())
            .header("content-type", "application/json")
            .body(Bytes::from_static(br#"{"filename":"cat.png","content_type":"image/png","size":67}"#))
            .unwrap();
        let response = cloud.functions.upload.handle(request).await;
        calls.extend(log.take());
        if response.status() == 429 {
            refused = true;
            break;
        }
        assert_eq!(response.status(), 201, "{}", String::from_utf8_lossy(response.body()));
    }
    assert!(refused, "the cap of {MAX_PENDING_UPLOADS} pending uploads was never reached");
    let lacking = Grants::of("upload").missing(calls.iter().flat_map(|c| &c.needs));
    if !lacking.is_empty() {
        missing.insert("POST /uploads at the cap".to_owned(), lacking);
    }

    assert!(missing.is_empty(), "calls the template does not grant, by route: {missing:#?}");
}
