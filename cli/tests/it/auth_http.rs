//! The Auth section of API.md, row by row, over HTTP through `galley serve`,
//! on the embedded store and on DynamoDB (moto).

use crate::common::Server;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use galley_shared::auth::{KeyId, TokenSigner};
use galley_shared::id::{SessionId, UserId};
use galley_shared::keys::SigningKey;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

fn register(server: &Server, email: &str, name: &str) -> crate::common::Reply {
    server.json("POST", "/auth/register", &json!({"email": email, "password": PASSWORD, "name": name}), None)
}

fn login(server: &Server, email: &str, password: &str) -> crate::common::Reply {
    server.json("POST", "/auth/login", &json!({"email": email, "password": password}), None)
}

fn refresh(server: &Server, token: &Value) -> crate::common::Reply {
    server.json("POST", "/auth/refresh", &json!({"refresh_token": token}), None)
}

fn assert_unauthorized(reply: &crate::common::Reply) {
    reply.assert_problem(401, "unauthorized");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}

fn assert_token_grant(reply: &crate::common::Reply) {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["token_type"], "Bearer");
    let expires_in = reply.body["expires_in"].as_u64().unwrap();
    assert!((1..=900).contains(&expires_in), "access tokens live 15 minutes or less");
    assert!(reply.body["access_token"].as_str().is_some_and(|t| t.len() > 20));
    assert!(reply.body["refresh_token"].as_str().is_some_and(|t| t.len() > 20));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

fn registration_rules(server: &Server) {
    let created = register(server, "  Ann.Lee@Example.COM ", "Ann Lee");
    assert_eq!(created.status, 201, "{:?}", created.body);
    let user = &created.body["user"];
    assert_eq!(user["email"], "ann.lee@example.com", "trimmed and compared case-insensitively");
    assert_eq!(user["name"], "Ann Lee");
    assert!(user["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(user["role"], "customer", "everyone who registers is a customer");
    assert_eq!(user.as_object().unwrap().len(), 4, "no password or hash in the answer");

    register(server, "ann.lee@EXAMPLE.com", "Ann Again").assert_problem(409, "email_taken");

    let bad = server.json(
        "POST",
        "/auth/register",
        &json!({"email": "not-an-address", "password": "short", "name": "", "admin": true}),
        None,
    );
    bad.assert_problem(400, "validation_failed");
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "password", "name", "admin"]);
    for (password, name) in
        [("a".repeat(129), "Ann".to_owned()), ("a".repeat(9), "Ann".into()), (PASSWORD.into(), "n".repeat(101))]
    {
        let reply = server.json(
            "POST",
            "/auth/register",
            &json!({"email": "x@example.com", "password": password, "name": name}),
            None,
        );
        reply.assert_problem(400, "validation_failed");
    }
    let wrong_types = server.json("POST", "/auth/register", &json!({"email": 1, "password": [], "name": null}), None);
    assert_eq!(wrong_types.body["errors"].as_array().unwrap().len(), 3);
    assert_eq!(login(server, "x@example.com", &"a".repeat(129)).code(), "invalid_credentials", "nothing was created");

    let no_type = server.request("POST", "/auth/register", &[], b"{}");
    no_type.assert_problem(415, "unsupported_media_type");
    let text = server.request("POST", "/auth/login", &[("Content-Type", "text/plain")], b"{}");
    text.assert_problem(415, "unsupported_media_type");
    let malformed =
        server.request("POST", "/auth/login", &[("Content-Type", "application/json; charset=utf-8")], b"{\"email\":");
    malformed.assert_problem(400, "malformed_json");
    let huge = vec![b' '; 64 * 1024 + 1];
    server
        .request("POST", "/auth/register", &[("Content-Type", "application/json")], &huge)
        .assert_problem(413, "payload_too_large");
    server.get("/auth/login").assert_problem(405, "method_not_allowed");
    server.get("/auth/nope").assert_problem(404, "not_found");
}

fn login_rules(server: &Server) {
    register(server, "bo@example.com", "Bo");
    let ok = login(server, " BO@example.com", PASSWORD);
    assert_token_grant(&ok);

    let wrong_password = login(server, "bo@example.com", "wrong password!");
    let unknown_email = login(server, "nobody@example.com", PASSWORD);
    let not_an_email = login(server, "nobody", PASSWORD);
    wrong_password.assert_problem(401, "invalid_credentials");
    assert_eq!(wrong_password.body, unknown_email.body, "unknown email and wrong password look the same");
    assert_eq!(wrong_password.body, not_an_email.body);
    let missing = server.json("POST", "/auth/login", &json!({"email": "bo@example.com"}), None);
    missing.assert_problem(400, "validation_failed");

    let me = server.get_as("/auth/me", ok.body["access_token"].as_str().unwrap());
    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"]["email"], "bo@example.com");
    assert_eq!(me.body["user"]["name"], "Bo");
}

fn lockout_rules(server: &Server) {
    register(server, "cy@example.com", "Cy");
    for attempt in 1..=5 {
        login(server, "cy@example.com", "not the password").assert_problem(401, "invalid_credentials");
        let _ = attempt;
    }
    let locked = login(server, "cy@example.com", PASSWORD);
    locked.assert_problem(429, "too_many_attempts");
    let retry_after: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "Retry-After {retry_after}");
    login(server, "CY@example.com", PASSWORD).assert_problem(429, "too_many_attempts");
    register(server, "dee@example.com", "Dee");
    assert_token_grant(&login(server, "dee@example.com", PASSWORD));
}

/// A token signed like Galley's but with chosen header, claims and private key.
fn forge(header: &str, claims: &Value, seed: &[u8; 32]) -> String {
    use ed25519_dalek::Signer;
    let signing_input = format!("{}.{}", B64URL.encode(header), B64URL.encode(claims.to_string()));
    let signature = ed25519_dalek::SigningKey::from_bytes(seed).sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64URL.encode(signature.to_bytes()))
}

/// A token MACed with HMAC-SHA256: the algorithm-confusion attack (the
/// public key used as an HMAC secret), and the scheme Galley used before.
fn forge_hmac(header: &str, claims: &Value, key: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let signing_input = format!("{}.{}", B64URL.encode(header), B64URL.encode(claims.to_string()));
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", B64URL.encode(mac.finalize().into_bytes()))
}

fn token_rules(server: &Server) {
    register(server, "eve@example.com", "Eve");
    let grant = login(server, "eve@example.com", PASSWORD).body;
    let access = grant["access_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(&B64URL.decode(access.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let key = server.signing_key();
    let seed = key.derive("galley/access-token/ed25519/k1");
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    let header = r#"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#;
    let now = claims["iat"].as_i64().unwrap();

    assert_eq!(server.get_as("/auth/me", &forge(header, &claims, &seed)).status, 200, "the forge matches Galley");
    let mut expired = claims.clone();
    expired["iat"] = json!(now - 3600);
    expired["exp"] = json!(now - 2700);
    let mut other_user = claims.clone();
    other_user["sub"] = json!(UserId::generate().to_string());
    let other_key = SigningKey::new(vec![7; 32]).unwrap();
    let foreign = TokenSigner::derive(&other_key, &KeyId::first()).issue(
        &UserId::parse(claims["sub"].as_str().unwrap()).unwrap(),
        &SessionId::parse(claims["sid"].as_str().unwrap()).unwrap(),
        now,
    );
    let (signing_input, signature) = access.rsplit_once('.').unwrap();
    let mut flipped = signature.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let tampered_payload =
        format!("{}.{}.{signature}", signing_input.split('.').next().unwrap(), B64URL.encode(other_user.to_string()));
    let alg_none = format!("{}.{}.", B64URL.encode(r#"{"alg":"none","typ":"JWT"}"#), B64URL.encode(claims.to_string()));
    let bad_tokens = [
        forge(header, &expired, &seed),
        forge(header, &other_user, &seed),
        forge(r#"{"alg":"EdDSA","kid":"k2","typ":"JWT"}"#, &claims, &seed),
        forge(r#"{"alg":"EdDSA","typ":"JWT"}"#, &claims, &seed),
        forge(header, &claims, &[0u8; 32]),
        forge_hmac(r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#, &claims, &public),
        forge_hmac(header, &claims, &public),
        forge_hmac(r#"{"alg":"HS256","typ":"JWT"}"#, &claims, &key.derive("galley/access-token/v1")),
        foreign.expose().to_owned(),
        format!("{signing_input}.{}", String::from_utf8(flipped).unwrap()),
        tampered_payload,
        alg_none,
        "garbage".into(),
        String::new(),
    ];
    for token in &bad_tokens {
        assert_unauthorized(&server.get_as("/auth/me", token));
    }
    assert_unauthorized(&server.get("/auth/me"));
    assert_unauthorized(&server.request("GET", "/auth/me", &[("Authorization", &format!("Basic {access}"))], b""));
    assert_unauthorized(&server.request("POST", "/auth/logout", &[], b""));
}

fn refresh_rules(server: &Server) {
    register(server, "fay@example.com", "Fay");
    let first = login(server, "fay@example.com", PASSWORD).body;
    let second = refresh(server, &first["refresh_token"]);
    assert_token_grant(&second);
    assert_ne!(second.body["refresh_token"], first["refresh_token"], "rotated on every use");
    let third = refresh(server, &second.body["refresh_token"]);
    assert_token_grant(&third);
    assert_eq!(server.get_as("/auth/me", third.body["access_token"].as_str().unwrap()).status, 200);

    // Reusing a rotated token means it leaked: the whole session ends.
    assert_unauthorized(&refresh(server, &first["refresh_token"]));
    assert_unauthorized(&refresh(server, &third.body["refresh_token"]));
    assert_unauthorized(&server.get_as("/auth/me", third.body["access_token"].as_str().unwrap()));
    assert_unauthorized(&server.get_as("/auth/me", first["access_token"].as_str().unwrap()));

    for junk in [json!("garbage"), json!(""), json!("x.AAAA")] {
        assert_unauthorized(&refresh(server, &junk));
    }
    server.json("POST", "/auth/refresh", &json!({"refresh_token": 5}), None).assert_problem(400, "validation_failed");

    // Another session of the same user is untouched by that revocation.
    let other = login(server, "fay@example.com", PASSWORD).body;
    assert_eq!(server.get_as("/auth/me", other["access_token"].as_str().unwrap()).status, 200);
}

/// #20 item 3: a session id is in every access token and in logs, so
/// anyone may know one. A refresh token made up for it is a plain 401 that
/// changes nothing; only a token the session really issued and rotated
/// ends it.
fn made_up_refresh_tokens_change_nothing(server: &Server) {
    register(server, "hal@example.com", "Hal");
    let first = login(server, "hal@example.com", PASSWORD).body;
    let second = refresh(server, &first["refresh_token"]).body;
    let session = first["refresh_token"].as_str().unwrap().split_once('.').unwrap().0.to_owned();
    for fill in [0u8, 7, 255] {
        let made_up = format!("{session}.{}", B64URL.encode([fill; 32]));
        assert_unauthorized(&refresh(server, &json!(made_up)));
    }
    let third = refresh(server, &second["refresh_token"]);
    assert_token_grant(&third);
    assert_eq!(server.get_as("/auth/me", third.body["access_token"].as_str().unwrap()).status, 200);
    assert_unauthorized(&refresh(server, &second["refresh_token"]));
    assert_unauthorized(&refresh(server, &third.body["refresh_token"]));
}

fn logout_rules(server: &Server) {
    register(server, "gus@example.com", "Gus");
    let kept = login(server, "gus@example.com", PASSWORD).body;
    let ended = login(server, "gus@example.com", PASSWORD).body;
    let access = ended["access_token"].as_str().unwrap();
    let logout = server.request("POST", "/auth/logout", &[("Authorization", &format!("Bearer {access}"))], b"");
    assert_eq!(logout.status, 204);
    assert!(logout.body.is_null());
    assert_unauthorized(&server.get_as("/auth/me", access));
    assert_unauthorized(&refresh(server, &ended["refresh_token"]));
    assert_unauthorized(&server.request(
        "POST",
        "/auth/logout",
        &[("Authorization", &format!("Bearer {access}"))],
        b"",
    ));
    assert_eq!(server.get_as("/auth/me", kept["access_token"].as_str().unwrap()).status, 200, "other sessions live on");
}

crate::rules_on_shared_servers!(
    registration_rules,
    login_rules,
    lockout_rules,
    token_rules,
    refresh_rules,
    made_up_refresh_tokens_change_nothing,
    logout_rules
);

/// SIGTERM ends `galley serve` cleanly, once it has served.
fn a_server_stops_cleanly_on_sigterm(backend: crate::common::Backend) {
    let server = Server::start(backend);
    register(&server, "stopping@example.com", "Stop");
    assert!(server.stop().success());
}

crate::on_both_backends!(a_server_stops_cleanly_on_sigterm);

#[test]
fn racing_registrations_create_one_account() {
    let server = std::sync::Arc::new(Server::start(crate::common::Backend::Embedded));
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let server = server.clone();
            std::thread::spawn(move || register(&server, "race@example.com", &format!("Racer {i}")).status)
        })
        .collect();
    let mut statuses: Vec<u16> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
}
