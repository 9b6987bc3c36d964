//! Values parsed once at the edge (whatever the trigger) and valid
//! everywhere after: what to send, where, and who asks.

mod api_key;
mod channel;
mod message;

pub use api_key::{ApiKeys, Caller, KeyEntry};
pub use channel::{
    ChannelError, ChannelNames, ChannelSpec, Channels, Destination, MAX_TARGETS, Target,
};
pub use message::{Format, MAX_MESSAGE_CHARS, MessageError, MessageText};
