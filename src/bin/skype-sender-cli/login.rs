//! `login`: the bootstrap. Logs the bot account in with the function's own
//! Skype client (same login flows, same registration, same `SKYPE_*_URL`
//! settings), writes the SkPy token file and optionally uploads it to the
//! function's S3 bucket without overwriting a newer session.

use std::io::BufRead;
use std::path::PathBuf;

use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use skype_sender::skype::{
    ClientOptions, Credentials, Session, SkypeClient, SkypeUrls, parse_token_file, write_token_file,
};
use skype_sender::state::StoreError;

use crate::clock::{describe, unix_now};
use crate::error::CliError;
use crate::location::{DEFAULT_TOKEN_FILE, S3Args, TokenLocation};
use crate::token_info::print_session;

/// Options of `login`.
#[derive(Args)]
#[command(
    after_help = "The password is prompted for on the terminal, or read from the first \
                  line of stdin with --password-stdin (for scripts: \
                  `pass show bot | skype-sender-cli login --username bot@example.com --password-stdin`). \
                  It is never accepted as an argument.\n\n\
                  An e-mail address logs in with the SOAP flow, a Skype name with the web flow. \
                  The Skype hosts are read from SKYPE_LIVE_URL, SKYPE_LOGIN_URL, SKYPE_EDGE_URL, \
                  SKYPE_API_URL, SKYPE_MSGS_URL and SKYPE_ASM_URL like the function reads them \
                  (point them at the local emulator to try this out).\n\n\
                  If Skype shows a captcha or consent page, log in once from a web browser on \
                  this machine and run the command again.\n\n\
                  Example (bootstrap a deployment; the bucket is the stack's TokenBucketName output):\n  \
                  skype-sender-cli login --username bot@example.com --bucket \"$TokenBucketName\""
)]
pub struct LoginArgs {
    /// The bot account: an e-mail address or a Skype name.
    #[arg(long, value_name = "USER")]
    username: String,

    /// Where to write the token file (created with mode 0600, replaced if it exists).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_TOKEN_FILE)]
    token_file: PathBuf,

    #[command(flatten)]
    s3: S3Args,

    /// Read the password from the first line of stdin instead of prompting.
    #[arg(long)]
    password_stdin: bool,

    /// Upload even if the bucket holds a session that lasts longer than the new one.
    #[arg(long, requires = "bucket")]
    force: bool,
}

/// Logs in, writes the token file, uploads it when asked.
pub async fn run(args: LoginArgs) -> Result<(), CliError> {
    let urls = SkypeUrls::from_lookup(|name| std::env::var(name).ok())?;
    if args.username.trim().is_empty() {
        return Err(CliError::Input("--username is empty".into()));
    }
    let password = read_password(&args)?;
    let credentials = Credentials::new(args.username.trim(), password.expose_secret());
    drop(password);
    let client = SkypeClient::new(urls, ClientOptions::default(), Some(credentials))?;
    eprintln!("Logging in as {} ...", args.username.trim());
    let session = client.ensure_session().await?;
    let text = write_token_file(&session);

    let file = TokenLocation::File(args.token_file.clone());
    write_file(&file, &text).await?;
    println!("Logged in as {}.", session.auth.user_id);
    println!("Wrote {file} (mode 0600).");

    if let Some(s3) = args.s3.location() {
        upload(&s3, &file, &session, &text, args.force).await?;
    }
    print_session(&session);
    Ok(())
}

/// The password from the terminal, or the first line of stdin.
fn read_password(args: &LoginArgs) -> Result<SecretString, CliError> {
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|err| {
                CliError::Input(format!(
                    "cannot read the password from stdin: {}",
                    err.kind()
                ))
            })?;
        let end = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(end);
        SecretString::from(line)
    } else {
        let prompt = format!("Password for {}: ", args.username.trim());
        rpassword::prompt_password(prompt)
            .map(SecretString::from)
            .map_err(|err| {
                CliError::Input(format!(
                    "cannot read the password from the terminal ({}); use --password-stdin",
                    err.kind()
                ))
            })?
    };
    if password.expose_secret().is_empty() {
        return Err(CliError::Input("no password given".into()));
    }
    Ok(password)
}

/// Replaces the local token file (written aside and moved into place, 0600).
async fn write_file(location: &TokenLocation, text: &str) -> Result<(), CliError> {
    let store = location.store().await;
    let current = store.load().await?.map(|stored| stored.version);
    store.save(text, current.as_ref()).await?;
    Ok(())
}

/// Uploads with the function's conditional write; a stored session that
/// lasts longer than ours is kept unless `force`.
async fn upload(
    location: &TokenLocation,
    local: &TokenLocation,
    session: &Session,
    text: &str,
    force: bool,
) -> Result<(), CliError> {
    let store = location.store().await;
    let expected = match store.load().await? {
        None => None,
        Some(stored) => {
            match parse_token_file(&stored.text) {
                Ok(theirs) if theirs.same_tokens(session) => {
                    println!("{location} already holds this session.");
                    return Ok(());
                }
                Ok(theirs) if theirs.expires_at() > session.expires_at() => {
                    let until = describe(theirs.expires_at(), unix_now());
                    if !force {
                        return Err(CliError::NewerStored {
                            location: location.to_string(),
                            until,
                            local: local.to_string(),
                        });
                    }
                    println!(
                        "Replacing the newer session in {location} (usable until {until}): --force."
                    );
                }
                Ok(_) => {}
                Err(_) => println!("Replacing the unreadable token file in {location}."),
            }
            Some(stored.version)
        }
    };
    // The display name goes along, so the function's first send after
    // this upload needs no profile read.
    let label = session.auth.display_name.as_deref();
    match store.save_labelled(text, label, expected.as_ref()).await {
        Ok(_) => {
            println!("Uploaded to {location} (server-side encrypted).");
            Ok(())
        }
        Err(StoreError::Conflict) => Err(CliError::UploadRace(location.to_string())),
        Err(err) => Err(err.into()),
    }
}
