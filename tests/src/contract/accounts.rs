//! Users, sessions and login-attempt contract cases.

use std::sync::Arc;

use galley_shared::auth::{
    AttemptSlot, DisplayName, Email, LOGIN_LOCKOUT, PasswordHashString, RefreshToken, Role, Session, User, UserProfile,
};
use galley_shared::id::{SessionId, UserId};
use galley_shared::ports::{Rotation, Sessions, Users, Written};

use super::Store;

const NOW: i64 = 1_795_000_000;

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

pub(super) fn user(raw_email: &str, name: &str) -> User {
    User {
        profile: UserProfile {
            id: UserId::generate(),
            email: email(raw_email),
            name: DisplayName::parse(name).unwrap(),
        },
        password_hash: PasswordHashString::from_stored(format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash-of-{name}")),
        role: Role::Customer,
    }
}

fn session(owner: &User, expires_at: i64) -> (Session, RefreshToken) {
    let id = SessionId::generate();
    let refresh = RefreshToken::generate(&id);
    let session = Session {
        id,
        user: owner.profile.clone(),
        refresh_hash: refresh.hash(),
        rotations: 0,
        created_at: NOW,
        expires_at,
    };
    (session, refresh)
}

pub async fn emails_are_unique_under_racing_registrations(store: Arc<impl Store>) {
    let ann = user("ann@example.com", "Ann");
    assert_eq!(Users::create(&*store, &ann).await.unwrap(), Written::Created);
    assert_eq!(store.by_email(&email(" ANN@example.com")).await.unwrap(), Some(ann.clone()));
    assert_eq!(Users::create(&*store, &user("Ann@Example.com", "Impostor")).await.unwrap(), Written::AlreadyExists);
    assert_eq!(store.by_email(&email("ann@example.com")).await.unwrap().unwrap().profile.name.as_str(), "Ann");
    assert_eq!(store.by_email(&email("bob@example.com")).await.unwrap(), None);

    let racers: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { Users::create(&*store, &user("race@example.com", &format!("Racer {i}"))).await })
        })
        .collect();
    let mut created = 0;
    for racer in racers {
        if racer.await.unwrap().unwrap() == Written::Created {
            created += 1;
        }
    }
    assert_eq!(created, 1, "exactly one registration wins an email");
}

pub async fn sessions_expire_rotate_and_revoke(store: Arc<impl Store>) {
    let ann = user("ann@example.com", "Ann");
    let (live, first) = session(&ann, NOW + 600);
    Sessions::create(&*store, &live).await.unwrap();
    assert_eq!(store.session(&live.id, NOW).await.unwrap(), Some(live.clone()));
    assert_eq!(store.session(&live.id, NOW + 600).await.unwrap(), None, "expired sessions are gone before TTL runs");

    let second = RefreshToken::generate(&live.id);
    let Rotation::Rotated(rotated) = store.rotate(&live.id, &first.hash(), &second.hash(), NOW).await.unwrap() else {
        panic!("current token must rotate")
    };
    assert_eq!(rotated.refresh_hash, second.hash());
    assert_eq!(rotated.user, ann.profile);
    assert_eq!(rotated.rotations, 1, "each rotation is counted");
    let third = RefreshToken::generate(&live.id);
    assert_eq!(
        store.rotate(&live.id, &first.hash(), &third.hash(), NOW).await.unwrap(),
        Rotation::Mismatch(rotated.clone()),
        "a stale hash changes nothing, and the session is shown as it is"
    );
    assert_eq!(store.session(&live.id, NOW).await.unwrap(), Some(rotated), "unchanged");
    assert_eq!(store.rotate(&live.id, &second.hash(), &third.hash(), NOW + 600).await.unwrap(), Rotation::Gone);

    store.revoke(&live.id).await.unwrap();
    assert_eq!(store.session(&live.id, NOW).await.unwrap(), None);
    assert_eq!(store.rotate(&live.id, &second.hash(), &third.hash(), NOW).await.unwrap(), Rotation::Gone);
    store.revoke(&live.id).await.unwrap();
    let ghost = SessionId::generate();
    assert_eq!(store.rotate(&ghost, &second.hash(), &third.hash(), NOW).await.unwrap(), Rotation::Gone);
}

pub async fn racing_refreshes_with_one_token_rotate_once(store: Arc<impl Store>) {
    let (live, token) = session(&user("ann@example.com", "Ann"), NOW + 600);
    Sessions::create(&*store, &live).await.unwrap();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (store, id, presented) = (store.clone(), live.id.clone(), token.hash());
            tokio::spawn(async move {
                let next = RefreshToken::generate(&id);
                store.rotate(&id, &presented, &next.hash(), NOW).await.unwrap()
            })
        })
        .collect();
    let mut rotated = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Rotation::Rotated(_) => rotated += 1,
            Rotation::Mismatch(_) => {}
            Rotation::Gone => panic!("the session is live"),
        }
    }
    assert_eq!(rotated, 1, "one token buys one rotation");
}

/// #20 item 5: the limit holds over any span of the window. A fixed window
/// let 4 guesses at its end and 5 more at the next one's start through.
pub async fn login_attempts_hold_the_limit_over_any_span_of_the_window(store: Arc<impl Store>) {
    let eve = email("eve@example.com");
    let window = LOGIN_LOCKOUT.window_secs();
    let take = |at: i64| {
        let (store, eve) = (store.clone(), eve.clone());
        async move { store.take_attempt(&eve, &LOGIN_LOCKOUT, at).await.unwrap() }
    };
    assert_eq!(take(NOW).await, AttemptSlot::Granted);
    for at in NOW + window - 4..NOW + window {
        assert_eq!(take(at).await, AttemptSlot::Granted, "attempt at +{}", at - NOW);
    }
    assert_eq!(take(NOW + window).await, AttemptSlot::Granted, "the first attempt left the window");
    for at in NOW + window + 1..NOW + window + 5 {
        assert_eq!(
            take(at).await,
            AttemptSlot::Locked { until: NOW + window - 4 + window },
            "5 attempts already within the window ending at +{}",
            at - NOW
        );
    }
}

pub async fn login_attempts_lock_after_the_limit_and_lift_after_the_window(store: Arc<impl Store>) {
    let ann = email("ann@example.com");
    let window = LOGIN_LOCKOUT.window_secs();
    for i in 0..5 {
        assert_eq!(
            store.take_attempt(&ann, &LOGIN_LOCKOUT, NOW + i).await.unwrap(),
            AttemptSlot::Granted,
            "attempt {i}"
        );
    }
    assert_eq!(
        store.take_attempt(&ann, &LOGIN_LOCKOUT, NOW + 10).await.unwrap(),
        AttemptSlot::Locked { until: NOW + window }
    );
    assert_eq!(
        store.take_attempt(&email("bob@example.com"), &LOGIN_LOCKOUT, NOW + 10).await.unwrap(),
        AttemptSlot::Granted,
        "other emails are not affected"
    );
    assert_eq!(
        store.take_attempt(&ann, &LOGIN_LOCKOUT, NOW + window).await.unwrap(),
        AttemptSlot::Granted,
        "window over"
    );
    for i in 1..5 {
        assert_eq!(store.take_attempt(&ann, &LOGIN_LOCKOUT, NOW + window + i).await.unwrap(), AttemptSlot::Granted);
    }
    assert!(matches!(
        store.take_attempt(&ann, &LOGIN_LOCKOUT, NOW + window + 5).await.unwrap(),
        AttemptSlot::Locked { .. }
    ));
    store.clear(&ann).await.unwrap();
    assert_eq!(
        store.take_attempt(&ann, &LOGIN_LOCKOUT, NOW + window + 6).await.unwrap(),
        AttemptSlot::Granted,
        "cleared"
    );
}

pub async fn parallel_login_attempts_never_exceed_the_limit(store: Arc<impl Store>) {
    let slots: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(
                async move { store.take_attempt(&email("ann@example.com"), &LOGIN_LOCKOUT, NOW).await.unwrap() },
            )
        })
        .collect();
    let mut granted = 0;
    for slot in slots {
        if slot.await.unwrap() == AttemptSlot::Granted {
            granted += 1;
        }
    }
    assert_eq!(granted, LOGIN_LOCKOUT.max_attempts, "a burst gets no more checks than the limit");
}
