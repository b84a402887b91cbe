use std::sync::Arc;

use galley_shared::id::{UploadId, UserId};
use galley_shared::uploads::{Filename, ImageType, UploadSize, UploadStatus};
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
    assert!(store.create_upload(&upload).await.is_err(), "an id is never reused");
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
