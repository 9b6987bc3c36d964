//! Where the function keeps what outlives an invocation: the bot's
//! credentials and API keys, and the session token file. Each behind a
//! trait, with a local implementation (files, environment) and an AWS one.

mod account;
mod token_store;

pub use account::{Account, AccountError, AccountSource, EnvAccountSource};
pub use token_store::{FileTokenStore, StoreError, StoredToken, TokenStore, Version};
