//! The check after arrival, fed by S3 event notifications. S3 invokes it
//! asynchronously and at least once: a failed batch is retried by Lambda and
//! then sent to the on-failure destination; each check is idempotent.

use galley_shared::Error;
use galley_shared::uploads::{Arrival, ArrivalCheck};
use serde::Deserialize;
use serde_json::{Value, json};

/// An S3 event notification, as much of it as the check reads (typed
/// structs of our own: `aws_lambda_events`' `s3` feature brings chrono).
#[derive(Debug, Default, Deserialize)]
pub struct S3Event {
    #[serde(rename = "Records", default)]
    records: Vec<S3Record>,
}

#[derive(Debug, Deserialize)]
struct S3Record {
    #[serde(rename = "eventSource", default)]
    event_source: String,
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Debug, Deserialize)]
struct S3Entity {
    object: S3Object,
}

#[derive(Debug, Deserialize)]
struct S3Object {
    key: String,
}

#[derive(Clone)]
pub struct CheckFunction {
    check: ArrivalCheck,
}

/// S3 event keys are URL-encoded the way HTML forms are (`+` for a space).
/// `&` and `=` arrive encoded, so the whole key is one form name.
fn decoded_key(raw: &str) -> String {
    form_urlencoded::parse(raw.as_bytes()).next().map(|(name, _)| name.into_owned()).unwrap_or_default()
}

/// The keys of the records that report a new object.
pub fn created_keys(event: &S3Event) -> Vec<String> {
    let records = event.records.iter();
    records
        .filter(|r| r.event_source == "aws:s3" && r.event_name.starts_with("ObjectCreated:"))
        .map(|r| decoded_key(&r.s3.object.key))
        .collect()
}

impl CheckFunction {
    pub fn new(check: ArrivalCheck) -> Self {
        Self { check }
    }

    /// Checks every new object of an S3 event. Every record is tried; any
    /// failure fails the invocation so that the event is delivered again.
    pub async fn handle(&self, event: S3Event) -> Result<Vec<(String, Arrival)>, Error> {
        let mut outcomes = Vec::new();
        let mut failure = None;
        for key in created_keys(&event) {
            match self.check.check(&key).await {
                Ok(arrival) => {
                    tracing::info!(key = %key, arrival = ?arrival, "upload checked");
                    outcomes.push((key, arrival));
                }
                Err(error) => {
                    tracing::error!(key = %key, error = %error, "upload check failed; the event will be retried");
                    failure = Some(error);
                }
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(outcomes),
        }
    }

    /// `handle`'s outcome as the invocation's JSON answer (for logs and
    /// replays; S3 ignores it).
    pub async fn answer(&self, event: S3Event) -> Result<Value, Error> {
        let outcomes = self.handle(event).await?;
        let checked: Vec<Value> =
            outcomes.iter().map(|(key, arrival)| json!({"key": key, "outcome": arrival.outcome()})).collect();
        Ok(json!({ "checked": checked }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_created_objects_are_checked_and_keys_are_decoded() {
        let event = json!({"Records": [
            {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"object": {"key": "uploads/u/a"}}},
            {"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "uploads/u/b"}}},
            {"eventSource": "aws:s3", "eventName": "ObjectCreated:Copy", "s3": {"object": {"key": "odd+name%2F%C3%A9%26x%3D1"}}},
            {"eventSource": "aws:sqs", "eventName": "ObjectCreated:Put", "s3": {"object": {"key": "uploads/u/c"}}}
        ]});
        let event: S3Event = serde_json::from_value(event).unwrap();
        assert_eq!(created_keys(&event), ["uploads/u/a", "odd name/é&x=1"]);
        assert!(created_keys(&serde_json::from_value(json!({})).unwrap()).is_empty());
    }
}
