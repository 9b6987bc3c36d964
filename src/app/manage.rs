//! Changing what was posted: edit or delete a message the bot sent (Skype
//! or Teams), named by its id or by the idempotency key that posted it.

use super::deliver::fits;
use super::{App, require};
use crate::deadline::Deadline;
use crate::domain::{Caller, Capability, ChannelNames, Content, Destination, Target};
use crate::error::{AppError, ErrorCode};
use crate::render;
use crate::skype::{MessageId, SkypeError};

/// The longest message id we accept (Teams' are the longest, about 60).
const MAX_ID_CHARS: usize = 200;

/// Which message: the platform's id, or "the one my idempotency key posted".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageRef {
    /// The id a post answered with (Skype: digits; Teams: an activity id).
    Id(String),
    /// The idempotency key of the post.
    Key(String),
}

impl MessageRef {
    /// The `{id}` of `/messages/{id}`: the id a post answered with, or
    /// `key:<idempotency key>`.
    pub fn parse(segment: &str) -> Result<Self, AppError> {
        if let Some(key) = segment.strip_prefix("key:") {
            let key = key.trim();
            if key.is_empty() || key.len() > 255 {
                return Err(AppError::new(
                    ErrorCode::InvalidMessageId,
                    "key: must be followed by the idempotency key (1 to 255 characters)",
                ));
            }
            return Ok(Self::Key(key.to_string()));
        }
        let usable = !segment.is_empty()
            && segment.chars().count() <= MAX_ID_CHARS
            && !segment
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '/');
        match usable {
            true => Ok(Self::Id(segment.to_string())),
            false => Err(invalid_id()),
        }
    }
}

fn invalid_id() -> AppError {
    AppError::new(
        ErrorCode::InvalidMessageId,
        "the message id is the \"id\" a post answered with (digits for Skype), or key:<idempotency key>",
    )
}

/// A message to change, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRequest {
    /// The conversation (one; an alias or an id).
    pub channel: ChannelNames,
    /// The message.
    pub message: MessageRef,
}

/// An edit Skype made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The message id.
    pub id: String,
    /// The conversation id.
    pub channel: String,
    /// Skype's edit time, Unix milliseconds (Teams gives none).
    pub edit_time: Option<u64>,
}

/// A deletion Skype made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The message id.
    pub id: String,
    /// The conversation id.
    pub channel: String,
}

impl App {
    /// Replaces the text of a message the bot posted.
    pub async fn edit_within(
        &self,
        caller: &Caller,
        request: &MessageRequest,
        content: &Content,
        deadline: Deadline,
    ) -> Result<Edited, AppError> {
        let Located { target, id } = self.locate(caller, request, Capability::Edit).await?;
        let edit_time = match &target.destination {
            Destination::Skype(conversation) => {
                let message = render::skype(content);
                fits(&target, &message.text)?;
                let id = skype_id(&id)?;
                let ready = self.ready().await?;
                self.skype_call(ready, deadline, changed, || {
                    ready.skype.edit(conversation, &id, &message)
                })
                .await?
            }
            Destination::Teams(chat) => {
                let message = render::teams_bot(content);
                fits(&target, &message.text)?;
                self.change_in_teams(chat, &id, Some(&message), deadline)
                    .await?;
                None
            }
            Destination::Slack(_) | Destination::DiscordWebhook(_) | Destination::Telegram(_) => {
                self.change_on_bot(&target, &id, Some(content), deadline)
                    .await?;
                None
            }
            _ => return Err(cannot_change(&target)),
        };
        tracing::info!(caller = caller.name(), channel = %target.name, id = id.as_str(), "message edited");
        Ok(Edited {
            id,
            channel: target.name,
            edit_time,
        })
    }

    /// Deletes a message the bot posted.
    pub async fn delete_within(
        &self,
        caller: &Caller,
        request: &MessageRequest,
        deadline: Deadline,
    ) -> Result<Deleted, AppError> {
        let Located { target, id } = self.locate(caller, request, Capability::Delete).await?;
        match &target.destination {
            Destination::Skype(conversation) => {
                let id = skype_id(&id)?;
                let ready = self.ready().await?;
                self.skype_call(ready, deadline, changed, || {
                    ready.skype.delete(conversation, &id)
                })
                .await?;
            }
            Destination::Teams(chat) => self.change_in_teams(chat, &id, None, deadline).await?,
            Destination::Slack(_) | Destination::DiscordWebhook(_) | Destination::Telegram(_) => {
                self.change_on_bot(&target, &id, None, deadline).await?
            }
            _ => return Err(cannot_change(&target)),
        }
        tracing::info!(caller = caller.name(), channel = %target.name, id = id.as_str(), "message deleted");
        Ok(Deleted {
            id,
            channel: target.name,
        })
    }

    /// The one target and the message id a request names.
    async fn locate(
        &self,
        caller: &Caller,
        request: &MessageRequest,
        change: Capability,
    ) -> Result<Located, AppError> {
        let mut targets = self.targets(caller, &request.channel).await?;
        if targets.len() != 1 {
            return Err(AppError::new(
                ErrorCode::InvalidChannel,
                "name exactly one conversation: a message lives in one place",
            ));
        }
        let target = targets.remove(0);
        // Errors name the channel as the caller wrote it, never the
        // conversation behind an alias.
        let shown = request
            .channel
            .names()
            .first()
            .map_or(target.name.as_str(), |name| name.trim())
            .to_string();
        require(
            &target,
            change,
            ErrorCode::NotSupported,
            "its messages cannot be edited or deleted",
        )?;
        let id = match &request.message {
            MessageRef::Id(id) => {
                self.check_owner(caller, &target, &shown, id).await?;
                id.clone()
            }
            // Found among this caller's own records: its own post.
            MessageRef::Key(key) => self
                .recorded(caller, &target, key)
                .await?
                .and_then(|posted| posted.id)
                .ok_or_else(|| {
                    AppError::new(ErrorCode::MessageNotFound,
                        format!(
                            "no message was posted to {shown} with this idempotency key in the last day"
                        ),
                    )
                })?,
        };
        Ok(Located { target, id })
    }
}

impl App {
    /// Only the poster may change a message: a scoped key must have
    /// posted it (with an idempotency key, which records the owner);
    /// unscoped keys and AWS triggers may change any message the bot
    /// posted. The answer never tells whose the message is.
    async fn check_owner(
        &self,
        caller: &Caller,
        target: &Target,
        shown: &str,
        id: &str,
    ) -> Result<(), AppError> {
        if caller.is_unscoped() {
            return Ok(());
        }
        let owner = self.ledger.owner_of(&target.key(), id).await?;
        if owner.as_deref() == Some(caller.scope().as_str()) {
            return Ok(());
        }
        Err(AppError::new(
            ErrorCode::NotOwnMessage,
            format!(
                "this API key may change only the messages it posted with an idempotency key; message {id} in {shown} is not one of them",
            ),
        ))
    }
}

/// Where a message to change is.
struct Located {
    /// Its one target.
    target: Target,
    /// The platform's id of it.
    id: String,
}

/// A Skype message id (digits), or why it is not one.
fn skype_id(id: &str) -> Result<MessageId, AppError> {
    MessageId::parse(id).ok_or_else(invalid_id)
}

/// Only reached if the capability table and this file disagree.
fn cannot_change(target: &Target) -> AppError {
    AppError::new(
        ErrorCode::NotSupported,
        format!("{}'s messages cannot be edited or deleted", target.name),
    )
}

/// Skype's answers to an edit or delete, in the caller's terms.
fn changed(err: SkypeError) -> AppError {
    match err {
        SkypeError::Rejected { status: 404, .. } => AppError::new(
            ErrorCode::MessageNotFound,
            "Skype has no such message in this conversation",
        ),
        SkypeError::Rejected { status: 403, .. } => AppError::new(
            ErrorCode::NotOwnMessage,
            "only messages the bot posted can be edited or deleted",
        ),
        other => AppError::from(other),
    }
}
