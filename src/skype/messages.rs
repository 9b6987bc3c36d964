//! Sending, editing, deleting and reading back messages
//! (docs/skype-protocol.md §6).

use std::sync::LazyLock;

use regex_lite::Regex;
use reqwest::header::LOCATION;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;

use super::error::SkypeError;
use super::http::{
    Api, Auth, MAX_ANSWER_BYTES, MAX_MESSAGE_PAGE_BYTES, check, json_body, read_body,
};
use super::markup;
use super::session::Registration;
use crate::domain::ConversationId;

const CLIENT_INFO: &str = "os=Windows; osVer=10; proc=x86; lcid=en-US; deviceType=1; country=US; clientName=skype4life; clientVer=1418/9.99.0.999//skype4life";

static MESSAGE_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]{1,25}$").unwrap());

/// How the text is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageFormat {
    /// Skype rich text (its HTML dialect); what the original service sent.
    #[default]
    Rich,
    /// Plain text (`messagetype: Text`), sent as given.
    Plain,
    /// An action ("/me waves"): shown as "`<bot name>` waves".
    Action,
}

/// A text message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// How `text` is to be read.
    pub format: MessageFormat,
    /// The content (markup for [`MessageFormat::Rich`]).
    pub text: String,
}

impl OutgoingMessage {
    /// Rich text, the default.
    pub fn rich(text: impl Into<String>) -> Self {
        Self {
            format: MessageFormat::Rich,
            text: text.into(),
        }
    }

    /// Plain text.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            format: MessageFormat::Plain,
            text: text.into(),
        }
    }

    /// An action ("/me").
    pub fn action(text: impl Into<String>) -> Self {
        Self {
            format: MessageFormat::Action,
            text: text.into(),
        }
    }
}

/// A message Skype accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The server's message id (from `Location`): what edits and deletes name.
    pub id: String,
    /// `OriginalArrivalTime`, Unix milliseconds, when Skype gave it.
    pub arrival_time: Option<u64>,
    /// Our `clientmessageid`: how `SkypeClient::find_sent` recognises it.
    pub client_message_id: String,
}

/// A server message id, checked to be the digits Skype hands out (it goes into a URL path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageId(String);

impl MessageId {
    /// Accepts the numeric ids of `Location` headers.
    pub fn parse(id: &str) -> Option<Self> {
        MESSAGE_ID
            .is_match(id.trim())
            .then(|| Self(id.trim().to_string()))
    }

    /// The id as Skype writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The JSON body of a message, fields in SkPy's order.
#[derive(Debug, Serialize)]
pub(crate) struct MessageBody {
    contenttype: &'static str,
    messagetype: &'static str,
    content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    imdisplayname: Option<String>,
    #[serde(rename = "Has-Mentions", skip_serializing_if = "Option::is_none")]
    has_mentions: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skypeemoteoffset: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clientmessageid: Option<String>,
}

impl MessageBody {
    /// A text message as SkPy's `sendMsg` builds it.
    pub fn text(message: &OutgoingMessage, display_name: &str) -> Self {
        let (messagetype, content, offset) = match message.format {
            MessageFormat::Rich => ("RichText", message.text.clone(), None),
            MessageFormat::Plain => ("Text", message.text.clone(), None),
            MessageFormat::Action => (
                "Text",
                format!("{display_name} {}", message.text),
                Some(display_name.chars().count() + 1),
            ),
        };
        let mentions = message.format == MessageFormat::Rich && markup::has_mentions(&content);
        Self {
            contenttype: "text",
            messagetype,
            content,
            imdisplayname: Some(display_name.to_string()),
            has_mentions: Some(if mentions { "true" } else { "false" }),
            skypeemoteoffset: offset,
            clientmessageid: None,
        }
    }

    /// A file or picture message: a `<URIObject>` and nothing else.
    pub fn media(messagetype: &'static str, content: String) -> Self {
        Self {
            contenttype: "text",
            messagetype,
            content,
            imdisplayname: None,
            has_mentions: None,
            skypeemoteoffset: None,
            clientmessageid: None,
        }
    }

    /// Marks a new message with its client id (edits carry none).
    pub fn with_client_id(mut self, id: String) -> Self {
        self.clientmessageid = Some(id);
        self
    }
}

impl Api {
    fn messages_url(&self, registration: &Registration, conversation: &ConversationId) -> String {
        format!(
            "{}/users/ME/conversations/{conversation}/messages",
            registration.msgs_host
        )
    }

    /// `POST .../conversations/<id>/messages`.
    pub(crate) async fn post_message(
        &self,
        registration: &Registration,
        conversation: &ConversationId,
        body: &MessageBody,
    ) -> Result<SentMessage, SkypeError> {
        let response = self
            .http
            .post(self.messages_url(registration, conversation))
            .header("RegistrationToken", registration.token.expose_secret())
            .header("ClientInfo", CLIENT_INFO)
            .json(body)
            .send()
            .await
            .map_err(SkypeError::of_post)?;
        let response = check(response, Auth::Registration).await?;
        let id = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|location| location.rsplit('/').next())
            .and_then(MessageId::parse)
            .ok_or_else(|| SkypeError::Protocol("sent message without a Location id".into()))?;
        // Posted: Skype named the message. The body only adds its time.
        let arrival_time = read_body(response, MAX_ANSWER_BYTES)
            .await
            .ok()
            .and_then(|body| serde_json::from_slice::<Value>(&body).ok())
            .and_then(|json| json.get("OriginalArrivalTime")?.as_u64());
        Ok(SentMessage {
            id: id.0,
            arrival_time,
            client_message_id: body.clientmessageid.clone().unwrap_or_default(),
        })
    }

    /// `GET .../conversations/<id>/messages`: the latest page of messages,
    /// newest first, with the parameters SkPy's `getMsgs` sends.
    pub(crate) async fn recent_messages(
        &self,
        registration: &Registration,
        conversation: &ConversationId,
    ) -> Result<Vec<Value>, SkypeError> {
        let response = self
            .http
            .get(self.messages_url(registration, conversation))
            .query(&[
                ("startTime", "0"),
                ("pageSize", "100"),
                ("view", "msnp24Equivalent"),
                ("targetType", "Passport|Skype|Lync|Thread"),
            ])
            .header("RegistrationToken", registration.token.expose_secret())
            .send()
            .await?;
        let response = check(response, Auth::Registration).await?;
        let body = read_body(response, MAX_MESSAGE_PAGE_BYTES).await?;
        let mut json: Value = serde_json::from_slice(&body)
            .map_err(|_| SkypeError::Protocol("the message list is not JSON".into()))?;
        match json.get_mut("messages").map(Value::take) {
            Some(Value::Array(messages)) => Ok(messages),
            _ => Err(SkypeError::Protocol(
                "the message list has no messages array".into(),
            )),
        }
    }

    /// `PUT .../messages/<id>`: replaces the content; answers `edittime`.
    pub(crate) async fn put_message(
        &self,
        registration: &Registration,
        conversation: &ConversationId,
        id: &MessageId,
        body: &MessageBody,
    ) -> Result<Option<u64>, SkypeError> {
        let response = self
            .http
            .put(format!(
                "{}/{}",
                self.messages_url(registration, conversation),
                id.as_str()
            ))
            .header("RegistrationToken", registration.token.expose_secret())
            .json(body)
            .send()
            .await?;
        let json = json_body(check(response, Auth::Registration).await?, "edit answer").await;
        Ok(json.ok().and_then(|json| json.get("edittime")?.as_u64()))
    }

    /// `DELETE .../messages/<id>`.
    pub(crate) async fn delete_message(
        &self,
        registration: &Registration,
        conversation: &ConversationId,
        id: &MessageId,
    ) -> Result<(), SkypeError> {
        let response = self
            .http
            .delete(format!(
                "{}/{}",
                self.messages_url(registration, conversation),
                id.as_str()
            ))
            .header("RegistrationToken", registration.token.expose_secret())
            .send()
            .await?;
        check(response, Auth::Registration).await?;
        Ok(())
    }
}

/// Our message among listed ones: the one with our `clientmessageid`,
/// sent by `user_id` (when the listing says who sent it).
pub(crate) fn find_listed(
    messages: &[Value],
    client_message_id: &str,
    user_id: &str,
) -> Result<Option<SentMessage>, SkypeError> {
    let text =
        |message: &Value, key: &str| message.get(key).and_then(Value::as_str).map(str::to_string);
    let ours = messages.iter().find(|message| {
        text(message, "clientmessageid").as_deref() == Some(client_message_id)
            && text(message, "from").is_none_or(|from| sent_by(&from, user_id))
    });
    let Some(message) = ours else {
        return Ok(None);
    };
    let id = text(message, "id")
        .as_deref()
        .and_then(MessageId::parse)
        .ok_or_else(|| SkypeError::Protocol("a listed message without a usable id".into()))?;
    let arrival_time = match message.get("originalarrivaltime") {
        Some(Value::String(time)) => unix_ms(time),
        Some(Value::Number(ms)) => ms.as_u64(),
        _ => None,
    };
    Ok(Some(SentMessage {
        id: id.0,
        arrival_time,
        client_message_id: client_message_id.to_string(),
    }))
}

/// Whether a `from` (`https://.../contacts/8:fred.2`, or the bare id)
/// names `user_id`: its last path segment, with or without `8:`.
fn sent_by(from: &str, user_id: &str) -> bool {
    let last = from.rsplit('/').next().unwrap_or(from);
    last == user_id || last.strip_prefix("8:") == Some(user_id)
}

/// An ISO-8601 time (`2026-01-02T03:04:05.678Z`) as Unix milliseconds.
fn unix_ms(time: &str) -> Option<u64> {
    let time = humantime::parse_rfc3339_weak(time).ok()?;
    let since = time.duration_since(std::time::UNIX_EPOCH).ok()?;
    u64::try_from(since.as_millis()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_message_is_ours_by_client_id_and_sender() {
        let listed: Vec<Value> = serde_json::from_str(
            r#"[
            {"id": "1700000000003", "clientmessageid": "42", "from": "https://h/v1/users/ME/contacts/8:alfred.2", "originalarrivaltime": "2023-11-14T22:13:20.003Z"},
            {"id": "1700000000002", "clientmessageid": "41", "from": "https://h/v1/users/ME/contacts/8:fred.2", "originalarrivaltime": "2023-11-14T22:13:20.002Z"},
            {"id": "1700000000001", "clientmessageid": "42", "from": "https://h/v1/users/ME/contacts/8:fred.2", "originalarrivaltime": "2023-11-14T22:13:20.001Z"}
        ]"#,
        )
        .unwrap();
        let found = find_listed(&listed, "42", "fred.2").unwrap().unwrap();
        assert_eq!(
            found,
            SentMessage {
                id: "1700000000001".into(),
                arrival_time: Some(1_700_000_000_001),
                client_message_id: "42".into(),
            }
        );
        assert_eq!(find_listed(&listed, "43", "fred.2").unwrap(), None);
        // Without a sender, the client id decides; an unreadable time is no time.
        let bare: Vec<Value> = serde_json::from_str(
            r#"[{"id": "7", "clientmessageid": "9", "originalarrivaltime": "soon"}]"#,
        )
        .unwrap();
        let found = find_listed(&bare, "9", "fred.2").unwrap().unwrap();
        assert_eq!((found.id.as_str(), found.arrival_time), ("7", None));
        let bad_id: Vec<Value> =
            serde_json::from_str(r#"[{"id": "../x", "clientmessageid": "9"}]"#).unwrap();
        assert!(matches!(
            find_listed(&bad_id, "9", "fred.2"),
            Err(SkypeError::Protocol(_))
        ));
    }

    fn json(body: &MessageBody) -> String {
        serde_json::to_string(body).unwrap()
    }

    #[test]
    fn plain_rich_and_action_bodies_are_skpys() {
        let plain = MessageBody::text(&OutgoingMessage::plain("Hello <world> & co"), "Fred Adams")
            .with_client_id("1795619355675".into());
        assert_eq!(
            json(&plain),
            r#"{"contenttype":"text","messagetype":"Text","content":"Hello <world> & co","imdisplayname":"Fred Adams","Has-Mentions":"false","clientmessageid":"1795619355675"}"#
        );
        let rich = MessageBody::text(
            &OutgoingMessage::rich(
                r#"<b raw_pre="*" raw_post="*">Bold</b> <at id="8:joe.4">Joe Bloggs</at>"#,
            ),
            "Fred Adams",
        );
        assert!(json(&rich).contains(r#""messagetype":"RichText""#));
        assert!(json(&rich).contains(r#""Has-Mentions":"true""#));
        let action = MessageBody::text(&OutgoingMessage::action("waves"), "Fred Adams");
        assert_eq!(
            json(&action),
            r#"{"contenttype":"text","messagetype":"Text","content":"Fred Adams waves","imdisplayname":"Fred Adams","Has-Mentions":"false","skypeemoteoffset":11}"#
        );
    }

    #[test]
    fn message_ids_are_digits() {
        assert!(MessageId::parse("1451606400000").is_some());
        assert!(MessageId::parse("../x").is_none());
        assert!(MessageId::parse("").is_none());
    }
}
