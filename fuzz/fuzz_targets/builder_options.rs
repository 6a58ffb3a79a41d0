//! Arbitrary builder configurations, as a program would set them from its
//! command line, finished on loopback addresses and private Unix paths: every
//! call returns `Ok` or an `Error`, and never panics.
//!
//! Only loopback is used: connects go to a listener this target runs on
//! 127.0.0.1 / ::1 (or to its port on the other family, refused at once).
#![no_main]

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use sockwright::{ConnectorBuilder, Domain, Keepalive, ListenerBuilder, Protocol, Type};

/// A loopback listener that accepts and drops connections forever, so that
/// connects succeed and the accept queue never fills.
fn server(v6: bool) -> Option<SocketAddr> {
    static V4: OnceLock<Option<SocketAddr>> = OnceLock::new();
    static V6: OnceLock<Option<SocketAddr>> = OnceLock::new();
    let cell = if v6 { &V6 } else { &V4 };
    *cell.get_or_init(|| {
        let listener = TcpListener::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).ok()?;
        let addr = listener.local_addr().ok()?;
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                drop(conn);
            }
        });
        Some(addr)
    })
}

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sockwright-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create fuzz directory");
        dir
    })
}

fn duration(u: &mut Unstructured<'_>) -> Result<Duration> {
    Ok(match u.int_in_range(0..=3)? {
        0 => Duration::ZERO,
        1 => Duration::from_millis(u.int_in_range(1..=2_000)?),
        2 => Duration::new(u.arbitrary()?, u.int_in_range(0..=999_999_999)?),
        _ => Duration::MAX,
    })
}

/// The options both builders share, applied through a macro because the two
/// builders are different types with the same setter names.
macro_rules! common {
    ($b:expr, $u:expr, $op:expr) => {
        match $op {
            0 => {
                $b.domain(*$u.choose(&[Domain::Ipv4, Domain::Ipv6, Domain::Unix])?);
            }
            1 => {
                $b.socket_type(*$u.choose(&[Type::Stream, Type::Datagram, Type::SeqPacket])?);
            }
            2 => {
                $b.protocol(*$u.choose(&[
                    Protocol::Default,
                    Protocol::Tcp,
                    Protocol::Udp,
                    Protocol::Mptcp,
                ])?);
            }
            3 => {
                $b.reuse_address($u.arbitrary()?);
            }
            4 => {
                $b.reuse_port($u.arbitrary()?);
            }
            5 => {
                $b.only_v6($u.arbitrary()?);
            }
            6 => {
                $b.nonblocking($u.arbitrary()?);
            }
            7 => {
                $b.send_buffer_size($u.arbitrary()?);
            }
            8 => {
                $b.recv_buffer_size($u.arbitrary()?);
            }
            9 => {
                $b.ttl($u.arbitrary()?);
            }
            10 => {
                let len = $u.int_in_range(0..=20)?;
                let name = String::from_utf8_lossy($u.bytes(len)?).into_owned();
                $b.bind_device(&name);
            }
            11 => {
                $b.freebind($u.arbitrary()?);
            }
            _ => {}
        }
    };
}

fn unix_path(u: &mut Unstructured<'_>) -> Result<PathBuf> {
    let len = u.int_in_range(0..=120)?;
    let name: String = (0..len)
        .map(|_| u.choose(&['a', 'b', '.', '-', '_', '\u{e9}']).copied())
        .collect::<Result<_>>()?;
    Ok(dir().join(name))
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let v6 = u.arbitrary::<bool>()? && server(true).is_some();
    let ip = if v6 { "::1" } else { "127.0.0.1" };
    if u.arbitrary()? {
        let mut b = ListenerBuilder::new();
        for _ in 0..u.int_in_range(0..=8)? {
            match u.int_in_range(0..=14)? {
                12 => {
                    b.backlog(u.arbitrary()?);
                }
                13 => {
                    b.remove_stale_socket(u.arbitrary()?);
                }
                op => common!(b, u, op),
            }
        }
        match u.int_in_range(0..=3)? {
            0 => {
                let _ = b.listen((ip, 0));
            }
            1 => {
                let _ = b.bind_udp((ip, 0));
            }
            2 => {
                let path = unix_path(u)?;
                let _ = b.listen_unix(&path);
                let _ = std::fs::remove_file(&path);
            }
            _ => {
                let path = unix_path(u)?;
                let _ = b.bind_unix_datagram(&path);
                let _ = std::fs::remove_file(&path);
            }
        }
    } else {
        let mut b = ConnectorBuilder::new();
        for _ in 0..u.int_in_range(0..=8)? {
            match u.int_in_range(0..=20)? {
                12 => {
                    b.connect_timeout(duration(u)?);
                }
                13 => {
                    b.read_timeout(duration(u)?);
                }
                14 => {
                    b.write_timeout(duration(u)?);
                }
                15 => {
                    b.nodelay(u.arbitrary()?);
                }
                16 => {
                    let mut ka = Keepalive::new();
                    if u.arbitrary()? {
                        ka = ka.time(duration(u)?);
                    }
                    if u.arbitrary()? {
                        ka = ka.interval(duration(u)?);
                    }
                    if u.arbitrary()? {
                        ka = ka.retries(u.arbitrary()?);
                    }
                    b.keepalive(ka);
                }
                17 => {
                    b.linger(if u.arbitrary()? {
                        Some(duration(u)?)
                    } else {
                        None
                    });
                }
                18 => {
                    let local: SocketAddr = if u.arbitrary()? {
                        ([127, 0, 0, 1], 0).into()
                    } else {
                        "[::1]:0".parse().expect("literal")
                    };
                    b.local_address(local);
                }
                op => common!(b, u, op),
            }
        }
        let Some(server) = server(v6) else {
            return Ok(());
        };
        match u.int_in_range(0..=2)? {
            0 => {
                let _ = b.connect(server);
            }
            1 => {
                let _ = b.connect_udp(server);
            }
            _ => {
                let _ = b.connect_unix(unix_path(u)?);
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
