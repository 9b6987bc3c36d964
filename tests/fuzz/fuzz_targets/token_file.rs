//! Any text as a token file: never a panic, and whatever parses writes
//! back to a file that parses to the same session.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skype_sender::skype::{parse_token_file, write_token_file};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(session) = parse_token_file(text) {
        let written = write_token_file(&session);
        if let Ok(again) = parse_token_file(&written) {
            assert!(again.same_tokens(&session));
            assert_eq!(again.auth.expires_at, session.auth.expires_at);
        }
    }
});
