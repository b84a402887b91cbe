//! The table's DynamoDB stream, read back by the `receipts` function: a
//! record's new image is turned into the outbox entry its event's
//! transaction wrote, here beside the code that writes those items
//! (`notices`), so no function knows the table's keys or attribute names.
//!
//! Typed `Deserialize` structs rather than `aws_lambda_events`: its
//! `dynamodb` feature brings chrono and serde_dynamo to read five fields.

use std::collections::HashMap;

use galley_shared::Error;
use galley_shared::ports::OutboxEntry;
use serde::Deserialize;

use crate::notices::{OUTBOX_DOC, OUTBOX_PREFIX, OUTBOX_SENT, entry_from_doc};

/// A batch of stream records, as Lambda hands it over.
#[derive(Debug, Default, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName", default)]
    event_name: String,
    #[serde(default)]
    dynamodb: StreamData,
}

#[derive(Debug, Default, Deserialize)]
struct StreamData {
    #[serde(rename = "SequenceNumber", default)]
    sequence_number: String,
    #[serde(rename = "NewImage", default)]
    new_image: HashMap<String, ImageValue>,
}

/// One attribute of an image in DynamoDB's JSON; only the kinds the outbox
/// item holds are read.
#[derive(Debug, Default, Deserialize)]
struct ImageValue {
    #[serde(rename = "S")]
    s: Option<String>,
    #[serde(rename = "N")]
    n: Option<String>,
}

impl StreamRecord {
    /// What the stream reports failures by (`batchItemFailures`).
    pub fn sequence_number(&self) -> &str {
        &self.dynamodb.sequence_number
    }

    fn string(&self, name: &str) -> Option<&str> {
        self.dynamodb.new_image.get(name)?.s.as_deref()
    }

    /// The unsent notice this record brings, if it brings one: not for
    /// other items, removals, or the write that marks a notice sent.
    pub fn unsent_notice(&self) -> Result<Option<OutboxEntry>, Error> {
        if self.event_name != "INSERT" && self.event_name != "MODIFY" {
            return Ok(None);
        }
        if !self.string("pk").is_some_and(|pk| pk.starts_with(OUTBOX_PREFIX)) {
            return Ok(None);
        }
        let sent = self.dynamodb.new_image.get(OUTBOX_SENT).and_then(|v| v.n.as_deref());
        if sent != Some("0") {
            return Ok(None);
        }
        let doc = self.string(OUTBOX_DOC).ok_or_else(|| Error::internal("outbox record without doc"))?;
        entry_from_doc(doc, false).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(event_name: &str, pk: &str, sent: &str, doc: Option<&str>) -> StreamRecord {
        let mut image = json!({"pk": {"S": pk}, "sk": {"S": "RECEIPT"}, "sent": {"N": sent}});
        if let Some(doc) = doc {
            image["doc"] = json!({"S": doc});
        }
        serde_json::from_value(json!({
            "eventName": event_name,
            "dynamodb": {"SequenceNumber": "7", "NewImage": image}
        }))
        .unwrap()
    }

    #[test]
    fn only_unsent_outbox_inserts_and_modifies_are_notices_to_send() {
        assert!(record("REMOVE", "OUTBOX#o", "0", Some("{}")).unsent_notice().unwrap().is_none());
        assert!(record("INSERT", "ORDERS#u", "0", Some("{}")).unsent_notice().unwrap().is_none());
        assert!(record("MODIFY", "OUTBOX#o", "1", Some("{}")).unsent_notice().unwrap().is_none());
        assert!(record("INSERT", "OUTBOX#o", "0", None).unsent_notice().is_err(), "an outbox item without doc");
        assert!(record("INSERT", "OUTBOX#o", "0", Some("not json")).unsent_notice().is_err());
        assert_eq!(record("INSERT", "OUTBOX#o", "0", None).sequence_number(), "7");
        // A receipt written before notices had kinds: the bare order.
        let bare = r#"{"id":"o1","user_id":"u1","email":"a@example.com","status":"confirmed","created_at":"2026-11-21T12:00:00Z","items":[],"total":{"amount":0,"currency":"USD"}}"#;
        let old = record("INSERT", "OUTBOX#o1", "0", Some(bare)).unsent_notice().unwrap().unwrap();
        assert_eq!(old.notice.kind, galley_shared::orders::NoticeKind::Receipt);
    }
}
