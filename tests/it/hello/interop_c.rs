//! The examples and the library against C programs that behave exactly like
//! the tutorial's: the server makes one `read` of at most 1023 bytes, answers
//! `Hello from server` with no terminator and closes; the client sends
//! `Hello from client` without shutting down its write side and makes one
//! `read`. Neither frames its messages.
//!
//! The C programs are compiled with the system C compiler (`cc`, or `$CC`)
//! when the tests run; with no compiler the tests say so and skip. For the
//! tests, the programs take the port as their argument and the server binds
//! 127.0.0.1 instead of `INADDR_ANY`, and prints `ready` on stderr once it
//! listens; their wire behaviour and stdout are the tutorial's.
#![cfg(unix)]

use crate::util::hello as hello_util;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use socket2::{Domain, Socket, Type};

use crate::util::hello::{
    example_client_with, example_server_with, library_client_with, library_server_with,
};

const SERVER_C: &str = r#"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    char buffer[1024] = {0};
    const char *hello = "Hello from server";
    int opt = 1;
    struct sockaddr_in address;
    socklen_t addrlen = sizeof(address);

    int server_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (server_fd < 0) { perror("socket"); return 1; }
    if (setsockopt(server_fd, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof(opt)) < 0) {
        perror("setsockopt"); return 1;
    }
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (bind(server_fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
        perror("bind"); return 1;
    }
    if (listen(server_fd, 3) < 0) { perror("listen"); return 1; }
    fprintf(stderr, "ready\n");
    int conn = accept(server_fd, (struct sockaddr *)&address, &addrlen);
    if (conn < 0) { perror("accept"); return 1; }
    ssize_t n = read(conn, buffer, 1024 - 1);
    if (n < 0) { perror("read"); return 1; }
    printf("%s\n", buffer);
    send(conn, hello, strlen(hello), 0);
    printf("Hello message sent\n");
    close(conn);
    close(server_fd);
    return 0;
}
"#;

const CLIENT_C: &str = r#"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    const char *hello = "Hello from client";
    char buffer[1024] = {0};
    struct sockaddr_in serv_addr;

    int sock = socket(AF_INET, SOCK_STREAM, 0);
    if (sock < 0) { printf("Socket creation error\n"); return -1; }
    memset(&serv_addr, 0, sizeof(serv_addr));
    serv_addr.sin_family = AF_INET;
    serv_addr.sin_port = htons(port);
    if (inet_pton(AF_INET, "127.0.0.1", &serv_addr.sin_addr) <= 0) {
        printf("Invalid address\n"); return -1;
    }
    if (connect(sock, (struct sockaddr *)&serv_addr, sizeof(serv_addr)) < 0) {
        printf("Connection Failed\n"); return -1;
    }
    send(sock, hello, strlen(hello), 0);
    printf("Hello message sent\n");
    read(sock, buffer, 1024 - 1);
    printf("%s\n", buffer);
    close(sock);
    return 0;
}
"#;

/// The compiled server and client, or `None` (after saying why) when there
/// is no C compiler.
fn programs() -> Option<&'static (PathBuf, PathBuf)> {
    static PROGRAMS: OnceLock<Option<(PathBuf, PathBuf)>> = OnceLock::new();
    PROGRAMS
        .get_or_init(|| {
            let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("interop-c-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("create a directory for the C programs");
            let mut built = Vec::new();
            for (name, source) in [("server", SERVER_C), ("client", CLIENT_C)] {
                let c = dir.join(format!("{name}.c"));
                let exe = dir.join(name);
                std::fs::write(&c, source).expect("write C source");
                let output = match Command::new(&cc).arg("-o").arg(&exe).arg(&c).output() {
                    Ok(output) => output,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        eprintln!("skipped: no C compiler ({cc}: {e})");
                        return None;
                    }
                    Err(e) => panic!("run {cc}: {e}"),
                };
                assert!(
                    output.status.success(),
                    "{cc} failed for {name}.c: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                built.push(exe);
            }
            let client = built.pop().unwrap();
            let server = built.pop().unwrap();
            Some((server, client))
        })
        .as_ref()
}

fn c_server(port: u16) -> Command {
    let mut command = Command::new(&programs().unwrap().0);
    command.arg(port.to_string());
    command
}

fn c_client(port: u16) -> Command {
    let mut command = Command::new(&programs().unwrap().1);
    command.arg(port.to_string());
    command
}

#[test]
fn c_client_with_example_server() {
    if programs().is_some() {
        example_server_with(&c_client);
    }
}

#[test]
fn example_client_with_c_server() {
    if programs().is_some() {
        example_client_with(&c_server);
    }
}

#[test]
fn c_client_with_library_server() {
    if programs().is_some() {
        library_server_with(&c_client);
    }
}

#[test]
fn library_client_with_c_server() {
    if programs().is_some() {
        library_client_with(&c_server);
    }
}

#[test]
fn c_client_without_server_says_connection_failed() {
    if programs().is_some() {
        // Bound but not listening: connects are refused while it is held.
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        let port = socket.local_addr().unwrap().as_socket().unwrap().port();
        let client = hello_util::run(&mut c_client(port));
        assert_eq!(client.stdout, "Connection Failed\n");
        assert!(!client.status.success());
    }
}
