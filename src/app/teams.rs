//! The Teams bot's use cases: posting through a stored conversation
//! reference, and `POST /api/messages`, where the Bot Framework tells the
//! bot where it was installed. The wire format is `src/teams/`'s; here is
//! what to do with it.

use serde::Deserialize;
use serde_json::Value;

use super::App;
use super::deliver::{cut_off_post, paced};
use crate::deadline::Deadline;
use crate::domain::{Delivered, Target, TeamsChat, is_teams_conversation_id};
use crate::error::{AppError, ErrorCode};
use crate::skype::markup;
use crate::state::StoreError;
use crate::teams::reference::{base_conversation, storage_key};
use crate::teams::{AppCredentials, ConversationRef, TeamsClient, TeamsError, TeamsMessage};

/// What the Bot Framework posts: the fields the bot reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Activity {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    service_url: String,
    #[serde(default)]
    conversation: Option<Conversation>,
    #[serde(default)]
    recipient: Option<Account>,
    #[serde(default)]
    members_added: Vec<Account>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    channel_data: Option<ChannelData>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Conversation {
    id: String,
    #[serde(default)]
    conversation_type: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Account {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ChannelData {
    #[serde(default)]
    tenant: Option<Named>,
    #[serde(default)]
    team: Option<Named>,
}

#[derive(Debug, Deserialize)]
struct Named {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// What an inbound activity asks of the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// It was installed here: remember, and introduce itself once.
    Installed,
    /// Someone asked `id`: remember, and answer in the thread.
    Id,
    /// Anything else: nothing to do.
    Nothing,
}

impl Activity {
    fn asked(&self) -> Asked {
        let bot = self.recipient.as_ref().map(|r| r.id.as_str());
        match self.kind.as_str() {
            "conversationUpdate"
                if self
                    .members_added
                    .iter()
                    .any(|member| Some(member.id.as_str()) == bot) =>
            {
                Asked::Installed
            }
            "installationUpdate"
                if self
                    .action
                    .as_deref()
                    .is_some_and(|action| action.starts_with("add")) =>
            {
                Asked::Installed
            }
            "message" if is_id_question(self.text.as_deref().unwrap_or_default()) => Asked::Id,
            _ => Asked::Nothing,
        }
    }
}

/// `<at>Bot</at> id` (any case, the mention anywhere).
fn is_id_question(text: &str) -> bool {
    let mut rest = text.to_string();
    while let Some(start) = rest.find("<at>") {
        let end = rest[start..]
            .find("</at>")
            .map_or(rest.len(), |end| start + end + 5);
        rest.replace_range(start..end, " ");
    }
    rest.trim().eq_ignore_ascii_case("id")
}

impl App {
    /// The Teams client of this container.
    pub(super) fn teams(&self) -> Result<&TeamsClient, AppError> {
        if let Some(client) = self.teams.get() {
            return Ok(client);
        }
        let built = TeamsClient::new(self.config.teams_urls.clone())
            .map_err(|err| AppError::new(ErrorCode::TeamsUnavailable, err.to_string()))?;
        Ok(self.teams.get_or_init(|| built))
    }

    /// The bot's app registration, from the secret.
    async fn teams_app(&self) -> Result<AppCredentials, AppError> {
        self.configured_account().await?.teams.clone().ok_or_else(|| {
            AppError::new(
                ErrorCode::BadConfiguration,
                "a Teams channel is configured but the secret has no \"teams\" block (app_id, app_password, tenant_id)",
            )
        })
    }

    /// The stored reference of the first of `chat`'s conversations the bot
    /// was seen installed in (cached for the container's life).
    async fn reference(&self, chat: &TeamsChat) -> Result<ConversationRef, AppError> {
        for id in chat.references() {
            if let Some(found) = self.teams_refs_cached(id) {
                return Ok(found);
            }
            if let Some(stored) = self.teams_store.object(&storage_key(id)).load().await? {
                if let Ok(found) = serde_json::from_str::<ConversationRef>(&stored.text) {
                    self.remember(&found);
                    return Ok(found);
                }
                tracing::warn!("a stored Teams conversation reference is unreadable");
            }
        }
        Err(AppError::new(
            ErrorCode::TeamsNotInConversation,
            "the bot has not been installed in this Teams conversation (no installation was seen): add the app to the team or chat, then post again",
        ))
    }

    fn teams_refs_cached(&self, id: &str) -> Option<ConversationRef> {
        let refs = self.teams_refs.lock().unwrap_or_else(|e| e.into_inner());
        refs.get(base_conversation(id)).cloned()
    }

    fn remember(&self, reference: &ConversationRef) {
        let mut refs = self.teams_refs.lock().unwrap_or_else(|e| e.into_inner());
        refs.insert(reference.conversation.clone(), reference.clone());
    }

    /// One Teams call: paced when Teams throttles, cut off at the deadline.
    async fn teams_call<T, F, Fut>(&self, deadline: Deadline, call: F) -> Result<T, AppError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, TeamsError>>,
    {
        paced(deadline, "Teams", call, AppError::from).await
    }

    /// Posts `activity` to `chat`: into the conversation, as a reply to
    /// `thread`, or as a new thread of a channel.
    pub(super) async fn post_to_teams(
        &self,
        target: &Target,
        chat: &TeamsChat,
        activity: &Value,
        thread: Option<&str>,
        deadline: Deadline,
    ) -> Result<Delivered, AppError> {
        let app = self.teams_app().await?;
        let reference = self.reference(chat).await?;
        let client = self.teams()?;
        let (app, reference) = (&app, &reference);
        let id = self
            .teams_call(deadline, || async {
                match (chat, thread) {
                    (_, Some(thread)) => client.reply(app, reference, thread, activity).await,
                    (TeamsChat::Channel { channel, .. }, None) => {
                        client.start_thread(app, reference, channel, activity).await
                    }
                    (TeamsChat::Conversation(_), None) => {
                        client.send(app, reference, activity).await
                    }
                }
            })
            .await
            .map_err(|err| match err.code {
                // A reply to a message that is not there.
                ErrorCode::MessageNotFound => AppError::new(
                    ErrorCode::MessageNotFound,
                    format!(
                        "{} has no message {:?} to reply to",
                        target.name,
                        thread.unwrap_or_default()
                    ),
                ),
                _ => cut_off_post(err),
            })?;
        Ok(Delivered::posted(&target.name, id, None))
    }

    /// Replaces (`Some`) or deletes (`None`) activity `id` in `chat`.
    pub(super) async fn change_in_teams(
        &self,
        chat: &TeamsChat,
        id: &str,
        replacement: Option<&TeamsMessage>,
        deadline: Deadline,
    ) -> Result<(), AppError> {
        let app = self.teams_app().await?;
        let mut reference = self.reference(chat).await?;
        // A channel's threads live in the channel's conversation.
        if let TeamsChat::Channel { channel, .. } = chat {
            reference.conversation = channel.clone();
        }
        let client = self.teams()?;
        let (app, reference) = (&app, &reference);
        let activity = replacement.map(TeamsMessage::activity);
        self.teams_call(deadline, || async {
            match &activity {
                Some(activity) => client.update(app, reference, id, activity).await,
                None => client.delete(app, reference, id).await,
            }
        })
        .await
    }

    /// `POST /api/messages`: an activity from the Bot Framework. Refused
    /// (401) unless its token is valid for this bot and vouches for its
    /// `serviceUrl`, which must be an allowed Bot Framework host; nothing
    /// is read, stored or posted before that.
    pub async fn teams_inbound(
        &self,
        authorization: Option<&str>,
        body: &[u8],
        deadline: Deadline,
    ) -> Result<(), AppError> {
        let account = self.account().await?;
        let Some(app) = account.teams.clone() else {
            tracing::warn!("a Teams activity arrived, but the secret has no \"teams\" block");
            return Err(not_from_the_bot_framework());
        };
        let client = self.teams()?;
        let token = client
            .verify_inbound(&app.app_id, authorization)
            .await
            .map_err(|refusal| {
                tracing::info!(reason = %refusal, "refused a Teams activity");
                not_from_the_bot_framework()
            })?;
        let activity: Activity = serde_json::from_slice(body).map_err(|_| {
            AppError::new(
                ErrorCode::InvalidJson,
                "the activity is not the Bot Framework's JSON",
            )
        })?;
        if !token.vouches_for(&activity.service_url) {
            tracing::info!("refused a Teams activity: its serviceUrl is not its token's");
            return Err(not_from_the_bot_framework());
        }
        let Some(service_url) = client.urls().allowed_service_url(&activity.service_url) else {
            tracing::warn!(
                "refused a Teams activity: its serviceUrl is not an allowed Bot Framework host"
            );
            return Err(not_from_the_bot_framework());
        };
        let asked = activity.asked();
        let Some(reference) = reference_of(&activity, service_url) else {
            return Ok(());
        };
        if asked == Asked::Nothing {
            return Ok(());
        }
        let new = self.store_reference(&reference).await?;
        self.remember(&reference);
        tracing::info!(
            kind = reference.kind.as_deref().unwrap_or("-"),
            new,
            "Teams conversation reference stored"
        );
        let introduce = match asked {
            Asked::Installed if !new => return Ok(()),
            _ => introduction(&reference, activity.recipient.as_ref()),
        };
        let reply_to = match asked {
            Asked::Id => activity.id.as_deref(),
            _ => None,
        };
        let posted = self
            .teams_call(deadline, || async {
                match reply_to {
                    Some(id) => client.reply(&app, &reference, id, &introduce).await,
                    None => client.send(&app, &reference, &introduce).await,
                }
            })
            .await;
        if let Err(err) = posted {
            // Stored all the same: the alias works, only the hello is lost.
            tracing::warn!(
                error = err.code.as_str(),
                "could not introduce the bot in Teams"
            );
        }
        Ok(())
    }

    /// Stores `reference`; whether it is new (so the bot says hello once).
    async fn store_reference(&self, reference: &ConversationRef) -> Result<bool, AppError> {
        let object = self
            .teams_store
            .object(&storage_key(&reference.conversation));
        let text = serde_json::to_string(reference).unwrap_or_default();
        let existing = object.load().await?;
        match existing {
            None => match object.save(&text, None).await {
                Ok(_) => Ok(true),
                // Another container stored it a moment ago (and said hello).
                Err(StoreError::Conflict) => Ok(false),
                Err(err) => Err(err.into()),
            },
            Some(stored) => {
                if stored.text != text {
                    match object.save(&text, Some(&stored.version)).await {
                        Ok(_) | Err(StoreError::Conflict) => {}
                        Err(err) => return Err(err.into()),
                    }
                }
                Ok(false)
            }
        }
    }

    /// How many conversation references are stored (for `/health`).
    pub(super) async fn teams_conversations(&self) -> Result<usize, AppError> {
        Ok(self.teams_store.count().await?)
    }
}

/// The one answer to anything the checks refuse: it says what is expected
/// and nothing of which check failed (that is logged).
fn not_from_the_bot_framework() -> AppError {
    AppError::new(
        ErrorCode::Unauthorized,
        "this is the Teams bot's endpoint: it takes activities from the Bot Framework, with a valid Bot Framework token for this bot",
    )
}

/// The reference an activity gives, when its conversation id is usable.
fn reference_of(activity: &Activity, service_url: String) -> Option<ConversationRef> {
    let conversation = activity.conversation.as_ref()?;
    let id = base_conversation(&conversation.id);
    if !is_teams_conversation_id(id) {
        return None;
    }
    let channel_data = activity.channel_data.as_ref();
    let team = channel_data.and_then(|data| data.team.as_ref());
    let tenant = conversation
        .tenant_id
        .clone()
        .or_else(|| channel_data.and_then(|d| d.tenant.as_ref()?.id.clone()));
    let clip = |text: Option<String>| text.map(|t| t.chars().take(200).collect::<String>());
    Some(ConversationRef {
        conversation: id.to_string(),
        service_url,
        tenant: clip(tenant),
        team: clip(team.and_then(|t| t.id.clone())),
        kind: clip(conversation.conversation_type.clone()),
        name: clip(
            conversation
                .name
                .clone()
                .or_else(|| team.and_then(|t| t.name.clone())),
        ),
    })
}

/// The bot's hello: what it is, the conversation's id, and the alias line.
fn introduction(reference: &ConversationRef, bot: Option<&Account>) -> Value {
    let name = bot
        .and_then(|bot| bot.name.as_deref())
        .unwrap_or("skype-sender");
    let id = &reference.conversation;
    let alias = alias_hint(reference);
    let entry = |field: &str| format!(r#""{alias}": {{"kind": "teams", "{field}": "{id}"}}"#);
    let mut text = format!(
        "Hello, I am {name}: I post what your tools send with one curl command (skype-sender).<br><br>This conversation's id is <code>{id}</code>. To post here, add this alias to the \"channels\" of the skype-sender secret:<br><br><code>{}</code>",
        markup::escape(&entry("conversation")),
        name = markup::escape(name),
        id = markup::escape(id),
    );
    if reference.kind.as_deref() == Some("channel") {
        text.push_str(&format!(
            "<br><br>Or, to start a new thread in this channel with every post: <code>{}</code>",
            markup::escape(&entry("channel")),
        ));
    }
    TeamsMessage {
        text,
        mentions: Vec::new(),
    }
    .activity()
}

/// A suggested alias: the conversation's name, made safe, or `teams`.
fn alias_hint(reference: &ConversationRef) -> String {
    let hint: String = reference
        .name
        .as_deref()
        .unwrap_or("teams")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let hint = hint.trim_matches('-');
    if hint.is_empty() {
        "teams".into()
    } else {
        hint.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_questions_ignore_the_mention() {
        assert!(is_id_question("<at>Skype Sender</at> id"));
        assert!(is_id_question(" ID <at>Bot</at>\n"));
        assert!(!is_id_question("<at>Bot</at> identify"));
        assert!(!is_id_question("<at>Bot</at> id please"));
        assert!(!is_id_question("<at>unclosed id"));
    }
}
