use async_trait::async_trait;

use super::Written;
use crate::auth::{Email, Role, User};
use crate::error::Error;

/// Accounts, keyed by their normalized email.
#[async_trait]
pub trait Users: Send + Sync {
    /// Adds an account only if no account has its email (a conditional
    /// write, so two racing registrations cannot both win).
    async fn create(&self, user: &User) -> Result<Written, Error>;

    /// The account of `email`, read consistently (a role change or a new
    /// account counts at once).
    async fn by_email(&self, email: &Email) -> Result<Option<User>, Error>;

    /// Gives the account of `email` the role `role`; false when there is
    /// no such account.
    async fn set_role(&self, email: &Email, role: Role) -> Result<bool, Error>;
}
