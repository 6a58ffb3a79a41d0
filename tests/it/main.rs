//! The integration tests that share one process: every test whose outcome
//! does not depend on what else the process does, by concern, one module
//! per type or subsystem. libtest runs them on parallel threads.
//!
//! What counts the process's descriptors or threads, lowers its limits,
//! installs a signal handler or the global logger, or audits its system
//! calls runs in a test program of its own (`tests/resources/`,
//! `tests/faults_signals.rs`, `tests/log_targets.rs`,
//! `tests/endpoint_options.rs`, `tests/syscalls.rs`), each saying why at its
//! top. Helpers shared by all of them are in `tests/util/`.
//!
//! `cargo test --test it MODULE` runs one concern, such as
//! `cargo test --test it resolver::`.

#[path = "../util/mod.rs"]
mod util;

#[cfg(feature = "hello")]
mod activation;
mod cloexec;
mod configure;
mod connector;
#[cfg(feature = "hello")]
mod durations;
mod endpoint;
mod errors;
mod examples;
#[cfg(feature = "hello")]
mod hello;
mod inspect;
mod listener;
mod options;
mod resolver;
mod runtimes;
mod tokio;
mod unix;
mod windows;
