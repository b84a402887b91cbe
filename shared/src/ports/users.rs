use async_trait::async_trait;

use super::Written;
use crate::auth::{Email, User};
use crate::error::Error;

/// Accounts, keyed by their normalized email.
#[async_trait]
pub trait Users: Send + Sync {
    /// Adds an account only if no account has its email (a conditional
    /// write, so two racing registrations cannot both win).
    async fn create(&self, user: &User) -> Result<Written, Error>;

    async fn by_email(&self, email: &Email) -> Result<Option<User>, Error>;
}
