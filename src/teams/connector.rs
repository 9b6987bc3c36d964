//! The Bot Connector REST API at a conversation's `serviceUrl`: send,
//! reply, start a channel thread, update and delete, each with the app
//! token, each answer classified into a [`TeamsError`].

use reqwest::{Method, Url};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;

use super::TeamsClient;
use super::error::TeamsError;
use super::reference::{ConversationRef, base_conversation};
use super::token::AppCredentials;
use crate::http_answer::Answer;

/// Connector answers are an id or a small error; more is not read.
const MAX_ANSWER: usize = 16 * 1024;

/// What a new activity's answer carries.
#[derive(Deserialize)]
struct Created {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "activityId")]
    activity_id: Option<String>,
}

/// The Connector's error body: `{"error": {"code", "message"}}`.
#[derive(Deserialize, Default)]
struct Failure {
    #[serde(default)]
    error: FailureDetail,
}

#[derive(Deserialize, Default)]
struct FailureDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl TeamsClient {
    /// Posts `activity` to the conversation; its activity id. In a
    /// channel this starts a new post (a thread of its own).
    pub async fn send(
        &self,
        app: &AppCredentials,
        to: &ConversationRef,
        activity: &Value,
    ) -> Result<String, TeamsError> {
        let url = self.activities_url(to, None)?;
        let answer = self.call(app, Method::POST, url, Some(activity)).await?;
        created(&answer, false)
    }

    /// Posts `activity` as a reply to activity `reply_to` (in a channel:
    /// into that post's thread).
    pub async fn reply(
        &self,
        app: &AppCredentials,
        to: &ConversationRef,
        reply_to: &str,
        activity: &Value,
    ) -> Result<String, TeamsError> {
        let url = self.activities_url(to, Some(reply_to))?;
        let answer = self.call(app, Method::POST, url, Some(activity)).await?;
        created(&answer, false)
    }

    /// Starts a new thread in `channel` of `team`'s conversation reference;
    /// the activity id of its first post.
    pub async fn start_thread(
        &self,
        app: &AppCredentials,
        team: &ConversationRef,
        channel: &str,
        activity: &Value,
    ) -> Result<String, TeamsError> {
        let mut url = self.base(team)?;
        extend(&mut url, &["v3", "conversations"]);
        let mut parameters = serde_json::json!({
            "isGroup": true,
            "channelData": {"channel": {"id": channel}},
            "activity": activity,
        });
        if let Some(tenant) = &team.tenant {
            parameters["tenantId"] = Value::String(tenant.clone());
            parameters["channelData"]["tenant"] = serde_json::json!({"id": tenant});
        }
        let answer = self.call(app, Method::POST, url, Some(&parameters)).await?;
        created(&answer, true)
    }

    /// Replaces the content of one of the bot's activities.
    pub async fn update(
        &self,
        app: &AppCredentials,
        to: &ConversationRef,
        activity_id: &str,
        activity: &Value,
    ) -> Result<(), TeamsError> {
        let mut activity = activity.clone();
        activity["id"] = Value::String(activity_id.to_string());
        let url = self.activities_url(to, Some(activity_id))?;
        self.call(app, Method::PUT, url, Some(&activity)).await?;
        Ok(())
    }

    /// Deletes one of the bot's activities.
    pub async fn delete(
        &self,
        app: &AppCredentials,
        to: &ConversationRef,
        activity_id: &str,
    ) -> Result<(), TeamsError> {
        let url = self.activities_url(to, Some(activity_id))?;
        self.call(app, Method::DELETE, url, None).await?;
        Ok(())
    }

    /// `{serviceUrl}v3/conversations/{id}/activities[/{activity}]`, each
    /// id one encoded path segment.
    fn activities_url(
        &self,
        to: &ConversationRef,
        activity: Option<&str>,
    ) -> Result<Url, TeamsError> {
        let mut url = self.base(to)?;
        let conversation = base_conversation(&to.conversation);
        extend(
            &mut url,
            &["v3", "conversations", conversation, "activities"],
        );
        if let Some(activity) = activity {
            extend(&mut url, &[activity]);
        }
        Ok(url)
    }

    /// The reference's service URL, checked against the allow-list again:
    /// a store written under another configuration must not widen it.
    fn base(&self, to: &ConversationRef) -> Result<Url, TeamsError> {
        self.urls
            .allowed_service_url(&to.service_url)
            .and_then(|allowed| Url::parse(&allowed).ok())
            .ok_or(TeamsError::NotInConversation)
    }

    /// One authenticated call; a refused token is renewed once.
    async fn call(
        &self,
        app: &AppCredentials,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, TeamsError> {
        let posts = method != Method::DELETE;
        for attempt in 0..2 {
            let token = self.tokens.get(&self.http, &self.urls, app).await?;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.expose_secret());
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|err| TeamsError::from_transport(&err, posts))?;
            let answer = Answer::read(response, MAX_ANSWER).await;
            tracing::debug!(method = %method, status = answer.status, "Teams Connector answered");
            if answer.status == 401 && attempt == 0 {
                self.tokens.forget().await;
                continue;
            }
            return classify(answer);
        }
        Err(TeamsError::Unauthorized)
    }
}

fn extend(url: &mut Url, segments: &[&str]) {
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
}

/// The activity id of a created activity (`activityId` for a new thread).
fn created(answer: &Answer, thread: bool) -> Result<String, TeamsError> {
    let created: Created = serde_json::from_str(&answer.body)
        .map_err(|_| TeamsError::BadAnswer("no activity id in the answer".into()))?;
    let id = match thread {
        true => created.activity_id,
        false => created.id,
    };
    id.filter(|id| !id.is_empty())
        .ok_or_else(|| TeamsError::BadAnswer("no activity id in the answer".into()))
}

/// A Connector answer: success, or the error class it names.
fn classify(answer: Answer) -> Result<Answer, TeamsError> {
    if (200..300).contains(&answer.status) {
        return Ok(answer);
    }
    let failure: Failure = serde_json::from_str(&answer.body).unwrap_or_default();
    let FailureDetail { code, message } = failure.error;
    let message: String = message.chars().take(200).collect();
    Err(match (answer.status, code.as_str()) {
        (403, "BotNotInConversationRoster") => TeamsError::NotInConversation,
        (404, "ConversationNotFound") => TeamsError::ConversationNotFound,
        (404, "ActivityNotFoundInConversation") => TeamsError::ActivityNotFound,
        // What Teams answers for an activity deleted already.
        (403, "ServiceError") => TeamsError::ActivityNotFound,
        (403, "Forbidden") => TeamsError::NotOwnActivity,
        (413, _) => TeamsError::TooLarge { code },
        (429, _) => TeamsError::RateLimited {
            retry_after: answer.retry_after,
        },
        (401, _) => TeamsError::Unauthorized,
        (300..=399, _) => {
            TeamsError::BadAnswer(format!("the Connector redirected (HTTP {})", answer.status))
        }
        (500..=599, _) => TeamsError::Unavailable {
            status: Some(answer.status),
        },
        (status, _) => TeamsError::Rejected {
            status,
            code,
            message,
        },
    })
}
