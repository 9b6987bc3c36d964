//! Any `Set-RegistrationToken` and `Location` header: never a panic; a
//! token keeps its prefix, a location names an http(s) host.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skype_sender::skype::{parse_endpoint_location, parse_registration_token};

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((token, _expires, _endpoint)) = parse_registration_token(header) {
        use secrecy::ExposeSecret;
        assert!(token.expose_secret().to_ascii_lowercase().starts_with("registrationtoken="));
    }
    if let Some(location) = parse_endpoint_location(header) {
        assert!(location.msgs_host.starts_with("http"));
        assert!(location.msgs_host.ends_with("/v1"));
    }
});
