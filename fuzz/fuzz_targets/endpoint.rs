//! Arbitrary strings for `Endpoint`'s `FromStr`: every call returns an
//! endpoint or an error and never panics; an endpoint's `Display` parses back
//! to the same value, and an error lists the accepted forms.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockwright::Endpoint;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match text.parse::<Endpoint>() {
        Ok(endpoint) => {
            let shown = endpoint.to_string();
            let again: Endpoint = shown.parse().unwrap_or_else(|e| {
                panic!("{text:?} shows as {shown:?}, which does not parse: {e}")
            });
            assert_eq!(again, endpoint, "{text:?} shows as {shown:?}");
        }
        Err(err) => {
            let message = err.to_string();
            assert!(message.starts_with("invalid endpoint "), "{message}");
            assert!(
                message.ends_with("sd-listen, sd-listen:NAME, fd:N"),
                "{message}"
            );
            assert!(err.reason().len() <= 400, "{}", err.reason());
            assert_eq!(err.input(), &*text);
        }
    }
});
