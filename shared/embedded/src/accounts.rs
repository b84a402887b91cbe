//! Users, sessions and login attempts over their SQLite tables. Each
//! conditional rule runs inside one `BEGIN IMMEDIATE` transaction, which
//! makes it atomic across threads and processes alike.

use async_trait::async_trait;
use galley_shared::Error;
use galley_shared::auth::{
    Admission, AttemptSlot, DisplayName, Email, LockoutPolicy, PasswordHashString, RefreshHash, Role, Session, User,
    UserProfile,
};
use galley_shared::id::{SessionId, UserId};
use galley_shared::ports::{LoginAttempts, Rotation, Sessions, Users, Written};
use rusqlite::{OptionalExtension, Row, params};

use crate::EmbeddedStore;
use crate::db::store_error;

fn corrupt(detail: impl std::fmt::Display) -> Error {
    Error::internal(format!("corrupt account row: {detail}"))
}

fn text(row: &Row<'_>, i: usize) -> Result<String, Error> {
    row.get(i).map_err(store_error)
}

/// Columns: id, user_id, email, name, refresh_hash, created_at, expires_at, rotations.
const SESSION_COLUMNS: &str = "id, user_id, email, name, refresh_hash, created_at, expires_at, rotations";

fn session_from_row(row: &Row<'_>) -> Result<Session, Error> {
    Ok(Session {
        id: SessionId::parse(&text(row, 0)?).map_err(corrupt)?,
        user: UserProfile {
            id: UserId::parse(&text(row, 1)?).map_err(corrupt)?,
            email: Email::parse(&text(row, 2)?).map_err(corrupt)?,
            name: DisplayName::parse(&text(row, 3)?).map_err(corrupt)?,
        },
        refresh_hash: RefreshHash::from_stored(text(row, 4)?),
        created_at: row.get(5).map_err(store_error)?,
        expires_at: row.get(6).map_err(store_error)?,
        rotations: row.get(7).map_err(store_error)?,
    })
}

fn live_session(conn: &rusqlite::Connection, id: &str, now: i64) -> Result<Option<Session>, Error> {
    let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1 AND expires_at > ?2");
    let mut statement = conn.prepare_cached(&sql).map_err(store_error)?;
    let mut rows = statement.query(params![id, now]).map_err(store_error)?;
    match rows.next().map_err(store_error)? {
        Some(row) => session_from_row(row).map(Some),
        None => Ok(None),
    }
}

#[async_trait]
impl Users for EmbeddedStore {
    async fn create(&self, user: &User) -> Result<Written, Error> {
        let user = user.clone();
        self.db
            .write(move |tx| {
                let p = &user.profile;
                let inserted = tx
                    .execute(
                        "INSERT INTO users (email, id, name, password_hash, role) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (email) DO NOTHING",
                        params![
                            p.email.as_str(),
                            p.id.as_str(),
                            p.name.as_str(),
                            user.password_hash.as_str(),
                            user.role.as_str()
                        ],
                    )
                    .map_err(store_error)?;
                Ok(if inserted == 1 { Written::Created } else { Written::AlreadyExists })
            })
            .await
    }

    async fn by_email(&self, email: &Email) -> Result<Option<User>, Error> {
        let email = email.clone();
        self.db
            .read(move |conn| {
                let row = conn
                    .query_row(
                        "SELECT id, name, password_hash, role FROM users WHERE email = ?1",
                        [email.as_str()],
                        |row| {
                            Ok((
                                row.get::<_, String>(0)?,
                                row.get::<_, String>(1)?,
                                row.get::<_, String>(2)?,
                                row.get::<_, String>(3)?,
                            ))
                        },
                    )
                    .optional()
                    .map_err(store_error)?;
                let Some((id, name, hash, role)) = row else { return Ok(None) };
                let profile = UserProfile {
                    id: UserId::parse(&id).map_err(corrupt)?,
                    email,
                    name: DisplayName::parse(&name).map_err(corrupt)?,
                };
                let password_hash = PasswordHashString::from_stored(hash);
                Ok(Some(User { profile, password_hash, role: Role::from_stored(Some(&role)) }))
            })
            .await
    }

    async fn set_role(&self, email: &Email, role: Role) -> Result<bool, Error> {
        let email = email.clone();
        self.db
            .write(move |tx| {
                let changed = tx
                    .execute("UPDATE users SET role = ?2 WHERE email = ?1", params![email.as_str(), role.as_str()])
                    .map_err(store_error)?;
                Ok(changed == 1)
            })
            .await
    }
}

#[async_trait]
impl Sessions for EmbeddedStore {
    async fn create(&self, session: &Session) -> Result<(), Error> {
        let s = session.clone();
        self.db
            .write(move |tx| {
                // Expired sessions go when new ones come, as DynamoDB's TTL removes them there.
                tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [s.created_at]).map_err(store_error)?;
                tx.execute(
                    &format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                    params![
                        s.id.as_str(),
                        s.user.id.as_str(),
                        s.user.email.as_str(),
                        s.user.name.as_str(),
                        s.refresh_hash.as_str(),
                        s.created_at,
                        s.expires_at,
                        s.rotations
                    ],
                )
                .map_err(store_error)?;
                Ok(())
            })
            .await
    }

    async fn session(&self, id: &SessionId, now: i64) -> Result<Option<Session>, Error> {
        let id = id.clone();
        self.db.read(move |conn| live_session(conn, id.as_str(), now)).await
    }

    async fn rotate(
        &self,
        id: &SessionId,
        presented: &RefreshHash,
        next: &RefreshHash,
        now: i64,
    ) -> Result<Rotation, Error> {
        let (id, presented, next) = (id.clone(), presented.clone(), next.clone());
        self.db
            .write(move |tx| {
                let Some(mut session) = live_session(tx, id.as_str(), now)? else { return Ok(Rotation::Gone) };
                if session.refresh_hash != presented {
                    return Ok(Rotation::Mismatch(session));
                }
                tx.execute(
                    "UPDATE sessions SET refresh_hash = ?1, rotations = rotations + 1 WHERE id = ?2",
                    params![next.as_str(), id.as_str()],
                )
                .map_err(store_error)?;
                session.refresh_hash = next;
                session.rotations += 1;
                Ok(Rotation::Rotated(session))
            })
            .await
    }

    async fn revoke(&self, id: &SessionId) -> Result<(), Error> {
        let id = id.clone();
        self.db
            .write(move |tx| {
                tx.execute("DELETE FROM sessions WHERE id = ?1", [id.as_str()]).map_err(store_error)?;
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl LoginAttempts for EmbeddedStore {
    /// The latest attempts' times and the new one, in one write transaction.
    async fn take_attempt(&self, email: &Email, policy: &LockoutPolicy, now: i64) -> Result<AttemptSlot, Error> {
        let (email, policy) = (email.clone(), *policy);
        self.db
            .write(move |tx| {
                let stored: Option<String> = tx
                    .query_row("SELECT times FROM login_attempts WHERE email = ?1", [email.as_str()], |row| row.get(0))
                    .optional()
                    .map_err(store_error)?;
                let times: Vec<i64> = match stored {
                    Some(text) => serde_json::from_str(&text).map_err(|e| corrupt(format!("attempt times: {e}")))?,
                    None => Vec::new(),
                };
                let admission = policy.admit(&times, now);
                if let Admission::Granted { times } = &admission {
                    let text = serde_json::to_string(times).map_err(Error::internal)?;
                    tx.execute(
                        "INSERT INTO login_attempts (email, times) VALUES (?1, ?2)
                         ON CONFLICT (email) DO UPDATE SET times = excluded.times",
                        params![email.as_str(), text],
                    )
                    .map_err(store_error)?;
                }
                Ok(AttemptSlot::from(&admission))
            })
            .await
    }

    async fn clear(&self, email: &Email) -> Result<(), Error> {
        let email = email.clone();
        self.db
            .write(move |tx| {
                tx.execute("DELETE FROM login_attempts WHERE email = ?1", [email.as_str()]).map_err(store_error)?;
                Ok(())
            })
            .await
    }
}
