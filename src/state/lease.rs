//! One login at a time across containers: a lease held in a lock object
//! written with conditional writes (create-if-absent, or take over an
//! expired lease by its version), and a bounded wait for the winner's
//! session in the token store.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::token_store::{StoreError, TokenStore, Version};
use super::vault::SessionVault;
use crate::clock::unix_seconds as now;
use crate::domain::LoginOutcome;
use crate::metrics;
use crate::skype::{LoginGate, Session, SkypeError};

/// Timing of the lease.
#[derive(Debug, Clone)]
pub struct LeaseTiming {
    /// A lease not released after this long is considered abandoned.
    pub lease_ttl: Duration,
    /// How long a loser waits for the winner's session.
    pub wait: Duration,
    /// How often it looks.
    pub poll: Duration,
    /// A stored session must outlive this to be adopted.
    pub margin: Duration,
}

impl Default for LeaseTiming {
    fn default() -> Self {
        Self {
            lease_ttl: Duration::from_secs(60),
            wait: Duration::from_secs(10),
            poll: Duration::from_millis(250),
            margin: Duration::from_secs(5 * 60),
        }
    }
}

/// The [`LoginGate`] of a shared token store.
pub struct StoreLoginGate {
    vault: Arc<SessionVault>,
    lock: Box<dyn TokenStore>,
    timing: LeaseTiming,
    owner: String,
    /// The version of the lease we hold, if we hold it.
    held: Mutex<Option<Version>>,
}

/// How the last login attempt (by any instance) ended: kept in the lock
/// object when the lease is released, so `GET /health` can tell without a
/// write of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    /// When it ended, Unix seconds.
    pub at: u64,
    /// How it ended.
    pub outcome: LoginOutcome,
}

/// How a login's result counts (health, metrics, alarms).
pub fn login_outcome(result: Result<&Session, &SkypeError>) -> LoginOutcome {
    match result {
        Ok(_) => LoginOutcome::Succeeded,
        Err(
            SkypeError::LoginWall { .. }
            | SkypeError::TwoFactorUnsupported
            | SkypeError::LoginIncomplete,
        ) => LoginOutcome::LoginWall,
        Err(SkypeError::LoginRefused(_)) => LoginOutcome::Refused,
        Err(SkypeError::LoginRateLimited { .. }) => LoginOutcome::Throttled,
        Err(_) => LoginOutcome::Failed,
    }
}

/// The lock object's text: who holds it and until when, and the last
/// login's outcome once released.
fn lease_text(owner: &str, expires_at: u64, last: Option<&LoginRecord>) -> String {
    let mut text = format!("owner={owner}\nexpires_at={expires_at}\n");
    if let Some(last) = last {
        text.push_str(&format!(
            "last_login_at={}\nlast_login={}\n",
            last.at,
            last.outcome.as_str()
        ));
    }
    text
}

fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
        .map(str::trim)
}

fn lease_expiry(text: &str) -> u64 {
    field(text, "expires_at")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

fn last_login(text: &str) -> Option<LoginRecord> {
    let at = field(text, "last_login_at")?.parse().ok()?;
    let outcome = field(text, "last_login")?;
    let outcome = LoginOutcome::ALL
        .into_iter()
        .find(|known| known.as_str() == outcome)?;
    Some(LoginRecord { at, outcome })
}

impl StoreLoginGate {
    /// A gate sharing sessions through `vault`, with its lease in `lock`.
    pub fn new(vault: Arc<SessionVault>, lock: Box<dyn TokenStore>, timing: LeaseTiming) -> Self {
        Self {
            vault,
            lock,
            timing,
            owner: format!("{}-{:x}", std::process::id(), fastrand::u64(..)),
            held: Mutex::new(None),
        }
    }

    /// Takes the lease if it is free or abandoned.
    async fn try_acquire(&self) -> Result<bool, StoreError> {
        let text = lease_text(&self.owner, now() + self.timing.lease_ttl.as_secs(), None);
        let expected = match self.lock.load().await? {
            None => None,
            Some(current) if lease_expiry(&current.text) <= now() => Some(current.version),
            Some(_) => return Ok(false),
        };
        match self.lock.save(&text, expected.as_ref()).await {
            Ok(version) => {
                *self.held.lock().await = Some(version);
                Ok(true)
            }
            Err(StoreError::Conflict) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// How the last login attempt ended, as the lock object tells.
    pub async fn last_login(&self) -> Result<Option<LoginRecord>, StoreError> {
        Ok(self
            .lock
            .load()
            .await?
            .and_then(|stored| last_login(&stored.text)))
    }

    async fn release(&self, outcome: Option<&LoginRecord>) {
        let Some(version) = self.held.lock().await.take() else {
            return;
        };
        // Released = expired; a conditional write, so a lease someone took
        // over in the meantime is left alone.
        if let Err(err) = self
            .lock
            .save(&lease_text(&self.owner, 0, outcome), Some(&version))
            .await
        {
            tracing::warn!(error = %err, "could not release the login lease");
        }
    }
}

fn unavailable(err: StoreError) -> SkypeError {
    // The store is the only way to know whether someone else is logging
    // in; without it we must not risk a second login.
    SkypeError::Connection(format!("cannot coordinate the login: {err}"))
}

impl StoreLoginGate {
    /// A stored session that outlives the margin and is not the one
    /// Skype refused, if there is one.
    async fn stored_fresh(&self, refused: Option<&Session>) -> Result<Option<Session>, SkypeError> {
        let stored = self
            .vault
            .load_fresh(now(), self.timing.margin)
            .await
            .map_err(unavailable)?;
        Ok(stored.filter(|session| !refused.is_some_and(|r| session.same_tokens(r))))
    }
}

#[async_trait::async_trait]
impl LoginGate for StoreLoginGate {
    async fn before_login(&self, refused: Option<&Session>) -> Result<Option<Session>, SkypeError> {
        if let Some(session) = self.stored_fresh(refused).await? {
            return Ok(Some(session));
        }
        if self.try_acquire().await.map_err(unavailable)? {
            // Someone may have finished just before we took the lease.
            if let Some(session) = self.stored_fresh(refused).await? {
                self.release(None).await;
                return Ok(Some(session));
            }
            return Ok(None);
        }
        tracing::info!("another instance is logging in; waiting for its session");
        let deadline = tokio::time::Instant::now() + self.timing.wait;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(self.timing.poll).await;
            if let Some(session) = self.stored_fresh(refused).await? {
                return Ok(Some(session));
            }
            // The holder may have died: its lease then expires.
            if self.try_acquire().await.map_err(unavailable)? {
                return Ok(None);
            }
        }
        Err(SkypeError::LoginInProgress)
    }

    async fn stored_session(
        &self,
        refused: Option<&Session>,
    ) -> Result<Option<Session>, SkypeError> {
        self.stored_fresh(refused).await
    }

    async fn after_login(&self, outcome: Result<&Session, &SkypeError>) {
        if let Ok(session) = outcome
            && let Err(err) = self.vault.save(session).await
        {
            tracing::warn!(error = %err, "could not share the new session");
        }
        let record = LoginRecord {
            at: now(),
            outcome: login_outcome(outcome),
        };
        tracing::info!(outcome = record.outcome.as_str(), "login finished");
        metrics::login(record.outcome);
        self.release(Some(&record)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_text_round_trips_its_expiry() {
        assert_eq!(lease_expiry(&lease_text("me", 1234, None)), 1234);
        assert_eq!(lease_expiry("garbage"), 0);
        assert_eq!(last_login(&lease_text("me", 1234, None)), None);
    }

    #[test]
    fn a_released_lease_keeps_the_last_outcome() {
        let record = LoginRecord {
            at: 99,
            outcome: login_outcome(Err(&SkypeError::LoginWall {
                action: "verify".into(),
            })),
        };
        let text = lease_text("me", 0, Some(&record));
        assert_eq!(last_login(&text), Some(record));
        assert_eq!(lease_expiry(&text), 0);
        assert_eq!(last_login("last_login_at=1\nlast_login=bogus\n"), None);
    }

    fn session(token: &str, expires_at: u64) -> Session {
        crate::skype::parse_token_file(&format!(
            "fred.2\n{token}\n{expires_at}\nregistrationToken=r\n{expires_at}\nhttps://h/v1\n"
        ))
        .unwrap()
    }

    #[tokio::test]
    async fn the_stored_session_is_offered_when_fresh_and_not_the_refused_one() {
        use super::super::token_store::FileTokenStore;
        let dir = std::env::temp_dir().join(format!("lease-test-{:x}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let vault = Arc::new(SessionVault::new(Box::new(FileTokenStore::new(
            dir.join("session"),
        ))));
        let gate = StoreLoginGate::new(
            vault.clone(),
            Box::new(FileTokenStore::new(dir.join("lock"))),
            LeaseTiming::default(),
        );
        assert!(gate.stored_session(None).await.unwrap().is_none());

        let good = session("uploaded", now() + 86_400);
        vault.save(&good).await.unwrap();
        let offered = gate.stored_session(None).await.unwrap().unwrap();
        assert!(offered.same_tokens(&good));
        assert!(gate.stored_session(Some(&good)).await.unwrap().is_none());
        // Asking takes no lease: a login may still be coordinated.
        assert!(gate.lock.load().await.unwrap().is_none());

        vault.save(&session("stale", now() + 60)).await.unwrap();
        assert!(gate.stored_session(None).await.unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
