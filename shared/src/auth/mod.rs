//! Accounts and sessions (API.md "Auth"), to OWASP ASVS level 2.

mod access_token;
mod accounts;
mod authenticate;
mod email;
mod lockout;
mod password;
mod role;
mod session;
mod user;

pub use access_token::{ACCESS_TOKEN_TTL, AccessClaims, AccessToken, AccessTokens, KeyId, PublicKey, TokenSigner};
pub use accounts::{Accounts, Credentials, Registration, TokenGrant};
pub use authenticate::{Authenticator, Principal};
pub use email::Email;
pub use lockout::{Admission, AttemptSlot, LOGIN_LOCKOUT, LockoutPolicy};
pub use password::{Password, PasswordHashString, PasswordHasher};
pub use role::{Account, Role, Roles};
pub use session::{RefreshHash, RefreshToken, SESSION_TTL, Session};
pub use user::{DisplayName, User, UserProfile};
