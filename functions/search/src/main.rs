use std::sync::Arc;

use galley_lambda::{Stores, keys};
use galley_search::SearchFunction;
use galley_shared::config::Backend;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    galley_shared::telemetry::init();
    let backend = Backend::from_env();
    let stores = Stores::open(&backend).await?;
    let key = keys::signing_key(&backend, &stores).await?;
    let function = Arc::new(SearchFunction::new(stores.catalog(), stores.search_index(), &key));
    galley_lambda::run(move |request| {
        let function = function.clone();
        async move { function.handle(request).await }
    })
    .await
}
