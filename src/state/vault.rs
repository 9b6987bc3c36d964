//! The shared session: the token file in its store, written back only when
//! it changed, and never over a newer one.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::token_store::{StoreError, StoredToken, TokenStore, Version};
use crate::skype::{MalformedTokenFile, Session, parse_token_file, write_token_file};

/// What a save did.
#[derive(Debug)]
pub enum Saved {
    /// Ours is stored now (or already was).
    Stored,
    /// The store held a newer session: use it instead of ours.
    Adopt(Session),
}

/// The token store plus what we last read from or wrote to it.
pub struct SessionVault {
    store: Box<dyn TokenStore>,
    known: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    version: Option<Version>,
    /// Digest of the text we know is stored: saving it again is a no-op.
    digest: Option<[u8; 32]>,
}

/// Of the text and its label: a session that learnt its display name is
/// saved again, once, so the next container need not ask Skype for it.
fn digest(text: &str, label: Option<&str>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(text.as_bytes());
    if let Some(label) = label {
        hasher.update([0]);
        hasher.update(label.as_bytes());
    }
    hasher.finalize().into()
}

/// The session a stored token file and its label describe.
fn session_of(stored: &StoredToken) -> Result<Session, MalformedTokenFile> {
    let mut session = parse_token_file(&stored.text)?;
    session.auth.display_name = stored.label.clone();
    Ok(session)
}

impl SessionVault {
    /// A vault over `store`.
    pub fn new(store: Box<dyn TokenStore>) -> Self {
        Self {
            store,
            known: Mutex::new(Known::default()),
        }
    }

    /// The stored session, if there is a readable one.
    pub async fn load(&self) -> Result<Option<Session>, StoreError> {
        let Some(stored) = self.store.load().await? else {
            return Ok(None);
        };
        let mut known = self.known.lock().await;
        known.version = Some(stored.version.clone());
        known.digest = Some(digest(&stored.text, stored.label.as_deref()));
        match session_of(&stored) {
            Ok(session) => Ok(Some(session)),
            Err(err) => {
                // A broken file is replaced by the next login.
                tracing::warn!(error = %err, "ignoring the stored token file");
                Ok(None)
            }
        }
    }

    /// The stored session if it stays valid for longer than `margin`.
    pub async fn load_fresh(
        &self,
        now: u64,
        margin: Duration,
    ) -> Result<Option<Session>, StoreError> {
        Ok(self
            .load()
            .await?
            .filter(|session| session.expires_at() > now + margin.as_secs()))
    }

    /// Writes `session` unless it is what the store holds; on a conflict,
    /// keeps the stored session if it lasts at least as long as ours.
    pub async fn save(&self, session: &Session) -> Result<Saved, StoreError> {
        let text = write_token_file(session);
        let label = session.auth.display_name.as_deref();
        let mut known = self.known.lock().await;
        if known.digest == Some(digest(&text, label)) {
            return Ok(Saved::Stored);
        }
        match self
            .store
            .save_labelled(&text, label, known.version.as_ref())
            .await
        {
            Ok(version) => {
                *known = Known {
                    version: Some(version),
                    digest: Some(digest(&text, label)),
                };
                tracing::info!(expires_at = session.expires_at(), "session saved");
                return Ok(Saved::Stored);
            }
            Err(StoreError::Conflict) => {}
            Err(err) => return Err(err),
        }
        // Someone wrote since we read: look before writing again.
        let stored = self.store.load().await?;
        let theirs = stored.as_ref().and_then(|s| session_of(s).ok());
        *known = Known {
            version: stored.as_ref().map(|s| s.version.clone()),
            digest: stored.as_ref().map(|s| digest(&s.text, s.label.as_deref())),
        };
        if let Some(theirs) = theirs {
            if theirs.same_tokens(session) {
                return Ok(Saved::Stored);
            }
            if theirs.expires_at() >= session.expires_at() {
                tracing::info!("the stored session is newer; adopting it");
                return Ok(Saved::Adopt(theirs));
            }
        }
        let version = self
            .store
            .save_labelled(&text, label, known.version.as_ref())
            .await?;
        *known = Known {
            version: Some(version),
            digest: Some(digest(&text, label)),
        };
        Ok(Saved::Stored)
    }
}
