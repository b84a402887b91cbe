//! The access tokens' public keys of a data dir (`signing.pub`), kept
//! beside `signing.key` so that a function's start reads them instead of
//! deriving them. Deriving an Ed25519 public key is a scalar multiplication
//! and a field inversion: 0.26 M instructions, a sixth of an embedded
//! function's init (callgrind, BENCHMARKS.md); reading one is a point
//! decompression. The stack does the same in AWS: public keys are computed
//! once, at deploy.
//!
//! Each line is `kid:key tag`, the tag a MAC of `kid:key` under the data
//! dir's secret: a line made from another secret (`signing.key` replaced)
//! or edited by hand fails its tag and is derived again, so the file can
//! never make a function trust a key login does not sign with. It is a
//! cache: lost or unreadable, the next start derives and writes it again.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use galley_shared::auth::{KeyId, PublicKey, TokenSigner};
use galley_shared::keys::SigningKey;

use crate::private_files;

pub const PUBLIC_FILE: &str = "signing.pub";

/// The public keys of `kids`, in that order, for the secret of the data
/// dir `dir`: read from `signing.pub` where its lines hold them under a
/// good tag, else derived from `secret` and written there for the next
/// start.
pub fn public_keys(dir: &Path, secret: &SigningKey, kids: &[KeyId]) -> Vec<PublicKey> {
    let path = dir.join(PUBLIC_FILE);
    let kept = std::fs::read_to_string(&path).map(|text| trusted(&text, secret)).unwrap_or_default();
    let found: Option<Vec<PublicKey>> =
        kids.iter().map(|kid| kept.iter().find(|key| key.kid() == kid).cloned()).collect();
    if let Some(keys) = found {
        return keys;
    }
    let derived: Vec<PublicKey> = kids.iter().map(|kid| TokenSigner::derive(secret, kid).public_key()).collect();
    let mut all = derived.clone();
    all.extend(kept.into_iter().filter(|key| !kids.contains(key.kid())));
    if let Err(e) = write(dir, &all, secret) {
        // Only the next start's speed depends on it.
        tracing::warn!(error = %e, file = %path.display(), "could not keep the public keys");
    }
    derived
}

fn tag_label(line: &str) -> String {
    format!("galley/signing.pub/v1/{line}")
}

/// The keys of the lines whose tag `secret` makes; the rest are ignored.
fn trusted(text: &str, secret: &SigningKey) -> Vec<PublicKey> {
    text.lines()
        .filter_map(|line| {
            let (key, tag) = line.trim().split_once(' ')?;
            let tag = B64URL.decode(tag).ok()?;
            if !secret.verify(&tag_label(key), &tag) {
                return None;
            }
            PublicKey::parse(key).ok()
        })
        .collect()
}

/// Replaces the file whole (written aside, then renamed), so a start never
/// reads half of it; starts racing here write the same lines.
fn write(dir: &Path, keys: &[PublicKey], secret: &SigningKey) -> std::io::Result<()> {
    let text: String = keys
        .iter()
        .map(|key| {
            let line = key.to_string();
            let tag = B64URL.encode(secret.derive(&tag_label(&line)));
            format!("{line} {tag}\n")
        })
        .collect();
    let temp = dir.join(format!(".{PUBLIC_FILE}.{}", ulid::Ulid::new()));
    let written = private_files::create_new(&temp).and_then(|mut file| file.write_all(text.as_bytes()));
    let placed = written.and_then(|()| std::fs::rename(&temp, dir.join(PUBLIC_FILE)));
    if placed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(byte: u8) -> SigningKey {
        SigningKey::new(vec![byte; 32]).unwrap()
    }

    fn derived(secret: &SigningKey, kid: &KeyId) -> PublicKey {
        TokenSigner::derive(secret, kid).public_key()
    }

    #[test]
    fn kept_on_first_start_and_read_back_on_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let (key, kid) = (secret(1), KeyId::first());
        assert_eq!(public_keys(dir.path(), &key, std::slice::from_ref(&kid)), [derived(&key, &kid)]);
        let text = std::fs::read_to_string(dir.path().join(PUBLIC_FILE)).unwrap();
        assert_eq!(trusted(&text, &key), [derived(&key, &kid)]);
        assert_eq!(public_keys(dir.path(), &key, std::slice::from_ref(&kid)), [derived(&key, &kid)]);
    }

    #[test]
    fn a_new_key_id_is_added_beside_the_kept_ones() {
        let dir = tempfile::tempdir().unwrap();
        let key = secret(1);
        let (k1, k2) = (KeyId::first(), KeyId::parse("k2").unwrap());
        public_keys(dir.path(), &key, std::slice::from_ref(&k1));
        assert_eq!(public_keys(dir.path(), &key, &[k2.clone(), k1.clone()]), [derived(&key, &k2), derived(&key, &k1)]);
        let text = std::fs::read_to_string(dir.path().join(PUBLIC_FILE)).unwrap();
        assert_eq!(trusted(&text, &key).len(), 2);
    }

    #[test]
    fn lines_of_another_secret_or_edited_are_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let kid = KeyId::first();
        public_keys(dir.path(), &secret(1), std::slice::from_ref(&kid));
        // signing.key replaced: the kept key is the old secret's.
        assert_eq!(public_keys(dir.path(), &secret(2), std::slice::from_ref(&kid)), [derived(&secret(2), &kid)]);

        // Someone else's key under the kept tag.
        let path = dir.path().join(PUBLIC_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        let (_, tag) = text.trim().split_once(' ').unwrap();
        std::fs::write(&path, format!("{} {tag}\n", derived(&secret(3), &kid))).unwrap();
        assert!(trusted(&std::fs::read_to_string(&path).unwrap(), &secret(2)).is_empty());
        assert_eq!(public_keys(dir.path(), &secret(2), std::slice::from_ref(&kid)), [derived(&secret(2), &kid)]);

        std::fs::write(&path, "k1:garbage\nnot a line\n").unwrap();
        assert_eq!(public_keys(dir.path(), &secret(2), std::slice::from_ref(&kid)), [derived(&secret(2), &kid)]);
    }
}
