//! Values parsed once at the edge (whatever the trigger) and valid
//! everywhere after: what to send, where, when, and who asks.

mod api_key;
mod attachment;
mod channel;
mod conversation;
mod delivery;
mod mention;
mod message;
mod platform;
mod schedule;
mod webhook_url;

pub use api_key::{ApiKeys, Caller, KeyEntry, KeyIdentity};
pub use attachment::{Attachment, AttachmentError, AttachmentKind, MAX_FILE_BYTES};
pub use channel::{
    ChannelError, ChannelNames, ChannelSpec, Channels, Destination, EntrySpec, MAX_TARGETS, Target,
    TeamsChat, TelegramChat, is_teams_conversation_id,
};
pub use conversation::{ConversationId, InvalidConversationId};
pub use delivery::{Delivered, DeliveryStatus, LoginOutcome};
pub use mention::{MAX_MENTIONS, Mention, MentionProblem, Piece, split_inline};
pub use message::{Content, Format, MAX_MESSAGE_CHARS, MessageError, MessageText};
pub use platform::{Capability, Platform, SizeLimit};
pub use schedule::{
    CronExpr, Every, Rate, RateUnit, ScheduleError, ScheduleInput, ScheduleSpec, Timezone, When,
};
pub use webhook_url::{InvalidWebhookUrl, WebhookUrl};
