//! A Happy Eyeballs connect (RFC 8305): the pure rules and the two drivers
//! that wait for them.
//!
//! - [`schedule`]: the order in which addresses are tried, when the next
//!   attempt is due, and when the race is over (sections 4 and 5), a pure
//!   state machine with the clock passed in;
//! - [`resolution`]: when a per-family answer may enter the race
//!   (section 3), also pure;
//! - [`attempts`]: the race runner, which runs the schedule, starts each
//!   attempt through the connector, and gathers the errors into the one
//!   error a caller sees;
//! - [`report`]: what a connect did and when, which the race runner
//!   records for [`ConnectorBuilder::connect_with_report`](crate::ConnectorBuilder::connect_with_report);
//! - [`blocking`]: the driver for
//!   [`ConnectorBuilder::connect`](crate::ConnectorBuilder::connect),
//!   waiting in the OS readiness wait (`poll(2)`, `WSAPoll`) on the calling
//!   thread;
//! - `tokio` (with the `tokio` feature): the driver for `connect_async`,
//!   waiting in tokio's reactor.

pub(crate) mod attempts;
pub(crate) mod blocking;
pub(crate) mod report;
pub(crate) mod resolution;
pub(crate) mod schedule;
#[cfg(feature = "tokio")]
pub(crate) mod tokio;
