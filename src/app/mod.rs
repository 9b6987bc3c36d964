//! The use cases, whatever the trigger: authenticate a caller, send a
//! message or a file (to one channel or many), edit or delete a message,
//! report health, renew the session, learn where the Teams bot was
//! installed. Holds what a warm container keeps: the account, the Skype
//! client and its session, the Teams client, the webhook client.

mod bots;
mod deliver;
mod health;
mod manage;
mod reminders;
mod send;
mod teams;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{Mutex, OnceCell};

pub use health::{CredentialHealth, Health, SessionHealth, TeamsHealth};
pub use manage::{Deleted, Edited, MessageRef, MessageRequest};
pub use reminders::{Created, Reminder, ReminderDraft, ReminderPage};
pub use send::{FileRequest, Outcome, SendRequest};

use crate::clock;
use crate::config::Config;
use crate::domain::{Caller, Capability, ChannelNames, Channels, LoginOutcome, Target};
use crate::error::{AppError, ErrorCode};
use crate::idempotency::Ledger;
use crate::metrics;
use crate::skype::{LoginGate, SkypeClient, SkypeError};
use crate::state::{
    Account, AccountCache, LeaseTiming, ObjectStore, Saved, ScheduleStore, SessionVault,
    StoreLoginGate, Stores,
};
use crate::teams::{ConversationRef, TeamsClient};
use crate::webhooks::{WebhookTimeouts, Webhooks};

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
    /// The Teams / Slack client, built when a webhook is first posted to.
    webhooks: OnceLock<Webhooks>,
    /// The Slack / Discord / Telegram client, built on first use.
    bots: OnceLock<crate::bots::Bots>,
    /// The Teams bot's client (app token and keys cached), built on first use.
    teams: OnceLock<TeamsClient>,
    /// Where the Teams conversation references are stored.
    teams_store: Box<dyn ObjectStore>,
    /// References read or stored by this container, by conversation id.
    teams_refs: std::sync::Mutex<HashMap<String, ConversationRef>>,
    /// Unix milliseconds of this container's last accepted post (0: none).
    last_post_ms: AtomicU64,
    /// Built on the first invocation, not at start, so a cold start
    /// reaches the runtime API as fast as an empty function.
    ready: OnceCell<Ready>,
    /// Where reminders live (EventBridge Scheduler), if configured.
    schedules: Option<Box<dyn ScheduleStore>>,
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
            webhooks: OnceLock::new(),
            bots: OnceLock::new(),
            teams: OnceLock::new(),
            teams_store: stores.teams,
            teams_refs: std::sync::Mutex::default(),
            last_post_ms: AtomicU64::new(0),
            ready: OnceCell::new(),
            schedules: stores.schedules,
        }
    }

    /// Who holds `presented` (`None`: no key was presented). On a cold
    /// container the stored session is read at the same time as the
    /// secret, so the first send waits for one round trip to AWS, not two;
    /// a wrong key is answered as soon as the secret says so, without
    /// waiting for (or telling anything of) that read.
    pub async fn authenticate(&self, presented: Option<&str>) -> Result<Caller, AppError> {
        let check = self.check_key(presented);
        if self.ready.initialized() {
            return check.await;
        }
        let prefetch = self.ready();
        tokio::pin!(check, prefetch);
        let mut prefetched = false;
        let caller = loop {
            tokio::select! {
                caller = &mut check => break caller,
                _ = &mut prefetch, if !prefetched => prefetched = true,
            }
        };
        if caller.is_ok() && !prefetched {
            // Its failure is the send's to report, when it needs the session.
            let _ = prefetch.await;
        }
        caller
    }

    /// The configured account, for a caller the trigger already trusts
    /// (direct, EventBridge and SQS invocations have no key to check): on
    /// a cold container the stored session is read at the same time, as
    /// [`App::authenticate`] does, since the send needs both.
    async fn account_for_send(&self) -> Result<Arc<Account>, AppError> {
        if self.ready.initialized() {
            return self.configured_account().await;
        }
        let (account, _prefetched) = tokio::join!(self.configured_account(), self.ready());
        account
    }

    /// Checks `presented` against the account's keys.
    async fn check_key(&self, presented: Option<&str>) -> Result<Caller, AppError> {
        let presented = presented.filter(|key| !key.trim().is_empty());
        let account = self.configured_account().await?;
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

    /// The targets `names` stands for, checked against what `caller`
    /// may post to. An unknown name is answered with the aliases this
    /// caller may use (and only those).
    async fn targets(
        &self,
        caller: &Caller,
        names: &ChannelNames,
    ) -> Result<Vec<Target>, AppError> {
        let account = self.account_for_send().await?;
        let unknown = |err| {
            let known = caller.visible_aliases(&account.channels);
            AppError::from(err).with_known_aliases(&known)
        };
        let expanded = account.channels.expand(names).map_err(unknown)?;
        let targets = Channels::distinct(&expanded).map_err(unknown)?;
        if let Some((requested, _)) = expanded
            .iter()
            .find(|(requested, target)| !caller.may_post_to(requested, target, &account.channels))
        {
            // Named as the caller wrote it: the conversation behind an
            // alias is not this caller's business.
            return Err(AppError::new(
                ErrorCode::ChannelNotAllowed,
                format!("this API key may not post to {}", requested.trim()),
            ));
        }
        Ok(targets)
    }

    fn webhooks(&self) -> Result<&Webhooks, AppError> {
        if let Some(webhooks) = self.webhooks.get() {
            return Ok(webhooks);
        }
        let built = Webhooks::new(WebhookTimeouts::default())
            .map_err(|err| AppError::new(ErrorCode::WebhookUnavailable, err.to_string()))?;
        Ok(self.webhooks.get_or_init(|| built))
    }

    fn note_post(&self) {
        self.last_post_ms
            .store(clock::unix_millis(), Ordering::Relaxed);
    }

    /// Renews whatever expires within the configured window; `None` when
    /// there is no Skype account at all (a Teams-only deployment: no
    /// credentials and no stored session), so nothing to keep alive.
    pub async fn refresh(&self) -> Result<Option<Expiries>, AppError> {
        let account = self.configured_account().await?;
        if account.credentials.is_none()
            && self.ready.get().is_none()
            && self.vault.load().await?.is_none()
        {
            return Ok(None);
        }
        let ready = self.ready().await?;
        let before = ready.skype.generation();
        let result = ready
            .skype
            .refresh_if_expiring(self.config.refresh_window)
            .await;
        self.save_session(ready).await;
        let session = result?;
        // A session fresh by its clock says nothing while logins are
        // blocked (a wall, a throttle): the keep-alive must not say "ok".
        if let Some(blocked) = ready.skype.login_blocked() {
            return Err(blocked.into());
        }
        self.report_session_age(session.expires_at()).await;
        Ok(Some(Expiries {
            skype_token: session.auth.expires_at,
            registration_token: session.registration.expires_at,
            renewed: ready.skype.generation() != before,
        }))
    }

    /// The session's metrics, on each keep-alive: how long until it
    /// expires, and how old it is (since the login that made it).
    async fn report_session_age(&self, expires_at: u64) {
        let now = clock::unix_seconds();
        metrics::token_expires_in(expires_at as i64 - now as i64);
        match self.gate.last_login().await {
            Ok(Some(login)) if login.outcome == LoginOutcome::Succeeded => {
                metrics::token_age(now.saturating_sub(login.at));
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not read the last login"),
        }
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

    /// The account, once someone has filled in the secret: a new stack's
    /// placeholder is `not_configured` (and never a login attempt, which
    /// would fire the login alarms every half hour). A secret filled in a
    /// moment ago is read again, at most every few seconds.
    async fn configured_account(&self) -> Result<Arc<Account>, AppError> {
        let account = self.account().await?;
        if !account.placeholder {
            return Ok(account);
        }
        match self.accounts.reload_after_miss().await {
            Some(fresh) if !fresh.placeholder => {
                self.adopt_account(&fresh).await;
                Ok(fresh)
            }
            _ => Err(AppError::not_configured()),
        }
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
        // The Skype client's HTTPS setup (it loads the CA certificates)
        // is CPU work: done on another thread while both reads travel, so
        // a cold container's first send waits for one round trip to AWS.
        let (urls, options) = (
            self.config.skype_urls.clone(),
            self.config.skype_options.clone(),
        );
        let building = tokio::task::spawn_blocking(move || SkypeClient::new(urls, options, None));
        let (account, stored) = tokio::join!(self.accounts.get(), self.vault.load());
        let skype = building.await.unwrap_or_else(|_| {
            Err(SkypeError::Connection(
                "cannot build the HTTP client".into(),
            ))
        })?;
        let account = account?;
        skype.set_credentials(account.credentials.clone());
        let gate: Arc<dyn LoginGate> = self.gate.clone();
        let skype = skype.with_login_gate(gate);
        if let Some(session) = stored? {
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

/// Refuses, with `code`, what `target`'s platform cannot do (the table
/// in `src/domain/platform.rs`): never a silent degrade. `what` says it
/// for the caller ("its messages cannot be edited").
fn require(
    target: &Target,
    capability: Capability,
    code: ErrorCode,
    what: &str,
) -> Result<(), AppError> {
    match target.destination.platform().can(capability) {
        true => Ok(()),
        false => Err(unable(target, code, what)),
    }
}

/// The refusal of [`require`].
fn unable(target: &Target, code: ErrorCode, what: &str) -> AppError {
    let kind = target.destination.platform().kind();
    AppError::new(code, format!("{} is a {kind} channel: {what}", target.name))
}

/// Why a file cannot go to a target without [`Capability::Files`].
const NO_FILES: &str = "files can only be posted to Skype, Slack (bot), Discord and Telegram channels, and pictures to Teams";

/// A claim older than this was abandoned (a crashed sender): Lambda's own
/// timeout is far shorter.
const IDEMPOTENCY_CLAIM_TTL: Duration = Duration::from_secs(120);
