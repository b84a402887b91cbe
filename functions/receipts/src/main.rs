use std::sync::Arc;

use galley_aws::stream::StreamEvent;
use galley_receipts::ReceiptsFunction;
use galley_shared::clock::SystemClock;
use galley_shared::orders::NoticeSender;

fn main() -> Result<(), lambda_http::Error> {
    galley_lambda::block_on(async {
        let stores = galley_lambda::start_without_key("receipts").await?;
        let from = std::env::var("MAIL_FROM").map_err(|_| "MAIL_FROM (the SES sender identity) is not set")?;
        let mailer = stores.mailer(&from)?;
        let function = ReceiptsFunction::new(NoticeSender::new(stores.outbox(), mailer, Arc::new(SystemClock)));
        let function = &function;
        galley_lambda::run_events(move |event: StreamEvent| async move { Ok(function.handle(event).await) }).await
    })
}
