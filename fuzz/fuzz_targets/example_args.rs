//! Arbitrary command lines for the examples' argument parsing
//! (`examples/common/args.rs`): every call returns a configuration, `Help`
//! or an error, and never panics; an accepted configuration is one the
//! examples can use.
#![no_main]

#[path = "../../examples/common/args.rs"]
#[allow(dead_code)]
mod args;

use libfuzzer_sys::fuzz_target;

use args::{Count, Parsed, Transport};

fuzz_target!(|data: &[u8]| {
    // Arguments separated by NUL bytes, as the kernel hands them over; each
    // made valid UTF-8, as the examples require.
    let argv: Vec<String> = data
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let argv = if data.is_empty() { Vec::new() } else { argv };

    if let Ok(Parsed::Run(config)) = args::parse_server(&argv) {
        assert!(!config.timeout.is_zero());
        assert!(!config.message.is_empty() && config.message.len() <= 1024);
        assert!(config.backlog <= i32::MAX as u32);
        assert!(config.count != Count::Clients(0));
        if let Transport::Unix(path) = &config.transport {
            assert!(!path.as_os_str().is_empty());
        }
    }
    if let Ok(Parsed::Run(config)) = args::parse_client(&argv) {
        assert!(!config.timeout.is_zero());
        assert!(config.port != 0);
        assert!(!config.host.is_empty());
        assert!(!config.message.is_empty() && config.message.len() <= 1024);
    }
    let _ = args::parse_hello(&argv);
});
