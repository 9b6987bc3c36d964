//! Where a post meets its platform: the one `match` on the destination.
//! Everything above (fan-out, idempotency, owners, answers) is the same for
//! every platform; everything here is what differs: the dialect a message
//! is rendered in, its size limit, the client that carries it, and whether
//! an earlier attempt can be found again.
//!
//! A new destination is a `Destination` variant and a `Platform` row
//! (`src/domain/`), an adapter with its own client and errors (like
//! `src/webhooks/`), and an arm in [`App::deliver`] and
//! [`App::earlier_post`]: `docs/architecture.md` walks through it.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use super::{App, NO_FILES, Ready, require, unable};
use crate::bots::BotError;
use crate::deadline::Deadline;
use crate::domain::{
    Attachment, Capability, Content, ConversationId, Delivered, DeliveryStatus, Destination, Target,
};
use crate::error::{AppError, ErrorCode};
use crate::render;
use crate::skype::{OutgoingMessage, SkypeError};
use crate::teams::{self, NotAPicture, TeamsError};
use crate::webhooks::Receipt;

/// What one post carries to one target, and where in it.
#[derive(Clone, Copy)]
pub(super) struct Outgoing<'a> {
    /// The message or the file.
    pub body: Body<'a>,
    /// The message to reply to (platforms with [`Capability::Threads`]).
    pub thread: Option<&'a str>,
}

/// What one post carries.
#[derive(Clone, Copy)]
pub(super) enum Body<'a> {
    /// A message, rendered here in the target's dialect.
    Message(&'a Content),
    /// A file (platforms with [`Capability::Files`], or a picture to
    /// platforms with [`Capability::Pictures`]).
    File(&'a Attachment),
}

impl App {
    /// Posts `outgoing` to `target` on its platform. `client_id` (Skype's
    /// `clientmessageid`) is the same on every attempt of one idempotency
    /// key: how [`App::earlier_post`] finds an attempt Skype took.
    pub(super) async fn deliver(
        &self,
        target: &Target,
        outgoing: Outgoing<'_>,
        client_id: Option<String>,
        deadline: Deadline,
    ) -> Result<Delivered, AppError> {
        let sent = |receipt: Receipt| Delivered {
            id: None,
            channel: target.name.clone(),
            arrival_time: None,
            status: match receipt {
                Receipt::Delivered => DeliveryStatus::Posted,
                Receipt::Accepted => DeliveryStatus::Accepted,
            },
        };
        let thread = outgoing.thread;
        match (&target.destination, outgoing.body) {
            (Destination::Skype(conversation), Body::Message(content)) => {
                let message = render::skype(content);
                fits(target, &message.text)?;
                let post = SkypePost::Message(&message);
                self.post_to_conversation(target, conversation, post, client_id, deadline)
                    .await
            }
            (Destination::Skype(conversation), Body::File(attachment)) => {
                let post = SkypePost::File(attachment);
                self.post_to_conversation(target, conversation, post, client_id, deadline)
                    .await
            }
            (Destination::Teams(chat), Body::Message(content)) => {
                let message = render::teams_bot(content);
                fits(target, &message.text)?;
                let activity = message.activity();
                self.post_to_teams(target, chat, &activity, thread, deadline)
                    .await
            }
            (Destination::Teams(chat), Body::File(attachment)) => {
                let activity = teams_picture(target, attachment)?;
                self.post_to_teams(target, chat, &activity, thread, deadline)
                    .await
            }
            (Destination::TeamsWorkflow(url), Body::Message(content)) => {
                let card = render::teams(content);
                fits(target, &serde_json::to_string(&card).unwrap_or_default())?;
                within(deadline, self.webhooks()?.post_teams(url, card))
                    .await
                    .map(sent)
            }
            (Destination::SlackWebhook(url), Body::Message(content)) => {
                let text = render::slack(content);
                fits(target, &text)?;
                within(deadline, self.webhooks()?.post_slack(url, &text))
                    .await
                    .map(sent)
            }
            // Refused before anything is posted (`send_file_within`).
            (Destination::TeamsWorkflow(_) | Destination::SlackWebhook(_), Body::File(_)) => {
                Err(unable(target, ErrorCode::FilesNotSupported, NO_FILES))
            }
            (
                Destination::Slack(_) | Destination::DiscordWebhook(_) | Destination::Telegram(_),
                body,
            ) => {
                self.post_to_bot(target, body, thread, client_id.as_deref(), deadline)
                    .await
            }
        }
    }

    /// Whether an attempt whose outcome is unknown was posted after all.
    /// Skype can be asked: its recent messages are searched for our
    /// `clientmessageid`. Teams (whose Connector cannot list what a bot
    /// posted) and webhooks cannot: the answer is `earlier_outcome_unknown`
    /// until the caller picks a new idempotency key, so a retry never
    /// posts twice without being asked to.
    pub(super) async fn earlier_post(
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
        let Destination::Skype(conversation) = &target.destination else {
            return self.earlier_bot_post(target, client_id, deadline).await;
        };
        let ready = self.ready().await?;
        let found = self
            .skype_call(ready, deadline, AppError::from, || {
                ready.skype.find_sent(conversation, client_id)
            })
            .await?;
        Ok(found.map(|sent| Delivered::posted(&target.name, sent.id, sent.arrival_time)))
    }

    /// One post to a Skype conversation, with the same `clientmessageid`
    /// on every attempt.
    async fn post_to_conversation(
        &self,
        target: &Target,
        conversation: &ConversationId,
        post: SkypePost<'_>,
        client_id: Option<String>,
        deadline: Deadline,
    ) -> Result<Delivered, AppError> {
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
            .map_err(cut_off_post)?;
        Ok(Delivered::posted(&target.name, sent.id, sent.arrival_time))
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
        let result = paced(deadline, "Skype", call, translate).await;
        self.save_session(ready).await;
        result
    }
}

/// An error that may be a rate limit: `Some` with the wait the service
/// asked for (if it said one).
pub(super) trait Throttled {
    /// `Some(wait)` when the service throttled us.
    fn rate_limit(&self) -> Option<Option<Duration>>;
}

impl Throttled for SkypeError {
    fn rate_limit(&self) -> Option<Option<Duration>> {
        match self {
            SkypeError::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

impl Throttled for TeamsError {
    fn rate_limit(&self) -> Option<Option<Duration>> {
        match self {
            TeamsError::RateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}

impl Throttled for BotError {
    fn rate_limit(&self) -> Option<Option<Duration>> {
        BotError::rate_limit(self)
    }
}

/// Runs `call`, and again after each rate limit: the service's wait, else
/// a short jittered backoff, as long as the deadline allows. Its error is
/// `translate`d; the deadline passing first is `deadline_exceeded`.
pub(super) async fn paced<T, E, F, Fut>(
    deadline: Deadline,
    service: &'static str,
    call: F,
    translate: impl FnOnce(E) -> AppError,
) -> Result<T, AppError>
where
    E: Throttled,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let paced = call
        .retry(PACING)
        .when(|err: &E| err.rate_limit().is_some())
        .adjust(|err: &E, backoff| {
            let wait = err.rate_limit().flatten().or(backoff)?;
            // Past the budget, the caller (or Lambda) retries later.
            (wait < deadline.budget()).then_some(wait)
        })
        .notify(|_, wait| {
            tracing::info!(
                service,
                wait_ms = wait.as_millis() as u64,
                "pacing: the service asked us to wait"
            )
        });
    match tokio::time::timeout(deadline.budget(), paced).await {
        Ok(result) => result.map_err(translate),
        Err(_) => Err(AppError::deadline()),
    }
}

/// A picture as a Teams activity, or why it cannot be one.
fn teams_picture(target: &Target, attachment: &Attachment) -> Result<serde_json::Value, AppError> {
    teams::activity::picture(attachment).map_err(|refusal| match refusal {
        NotAPicture::Kind => unable(
            target,
            ErrorCode::FilesNotSupported,
            "a Teams bot posts pictures (PNG, JPEG or GIF), and this file is not one",
        ),
        NotAPicture::TooLarge(size) => AppError::new(
            ErrorCode::FileTooLarge,
            format!(
                "the picture is {size} bytes; Teams shows pictures of at most {} bytes (1 MiB)",
                teams::activity::MAX_PICTURE_BYTES
            ),
        ),
    })
}

/// What goes to a Skype conversation.
#[derive(Clone, Copy)]
enum SkypePost<'a> {
    Message(&'a OutgoingMessage),
    File(&'a Attachment),
}

/// A post cut off by the deadline may have been taken: its outcome is
/// unknown, not just late.
pub(super) fn cut_off_post(err: AppError) -> AppError {
    match err.code {
        ErrorCode::DeadlineExceeded => err.as_uncertain(),
        _ => err,
    }
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
pub(super) fn fits(target: &Target, rendered: &str) -> Result<(), AppError> {
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

/// Retries after a rate limit (Skype's errorCode 800, Teams' 429): short and jittered,
/// so a burst of senders spreads out; the deadline bounds the total.
const PACING: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(250))
    .with_max_delay(Duration::from_secs(4))
    .with_max_times(6)
    .with_jitter();
