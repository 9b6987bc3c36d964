//! Posting a message or a file to every target a request names: all at
//! once, each with its own result, each at most once per idempotency key
//! (so a retry after a partial failure posts only where it failed).

use futures_util::future::join_all;

use super::deliver::{Body, Outgoing};
use super::{App, NO_FILES, require};
use crate::deadline::Deadline;
use crate::domain::{
    Attachment, AttachmentKind, Caller, Capability, ChannelNames, Content, Delivered, Target,
};
use crate::error::{AppError, ErrorCode};
use crate::idempotency::{Claim, Part, PostKey};
use crate::metrics;

/// A message to send, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    /// Where: one channel or several (aliases or conversation ids).
    pub channels: ChannelNames,
    /// What to say.
    pub content: Content,
    /// The message to reply to, in its thread (`thread`).
    pub thread: Option<String>,
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
    /// The message to reply to, in its thread (`thread`).
    pub thread: Option<String>,
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
        let thread = request.thread.as_deref();
        threads_allowed(&targets, thread)?;
        let key = request.idempotency_key.as_deref();
        let posts = targets.iter().map(|target| async move {
            let message = Outgoing {
                body: Body::Message(&request.content),
                thread,
            };
            let result = self
                .once(caller, target, Part::Post, key, message, deadline)
                .await;
            self.outcome(target, result)
        });
        Ok(join_all(posts).await)
    }

    /// Posts a file (then its caption) to each target: Skype, or a
    /// picture to Teams.
    pub async fn send_file_within(
        &self,
        caller: &Caller,
        request: &FileRequest,
        deadline: Deadline,
    ) -> Result<Vec<Outcome>, AppError> {
        let targets = self.targets(caller, &request.channels).await?;
        let picture = request.attachment.kind == AttachmentKind::Image;
        for target in &targets {
            let platform = target.destination.platform();
            if !(picture && platform.can(Capability::Pictures)) {
                require(
                    target,
                    Capability::Files,
                    ErrorCode::FilesNotSupported,
                    NO_FILES,
                )?;
            }
        }
        let thread = request.thread.as_deref();
        threads_allowed(&targets, thread)?;
        let key = request.idempotency_key.as_deref();
        let posts = targets.iter().map(|target| async {
            let file = Outgoing {
                body: Body::File(&request.attachment),
                thread,
            };
            let file = self
                .once(caller, target, Part::Post, key, file, deadline)
                .await;
            let result = match (file, &request.caption) {
                (Ok(file), Some(caption)) => self
                    .once(
                        caller,
                        target,
                        Part::Caption,
                        key,
                        Outgoing {
                            body: Body::Message(caption),
                            thread,
                        },
                        deadline,
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

    /// Delivers `outgoing` at most once per `key` for this caller, target
    /// and part: a repeat gets the first result, a concurrent one a 409.
    /// The post gets the `clientmessageid` derived from the key. When an
    /// earlier attempt may have been posted (no answer came, or its sender
    /// died), that is checked first and never assumed: see
    /// [`App::earlier_post`].
    async fn once(
        &self,
        caller: &Caller,
        target: &Target,
        part: Part,
        key: Option<&str>,
        outgoing: Outgoing<'_>,
        deadline: Deadline,
    ) -> Result<Took, AppError> {
        let post = async |client_id| self.deliver(target, outgoing, client_id, deadline).await;
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
}

/// Refuses a `thread` for targets whose platform has none, before
/// anything is posted.
pub(super) fn threads_allowed(targets: &[Target], thread: Option<&str>) -> Result<(), AppError> {
    if thread.is_none() {
        return Ok(());
    }
    for target in targets {
        require(
            target,
            Capability::Threads,
            ErrorCode::NotSupported,
            "it has no threads to reply in (leave out \"thread\")",
        )?;
    }
    Ok(())
}

/// How a target's result came about.
enum Took {
    /// Posted by this request.
    Now(Delivered),
    /// Posted by an earlier request with the same idempotency key.
    Before(Delivered),
}
