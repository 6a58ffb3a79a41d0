//! What a user gives, kept in bounds: durations that never overflow an
//! `Instant` or a `poll(2)` timeout ([`deadline`]), and text or lists that
//! never flood a message ([`shown`]). Every subsystem may call these; they
//! call nothing else in the crate.

pub(crate) mod deadline;
pub(crate) mod shown;
