//! The use cases, whatever the trigger: authenticate a caller, send a
//! message, renew the session. Holds what a warm container keeps: the
//! account, the Skype client and its session, and the stored token version.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OnceCell};

use crate::config::Config;
use crate::domain::{Caller, Format, MessageText};
use crate::error::AppError;
use crate::skype::{SkypeClient, parse_token_file, write_token_file};
use crate::state::{Account, AccountSource, StoreError, TokenStore, Version};

/// A message to send, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    /// The channel as the caller named it (alias or conversation id).
    pub channel: String,
    /// The text.
    pub text: MessageText,
    /// How to read it.
    pub format: Format,
    /// The caller's de-duplication key, if any.
    pub idempotency_key: Option<String>,
}

/// A message Skype accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Skype's message id.
    pub id: String,
    /// The conversation id it went to.
    pub channel: String,
    /// Skype's arrival time, Unix milliseconds.
    pub arrival_time: Option<u64>,
}

/// The session's lifetime after a refresh (never the tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiries {
    /// Skype token expiry, Unix seconds.
    pub skype_token: u64,
    /// Registration token expiry, Unix seconds.
    pub registration_token: u64,
    /// Whether this call renewed anything.
    pub renewed: bool,
}

/// The function's state for the life of a container.
pub struct App {
    config: Config,
    accounts: Box<dyn AccountSource>,
    tokens: Box<dyn TokenStore>,
    /// Loaded on the first invocation, not at start, so a cold start
    /// reaches the runtime API as fast as an empty function.
    ready: OnceCell<Ready>,
}

struct Ready {
    account: Account,
    skype: SkypeClient,
    saved: Mutex<Saved>,
}

/// What the token store holds, as far as we know.
struct Saved {
    generation: u64,
    version: Option<Version>,
}

impl App {
    /// An app that will read its account and session from these stores.
    pub fn new(
        config: Config,
        accounts: Box<dyn AccountSource>,
        tokens: Box<dyn TokenStore>,
    ) -> Self {
        Self {
            config,
            accounts,
            tokens,
            ready: OnceCell::new(),
        }
    }

    /// Who holds `presented` (`None`: no key was presented).
    pub async fn authenticate(&self, presented: Option<&str>) -> Result<Caller, AppError> {
        let ready = self.ready().await?;
        presented
            .filter(|key| !key.trim().is_empty())
            .and_then(|key| ready.account.keys.authenticate(key))
            .ok_or_else(AppError::unauthorized)
    }

    /// Sends `request` for `caller`; saves the session if it was renewed.
    pub async fn send(
        &self,
        caller: &Caller,
        request: &SendRequest,
    ) -> Result<Delivered, AppError> {
        let ready = self.ready().await?;
        let target = ready.account.channels.resolve(&request.channel)?;
        if !caller.may_post_to(&request.channel, &target, &ready.account.channels) {
            return Err(AppError::new(
                403,
                "channel_not_allowed",
                format!("this API key may not post to {}", request.channel.trim()),
            ));
        }
        let message = request.format.render(&request.text);
        let result = ready.skype.send(&target, &message).await;
        // Save a renewed session even when the send itself failed.
        self.save_session(ready).await;
        let sent = result?;
        tracing::info!(caller = caller.name(), channel = %target, id = %sent.id, "message posted");
        Ok(Delivered {
            id: sent.id,
            channel: target.to_string(),
            arrival_time: sent.arrival_time,
        })
    }

    /// Renews whatever expires within the configured window.
    pub async fn refresh(&self) -> Result<Expiries, AppError> {
        let ready = self.ready().await?;
        let before = ready.skype.generation();
        let result = ready
            .skype
            .refresh_if_expiring(self.config.refresh_window)
            .await;
        self.save_session(ready).await;
        let session = result?;
        Ok(Expiries {
            skype_token: session.auth.expires_at,
            registration_token: session.registration.expires_at,
            renewed: ready.skype.generation() != before,
        })
    }

    /// The refresh window (for messages).
    pub fn refresh_window(&self) -> Duration {
        self.config.refresh_window
    }

    async fn ready(&self) -> Result<&Ready, AppError> {
        self.ready.get_or_try_init(|| self.load()).await
    }

    async fn load(&self) -> Result<Ready, AppError> {
        let account = self.accounts.load().await?;
        let skype = SkypeClient::new(
            self.config.skype_urls.clone(),
            self.config.skype_options.clone(),
            account.credentials.clone(),
        )?;
        let stored = self.tokens.load().await?;
        let mut version = None;
        if let Some(stored) = stored {
            match parse_token_file(&stored.text) {
                Ok(session) => skype.restore(session),
                // A broken file is replaced by the next login.
                Err(err) => tracing::warn!(error = %err, "ignoring the stored token file"),
            }
            version = Some(stored.version);
        }
        let saved = Mutex::new(Saved {
            generation: skype.generation(),
            version,
        });
        Ok(Ready {
            account,
            skype,
            saved,
        })
    }

    /// Writes the session back if it changed, without ever overwriting a
    /// newer one: on a conflict, the stored session is adopted if it lasts
    /// longer than ours.
    async fn save_session(&self, ready: &Ready) {
        let mut saved = ready.saved.lock().await;
        let generation = ready.skype.generation();
        if generation == saved.generation {
            return;
        }
        let Some(session) = ready.skype.session() else {
            return;
        };
        let text = write_token_file(&session);
        match self.tokens.save(&text, saved.version.as_ref()).await {
            Ok(version) => {
                tracing::info!(expires_at = session.expires_at(), "session saved");
                *saved = Saved {
                    generation,
                    version: Some(version),
                };
            }
            Err(StoreError::Conflict) => {
                let Ok(Some(stored)) = self.tokens.load().await else {
                    return;
                };
                if let Ok(theirs) = parse_token_file(&stored.text)
                    && theirs.expires_at() >= session.expires_at()
                {
                    tracing::info!("a newer stored session was found; adopting it");
                    ready.skype.restore(theirs);
                    *saved = Saved {
                        generation: ready.skype.generation(),
                        version: Some(stored.version),
                    };
                    return;
                }
                if let Ok(version) = self.tokens.save(&text, Some(&stored.version)).await {
                    *saved = Saved {
                        generation,
                        version: Some(version),
                    };
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not save the session"),
        }
    }
}

/// Shared between concurrent invocations.
pub type SharedApp = Arc<App>;
