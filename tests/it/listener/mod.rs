//! `ListenerBuilder`: dual stack, `listen_all`, address and port reuse,
//! multicast, and binds that conflict.

mod dual_stack;
mod faults_bind;
mod listen_all;
mod multicast;
mod reuse;
