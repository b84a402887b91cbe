use std::sync::Arc;

use galley_search::SearchFunction;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let galley_lambda::Deployment { stores, key } = galley_lambda::start().await?;
    let function = Arc::new(SearchFunction::new(stores.catalog(), stores.search_index(), &key));
    galley_lambda::run(move |request| {
        let function = function.clone();
        async move { function.handle(request).await }
    })
    .await
}
