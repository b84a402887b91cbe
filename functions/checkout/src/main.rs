use std::sync::Arc;

use galley_checkout::{CheckoutFunction, CheckoutStores};
use galley_embedded::SandboxGateway;
use galley_shared::clock::SystemClock;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let galley_lambda::Deployment { stores, key } = galley_lambda::start().await?;
    let payments = Arc::new(SandboxGateway);
    let function =
        Arc::new(CheckoutFunction::new(CheckoutStores::from(&stores), payments, &key, Arc::new(SystemClock)));
    galley_lambda::run(move |request| {
        let function = function.clone();
        async move { function.handle(request).await }
    })
    .await
}
