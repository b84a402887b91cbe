use std::sync::Arc;

use galley_login::{AccountStores, LoginFunction};
use galley_shared::clock::SystemClock;

fn main() -> Result<(), lambda_http::Error> {
    galley_lambda::block_on(async {
        let deployment = galley_lambda::start("login").await?;
        galley_lambda::serve(deployment, |stores, keys| {
            LoginFunction::new(AccountStores::from(stores), keys, Arc::new(SystemClock))
        })
        .await
    })
}
