//! Accounts: who a user is and what the API shows of them.

use serde::Serialize;

use super::email::Email;
use super::password::PasswordHashString;
use super::role::Role;
use crate::id::UserId;

/// A person's display name: 1 to 100 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

pub const MAX_NAME_CHARS: usize = 100;

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if !(1..=MAX_NAME_CHARS).contains(&chars) {
            return Err(format!("must be 1 to {MAX_NAME_CHARS} characters"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let message = || format!("must be a string of 1 to {MAX_NAME_CHARS} characters");
        value.as_str().ok_or_else(message).and_then(Self::parse)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the API shows of a user (`{id, email, name}`), and what a session
/// carries so `GET /auth/me` and checkout need no second read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserProfile {
    pub id: UserId,
    pub email: Email,
    pub name: DisplayName,
}

/// An account as stored: the profile, the password hash and the role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub profile: UserProfile,
    pub password_hash: PasswordHashString,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ann Lee ").unwrap().as_str(), "Ann Lee");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert!(DisplayName::parse(&"a".repeat(101)).is_err());
        assert!(DisplayName::parse("Ann\u{0}Lee").is_err());
    }
}
