//! The self-connect check: a TCP connect to a port of this host where
//! nothing listens can meet itself (a simultaneous open) when the socket's
//! local port is that same port, and report success with no server at all.
//! [`Error::SelfConnect`] says so instead, read with one `getsockname` and
//! only where the two addresses can be equal.

use std::net::SocketAddr;

use socket2::Socket;

use crate::{Address, ConnectorBuilder, Error, Result};

/// How many times a connect that met itself is made again with a fresh
/// ephemeral port before [`Error::SelfConnect`] is returned.
pub(crate) const SELF_CONNECT_RETRIES: u32 = 2;

impl ConnectorBuilder {
    /// [`Error::SelfConnect`] if the TCP socket connected to `peer` is its
    /// own peer: a simultaneous open with itself, possible when nothing
    /// listens on a port of this host and the socket's local port is that
    /// same port. The local address is read (`getsockname`) only where
    /// [`may_meet_itself`](Self::may_meet_itself) says the two can be equal.
    #[inline]
    pub(crate) fn check_self_connect(&self, socket: &Socket, peer: SocketAddr) -> Result<()> {
        if !self.may_meet_itself(peer) {
            return Ok(());
        }
        check_self_connect(socket, peer)
    }

    /// Whether a TCP socket of this builder connected to `peer` can have
    /// `peer` as its local address. With a fixed source port, only if that
    /// port and (unless unspecified) that address are `peer`'s. With an
    /// ephemeral one (picked at `bind`, or at `connect` where
    /// `IP_BIND_ADDRESS_NO_PORT` defers it), only if `peer`'s port is one
    /// the kernel may pick: in the system range, or in the socket's own
    /// `local_port_range` (Linux); where the system range cannot be read,
    /// always.
    #[inline]
    fn may_meet_itself(&self, peer: SocketAddr) -> bool {
        let local = match peer {
            SocketAddr::V4(_) => self.local_v4,
            SocketAddr::V6(_) => self.local_v6,
        };
        match local {
            Some(local) if local.port() != 0 => {
                local.port() == peer.port()
                    && (local.ip().is_unspecified() || local.ip() == peer.ip())
            }
            // The port is picked at `bind`, or at `connect` with
            // `IP_BIND_ADDRESS_NO_PORT`: from the system range either way,
            // or from this socket's own range where one is set.
            _ => {
                let own = self.opts.set.local_port_range;
                own.is_some_and(|(low, high)| (low..=high).contains(&peer.port()))
                    || crate::sys::ephemeral_ports()
                        .is_none_or(|range| range.contains(&peer.port()))
            }
        }
    }
}

/// [`Error::SelfConnect`] if `socket`'s local address is `peer`. Out of
/// line: most connects never ask.
fn check_self_connect(socket: &Socket, peer: SocketAddr) -> Result<()> {
    match socket.local_addr().ok().and_then(|a| a.as_socket()) {
        Some(local) if local == peer => Err(Error::SelfConnect {
            addr: Address::Inet(peer),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys;

    #[test]
    fn a_self_connect_is_checked_where_the_two_addresses_can_be_equal() {
        let target: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut builder = ConnectorBuilder::new();
        builder.local_address("127.0.0.1:5000".parse().unwrap());
        assert!(builder.may_meet_itself(target));
        assert!(!builder.may_meet_itself("127.0.0.1:5001".parse().unwrap()));
        assert!(!builder.may_meet_itself("127.0.0.2:5000".parse().unwrap()));
        builder.local_address("0.0.0.0:5000".parse().unwrap());
        assert!(builder.may_meet_itself("127.0.0.9:5000".parse().unwrap()));
        // The IPv6 source address says nothing of an IPv4 target.
        builder.local_address("[::1]:5001".parse().unwrap());
        assert!(builder.may_meet_itself(target));
        assert!(!builder.may_meet_itself("[::1]:5000".parse().unwrap()));
        // An ephemeral source port: checked where the kernel may pick the
        // target's port, or where that range is unknown.
        let builder = ConnectorBuilder::new();
        match sys::ephemeral_ports() {
            Some(range) => {
                let port = *range.start();
                assert!(builder.may_meet_itself(SocketAddr::from(([127, 0, 0, 1], port))));
                if port > 1 {
                    assert!(!builder.may_meet_itself(SocketAddr::from(([127, 0, 0, 1], port - 1))));
                }
            }
            None => assert!(builder.may_meet_itself(target)),
        }
    }

    cfg_linux! {
        #[test]
        fn a_port_range_of_the_sockets_own_is_checked_too() {
            let mut own = ConnectorBuilder::new();
            own.local_port_range(1000..=1009);
            assert!(own.may_meet_itself("127.0.0.1:1005".parse().unwrap()));
            assert!(
                !own.may_meet_itself("127.0.0.1:999".parse().unwrap())
                    || sys::ephemeral_ports().is_none()
            );
        }
    }
}
