//! The example programs as a user runs them.

mod builder;
#[cfg(feature = "hello")]
mod cli;
