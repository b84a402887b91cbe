use async_trait::async_trait;

use crate::auth::{RefreshHash, Session};
use crate::error::Error;
use crate::id::SessionId;

/// What a refresh-token rotation found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The presented hash was current; the session now holds the new one.
    Rotated(Session),
    /// The session is live but holds another hash: the presented token was
    /// already used (or made up). Nothing was changed; the session as it is.
    Mismatch(Session),
    /// No live session with this id.
    Gone,
}

/// Signed-in sessions. Every read and write treats a session past its
/// `expires_at` as gone, whether or not the store's TTL has removed it yet.
#[async_trait]
pub trait Sessions: Send + Sync {
    async fn create(&self, session: &Session) -> Result<(), Error>;

    async fn session(&self, id: &SessionId, now: i64) -> Result<Option<Session>, Error>;

    /// Replaces the refresh hash only if it still equals `presented` (a
    /// conditional write: of two refreshes racing with one token, one wins),
    /// counting the rotation.
    async fn rotate(
        &self,
        id: &SessionId,
        presented: &RefreshHash,
        next: &RefreshHash,
        now: i64,
    ) -> Result<Rotation, Error>;

    /// Ends the session; revoking a gone session is not an error.
    async fn revoke(&self, id: &SessionId) -> Result<(), Error>;
}
