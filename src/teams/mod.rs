//! The function as a Microsoft Teams bot, over the Bot Framework's REST
//! APIs (no SDK): the Connector for posting, editing and deleting; Entra
//! ID for the bot's own token; the OpenID metadata for checking what the
//! Bot Framework posts to us. No Lambda, no AWS: the app stores the
//! conversation references and decides what to post.
//!
//! - [`config`]: the hosts, and the `serviceUrl` allow-list (the one URL an
//!   outside party names, so it is never called unless allowed).
//! - [`inbound`]: checking inbound tokens against the cached keys.
//! - [`token`]: the app token, cached until shortly before it expires.
//! - [`connector`]: send, reply, new thread, update, delete.
//! - [`activity`]: what a message or a picture looks like on the wire.
//! - [`reference`]: a conversation reference, and its storage name.
//! - [`error`]: the failure classes.

pub mod activity;
pub mod config;
mod connector;
pub mod error;
pub mod inbound;
pub mod reference;
pub mod token;

pub use activity::{NotAPicture, TeamsMessage, at_tag};
pub use config::TeamsUrls;
pub use error::{TeamsError, TokenRefusal};
pub use inbound::{InboundRefusal, VerifiedToken};
pub use reference::ConversationRef;
pub use token::{AppCredentials, InvalidAppCredentials};

/// The Teams client of a container: one connection pool, one app token
/// cache, one key cache. Build it once and share it.
pub struct TeamsClient {
    http: reqwest::Client,
    urls: TeamsUrls,
    tokens: token::AppTokens,
    keys: inbound::KeyCache,
}

/// The HTTP client could not be built (no TLS roots, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the Teams HTTP client")]
pub struct ClientBuildError;

impl TeamsClient {
    /// A client for the hosts `urls` names. Redirects are never followed:
    /// a bearer token must not travel to wherever a 3xx points.
    pub fn new(urls: TeamsUrls) -> Result<Self, ClientBuildError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("skype-sender/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config::CONNECT_TIMEOUT)
            .timeout(config::REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|_| ClientBuildError)?;
        Ok(Self {
            http,
            urls,
            tokens: token::AppTokens::default(),
            keys: inbound::KeyCache::default(),
        })
    }

    /// The hosts and the allow-list.
    pub fn urls(&self) -> &TeamsUrls {
        &self.urls
    }

    /// Whether an app token is cached now (for `/health`).
    pub async fn has_token(&self) -> bool {
        self.tokens.is_fresh().await
    }
}
