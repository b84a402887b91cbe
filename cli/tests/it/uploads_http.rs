//! API.md "Uploads" over HTTP through `galley serve`: on the embedded store
//! the local server plays S3 (and is where signature, expiry, type and size
//! refusals are tested, since moto checks no presigned signature); with
//! `--aws` tickets are S3 presigned PUTs on moto, and the S3 event that AWS
//! would send is handed to the check function, as Lambda would.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{Backend, Reply, Server};
use galley_shared::ports::{Blobs, UploadUrls};
use serde_json::{Value, json};

use galley_tests::fixtures::{PNG_1X1 as PNG, text_posing_as_png};
use galley_tests::http::send_to_url;

pub(crate) fn ticket(server: &Server, token: &str, filename: &str, content_type: &str, size: u64) -> Reply {
    let body = json!({"filename": filename, "content_type": content_type, "size": size});
    server.json("POST", "/uploads", &body, Some(token))
}

fn headers(ticket: &Reply) -> Vec<(String, String)> {
    let headers = ticket.body["headers"].as_object().unwrap();
    headers.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect()
}

/// Sends the file the way the ticket says.
pub(crate) fn send(ticket: &Reply, body: &[u8]) -> (u16, String) {
    let headers = headers(ticket);
    let borrowed: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    send_to_url(ticket.body["method"].as_str().unwrap(), ticket.body["url"].as_str().unwrap(), &borrowed, body)
}

fn status_of(server: &Server, token: &str, id: &str) -> String {
    let reply = server.get_as(&format!("/uploads/{id}"), token);
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["status"].as_str().unwrap().to_owned()
}

/// The object key a ticket's URL names (`uploads/<user>/<upload id>`).
fn object_key(ticket: &Reply) -> String {
    let url = ticket.body["url"].as_str().unwrap();
    let path = url.split('?').next().unwrap();
    let at = path.find("/uploads/").unwrap();
    path[at + 1..].to_owned()
}

fn tickets_and_status_follow_the_contract(server: &Server) {
    {
        let token = server.signed_in("uploader@example.com");

        let no_token = server.json("POST", "/uploads", &json!({}), None);
        no_token.assert_problem(401, "unauthorized");
        ticket(server, &token, "a.gif", "image/gif", 10).assert_problem(415, "unsupported_media_type");
        let too_big = ticket(server, &token, "a.png", "image/png", 10 * 1024 * 1024 + 1);
        too_big.assert_problem(413, "too_large");
        assert_eq!(too_big.body["max_size"], 10 * 1024 * 1024);
        let bad = server.json(
            "POST",
            "/uploads",
            &json!({"filename": "", "content_type": "image/png", "size": 0}),
            Some(&token),
        );
        bad.assert_problem(400, "validation_failed");
        let fields: Vec<&str> =
            bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["filename", "size"]);
        ticket(server, &token, &"n".repeat(1000), "image/png", 5).assert_problem(400, "validation_failed");
        ticket(server, &token, "nul\0.png", "image/png", 5).assert_problem(400, "validation_failed");
        let malformed = server.request(
            "POST",
            "/uploads",
            &[("Content-Type", "application/json"), ("Authorization", &format!("Bearer {token}"))],
            b"{",
        );
        malformed.assert_problem(400, "malformed_json");

        let before = time::OffsetDateTime::now_utc();
        let created = ticket(server, &token, "../../ünï 猫.webp", "image/webp", 2048);
        // The ticket's clock reads between the two: on a loaded machine moto
        // can take over a second to answer.
        let after = time::OffsetDateTime::now_utc();
        assert_eq!(created.status, 201, "{:?}", created.body);
        let body = &created.body;
        let mut members: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        members.sort();
        assert_eq!(members, ["expires_at", "fields", "headers", "id", "max_size", "method", "url"]);
        assert_eq!(body["method"], "PUT");
        assert_eq!(body["fields"], json!({}));
        assert_eq!(body["headers"]["content-type"], "image/webp");
        assert_eq!(body["headers"]["content-length"], "2048");
        assert_eq!(body["max_size"], 2048);
        let expires = time::OffsetDateTime::parse(
            body["expires_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let (earliest, latest) = (before + Duration::from_secs(15 * 60), after + Duration::from_secs(15 * 60 + 1));
        assert!(expires >= earliest - Duration::from_secs(1) && expires <= latest, "{expires}");
        let id = body["id"].as_str().unwrap();
        let key = object_key(&created);
        assert!(key.starts_with("uploads/") && key.ends_with(&format!("/{id}")), "{key}");
        assert!(
            !key.contains("..") && !body["url"].as_str().unwrap().contains("%C3"),
            "the filename is no part of the URL"
        );

        let shown = server.get_as(&format!("/uploads/{id}"), &token);
        assert_eq!(
            shown.body,
            json!({"id": id, "status": "pending", "filename": "../../ünï 猫.webp", "content_type": "image/webp", "size": 2048})
        );
        let other = server.signed_in("someone-else@example.com");
        server.get_as(&format!("/uploads/{id}"), &other).assert_problem(404, "not_found");
        server.get_as("/uploads/01JNOSUCHUPLOAD00000000000", &token).assert_problem(404, "not_found");
        server.get_as("/uploads/..%2F..%2Fetc", &token).assert_problem(404, "not_found");
        server.request("GET", &format!("/uploads/{id}"), &[], b"").assert_problem(401, "unauthorized");
        server.request("DELETE", "/uploads", &[], b"").assert_problem(405, "method_not_allowed");
    }
}

/// #20 item 9: 20 pending tickets is the most a user holds: the next is
/// 429 `too_many_uploads` with `Retry-After`, and another user is not held up.
fn pending_tickets_are_capped_per_user(server: &Server) {
    let token = server.signed_in("hoarder@example.com");
    for i in 0..20 {
        assert_eq!(ticket(server, &token, &format!("{i}.png"), "image/png", 67).status, 201, "ticket {i}");
    }
    let refused = ticket(server, &token, "21.png", "image/png", 67);
    refused.assert_problem(429, "too_many_uploads");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 24 * 3600, "{wait}");
    let other = server.signed_in("not-a-hoarder@example.com");
    assert_eq!(ticket(server, &other, "mine.png", "image/png", 67).status, 201);
}

crate::rules_on_shared_servers!(tickets_and_status_follow_the_contract, pending_tickets_are_capped_per_user);

#[test]
fn the_local_server_stores_checks_and_refuses_like_s3() {
    let server = Server::start(Backend::Embedded);
    let token = server.signed_in("local-uploader@example.com");
    let blobs_dir = server.data_dir.path().join("blobs");

    let good = ticket(&server, &token, "cat.png", "image/png", PNG.len() as u64);
    assert_eq!(send(&good, PNG).0, 200);
    assert_eq!(status_of(&server, &token, good.body["id"].as_str().unwrap()), "stored");
    assert_eq!(std::fs::read(blobs_dir.join(object_key(&good))).unwrap(), PNG);

    let fake = ticket(&server, &token, "notes.png", "image/png", 67);
    assert_eq!(send(&fake, &text_posing_as_png()).0, 200, "S3 takes any bytes the signature allows");
    assert_eq!(status_of(&server, &token, fake.body["id"].as_str().unwrap()), "rejected");
    assert!(!blobs_dir.join(object_key(&fake)).exists(), "rejected bytes are gone");

    // Refusals: nothing is stored and the upload stays pending.
    let pending = ticket(&server, &token, "later.png", "image/png", 67);
    let url = pending.body["url"].as_str().unwrap().to_owned();
    let refused = |(status, body): (u16, String), code: &str| {
        assert_eq!(status, 403, "{body}");
        assert!(body.contains(&format!("<Code>{code}</Code>")), "{body}");
    };
    let signature_at = url.find("X-Galley-Signature=").unwrap() + "X-Galley-Signature=".len();
    let mut tampered = url.clone();
    let flipped = if &tampered[signature_at..signature_at + 1] == "A" { "B" } else { "A" };
    tampered.replace_range(signature_at..signature_at + 1, flipped);
    refused(
        send_to_url("PUT", &tampered, &[("content-type", "image/png"), ("content-length", "67")], PNG),
        "SignatureDoesNotMatch",
    );
    refused(
        send_to_url("PUT", &url, &[("content-type", "image/jpeg"), ("content-length", "67")], PNG),
        "SignatureDoesNotMatch",
    );
    let mut larger = PNG.to_vec();
    larger.extend_from_slice(&[0; 33]);
    refused(
        send_to_url("PUT", &url, &[("content-type", "image/png"), ("content-length", "100")], &larger),
        "SignatureDoesNotMatch",
    );
    let (status, _) =
        send_to_url("PUT", &url, &[("content-type", "image/png"), ("transfer-encoding", "chunked")], b"43\r\n");
    assert_eq!(status, 411, "no declared length, no upload");
    let elsewhere = url.replacen("/uploads/", "/uploads/x", 1);
    refused(
        send_to_url("PUT", &elsewhere, &[("content-type", "image/png"), ("content-length", "67")], PNG),
        "SignatureDoesNotMatch",
    );

    // An expired URL: signed with the server's own key, 16 minutes ago.
    let urls =
        galley_embedded::LocalUploadUrls::new(&format!("http://127.0.0.1:{}", server.port), &server.signing_key());
    let key = object_key(&pending);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stale = runtime
        .block_on(urls.presign_put(
            &key,
            "image/png",
            67,
            (time::OffsetDateTime::now_utc() - Duration::from_secs(16 * 60)).unix_timestamp(),
            Duration::from_secs(15 * 60),
        ))
        .unwrap();
    refused(
        send_to_url("PUT", &stale.url, &[("content-type", "image/png"), ("content-length", "67")], PNG),
        "AccessDenied",
    );
    assert!(!blobs_dir.join(&key).exists());
    assert_eq!(status_of(&server, &token, pending.body["id"].as_str().unwrap()), "pending");
    // The same request with the URL's own signature and expiry goes through.
    assert_eq!(send(&pending, PNG).0, 200);
    assert_eq!(status_of(&server, &token, pending.body["id"].as_str().unwrap()), "stored");
}

#[test]
fn odd_filenames_never_choose_where_bytes_go() {
    let server = Server::start(Backend::Embedded);
    let token = server.signed_in("odd-names@example.com");
    let mut expected = Vec::new();
    for name in
        ["../../x.png", "/etc/passwd.png", "..\\..\\x.png", "ünï cødé 猫.png", "a%2F..%2Fb.png", &"n".repeat(255)]
    {
        let created = ticket(&server, &token, name, "image/png", 67);
        assert_eq!(created.status, 201, "{name:?}");
        assert_eq!(send(&created, PNG).0, 200);
        let id = created.body["id"].as_str().unwrap();
        assert_eq!(server.get_as(&format!("/uploads/{id}"), &token).body["filename"], name);
        expected.push(object_key(&created));
    }
    let mut stored = Vec::new();
    let root = server.data_dir.path().join("blobs");
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                stored.push(path.strip_prefix(&root).unwrap().to_str().unwrap().to_owned());
            }
        }
    }
    stored.sort();
    expected.sort();
    assert_eq!(stored, expected, "every file is uploads/<user>/<upload id>, and nothing else was written");
}

/// What S3 sends the check function when an object is created.
fn s3_event(bucket: &str, key: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-21T10:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": 67}}
    }]})
}

#[test]
fn with_aws_files_go_to_s3_and_the_s3_event_decides() {
    let backend = Backend::aws();
    let Backend::Aws { table, bucket } = backend.clone() else { unreachable!() };
    let server = Server::start(backend);
    let token = server.signed_in("s3-uploader@example.com");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (check, blobs) = runtime.block_on(async {
        let config = galley_aws::load_sdk_config().await;
        let store = Arc::new(galley_aws::DynamoStore::new(&config, table));
        let blobs = Arc::new(galley_aws::s3::S3Blobs::new(&config, bucket.clone()));
        let check = galley_shared::uploads::ArrivalCheck::new(store, blobs.clone());
        (galley_upload::CheckFunction::new(check), blobs)
    });

    let good = ticket(&server, &token, "cat.png", "image/png", 67);
    let url = good.body["url"].as_str().unwrap();
    assert!(url.contains(&format!("/{bucket}/uploads/")) && url.contains("X-Amz-Signature="), "{url}");
    assert_eq!(send(&good, PNG).0, 200);
    let id = good.body["id"].as_str().unwrap();
    // (galley serve --aws also checks arrivals itself: the S3 event the
    // Lambda gets may come second, and must then change nothing.)
    runtime.block_on(check.handle(serde_json::from_value(s3_event(&bucket, &object_key(&good))).unwrap())).unwrap();
    assert_eq!(status_of(&server, &token, id), "stored");

    let fake = ticket(&server, &token, "notes.png", "image/png", 67);
    assert_eq!(send(&fake, &text_posing_as_png()).0, 200);
    let event = s3_event(&bucket, &object_key(&fake));
    // S3 delivers at least once: twice here.
    runtime.block_on(check.handle(serde_json::from_value(event.clone()).unwrap())).unwrap();
    runtime.block_on(check.handle(serde_json::from_value(event).unwrap())).unwrap();
    assert_eq!(status_of(&server, &token, fake.body["id"].as_str().unwrap()), "rejected");
    assert_eq!(runtime.block_on(blobs.head(&object_key(&fake), 8)).unwrap(), None, "rejected bytes are gone from S3");
    assert!(runtime.block_on(blobs.head(&object_key(&good), 8)).unwrap().is_some());
}

/// The status of an upload once it is no longer `pending`, waiting up to 10 s.
pub(crate) fn settled_status(server: &Server, token: &str, id: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let status = status_of(server, token, id);
        if status != "pending" || std::time::Instant::now() > deadline {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// #20 item 19: `galley serve --aws` judges what arrives in the bucket by
/// itself, as the deployed stack does on S3's event: no manual step.
#[test]
fn with_aws_galley_serve_checks_what_arrives_by_itself() {
    let backend = Backend::aws();
    let Backend::Aws { bucket, .. } = backend.clone() else { unreachable!() };
    let server = Server::start(backend);
    let token = server.signed_in("self-checking@example.com");

    let good = ticket(&server, &token, "cat.png", "image/png", 67);
    assert_eq!(send(&good, PNG).0, 200);
    assert_eq!(settled_status(&server, &token, good.body["id"].as_str().unwrap()), "stored");

    let fake = ticket(&server, &token, "notes.png", "image/png", 67);
    assert_eq!(send(&fake, &text_posing_as_png()).0, 200);
    assert_eq!(settled_status(&server, &token, fake.body["id"].as_str().unwrap()), "rejected");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let blobs =
        runtime.block_on(async { galley_aws::s3::S3Blobs::new(&galley_aws::load_sdk_config().await, bucket.clone()) });
    assert_eq!(runtime.block_on(blobs.head(&object_key(&fake), 8)).unwrap(), None, "rejected bytes are gone");
    assert!(runtime.block_on(blobs.head(&object_key(&good), 8)).unwrap().is_some());
}
