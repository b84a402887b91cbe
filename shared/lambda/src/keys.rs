//! Loading the signing key once at start-up.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use galley_shared::Error;
use galley_shared::config::Backend;
use galley_shared::keys::SigningKey;

use crate::Stores;

const KEY_FILE: &str = "signing.key";
/// Base64 of the key, for deployments that inject it (never committed).
pub const KEY_ENV: &str = "GALLEY_SIGNING_KEY";
/// The Secrets Manager secret holding the key, as the stack creates it.
pub const KEY_SECRET_ENV: &str = "SIGNING_KEY_SECRET_ARN";

/// The deployment's key, read once at cold start: from `GALLEY_SIGNING_KEY`
/// if set; in AWS from the Secrets Manager secret `SIGNING_KEY_SECRET_ARN`
/// names (its string's bytes); on the embedded store from the data dir,
/// generated there on first start.
pub async fn signing_key(backend: &Backend, stores: &Stores) -> Result<SigningKey, Error> {
    if let Ok(encoded) = std::env::var(KEY_ENV) {
        let bytes = B64.decode(encoded.trim()).map_err(|_| Error::internal(format!("{KEY_ENV} is not base64")))?;
        return SigningKey::new(bytes).map_err(|e| Error::internal(format!("{KEY_ENV}: {e}")));
    }
    match (backend, stores) {
        (Backend::Embedded { data_dir }, _) => load_or_create(data_dir),
        #[cfg(feature = "aws")]
        (Backend::Aws { .. }, Stores::Aws(store)) => {
            let secret_id = std::env::var(KEY_SECRET_ENV)
                .map_err(|_| Error::internal(format!("the AWS backend needs {KEY_SECRET_ENV} or {KEY_ENV}")))?;
            key_from_secret(store.sdk_config(), &secret_id).await
        }
        #[allow(unreachable_patterns)] // in a build with one backend
        _ => Err(Error::internal("the backend and the stores opened differ")),
    }
}

/// Fails when an AWS deployment names no key source, a mistake better
/// reported by the function's init than by each of its requests.
pub fn check_source(backend: &Backend) -> Result<(), Error> {
    let named = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    match backend {
        Backend::Aws { .. } if !named(KEY_ENV) && !named(KEY_SECRET_ENV) => {
            Err(Error::internal(format!("the AWS backend needs {KEY_SECRET_ENV} or {KEY_ENV}")))
        }
        _ => Ok(()),
    }
}

/// The key held by a Secrets Manager secret (a generated string of at least 32 bytes).
#[cfg(feature = "aws")]
pub async fn key_from_secret(config: &aws_config::SdkConfig, secret_id: &str) -> Result<SigningKey, Error> {
    #[cfg(feature = "secrets")]
    {
        let secret = galley_aws::secrets::secret_string(config, secret_id).await?;
        SigningKey::new(secret.into_bytes()).map_err(|e| Error::internal(format!("signing secret: {e}")))
    }
    #[cfg(not(feature = "secrets"))]
    {
        let _ = (config, secret_id);
        Err(Error::internal(format!("this build reads no secret: set {KEY_ENV}, or build with `secrets`")))
    }
}

/// Reads `signing.key` in `dir`, or creates it with 32 random bytes, readable
/// by the owner only. Processes starting together agree on one key: the file
/// is written aside and linked into place, which fails if another got there first.
pub fn load_or_create(dir: &Path) -> Result<SigningKey, Error> {
    let path = dir.join(KEY_FILE);
    if !path.exists() {
        std::fs::create_dir_all(dir).map_err(|e| Error::internal(format!("create {}: {e}", dir.display())))?;
        let temp = dir.join(format!(".{KEY_FILE}.{}", std::process::id()));
        let bytes: [u8; 32] = rand::random();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temp).and_then(|mut f| f.write_all(B64.encode(bytes).as_bytes()).and(f.sync_all()));
        written.map_err(|e| Error::internal(format!("write {}: {e}", temp.display())))?;
        let linked = std::fs::hard_link(&temp, &path);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::internal(format!("link {}: {e}", path.display()))),
        }
    }
    let encoded =
        std::fs::read_to_string(&path).map_err(|e| Error::internal(format!("read {}: {e}", path.display())))?;
    let bytes = B64.decode(encoded.trim()).map_err(|_| Error::internal(format!("{} is not base64", path.display())))?;
    SigningKey::new(bytes).map_err(|e| Error::internal(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reused_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        let second = load_or_create(dir.path()).unwrap();
        assert_eq!(first.derive("x"), second.derive("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key file readable by others");
        }
    }
}
