//! Files and pictures through the ASM objects API (docs/skype-protocol.md §7):
//! create an object, upload its bytes, then post a `<URIObject>` message.

use std::sync::LazyLock;

use regex_lite::Regex;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::error::SkypeError;
use super::http::{Api, Auth, check, json_body};
use super::markup::escape_attribute;
use super::session::SkypeAuth;
use crate::domain::{Attachment, AttachmentKind, ConversationId};

static OBJECT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9\-]{1,100}$").unwrap());

impl AttachmentKind {
    fn object_type(self) -> &'static str {
        match self {
            Self::File => "sharing/file",
            Self::Image => "pish/image",
        }
    }

    fn view(self) -> &'static str {
        match self {
            Self::File => "original",
            Self::Image => "imgpsh",
        }
    }

    /// The `messagetype` of the message that shows the object.
    pub(crate) fn message_type(self) -> &'static str {
        match self {
            Self::File => "RichText/Media_GenericFile",
            Self::Image => "RichText/UriObject",
        }
    }
}

impl Api {
    /// Creates the object and uploads the bytes; answers the object id.
    pub(crate) async fn upload(
        &self,
        auth: &SkypeAuth,
        conversation: &ConversationId,
        attachment: &Attachment,
    ) -> Result<String, SkypeError> {
        let authorization = format!("skype_token {}", auth.token.expose_secret());
        let mut object = json!({
            "type": attachment.kind.object_type(),
            "permissions": { conversation.as_str(): ["read"] },
        });
        if attachment.kind == AttachmentKind::File {
            object["filename"] = Value::from(attachment.name.as_str());
        }
        let response = self
            .http
            .post(&self.urls.asm)
            .header("Authorization", &authorization)
            .header("X-Client-Version", "0/0.0.0.0")
            .json(&object)
            .send()
            .await?;
        let created = json_body(check(response, Auth::SkypeToken).await?, "ASM answer").await?;
        let id = created
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| OBJECT_ID.is_match(id))
            .ok_or_else(|| SkypeError::Protocol("ASM object without a usable id".into()))?
            .to_string();

        let response = self
            .http
            .put(format!(
                "{}/{id}/content/{}",
                self.urls.asm,
                attachment.kind.view()
            ))
            .header("Authorization", &authorization)
            .body(attachment.bytes.clone())
            .send()
            .await?;
        check(response, Auth::SkypeToken).await?;
        Ok(id)
    }

    /// The `<URIObject>` content that shows an uploaded object, as SkPy wrote it.
    pub(crate) fn uri_object(&self, attachment: &Attachment, id: &str) -> String {
        let asm = &self.urls.asm;
        let name = escape_attribute(&attachment.name);
        match attachment.kind {
            AttachmentKind::File => {
                let link = format!(
                    "{}/login/sso?go=webclient.xmm&amp;docid={id}",
                    self.urls.login
                );
                format!(
                    r#"<URIObject type="File.1" uri="{asm}/{id}" url_thumbnail="{asm}/{id}/views/thumbnail"><Title>Title: {name}</Title><Description>Description: {name}</Description><OriginalName v="{name}"/><FileSize v="{}"/><a href="{link}">{link}</a></URIObject>"#,
                    attachment.bytes.len()
                )
            }
            AttachmentKind::Image => {
                let origin = asm.strip_suffix("/v1/objects").unwrap_or(asm);
                let link = format!("{origin}/s/i?{id}");
                format!(
                    r#"<URIObject type="Picture.1" uri="{asm}/{id}" url_thumbnail="{asm}/{id}/views/imgt1"><Title/><Description/><OriginalName v="{name}"/><a href="{link}">{link}</a><meta type="photo" originalName="{name}"/></URIObject>"#
                )
            }
        }
    }
}
