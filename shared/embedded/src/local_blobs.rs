//! The blob port over a local folder (`<data dir>/blobs/`): what S3 holds
//! in AWS. Keys map to paths only through `path_of`, which admits nothing
//! but `[A-Za-z0-9_-]` segments.

use std::io::Read;
use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use galley_shared::Error;
use galley_shared::calls::{self, traced};
use galley_shared::ports::{BlobHead, Blobs, ServedAs};

use crate::blocking::run_blocking;

/// The dependency's name in call lines.
const BLOBS: &str = "blobs";

#[derive(Clone, Debug)]
pub struct LocalBlobs {
    root: PathBuf,
}

/// Only keys of `[A-Za-z0-9_-]` segments map to files: no `..`, no absolute
/// paths, no separators but `/`, whatever a URL or event carries.
pub(crate) fn checked_segments(key: &str) -> Option<Vec<&str>> {
    let segments: Vec<&str> = key.split('/').collect();
    let ok = |s: &&str| {
        !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    (segments.len() <= 8 && segments.iter().all(ok)).then_some(segments)
}

fn io(e: std::io::Error) -> Error {
    Error::unavailable(format!("blob folder: {e}"))
}

impl LocalBlobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path_of(&self, key: &str) -> Option<PathBuf> {
        Some(checked_segments(key)?.into_iter().fold(self.root.clone(), |path, segment| path.join(segment)))
    }

    /// Stores bytes the local server accepted: written aside, then renamed,
    /// so a reader never sees half a file. Takes the bytes by value: the
    /// write runs off the async thread, and a body the server collected
    /// moves there instead of being copied.
    pub async fn store(&self, key: &str, bytes: impl Into<Bytes>) -> Result<(), Error> {
        let path = self.path_of(key).ok_or_else(|| Error::internal("blob key outside the blob folder"))?;
        let dir = path.parent().ok_or_else(|| Error::internal("blob path without a parent"))?.to_path_buf();
        let bytes = bytes.into();
        traced(
            BLOBS,
            "store",
            calls::result,
            run_blocking(move || {
                crate::private_files::create_dir(&dir).map_err(io)?;
                let partial = dir.join(format!(".{}.partial", ulid::Ulid::new()));
                crate::private_files::write_new(&partial, &bytes).map_err(io)?;
                std::fs::rename(&partial, &path).map_err(io)
            }),
        )
        .await
    }
}

#[async_trait]
impl Blobs for LocalBlobs {
    async fn head(&self, key: &str, max_bytes: usize) -> Result<Option<BlobHead>, Error> {
        let Some(path) = self.path_of(key) else { return Ok(None) };
        traced(
            BLOBS,
            "head",
            calls::result,
            run_blocking(move || {
                let mut file = match std::fs::File::open(&path) {
                    Ok(file) => file,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(io(e)),
                };
                let size = file.metadata().map_err(io)?.len();
                let mut first_bytes = Vec::with_capacity(max_bytes);
                (&mut file).take(max_bytes as u64).read_to_end(&mut first_bytes).map_err(io)?;
                Ok(Some(BlobHead { size, first_bytes }))
            }),
        )
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        let Some(path) = self.path_of(key) else { return Ok(()) };
        traced(
            BLOBS,
            "delete",
            calls::result,
            run_blocking(move || match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(e)),
                _ => Ok(()),
            }),
        )
        .await
    }

    /// A file copy, aside then renamed as `store` writes; the folder keeps
    /// no headers (the local server derives them from the bytes).
    async fn copy(&self, from: &str, to: &str, _served: ServedAs<'_>) -> Result<bool, Error> {
        let source = self.path_of(from).ok_or_else(|| Error::internal("blob key outside the blob folder"))?;
        let target = self.path_of(to).ok_or_else(|| Error::internal("blob key outside the blob folder"))?;
        let dir = target.parent().ok_or_else(|| Error::internal("blob path without a parent"))?.to_path_buf();
        traced(
            BLOBS,
            "copy",
            calls::result,
            run_blocking(move || {
                crate::private_files::create_dir(&dir).map_err(io)?;
                let partial = dir.join(format!(".{}.partial", ulid::Ulid::new()));
                match std::fs::copy(&source, &partial) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                    other => other.map_err(io)?,
                };
                std::fs::rename(&partial, &target).map_err(io)?;
                Ok(true)
            }),
        )
        .await
    }

    async fn read(&self, key: &str) -> Result<Option<Bytes>, Error> {
        let Some(path) = self.path_of(key) else { return Ok(None) };
        traced(
            BLOBS,
            "read",
            calls::result,
            run_blocking(move || match std::fs::read(&path) {
                Ok(bytes) => Ok(Some(Bytes::from(bytes))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io(e)),
            }),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_never_leave_the_blob_folder() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::new(dir.path().join("blobs"));
        for key in ["../x", "uploads/../../x", "/etc/passwd", "uploads/a/b\0", "uploads//b", "uploads/é/b"] {
            assert!(blobs.store(key, b"x".as_slice()).await.is_err(), "{key:?} stored");
            assert_eq!(blobs.head(key, 4).await.unwrap(), None);
        }
        blobs.store("uploads/u/a", b"hello".as_slice()).await.unwrap();
        assert_eq!(
            blobs.head("uploads/u/a", 4).await.unwrap(),
            Some(BlobHead { size: 5, first_bytes: b"hell".to_vec() })
        );
        assert!(dir.path().join("blobs/uploads/u/a").is_file());
        let served = ServedAs { content_type: "image/png", cache_control: "no-cache" };
        assert!(blobs.copy("uploads/u/a", "images/p/a", served).await.unwrap());
        assert_eq!(blobs.read("images/p/a").await.unwrap().as_deref(), Some(b"hello".as_slice()));
        assert!(!blobs.copy("uploads/u/none", "images/p/b", served).await.unwrap(), "no source, no copy");
        assert!(blobs.copy("../x", "images/p/c", served).await.is_err());
        blobs.delete("uploads/u/a").await.unwrap();
        blobs.delete("uploads/u/a").await.unwrap();
        assert_eq!(blobs.head("uploads/u/a", 4).await.unwrap(), None);
    }
}
