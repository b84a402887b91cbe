//! `galley backup` while checkouts run, then `galley restore`: the restored
//! store is consistent, whole as of one instant, and serves the API.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::common::{Backend, GALLEY, Server};

const PRODUCTS: [(&str, i64); 3] = [("b-mug", 40), ("b-pen", 25), ("b-ink", 60)];
const CUSTOMERS: usize = 50;
const PASSWORD: &str = "correct horse battery";

fn galley(args: &[&str], data_dir: &Path) -> std::process::Output {
    Command::new(GALLEY).args(args).arg("--data-dir").arg(data_dir).env_remove("TABLE_NAME").output().unwrap()
}

#[test]
fn a_backup_taken_while_50_checkouts_run_restores_a_consistent_store() {
    let catalog: Vec<String> = PRODUCTS
        .iter()
        .map(|(id, stock)| {
            json!({"id": id, "title": format!("Backup {id}"), "description": "", "category": "backup",
                   "price": {"amount": 500, "currency": "USD"}, "stock": stock})
            .to_string()
        })
        .collect();
    let server = Arc::new(Server::start_with_catalog(Backend::Embedded, &catalog.join("\n")));
    let tokens: Vec<String> = (0..CUSTOMERS).map(|n| server.signed_in(&format!("backup-{n}@example.com"))).collect();

    let began = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let before_backup = Arc::new(Mutex::new(Vec::<(usize, String)>::new()));
    let buyers: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(n, token)| {
            let (server, token) = (server.clone(), token.clone());
            let (began, answered, before_backup) = (began.clone(), answered.clone(), before_backup.clone());
            std::thread::spawn(move || {
                for round in 0..2 {
                    let (id, _) = PRODUCTS[(n + round) % PRODUCTS.len()];
                    let cart = json!({"items": [{"product_id": id, "quantity": 1 + (n % 2)}],
                                      "payment": {"token": "pm_card_visa"}});
                    let reply = server.request(
                        "POST",
                        "/checkout",
                        &[
                            ("Content-Type", "application/json"),
                            ("Authorization", &format!("Bearer {token}")),
                            ("Idempotency-Key", &format!("backup-{n}-{round}")),
                        ],
                        cart.to_string().as_bytes(),
                    );
                    assert!(matches!(reply.status, 201 | 409), "{} {}", reply.status, reply.body);
                    // Answered before the backup began: committed before it,
                    // so the backup must hold it.
                    if reply.status == 201 && !began.load(Ordering::SeqCst) {
                        before_backup.lock().unwrap().push((n, reply.body["id"].as_str().unwrap().to_owned()));
                    }
                    answered.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    while answered.load(Ordering::SeqCst) < CUSTOMERS / 2 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    began.store(true, Ordering::SeqCst);
    let archives = tempfile::tempdir().unwrap();
    let archive = archives.path().join("galley.backup");
    let backup = galley(&["backup", archive.to_str().unwrap()], server.data_dir.path());
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    let during = answered.load(Ordering::SeqCst);
    for buyer in buyers {
        buyer.join().unwrap();
    }
    assert!(during < 2 * CUSTOMERS, "the backup ran while checkouts did ({during} of {} answered)", 2 * CUSTOMERS);

    let restored = tempfile::tempdir().unwrap();
    let data = restored.path().join("data");
    let restore = galley(&["restore", archive.to_str().unwrap()], &data);
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    let again = galley(&["restore", archive.to_str().unwrap()], &data);
    assert!(!again.status.success(), "a dir holding a store is not overwritten without --force");

    let db = rusqlite::Connection::open_with_flags(data.join("galley.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut sold = BTreeMap::<String, i64>::new(); // or held by a pending order
    let mut statuses = BTreeMap::<String, String>::new();
    let mut rows = db.prepare("SELECT id, status, doc FROM orders").unwrap();
    let orders = rows
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?)))
        .unwrap();
    for order in orders {
        let (id, status, doc) = order.unwrap();
        // Orders the backup caught between their placement and their
        // payment are pending in it, holding their units until the settler
        // settles them (after the 30 s checkout lease, as after any stop).
        if status == "confirmed" || status == "pending" {
            let doc: Value = serde_json::from_str(&doc).unwrap();
            for line in doc["items"].as_array().unwrap() {
                *sold.entry(line["product_id"].as_str().unwrap().to_owned()).or_default() +=
                    line["quantity"].as_i64().unwrap();
            }
        }
        statuses.insert(id, status);
    }
    for (id, start) in PRODUCTS {
        let stock: i64 = db.query_row("SELECT stock FROM products WHERE id = ?1", [id], |row| row.get(0)).unwrap();
        assert_eq!(
            stock + sold.get(id).copied().unwrap_or(0),
            start,
            "{id}: stock plus units sold or held is the start"
        );
    }
    let before_backup = before_backup.lock().unwrap().clone();
    assert!(!before_backup.is_empty());
    for (_, id) in &before_backup {
        assert_eq!(statuses.get(id).map(String::as_str), Some("confirmed"), "order {id}, confirmed before the backup");
    }
    drop(rows);
    drop(db);

    // The restored store serves the API: the catalog, a login with the
    // password as it was, that customer's orders.
    let restored_server = Server::start_over(Backend::Embedded, restored_dir(restored, "data"));
    assert_eq!(restored_server.get("/products/b-mug").status, 200);
    let customer = before_backup[0].0;
    let login = restored_server.json(
        "POST",
        "/auth/login",
        &json!({"email": format!("backup-{customer}@example.com"), "password": PASSWORD}),
        None,
    );
    assert_eq!(login.status, 200, "{}", login.body);
    let token = login.body["access_token"].as_str().unwrap();
    let mine = restored_server.get_as("/orders", token);
    assert_eq!(mine.status, 200);
    let listed: Vec<&str> = mine.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    for (_, id) in before_backup.iter().filter(|(n, _)| *n == customer) {
        assert!(listed.contains(&id.as_str()), "{id} in {listed:?}");
    }
}

/// The restored dir as the temp dir a server runs over (removed with it).
fn restored_dir(parent: tempfile::TempDir, name: &str) -> tempfile::TempDir {
    let inner = tempfile::Builder::new().prefix("restored-").tempdir().unwrap();
    std::fs::remove_dir(inner.path()).unwrap();
    std::fs::rename(parent.path().join(name), inner.path()).unwrap();
    inner
}
