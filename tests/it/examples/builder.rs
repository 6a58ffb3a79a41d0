//! The short builder examples run as a user runs them, each to its end on
//! loopback: what they print, and a zero exit status.

use crate::util;

use std::process::Command;

/// Runs an example without arguments; returns its stdout, after checking
/// that it succeeded and wrote nothing to stderr.
fn run(name: &str) -> String {
    let out = Command::new(util::example_binary(name))
        .env_remove("RUST_LOG")
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{name}: {stdout}{stderr}");
    println!("{name}:\n{stdout}{stderr}");
    stdout
}

#[cfg(unix)]
#[test]
fn sharded_server_serves_every_client_from_one_port() {
    let out = run("sharded_server");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("4 shards listening on 127.0.0.1:"),
        "{out}"
    );
    let served: Vec<u32> = lines[1..]
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let n = line
                .strip_prefix(&format!("shard {i}: "))
                .and_then(|l| l.strip_suffix(" clients"))
                .unwrap_or_else(|| panic!("{line:?}"));
            n.parse().unwrap()
        })
        .collect();
    assert_eq!(served.len(), 4, "{out}");
    assert_eq!(served.iter().sum::<u32>(), 20, "{out}");
}

#[test]
fn dual_stack_sees_ipv4_clients_as_mapped_addresses() {
    if !util::has_ipv6_loopback() {
        println!("skipped: this host has no IPv6 loopback");
        return;
    }
    let out = run("dual_stack");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("listening on [::]:"), "{out}");
    assert_eq!(lines.len(), 3, "{out}");
    let (v4, mapped) = lines[1]
        .strip_prefix("client ")
        .and_then(|l| l.split_once(" arrived as "))
        .expect("the IPv4 client's line");
    let port = v4.strip_prefix("127.0.0.1:").expect("an IPv4 client");
    assert_eq!(mapped, format!("[::ffff:127.0.0.1]:{port}"));
    assert!(lines[2].starts_with("client [::1]:"), "{out}");
}

#[test]
fn happy_eyeballs_connects_to_localhost() {
    let out = run("happy_eyeballs");
    assert!(out.starts_with("connected to 127.0.0.1:"), "{out}");
}

#[cfg(unix)]
#[test]
fn unix_server_gives_its_socket_mode_0660() {
    let out = run("unix_server");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("listening on "), "{out}");
    assert!(lines[0].ends_with("server.sock (mode 660)"), "{out}");
    assert_eq!(lines[1], "served one client: ping");
}
