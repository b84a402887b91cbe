//! Registering, logging in, refreshing and logging out: the account rules,
//! over the `Users`, `Sessions` and `LoginAttempts` ports.

use std::sync::{Arc, OnceLock};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::access_token::{ACCESS_TOKEN_TTL, AccessTokens, TokenSigner};
use super::authenticate::Principal;
use super::email::Email;
use super::lockout::{AttemptSlot, LOGIN_LOCKOUT};
use super::password::{Password, PasswordHashString, PasswordHasher};
use super::role::{Account, Role};
use super::session::{RefreshKey, RefreshToken, Session};
use super::user::{DisplayName, User, UserProfile};
use crate::clock::Clock;
use crate::error::Error;
use crate::id::UserId;
use crate::keys::{Keys, LoginKey, SigningKey};
use crate::metrics;
use crate::ports::{LoginAttempts, Rotation, Sessions, Users, Written};

/// A new account as the client asked for it, already valid.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub name: DisplayName,
}

/// Credentials offered at login. The email is kept raw: one that is not even
/// an address is just another unknown account, answered the same way.
#[derive(Debug)]
pub struct Credentials {
    pub email: String,
    pub password: Password,
}

/// The body of a successful login or refresh; its `Debug` hides the tokens.
#[derive(Debug, Serialize)]
pub struct TokenGrant {
    #[serde(serialize_with = "exposed")]
    pub access_token: SecretString,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(serialize_with = "exposed")]
    pub refresh_token: SecretString,
}

/// A token leaves the process only in the body it was issued in.
fn exposed<S: serde::Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

#[derive(Clone)]
pub struct Accounts {
    users: Arc<dyn Users>,
    sessions: Arc<dyn Sessions>,
    attempts: Arc<dyn LoginAttempts>,
    key: LoginKey,
    access: AccessTokens,
    hasher: PasswordHasher,
    clock: Arc<dyn Clock>,
}

impl Accounts {
    pub fn new(
        users: Arc<dyn Users>,
        sessions: Arc<dyn Sessions>,
        attempts: Arc<dyn LoginAttempts>,
        keys: &Keys,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let (key, access) = (keys.login()?.clone(), keys.access.clone());
        Ok(Self { users, sessions, attempts, key, access, hasher: PasswordHasher::default(), clock })
    }

    pub async fn register(&self, registration: Registration) -> Result<Account, Error> {
        let Registration { email, password, name } = registration;
        let hasher = self.hasher.clone();
        let password_hash = blocking(move || hasher.hash(&password)).await?;
        let user =
            User { profile: UserProfile { id: UserId::generate(), email, name }, password_hash, role: Role::Customer };
        match self.users.create(&user).await? {
            Written::Created => Ok(Account::from(&user)),
            Written::AlreadyExists => Err(Error::EmailTaken),
        }
    }

    pub async fn login(&self, credentials: Credentials) -> Result<TokenGrant, Error> {
        let Credentials { email, password } = credentials;
        let Ok(email) = Email::parse(&email) else {
            self.check_password(password, None).await?;
            metrics::login_failed();
            return Err(Error::InvalidCredentials);
        };
        let now = self.clock.unix_now();
        let (claim, user) =
            tokio::try_join!(self.attempts.take_attempt(&email, &LOGIN_LOCKOUT, now), self.users.by_email(&email))?;
        if let AttemptSlot::Locked { until } = claim {
            metrics::login_locked_out();
            return Err(Error::TooManyAttempts { retry_after_secs: (until - now).max(1) as u64 });
        }
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        // The secret is read (once, on a function's first login) while the
        // password is hashed, not after.
        let (matched, secret) = tokio::try_join!(self.check_password(password, stored), self.key.source.key())?;
        let user = match (matched, user) {
            (true, Some(user)) => user,
            _ => {
                metrics::login_failed();
                return Err(Error::InvalidCredentials);
            }
        };
        let (session, refresh) = Session::start(user.profile, now);
        tokio::try_join!(self.sessions.create(&session), self.attempts.clear(&email))?;
        self.grant(&secret, &session, refresh, now)
    }

    /// Swaps a refresh token for a new pair. A token that was already swapped
    /// means two parties hold it, so the whole session ends.
    pub async fn refresh(&self, presented: &str) -> Result<TokenGrant, Error> {
        let presented = RefreshToken::parse(presented).ok_or(Error::Unauthorized)?;
        let id = presented.session_id();
        let secret = self.key.source.key().await?;
        let refresh_key = RefreshKey::derive(&secret);
        let next = presented.successor(&refresh_key);
        let now = self.clock.unix_now();
        match self.sessions.rotate(&id, &presented.hash(), &next.hash(), now).await? {
            Rotation::Rotated(session) => self.grant(&secret, &session, next, now),
            // Only a token this session issued and rotated means it leaked;
            // a made-up one for a known session id changes nothing.
            Rotation::Mismatch(session) if presented.was_rotated_in(&session, &refresh_key) => {
                self.sessions.revoke(&id).await?;
                tracing::warn!(session_id = %id, "refresh token reused; session revoked");
                Err(Error::Unauthorized)
            }
            Rotation::Mismatch(_) | Rotation::Gone => Err(Error::Unauthorized),
        }
    }

    pub async fn logout(&self, principal: &Principal) -> Result<(), Error> {
        self.sessions.revoke(&principal.session_id).await
    }

    /// A token nobody could verify is not handed out: a secret changed
    /// without the stack's public keys (docs/operations.md) fails here,
    /// loudly, instead of as every other function's 401.
    fn grant(
        &self,
        secret: &SigningKey,
        session: &Session,
        refresh: RefreshToken,
        now: i64,
    ) -> Result<TokenGrant, Error> {
        let signer = TokenSigner::derive(secret, &self.key.kid);
        if !self.access.knows(&signer.public_key()) {
            return Err(Error::internal(format!(
                "login's secret and key id {} give a public key the functions are not configured with",
                self.key.kid
            )));
        }
        Ok(TokenGrant {
            access_token: signer.issue(&session.user.id, &session.id, now).expose().into(),
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL.as_secs(),
            refresh_token: refresh.expose().into(),
        })
    }

    async fn check_password(&self, password: Password, stored: Option<PasswordHashString>) -> Result<bool, Error> {
        let hasher = self.hasher.clone();
        blocking(move || hasher.verify(&password, stored.as_ref())).await
    }
}

/// Runs CPU-heavy work (Argon2id, ~50 ms of a core) off the async executor,
/// so one login does not stall every other request the process serves, and
/// on at most all cores but one, so a burst of logins cannot either: where
/// one process answers every route (`galley serve`), the surge run's ten
/// logins a second on two cores could otherwise hold both cores at once
/// and queue every read behind them (RELIABILITY.md). A function answers
/// one request at a time, so there the limit never waits.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    static HASHERS: OnceLock<Semaphore> = OnceLock::new();
    let hashers = HASHERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Semaphore::new(cores.saturating_sub(1).max(1))
    });
    let _turn = hashers.acquire().await.map_err(|e| Error::internal(format!("password turn: {e}")))?;
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::internal(format!("password task: {e}")))?
}
