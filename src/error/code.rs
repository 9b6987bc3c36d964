//! The stable error codes callers program against, each with its HTTP
//! status. This list *is* the API's list: `openapi.yaml`'s enum and the
//! README's table are checked against [`ErrorCode::ALL`] by the OpenAPI
//! test, so adding a code here without documenting it fails the build's
//! tests.

/// Declares the codes once: the enum, its wire names, statuses and `ALL`
/// come from the same lines, so they cannot drift apart.
macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = ($code:literal, $status:literal), )*) => {
        /// A stable, precise error code (`missing_parameters`, ...).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in the order of the table below.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as callers see it (`"error"` in a body).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status an error with this code answers (an
            /// aggregate of several targets may carry another).
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }
        }
    };
}

error_codes! {
    /// `msg` or `channel` missing or empty (the original service's 400).
    MissingParameters = ("missing_parameters", 400),
    /// The body is not the JSON it says it is.
    InvalidJson = ("invalid_json", 400),
    /// The body cannot be read (bad base64, not UTF-8, ...).
    InvalidBody = ("invalid_body", 400),
    /// A field has the wrong type or value.
    InvalidField = ("invalid_field", 400),
    /// A reminder's when (`at`, `cron`, `rate`, `every`, `timezone`,
    /// `start`, `end`) cannot be used; the message names the field.
    InvalidSchedule = ("invalid_schedule", 400),
    /// A channel that is no conversation id, or too many channels.
    InvalidChannel = ("invalid_channel", 400),
    /// Neither an alias nor a conversation id.
    UnknownChannel = ("unknown_channel", 400),
    /// An unknown `format`.
    InvalidFormat = ("invalid_format", 400),
    /// A `mentions` entry that cannot be used.
    InvalidMentions = ("invalid_mentions", 400),
    /// `/messages/{id}` with an id that is neither digits nor `key:...`.
    InvalidMessageId = ("invalid_message_id", 400),
    /// `/send-file` without a file.
    MissingFile = ("missing_file", 400),
    /// A file of zero bytes.
    EmptyFile = ("empty_file", 400),
    /// A file that cannot be read (bad base64, no name, ...).
    InvalidFile = ("invalid_file", 400),
    /// Files to a channel that takes none.
    FilesNotSupported = ("files_not_supported", 400),
    /// An operation the channel's platform cannot do.
    NotSupported = ("not_supported", 400),
    /// An event of the right kind that is not a valid request.
    InvalidEvent = ("invalid_event", 400),
    /// An event of no kind we know.
    UnknownEvent = ("unknown_event", 400),
    /// An EventBridge event without a message in its detail.
    EmptyEventDetail = ("empty_event_detail", 400),
    /// `{"action": ...}` other than `refresh`.
    UnknownAction = ("unknown_action", 400),
    /// No key, or a wrong key (the original service's 401).
    Unauthorized = ("unauthorized", 401),
    /// The key is scoped to other channels.
    ChannelNotAllowed = ("channel_not_allowed", 403),
    /// The message is not this key's to change.
    NotOwnMessage = ("not_own_message", 403),
    /// No such route.
    NotFound = ("not_found", 404),
    /// No such message (or none posted with that idempotency key).
    MessageNotFound = ("message_not_found", 404),
    /// No reminder of that id among those the key may see.
    ReminderNotFound = ("reminder_not_found", 404),
    /// The route takes other methods (`Allow` says which).
    MethodNotAllowed = ("method_not_allowed", 405),
    /// A request with the same idempotency key is still being processed.
    IdempotencyKeyInProgress = ("idempotency_key_in_progress", 409),
    /// An earlier attempt with this key got no answer from a webhook,
    /// which cannot be asked: nothing is sent again under this key.
    EarlierOutcomeUnknown = ("earlier_outcome_unknown", 409),
    /// The key has as many reminders as it may (`REMINDERS_PER_KEY`).
    TooManyReminders = ("too_many_reminders", 409),
    /// The body is over its limit.
    BodyTooLarge = ("body_too_large", 413),
    /// The message is over its limit, as written or once rendered.
    MessageTooLong = ("message_too_long", 413),
    /// A file's caption is over the message limit.
    CaptionTooLong = ("caption_too_long", 413),
    /// A file over 4 MiB.
    FileTooLarge = ("file_too_large", 413),
    /// Neither JSON nor a form (nor multipart, for files).
    UnsupportedMediaType = ("unsupported_media_type", 415),
    /// More headers than API Gateway passes on.
    HeadersTooLarge = ("headers_too_large", 431),
    /// Skype throttled us beyond what the invocation could wait out.
    SkypeRateLimited = ("skype_rate_limited", 429),
    /// A webhook throttled us.
    WebhookRateLimited = ("webhook_rate_limited", 429),
    /// Teams throttled the bot beyond what the invocation could wait out.
    TeamsRateLimited = ("teams_rate_limited", 429),
    /// Slack, Discord or Telegram throttled the bot beyond what the
    /// invocation could wait out.
    RateLimited = ("rate_limited", 429),
    /// The secret or the configuration cannot be used.
    BadConfiguration = ("bad_configuration", 500),
    /// A captcha / consent wall or a second factor: a person must log in.
    SkypeLoginNeedsBrowser = ("skype_login_needs_browser", 502),
    /// Microsoft refused the user name or password.
    SkypeLoginRefused = ("skype_login_refused", 502),
    /// The session expired and there is no password to log in with.
    SkypeSessionExpired = ("skype_session_expired", 502),
    /// Skype refused this request for a reason of its own.
    SkypeRejected = ("skype_rejected", 502),
    /// Skype answered something we cannot use (a redirect is one).
    SkypeBadAnswer = ("skype_bad_answer", 502),
    /// The webhook was deleted or its signature is wrong.
    WebhookRevoked = ("webhook_revoked", 502),
    /// The webhook's channel refuses posts (archived, ...).
    WebhookDestinationRefused = ("webhook_destination_refused", 502),
    /// The webhook refused the message's payload.
    WebhookPayloadRefused = ("webhook_payload_refused", 502),
    /// The webhook answered something we cannot use.
    WebhookBadAnswer = ("webhook_bad_answer", 502),
    /// The Teams bot is not installed in the conversation (or its
    /// installation was never seen).
    TeamsNotInConversation = ("teams_not_in_conversation", 502),
    /// Teams has no such conversation.
    TeamsConversationNotFound = ("teams_conversation_not_found", 502),
    /// Entra ID or the Connector refused the bot's app credentials.
    TeamsCredentialsRefused = ("teams_credentials_refused", 502),
    /// Teams refused this request for a reason of its own.
    TeamsRejected = ("teams_rejected", 502),
    /// Teams answered something we cannot use.
    TeamsBadAnswer = ("teams_bad_answer", 502),
    /// Slack, Discord or Telegram refused the bot's token or webhook
    /// (invalid, revoked, deleted).
    AuthRevoked = ("auth_revoked", 502),
    /// The bot is not a member of the Slack channel or Telegram chat.
    NotInChannel = ("not_in_channel", 502),
    /// Slack, Discord or Telegram has no such channel, chat or thread.
    DestinationNotFound = ("destination_not_found", 502),
    /// Slack, Discord or Telegram refused the request for a reason of its own.
    DestinationRefused = ("destination_refused", 502),
    /// Slack, Discord or Telegram answered something we cannot use.
    DestinationBadAnswer = ("destination_bad_answer", 502),
    /// Some targets of several took the message, some did not.
    PartialFailure = ("partial_failure", 502),
    /// No target of several took the message, for different reasons.
    AllFailed = ("all_failed", 502),
    /// The secret still holds the template's placeholder credentials.
    NotConfigured = ("not_configured", 503),
    /// Reminders need EventBridge Scheduler, which is not set up here.
    RemindersNotConfigured = ("reminders_not_configured", 503),
    /// EventBridge Scheduler cannot be reached or failed.
    SchedulerUnavailable = ("scheduler_unavailable", 503),
    /// Skype is down or unreachable.
    SkypeUnavailable = ("skype_unavailable", 503),
    /// Skype throttles logins (errorCode 803).
    SkypeLoginThrottled = ("skype_login_throttled", 503),
    /// Another instance is logging in.
    SkypeLoginInProgress = ("skype_login_in_progress", 503),
    /// Skype refused the session even after a renewal; a later login may
    /// fix it.
    SkypeSessionRefused = ("skype_session_refused", 503),
    /// Secrets Manager cannot be read.
    SecretUnavailable = ("secret_unavailable", 503),
    /// The token store (S3) cannot be read or written.
    TokenStoreUnavailable = ("token_store_unavailable", 503),
    /// The webhook is down or unreachable.
    WebhookUnavailable = ("webhook_unavailable", 503),
    /// Teams (the Connector or Entra ID) is down or unreachable.
    TeamsUnavailable = ("teams_unavailable", 503),
    /// Slack, Discord or Telegram is down or unreachable.
    DestinationUnavailable = ("destination_unavailable", 503),
    /// A post left and no answer came: it may have been posted.
    OutcomeUnknown = ("outcome_unknown", 504),
    /// An edit, delete or login got no answer before the deadline.
    DeadlineExceeded = ("deadline_exceeded", 504),
    /// Skype did not answer in time (nothing was posted).
    SkypeTimeout = ("skype_timeout", 504),
    /// Teams did not answer in time (nothing was posted).
    TeamsTimeout = ("teams_timeout", 504),
    /// Slack, Discord or Telegram did not answer in time (nothing was posted).
    DestinationTimeout = ("destination_timeout", 504),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tests and callers compare with the wire name.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_have_error_statuses() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(
                code.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
            assert!((400..600).contains(&code.status()), "{code}");
        }
    }
}
