//! #20 item 7: a data dir holds password hashes, sessions, orders, uploads
//! and the signing key, so it is its owner's alone: every directory 0700,
//! every file 0600, whatever the umask.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use galley_embedded::{EmbeddedStore, FileMailer, LocalBlobs};
use galley_shared::auth::Email;
use galley_shared::mail::EmailMessage;
use galley_shared::ports::{Catalog, Mailer};
use galley_tests::fixtures::{PNG_1X1, product};

fn walk(path: &Path, found: &mut Vec<(String, u32, bool)>) {
    for entry in std::fs::read_dir(path).unwrap() {
        let entry = entry.unwrap();
        let metadata = entry.metadata().unwrap();
        found.push((entry.path().display().to_string(), metadata.mode() & 0o777, metadata.is_dir()));
        if metadata.is_dir() {
            walk(&entry.path(), found);
        }
    }
}

#[tokio::test]
async fn everything_a_data_dir_holds_is_its_owners_alone() {
    let root = tempfile::tempdir().unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = root.path().join("galley");
    let store = EmbeddedStore::open(&data_dir).unwrap();
    store.upsert(&[product("mug", 3)]).await.unwrap();
    galley_embedded::load_or_create(&data_dir).unwrap();
    LocalBlobs::new(data_dir.join("blobs")).store("uploads/u/1", PNG_1X1).await.unwrap();
    let message = EmailMessage {
        to: Email::parse("ann@example.com").unwrap(),
        subject: "Receipt".into(),
        text: "Thanks".into(),
        html: "<p>Thanks</p>".into(),
        message_id: "<receipt-1@galley.localhost>".into(),
    };
    FileMailer::new(data_dir.join("outbox"), "Galley <r@galley.localhost>").send(&message).await.unwrap();

    let mut found = vec![(data_dir.display().to_string(), std::fs::metadata(&data_dir).unwrap().mode() & 0o777, true)];
    walk(&data_dir, &mut found);
    let kinds: Vec<&str> = ["galley.db", "galley.db-wal", "signing.key", "blobs", ".eml"].to_vec();
    for kind in kinds {
        assert!(found.iter().any(|(path, _, _)| path.ends_with(kind)), "{kind} was written: {found:?}");
    }
    for (path, mode, is_dir) in &found {
        let wanted = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, wanted, "{path} is {mode:o}");
    }
}
