//! The `hello` module: its framing, `hello::Server`, hostile peers, and the
//! C and Python programs of the tutorial as peers.

mod framing;
mod interop_c;
mod interop_python;
mod peers;
mod server;
