//! Other event loops through the nonblocking std path (the crate docs'
//! "Async runtimes"): sockets built with `nonblocking(true)` go as they are
//! to smol's reactor (async-io's `Async::new_nonblocking`, which makes no
//! further system call and trusts the socket to be nonblocking already) and
//! to mio (`from_std`, which needs the same), and do real I/O there.
//!
//! Needs no feature: async-io and mio are dev-dependencies only.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use async_io::Async;
use sockwright::{ConnectorBuilder, ListenerBuilder};

/// The C tutorial's greetings (`sockwright::hello`'s constants, written out
/// so that this file needs only the feature it tests).
const CLIENT_GREETING: &str = "Hello from client";
const SERVER_GREETING: &str = "Hello from server";

/// A bound on every wait below, so that a broken reactor fails the test
/// instead of hanging it.
const LIMIT: Duration = Duration::from_secs(10);

/// Reads exactly `buf.len()` bytes through async-io's reactor.
async fn read_exact(stream: &Async<TcpStream>, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = stream.read_with(|mut s| s.read(&mut buf[filled..])).await?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        filled += n;
    }
    Ok(())
}

/// Writes all of `data` through async-io's reactor.
async fn write_all(stream: &Async<TcpStream>, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = stream.write_with(|mut s| s.write(data)).await?;
        data = &data[n..];
    }
    Ok(())
}

#[test]
fn smol_async_io_takes_nonblocking_sockets_as_they_are() {
    let listener = ListenerBuilder::new()
        .nonblocking(true)
        .listen("127.0.0.1:0")
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = Async::new_nonblocking(listener).unwrap();
    // The blocking connect finishes at once on loopback; a program that
    // connects to a remote name runs it on its runtime's blocking pool
    // (`smol::unblock`).
    let client = ConnectorBuilder::new()
        .nonblocking(true)
        .connect(addr)
        .unwrap();
    let client = Async::new_nonblocking(client).unwrap();

    let exchanged = async_io::block_on(async {
        let (server, peer) = listener.accept().await?;
        assert_eq!(peer, client.get_ref().local_addr()?);
        // The accepted end is async-io's own (`Async::new` on it).
        write_all(&client, CLIENT_GREETING.as_bytes()).await?;
        let mut buf = [0; 17];
        read_exact(&server, &mut buf).await?;
        assert_eq!(&buf, CLIENT_GREETING.as_bytes());
        write_all(&server, SERVER_GREETING.as_bytes()).await?;
        read_exact(&client, &mut buf).await?;
        assert_eq!(&buf, SERVER_GREETING.as_bytes());
        // Nothing more to read: the reactor waits instead of the thread.
        let idle = futures_race(
            async {
                let mut byte = [0; 1];
                client.read_with(|mut s| s.read(&mut byte)).await.map(Some)
            },
            async {
                async_io::Timer::after(Duration::from_millis(50)).await;
                Ok(None)
            },
        )
        .await?;
        assert_eq!(idle, None, "a read returned data that was never sent");
        io::Result::Ok(())
    });
    exchanged.unwrap();
}

/// The first of two futures to finish, polled on this thread (async-io has
/// no `select`, and this test needs no other crate for one).
async fn futures_race<T>(
    a: impl std::future::Future<Output = T>,
    b: impl std::future::Future<Output = T>,
) -> T {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
            return std::task::Poll::Ready(v);
        }
        b.as_mut().poll(cx)
    })
    .await
}

#[test]
fn mio_polls_nonblocking_sockets_from_both_builders() {
    use mio::net::{TcpListener as MioListener, TcpStream as MioStream};
    use mio::{Events, Interest, Poll, Token};

    const LISTENER: Token = Token(0);
    const CLIENT: Token = Token(1);
    const SERVER: Token = Token(2);

    let std_listener: TcpListener = ListenerBuilder::new()
        .nonblocking(true)
        .listen("127.0.0.1:0")
        .unwrap();
    let addr = std_listener.local_addr().unwrap();
    let mut listener = MioListener::from_std(std_listener);
    let mut client = MioStream::from_std(
        ConnectorBuilder::new()
            .nonblocking(true)
            .connect(addr)
            .unwrap(),
    );
    let mut poll = Poll::new().unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&mut client, CLIENT, Interest::READABLE | Interest::WRITABLE)
        .unwrap();

    let mut events = Events::with_capacity(8);
    let started = Instant::now();
    let mut server: Option<MioStream> = None;
    let mut sent = 0; // bytes of the client's greeting written
    let mut greeting = Vec::new(); // what the server has read
    let mut replied = 0; // bytes of the server's reply written
    let mut reply = Vec::new(); // what the client has read
    while reply.len() < SERVER_GREETING.len() {
        assert!(started.elapsed() < LIMIT, "mio exchange did not finish");
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        if server.is_none() {
            match listener.accept() {
                Ok((mut conn, _)) => {
                    poll.registry()
                        .register(&mut conn, SERVER, Interest::READABLE | Interest::WRITABLE)
                        .unwrap();
                    server = Some(conn);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("accept: {e}"),
            }
        }
        // Every step is tried after each wake-up; a nonblocking socket says
        // WouldBlock for what is not ready yet.
        let wouldblock = |r: io::Result<usize>| match r {
            Ok(n) => Some(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => None,
            Err(e) => panic!("mio I/O: {e}"),
        };
        if sent < CLIENT_GREETING.len() {
            sent += wouldblock(client.write(&CLIENT_GREETING.as_bytes()[sent..])).unwrap_or(0);
        }
        if let Some(conn) = server.as_mut() {
            let mut buf = [0; 64];
            if greeting.len() < CLIENT_GREETING.len() {
                if let Some(n) = wouldblock(conn.read(&mut buf)) {
                    greeting.extend_from_slice(&buf[..n]);
                }
            } else if replied < SERVER_GREETING.len() {
                replied +=
                    wouldblock(conn.write(&SERVER_GREETING.as_bytes()[replied..])).unwrap_or(0);
            }
        }
        let mut buf = [0; 64];
        if let Some(n) = wouldblock(client.read(&mut buf)) {
            reply.extend_from_slice(&buf[..n]);
        }
    }
    assert_eq!(greeting, CLIENT_GREETING.as_bytes());
    assert_eq!(reply, SERVER_GREETING.as_bytes());
}
