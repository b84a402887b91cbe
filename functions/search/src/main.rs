use galley_search::SearchFunction;

fn main() -> Result<(), lambda_http::Error> {
    galley_lambda::block_on(async {
        let deployment = galley_lambda::start("search").await?;
        galley_lambda::serve(deployment, |stores, keys| {
            Ok(SearchFunction::new(stores.catalog(), stores.search_index(), keys.cursor()?))
        })
        .await
    })
}
