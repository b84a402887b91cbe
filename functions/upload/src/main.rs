use std::sync::Arc;

use galley_shared::clock::SystemClock;
use galley_upload::{UploadFunction, UploadStores};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let galley_lambda::Deployment { stores, key } = galley_lambda::start().await?;
    let function = Arc::new(UploadFunction::new(UploadStores::new(&stores, &key)?, &key, Arc::new(SystemClock)));
    galley_lambda::run(move |request| {
        let function = function.clone();
        async move { function.handle(request).await }
    })
    .await
}
