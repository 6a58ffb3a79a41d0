//! `ConnectorBuilder`: its options and finishing calls, connects that
//! cannot succeed, and Happy Eyeballs races.

mod builder;
mod faults;
mod happy_eyeballs;
mod mptcp;
mod report;
mod source_ports;
