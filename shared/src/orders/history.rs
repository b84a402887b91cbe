//! An order's history (API.md AdminOrder): one entry per status change,
//! oldest first, each saying who made it. The stores append an entry in the
//! same write that moves the status, so the two never disagree.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use super::order::OrderStatus;
use crate::id::UserId;

/// Who moved an order: API.md's `by`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Party {
    /// The buyer, through checkout or their own cancel.
    Customer,
    /// An admin, through the back office.
    Admin(UserId),
    /// The payment gateway, through its webhook.
    Gateway,
    /// The settler, finishing what a checkout left pending.
    Settler,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Party::Customer => f.write_str("customer"),
            Party::Admin(id) => write!(f, "admin:{id}"),
            Party::Gateway => f.write_str("gateway"),
            Party::Settler => f.write_str("settler"),
        }
    }
}

impl Party {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "customer" => Ok(Party::Customer),
            "gateway" => Ok(Party::Gateway),
            "settler" => Ok(Party::Settler),
            other => match other.strip_prefix("admin:").map(UserId::parse) {
                Some(Ok(id)) => Ok(Party::Admin(id)),
                _ => Err(format!("unknown party {other}")),
            },
        }
    }
}

impl Serialize for Party {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Party {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Party::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// `{status, at, by, note}`: the order reached `status` at `at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: OrderStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub by: Party,
    pub note: Option<String>,
}

impl HistoryEntry {
    pub fn new(status: OrderStatus, at: OffsetDateTime, by: Party) -> Self {
        Self { status, at, by, note: None }
    }

    /// Every order's first entry: its customer placed it, pending.
    pub fn placed(at: OffsetDateTime) -> Self {
        Self::new(OrderStatus::Pending, at, Party::Customer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parties_read_back_as_written() {
        let admin = Party::Admin(UserId::generate());
        for party in [Party::Customer, admin, Party::Gateway, Party::Settler] {
            assert_eq!(Party::parse(&party.to_string()), Ok(party));
        }
        assert!(Party::parse("admin:").is_err());
        assert!(Party::parse("robot").is_err());
    }

    #[test]
    fn an_entry_is_the_documented_shape() {
        let entry = HistoryEntry::new(OrderStatus::Pending, OffsetDateTime::UNIX_EPOCH, Party::Customer);
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"status": "pending", "at": "1970-01-01T00:00:00Z", "by": "customer", "note": null})
        );
    }
}
