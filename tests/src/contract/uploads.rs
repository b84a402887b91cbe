use std::sync::Arc;

use galley_shared::id::{UploadId, UserId};
use galley_shared::uploads::{Filename, ImageType, Upload, UploadSize, UploadStatus};
use time::OffsetDateTime;

use super::Store;

pub fn pending_upload(owner: &UserId, filename: &str) -> galley_shared::uploads::Upload {
    galley_shared::uploads::Upload {
        id: UploadId::generate(),
        owner: owner.clone(),
        filename: Filename::parse(filename).unwrap(),
        content_type: ImageType::Png,
        size: UploadSize::new(67).unwrap(),
        status: UploadStatus::Pending,
        // Whole seconds: that is what stores keep.
        created_at: OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp()).unwrap(),
    }
}

pub async fn upload_records_are_owned_and_change_state_only_as_allowed<S: Store>(store: Arc<S>) {
    let (alice, bob) = (UserId::generate(), UserId::generate());
    let upload = pending_upload(&alice, "../../ünï cødé.png");
    store.create_upload(&upload).await.unwrap();
    // The same record again is the create retried (its first answer lost),
    // not a second record; another record under a taken id is refused.
    store.create_upload(&upload).await.expect("the same create, retried, is the create");
    let other = Upload { filename: pending_upload(&alice, "other.png").filename, ..upload.clone() };
    assert!(store.create_upload(&other).await.is_err(), "an id is never reused");
    assert_eq!(store.upload(&alice, &upload.id).await.unwrap(), Some(upload.clone()));
    assert_eq!(store.upload(&bob, &upload.id).await.unwrap(), None, "another user's upload is invisible");
    assert_eq!(store.upload(&alice, &UploadId::generate()).await.unwrap(), None);

    use UploadStatus::*;
    assert!(!store.set_status(&bob, &upload.id, &[Pending], Stored).await.unwrap());
    assert!(!store.set_status(&alice, &upload.id, &[Stored], Rejected).await.unwrap(), "not in an allowed state");
    assert!(store.set_status(&alice, &upload.id, &[Pending, Stored], Stored).await.unwrap());
    assert!(store.set_status(&alice, &upload.id, &[Pending, Stored], Rejected).await.unwrap());
    assert!(!store.set_status(&alice, &upload.id, &[Pending, Stored], Stored).await.unwrap(), "rejected is final");
    assert_eq!(store.upload(&alice, &upload.id).await.unwrap().unwrap().status, Rejected);
    assert!(!store.set_status(&alice, &UploadId::generate(), &[Pending], Stored).await.unwrap());
}

/// #20 item 9: a user holds at most 20 pending uploads; racing tickets
/// never pass the cap; one whose bytes arrived, or that expired, frees its
/// slot; other users are not affected.
pub async fn pending_uploads_are_capped_and_freed_by_arrival_or_expiry<S: Store>(store: Arc<S>) {
    use galley_shared::Error;
    use galley_shared::uploads::{MAX_PENDING_UPLOADS, PENDING_TTL};

    let carol = UserId::generate();
    let racers: Vec<_> = (0..MAX_PENDING_UPLOADS + 10)
        .map(|i| {
            let (store, upload) = (store.clone(), pending_upload(&carol, &format!("race-{i}.png")));
            tokio::spawn(async move { store.create_upload(&upload).await.map(|()| upload) })
        })
        .collect();
    let mut held = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            Ok(upload) => held.push(upload),
            Err(Error::TooManyUploads { retry_after_secs }) => {
                assert!(retry_after_secs > 0 && retry_after_secs <= PENDING_TTL.as_secs(), "{retry_after_secs}");
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(held.len(), MAX_PENDING_UPLOADS, "exactly the cap, however many race");

    let refused = store.create_upload(&pending_upload(&carol, "one-more.png")).await;
    assert!(matches!(refused, Err(Error::TooManyUploads { .. })), "{refused:?}");
    store.create_upload(&pending_upload(&UserId::generate(), "other.png")).await.expect("another user");

    let arrived = &held[0];
    assert!(store.set_status(&carol, &arrived.id, &[UploadStatus::Pending], UploadStatus::Stored).await.unwrap());
    store.create_upload(&pending_upload(&carol, "after-arrival.png")).await.expect("an arrival frees a slot");
    let refused = store.create_upload(&pending_upload(&carol, "full-again.png")).await;
    assert!(matches!(refused, Err(Error::TooManyUploads { .. })), "{refused:?}");

    let mut later = pending_upload(&carol, "next-day.png");
    later.created_at += PENDING_TTL;
    store.create_upload(&later).await.expect("expired tickets free their slots");
}
