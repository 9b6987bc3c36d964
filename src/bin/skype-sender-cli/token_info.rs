//! `token-info`: who a token file belongs to and when its tokens expire,
//! to check a bootstrap before (or after) the function relies on it.

use std::path::PathBuf;

use clap::Args;
use skype_sender::skype::{Freshness, Session};

use crate::clock::{describe, unix_now};
use crate::error::CliError;
use crate::location::{DEFAULT_TOKEN_FILE, S3Args, TokenLocation};

/// Options of `token-info`.
#[derive(Args)]
#[command(
    after_help = "Prints the user, both expiries and the messaging host; never the tokens.\n\
                  Exits 1 when the file is missing or malformed, or when its skype token \
                  has expired (the session must be bootstrapped again)."
)]
pub struct TokenInfoArgs {
    /// The token file to read.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "bucket",
        default_value = DEFAULT_TOKEN_FILE
    )]
    token_file: PathBuf,

    #[command(flatten)]
    s3: S3Args,
}

/// Reads the token file and prints what it holds.
pub async fn run(args: TokenInfoArgs) -> Result<(), CliError> {
    let location = args
        .s3
        .location()
        .unwrap_or(TokenLocation::File(args.token_file));
    let (_, session) = location.load().await?;
    println!("Token file: {location}");
    print_session(&session);
    match session.freshness(unix_now(), std::time::Duration::ZERO) {
        Freshness::Fresh => Ok(()),
        Freshness::NeedsRegistration => {
            println!(
                "The registration has expired: the function registers again on its first send."
            );
            Ok(())
        }
        Freshness::NeedsLogin => Err(CliError::Expired(location.to_string())),
    }
}

/// The session's owner, expiries and host (never its tokens).
pub fn print_session(session: &Session) {
    let now = unix_now();
    println!("User:                 {}", session.auth.user_id);
    println!(
        "Skype token expires:  {}",
        describe(session.auth.expires_at, now)
    );
    println!(
        "Registration expires: {}",
        describe(session.registration.expires_at, now)
    );
    println!("Messaging host:       {}", session.registration.msgs_host);
    println!(
        "Usable until:         {}",
        describe(session.expires_at(), now)
    );
}
