//! Roles (API.md Conventions): what a signed-in user may do. Checked against
//! the account on every request that needs one, so a revoked role stops
//! working on the next request, as logout does.

use std::sync::Arc;

use serde::Serialize;

use super::authenticate::Principal;
use super::user::{User, UserProfile};
use crate::error::Error;
use crate::ports::Users;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everyone who registers.
    #[default]
    Customer,
    /// The shop's owners: the back office.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Admin => "admin",
        }
    }

    /// A stored role; anything unknown is the least one.
    pub fn from_stored(raw: Option<&str>) -> Self {
        match raw {
            Some("admin") => Self::Admin,
            _ => Self::Customer,
        }
    }
}

/// What the API shows of an account: `{id, email, name, role}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    #[serde(flatten)]
    pub profile: UserProfile,
    pub role: Role,
}

impl From<&User> for Account {
    fn from(user: &User) -> Self {
        Self { profile: user.profile.clone(), role: user.role }
    }
}

/// Reads a principal's account as it is now.
#[derive(Clone)]
pub struct Roles {
    users: Arc<dyn Users>,
}

impl Roles {
    pub fn new(users: Arc<dyn Users>) -> Self {
        Self { users }
    }

    /// The principal's account, read consistently; an account that is gone
    /// is as good as a revoked session.
    pub async fn account(&self, principal: &Principal) -> Result<Account, Error> {
        match self.users.by_email(&principal.user.email).await? {
            Some(user) if user.profile.id == principal.user.id => Ok(Account::from(&user)),
            _ => Err(Error::Unauthorized),
        }
    }

    /// The principal's account if it holds `role` now, else `Forbidden`.
    pub async fn require(&self, principal: &Principal, role: Role) -> Result<Account, Error> {
        let account = self.account(principal).await?;
        if account.role == role { Ok(account) } else { Err(Error::Forbidden) }
    }
}
