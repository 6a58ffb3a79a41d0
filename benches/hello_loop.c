/*
 * The C socket tutorial's calls in a loop: the reference for the bench's
 * "exchange" group (benches/compare.rs compiles this with the system C
 * compiler and runs it as a child process).
 *
 * A server thread makes the tutorial's server calls once (socket, setsockopt
 * SO_REUSEADDR and SO_REUSEPORT as two calls, bind 127.0.0.1:0, listen) and
 * then, for each connection: accept, read "Hello from client", send
 * "Hello from server", close. The main thread is the client.
 *
 * Protocol on standard input and output, so that the bench can interleave
 * this loop with its own variants: each input line holds a count N; the
 * client then makes N sequential exchanges (socket, connect, send the
 * greeting, read the reply, read end of file once the server has closed,
 * close) and prints one line with the elapsed
 * nanoseconds (CLOCK_MONOTONIC). End of input ends the program. Any failure
 * is printed on standard error and exits with status 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char client_greeting[] = "Hello from client";
static const char server_greeting[] = "Hello from server";
#define GREETING_LEN (sizeof client_greeting - 1)

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Reads exactly len bytes: the greeting may arrive in several pieces. */
static void read_full(int fd, char *buf, size_t len, const char *what) {
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die(what);
        if (n == 0) {
            fprintf(stderr, "%s: peer closed after %zu bytes\n", what, got);
            exit(1);
        }
        got += (size_t)n;
    }
}

static void send_full(int fd, const char *buf, size_t len, const char *what) {
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die(what);
        sent += (size_t)n;
    }
}

/* Reads until end of file: one read that returns 0. */
static void await_close(int fd) {
    char byte;
    for (;;) {
        ssize_t n = read(fd, &byte, 1);
        if (n == 0)
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("client read end of file");
        fprintf(stderr, "client read: data after the reply\n");
        exit(1);
    }
}

static void *serve(void *arg) {
    int server_fd = *(int *)arg;
    char buf[1024];
    for (;;) {
        int conn = accept(server_fd, NULL, NULL);
        if (conn < 0) {
            if (errno == EINTR)
                continue;
            die("server accept");
        }
        read_full(conn, buf, GREETING_LEN, "server read");
        if (memcmp(buf, client_greeting, GREETING_LEN) != 0) {
            fprintf(stderr, "server read: unexpected greeting\n");
            exit(1);
        }
        send_full(conn, server_greeting, GREETING_LEN, "server send");
        close(conn);
    }
    return NULL;
}

int main(void) {
    int server_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (server_fd < 0)
        die("server socket");
    int on = 1;
    /* Two options, two calls: SO_REUSEADDR | SO_REUSEPORT is not a flag set. */
    if (setsockopt(server_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0)
        die("setsockopt SO_REUSEADDR");
#ifdef SO_REUSEPORT
    if (setsockopt(server_fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0)
        die("setsockopt SO_REUSEPORT");
#endif
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(server_fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("bind");
    if (listen(server_fd, 128) < 0)
        die("listen");
    socklen_t addr_len = sizeof addr;
    if (getsockname(server_fd, (struct sockaddr *)&addr, &addr_len) < 0)
        die("getsockname");

    pthread_t server;
    if (pthread_create(&server, NULL, serve, &server_fd) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }

    char line[64];
    char reply[1024];
    while (fgets(line, sizeof line, stdin) != NULL) {
        long count = strtol(line, NULL, 10);
        struct timespec start, end;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (long i = 0; i < count; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            if (fd < 0)
                die("client socket");
            if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
                die("client connect");
            send_full(fd, client_greeting, GREETING_LEN, "client send");
            read_full(fd, reply, GREETING_LEN, "client read");
            if (memcmp(reply, server_greeting, GREETING_LEN) != 0) {
                fprintf(stderr, "client read: unexpected reply\n");
                return 1;
            }
            /* As the Rust clients do: wait for the server's close (end of
             * file), so that the server always closes first. */
            await_close(fd);
            close(fd);
        }
        clock_gettime(CLOCK_MONOTONIC, &end);
        long long ns = (long long)(end.tv_sec - start.tv_sec) * 1000000000LL +
                       (end.tv_nsec - start.tv_nsec);
        printf("%lld\n", ns);
        fflush(stdout);
    }
    return 0;
}
