//! The Skype web protocol client, speaking exactly what SkPy (the library
//! the original service used) spoke: see `docs/skype-protocol.md`.
//!
//! It knows nothing of Lambda or AWS. Callers give it base URLs, options and
//! credentials, hand it a stored session if they have one
//! ([`SkypeClient::restore`], [`parse_token_file`]), send, and save the
//! session again when [`SkypeClient::generation`] moved.
//!
//! Inside: [`login`](self) flows and the profile, endpoint registration with
//! its [`lock_and_key`] MAC, messages, files, and the token file.

mod client;
mod config;
mod error;
mod files;
mod http;
pub mod lock_and_key;
mod login;
pub mod markup;
mod messages;
mod registration;
mod session;

pub use crate::domain::{Attachment, AttachmentKind, ConversationId, InvalidConversationId};
pub use client::{LoginGate, SkypeClient};
pub use config::{ClientOptions, InvalidUrl, SkypeUrls};
pub use error::SkypeError;
pub use login::{Credentials, Profile};
pub use messages::{MessageFormat, MessageId, OutgoingMessage, SentMessage};
pub use registration::{EndpointLocation, parse_endpoint_location, parse_registration_token};
pub use session::{
    Freshness, MalformedTokenFile, Registration, Session, SkypeAuth, parse_token_file,
    write_token_file,
};
