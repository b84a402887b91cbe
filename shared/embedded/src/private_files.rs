//! The data dir is its owner's alone: directories 0700, files 0600, every
//! file created new (`O_EXCL`) without following a link planted where it
//! goes (`O_NOFOLLOW`), and a secret file refused when it is not ours or
//! others may read it.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

const PRIVATE_DIR: u32 = 0o700;
const PRIVATE_FILE: u32 = 0o600;

/// Creates `path` and its missing parents as 0700; a directory of ours that
/// an older Galley made open to others is closed to them.
pub fn create_dir(path: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(PRIVATE_DIR).create(path)?;
    let metadata = std::fs::metadata(path)?;
    if metadata.uid() == effective_uid() && metadata.mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_DIR))?;
    }
    Ok(())
}

/// A new file at `path`, 0600: fails if anything, a link included, is there.
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE_FILE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Writes `bytes` to a new file at `path`, 0600, and syncs it.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = create_new(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes sure an existing file (the database, before SQLite opens it) is
/// ours and 0600; creates it empty and 0600 when absent, so SQLite's WAL and
/// shared-memory files, made with the database's mode, are 0600 too.
pub fn prepare_file(path: &Path) -> io::Result<()> {
    match create_new(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let metadata = std::fs::symlink_metadata(path)?;
            if metadata.file_type().is_file() && metadata.uid() == effective_uid() && metadata.mode() & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_FILE))?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Why a secret file may not be used, if it may not: a link, not a plain
/// file, someone else's, or readable or writable by others.
pub fn refuse_unsafe_secret(path: &Path) -> Result<(), String> {
    let metadata = std::fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let shown = path.display();
    if !metadata.file_type().is_file() {
        return Err(format!("{shown} is not a plain file (a link?); remove it and a new key is made"));
    }
    if metadata.uid() != effective_uid() {
        return Err(format!("{shown} belongs to another user (uid {}); it must be yours", metadata.uid()));
    }
    let mode = metadata.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!("{shown} is open to others (mode {mode:o}); run `chmod 600 {shown}`"));
    }
    Ok(())
}

fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o777
    }

    #[test]
    fn dirs_are_0700_and_files_0600_and_never_written_through_a_link() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!((mode(&root.path().join("a")), mode(&dir)), (0o700, 0o700));
        write_new(&dir.join("f"), b"x").unwrap();
        assert_eq!(mode(&dir.join("f")), 0o600);
        assert!(write_new(&dir.join("f"), b"y").is_err(), "never over an existing file");
        std::os::unix::fs::symlink(root.path().join("target"), dir.join("link")).unwrap();
        assert!(write_new(&dir.join("link"), b"z").is_err(), "never through a link");
        assert!(!root.path().join("target").exists());
    }

    #[test]
    fn an_open_dir_or_file_of_ours_is_closed_and_a_secret_open_to_others_refused() {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir(root.path()).unwrap();
        assert_eq!(mode(root.path()), 0o700);
        let db = root.path().join("db");
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        prepare_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);

        let key = root.path().join("key");
        write_new(&key, b"k").unwrap();
        assert!(refuse_unsafe_secret(&key).is_ok());
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
        let refused = refuse_unsafe_secret(&key).unwrap_err();
        assert!(refused.contains("open to others") && refused.contains("chmod 600"), "{refused}");
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        assert!(refuse_unsafe_secret(&link).unwrap_err().contains("not a plain file"));
    }
}
