//! Why a command failed, in words for the operator. No variant carries a
//! password, token or API key.

use skype_sender::skype::{InvalidUrl, MalformedTokenFile, SkypeError};
use skype_sender::state::StoreError;

/// A failed command; `main` prints it on stderr and exits with status 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Something the operator gave cannot be used.
    #[error("{0}")]
    Input(String),

    /// A `SKYPE_*_URL` setting is unusable.
    #[error(transparent)]
    SkypeUrl(#[from] InvalidUrl),

    /// Skype refused or failed (its messages say what to do).
    #[error(transparent)]
    Skype(#[from] SkypeError),

    /// A token file could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// There is no token file where we looked.
    #[error("no token file at {0}")]
    NoTokenFile(String),

    /// The token file is not SkPy's six lines.
    #[error("{location}: {source}")]
    Malformed {
        /// Where the file is.
        location: String,
        /// What is wrong with it.
        source: MalformedTokenFile,
    },

    /// The store holds a session that lasts longer than the new one.
    #[error(
        "{location} holds a newer session, usable until {until}; it was not overwritten \
         and the new session is only in {local}: use --force to replace the stored one"
    )]
    NewerStored {
        /// Where it is stored.
        location: String,
        /// When the stored session expires, in words.
        until: String,
        /// The local token file that holds the new session.
        local: String,
    },

    /// Someone wrote the stored token file while we were uploading.
    #[error("{0} changed while uploading; run the command again")]
    UploadRace(String),

    /// The token file's session is over.
    #[error("the session in {0} has expired: run `skype-sender-cli login` again")]
    Expired(String),

    /// The API could not be reached.
    #[error("cannot reach the API: {0}")]
    Unreachable(&'static str),

    /// The API answered with an error status.
    #[error("the API answered HTTP {status}{}", detail(.error, .message))]
    Api {
        /// The HTTP status.
        status: u16,
        /// The answer's stable `error` code, if any.
        error: Option<String>,
        /// The answer's `msg`, if any.
        message: Option<String>,
    },
}

fn detail(error: &Option<String>, message: &Option<String>) -> String {
    match (error, message) {
        (Some(error), Some(message)) => format!(" {error}: {message}"),
        (Some(text), None) | (None, Some(text)) => format!(": {text}"),
        (None, None) => String::new(),
    }
}
