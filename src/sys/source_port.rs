//! Linux: the source port of a connect chosen at `connect` rather than at
//! `bind` (`IP_BIND_ADDRESS_NO_PORT`), and the range it is chosen from
//! (`IP_LOCAL_PORT_RANGE`).

use std::io;

use socket2::Socket;

use super::imp::setsockopt_int;

/// `setsockopt(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)` (Linux 4.2) before
/// `bind(ip:0)`: the bind takes the address alone, and `connect` picks the
/// port knowing the destination, so one source address can reuse a port
/// towards different destinations rather than holding one per connection.
pub(crate) fn defer_source_port(socket: &Socket) -> io::Result<()> {
    setsockopt_int(socket, libc::IPPROTO_IP, libc::IP_BIND_ADDRESS_NO_PORT, 1)
}

/// `IP_LOCAL_PORT_RANGE` (`linux/in.h`, Linux 6.3).
const IP_LOCAL_PORT_RANGE: libc::c_int = 51;

/// `setsockopt(IPPROTO_IP, IP_LOCAL_PORT_RANGE)`: the range this socket's
/// ephemeral source port is picked from, within the system's
/// (`net.ipv4.ip_local_port_range`). The value holds the low port in its
/// low 16 bits and the high port in the upper 16. IPv6 sockets take it at
/// the same level.
pub(crate) fn set_local_port_range(socket: &Socket, low: u16, high: u16) -> io::Result<()> {
    let value = u32::from(low) | (u32::from(high) << 16);
    // A u32 of the same bits: the kernel reads it as one.
    setsockopt_int(
        socket,
        libc::IPPROTO_IP,
        IP_LOCAL_PORT_RANGE,
        value as libc::c_int,
    )
}
