/*
 * it_backend_auth.c - the proxy's backend login (backend_auth.h) and greeting
 * probe (backend_probe.h) against the real cluster's primary, over plain
 * blocking sockets:
 *  - bauth_feed() logs in with the app credentials for a libmariadb-style
 *    client (bit 0 clear, MariaDB ext caps) and a MySQL-style one (bit 0
 *    set, DEPRECATE_EOF, a database); the connection then answers COM_QUERY,
 *    followed to its end with proto_tracker;
 *  - a wrong password is DENIED 1045, an unknown database DENIED 1049;
 *  - backend_probe() reads the primary's greeting; a closed port is
 *    refused, a listener that never speaks times out within the timeout, a
 *    listener that speaks something else is "not a MySQL server".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend_auth.h"
#include "backend_probe.h"
#include "cluster_env.h"
#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_tracker.h"

static struct cluster_env env;

/* libmariadb 3.3's capabilities (tests/fixtures/bauth/README.md). */
#define LIBMARIADB_CAPS UINT64_C(0x1d00bfa284)
/* A MySQL 8 client's (tests/fixtures/handshake/mysql84_response.hex). */
#define MYSQL_CLIENT_CAPS UINT64_C(0x09bfa20d)

static int tcp_connect(const char *host, unsigned port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    assert_int_equal(inet_pton(AF_INET, host, &sa.sin_addr), 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    /* A test must not hang on a server that stops talking. */
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        fail_msg("connect %s:%u: %s", host, port, strerror(errno));
    return fd;
}

static void read_exact(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t got = read(fd, p, n);
        if (got <= 0)
            fail_msg("read: %s", got == 0 ? "connection closed" : strerror(errno));
        p += got;
        n -= (size_t)got;
    }
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t put = write(fd, p, n);
        if (put <= 0)
            fail_msg("write: %s", strerror(errno));
        p += put;
        n -= (size_t)put;
    }
}

/* One packet (a single chunk: nothing here comes near 16 MiB). Returns
 * its payload length; buf holds the payload. */
static size_t read_packet(int fd, uint8_t *buf, size_t cap, uint8_t *seq)
{
    uint8_t hdr[PROTO_FRAME_HDR_LEN];
    struct proto_frame_hdr h;
    read_exact(fd, hdr, sizeof hdr);
    assert_int_equal(proto_frame_hdr_parse(hdr, sizeof hdr, &h), PROTO_OK);
    assert_true(h.len < cap && !proto_frame_continues(h.len));
    read_exact(fd, buf, h.len);
    *seq = h.seq;
    return h.len;
}

/* Drives bauth over fd until it ends; returns how. */
static enum bauth_result login(int fd, struct bauth *a, const struct bauth_params *prm)
{
    uint8_t in[4096], out[4096];
    bauth_init(a, prm);
    for (;;) {
        uint8_t seq;
        size_t n = read_packet(fd, in, sizeof in, &seq);
        struct proto_wr w;
        proto_wr_init(&w, out, sizeof out);
        enum bauth_result r = bauth_feed(a, seq, in, n, &w);
        if (r == BAUTH_SEND)
            write_all(fd, out, w.len);
        else if (r != BAUTH_WAIT)
            return r;
    }
}

static struct bauth_params app_params(uint64_t caps, const char *password, const char *db)
{
    return (struct bauth_params){.user = env.app_user,
                                 .password = password,
                                 .database = db,
                                 .client_caps = caps,
                                 .charset = 45, /* utf8mb4_general_ci */
                                 .max_packet = 16777216};
}

/* Sends COM_QUERY sql (seq 0) and follows the reply to its end with the
 * tracker; returns the first column of the first row (malloc'ed). */
static char *query_value(int fd, uint64_t caps, const char *sql)
{
    uint8_t payload[256], framed[300], in[4096];
    size_t len = strlen(sql);
    assert_true(len + 1 < sizeof payload);
    payload[0] = PROTO_COM_QUERY;
    memcpy(payload + 1, sql, len);
    struct proto_wr w;
    uint8_t seq = 0;
    proto_wr_init(&w, framed, sizeof framed);
    proto_frame_write_packet(&w, payload, len + 1, &seq);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    write_all(fd, framed, w.len);

    struct proto_tracker t;
    proto_tracker_init(&t);
    assert_int_equal(proto_tracker_start(&t, caps, PROTO_COM_QUERY), PROTO_OK);
    char *value = NULL;
    uint8_t want_seq = 1;
    while (!proto_tracker_done(&t)) {
        uint8_t s;
        size_t n = read_packet(fd, in, sizeof in, &s);
        assert_int_equal(s, want_seq);
        want_seq++;
        struct proto_trk_pkt pkt;
        int rc = proto_tracker_feed(&t, in, n, n, &pkt);
        if (rc != PROTO_OK)
            fail_msg("tracker: %s in state %s", proto_status_str(rc),
                     proto_tracker_state_name(t.state));
        if (pkt.kind == PROTO_TRK_PKT_ROW && !value) {
            struct proto_rd r;
            struct proto_str col;
            proto_rd_init(&r, in, n);
            assert_int_equal(proto_rd_lenenc_str(&r, &col), PROTO_OK);
            value = strndup((const char *)col.p, col.len);
        }
    }
    assert_false(t.res.is_error);
    assert_int_equal(t.res.result_sets, 1);
    assert_int_equal(t.res.rows, 1);
    assert_non_null(value);
    return value;
}

static int setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    return 0;
}

static void test_login_libmariadb_caps(void **state)
{
    (void)state;
    int fd = tcp_connect(env.host, env.primary_port);
    struct bauth a;
    struct bauth_params prm = app_params(LIBMARIADB_CAPS, env.app_password, NULL);
    enum bauth_result r = login(fd, &a, &prm);
    if (r != BAUTH_OK)
        fail_msg("login: %s (%s)", bauth_result_name(r), a.why);
    assert_true(a.server.mariadb);
    assert_string_equal(a.server.plugin, "mysql_native_password");
    assert_true(a.caps & PROTO_CAP(CLIENT_SESSION_TRACK));
    assert_true(a.caps & PROTO_CAP(MARIADB_CLIENT_CACHE_METADATA));
    assert_false(a.caps & PROTO_CAP(CLIENT_DEPRECATE_EOF));

    char *id = query_value(fd, a.caps, "SELECT @@server_id");
    assert_string_equal(id, "1"); /* the primary (cluster.sh) */
    free(id);
    close(fd);
}

static void test_login_mysql_style_client(void **state)
{
    (void)state;
    int fd = tcp_connect(env.host, env.primary_port);
    struct bauth a;
    struct bauth_params prm = app_params(MYSQL_CLIENT_CAPS, env.app_password, "gtidproxy_test");
    enum bauth_result r = login(fd, &a, &prm);
    if (r != BAUTH_OK)
        fail_msg("login: %s (%s)", bauth_result_name(r), a.why);
    assert_true(a.caps & PROTO_CAP(CLIENT_DEPRECATE_EOF));
    assert_true(a.caps & PROTO_CAP(CLIENT_CONNECT_WITH_DB));
    assert_true((a.caps >> 32) == 0); /* no MariaDB ext caps */

    char *db = query_value(fd, a.caps, "SELECT DATABASE()");
    assert_string_equal(db, "gtidproxy_test");
    free(db);
    close(fd);
}

static void test_wrong_password(void **state)
{
    (void)state;
    int fd = tcp_connect(env.host, env.primary_port);
    struct bauth a;
    struct bauth_params prm = app_params(LIBMARIADB_CAPS, "not-the-password", NULL);
    assert_int_equal(login(fd, &a, &prm), BAUTH_DENIED);
    assert_int_equal(a.err_code, 1045);
    assert_string_equal(a.err_sqlstate, "28000");
    assert_non_null(strstr(a.err_message, "Access denied"));
    close(fd);
}

static void test_unknown_database(void **state)
{
    (void)state;
    int fd = tcp_connect(env.host, env.primary_port);
    struct bauth a;
    struct bauth_params prm = app_params(LIBMARIADB_CAPS, env.app_password, "no_such_db_here");
    assert_int_equal(login(fd, &a, &prm), BAUTH_DENIED);
    assert_int_equal(a.err_code, 1049);
    assert_non_null(strstr(a.err_message, "no_such_db_here"));
    close(fd);
}

/* ---- backend_probe ---- */

static void test_probe_primary(void **state)
{
    (void)state;
    struct bauth_server s;
    char err[256] = "";
    if (backend_probe(env.host, (uint16_t)env.primary_port, 2000, &s, err, sizeof err) != 0)
        fail_msg("probe: %s", err);
    assert_non_null(strstr(s.version, "MariaDB"));
    assert_true(s.mariadb);
    assert_true(strncmp(bauth_real_version(&s), "5.5.5-", 6) != 0);
    assert_true(s.thread_id > 0);
    assert_true((s.caps & PROTO_CAPS_REQUIRED) == PROTO_CAPS_REQUIRED);
    assert_string_equal(s.plugin, "mysql_native_password");
    /* by name too */
    if (backend_probe("localhost", (uint16_t)env.primary_port, 2000, &s, err, sizeof err) != 0)
        fail_msg("probe localhost: %s", err);
    assert_true(s.mariadb);
}

/* A listening socket on a free loopback port; *port gets the port. */
static int listener(uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void test_probe_closed_port(void **state)
{
    (void)state;
    uint16_t port;
    close(listener(&port)); /* free now, and nobody listens */
    struct bauth_server s;
    char err[256] = "";
    assert_int_equal(backend_probe("127.0.0.1", port, 2000, &s, err, sizeof err), -1);
    if (!strstr(err, "refused"))
        fail_msg("reason: %s", err);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The kernel completes the TCP handshake into the backlog; nobody accepts,
 * nobody speaks: the read part of the deadline expires. */
static void test_probe_silent_listener(void **state)
{
    (void)state;
    uint16_t port;
    int lfd = listener(&port);
    struct bauth_server s;
    char err[256] = "";
    int64_t t0 = now_ms();
    assert_int_equal(backend_probe("127.0.0.1", port, 300, &s, err, sizeof err), -1);
    int64_t took = now_ms() - t0;
    if (!strstr(err, "timed out"))
        fail_msg("reason: %s", err);
    assert_true(took >= 290);
    assert_true(took < 1500);
    close(lfd);
}

/* A server that greets with something else (here an SSH banner). */
static void *ssh_like(void *arg)
{
    int lfd = *(int *)arg;
    int c = accept(lfd, NULL, NULL);
    if (c >= 0) {
        static const char banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
        (void)!write(c, banner, sizeof banner - 1);
        close(c);
    }
    return NULL;
}

static void test_probe_not_mysql(void **state)
{
    (void)state;
    uint16_t port;
    int lfd = listener(&port);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, ssh_like, &lfd), 0);
    struct bauth_server s;
    char err[256] = "";
    assert_int_equal(backend_probe("127.0.0.1", port, 2000, &s, err, sizeof err), -1);
    pthread_join(th, NULL);
    close(lfd);
    if (!strstr(err, "not a MySQL server"))
        fail_msg("reason: %s", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_libmariadb_caps),
        cmocka_unit_test(test_login_mysql_style_client),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_unknown_database),
        cmocka_unit_test(test_probe_primary),
        cmocka_unit_test(test_probe_closed_port),
        cmocka_unit_test(test_probe_silent_listener),
        cmocka_unit_test(test_probe_not_mysql),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
