//! `cargo run --example client -- --addr 127.0.0.1 --port 8080`
//!
//! The tutorial's client, which connects, sends its greeting and prints the
//! reply.
//!
//! ```text
//! cargo run --example client                          # to 127.0.0.1:8080
//! cargo run --example client -- --addr ::1 --port 9000
//! RUST_LOG=debug cargo run --example client           # and every socket step
//! cargo run --example client -- --addr localhost --explain   # how the connect went
//! cargo run --example client -- --help                # every option
//! ```
//!
//! Prints `Hello message sent`, then the server's message on its own line,
//! as the C program does; a failure is one `error: ...` line on stderr and a
//! non-zero exit status. `--explain` also prints, on stderr, the connect's
//! timeline: each lookup, each attempt, the winner, in milliseconds. A command line that cannot work (`--udp` with
//! `--unix`, ...) is refused with exit status 2.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};
use sockwright::ConnectorBuilder;
use sockwright::hello::{CLIENT_GREETING, DEFAULT_MAX_MESSAGE, DEFAULT_TIMEOUT, Exchange};

/// Connects to a hello server, sends the greeting and prints the reply, like
/// the C tutorial's client: `Hello message sent`, then the server's message.
#[derive(Debug, Parser)]
#[command(name = "client")]
struct Args {
    /// Server name or address; [IPv6]:PORT with a port
    #[arg(long, value_name = "HOST[:PORT]", default_value = "127.0.0.1")]
    addr: HostPort,

    /// Server port
    #[arg(long, value_name = "N", default_value_t = 8080, allow_negative_numbers = true,
          value_parser = clap::value_parser!(u16).range(1..))]
    port: u16,

    /// The greeting
    #[arg(long, value_name = "TEXT", default_value_t = CLIENT_GREETING.to_owned(),
          value_parser = message, allow_hyphen_values = true)]
    message: String,

    /// Local address to connect from; a port of 0 or none for any
    #[arg(long, value_name = "IP[:PORT]", value_parser = local_address)]
    bind: Option<SocketAddr>,

    /// Time allowed to connect and for the reply, in seconds
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT.as_secs_f64(),
          value_parser = seconds, allow_negative_numbers = true)]
    timeout: f64,

    /// Use UDP datagrams instead of a TCP connection
    #[arg(long, conflicts_with = "unix")]
    udp: bool,

    /// Print how the TCP connect went (lookups, attempts, winner, times) on stderr
    #[arg(long, conflicts_with_all = ["udp", "unix"])]
    explain: bool,

    /// Connect to a Unix-domain socket at PATH (Unix only)
    #[arg(long, value_name = "PATH", value_parser = socket_path,
          conflicts_with_all = ["addr", "port", "bind"])]
    unix: Option<PathBuf>,
}

/// `HOST`, `HOST:PORT`, an IPv6 address, or `[IPv6]:PORT`: the server, and
/// its port when one is given with it.
#[derive(Debug, Clone)]
struct HostPort {
    host: String,
    port: Option<u16>,
}

impl FromStr for HostPort {
    type Err = String;

    fn from_str(text: &str) -> Result<HostPort, String> {
        let host = |host: &str, port| {
            Ok(HostPort {
                host: host.to_owned(),
                port,
            })
        };
        let invalid = || Err("not HOST or HOST:PORT (IPv6 with a port as [IP]:PORT)".to_owned());
        if text.is_empty() || text.contains(char::is_whitespace) {
            return invalid();
        }
        if text.parse::<IpAddr>().is_ok() {
            return host(text, None);
        }
        if let Ok(addr) = text.parse::<SocketAddr>() {
            return host(&addr.ip().to_string(), Some(addr.port()));
        }
        // An IPv6 address with a scope (`fe80::1%eth0`), left to the resolver.
        if let Some((ip, scope)) = text.split_once('%') {
            if ip.parse::<Ipv6Addr>().is_ok() && !scope.is_empty() {
                return host(text, None);
            }
        }
        match text.rsplit_once(':') {
            None => host(text, None),
            Some((name, port)) if !name.is_empty() && !name.contains([':', '[', ']']) => {
                match port.parse::<u16>() {
                    Ok(port) if port != 0 => host(name, Some(port)),
                    _ => invalid(),
                }
            }
            Some(_) => invalid(),
        }
    }
}

/// `IP` or `IP:PORT` (`[IPv6]:PORT`).
fn local_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match text.parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 0)),
        Err(_) => Err("not IP or IP:PORT (IPv6 with a port as [IP]:PORT)".to_owned()),
    }
}

/// A greeting or reply: 1 to `DEFAULT_MAX_MESSAGE` bytes.
fn message(text: &str) -> Result<String, String> {
    if text.is_empty() || text.len() > DEFAULT_MAX_MESSAGE {
        return Err(format!(
            "must be 1 to {DEFAULT_MAX_MESSAGE} bytes, not {}",
            text.len()
        ));
    }
    Ok(text.to_owned())
}

/// A number of seconds above zero and at most a day.
fn seconds(text: &str) -> Result<f64, String> {
    let invalid = || "must be a number of seconds above 0 and at most 86400".to_owned();
    let secs: f64 = text.parse().map_err(|_| invalid())?;
    // Also rejects NaN; a positive value too small for a nanosecond is zero.
    if !(secs > 0.0 && secs <= 86_400.0) || Duration::from_secs_f64(secs).is_zero() {
        return Err(invalid());
    }
    Ok(secs)
}

/// A socket path: not empty.
fn socket_path(text: &str) -> Result<PathBuf, String> {
    if text.is_empty() {
        return Err("must be a non-empty path".to_owned());
    }
    Ok(PathBuf::from(text))
}

/// The arguments, with the one rule that depends on a value: `--addr
/// HOST:PORT` already says the port.
fn args() -> Args {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    if args.addr.port.is_some() && matches.value_source("port") == Some(ValueSource::CommandLine) {
        Args::command()
            .error(
                ErrorKind::ArgumentConflict,
                "the argument '--port <N>' cannot be used with '--addr HOST:PORT'",
            )
            .exit();
    }
    args
}

fn main() -> ExitCode {
    env_logger::init();
    match run(&args()) {
        Ok(reply) => {
            println!("Hello message sent");
            println!("{}", String::from_utf8_lossy(&reply));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the exchange and returns the server's message.
fn run(args: &Args) -> anyhow::Result<Vec<u8>> {
    let timeout = Duration::from_secs_f64(args.timeout);
    let mut exchange = Exchange::client();
    exchange.message(args.message.as_str()).timeout(timeout);
    let mut builder = ConnectorBuilder::new();
    builder.connect_timeout(timeout);
    if let Some(path) = &args.unix {
        #[cfg(unix)]
        return Ok(exchange.run(&mut builder.connect_unix(path)?)?);
        #[cfg(not(unix))]
        return Err(anyhow::anyhow!(
            "--unix {}: Unix-domain sockets are not available on this platform",
            path.display()
        ));
    }
    if let Some(local) = args.bind {
        builder.local_address(local);
    }
    let target = (args.addr.host.as_str(), args.addr.port.unwrap_or(args.port));
    if args.udp {
        return Ok(exchange.run_udp(&builder.connect_udp(target)?)?.0);
    }
    let mut stream = if args.explain {
        match builder.connect_with_report(target) {
            Ok((stream, report)) => {
                eprintln!("{report}");
                stream
            }
            Err(err) => {
                if let Some(report) = err.report() {
                    eprintln!("{report}");
                }
                return Err(err.into());
            }
        }
    } else {
        builder.connect(target)?
    };
    // Read now, not when an error is shown: a connection the server reset
    // has no peer address left to read.
    Ok(match stream.peer_addr() {
        Ok(server) => exchange.run(&mut sockwright::hello::Named::new(&mut stream, server))?,
        Err(_) => exchange.run(&mut stream)?,
    })
}
