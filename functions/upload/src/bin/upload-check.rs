use galley_shared::uploads::ArrivalCheck;
use galley_upload::CheckFunction;
use galley_upload::check::S3Event;

fn main() -> Result<(), lambda_http::Error> {
    galley_lambda::block_on(async {
        let stores = galley_lambda::start_without_key("upload-check").await?;
        let function = CheckFunction::new(ArrivalCheck::new(stores.upload_records(), stores.blobs()?));
        let function = &function;
        galley_lambda::run_events(move |event: S3Event| async move { Ok(function.answer(event).await?) }).await
    })
}
