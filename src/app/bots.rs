//! Posting, editing and deleting on the bot platforms (Slack, Discord,
//! Telegram): each arm renders in the platform's dialect, checks its size
//! limit, and makes one call through `src/bots/`, paced on its 429
//! within the deadline like Skype's and Teams'.

use secrecy::SecretString;

use super::App;
use super::deliver::{Body, cut_off_post, fits, paced};
use crate::bots::telegram::TelegramPlace;
use crate::bots::{BotError, Bots};
use crate::deadline::Deadline;
use crate::domain::{AttachmentKind, Delivered, Destination, Platform, Target};
use crate::error::{AppError, ErrorCode};
use crate::render;

impl App {
    /// The bot platforms' client of this container.
    fn bots(&self) -> Result<&Bots, AppError> {
        if let Some(bots) = self.bots.get() {
            return Ok(bots);
        }
        let built = Bots::new(self.config.bot_urls.clone())
            .map_err(|err| AppError::new(ErrorCode::DestinationUnavailable, err.to_string()))?;
        Ok(self.bots.get_or_init(|| built))
    }

    /// The bot token of `platform` from the secret.
    async fn bot_token(&self, platform: Platform) -> Result<SecretString, AppError> {
        let account = self.configured_account().await?;
        let (token, block) = match platform {
            Platform::Slack => (account.slack_token.clone(), "slack"),
            _ => (account.telegram_token.clone(), "telegram"),
        };
        token.ok_or_else(|| {
            AppError::new(
                ErrorCode::BadConfiguration,
                format!("a {block} channel is configured but the secret has no \"{block}\": {{\"bot_token\"}} block"),
            )
        })
    }

    /// One bot call, paced on the platform's rate limit, cut off at the
    /// deadline (a post cut off there may have been taken).
    async fn bot_call<T, F, Fut>(
        &self,
        deadline: Deadline,
        service: &'static str,
        call: F,
    ) -> Result<T, AppError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, BotError>>,
    {
        paced(deadline, service, call, AppError::from)
            .await
            .map_err(cut_off_post)
    }

    /// Posts `body` to a bot platform's `target`; `key` tags a Slack post
    /// so [`App::earlier_bot_post`] can find it again.
    pub(super) async fn post_to_bot(
        &self,
        target: &Target,
        body: Body<'_>,
        thread: Option<&str>,
        key: Option<&str>,
        deadline: Deadline,
    ) -> Result<Delivered, AppError> {
        let bots = self.bots()?;
        let platform = target.destination.platform();
        let id = match (&target.destination, body) {
            (Destination::Slack(channel), Body::Message(content)) => {
                let text = render::slack_bot(content);
                fits(target, &text)?;
                let token = self.bot_token(platform).await?;
                let slack = bots.slack(&token);
                self.bot_call(deadline, "Slack", || {
                    slack.post(channel, &text, thread, key)
                })
                .await?
            }
            (Destination::Slack(channel), Body::File(file)) => {
                let token = self.bot_token(platform).await?;
                let slack = bots.slack(&token);
                self.bot_call(deadline, "Slack", || slack.upload(channel, file, thread))
                    .await?
            }
            (Destination::DiscordWebhook(url), Body::Message(content)) => {
                let message = render::discord(content);
                fits(target, &message.content)?;
                self.bot_call(deadline, "Discord", || {
                    bots.discord_post(url, Some(&message), None, thread)
                })
                .await?
            }
            (Destination::DiscordWebhook(url), Body::File(file)) => {
                self.bot_call(deadline, "Discord", || {
                    bots.discord_post(url, None, Some(file), thread)
                })
                .await?
            }
            (Destination::Telegram(chat), body) => {
                let token = self.bot_token(platform).await?;
                let telegram = bots.telegram(&token);
                let place = TelegramPlace {
                    chat: &chat.chat,
                    topic: chat.topic,
                    reply_to: thread,
                };
                match body {
                    Body::Message(content) => {
                        let text = render::telegram(content);
                        fits(target, &text.visible)?;
                        self.bot_call(deadline, "Telegram", || telegram.send(place, &text.html))
                            .await?
                    }
                    Body::File(file) => {
                        let picture = file.kind == AttachmentKind::Image
                            && file.picture_type().is_some_and(|t| t != "image/webp");
                        self.bot_call(deadline, "Telegram", || {
                            telegram.send_file(place, file, picture)
                        })
                        .await?
                    }
                }
            }
            _ => {
                return Err(AppError::new(
                    ErrorCode::NotSupported,
                    format!("{} is not a bot platform's channel", target.name),
                ));
            }
        };
        Ok(Delivered::posted(&target.name, id, None))
    }

    /// Whether `platform`'s bot token works (its cheapest authenticated call).
    pub(super) async fn check_bot(
        &self,
        platform: Platform,
        deadline: Deadline,
    ) -> Result<(), AppError> {
        let token = self.bot_token(platform).await?;
        let bots = self.bots()?;
        match platform {
            Platform::Slack => {
                let slack = bots.slack(&token);
                self.bot_call(deadline, "Slack", || slack.check()).await
            }
            _ => {
                let telegram = bots.telegram(&token);
                self.bot_call(deadline, "Telegram", || telegram.check())
                    .await
            }
        }
    }

    /// Slack's read-back: the post tagged with `key`, if it arrived.
    pub(super) async fn earlier_bot_post(
        &self,
        target: &Target,
        key: &str,
        deadline: Deadline,
    ) -> Result<Option<Delivered>, AppError> {
        let Destination::Slack(channel) = &target.destination else {
            return Ok(None);
        };
        let token = self.bot_token(Platform::Slack).await?;
        let slack = self.bots()?.slack(&token);
        let found = self
            .bot_call(deadline, "Slack", || slack.find_by_key(channel, key))
            .await?;
        Ok(found.map(|ts| Delivered::posted(&target.name, ts, None)))
    }

    /// Replaces (`Some` content) or deletes (`None`) message `id` on a bot
    /// platform.
    pub(super) async fn change_on_bot(
        &self,
        target: &Target,
        id: &str,
        replacement: Option<&crate::domain::Content>,
        deadline: Deadline,
    ) -> Result<(), AppError> {
        let bots = self.bots()?;
        let platform = target.destination.platform();
        match &target.destination {
            Destination::Slack(channel) => {
                let token = self.bot_token(platform).await?;
                let slack = bots.slack(&token);
                match replacement {
                    Some(content) => {
                        let text = render::slack_bot(content);
                        fits(target, &text)?;
                        self.bot_call(deadline, "Slack", || slack.update(channel, id, &text))
                            .await
                    }
                    None => {
                        self.bot_call(deadline, "Slack", || slack.delete(channel, id))
                            .await
                    }
                }
            }
            Destination::DiscordWebhook(url) => match replacement {
                Some(content) => {
                    let message = render::discord(content);
                    fits(target, &message.content)?;
                    self.bot_call(deadline, "Discord", || bots.discord_edit(url, id, &message))
                        .await
                }
                None => {
                    self.bot_call(deadline, "Discord", || bots.discord_delete(url, id))
                        .await
                }
            },
            Destination::Telegram(chat) => {
                let token = self.bot_token(platform).await?;
                let telegram = bots.telegram(&token);
                match replacement {
                    Some(content) => {
                        let text = render::telegram(content);
                        fits(target, &text.visible)?;
                        self.bot_call(deadline, "Telegram", || {
                            telegram.edit(&chat.chat, id, &text.html)
                        })
                        .await
                    }
                    None => {
                        self.bot_call(deadline, "Telegram", || telegram.delete(&chat.chat, id))
                            .await
                    }
                }
            }
            _ => Err(AppError::new(
                ErrorCode::NotSupported,
                format!("{} is not a bot platform's channel", target.name),
            )),
        }
    }
}
