use std::sync::Arc;

use galley_settler::{SettlerFunction, SettlerStores};
use galley_shared::clock::SystemClock;
use serde_json::Value;

fn main() -> Result<(), lambda_http::Error> {
    galley_lambda::block_on(async {
        let stores = galley_lambda::start_without_key("settler").await?;
        let from = std::env::var("MAIL_FROM").map_err(|_| "MAIL_FROM (the SES sender identity) is not set")?;
        let payments = stores.payments()?.gateway;
        let function =
            SettlerFunction::new(SettlerStores::from(&stores), payments, stores.mailer(&from)?, Arc::new(SystemClock));
        let function = &function;
        galley_lambda::run_events(move |_: Value| async move { Ok(function.handle().await?) }).await
    })
}
