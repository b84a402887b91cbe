use std::sync::Arc;

use galley_checkout::{CheckoutFunction, CheckoutStores};
use galley_shared::clock::SystemClock;

fn main() -> Result<(), lambda_http::Error> {
    galley_lambda::block_on(async {
        let deployment = galley_lambda::start("checkout").await?;
        galley_lambda::serve(deployment, |stores, keys| {
            let payments = stores.payments()?.gateway;
            CheckoutFunction::new(CheckoutStores::from(stores), payments, keys, Arc::new(SystemClock))
        })
        .await
    })
}
