//! skype-sender-cli: the operator's tool for a skype-sender deployment.
//!
//! It runs on a trusted machine, never in Lambda: it logs the bot account in
//! with the same client the function uses and stores the session where the
//! function reads it (`login`), checks a stored session (`token-info`), and
//! posts a message through the deployed API (`send`).

mod clock;
mod error;
mod location;
mod login;
mod send;
mod token_info;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use error::CliError;

/// Bootstrap and check the Skype session of a skype-sender deployment, and
/// send test messages through its API.
#[derive(Parser)]
#[command(
    name = "skype-sender-cli",
    version,
    after_help = "Secrets never go on the command line except the API key of `send` \
                  (prefer SKYPE_SENDER_API_KEY): passwords are prompted for or read from \
                  stdin, and no command prints a password, token or key.\n\
                  Exit status: 0 on success, 1 when the command failed, 2 for invalid usage.\n\n\
                  Bootstrap and check a deployment from a trusted machine (names from the stack's outputs):\n  \
                  skype-sender-cli login --username bot@example.com --bucket \"$TokenBucketName\"\n  \
                  skype-sender-cli token-info --bucket \"$TokenBucketName\"\n  \
                  SKYPE_SENDER_API_KEY=... skype-sender-cli send --url \"$ApiUrl\" --channel standup Hello"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Log the bot account in (as the Lambda does) and write the session
    /// as a SkPy token file, optionally uploading it to the function's S3 bucket.
    Login(login::LoginArgs),
    /// Post a message through the deployed API (`POST /send-message`).
    Send(send::SendArgs),
    /// Show who a token file belongs to and when its tokens expire (never the tokens).
    TokenInfo(token_info::TokenInfoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), CliError> = runtime.block_on(async {
        match cli.command {
            Command::Login(args) => login::run(args).await,
            Command::Send(args) => send::run(args).await,
            Command::TokenInfo(args) => token_info::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
