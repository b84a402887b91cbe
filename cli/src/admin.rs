//! `galley admin grant|revoke EMAIL`: the one way to make an account an
//! admin (API.md Conventions, roles). It takes effect on the account's next
//! request: every admin request reads the role from the store.

use anyhow::{Context, bail};
use galley_lambda::Stores;
use galley_shared::auth::{Email, Role};
use galley_shared::config::Backend;

pub async fn run(email: &str, role: Role, backend: &Backend) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("{email:?} is not an email address: {e}"))?;
    let stores = Stores::open(backend).await.context("open store")?;
    if !stores.users().set_role(&email, role).await.context("set role")? {
        bail!("no account has the email {}; register it first", email.as_str());
    }
    println!("{} is now {}", email.as_str(), role.as_str());
    Ok(())
}
