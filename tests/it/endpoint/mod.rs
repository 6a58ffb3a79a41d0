//! Endpoints: connecting to one, a name endpoint that listens on every
//! address of the name, the async twins, and axum serving on one.

#[cfg(feature = "axum")]
mod axum;
mod connect;
mod localhost;
mod tokio;
