use std::sync::Arc;

use galley_shared::clock::SystemClock;
use galley_upload::{UploadFunction, UploadStores};

fn main() -> Result<(), lambda_http::Error> {
    galley_lambda::block_on(async {
        let deployment = galley_lambda::start("upload").await?;
        galley_lambda::serve(deployment, |stores, keys| {
            Ok(UploadFunction::new(UploadStores::new(stores)?, keys, Arc::new(SystemClock)))
        })
        .await
    })
}
