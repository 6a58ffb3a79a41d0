//! Multicast membership, shown by delivery: two receivers that joined a
//! group and share its port both receive one datagram sent to the group on
//! loopback. And the multicast options refused where they cannot work.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use sockwright::{ConnectorBuilder, Error, ListenerBuilder};

const WAIT: Duration = Duration::from_secs(5);

/// Two receivers of `group` sharing one port, and what each received from
/// one datagram `send` sends to the group and port.
fn deliver(
    receiver: &ListenerBuilder,
    bind: SocketAddr,
    send: impl FnOnce(u16) -> std::io::Result<usize>,
) -> Vec<Vec<u8>> {
    let first = receiver.bind_udp(bind).expect("first receiver");
    let port = first.local_addr().unwrap().port();
    let mut again = bind;
    again.set_port(port);
    let second = receiver
        .bind_udp(again)
        .expect("second receiver, same port");
    assert_eq!(send(port).expect("send to the group"), 5);
    [first, second]
        .iter()
        .map(|r| {
            r.set_read_timeout(Some(WAIT)).unwrap();
            let mut buf = [0; 16];
            let n = r.recv(&mut buf).expect("receive the group's datagram");
            buf[..n].to_vec()
        })
        .collect()
}

#[test]
fn two_ipv4_receivers_of_a_group_both_receive() {
    let group = Ipv4Addr::new(239, 255, 77, 1);
    let mut receiver = ListenerBuilder::new();
    receiver
        .reuse_address(true)
        .join_multicast_v4(group, Ipv4Addr::LOCALHOST)
        // A second group, to show several joins on one socket.
        .join_multicast_v4(Ipv4Addr::new(239, 255, 77, 2), Ipv4Addr::LOCALHOST);
    let got = deliver(&receiver, SocketAddr::from((group, 0)), |port| {
        let sender = ConnectorBuilder::new()
            .multicast_if_v4(Ipv4Addr::LOCALHOST)
            .multicast_loop(true)
            .multicast_ttl(0)
            .connect_udp((group, port))
            .expect("sender");
        sender.send(b"hello")
    });
    assert_eq!(got, [b"hello".to_vec(), b"hello".to_vec()]);
}

/// A receiver that did not join gets nothing: the control that makes the
/// test above about membership, not about binding the group address.
#[test]
fn a_receiver_that_did_not_join_receives_nothing() {
    let group = Ipv4Addr::new(239, 255, 77, 3);
    let receiver = ListenerBuilder::new()
        .reuse_address(true)
        .bind_udp((group, 0))
        .unwrap();
    let port = receiver.local_addr().unwrap().port();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket2::SockRef::from(&sender)
        .set_multicast_if_v4(&Ipv4Addr::LOCALHOST)
        .unwrap();
    sender.send_to(b"hello", (group, port)).unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let err = receiver.recv(&mut [0; 16]).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
}

/// IPv6 membership, shown by the kernel's table of groups
/// (`/proc/net/igmp6`): the host's loopback has no multicast flag, so a
/// datagram cannot be delivered on it, but the group is joined on it while
/// the socket lives, and left when it closes.
#[cfg(target_os = "linux")]
#[test]
fn ipv6_groups_are_joined_while_the_socket_lives() {
    if !util_has_ipv6() {
        eprintln!("skipped: this host has no IPv6 loopback (::1)");
        return;
    }
    let groups = ["ff02::7761", "ff02::7762"];
    let joined = |group: &str| {
        let hex: String = group
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let table = std::fs::read_to_string("/proc/net/igmp6").expect("read /proc/net/igmp6");
        table
            .lines()
            .any(|line| line.split_whitespace().nth(1) == Some("lo") && line.contains(&hex))
    };
    let mut builder = ListenerBuilder::new();
    for group in groups {
        builder.join_multicast_v6(group.parse().unwrap(), 1);
    }
    let socket = builder.bind_udp("[::1]:0").unwrap();
    for group in groups {
        assert!(joined(group), "{group} not joined on lo");
    }
    drop(socket);
    for group in groups {
        assert!(!joined(group), "{group} still joined after close");
    }
}

#[cfg(target_os = "linux")]
fn util_has_ipv6() -> bool {
    UdpSocket::bind("[::1]:0").is_ok()
}

#[test]
fn multicast_joins_are_refused_where_they_cannot_work() {
    let invalid = |r: sockwright::Result<()>, words: &str| {
        let err = r.unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
        assert!(err.to_string().contains(words), "{err}");
    };
    let group = Ipv4Addr::new(239, 255, 77, 9);
    invalid(
        ListenerBuilder::new()
            .join_multicast_v4(Ipv4Addr::new(10, 1, 2, 3), Ipv4Addr::UNSPECIFIED)
            .bind_udp("127.0.0.1:0")
            .map(drop),
        "10.1.2.3 is not a multicast group",
    );
    invalid(
        ListenerBuilder::new()
            .join_multicast_v6("fe80::1".parse().unwrap(), 0)
            .bind_udp("[::1]:0")
            .map(drop),
        "fe80::1 is not a multicast group",
    );
    invalid(
        ListenerBuilder::new()
            .join_multicast_v4(group, Ipv4Addr::UNSPECIFIED)
            .listen("127.0.0.1:0")
            .map(drop),
        "join_multicast_v4 (IP_ADD_MEMBERSHIP) does not apply to a stream socket",
    );
    invalid(
        ListenerBuilder::new()
            .join_multicast_v4(group, Ipv4Addr::UNSPECIFIED)
            .bind_udp("[::1]:0")
            .map(drop),
        "join_multicast_v4 (IP_ADD_MEMBERSHIP) does not apply to IPv6 address [::1]:0",
    );
    invalid(
        ConnectorBuilder::new()
            .multicast_ttl(256)
            .connect_udp("127.0.0.1:9")
            .map(drop),
        "multicast_ttl 256 is outside 0..=255",
    );
    invalid(
        ConnectorBuilder::new()
            .broadcast(true)
            .connect("127.0.0.1:9")
            .map(drop),
        "broadcast (SO_BROADCAST) does not apply to a stream socket",
    );
    #[cfg(unix)]
    invalid(
        ListenerBuilder::new()
            .join_multicast_v4(group, Ipv4Addr::UNSPECIFIED)
            .bind_unix_datagram("/nonexistent-sockwright/x.sock")
            .map(drop),
        "join_multicast_v4 (IP_ADD_MEMBERSHIP) does not apply to Unix path",
    );
}
