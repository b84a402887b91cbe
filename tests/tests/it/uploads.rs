//! The check after arrival and the blob adapters, over the embedded store
//! with the local blob folder and over DynamoDB with S3 (both on moto):
//! what arrives is kept only if it is what was declared, however often and
//! in whatever order storage reports it.

use std::sync::Arc;
use std::time::Duration;

use galley_aws::s3::S3Blobs;
use galley_embedded::LocalBlobs;
use galley_shared::id::UserId;
use galley_shared::ports::{BlobHead, Blobs, UploadRecords, UploadUrls};
use galley_shared::uploads::{Arrival, ArrivalCheck, Rejection, Upload, UploadStatus};
use galley_tests::contract::pending_upload;
use galley_tests::fixtures::{self, PNG_1X1};

/// One record store and one blob store, with a way to put bytes as a
/// client's upload would.
enum Rig {
    Local { store: Arc<galley_embedded::EmbeddedStore>, blobs: LocalBlobs, _dir: tempfile::TempDir },
    Aws { store: Arc<galley_aws::DynamoStore>, blobs: S3Blobs },
}

impl Rig {
    async fn local() -> Rig {
        let temp = fixtures::embedded_store();
        let blobs = LocalBlobs::new(temp.dir.path().join("blobs"));
        Rig::Local { store: temp.store, blobs, _dir: temp.dir }
    }

    async fn aws() -> Rig {
        Rig::Aws { store: fixtures::dynamo_store().await, blobs: fixtures::s3_blobs().await }
    }

    fn records(&self) -> Arc<dyn UploadRecords> {
        match self {
            Rig::Local { store, .. } => store.clone(),
            Rig::Aws { store, .. } => store.clone(),
        }
    }

    fn blobs(&self) -> Arc<dyn Blobs> {
        match self {
            Rig::Local { blobs, .. } => Arc::new(blobs.clone()),
            Rig::Aws { blobs, .. } => Arc::new(blobs.clone()),
        }
    }

    async fn put(&self, key: &str, bytes: &[u8]) {
        match self {
            Rig::Local { blobs, .. } => blobs.store(key, bytes.to_vec()).await.unwrap(),
            Rig::Aws { blobs, .. } => {
                let body = aws_sdk_s3::primitives::ByteStream::from(bytes.to_vec());
                blobs.client().put_object().bucket(blobs.bucket()).key(key).body(body).send().await.unwrap();
            }
        }
    }

    fn check(&self) -> ArrivalCheck {
        ArrivalCheck::new(self.records(), self.blobs())
    }

    async fn status(&self, upload: &Upload) -> UploadStatus {
        self.records().upload(&upload.owner, &upload.id).await.unwrap().unwrap().status
    }

    async fn exists(&self, key: &str) -> bool {
        self.blobs().head(key, 1).await.unwrap().is_some()
    }

    async fn pending(&self, filename: &str) -> Upload {
        let upload = pending_upload(&UserId::generate(), filename);
        self.records().create_upload(&upload).await.unwrap();
        upload
    }
}

async fn a_real_png_is_stored_and_text_named_png_is_rejected_and_deleted(rig: Rig) {
    let good = rig.pending("cat.png").await;
    rig.put(&good.object_key(), PNG_1X1).await;
    assert_eq!(rig.check().check(&good.object_key()).await.unwrap(), Arrival::Stored);
    assert_eq!(rig.status(&good).await, UploadStatus::Stored);
    assert!(rig.exists(&good.object_key()).await);

    let text = rig.pending("notes.png").await;
    rig.put(&text.object_key(), &fixtures::text_posing_as_png()).await;
    let arrival = rig.check().check(&text.object_key()).await.unwrap();
    assert_eq!(arrival, Arrival::Rejected(Some(Rejection::WrongType { declared: "image/png", found: None })));
    assert_eq!(rig.status(&text).await, UploadStatus::Rejected);
    assert!(!rig.exists(&text.object_key()).await, "rejected bytes are deleted");
}

async fn a_size_other_than_declared_is_rejected(rig: Rig) {
    let upload = rig.pending("big.png").await;
    let mut longer = PNG_1X1.to_vec();
    longer.extend_from_slice(&[0; 100]);
    rig.put(&upload.object_key(), &longer).await;
    let arrival = rig.check().check(&upload.object_key()).await.unwrap();
    assert_eq!(arrival, Arrival::Rejected(Some(Rejection::SizeMismatch { declared: 67, actual: 167 })));
    assert!(!rig.exists(&upload.object_key()).await);
}

async fn repeated_and_late_checks_change_nothing_and_rejection_is_final(rig: Rig) {
    let upload = rig.pending("cat.png").await;
    let key = upload.object_key();
    rig.put(&key, PNG_1X1).await;
    for _ in 0..3 {
        assert_eq!(rig.check().check(&key).await.unwrap(), Arrival::Stored);
    }
    // The same URL used again, with other bytes: the new bytes are judged.
    rig.put(&key, &[b'x'; 67]).await;
    assert!(matches!(rig.check().check(&key).await.unwrap(), Arrival::Rejected(Some(_))));
    assert_eq!(rig.check().check(&key).await.unwrap(), Arrival::Rejected(None), "a redelivered event");
    // Good bytes after a rejection do not revive it.
    rig.put(&key, PNG_1X1).await;
    assert_eq!(rig.check().check(&key).await.unwrap(), Arrival::Rejected(None));
    assert_eq!(rig.status(&upload).await, UploadStatus::Rejected);
    assert!(!rig.exists(&key).await);
}

async fn concurrent_checks_of_one_object_agree(rig: Rig) {
    let upload = rig.pending("cat.png").await;
    rig.put(&upload.object_key(), PNG_1X1).await;
    let check = rig.check();
    let runs = (0..8).map(|_| {
        let (check, key) = (check.clone(), upload.object_key());
        tokio::spawn(async move { check.check(&key).await.unwrap() })
    });
    for run in runs.collect::<Vec<_>>() {
        assert_eq!(run.await.unwrap(), Arrival::Stored);
    }
    assert_eq!(rig.status(&upload).await, UploadStatus::Stored);
}

async fn objects_nobody_asked_for_are_deleted_and_others_ignored(rig: Rig) {
    let stranger = format!("uploads/{}/{}", UserId::generate(), galley_shared::id::UploadId::generate());
    rig.put(&stranger, PNG_1X1).await;
    assert_eq!(rig.check().check(&stranger).await.unwrap(), Arrival::Unclaimed);
    assert!(!rig.exists(&stranger).await);
    rig.put("uploads/a/b/c", PNG_1X1).await;
    assert_eq!(rig.check().check("uploads/a/b/c").await.unwrap(), Arrival::Unclaimed);
    assert!(!rig.exists("uploads/a/b/c").await);
    let never_sent = rig.pending("cat.png").await;
    assert_eq!(rig.check().check(&never_sent.object_key()).await.unwrap(), Arrival::Missing);
    assert_eq!(rig.status(&never_sent).await, UploadStatus::Pending);
    rig.put("catalog/hero", PNG_1X1).await;
    assert_eq!(rig.check().check("catalog/hero").await.unwrap(), Arrival::Ignored);
    assert!(rig.exists("catalog/hero").await, "only uploads/ is the check's business");
}

async fn heads_read_the_size_and_only_the_first_bytes(rig: Rig) {
    let blobs = rig.blobs();
    rig.put("uploads/u/one", PNG_1X1).await;
    assert_eq!(
        blobs.head("uploads/u/one", 8).await.unwrap(),
        Some(BlobHead { size: 67, first_bytes: PNG_1X1[..8].to_vec() })
    );
    assert_eq!(blobs.head("uploads/u/one", 500).await.unwrap().unwrap().first_bytes, PNG_1X1);
    rig.put("uploads/u/empty", b"").await;
    assert_eq!(blobs.head("uploads/u/empty", 8).await.unwrap(), Some(BlobHead { size: 0, first_bytes: vec![] }));
    assert_eq!(blobs.head("uploads/u/none", 8).await.unwrap(), None);
    blobs.delete("uploads/u/one").await.unwrap();
    blobs.delete("uploads/u/one").await.unwrap();
    assert_eq!(blobs.head("uploads/u/one", 8).await.unwrap(), None);
}

macro_rules! on_both_rigs {
    ($($case:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Rig::local().await).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Rig::aws().await).await;
                }
            )*
        }
    };
}

on_both_rigs!(
    a_real_png_is_stored_and_text_named_png_is_rejected_and_deleted,
    a_size_other_than_declared_is_rejected,
    repeated_and_late_checks_change_nothing_and_rejection_is_final,
    concurrent_checks_of_one_object_agree,
    objects_nobody_asked_for_are_deleted_and_others_ignored,
    heads_read_the_size_and_only_the_first_bytes,
);

/// The S3 presigned PUT pins what API.md promises: type and length signed,
/// 15 minutes, and no checksum of an empty body that would refuse real files.
/// moto does not check signatures, so the PUT below only proves the request
/// the ticket describes is one S3 accepts.
#[tokio::test]
async fn s3_presigned_puts_sign_type_and_length_and_work() {
    let blobs = fixtures::s3_blobs().await;
    let signed_at = time::OffsetDateTime::now_utc().unix_timestamp();
    let ticket = blobs.presign_put("uploads/u/a", "image/png", 67, signed_at, Duration::from_secs(900)).await.unwrap();
    assert_eq!(ticket.method, "PUT");
    let query = ticket.url.split_once('?').unwrap().1;
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(param("X-Amz-Expires"), Some("900"));
    assert_eq!(param("X-Amz-SignedHeaders"), Some("content-length;content-type;host"));
    assert!(params.iter().all(|(k, _)| !k.to_ascii_lowercase().contains("checksum")), "{query}");
    assert!(ticket.url.contains(&format!("/{}/uploads/u/a?", blobs.bucket())), "path-style on an emulator");
    let mut headers = ticket.headers.clone();
    headers.sort();
    assert_eq!(headers, [("content-length".into(), "67".into()), ("content-type".into(), "image/png".into())]);

    let headers: Vec<(&str, &str)> = ticket.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, body) = galley_tests::http::send_to_url("PUT", &ticket.url, &headers, PNG_1X1);
    assert_eq!(status, 200, "{body}");
    let head = Blobs::head(&blobs, "uploads/u/a", 8).await.unwrap().unwrap();
    assert_eq!(head.size, 67);
}
