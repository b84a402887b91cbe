use std::sync::Arc;

use galley_admin::{AdminFunction, AdminStores};
use galley_shared::clock::SystemClock;

fn main() -> Result<(), lambda_http::Error> {
    galley_lambda::block_on(async {
        let deployment = galley_lambda::start("admin").await?;
        galley_lambda::serve(deployment, |stores, keys| {
            let admin = AdminStores::open(stores, stores.images_url()?)?;
            let payments = stores.payments()?.gateway;
            AdminFunction::new(admin, payments, keys, Arc::new(SystemClock))
        })
        .await
    })
}
