//! An email address as accounts are keyed by it: trimmed and lower-cased,
//! so "Ann@Example.com " and "ann@example.com" are one account.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl TryFrom<String> for Email {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

/// RFC 5321's limit on a forward path.
const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MESSAGE: &str = "must be an email address such as ann@example.com";

fn local_part_ok(local: &str) -> bool {
    // The dot-atom form of RFC 5322: what real mailboxes use. Quoted local
    // parts are legal but invite injection into mail headers, so they are refused.
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    (1..=MAX_LOCAL_LEN).contains(&local.len())
        && local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

fn domain_ok(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    labels.len() >= 2 && labels.iter().all(label_ok) && labels.last().is_some_and(|tld| tld.len() >= 2)
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let normalized = raw.trim().to_ascii_lowercase();
        if normalized.len() > MAX_LEN {
            return Err(format!("must be at most {MAX_LEN} characters"));
        }
        match normalized.split_once('@') {
            Some((local, domain)) if local_part_ok(local) && domain_ok(domain) => Ok(Self(normalized)),
            _ => Err(MESSAGE.into()),
        }
    }

    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        value.as_str().ok_or_else(|| MESSAGE.to_owned()).and_then(Self::parse)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Addresses are personal data: logs get the domain only.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.split_once('@').map_or("", |(_, d)| d);
        write!(f, "Email(…@{domain})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(Email::parse("  Ann.Lee+shop@Example.COM \n").unwrap().as_str(), "ann.lee+shop@example.com");
        assert_eq!(Email::parse("a@b.io").unwrap(), Email::parse("A@B.IO").unwrap());
    }

    #[test]
    fn non_addresses_are_refused() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let too_long = format!("a@{}.com", "b".repeat(250));
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann@@example.com",
            "ann@exa mple.com",
            "a..b@example.com",
            ".ann@example.com",
            "ann@-example.com",
            "\"ann\"@example.com",
            "ann@example.com\r\nBcc: x@y.z",
            "ann@exämple.com",
            &long_local,
            &too_long,
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn debug_hides_the_mailbox() {
        assert_eq!(format!("{:?}", Email::parse("ann@example.com").unwrap()), "Email(…@example.com)");
    }
}
