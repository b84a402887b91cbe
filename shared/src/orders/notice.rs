//! Notices: the emails an order's events owe its customer, written to the
//! outbox in the same write as the event, so none is lost and none is sent
//! for a move that did not happen. One per event, keyed by the order and
//! the kind of event.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::emails;
use super::order::Order;
use crate::id::{OrderId, RefundId};
use crate::mail::EmailMessage;

/// Which event a notice tells of.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    Receipt,
    Fulfilled,
    Cancelled,
    Refund(RefundId),
}

impl NoticeKind {
    /// The kind as the outbox keys it.
    pub fn key(&self) -> String {
        match self {
            NoticeKind::Receipt => "RECEIPT".into(),
            NoticeKind::Fulfilled => "FULFILLED".into(),
            NoticeKind::Cancelled => "CANCELLED".into(),
            NoticeKind::Refund(id) => format!("REFUND#{id}"),
        }
    }

    pub fn parse(key: &str) -> Result<Self, String> {
        match key {
            "RECEIPT" => Ok(NoticeKind::Receipt),
            "FULFILLED" => Ok(NoticeKind::Fulfilled),
            "CANCELLED" => Ok(NoticeKind::Cancelled),
            other => match other.strip_prefix("REFUND#").map(RefundId::parse) {
                Some(Ok(id)) => Ok(NoticeKind::Refund(id)),
                _ => Err(format!("unknown notice kind {other}")),
            },
        }
    }
}

impl Serialize for NoticeKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for NoticeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        NoticeKind::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// A notice's place in the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NoticeId {
    pub order: OrderId,
    pub kind: NoticeKind,
}

impl NoticeId {
    /// The receipt of `order`.
    pub fn receipt(order: &OrderId) -> Self {
        Self { order: order.clone(), kind: NoticeKind::Receipt }
    }
}

impl fmt::Display for NoticeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.order, self.kind.key())
    }
}

/// An event's notice: its kind and the order as the event left it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub order: Order,
}

impl Notice {
    pub fn id(&self) -> NoticeId {
        NoticeId { order: self.order.id.clone(), kind: self.kind.clone() }
    }

    pub fn email(&self) -> EmailMessage {
        match &self.kind {
            NoticeKind::Receipt => emails::receipt(&self.order),
            NoticeKind::Fulfilled => emails::fulfilled(&self.order),
            NoticeKind::Cancelled => emails::cancelled(&self.order),
            NoticeKind::Refund(id) => emails::refunded(&self.order, id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_as_keyed() {
        let refund = NoticeKind::Refund(RefundId::generate());
        for kind in [NoticeKind::Receipt, NoticeKind::Fulfilled, NoticeKind::Cancelled, refund] {
            assert_eq!(NoticeKind::parse(&kind.key()), Ok(kind));
        }
        assert!(NoticeKind::parse("REFUND#").is_err());
        assert!(NoticeKind::parse("SPAM").is_err());
    }
}
