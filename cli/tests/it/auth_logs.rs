//! No password, password hash or token ever reaches a log line, even with
//! every crate logging at TRACE.

use crate::common::{Backend, Server};
use serde_json::json;

/// Issue 26: the request id is on every line a request logs, whatever
/// RUST_LOG filters out (here everything but warnings, and the runtime's
/// own spans with it).
#[test]
fn every_line_a_request_logs_names_the_request_under_a_restrictive_filter() {
    let log_file = tempfile::NamedTempFile::new().unwrap();
    let server = Server::start_logging(Backend::Embedded, "warn", log_file.reopen().unwrap());
    let grant_of = |server: &Server| {
        let account = json!({"email": "ids@example.com", "password": "correct horse battery"});
        server.json("POST", "/auth/login", &account, None).body
    };
    let register = json!({"email": "ids@example.com", "password": "correct horse battery", "name": "Ids"});
    assert_eq!(server.json("POST", "/auth/register", &register, None).status, 201);
    let grant = grant_of(&server);
    let refresh = json!({"refresh_token": grant["refresh_token"]});
    assert_eq!(server.json("POST", "/auth/refresh", &refresh, None).status, 200);
    // Reuse of a rotated refresh token is logged as a warning.
    let reuse = server.json("POST", "/auth/refresh", &refresh, None);
    assert_eq!(reuse.status, 401);
    let id = reuse.header("x-request-id").expect("every response names its request").to_owned();
    assert!(server.stop().success());

    let logs = std::fs::read_to_string(log_file.path()).unwrap();
    let reused: Vec<&str> = logs.lines().filter(|line| line.contains("refresh token reused")).collect();
    assert_eq!(reused.len(), 1, "the warning was logged once: {logs}");
    assert!(reused[0].contains(&id), "the line names its request {id}: {}", reused[0]);
    for line in logs.lines().filter(|line| !line.trim().is_empty()) {
        assert!(line.contains("request_id="), "a line without its request: {line}");
    }
}

#[test]
fn logs_of_a_whole_session_hold_no_secret() {
    let log_file = tempfile::NamedTempFile::new().unwrap();
    let server = Server::start_logging(Backend::Embedded, "trace", log_file.reopen().unwrap());
    let password = "Tr0ub4dor&3-secret-passphrase";
    let register = json!({"email": "logs@example.com", "password": password, "name": "Logs"});
    assert_eq!(server.json("POST", "/auth/register", &register, None).status, 201);
    let wrong = json!({"email": "logs@example.com", "password": "wrong-Tr0ub4dor&3"});
    assert_eq!(server.json("POST", "/auth/login", &wrong, None).status, 401);
    let grant =
        server.json("POST", "/auth/login", &json!({"email": "logs@example.com", "password": password}), None).body;
    let refreshed = server.json("POST", "/auth/refresh", &json!({"refresh_token": grant["refresh_token"]}), None).body;
    // Reuse, which is logged as a warning: its line must not carry the token.
    assert_eq!(
        server.json("POST", "/auth/refresh", &json!({"refresh_token": grant["refresh_token"]}), None).status,
        401
    );
    let again =
        server.json("POST", "/auth/login", &json!({"email": "logs@example.com", "password": password}), None).body;
    let access = again["access_token"].as_str().unwrap();
    assert_eq!(server.get_as("/auth/me", access).status, 200);
    let bearer = format!("Bearer {access}");
    assert_eq!(server.request("POST", "/auth/logout", &[("Authorization", &bearer)], b"").status, 204);
    let db = rusqlite::Connection::open(server.data_dir.path().join("galley.db")).unwrap();
    let hash: String =
        db.query_row("SELECT password_hash FROM users WHERE email = 'logs@example.com'", [], |r| r.get(0)).unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "stored as an Argon2id PHC string: {hash}");
    assert!(server.stop().success());

    let logs = std::fs::read_to_string(log_file.path()).unwrap();
    assert!(logs.contains("refresh token reused"), "the capture works and saw the session's events");
    let hash_output = hash.rsplit('$').next().unwrap();
    let secrets = [
        password,
        "wrong-Tr0ub4dor&3",
        hash.as_str(),
        hash_output,
        grant["access_token"].as_str().unwrap(),
        grant["refresh_token"].as_str().unwrap(),
        refreshed["access_token"].as_str().unwrap(),
        refreshed["refresh_token"].as_str().unwrap(),
        access,
        again["refresh_token"].as_str().unwrap(),
    ];
    for secret in secrets {
        // Also the secret part alone: a refresh token's session id prefix is not secret.
        let secret_part = secret.rsplit('.').next().unwrap();
        assert!(!logs.contains(secret) && !logs.contains(secret_part), "a secret reached the logs");
    }
}
