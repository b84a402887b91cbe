//! SDK errors become domain errors here, with the full cause kept for logs.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use galley_shared::Error;
use galley_shared::metrics::{self, Fault};

/// Service error codes that mean "try again later", not "this is a bug".
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "SlowDown",
    "InternalError",
];

pub(crate) fn sdk_error<E>(operation: &str, error: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    service_error("dynamodb", operation, error)
}

/// Service error codes of throttling: the service is telling us to slow down.
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
];

/// What kind of failure an SDK error is, for the `DependencyErrors`
/// metric; `None` for one that never reached the service (a request the
/// client could not build: our bug, not the dependency's).
pub(crate) fn fault<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Option<Fault> {
    Some(match error {
        SdkError::TimeoutError(_) => Fault::Timeout,
        SdkError::DispatchFailure(failure) if failure.is_timeout() => Fault::Timeout,
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => Fault::Connection,
        SdkError::ServiceError(service) => {
            let status = service.raw().status();
            if status.as_u16() == 429 || service.err().code().is_some_and(|c| THROTTLING_CODES.contains(&c)) {
                Fault::Throttled
            } else if status.is_server_error() {
                Fault::Server
            } else {
                Fault::Refused
            }
        }
        _ => return None,
    })
}

/// Counts a call to `service` that failed after the SDK's own retries.
pub(crate) fn count<E: ProvideErrorMetadata>(service: &'static str, error: &SdkError<E, HttpResponse>) {
    if let Some(fault) = fault(error) {
        metrics::dependency_error(service, fault);
    }
}

/// The same mapping for any AWS service's SDK error: throttling, timeouts
/// and 5xx are `Unavailable` (retry later), anything else `Internal`. The
/// failure is counted (`DependencyErrors`), so only errors that are faults
/// come here, not answers such as a failed condition.
pub(crate) fn service_error<E>(service: &'static str, operation: &str, error: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    count(service, &error);
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        // A 5xx is the service's own failure, whatever its code says.
        SdkError::ServiceError(service) => {
            service.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
                || service.raw().status().is_server_error()
        }
        _ => false,
    };
    let context = format!("{service} {operation}");
    if transient { Error::unavailable_from(context, error) } else { Error::internal_from(context, error) }
}

/// The item a failed conditional update found (`ALL_OLD`), or `None` when
/// the failure was not a condition check.
pub(crate) fn condition_failure(
    error: &SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError>,
) -> Option<Option<crate::item::Item>> {
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    match error.as_service_error() {
        Some(UpdateItemError::ConditionalCheckFailedException(failed)) => Some(failed.item().cloned()),
        _ => None,
    }
}

/// Sends a conditional update: `true` when it was applied, `false` when its
/// condition did not hold (an answer, not an error).
pub(crate) async fn applied(
    update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
) -> Result<bool, Error> {
    match update.send().await {
        Ok(_) => Ok(true),
        Err(e) if condition_failure(&e).is_some() => Ok(false),
        Err(e) => Err(sdk_error("UpdateItem", e)),
    }
}
