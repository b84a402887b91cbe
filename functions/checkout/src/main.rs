use std::sync::Arc;

use galley_checkout::{CheckoutFunction, CheckoutStores};
use galley_embedded::SandboxGateway;
use galley_lambda::{Stores, keys};
use galley_shared::clock::SystemClock;
use galley_shared::config::Backend;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    galley_shared::telemetry::init();
    let backend = Backend::from_env();
    let stores = Stores::open(&backend).await?;
    let key = keys::signing_key(&backend, &stores).await?;
    let payments = Arc::new(SandboxGateway);
    let function =
        Arc::new(CheckoutFunction::new(CheckoutStores::from(&stores), payments, &key, Arc::new(SystemClock)));
    galley_lambda::run(move |request| {
        let function = function.clone();
        async move { function.handle(request).await }
    })
    .await
}
