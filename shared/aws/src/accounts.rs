//! Users (`USER#<email>` / `USER`), sessions (`SESSION#<id>` / `SESSION`) and
//! login attempts (`LOGIN#<email>` / `ATTEMPTS`). Every rule is one
//! conditional write; sessions and attempts carry `expires_at` for TTL.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use galley_shared::Error;
use galley_shared::auth::{
    Admission, AttemptSlot, DisplayName, Email, LockoutPolicy, PasswordHashString, RefreshHash, Role, Session, User,
    UserProfile,
};
use galley_shared::id::{SessionId, UserId};
use galley_shared::ports::{LoginAttempts, Rotation, Sessions, Users, Written};

use crate::DynamoStore;
use crate::errors::{applied, condition_failure, sdk_error};
use crate::item::{Item, Reader, key, n, s};
use crate::transact::RETRY;

const USER_SK: &str = "USER";
const SESSION_SK: &str = "SESSION";
const ATTEMPTS_SK: &str = "ATTEMPTS";

fn user_key(email: &Email) -> Item {
    key(format!("USER#{email}"), USER_SK)
}

/// An account's item: the profile, the password's PHC string and the role.
pub(crate) fn user_item(user: &User) -> Item {
    let p = &user.profile;
    let mut item = user_key(&p.email);
    item.insert("id".into(), s(p.id.as_str()));
    item.insert("email".into(), s(p.email.as_str()));
    item.insert("name".into(), s(p.name.as_str()));
    item.insert("password_hash".into(), s(user.password_hash.as_str()));
    item.insert("role".into(), s(user.role.as_str()));
    item
}

fn session_key(id: &SessionId) -> Item {
    key(format!("SESSION#{id}"), SESSION_SK)
}

fn attempts_key(email: &Email) -> Item {
    key(format!("LOGIN#{email}"), ATTEMPTS_SK)
}

fn corrupt(detail: impl std::fmt::Display) -> Error {
    Error::internal(format!("corrupt account item: {detail}"))
}

/// The latest attempts' times and the item's version.
fn attempt_times(item: &Item) -> Result<(Vec<i64>, i64), Error> {
    let r = Reader(item);
    let times = match item.get("times") {
        Some(AttributeValue::L(values)) => values
            .iter()
            .map(|v| v.as_n().ok().and_then(|n| n.parse().ok()).ok_or_else(|| corrupt("attempt time")))
            .collect::<Result<Vec<i64>, Error>>()?,
        // An item of the fixed-window scheme: start afresh.
        _ => Vec::new(),
    };
    let version = if item.contains_key("version") { r.n("version")? } else { 0 };
    Ok((times, version))
}

fn session_from_item(item: &Item) -> Result<Session, Error> {
    let r = Reader(item);
    Ok(Session {
        id: SessionId::parse(r.s("id")?).map_err(corrupt)?,
        user: UserProfile {
            id: UserId::parse(r.s("user_id")?).map_err(corrupt)?,
            email: Email::parse(r.s("email")?).map_err(corrupt)?,
            name: DisplayName::parse(r.s("name")?).map_err(corrupt)?,
        },
        refresh_hash: RefreshHash::from_stored(r.s("refresh_hash")?.to_owned()),
        // Sessions written before rotations were counted have none.
        rotations: if item.contains_key("rotations") { r.n("rotations")? } else { 0 },
        created_at: r.n("created_at")?,
        expires_at: r.n("expires_at")?,
    })
}

#[async_trait]
impl Users for DynamoStore {
    async fn create(&self, user: &User) -> Result<Written, Error> {
        let item = user_item(user);
        let put = self
            .client
            .put_item()
            .table_name(self.table.as_ref())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(Written::Created),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(Written::AlreadyExists)
            }
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }

    /// Read consistently: a login right after registering must find the account.
    async fn by_email(&self, email: &Email) -> Result<Option<User>, Error> {
        let output = self.read_item(user_key(email)).await?;
        let Some(item) = output.as_ref() else { return Ok(None) };
        let r = Reader(item);
        let profile = UserProfile {
            id: UserId::parse(r.s("id")?).map_err(corrupt)?,
            email: email.clone(),
            name: DisplayName::parse(r.s("name")?).map_err(corrupt)?,
        };
        let password_hash = PasswordHashString::from_stored(r.s("password_hash")?.to_owned());
        // Accounts written before roles have none: customers.
        Ok(Some(User { profile, password_hash, role: Role::from_stored(r.opt_s("role")?) }))
    }

    async fn set_role(&self, email: &Email, role: Role) -> Result<bool, Error> {
        applied(
            self.client
                .update_item()
                .table_name(self.table.as_ref())
                .set_key(Some(user_key(email)))
                .update_expression("SET #role = :role")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":role", s(role.as_str())),
        )
        .await
    }
}

#[async_trait]
impl Sessions for DynamoStore {
    async fn create(&self, session: &Session) -> Result<(), Error> {
        let mut item = session_key(&session.id);
        item.insert("id".into(), s(session.id.as_str()));
        item.insert("user_id".into(), s(session.user.id.as_str()));
        item.insert("email".into(), s(session.user.email.as_str()));
        item.insert("name".into(), s(session.user.name.as_str()));
        item.insert("refresh_hash".into(), s(session.refresh_hash.as_str()));
        item.insert("rotations".into(), n(session.rotations));
        item.insert("created_at".into(), n(session.created_at));
        item.insert("expires_at".into(), n(session.expires_at));
        self.client
            .put_item()
            .table_name(self.table.as_ref())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", e))?;
        Ok(())
    }

    async fn session(&self, id: &SessionId, now: i64) -> Result<Option<Session>, Error> {
        // Strongly consistent: a logout must stop the next request at once.
        let output = self.read_item(session_key(id)).await?;
        match output.as_ref() {
            Some(item) => Ok(Some(session_from_item(item)?).filter(|s| s.expires_at > now)),
            None => Ok(None),
        }
    }

    async fn rotate(
        &self,
        id: &SessionId,
        presented: &RefreshHash,
        next: &RefreshHash,
        now: i64,
    ) -> Result<Rotation, Error> {
        let updated = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(session_key(id)))
            .update_expression("SET refresh_hash = :next ADD rotations :one")
            .condition_expression("refresh_hash = :presented AND expires_at > :now")
            .expression_attribute_values(":next", s(next.as_str()))
            .expression_attribute_values(":presented", s(presented.as_str()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match updated {
            Ok(output) => {
                let item = output.attributes().ok_or_else(|| Error::internal("UpdateItem returned no item"))?;
                Ok(Rotation::Rotated(session_from_item(item)?))
            }
            Err(e) => match condition_failure(&e) {
                Some(Some(old)) => match session_from_item(&old)? {
                    live if live.expires_at > now => Ok(Rotation::Mismatch(live)),
                    _ => Ok(Rotation::Gone),
                },
                Some(None) => Ok(Rotation::Gone),
                None => Err(sdk_error("UpdateItem", e)),
            },
        }
    }

    async fn revoke(&self, id: &SessionId) -> Result<(), Error> {
        self.client
            .delete_item()
            .table_name(self.table.as_ref())
            .set_key(Some(session_key(id)))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", e))?;
        Ok(())
    }
}

#[async_trait]
impl LoginAttempts for DynamoStore {
    /// The item keeps the latest attempts' times and a version; each
    /// attempt reads it and writes the new times conditioned on the version
    /// it read, so concurrent attempts (any instance) count each one once:
    /// a lost race reads again after `RETRY`'s backoff.
    async fn take_attempt(&self, email: &Email, policy: &LockoutPolicy, now: i64) -> Result<AttemptSlot, Error> {
        for round in 1..=RETRY.attempts {
            if round > 1 {
                RETRY.wait(round - 1).await;
            }
            let output = self.read_item(attempts_key(email)).await?;
            let (times, version) = match output.as_ref() {
                Some(item) => attempt_times(item)?,
                None => (Vec::new(), 0),
            };
            let times = match policy.admit(&times, now) {
                Admission::Granted { times } => times,
                locked => return Ok(AttemptSlot::from(&locked)),
            };
            let mut item = attempts_key(email);
            item.insert("times".into(), AttributeValue::L(times.iter().map(|&at| n(at)).collect()));
            item.insert("version".into(), n(version + 1));
            item.insert("expires_at".into(), n(now + policy.window_secs()));
            let written = self
                .client
                .put_item()
                .table_name(self.table.as_ref())
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR version = :seen")
                .expression_attribute_values(":seen", n(version))
                .send()
                .await;
            match written {
                Ok(_) => return Ok(AttemptSlot::Granted),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => continue,
                Err(e) => return Err(sdk_error("PutItem", e)),
            }
        }
        Err(Error::unavailable("login attempt record too contended"))
    }

    async fn clear(&self, email: &Email) -> Result<(), Error> {
        self.client
            .delete_item()
            .table_name(self.table.as_ref())
            .set_key(Some(attempts_key(email)))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", e))?;
        Ok(())
    }
}
