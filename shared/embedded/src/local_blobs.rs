//! The blob port over a local folder (`<data dir>/blobs/`): what S3 holds
//! in AWS. Keys map to paths only through `path_of`, which admits nothing
//! but `[A-Za-z0-9_-]` segments.

use std::path::PathBuf;

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::ports::{BlobHead, Blobs};
use tokio::io::AsyncReadExt;

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

impl LocalBlobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path_of(&self, key: &str) -> Option<PathBuf> {
        Some(checked_segments(key)?.into_iter().fold(self.root.clone(), |path, segment| path.join(segment)))
    }

    /// Stores bytes the local server accepted: written aside, then renamed,
    /// so a reader never sees half a file.
    pub async fn store(&self, key: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.path_of(key).ok_or_else(|| Error::internal("blob key outside the blob folder"))?;
        let dir = path.parent().ok_or_else(|| Error::internal("blob path without a parent"))?;
        let io = |e: std::io::Error| Error::unavailable(format!("blob folder: {e}"));
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
        let partial = dir.join(format!(".{}.partial", ulid::Ulid::new()));
        tokio::fs::write(&partial, bytes).await.map_err(io)?;
        tokio::fs::rename(&partial, &path).await.map_err(io)
    }
}

#[async_trait]
impl Blobs for LocalBlobs {
    async fn head(&self, key: &str, max_bytes: usize) -> Result<Option<BlobHead>, Error> {
        let Some(path) = self.path_of(key) else { return Ok(None) };
        let io = |e: std::io::Error| Error::unavailable(format!("blob folder: {e}"));
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let size = file.metadata().await.map_err(io)?.len();
        let mut first_bytes = Vec::with_capacity(max_bytes);
        (&mut file).take(max_bytes as u64).read_to_end(&mut first_bytes).await.map_err(io)?;
        Ok(Some(BlobHead { size, first_bytes }))
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        let Some(path) = self.path_of(key) else { return Ok(()) };
        match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::unavailable(format!("blob folder: {e}"))),
            _ => Ok(()),
        }
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
            assert!(blobs.store(key, b"x").await.is_err(), "{key:?} stored");
            assert_eq!(blobs.head(key, 4).await.unwrap(), None);
        }
        blobs.store("uploads/u/a", b"hello").await.unwrap();
        assert_eq!(
            blobs.head("uploads/u/a", 4).await.unwrap(),
            Some(BlobHead { size: 5, first_bytes: b"hell".to_vec() })
        );
        assert!(dir.path().join("blobs/uploads/u/a").is_file());
        blobs.delete("uploads/u/a").await.unwrap();
        blobs.delete("uploads/u/a").await.unwrap();
        assert_eq!(blobs.head("uploads/u/a", 4).await.unwrap(), None);
    }
}
