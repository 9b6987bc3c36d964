//! Our client against SkPy itself (the reference implementation, installed
//! into .venv by `make test`): the LockAndKey MAC and the token file must
//! agree with SkPy's own code, not only with our reading of it.

use std::io::Write;
use std::process::{Command, Stdio};

use secrecy::SecretString;
use skype_sender::skype::{
    Freshness, Registration, Session, SkypeAuth, lock_and_key, parse_token_file, write_token_file,
};

/// Runs a Python snippet with SkPy importable; fails loudly if it is not.
fn skpy(script: &str, stdin: &str) -> String {
    let python = std::env::var("SKPY_PYTHON")
        .unwrap_or_else(|_| format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    let mut child = Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {python} ({e}): run `make test`, which installs SkPy")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "SkPy script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn lock_and_key_agrees_with_skpy_on_many_challenges() {
    // Every length from 1 to 24 digits (so every padding case), plus a
    // sweep of plausible clock values.
    let mut challenges: Vec<String> = (1..=24)
        .map(|len| {
            (0..len)
                .map(|i| char::from(b'0' + ((i * 7 + len) % 10) as u8))
                .collect()
        })
        .collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..300 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        challenges.push((1_400_000_000 + x % 1_000_000_000).to_string());
    }
    let script = "import sys\nfrom skpy.conn import SkypeRegistrationTokenProvider as P\nfor line in sys.stdin.read().split():\n    print(P.getMac256Hash(line))";
    let theirs = skpy(script, &challenges.join("\n"));
    let theirs: Vec<&str> = theirs.lines().collect();
    assert_eq!(theirs.len(), challenges.len());
    for (challenge, expected) in challenges.iter().zip(theirs) {
        assert_eq!(
            lock_and_key::response(challenge),
            expected,
            "challenge {challenge}"
        );
    }
}

fn session(skype_expiry: u64, reg_expiry: u64) -> Session {
    Session {
        auth: SkypeAuth {
            user_id: "live:.cid.92bd244e945d8335".into(),
            display_name: None,
            token: SecretString::from("eyJhbGciOiJSUzI1NiIsImtpZCI6IjEwNiJ9.payload.sig"),
            expires_at: skype_expiry,
        },
        registration: Registration {
            token: SecretString::from("registrationToken=U2t5cGVSZWc+/w=="),
            expires_at: reg_expiry,
            msgs_host: "https://db1-client-s.gateway.messenger.live.com/v1".into(),
            endpoint_id: None,
        },
    }
}

const READ_AND_REWRITE: &str = "import sys\nfrom skpy.conn import SkypeConnection\nc = SkypeConnection()\nc.readTokenFromStr(sys.stdin.read())\nprint(c.userId)\nprint(c.msgsHost)\nsys.stdout.write(c.writeTokenToStr())";

#[test]
fn a_token_file_we_write_loads_in_skpy_and_comes_back_identical() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ours = write_token_file(&session(now + 86_000, now + 80_000));
    let out = skpy(READ_AND_REWRITE, &ours);
    let mut lines = out.splitn(3, '\n');
    assert_eq!(lines.next(), Some("live:.cid.92bd244e945d8335"));
    assert_eq!(
        lines.next(),
        Some("https://db1-client-s.gateway.messenger.live.com/v1")
    );
    // SkPy writes back exactly what we wrote: same lines, same numbers.
    assert_eq!(lines.next(), Some(ours.as_str()));
}

#[test]
fn expired_and_malformed_files_are_judged_as_skpy_judges_them() {
    let expired = write_token_file(&session(1_000, 2_000));
    let script = "import sys\nfrom skpy.conn import SkypeConnection\ntry:\n    SkypeConnection().readTokenFromStr(sys.stdin.read())\nexcept Exception as e:\n    print(e.args[0])";
    assert_eq!(skpy(script, &expired).trim(), "Token file has expired");
    let ours = parse_token_file(&expired).unwrap();
    assert_eq!(
        ours.freshness(10_000, std::time::Duration::ZERO),
        Freshness::NeedsLogin
    );

    for malformed in [
        expired.lines().take(5).collect::<Vec<_>>().join("\n"),
        expired.replacen("1000", "later", 1),
        format!("{expired}seventh\n"),
        expired.replacen("https://", "https:\r//", 1),
        expired.replacen("live:", "live:\u{0c}", 1),
    ] {
        assert_eq!(skpy(script, &malformed).trim(), "Token file is malformed");
        assert!(parse_token_file(&malformed).is_err(), "{malformed:?}");
    }
}
