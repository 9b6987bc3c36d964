//! `send`: posts a message through the deployed API, the way any caller
//! would (`POST /send-message` with `x-api-key`), to check a deployment.

use std::io::Read;
use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use url::Url;

use crate::error::CliError;

/// The API's path for messages.
const SEND_PATH: &str = "/send-message";

/// Options of `send`.
#[derive(Args)]
#[command(
    after_help = "Prints the API's JSON answer on stdout. Exits 0 on a 2xx answer; \
                  otherwise 1, with the answer's `error` and `msg` on stderr.\n\n\
                  Example:\n  \
                  export SKYPE_SENDER_API_KEY=...\n  \
                  skype-sender-cli send --url \"$ApiUrl\" --channel standup 'Deploy <b>done</b>'\n  \
                  tail -n 20 build.log | skype-sender-cli send --url \"$ApiUrl\" --channel standup --format plain -"
)]
pub struct SendArgs {
    /// The deployed API (the stack's `ApiUrl` output); `/send-message` is
    /// appended unless the URL already ends with it. https://, or http:// on
    /// this machine only (the key must not travel in clear text).
    #[arg(long, value_name = "URL")]
    url: String,

    /// The API key (prefer the environment variable: arguments are visible
    /// to other users of this machine).
    #[arg(
        long,
        value_name = "KEY",
        env = "SKYPE_SENDER_API_KEY",
        hide_env_values = true
    )]
    key: ApiKey,

    /// A conversation id (`19:...@thread.skype`, `8:<skype name>`, ...) or an alias
    /// from the function's configuration.
    #[arg(long, value_name = "CHANNEL")]
    channel: String,

    /// How the message is read: Skype rich text (its HTML dialect), plain
    /// text shown exactly as typed, or markdown.
    #[arg(long, value_enum, default_value_t = Format::Rich)]
    format: Format,

    /// Posts the message at most once for this key, even when the command is repeated.
    #[arg(long, value_name = "KEY")]
    idempotency_key: Option<String>,

    /// The message: the words are joined with spaces; a single `-` reads it from stdin.
    #[arg(required = true, value_name = "MESSAGE")]
    message: Vec<String>,
}

/// The API key, kept out of `Debug` output and error messages.
#[derive(Clone)]
struct ApiKey(SecretString);

impl std::str::FromStr for ApiKey {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        if value.is_empty() {
            return Err("the API key is empty".into());
        }
        Ok(Self(SecretString::from(value)))
    }
}

/// The `format` field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Rich,
    Plain,
    Markdown,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Self::Rich => "rich",
            Self::Plain => "plain",
            Self::Markdown => "markdown",
        }
    }
}

/// Posts the message and reports the answer.
pub async fn run(args: SendArgs) -> Result<(), CliError> {
    let url = send_url(&args.url)?;
    let message = message_text(&args.message)?;
    let mut body = Map::new();
    body.insert("msg".into(), json!(message));
    body.insert("channel".into(), json!(args.channel));
    body.insert("format".into(), json!(args.format.as_str()));
    if let Some(key) = &args.idempotency_key {
        body.insert("idempotency_key".into(), json!(key));
    }

    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|_| CliError::Unreachable("cannot build the HTTP client"))?;
    let response = http
        .post(url)
        .header("x-api-key", args.key.0.expose_secret())
        .json(&Value::Object(body))
        .send()
        .await
        .map_err(|err| CliError::Unreachable(failure_kind(&err)))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|err| CliError::Unreachable(failure_kind(&err)))?;
    let answer: Option<Value> = serde_json::from_str(&text).ok();
    match &answer {
        Some(json) => println!(
            "{}",
            serde_json::to_string_pretty(json).unwrap_or_else(|_| text.clone())
        ),
        None if !text.is_empty() => println!("{text}"),
        None => {}
    }
    if status.is_success() {
        return Ok(());
    }
    let field = |name: &str| {
        answer
            .as_ref()
            .and_then(|json| json.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Err(CliError::Api {
        status: status.as_u16(),
        error: field("error"),
        message: field("msg").or_else(|| field("message")),
    })
}

/// The `/send-message` URL of the API at `given`.
fn send_url(given: &str) -> Result<Url, CliError> {
    let invalid = |why: &str| CliError::Input(format!("--url {given:?}: {why}"));
    let mut url = Url::parse(given.trim()).map_err(|_| invalid("not a URL"))?;
    let secure = match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(url::Host::Domain(domain))) => domain == "localhost",
        ("http", Some(url::Host::Ipv4(ip))) => ip.is_loopback(),
        ("http", Some(url::Host::Ipv6(ip))) => ip.is_loopback(),
        _ => false,
    };
    if !secure {
        return Err(invalid(
            "must be https://, or http:// on this machine (the API key would travel in clear text)",
        ));
    }
    if !url.path().ends_with(SEND_PATH) {
        let path = format!("{}{SEND_PATH}", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    Ok(url)
}

/// The words joined by spaces, or stdin for a lone `-`.
fn message_text(words: &[String]) -> Result<String, CliError> {
    let text = if let [only] = words
        && only == "-"
    {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|err| {
            CliError::Input(format!(
                "cannot read the message from stdin: {}",
                err.kind()
            ))
        })?;
        text.trim_end_matches(['\n', '\r']).to_string()
    } else {
        words.join(" ")
    };
    if text.trim().is_empty() {
        return Err(CliError::Input("the message is empty".into()));
    }
    Ok(text)
}

/// What went wrong with a request, without its URL.
fn failure_kind(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "no answer in time"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "the answer could not be read"
    } else {
        "request failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_send_path_is_appended_once() {
        let url = |given: &str| send_url(given).unwrap().to_string();
        assert_eq!(
            url("https://abc.execute-api.eu-west-1.amazonaws.com"),
            "https://abc.execute-api.eu-west-1.amazonaws.com/send-message"
        );
        assert_eq!(
            url("https://h.example/prod/"),
            "https://h.example/prod/send-message"
        );
        assert_eq!(
            url("https://h.example/send-message"),
            "https://h.example/send-message"
        );
        assert_eq!(
            url("http://127.0.0.1:9000/x"),
            "http://127.0.0.1:9000/x/send-message"
        );
    }

    #[test]
    fn the_key_never_travels_in_clear_text_to_another_machine() {
        assert!(send_url("http://api.example.com").is_err());
        assert!(send_url("http://10.0.0.1/send-message").is_err());
        assert!(send_url("ftp://127.0.0.1").is_err());
        assert!(send_url("not a url").is_err());
        assert!(send_url("http://localhost:3000").is_ok());
    }

    #[test]
    fn words_are_joined() {
        let words = ["Deploy", "<b>done</b>"].map(String::from);
        assert_eq!(message_text(&words).unwrap(), "Deploy <b>done</b>");
        assert!(message_text(&[" ".to_string()]).is_err());
    }
}
