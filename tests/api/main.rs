//! The function's code in this process: the use cases, the triggers and the
//! Skype and webhook clients, against the strict fakes (`fake-skype`,
//! `fake-webhooks`) over loopback HTTP, with local files or moto (S3,
//! Secrets Manager) as the state. One test binary: the AWS SDK is linked
//! once, not once per file.
//!
//! The function's own binaries, run as processes, are tested in `tests/e2e`.

// Shared support.
mod aws_world;
mod local_app;
mod openapi_spec;

// One module per concern.
mod app_in_process;
mod aws_state;
mod bad_input;
mod bots;
mod channels;
mod ecosystem;
mod fault_matrix;
mod idempotency;
mod messages_api;
mod openapi;
mod reminders;
mod schedules;
mod skpy_reference;
mod skype_client;
mod sqs_batches;
mod teams;
mod template;
mod webhooks;

/// Handles any event as the Lambda entry point does, within API Gateway's
/// 30 s.
pub async fn handle(
    app: &skype_sender::app::App,
    event: serde_json::Value,
) -> Result<serde_json::Value, skype_sender::triggers::FunctionError> {
    skype_sender::triggers::handle_within(app, event, skype_sender::deadline::Deadline::default())
        .await
}

/// The Skype client's sends with a fresh `clientmessageid` each, as the
/// function makes them for a post without an idempotency key.
pub(crate) trait SendFresh {
    async fn send(
        &self,
        conversation: &skype_sender::skype::ConversationId,
        message: &skype_sender::skype::OutgoingMessage,
    ) -> Result<skype_sender::skype::SentMessage, skype_sender::skype::SkypeError>;

    async fn send_file(
        &self,
        conversation: &skype_sender::skype::ConversationId,
        attachment: &skype_sender::skype::Attachment,
    ) -> Result<skype_sender::skype::SentMessage, skype_sender::skype::SkypeError>;
}

impl SendFresh for skype_sender::skype::SkypeClient {
    async fn send(
        &self,
        conversation: &skype_sender::skype::ConversationId,
        message: &skype_sender::skype::OutgoingMessage,
    ) -> Result<skype_sender::skype::SentMessage, skype_sender::skype::SkypeError> {
        self.send_as(conversation, message, &self.new_client_message_id())
            .await
    }

    async fn send_file(
        &self,
        conversation: &skype_sender::skype::ConversationId,
        attachment: &skype_sender::skype::Attachment,
    ) -> Result<skype_sender::skype::SentMessage, skype_sender::skype::SkypeError> {
        self.send_file_as(conversation, attachment, &self.new_client_message_id())
            .await
    }
}
