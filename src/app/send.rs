//! Posting a message or a file to every target a request names: all at
//! once, each with its own result, each at most once per idempotency key
//! (so a retry after a partial failure posts only where it failed).

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures_util::future::join_all;

use super::{App, Ready, conversation_of, require};
use crate::deadline::Deadline;
use crate::domain::{
    Caller, Capability, ChannelNames, Content, Delivered, DeliveryStatus, Destination, Target,
};
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{Claim, Part, PostKey};
use crate::metrics;
use crate::render;
use crate::skype::{Attachment, OutgoingMessage, SkypeError};
use crate::webhooks::Receipt;

/// A message to send, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    /// Where: one channel or several (aliases or conversation ids).
    pub channels: ChannelNames,
    /// What to say.
    pub content: Content,
    /// The caller's de-duplication key, if any.
    pub idempotency_key: Option<String>,
}

/// A file to post, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRequest {
    /// Where (Skype conversations only: webhooks take no files).
    pub channels: ChannelNames,
    /// The file.
    pub attachment: Attachment,
    /// A message posted after the file, if any.
    pub caption: Option<Content>,
    /// The caller's de-duplication key, if any.
    pub idempotency_key: Option<String>,
}

/// What happened at one target of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The target's name (as in [`Delivered::channel`]).
    pub channel: String,
    /// Its result.
    pub result: Result<Delivered, AppError>,
}

impl App {
    /// Sends `request` to each of its targets, answering before `deadline`.
    /// `Err`: nothing was attempted (bad channel, not allowed, config).
    pub async fn send_within(
        &self,
        caller: &Caller,
        request: &SendRequest,
        deadline: Deadline,
    ) -> Result<Vec<Outcome>, AppError> {
        let targets = self.targets(caller, &request.channels).await?;
        let key = request.idempotency_key.as_deref();
        let posts = targets.iter().map(|target| async move {
            let result = self
                .once(
                    caller,
                    target,
                    Part::Post,
                    key,
                    deadline,
                    async |client_id| {
                        self.post_message(target, request, client_id, deadline)
                            .await
                    },
                )
                .await;
            self.outcome(target, result)
        });
        Ok(join_all(posts).await)
    }

    /// Posts a file (then its caption) to each target: Skype only.
    pub async fn send_file_within(
        &self,
        caller: &Caller,
        request: &FileRequest,
        deadline: Deadline,
    ) -> Result<Vec<Outcome>, AppError> {
        let targets = self.targets(caller, &request.channels).await?;
        for target in &targets {
            require(
                target,
                Capability::Files,
                ErrorCode::FilesNotSupported,
                "files can only be posted to Skype conversations",
            )?;
        }
        let key = request.idempotency_key.as_deref();
        let posts = targets.iter().map(|target| async {
            let file = self
                .once(
                    caller,
                    target,
                    Part::Post,
                    key,
                    deadline,
                    async |client_id| {
                        self.post_to_conversation(
                            target,
                            SkypePost::File(&request.attachment),
                            client_id,
                            deadline,
                        )
                        .await
                    },
                )
                .await;
            let result = match (file, &request.caption) {
                (Ok(file), Some(caption)) => self
                    .once(
                        caller,
                        target,
                        Part::Caption,
                        key,
                        deadline,
                        async |client_id| {
                            let message = render::skype(caption);
                            self.post_to_conversation(
                                target,
                                SkypePost::Message(&message),
                                client_id,
                                deadline,
                            )
                            .await
                        },
                    )
                    .await
                    .map(|_| file)
                    .map_err(|err| err.prefixed("the file was posted but its caption was not")),
                (result, _) => result,
            };
            self.outcome(target, result)
        });
        Ok(join_all(posts).await)
    }

    fn outcome(&self, target: &Target, result: Result<Took, AppError>) -> Outcome {
        let platform = target.destination.platform();
        let result = match result {
            Ok(Took::Now(delivered)) => {
                self.note_post();
                metrics::message_sent(platform);
                tracing::info!(channel = %delivered.channel, kind = target.destination.kind(), id = delivered.id.as_deref().unwrap_or("-"), status = ?delivered.status, "message posted");
                Ok(delivered)
            }
            Ok(Took::Before(delivered)) => {
                metrics::message_deduplicated(platform);
                tracing::info!(channel = %delivered.channel, kind = target.destination.kind(), id = delivered.id.as_deref().unwrap_or("-"), "repeated idempotency key: answered the first result, posted nothing");
                Ok(delivered)
            }
            Err(err) => {
                metrics::message_failed(platform, err.code.as_str());
                tracing::warn!(channel = %target.name, kind = target.destination.kind(), error = err.code.as_str(), "post failed");
                Err(err)
            }
        };
        Outcome {
            channel: target.name.clone(),
            result,
        }
    }

    /// Runs `post` at most once per `key` for this caller, target and
    /// part: a repeat gets the first result, a concurrent one a 409. The
    /// post gets the `clientmessageid` derived from the key. When an
    /// earlier attempt may have been posted (no answer came, or its sender
    /// died), that is checked first and never assumed: see
    /// [`App::earlier_post`].
    async fn once(
        &self,
        caller: &Caller,
        target: &Target,
        part: Part,
        key: Option<&str>,
        deadline: Deadline,
        post: impl AsyncFnOnce(Option<String>) -> Result<Delivered, AppError>,
    ) -> Result<Took, AppError> {
        let Some(key) = key else {
            return post(None).await.map(Took::Now);
        };
        let scope = caller.scope();
        let target_key = target.key();
        let post_key = PostKey {
            scope: &scope,
            target: &target_key,
            part,
            key,
        };
        let ticket = match self.ledger.claim(&post_key).await? {
            Claim::Done(delivered) => return Ok(Took::Before(delivered)),
            Claim::InProgress => return Err(AppError::in_progress()),
            Claim::Proceed(ticket) => ticket,
        };
        let client_id = ticket.client_message_id.clone();
        let earlier = match ticket.uncertain {
            true => self.earlier_post(target, &client_id, deadline).await,
            false => Ok(None),
        };
        let result = match earlier {
            Ok(Some(found)) => {
                tracing::info!(channel = %target.name, id = found.id.as_deref().unwrap_or("-"), "an earlier attempt had been posted: adopting it, posting nothing");
                Ok(found)
            }
            Ok(None) => post(Some(client_id)).await,
            // Still not known whether the earlier attempt arrived.
            Err(err) if err.is_uncertain() => Err(err),
            Err(err) => Err(err.as_uncertain()),
        };
        match result {
            Ok(delivered) => {
                let owner = async {
                    match (&delivered.id, caller.is_unscoped()) {
                        (Some(id), false) => {
                            self.ledger.record_owner(&target_key, id, &scope).await
                        }
                        _ => Ok(()),
                    }
                };
                let (done, owned) = tokio::join!(self.ledger.complete(ticket, &delivered), owner);
                if let Err(err) = done.and(owned) {
                    // Posted; a retry finds it by its client id.
                    tracing::warn!(error = %err, "could not record the idempotency result");
                }
                Ok(Took::Now(delivered))
            }
            Err(err) if err.is_uncertain() => {
                self.ledger.mark_uncertain(ticket).await;
                Err(err)
            }
            Err(err) => {
                self.ledger.release(ticket).await;
                Err(err)
            }
        }
    }

    /// Whether an attempt whose outcome is unknown was posted after all.
    /// Skype can be asked: its recent messages are searched for our
    /// `clientmessageid`. A webhook cannot: the answer is `earlier_outcome_unknown`
    /// until the caller picks a new idempotency key, so a retry never
    /// posts twice without being asked to.
    async fn earlier_post(
        &self,
        target: &Target,
        client_id: &str,
        deadline: Deadline,
    ) -> Result<Option<Delivered>, AppError> {
        require(
            target,
            Capability::ReadBack,
            ErrorCode::EarlierOutcomeUnknown,
            "an earlier attempt with this idempotency key got no answer, so it may have been posted, and that service cannot be asked; nothing was sent again. To post it anyway, use a new idempotency key",
        )?;
        let conversation = conversation_of(target)?;
        let ready = self.ready().await?;
        let found = self
            .skype_call(ready, deadline, AppError::from, || {
                ready.skype.find_sent(conversation, client_id)
            })
            .await?;
        Ok(found.map(|sent| Delivered {
            id: Some(sent.id),
            channel: target.name.clone(),
            arrival_time: sent.arrival_time,
            status: DeliveryStatus::Posted,
        }))
    }

    /// The result a key's first post to `target` recorded, if any.
    pub(super) async fn recorded(
        &self,
        caller: &Caller,
        target: &Target,
        key: &str,
    ) -> Result<Option<Delivered>, AppError> {
        let scope = caller.scope();
        let target_key = target.key();
        let post_key = PostKey {
            scope: &scope,
            target: &target_key,
            part: Part::Post,
            key,
        };
        Ok(self.ledger.lookup(&post_key).await?)
    }

    async fn post_message(
        &self,
        target: &Target,
        request: &SendRequest,
        client_id: Option<String>,
        deadline: Deadline,
    ) -> Result<Delivered, AppError> {
        let posted = |receipt: Receipt| Delivered {
            id: None,
            channel: target.name.clone(),
            arrival_time: None,
            status: match receipt {
                Receipt::Delivered => DeliveryStatus::Posted,
                Receipt::Accepted => DeliveryStatus::Accepted,
            },
        };
        match &target.destination {
            Destination::Skype(_) => {
                let message = render::skype(&request.content);
                fits(target, &message.text)?;
                self.post_to_conversation(target, SkypePost::Message(&message), client_id, deadline)
                    .await
            }
            Destination::TeamsWorkflow(url) => {
                let card = render::teams(&request.content);
                fits(target, &serde_json::to_string(&card).unwrap_or_default())?;
                within(deadline, self.webhooks()?.post_teams(url, card))
                    .await
                    .map(posted)
            }
            Destination::SlackWebhook(url) => {
                let text = render::slack(&request.content);
                fits(target, &text)?;
                within(deadline, self.webhooks()?.post_slack(url, &text))
                    .await
                    .map(posted)
            }
        }
    }

    /// One post to a Skype conversation, with the same `clientmessageid`
    /// on every attempt: how a retry finds an earlier attempt that Skype
    /// took (see [`App::earlier_post`]).
    async fn post_to_conversation(
        &self,
        target: &Target,
        post: SkypePost<'_>,
        client_id: Option<String>,
        deadline: Deadline,
    ) -> Result<Delivered, AppError> {
        let conversation = conversation_of(target)?;
        let ready = self.ready().await?;
        let client_id = client_id.unwrap_or_else(|| ready.skype.new_client_message_id());
        let sent = self
            .skype_call(ready, deadline, AppError::from, || async {
                match post {
                    SkypePost::Message(message) => {
                        ready.skype.send_as(conversation, message, &client_id).await
                    }
                    SkypePost::File(attachment) => {
                        ready
                            .skype
                            .send_file_as(conversation, attachment, &client_id)
                            .await
                    }
                }
            })
            .await
            // Cut off by the deadline: the post may have been taken.
            .map_err(|err| match err.code {
                ErrorCode::DeadlineExceeded => err.as_uncertain(),
                _ => err,
            })?;
        Ok(Delivered {
            id: Some(sent.id),
            channel: target.name.clone(),
            arrival_time: sent.arrival_time,
            status: DeliveryStatus::Posted,
        })
    }

    /// One Skype call: paced when Skype throttles (backoff with jitter,
    /// honouring `Retry-After`), cut off at the deadline; saves the session
    /// if it was renewed on the way, even when the call failed.
    pub(super) async fn skype_call<T, F, Fut>(
        &self,
        ready: &Ready,
        deadline: Deadline,
        translate: fn(SkypeError) -> AppError,
        call: F,
    ) -> Result<T, AppError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SkypeError>>,
    {
        let paced = call
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
            Ok(result) => result.map_err(translate),
            Err(_) => Err(AppError::deadline()),
        };
        self.save_session(ready).await;
        result
    }
}

/// What goes to a Skype conversation.
#[derive(Clone, Copy)]
enum SkypePost<'a> {
    Message(&'a OutgoingMessage),
    File(&'a Attachment),
}

/// Webhook calls end at the deadline too; a post cut off there may have
/// been taken.
async fn within<T, E: Into<AppError>>(
    deadline: Deadline,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, AppError> {
    match tokio::time::timeout(deadline.budget(), call).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(AppError::deadline().as_uncertain()),
    }
}

/// Refuses what the platform would refuse: markdown, escaping and
/// mentions can make a message that was short enough as written too long
/// as sent, and the platform's own refusal would fail every retry.
fn fits(target: &Target, rendered: &str) -> Result<(), AppError> {
    let platform = target.destination.platform();
    let limit = platform.size_limit();
    let size = limit.measure(rendered);
    if size <= limit.max {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::MessageTooLong,
        format!(
            "the message is {size} {unit} once rendered for {platform} (markup, escaping and mentions included); {platform} takes at most {max}",
            unit = limit.unit.as_str(),
            max = limit.max,
        ),
    ))
}

/// How a target's result came about.
enum Took {
    /// Posted by this request.
    Now(Delivered),
    /// Posted by an earlier request with the same idempotency key.
    Before(Delivered),
}

/// Retries after Skype's rate limit (errorCode 800): short and jittered,
/// so a burst of senders spreads out; the deadline bounds the total.
const PACING: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(250))
    .with_max_delay(Duration::from_secs(4))
    .with_max_times(6)
    .with_jitter();
