//! Hello world on `lambda_runtime` as published hello worlds are written
//! (`#[tokio::main]`, a worker thread per core): the floor issue #8 sets
//! the cold-start target against.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({"statusCode": 200, "body": "hello"}))
    }))
    .await
}
