//! The system resolver, asked once per family, against a DNS server of the
//! test's own: `tests/util/dns_server.py` (Python's standard library) on a
//! loopback address, port 53, delaying the answers it is told to, and a
//! `resolv.conf` naming it, bind-mounted over `/etc/resolv.conf` in a mount
//! namespace the test creates (`unshare -m`, as root). The test binary runs
//! itself again inside that namespace, where `getaddrinfo` asks the test's
//! server; the server's log then shows which questions were asked.
//!
//! Linux only. Where a mount namespace cannot be made (not root, no
//! `unshare`, no `python3`), or the host does not resolve names through DNS
//! (`hosts:` in `/etc/nsswitch.conf`), the test prints why it is skipped.
#![cfg(target_os = "linux")]

use crate::util;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::namespace;
use crate::util::{TempDir, fd_count, has_ipv6_loopback, thread_count};
use sockwright::ConnectorBuilder;

/// Connects that win before the slow AAAA answer, in the resource check
/// (the name `many`).
const ROUNDS: usize = 1_000;
const SLACK: Duration = Duration::from_millis(100);
/// Where only the order of events is checked (a late answer joined, IPv6
/// went first), an upper bound that a busy machine cannot miss but a
/// connect waiting for the black hole's timeout would.
const MARGIN: Duration = Duration::from_millis(1500);

/// name, type, address, delay in ms.
const RECORDS: &[(&str, &str, &str, u32)] = &[
    ("slow6.sockwright.test", "A", "127.0.0.1", 0),
    ("slow6.sockwright.test", "AAAA", "::1", 3000),
    ("fast6.sockwright.test", "A", "127.0.0.1", 0),
    ("fast6.sockwright.test", "AAAA", "::1", 20),
    ("late4.sockwright.test", "AAAA", "::1", 0),
    ("late4.sockwright.test", "A", "127.0.0.1", 300),
    ("v4only.sockwright.test", "A", "127.0.0.1", 0),
    ("many.sockwright.test", "A", "127.0.0.1", 0),
    ("many.sockwright.test", "AAAA", "::1", SLOW_MS),
];
/// The slow AAAA answer of the resource rounds: long enough for 1,000
/// connects on a busy machine, within one try of the resolver (below).
const SLOW_MS: u32 = 8000;

#[test]
fn the_system_resolver_asks_each_family_apart() {
    if namespace::inside() {
        inside();
    } else {
        outside();
    }
}

/// Why this host cannot run the test, if it cannot.
fn cannot_run() -> Option<String> {
    if let Some(why) = namespace::hosts_not_from("dns") {
        return Some(why);
    }
    let python = Command::new("python3").arg("-c").arg("pass").status();
    if !python.is_ok_and(|s| s.success()) {
        return Some("python3 is not available".into());
    }
    namespace::cannot_unshare(false)
}

/// Starts the DNS server, runs the test again in a namespace whose
/// `/etc/resolv.conf` names it, then checks the questions it was asked.
fn outside() {
    if let Some(why) = cannot_run() {
        println!("skipped: {why}");
        return;
    }
    // An address of its own in 127.0.0.0/8, so that port 53 is free.
    let pid = std::process::id();
    let ip = format!("127.53.{}.{}", (pid >> 8) & 0xff, (pid & 0xff).max(1));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/dns_server.py");
    let records: Vec<String> = RECORDS
        .iter()
        .map(|(name, kind, addr, ms)| format!("{name},{kind},{addr},{ms}"))
        .collect();
    let mut server = Command::new("python3")
        .arg(script)
        .arg(&ip)
        .args(&records)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the DNS server");
    let mut log = BufReader::new(server.stdout.take().unwrap());
    let mut ready = String::new();
    log.read_line(&mut ready).unwrap();
    if !ready.starts_with("ready") {
        let mut err = String::new();
        server
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        panic!("the DNS server did not start on {ip}:53: {err}");
    }

    let dir = TempDir::new("resolv");
    let conf = dir.join("resolv.conf");
    // One try of 15 s per question: the slowest answer (8 s) comes within it.
    std::fs::write(
        &conf,
        format!("nameserver {ip}\noptions timeout:15 attempts:1\n"),
    )
    .unwrap();
    let test = util::test_path(module_path!(), "the_system_resolver_asks_each_family_apart");
    let inside =
        std::panic::catch_unwind(|| namespace::run_inside(&test, false, &conf, "/etc/resolv.conf"));
    let _ = server.kill();
    let _ = server.wait();
    if let Err(failed) = inside {
        std::panic::resume_unwind(failed);
    }

    let mut queries = Vec::new();
    let mut line = String::new();
    while log.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(q) = line.trim().strip_prefix("query ") {
            queries.push(q.to_owned());
        }
        line.clear();
    }
    let count = |q: &str| queries.iter().filter(|x| *x == q).count();
    println!(
        "questions asked: many A {}, AAAA {}; slow6 A {}, AAAA {}; fast6 A {}, AAAA {}; late4 A {}, AAAA {}; v4only A {}, AAAA {}",
        count("many.sockwright.test A"),
        count("many.sockwright.test AAAA"),
        count("slow6.sockwright.test A"),
        count("slow6.sockwright.test AAAA"),
        count("fast6.sockwright.test A"),
        count("fast6.sockwright.test AAAA"),
        count("late4.sockwright.test A"),
        count("late4.sockwright.test AAAA"),
        count("v4only.sockwright.test A"),
        count("v4only.sockwright.test AAAA"),
    );
    // One question per family per connect: getaddrinfo with AF_INET asks
    // A only, with AF_INET6 AAAA only.
    for name in ["slow6", "fast6", "late4", "v4only"] {
        assert_eq!(count(&format!("{name}.sockwright.test A")), 1, "{name} A");
        assert_eq!(
            count(&format!("{name}.sockwright.test AAAA")),
            1,
            "{name} AAAA"
        );
    }
    // Every connect asked A; the slow AAAA question was shared while in flight.
    assert_eq!(count("many.sockwright.test A"), ROUNDS);
    assert_eq!(count("many.sockwright.test AAAA"), 1);
}

/// The checks, inside the namespace.
fn inside() {
    let _ = env_logger::builder().is_test(true).try_init();
    let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap();
    println!("inside the namespace, /etc/resolv.conf: {}", conf.trim());
    resources();
    a_first_starts_after_the_resolution_delay();
    if has_ipv6_loopback() {
        aaaa_within_the_delay_is_tried_first();
        a_late_a_answer_joins_the_race();
    } else {
        println!("skipped the IPv6 checks: this host has no IPv6 loopback (::1)");
    }
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = ConnectorBuilder::new()
        .connect(("v4only.sockwright.test", live.local_addr().unwrap().port()))
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
}

/// 1,000 connects that win before the slow AAAA answer: no descriptor and
/// no thread left but the one lookup still waiting (and its own socket),
/// once the lookup thread that answered the A questions has been idle for a
/// second; none at all once the slow answer came.
fn resources() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = live.local_addr().unwrap().port();
    let mut builder = ConnectorBuilder::new();
    builder.resolution_delay(Duration::from_millis(1));
    let fds_before = fd_count();
    let threads_before = thread_count();
    let started = Instant::now();
    for round in 0..ROUNDS {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "round {round}: too slow"
        );
        let stream = builder.connect(("many.sockwright.test", port)).unwrap();
        let (accepted, _) = live.accept().unwrap();
        drop((stream, accepted));
    }
    let took = started.elapsed();
    let (fds_after, threads_after) = (fd_count(), thread_count());
    println!(
        "{ROUNDS} connects through getaddrinfo in {took:?}: fds {fds_before} -> {fds_after}, threads {threads_before} -> {threads_after}"
    );
    assert!(
        took < Duration::from_millis(u64::from(SLOW_MS)),
        "the connects outlasted the slow answer: the check proves nothing"
    );
    // The pending AAAA lookup, and the lookup thread that answered the A
    // questions, which ends after a second without a question.
    assert!(threads_after <= threads_before + 2, "threads left behind");
    let idle = Instant::now();
    while thread_count() > threads_before + 1 {
        assert!(
            idle.elapsed() < Duration::from_secs(3),
            "an idle lookup thread did not end"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    println!(
        "{} thread(s) {:?} later: the pending AAAA lookup's is left",
        thread_count(),
        idle.elapsed()
    );
    assert_eq!(
        thread_count(),
        threads_before + 1,
        "the pending AAAA lookup"
    );
    // Its thread holds the UDP socket getaddrinfo waits on.
    assert!(fds_after <= fds_before + 1, "descriptors left behind");
    let deadline = Instant::now() + Duration::from_millis(u64::from(SLOW_MS) + 5000);
    while thread_count() > threads_before || fd_count() > fds_before {
        assert!(
            Instant::now() < deadline,
            "the lookup did not end after its answer"
        );
        std::thread::yield_now();
    }
    println!(
        "after the slow answer ({:?} after the first connect): fds {}, threads {}",
        started.elapsed(),
        fd_count(),
        thread_count()
    );
}

fn a_first_starts_after_the_resolution_delay() {
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let delay = ConnectorBuilder::DEFAULT_RESOLUTION_DELAY;
    let started = Instant::now();
    let stream = ConnectorBuilder::new()
        .connect(("slow6.sockwright.test", live.local_addr().unwrap().port()))
        .unwrap();
    let took = started.elapsed();
    println!("slow6 (AAAA after 3 s): connected after {took:?}");
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    assert!(took >= delay && took <= delay + SLACK, "took {took:?}");
}

/// A black-holed `[::1]` port and a live `127.0.0.1` listener on the same port.
fn black_hole_and_live_on_one_port() -> (util::FullListener, TcpListener) {
    for _ in 0..20 {
        let hole = util::full_listener_at("[::1]:0", Duration::from_millis(200))
            .expect("no SYN dropped at a full accept queue on [::1]");
        if let Ok(live) = TcpListener::bind(("127.0.0.1", hole.addr.port())) {
            return (hole, live);
        }
    }
    panic!("no port free on both [::1] and 127.0.0.1 in 20 tries");
}

fn aaaa_within_the_delay_is_tried_first() {
    let (hole, live) = black_hole_and_live_on_one_port();
    let attempt_delay = Duration::from_millis(100);
    let started = Instant::now();
    let stream = ConnectorBuilder::new()
        .connection_attempt_delay(attempt_delay)
        .connect(("fast6.sockwright.test", hole.addr.port()))
        .unwrap();
    let took = started.elapsed();
    println!("fast6 (AAAA after 20 ms, [::1] black-holed): IPv4 won after {took:?}");
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    let first = Duration::from_millis(20);
    assert!(
        took >= first + attempt_delay,
        "IPv6 was not tried first: {took:?}"
    );
    assert!(took <= first + attempt_delay + MARGIN, "took {took:?}");
}

fn a_late_a_answer_joins_the_race() {
    let (hole, live) = black_hole_and_live_on_one_port();
    let late = Duration::from_millis(300);
    let started = Instant::now();
    let stream = ConnectorBuilder::new()
        .connect_timeout(Duration::from_secs(10))
        .connect(("late4.sockwright.test", hole.addr.port()))
        .unwrap();
    let took = started.elapsed();
    println!("late4 (A after 300 ms, [::1] black-holed): IPv4 won after {took:?}");
    assert_eq!(stream.peer_addr().unwrap(), live.local_addr().unwrap());
    assert!(took >= late && took <= late + MARGIN, "took {took:?}");
}
