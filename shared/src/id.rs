//! Opaque, URL-safe identifiers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Checks the shape every Galley id shares: 1 to 64 characters of
/// `[A-Za-z0-9_-]`, so an id can sit in a URL path and a storage key as is.
fn check_id(raw: &str) -> Result<(), String> {
    let ok = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok { Ok(()) } else { Err("must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'".into()) }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh id: a ULID, so ids sort by creation time.
            pub fn generate() -> Self {
                Self(ulid::Ulid::new().to_string())
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                check_id(raw).map(|()| Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A catalog product. Imported catalogs bring their own ids (SKUs).
    ProductId
);
id_type!(UserId);
id_type!(OrderId);
id_type!(SessionId);
id_type!(UploadId);
id_type!(
    /// An audit log entry: a ULID, so entries sort by time.
    AuditId
);
id_type!(
    /// A refund of an order: the gateway is asked with a key made from it,
    /// so asking again never refunds twice.
    RefundId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_url_safe_and_time_sortable() {
        let a = OrderId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = OrderId::generate();
        assert!(a < b);
        assert!(OrderId::parse(a.as_str()).is_ok());
    }

    #[test]
    fn ids_refuse_path_and_key_characters() {
        for bad in ["", "a/b", "a#b", "../x", "a b", "é", &"x".repeat(65)] {
            assert!(ProductId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(ProductId::parse("mug-blue_01").is_ok());
    }
}
