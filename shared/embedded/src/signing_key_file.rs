//! The signing key of a data dir (`signing.key`), for the local server and
//! `cargo lambda watch`: made on first start, private to its owner.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use galley_shared::Error;
use galley_shared::keys::SigningKey;

use crate::private_files;

pub const KEY_FILE: &str = "signing.key";

/// Reads `signing.key` in `dir`, or creates it with 32 random bytes,
/// readable by the owner only. Processes starting together agree on one
/// key: the file is written aside and linked into place, which fails if
/// another got there first. A key file that is not ours, is a link, or is
/// open to others is refused with what to do about it.
pub fn load_or_create(dir: &Path) -> Result<SigningKey, Error> {
    let path = dir.join(KEY_FILE);
    if !path.exists() && std::fs::symlink_metadata(&path).is_err() {
        private_files::create_dir(dir).map_err(|e| Error::internal(format!("create {}: {e}", dir.display())))?;
        let temp = dir.join(format!(".{KEY_FILE}.{}", ulid::Ulid::new()));
        let bytes: [u8; 32] = rand::random();
        let written = private_files::create_new(&temp)
            .and_then(|mut file| file.write_all(B64.encode(bytes).as_bytes()).and(file.sync_all()));
        written.map_err(|e| Error::internal(format!("write {}: {e}", temp.display())))?;
        let linked = std::fs::hard_link(&temp, &path);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::internal(format!("link {}: {e}", path.display()))),
        }
    }
    private_files::refuse_unsafe_secret(&path).map_err(Error::internal)?;
    let encoded =
        std::fs::read_to_string(&path).map_err(|e| Error::internal(format!("read {}: {e}", path.display())))?;
    let bytes = B64.decode(encoded.trim()).map_err(|_| Error::internal(format!("{} is not base64", path.display())))?;
    SigningKey::new(bytes).map_err(|e| Error::internal(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn created_once_then_reused_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let second = load_or_create(dir.path()).unwrap();
        assert_eq!(first.derive("x"), second.derive("x"));
        let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "key file readable by others");
    }

    #[test]
    fn a_key_file_open_to_others_or_a_link_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path()).unwrap();
        let key = dir.path().join(KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = load_or_create(dir.path()).unwrap_err().to_string();
        assert!(refused.contains("chmod 600"), "{refused}");

        let other = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&key, other.path().join(KEY_FILE)).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let refused = load_or_create(other.path()).unwrap_err().to_string();
        assert!(refused.contains("not a plain file"), "{refused}");
    }
}
