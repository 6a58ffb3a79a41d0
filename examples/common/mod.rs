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

/// The error's message followed by each of its causes, separated by `: `.
///
/// A sockwright error's message already ends with the OS reason, and its
/// `source()` does not repeat it, so each fact appears once.
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
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
