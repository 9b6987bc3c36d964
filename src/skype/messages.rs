//! Sending, editing and deleting messages (skype-protocol.md §4).

use std::sync::LazyLock;

use regex_lite::Regex;
use reqwest::header::LOCATION;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;

use super::conversation::ConversationId;
use super::error::SkypeError;
use super::http::{Api, Auth, check, json_body};
use super::markup;
use super::session::Registration;

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
    /// An action ("/me waves"): shown as "<bot name> waves".
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
    /// Our `clientmessageid` (Skype de-duplicates on it).
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
            .await?;
        let response = check(response, Auth::Registration).await?;
        let id = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|location| location.rsplit('/').next())
            .and_then(MessageId::parse)
            .ok_or_else(|| SkypeError::Protocol("sent message without a Location id".into()))?;
        let text = response.text().await.unwrap_or_default();
        let arrival_time = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|json| json.get("OriginalArrivalTime")?.as_u64());
        Ok(SentMessage {
            id: id.0,
            arrival_time,
            client_message_id: body.clientmessageid.clone().unwrap_or_default(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

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
