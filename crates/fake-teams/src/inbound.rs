//! Activities as the Bot Framework posts them to a bot's messaging
//! endpoint: the bot added to a conversation, the app installed, and a
//! user @mentioning the bot with `id`. Each carries what the bot must store
//! as a conversation reference: `serviceUrl`, `conversation.id`,
//! `channelData.tenant.id`, `channelData.team` in a channel, and the bot as
//! `recipient`.

use serde_json::{Value, json};

use super::state::State;
use super::wire::{guid, iso8601_ms, now_ms};
use super::{ConversationKind, Member, StoredActivity, base_conversation};

/// Who and where an inbound activity is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The bot's app id (`recipient.id` is `28:<app id>`).
    pub app_id: String,
    /// The bot's display name, also its `<at>` text.
    pub bot_name: String,
    /// The conversation (base id; its kind follows from its shape).
    pub conversation: String,
    /// `channelData.tenant.id`.
    pub tenant: String,
    /// `channelData.team.id` in a channel (default: the conversation id,
    /// as a team's General channel has the team's id).
    pub team: Option<String>,
    /// The user who acts (adds the bot, @mentions it).
    pub user: Member,
}

impl Inbound {
    /// The bot `app_id` named "Skype Sender" in `conversation` of `tenant`,
    /// acted on by a user named Ann.
    pub fn new(app_id: &str, conversation: &str, tenant: &str) -> Inbound {
        Inbound {
            app_id: app_id.to_string(),
            bot_name: "Skype Sender".to_string(),
            conversation: conversation.to_string(),
            tenant: tenant.to_string(),
            team: None,
            user: Member::named("Ann"),
        }
    }

    /// In this team (a channel of it).
    pub fn team(mut self, team: &str) -> Inbound {
        self.team = Some(team.to_string());
        self
    }
}

/// Which inbound activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboundKind {
    /// `conversationUpdate` whose `membersAdded` holds the bot.
    BotAdded,
    /// `installationUpdate` with `action: add`.
    InstallationAdd,
    /// A `message` from the user: `<at>Bot</at> id`, with its mention entity.
    MentionId,
}

/// The activity JSON; installs the app or stores the user's message.
pub(crate) fn build(
    state: &mut State,
    inbound: &Inbound,
    kind: InboundKind,
    service_url: &str,
) -> Value {
    let base = base_conversation(&inbound.conversation).to_string();
    let conversation_kind = ConversationKind::of(&base);
    let team = inbound.team.clone().unwrap_or_else(|| base.clone());
    let bot = json!({"id": format!("28:{}", inbound.app_id), "name": inbound.bot_name});
    let from = json!({
        "id": inbound.user.id,
        "name": inbound.user.name,
        "aadObjectId": inbound.user.aad_object_id,
    });
    let (conversation_type, is_group) = match conversation_kind {
        ConversationKind::Channel => ("channel", true),
        ConversationKind::GroupChat => ("groupChat", true),
        ConversationKind::Personal => ("personal", false),
    };
    let mut channel_data = json!({"tenant": {"id": inbound.tenant}});
    if conversation_kind == ConversationKind::Channel {
        channel_data["team"] = json!({"id": team, "name": "Team", "aadGroupId": guid()});
        channel_data["channel"] = json!({"id": base});
    }
    let now = now_ms();
    let mut conversation_id = base.clone();
    let mut activity = json!({
        "timestamp": iso8601_ms(now),
        "localTimestamp": iso8601_ms(now),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": from,
        "recipient": bot,
        "locale": "en-US",
    });
    {
        let conversation = state.conversation_mut(&base);
        conversation.add_member(inbound.user.clone());
        if kind != InboundKind::MentionId {
            conversation.roster.insert(inbound.app_id.clone());
        }
    }
    match kind {
        InboundKind::BotAdded => {
            activity["type"] = json!("conversationUpdate");
            activity["id"] = json!(format!("f:{}", guid()));
            activity["membersAdded"] = json!([{"id": bot["id"]}]);
            if conversation_kind == ConversationKind::Channel {
                channel_data["eventType"] = json!("teamMemberAdded");
            }
        }
        InboundKind::InstallationAdd => {
            activity["type"] = json!("installationUpdate");
            activity["id"] = json!(format!("f:{}", guid()));
            activity["action"] = json!("add");
            channel_data["source"] = json!({"name": "message"});
        }
        InboundKind::MentionId => {
            let id = state.next_activity_id();
            let at = format!("<at>{}</at>", inbound.bot_name);
            let text = format!("{at} id");
            let entities = json!([
                {"type": "mention", "mentioned": bot, "text": at},
                {"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Web"},
            ]);
            activity["type"] = json!("message");
            activity["id"] = json!(id);
            activity["text"] = json!(text);
            activity["textFormat"] = json!("plain");
            activity["entities"] = entities.clone();
            let thread = (conversation_kind == ConversationKind::Channel).then(|| id.clone());
            if let Some(root) = &thread {
                conversation_id = format!("{base};messageid={root}");
            }
            state.activities.push(StoredActivity {
                id,
                conversation: base.clone(),
                thread,
                reply_to_id: None,
                from: inbound.user.id.clone(),
                text: Some(text),
                text_format: Some("plain".into()),
                attachments: Vec::new(),
                entities: entities.as_array().cloned().unwrap_or_default(),
                edited: false,
                deleted: false,
                body: Value::Null,
            });
        }
    }
    activity["conversation"] = json!({
        "id": conversation_id,
        "conversationType": conversation_type,
        "isGroup": is_group,
        "tenantId": inbound.tenant,
    });
    activity["channelData"] = channel_data;
    if let InboundKind::MentionId = kind
        && let Some(stored) = state.activities.last_mut()
    {
        stored.body = activity.clone();
    }
    activity
}
