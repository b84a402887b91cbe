use std::sync::Arc;

use galley_http::Handler;
use galley_shared::clock::SystemClock;
use galley_webhook::{WebhookFunction, event_stores};

fn main() -> Result<(), lambda_http::Error> {
    galley_lambda::block_on(async {
        // It signs nothing: no signing key. The Stripe secrets are read on
        // the first delivery, not here.
        let stores = galley_lambda::start_without_key("webhook").await?;
        let payments = stores.payments()?;
        let signing = stores.secret(galley_payments::WEBHOOK_SECRET)?;
        let function = WebhookFunction::new(event_stores(&stores), payments, signing, Arc::new(SystemClock));
        let function = &function;
        galley_lambda::run(move |request| async move { function.handle(request).await }).await
    })
}
