use galley_shared::uploads::ArrivalCheck;
use galley_upload::CheckFunction;
use galley_upload::check::S3Event;
use lambda_http::{LambdaEvent, service_fn};

fn main() -> Result<(), lambda_http::Error> {
    galley_lambda::block_on(async {
        let stores = galley_lambda::start_without_key().await?;
        let function = CheckFunction::new(ArrivalCheck::new(stores.upload_records(), stores.blobs()?));
        let function = &function;
        lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
            Ok::<_, lambda_http::Error>(function.answer(event.payload).await?)
        }))
        .await
    })
}
