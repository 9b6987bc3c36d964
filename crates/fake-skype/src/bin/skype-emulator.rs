//! A local Skype emulator: the strict fake the tests use, on fixed ports, so
//! the service can be run and tried by hand now that consumer Skype is gone.
//!
//! `cargo run -p fake-skype --bin skype-emulator -- [--port 8790]` (or
//! `SKYPE_EMULATOR_PORT`); the home messaging host listens on port + 1. The
//! account comes from `SKYPE_USERNAME` / `SKYPE_PASSWORD`. Posted messages
//! are printed, and can be listed at `/_emulator/conversations`.

use fake_skype::{Account, FakeSkype};

/// The port used when neither `--port` nor `SKYPE_EMULATOR_PORT` is given.
const DEFAULT_PORT: u16 = 8790;

#[tokio::main]
async fn main() {
    let port = match port() {
        Ok(port) => port,
        Err(why) => {
            eprintln!("skype-emulator: {why}");
            eprintln!("usage: cargo run -p fake-skype --bin skype-emulator -- [--port PORT]");
            std::process::exit(2);
        }
    };
    let Some(home_port) = port.checked_add(1) else {
        eprintln!("skype-emulator: port {port} leaves no room for the home host on port + 1");
        std::process::exit(2);
    };
    let fake = match FakeSkype::start_on(port, home_port).await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("skype-emulator: cannot listen on 127.0.0.1:{port} and :{home_port}: {e}");
            std::process::exit(1);
        }
    };
    let account = account_from_env();
    let login = account.email.clone().unwrap_or(account.skype_name.clone());
    fake.add_account(account);
    fake.on_message(|m| {
        println!(
            "[message] {} {} {}",
            m.conversation,
            m.messagetype,
            m.content.as_deref().unwrap_or("")
        );
    });

    println!("Skype emulator running. Point the service at it with:");
    for (name, url) in fake.client_env() {
        println!("{name}={url}");
    }
    println!(
        "Account: {login} (home messaging host {})",
        fake.home_msgs_host()
    );
    println!(
        "Posted messages: http://127.0.0.1:{port}/_emulator/conversations and \
         http://127.0.0.1:{port}/_emulator/conversations/<id>/messages"
    );
    println!("Ctrl-C to stop.");

    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("skype-emulator: cannot wait for Ctrl-C: {e}");
    }
    println!("Skype emulator stopped.");
}

/// `--port N` (or `--port=N`), else `SKYPE_EMULATOR_PORT`, else the default.
fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut from_args = None;
    while let Some(arg) = args.next() {
        let value = if arg == "--port" {
            args.next().ok_or("--port needs a value")?
        } else if let Some(value) = arg.strip_prefix("--port=") {
            value.to_string()
        } else {
            return Err(format!("unknown argument {arg:?}"));
        };
        from_args = Some(value);
    }
    let raw = from_args.or_else(|| std::env::var("SKYPE_EMULATOR_PORT").ok());
    match raw {
        None => Ok(DEFAULT_PORT),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| format!("invalid port {raw:?}")),
    }
}

/// The one account: `SKYPE_USERNAME` / `SKYPE_PASSWORD`, defaulting to
/// `bot@example.com` / `local-password` ("Local Bot", user id `live:bot`).
fn account_from_env() -> Account {
    let username = std::env::var("SKYPE_USERNAME")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "bot@example.com".into());
    let password = std::env::var("SKYPE_PASSWORD").unwrap_or_else(|_| "local-password".into());
    let (skype_name, email) = match username.split_once('@') {
        // An e-mail logs in with SOAP; its Skype name is the live: id.
        Some((local, _)) => (format!("live:{local}"), Some(username.clone())),
        None => (username.clone(), None),
    };
    Account {
        user_id: skype_name.clone(),
        skype_name,
        email,
        password,
        first_name: "Local".into(),
        last_name: "Bot".into(),
    }
}
