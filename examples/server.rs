//! `cargo run --example server -- [OPTIONS]`: the tutorial's server, which
//! waits for a client, prints its greeting and answers.
//!
//! ```text
//! cargo run --example server                    # 0.0.0.0:8080, one client, then exit
//! cargo run --example server -- --forever       # many clients at once, until killed
//! cargo run --example server -- --port 0 --udp  # any free port, UDP
//! cargo run --example server -- --listen unix:/tmp/hello.sock
//! systemd-socket-activate -l 127.0.0.1:8080 target/debug/examples/server --listen sd-listen
//! RUST_LOG=debug cargo run --example server     # and every socket step
//! ```
//!
//! Run `cargo run --example server -- --help` for every option. Prints
//! `listening on ADDRESS` to stderr once ready; then, for each client, its
//! message on one line of stdout followed by `Hello message sent`, as the C
//! program does. A client whose exchange fails gets one `error: ...` line on
//! stderr; after a counted run the exit status is non-zero if any did.

mod common;

use std::error::Error;
use std::io::Write;
use std::process::ExitCode;

use common::args::{self, Count, Parsed, ServerConfig, Transport};
use sockwright::hello::{Exchange, Outcome, Server, Summary};
use sockwright::{Endpoint, Listener, ListenerBuilder};

fn main() -> ExitCode {
    env_logger::init();
    match args::parse_server(common::argv()) {
        Ok(Parsed::Help) => {
            print!("{}", args::SERVER_USAGE);
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(config)) => match run(&config) {
            Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
            Ok(_) => ExitCode::FAILURE,
            Err(err) => common::fail(&*err),
        },
        Err(err) => common::usage_error(&err),
    }
}

fn run(config: &ServerConfig) -> Result<Summary, Box<dyn Error>> {
    let mut exchange = Exchange::server();
    exchange
        .message(config.message.as_str())
        .timeout(config.timeout);
    let mut server = Server::new(exchange);
    if let Some(max) = config.max_clients {
        server.max_clients(max);
    }
    match config.count {
        Count::Clients(n) => server.clients(n),
        Count::Forever => server.forever(),
    };
    let mut builder = ListenerBuilder::new();
    builder.backlog(config.backlog);
    match &config.transport {
        Transport::Tcp | Transport::Udp => {
            // SO_REUSEADDR as the C tutorial means it: a restarted server can
            // bind while its old connections linger in TIME_WAIT. Windows
            // allows that without it, and there it would let another
            // program bind the same port, so it is left off.
            #[cfg(unix)]
            builder.reuse_address(config.reuse_address);
            if config.reuse_port {
                #[cfg(unix)]
                builder.reuse_port(true);
                #[cfg(not(unix))]
                return Err("--reuse-port: SO_REUSEPORT is not available on this platform".into());
            }
            let addr = (config.addr, config.port);
            if config.transport == Transport::Udp {
                let socket = builder.bind_udp(addr)?;
                eprintln!("listening on {}", socket.local_addr()?);
                Ok(server.serve_udp(&socket, report)?)
            } else {
                let listener = builder.listen(addr)?;
                eprintln!("listening on {}", listener.local_addr()?);
                Ok(server.serve_tcp(&listener, report)?)
            }
        }
        #[cfg(unix)]
        Transport::Unix(path) => {
            // A socket file left by a server that was killed is replaced;
            // a live server's socket or any other file is not.
            let listener = builder.remove_stale_socket(true).listen_unix(path)?;
            eprintln!("listening on {}", path.display());
            let served = server.serve_unix(&listener, report);
            let _ = std::fs::remove_file(path);
            Ok(served?)
        }
        #[cfg(not(unix))]
        Transport::Unix(_) => {
            Err("--unix: Unix-domain sockets are not available on this platform".into())
        }
        Transport::Endpoint(endpoint) => {
            #[cfg(unix)]
            builder.reuse_address(config.reuse_address);
            #[cfg(unix)]
            if config.reuse_port {
                builder.reuse_port(true);
            }
            #[cfg(unix)]
            builder.remove_stale_socket(true);
            // SAFETY: the one `fd:N` this builder may listen on is the
            // `--listen` of this program's command line: a descriptor that
            // whoever started the program opened for it. The program adopts
            // no descriptor anywhere else.
            unsafe { builder.allow_fd_endpoints(true) };
            let listener = builder.listen_endpoint(endpoint)?;
            for addr in listener.local_addrs()? {
                eprintln!("listening on {addr}");
            }
            let served = match &listener {
                Listener::Tcp(l) => server.serve_tcp(l, report),
                // A name with several addresses (`localhost:8080`): one
                // thread serves each; `--clients N` counts per address.
                Listener::TcpAll(all) => serve_each(&server, all),
                #[cfg(unix)]
                Listener::Unix(l) => server.serve_unix(l, report),
                _ => return Err("--listen: this kind of listener is not served here".into()),
            };
            if let Endpoint::Unix(path) = endpoint {
                let _ = std::fs::remove_file(path);
            }
            Ok(served?)
        }
    }
}

/// Serves every listener of a name on a thread of its own, and adds up
/// their summaries.
fn serve_each(
    server: &Server,
    all: &[std::net::TcpListener],
) -> Result<Summary, sockwright::Error> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = all
            .iter()
            .map(|l| scope.spawn(move || server.serve_tcp(l, report)))
            .collect();
        let mut total: Option<Summary> = None;
        for thread in threads {
            let one = thread.join().expect("a serving thread panicked")?;
            match &mut total {
                None => total = Some(one),
                Some(total) => {
                    total.accepted += one.accepted;
                    total.succeeded += one.succeeded;
                    total.failed += one.failed;
                    total.accept_errors += one.accept_errors;
                }
            }
        }
        Ok(total.expect("a name's listeners are never none"))
    })
}

/// Prints one client's outcome: its message and `Hello message sent`, or an
/// error line.
fn report(outcome: Outcome) {
    match outcome.result {
        Ok(message) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", String::from_utf8_lossy(&message));
            let _ = writeln!(out, "Hello message sent");
            let _ = out.flush();
        }
        Err(err) => eprintln!("error: {}", common::chain(&err)),
    }
}
