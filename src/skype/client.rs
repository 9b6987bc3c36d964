//! The stateful client: one logged-in session shared by every caller,
//! renewed by the clock and recovered once when Skype refuses it.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::config::{ClientOptions, SkypeUrls};
use super::error::SkypeError;
use super::http::Api;
use super::login::Credentials;
use super::messages::{MessageBody, MessageId, OutgoingMessage, SentMessage, find_listed};
use super::session::{Freshness, Session, SkypeAuth};
use crate::clock::unix_seconds;
use crate::domain::{Attachment, ConversationId};

/// How long logins stay off after Skype said 803 without a `Retry-After`,
/// or after a login only a person can unblock.
const LOGIN_THROTTLE: Duration = Duration::from_secs(5 * 60);

/// Decides, across processes, who performs a password login.
///
/// Logins are slow and Skype throttles them for minutes, so when many
/// containers find the session expired at once, one should log in and the
/// others adopt its session. The client knows nothing of where sessions
/// are shared; the owner plugs that in here.
#[async_trait::async_trait]
pub trait LoginGate: Send + Sync {
    /// Before a login. `Ok(Some(session))`: another process has a fresh
    /// session, use it. `Ok(None)`: go ahead and log in (and call
    /// [`LoginGate::after_login`]). `Err`: give up for now. `refused` is
    /// the session Skype just refused, if that is why: a stored copy of it
    /// is no answer, however fresh its clock says it is.
    async fn before_login(&self, refused: Option<&Session>) -> Result<Option<Session>, SkypeError>;

    /// After a login attempt that `before_login` allowed: share the new
    /// session (or record why there is none) and let others log in again.
    async fn after_login(&self, outcome: Result<&Session, &SkypeError>);

    /// While this client may not log in (a wall or a throttle blocks
    /// logins, or there is no password): a fresh session stored elsewhere
    /// since, other than `refused`, if any. This is how a session a person
    /// uploaded reaches a warm client. Asked at most once per
    /// [`ClientOptions::stored_session_interval`]; the default has none.
    async fn stored_session(
        &self,
        _refused: Option<&Session>,
    ) -> Result<Option<Session>, SkypeError> {
        Ok(None)
    }
}

/// A Skype client for one bot account.
///
/// Cheap to share (`Arc`) between concurrent requests: they read the same
/// session, and only one of them renews it while the others wait for the
/// result, so a burst of requests on an expired session costs one login.
pub struct SkypeClient {
    api: Api,
    credentials: RwLock<Option<Credentials>>,
    gate: Option<Arc<dyn LoginGate>>,
    state: RwLock<State>,
    /// Held while renewing, so renewals never run twice at once.
    renewal: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    session: Option<Arc<Session>>,
    /// Bumped on every new session, so the owner knows when to save it.
    generation: u64,
    /// No login is tried before this Unix second; the error is answered
    /// instead (Skype's 803 throttle, or a wall only a person can clear).
    login_block: Option<(u64, SkypeError)>,
    /// When the login gate was last asked for a stored session while
    /// logins were blocked or impossible.
    last_stored_look: Option<Instant>,
}

impl std::fmt::Debug for SkypeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkypeClient")
            .field("urls", &self.api.urls)
            .field("credentials", &self.credentials.read().ok())
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl SkypeClient {
    /// A client with no session yet. Without `credentials` it can only use
    /// a session given to [`SkypeClient::restore`] (a token file).
    pub fn new(
        urls: SkypeUrls,
        options: ClientOptions,
        credentials: Option<Credentials>,
    ) -> Result<Self, SkypeError> {
        Ok(Self {
            api: Api::new(urls, options)?,
            credentials: RwLock::new(credentials),
            gate: None,
            state: RwLock::new(State::default()),
            renewal: tokio::sync::Mutex::new(()),
        })
    }

    /// Coordinates logins with other processes through `gate`.
    pub fn with_login_gate(mut self, gate: Arc<dyn LoginGate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Replaces the credentials (a rotated password); the session is kept.
    pub fn set_credentials(&self, credentials: Option<Credentials>) {
        {
            let mut current = self
                .credentials
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let same = match (&*current, &credentials) {
                (Some(a), Some(b)) => a.same_as(b),
                (None, None) => true,
                _ => false,
            };
            if same {
                return;
            }
            *current = credentials;
        }
        // A person acted: a blocked login may be tried again.
        self.write_state(|state| {
            if state
                .login_block
                .as_ref()
                .is_some_and(|(_, err)| err.needs_person())
            {
                state.login_block = None;
            }
        });
    }

    /// Adopts a stored session (e.g. a SkPy token file), without any request.
    pub fn restore(&self, session: Session) {
        self.replace_session(session);
    }

    /// Why logins are blocked right now, if they are: the wall's error, or
    /// the 803 throttle with the `Retry-After` that remains.
    pub fn login_blocked(&self) -> Option<SkypeError> {
        let (until, err) = self.read_state(|state| state.login_block.clone())?;
        let now = unix_seconds();
        if now >= until {
            return None;
        }
        Some(match err {
            SkypeError::LoginRateLimited { .. } => SkypeError::LoginRateLimited {
                retry_after: Some(Duration::from_secs(until - now)),
            },
            other => other,
        })
    }

    /// The session in use, if any.
    pub fn session(&self) -> Option<Arc<Session>> {
        self.read_state(|state| state.session.clone())
    }

    /// Changes with every new session: compare with the value seen when the
    /// session was last saved to know whether it must be written back.
    pub fn generation(&self) -> u64 {
        self.read_state(|state| state.generation)
    }

    /// A session good for at least the renewal margin: logs in or registers
    /// only when the clock says so.
    pub async fn ensure_session(&self) -> Result<Arc<Session>, SkypeError> {
        self.fresh_session(self.api.options.renew_margin).await
    }

    /// Renews ahead of time: whatever expires within `within` is renewed now
    /// (the scheduled keep-alive), so user traffic never waits for a login.
    pub async fn refresh_if_expiring(&self, within: Duration) -> Result<Arc<Session>, SkypeError> {
        self.fresh_session(within.max(self.api.options.renew_margin))
            .await
    }

    /// Sends with a given `clientmessageid`, the one [`Self::find_sent`]
    /// looks for. When the post left but no answer came back, the answer
    /// is [`SkypeError::OutcomeUnknown`]: look before sending again.
    pub async fn send_as(
        &self,
        conversation: &ConversationId,
        message: &OutgoingMessage,
        client_id: &str,
    ) -> Result<SentMessage, SkypeError> {
        // The same id for the original and the retry after a renewal.
        let session = self.ensure_session().await?;
        let result = self
            .try_send(&session, conversation, message, client_id)
            .await;
        match self.renewal_for(&session, &result).await? {
            Some(renewed) => {
                self.try_send(&renewed, conversation, message, client_id)
                    .await
            }
            None => result,
        }
    }

    async fn try_send(
        &self,
        session: &Session,
        conversation: &ConversationId,
        message: &OutgoingMessage,
        client_id: &str,
    ) -> Result<SentMessage, SkypeError> {
        let name = self.display_name(session).await?;
        let body = MessageBody::text(message, &name).with_client_id(client_id.to_string());
        self.api
            .post_message(&session.registration, conversation, &body)
            .await
    }

    /// The message this bot posted to `conversation` with `client_message_id`,
    /// if it is among the latest 100: after [`SkypeError::OutcomeUnknown`],
    /// this tells whether the post arrived, so a retry need not post twice.
    pub async fn find_sent(
        &self,
        conversation: &ConversationId,
        client_message_id: &str,
    ) -> Result<Option<SentMessage>, SkypeError> {
        let session = self.ensure_session().await?;
        let result = self
            .try_find_sent(&session, conversation, client_message_id)
            .await;
        match self.renewal_for(&session, &result).await? {
            Some(renewed) => {
                self.try_find_sent(&renewed, conversation, client_message_id)
                    .await
            }
            None => result,
        }
    }

    async fn try_find_sent(
        &self,
        session: &Session,
        conversation: &ConversationId,
        client_message_id: &str,
    ) -> Result<Option<SentMessage>, SkypeError> {
        let listed = self
            .api
            .recent_messages(&session.registration, conversation)
            .await?;
        find_listed(&listed, client_message_id, &session.auth.user_id)
    }

    /// Replaces the content of a message the bot sent; answers Skype's edit time.
    pub async fn edit(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
        message: &OutgoingMessage,
    ) -> Result<Option<u64>, SkypeError> {
        let session = self.ensure_session().await?;
        let result = self.try_edit(&session, conversation, id, message).await;
        match self.renewal_for(&session, &result).await? {
            Some(renewed) => self.try_edit(&renewed, conversation, id, message).await,
            None => result,
        }
    }

    async fn try_edit(
        &self,
        session: &Session,
        conversation: &ConversationId,
        id: &MessageId,
        message: &OutgoingMessage,
    ) -> Result<Option<u64>, SkypeError> {
        let name = self.display_name(session).await?;
        let body = MessageBody::text(message, &name);
        self.api
            .put_message(&session.registration, conversation, id, &body)
            .await
    }

    /// Deletes a message the bot sent.
    pub async fn delete(
        &self,
        conversation: &ConversationId,
        id: &MessageId,
    ) -> Result<(), SkypeError> {
        let session = self.ensure_session().await?;
        let result = self
            .api
            .delete_message(&session.registration, conversation, id)
            .await;
        match self.renewal_for(&session, &result).await? {
            Some(renewed) => {
                self.api
                    .delete_message(&renewed.registration, conversation, id)
                    .await
            }
            None => result,
        }
    }

    /// Uploads and posts with a given `clientmessageid` (see [`Self::send_as`]).
    pub async fn send_file_as(
        &self,
        conversation: &ConversationId,
        attachment: &Attachment,
        client_id: &str,
    ) -> Result<SentMessage, SkypeError> {
        let session = self.ensure_session().await?;
        let result = self
            .try_send_file(&session, conversation, attachment, client_id)
            .await;
        match self.renewal_for(&session, &result).await? {
            Some(renewed) => {
                self.try_send_file(&renewed, conversation, attachment, client_id)
                    .await
            }
            None => result,
        }
    }

    async fn try_send_file(
        &self,
        session: &Session,
        conversation: &ConversationId,
        attachment: &Attachment,
        client_id: &str,
    ) -> Result<SentMessage, SkypeError> {
        let object = self
            .api
            .upload(&session.auth, conversation, attachment)
            .await?;
        let content = self.api.uri_object(attachment, &object);
        let body = MessageBody::media(attachment.kind.message_type(), content)
            .with_client_id(client_id.to_string());
        self.api
            .post_message(&session.registration, conversation, &body)
            .await
    }

    /// After a first attempt: if Skype refused the session, renews what it
    /// refused (the registration, or the login behind it) and gives the
    /// session for the one and only retry. Never loops.
    async fn renewal_for<T>(
        &self,
        session: &Arc<Session>,
        result: &Result<T, SkypeError>,
    ) -> Result<Option<Arc<Session>>, SkypeError> {
        let needed = match result {
            Err(SkypeError::RegistrationRejected) => Freshness::NeedsRegistration,
            Err(SkypeError::SkypeTokenRejected) => Freshness::NeedsLogin,
            _ => return Ok(None),
        };
        tracing::info!(renewal = ?needed, "Skype refused the session; renewing once");
        self.renew_refused(session, needed).await.map(Some)
    }

    async fn fresh_session(&self, margin: Duration) -> Result<Arc<Session>, SkypeError> {
        if let Some(session) = self.session()
            && session.freshness(unix_seconds(), margin) == Freshness::Fresh
        {
            return Ok(session);
        }
        let _renewing = self.renewal.lock().await;
        // Another caller may have renewed while we waited for the lock.
        let needed = match self.session() {
            Some(session) => match session.freshness(unix_seconds(), margin) {
                Freshness::Fresh => return Ok(session),
                Freshness::NeedsRegistration => Some(session.auth.clone()),
                Freshness::NeedsLogin => None,
            },
            None => None,
        };
        match needed {
            Some(auth) => self.register_or_login(auth, None).await,
            None => self.login(None).await,
        }
    }

    async fn renew_refused(
        &self,
        refused: &Arc<Session>,
        needed: Freshness,
    ) -> Result<Arc<Session>, SkypeError> {
        let _renewing = self.renewal.lock().await;
        if let Some(current) = self.session()
            && !Arc::ptr_eq(&current, refused)
        {
            // Someone renewed after our request left: use theirs.
            return Ok(current);
        }
        match needed {
            Freshness::NeedsRegistration => {
                self.register_or_login(refused.auth.clone(), Some(refused))
                    .await
            }
            _ => self.login(Some(refused)).await,
        }
    }

    /// Registers with the skype token we have; logs in if Skype refuses it.
    async fn register_or_login(
        &self,
        auth: SkypeAuth,
        refused: Option<&Session>,
    ) -> Result<Arc<Session>, SkypeError> {
        match self.api.register(&auth).await {
            Ok(registration) => {
                tracing::info!(user = %auth.user_id, expires_at = registration.expires_at, "registered messaging endpoint");
                Ok(self.replace_session(Session { auth, registration }))
            }
            Err(SkypeError::SkypeTokenRejected) => self.login(refused).await,
            Err(err) => Err(err),
        }
    }

    /// A new session from a login: ours, or another process's when the
    /// gate says one is on its way. Callers hold `renewal`.
    async fn login(&self, refused: Option<&Session>) -> Result<Arc<Session>, SkypeError> {
        // No credentials, or logins blocked after a wall or a throttle: no
        // attempt, so nothing for the gate to coordinate or record. But a
        // person may have stored a good session since: that is the fix.
        if let Err(blocked) = self.credentials_for_login() {
            return match self.stored_while_blocked(refused).await {
                Some(session) => Ok(session),
                None => Err(blocked),
            };
        }
        let Some(gate) = &self.gate else {
            return self.password_login().await;
        };
        if let Some(session) = gate.before_login(refused).await?
            && session.freshness(unix_seconds(), self.api.options.renew_margin) == Freshness::Fresh
        {
            tracing::info!(
                expires_at = session.expires_at(),
                "adopting a session renewed elsewhere"
            );
            return Ok(self.replace_session(session));
        }
        let result = self.password_login().await;
        gate.after_login(result.as_deref()).await;
        result
    }

    /// A fresh session the gate has stored, looked for at most once per
    /// `stored_session_interval`; adopting it lifts the login block (a
    /// person acted). Callers hold `renewal`.
    async fn stored_while_blocked(&self, refused: Option<&Session>) -> Option<Arc<Session>> {
        let gate = self.gate.as_ref()?;
        let now = Instant::now();
        let interval = self.api.options.stored_session_interval;
        let due = self.write_state(|state| {
            let due = state
                .last_stored_look
                .is_none_or(|at| now.duration_since(at) >= interval);
            if due {
                state.last_stored_look = Some(now);
            }
            due
        });
        if !due {
            return None;
        }
        let session = match gate.stored_session(refused).await {
            Ok(session) => session?,
            Err(err) => {
                tracing::warn!(error = %err, "could not look for a stored session");
                return None;
            }
        };
        let fresh =
            session.freshness(unix_seconds(), self.api.options.renew_margin) == Freshness::Fresh;
        if !fresh || refused.is_some_and(|refused| refused.same_tokens(&session)) {
            return None;
        }
        tracing::info!(
            expires_at = session.expires_at(),
            "adopting a stored session while logins are blocked"
        );
        self.write_state(|state| state.login_block = None);
        Some(self.replace_session(session))
    }

    /// The credentials, if a login may be tried now: there are some, and
    /// no login wall or throttle blocks logins.
    fn credentials_for_login(&self) -> Result<Credentials, SkypeError> {
        let credentials = self
            .credentials
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
            .ok_or(SkypeError::LoginRequired)?;
        match self.login_blocked() {
            Some(blocked) => Err(blocked),
            None => Ok(credentials),
        }
    }

    /// A password login and a registration.
    async fn password_login(&self) -> Result<Arc<Session>, SkypeError> {
        let credentials = self.credentials_for_login()?;
        let auth = match self.api.login(&credentials).await {
            Ok(done) => done,
            Err(err) => {
                // Trying again soon would not help and Skype may punish it:
                // answer this error until the throttle passes or a person
                // acts (new credentials clear it).
                let block = match &err {
                    SkypeError::LoginRateLimited { retry_after } => {
                        Some(retry_after.unwrap_or(LOGIN_THROTTLE))
                    }
                    err if err.needs_person() => Some(LOGIN_THROTTLE),
                    _ => None,
                };
                if let Some(block) = block {
                    let until = unix_seconds() + block.as_secs();
                    self.write_state(|state| state.login_block = Some((until, err.clone())));
                }
                tracing::warn!(error = %err, "Skype login failed");
                return Err(err);
            }
        };
        tracing::info!(user = %auth.user_id, expires_at = auth.expires_at, "logged in to Skype");
        let registration = self.api.register(&auth).await?;
        Ok(self.replace_session(Session { auth, registration }))
    }

    /// The name our messages carry (`imdisplayname`). A session from a
    /// login or from the token store knows it; one from a bare SkPy token
    /// file costs one profile read, and the named session then counts as
    /// new, so that its owner stores the name beside the file.
    async fn display_name<'s>(&self, session: &'s Session) -> Result<Cow<'s, str>, SkypeError> {
        if let Some(name) = &session.auth.display_name {
            return Ok(Cow::Borrowed(name));
        }
        let known = self.read_state(|state| {
            state
                .session
                .as_ref()
                .filter(|current| current.auth.user_id == session.auth.user_id)
                .and_then(|current| current.auth.display_name.clone())
        });
        if let Some(name) = known {
            return Ok(Cow::Owned(name));
        }
        let profile = self.api.profile(&session.auth.token).await?;
        self.write_state(|state| {
            let Some(current) = &state.session else {
                return;
            };
            if current.auth.display_name.is_none() && current.auth.user_id == profile.user_id {
                let mut named = (**current).clone();
                named.auth.display_name = Some(profile.display_name.clone());
                state.session = Some(Arc::new(named));
                state.generation += 1;
            }
        });
        Ok(Cow::Owned(profile.display_name))
    }

    /// Makes `session` the one in use. A session without a name (a token
    /// file) keeps the name we know for the same user.
    fn replace_session(&self, mut session: Session) -> Arc<Session> {
        self.write_state(|state| {
            if session.auth.display_name.is_none()
                && let Some(old) = &state.session
                && old.auth.user_id == session.auth.user_id
            {
                session.auth.display_name = old.auth.display_name.clone();
            }
            let session = Arc::new(session);
            state.session = Some(session.clone());
            state.generation += 1;
            session
        })
    }

    /// A fresh `clientmessageid`, for callers that retry a send themselves
    /// (every attempt must carry the same one).
    pub fn new_client_message_id(&self) -> String {
        self.next_client_message_id()
    }

    /// A random 19-digit id. Skype was seen to keep one message per id,
    /// user and conversation (not relied on: see `find_sent`), and every
    /// container shares the bot's user: ids from the clock (as SkPy made
    /// them) collide when two containers send in the same millisecond, and
    /// the second message could be dropped, or found as the first's.
    fn next_client_message_id(&self) -> String {
        fastrand::u64(1_000_000_000_000_000_000..10_000_000_000_000_000_000).to_string()
    }

    fn read_state<T>(&self, read: impl FnOnce(&State) -> T) -> T {
        read(
            &self
                .state
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    fn write_state<T>(&self, write: impl FnOnce(&mut State) -> T) -> T {
        write(
            &mut self
                .state
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_message_ids_do_not_collide_across_clients_in_the_same_millisecond() {
        let clients: Vec<SkypeClient> = (0..50)
            .map(|_| {
                SkypeClient::new(SkypeUrls::default(), ClientOptions::default(), None).unwrap()
            })
            .collect();
        let mut ids: Vec<String> = clients.iter().map(|c| c.new_client_message_id()).collect();
        assert!(
            ids.iter()
                .all(|id| id.len() == 19 && id.bytes().all(|b| b.is_ascii_digit()))
        );
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 50);
    }
}
