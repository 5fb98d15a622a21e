/*
 * backend_probe.c - a blocking look at a backend's greeting (contract in
 * backend_probe.h): resolve, connect without blocking past the deadline,
 * read the first packet, close.
 *
 *   getaddrinfo ─▶ for each address: socket (non-blocking) ─▶ connect ─▶
 *   poll(POLLOUT) ─▶ SO_ERROR ─▶ poll(POLLIN)/read until one whole packet ─▶
 *   bauth_feed() parses it ─▶ close
 *
 * The greeting goes through bauth_feed() itself, so a probe accepts exactly
 * the servers a login accepts (PROTO_CAPS_REQUIRED, ERR greetings, ...);
 * the response it produces is never sent. One deadline covers everything
 * but name resolution (getaddrinfo has no timeout; use literals where that
 * matters). No libuv, no libmariadb: this runs before any loop exists.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend_probe.h"
#include "gtidproxy/proto_frame.h"

/* A HandshakeV10 is ~100 bytes; the version string is the only free-size
 * field. A first packet claiming more than this is not a MySQL greeting
 * (e.g. "SSH-" read as a length is 4.7 MB). */
#define PROBE_PACKET_MAX 4096

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline. 1 ready, 0 timed out, -1
 * error (errno). */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = events};
        int rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

static void addr_text(const struct addrinfo *ai, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN], serv[8];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, cap, "?");
        return;
    }
    snprintf(out, cap, ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* Connects to one address. Returns the fd, or -1 with err filled; *timed_out
 * tells a deadline from a refusal. */
static int connect_one(const struct addrinfo *ai, int64_t deadline, bool *timed_out, char *err,
                       size_t errlen)
{
    char where[INET6_ADDRSTRLEN + 12]; /* "[v6]:port" */
    addr_text(ai, where, sizeof where);
    *timed_out = false;

    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "socket for %s: %s", where, strerror(errno));
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        snprintf(err, errlen, "connect %s: %s", where, strerror(errno));
        close(fd);
        return -1;
    }
    int rc = wait_fd(fd, POLLOUT, deadline);
    if (rc <= 0) {
        if (rc == 0) {
            *timed_out = true;
            snprintf(err, errlen, "connecting to %s", where);
        } else {
            snprintf(err, errlen, "poll %s: %s", where, strerror(errno));
        }
        close(fd);
        return -1;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        soerr = errno;
    if (soerr != 0) {
        snprintf(err, errlen, "connect %s: %s", where, strerror(soerr));
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one whole packet (header + payload) into buf. Returns its payload
 * length, or -1 with err filled (*timed_out for the deadline). */
static int read_packet(int fd, int64_t deadline, uint8_t *buf, size_t cap,
                       struct proto_frame_hdr *h, const uint8_t **payload, bool *timed_out,
                       char *err, size_t errlen)
{
    size_t have = 0;
    *timed_out = false;
    for (;;) {
        if (proto_frame_peek(buf, have, h, payload) == PROTO_OK)
            return (int)h->len;
        if (proto_frame_hdr_parse(buf, have, h) == PROTO_OK && h->len > cap - PROTO_FRAME_HDR_LEN) {
            snprintf(err, errlen, "not a MySQL server: first packet claims %u bytes",
                     (unsigned)h->len);
            return -1;
        }
        int rc = wait_fd(fd, POLLIN, deadline);
        if (rc == 0) {
            *timed_out = true;
            snprintf(err, errlen, "waiting for the greeting (%zu bytes read)", have);
            return -1;
        }
        if (rc < 0) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        ssize_t got = read(fd, buf + have, cap - have);
        if (got == 0) {
            snprintf(err, errlen, "closed before the greeting (%zu bytes read)", have);
            return -1;
        }
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            snprintf(err, errlen, "read: %s", strerror(errno));
            return -1;
        }
        have += (size_t)got;
    }
}

/* Parses the greeting with the login's own state machine. */
static int parse_greeting(uint8_t seq, const uint8_t *p, size_t n, struct bauth_server *out,
                          char *err, size_t errlen)
{
    struct bauth_params prm = {.user = "", .password = ""};
    struct bauth a;
    uint8_t scratch[512];
    struct proto_wr w;

    bauth_init(&a, &prm);
    proto_wr_init(&w, scratch, sizeof scratch);
    switch (bauth_feed(&a, seq, p, n, &w)) {
    case BAUTH_SEND:
        *out = a.server;
        return 0;
    case BAUTH_DENIED:
        /* Server text goes into logs: printable ASCII only. */
        for (char *c = a.err_message; *c; c++)
            if (*c < 0x20 || *c > 0x7E)
                *c = '?';
        snprintf(err, errlen, "server sent ERR %u: %s", a.err_code, a.err_message);
        return -1;
    default:
        snprintf(err, errlen, "not a MySQL server: %s", a.why);
        return -1;
    }
}

int backend_probe(const char *host, uint16_t port, unsigned timeout_ms, struct bauth_server *out,
                  char *err, size_t errlen)
{
    char portstr[8];
    char why[256] = "no address";
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    bool timed_out = false;

    memset(out, 0, sizeof *out);
    int64_t deadline = now_ms() + timeout_ms;
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }

    int fd = -1;
    for (const struct addrinfo *ai = res; ai && fd < 0 && !timed_out; ai = ai->ai_next)
        fd = connect_one(ai, deadline, &timed_out, why, sizeof why);
    freeaddrinfo(res);
    if (fd < 0) {
        if (timed_out)
            snprintf(err, errlen, "timed out after %u ms %s", timeout_ms, why);
        else
            snprintf(err, errlen, "%s", why);
        return -1;
    }

    uint8_t buf[PROBE_PACKET_MAX];
    struct proto_frame_hdr h;
    const uint8_t *payload = NULL;
    int n = read_packet(fd, deadline, buf, sizeof buf, &h, &payload, &timed_out, why, sizeof why);
    close(fd);
    if (n < 0) {
        if (timed_out)
            snprintf(err, errlen, "timed out after %u ms %s", timeout_ms, why);
        else
            snprintf(err, errlen, "%s", why);
        return -1;
    }
    return parse_greeting(h.seq, payload, (size_t)n, out, err, errlen);
}
