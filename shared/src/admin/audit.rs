//! The audit log: one entry per admin write, written in the same atomic
//! write as the change, so there is no change without its entry and no entry
//! without its change.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::auth::Email;
use crate::id::{AuditId, UserId};

/// Who made a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: UserId,
    pub email: Email,
}

/// What a change was made to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditTarget {
    pub kind: String,
    pub id: String,
}

/// API.md's audit entry `{id, at, actor, action, target, before, after}`;
/// `before` is null for a creation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: AuditId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub action: String,
    pub target: AuditTarget,
    pub before: Value,
    pub after: Value,
}
