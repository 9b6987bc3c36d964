//! The use cases, whatever the trigger: authenticate a caller, send a
//! message, renew the session. Holds what a warm container keeps: the
//! account, the Skype client and its session, and the stored token version.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OnceCell};

use backon::{ExponentialBuilder, Retryable};

use crate::config::Config;
use crate::deadline::Deadline;
use crate::domain::{Caller, Format, MessageText};
use crate::error::AppError;
use crate::idempotency::{Claim, Ledger};
use crate::skype::{ConversationId, LoginGate, OutgoingMessage, SkypeClient, SkypeError};
use crate::state::{
    Account, AccountCache, LeaseTiming, Saved, SessionVault, StoreLoginGate, Stores,
};

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
    accounts: AccountCache,
    vault: Arc<SessionVault>,
    gate: Arc<StoreLoginGate>,
    ledger: Ledger,
    /// Built on the first invocation, not at start, so a cold start
    /// reaches the runtime API as fast as an empty function.
    ready: OnceCell<Ready>,
}

struct Ready {
    skype: SkypeClient,
    /// The account whose credentials the client holds.
    account: Mutex<Arc<Account>>,
    /// The session generation last saved (or loaded).
    saved_generation: Mutex<u64>,
}

impl App {
    /// An app that will read its account and session from `stores`.
    pub fn new(config: Config, stores: Stores) -> Self {
        let vault = Arc::new(SessionVault::new(stores.tokens));
        let timing = LeaseTiming {
            wait: config.login_wait,
            margin: config.skype_options.renew_margin,
            ..LeaseTiming::default()
        };
        let gate = Arc::new(StoreLoginGate::new(vault.clone(), stores.lock, timing));
        let accounts = AccountCache::new(
            stores.accounts,
            config.secret_ttl,
            config.secret_miss_interval,
        );
        let ledger = Ledger::new(stores.records, IDEMPOTENCY_CLAIM_TTL);
        Self {
            config,
            accounts,
            vault,
            gate,
            ledger,
            ready: OnceCell::new(),
        }
    }

    /// Who holds `presented` (`None`: no key was presented).
    pub async fn authenticate(&self, presented: Option<&str>) -> Result<Caller, AppError> {
        let presented = presented.filter(|key| !key.trim().is_empty());
        let account = self.account().await?;
        let Some(key) = presented else {
            return Err(AppError::unauthorized());
        };
        if let Some(caller) = account.keys.authenticate(key) {
            return Ok(caller);
        }
        // A key rotated a moment ago: look again, at most every few seconds.
        match self.accounts.reload_after_miss().await {
            Some(account) => {
                self.adopt_account(&account).await;
                account
                    .keys
                    .authenticate(key)
                    .ok_or_else(AppError::unauthorized)
            }
            None => Err(AppError::unauthorized()),
        }
    }

    /// Sends `request` for `caller` within the default deadline.
    pub async fn send(
        &self,
        caller: &Caller,
        request: &SendRequest,
    ) -> Result<Delivered, AppError> {
        self.send_within(caller, request, Deadline::default()).await
    }

    /// Sends `request` for `caller`, answering before `deadline`; saves the
    /// session if it was renewed.
    pub async fn send_within(
        &self,
        caller: &Caller,
        request: &SendRequest,
        deadline: Deadline,
    ) -> Result<Delivered, AppError> {
        let account = self.account().await?;
        let target = account.channels.resolve(&request.channel)?;
        if !caller.may_post_to(&request.channel, &target, &account.channels) {
            return Err(AppError::new(
                403,
                "channel_not_allowed",
                format!("this API key may not post to {}", request.channel.trim()),
            ));
        }
        let ready = self.ready().await?;
        let message = request.format.render(&request.text);
        let Some(key) = &request.idempotency_key else {
            return self
                .post(ready, caller, &target, &message, None, deadline)
                .await;
        };
        match self.ledger.claim(caller.name(), key).await? {
            Claim::Done(delivered) => {
                tracing::info!(caller = caller.name(), id = %delivered.id, "repeated idempotency key; answering the first result");
                Ok(delivered)
            }
            Claim::InProgress => Err(AppError::in_progress()),
            Claim::Proceed(ticket) => {
                let client_id = ticket.client_message_id.clone();
                match self
                    .post(ready, caller, &target, &message, Some(&client_id), deadline)
                    .await
                {
                    Ok(delivered) => {
                        if let Err(err) = self.ledger.complete(ticket, &delivered).await {
                            // Posted; a retry re-sends the same client id,
                            // which Skype de-duplicates.
                            tracing::warn!(error = %err, "could not record the idempotency result");
                        }
                        Ok(delivered)
                    }
                    Err(err) => {
                        self.ledger.release(ticket).await;
                        Err(err)
                    }
                }
            }
        }
    }

    /// One message to Skype: paced when Skype throttles (backoff with
    /// jitter, honouring `Retry-After`) and cut off at the deadline; saves
    /// the session if it was renewed on the way.
    async fn post(
        &self,
        ready: &Ready,
        caller: &Caller,
        target: &ConversationId,
        message: &OutgoingMessage,
        client_id: Option<&str>,
        deadline: Deadline,
    ) -> Result<Delivered, AppError> {
        // The same client id on every attempt: Skype never posts it twice.
        let client_id =
            client_id.map_or_else(|| ready.skype.new_client_message_id(), str::to_string);
        let attempt = || ready.skype.send_as(target, message, &client_id);
        let paced = attempt
            .retry(PACING)
            .when(|err| matches!(err, SkypeError::RateLimited { .. }))
            .adjust(|err, backoff| {
                let wait = err.retry_after().or(backoff)?;
                // Past the budget, the caller (or Lambda) retries later.
                (wait < deadline.budget()).then_some(wait)
            })
            .notify(|_, wait| {
                tracing::info!(
                    wait_ms = wait.as_millis() as u64,
                    "Skype is pacing us; waiting"
                )
            });
        let result = match tokio::time::timeout(deadline.budget(), paced).await {
            Ok(result) => result.map_err(AppError::from),
            Err(_) => Err(AppError::deadline()),
        };
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

    /// The cached account; a changed password reaches the Skype client.
    async fn account(&self) -> Result<Arc<Account>, AppError> {
        let account = self.accounts.get().await?;
        self.adopt_account(&account).await;
        Ok(account)
    }

    async fn adopt_account(&self, account: &Arc<Account>) {
        let Some(ready) = self.ready.get() else {
            return;
        };
        let mut current = ready.account.lock().await;
        if !Arc::ptr_eq(&current, account) {
            ready.skype.set_credentials(account.credentials.clone());
            *current = account.clone();
        }
    }

    async fn ready(&self) -> Result<&Ready, AppError> {
        self.ready.get_or_try_init(|| self.load()).await
    }

    async fn load(&self) -> Result<Ready, AppError> {
        let account = self.accounts.get().await?;
        let gate: Arc<dyn LoginGate> = self.gate.clone();
        let skype = SkypeClient::new(
            self.config.skype_urls.clone(),
            self.config.skype_options.clone(),
            account.credentials.clone(),
        )?
        .with_login_gate(gate);
        if let Some(session) = self.vault.load().await? {
            skype.restore(session);
        }
        Ok(Ready {
            saved_generation: Mutex::new(skype.generation()),
            skype,
            account: Mutex::new(account),
        })
    }

    /// Writes the session back if it changed; adopts a newer stored one.
    async fn save_session(&self, ready: &Ready) {
        let mut saved = ready.saved_generation.lock().await;
        let generation = ready.skype.generation();
        if generation == *saved {
            return;
        }
        let Some(session) = ready.skype.session() else {
            return;
        };
        match self.vault.save(&session).await {
            Ok(Saved::Stored) => *saved = generation,
            Ok(Saved::Adopt(theirs)) => {
                ready.skype.restore(theirs);
                *saved = ready.skype.generation();
            }
            Err(err) => tracing::warn!(error = %err, "could not save the session"),
        }
    }
}

/// Retries after Skype's rate limit (errorCode 800): short and jittered,
/// so a burst of senders spreads out; the deadline bounds the total.
const PACING: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(250))
    .with_max_delay(Duration::from_secs(4))
    .with_max_times(6)
    .with_jitter();

/// A claim older than this was abandoned (a crashed sender): Lambda's own
/// timeout is far shorter.
const IDEMPOTENCY_CLAIM_TTL: Duration = Duration::from_secs(120);

/// Shared between concurrent invocations.
pub type SharedApp = Arc<App>;
