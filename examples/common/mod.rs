//! What the hello examples share: argument parsing and error reporting.
//!
//! Each example uses only part of it.
#![allow(dead_code)]

pub mod args;

use std::error::Error;
use std::process::ExitCode;

/// The program's arguments, without its name.
pub fn argv() -> std::iter::Skip<std::env::ArgsOs> {
    std::env::args_os().skip(1)
}

/// The error's message followed by each cause that it does not already
/// show, separated by `: `.
///
/// sockwright's errors already end with their cause's text, so for them this
/// is the message alone.
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.to_lowercase().contains(&cause_text.to_lowercase()) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Prints `error: MESSAGE` on one line of stderr and returns the failure
/// exit code.
pub fn fail(err: &(dyn Error + 'static)) -> ExitCode {
    eprintln!("error: {}", chain(err).replace('\n', " "));
    ExitCode::FAILURE
}

/// Prints a command-line error on one line of stderr and returns exit code 2.
pub fn usage_error(err: &args::ArgError) -> ExitCode {
    eprintln!("error: {err}");
    ExitCode::from(2)
}
