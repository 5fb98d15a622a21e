/*
 * it_proxy_badinput.c - clients that break the protocol, on raw sockets:
 *   garbage instead of a handshake response       -> closed, "bad handshake"
 *   a truncated packet, then disconnect           -> "disconnected mid-packet"
 *   a header announcing more than max_packet_size -> ERR 1153, closed,
 *     (1 MiB here), at login and after login         "exceeds max_packet_size"
 *   disconnect after the greeting                 -> "disconnected during login"
 *   a handshake response with a wrong sequence id -> closed, "out of order"
 * Each time a libmariadb session opened before still works afterwards, and
 * a new one can log in: one bad client costs only its own connection. In
 * direct mode (no proxy) only that part and what the server itself does
 * (close the connection) are checked; the ERR 1153 and the log lines are the
 * proxy's.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "gtidproxy/auth.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_handshake.h"
#include "gtidproxy/proto_reply.h"
#include "proxy_env.h"

#define MAX_PACKET_SIZE             (1024u * 1024) /* limits.max_packet_size below */
#define ER_HANDSHAKE_ERROR          1043           /* "Bad handshake" */
#define ER_NET_PACKET_TOO_LARGE     1153
#define ER_NET_PACKETS_OUT_OF_ORDER 1156
#define LOG_WAIT_MS                 3000
#define RECV_TIMEOUT_S              5

static struct cluster_env env;
static struct proxy_proc proxy;

/* ---- a raw client ---- */

static int raw_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)proxy.port)};
    assert_int_equal(inet_pton(AF_INET, env.host, &sa.sin_addr), 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Sends everything; false when the peer already closed (EPIPE, ECONNRESET):
 * a proxy may close before a bad client finished writing. */
static bool send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EPIPE || errno == ECONNRESET))
            return false;
        assert_true(k > 0);
        b += k;
        n -= (size_t)k;
    }
    return true;
}

/* Reads exactly n bytes: 1 done, 0 the peer closed (EOF or reset) first,
 * -1 nothing for RECV_TIMEOUT_S seconds. */
static int recv_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = recv(fd, p, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -1;
        if (k == 0 || (k < 0 && errno == ECONNRESET))
            return 0;
        assert_true(k > 0);
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

/* One packet (one chunk is enough for what servers send here) into buf. */
static int read_packet(int fd, uint8_t *buf, size_t cap, struct proto_frame_hdr *h)
{
    uint8_t hdr[PROTO_FRAME_HDR_LEN];
    int rc = recv_all(fd, hdr, sizeof hdr);
    if (rc != 1)
        return rc;
    assert_int_equal(proto_frame_hdr_parse(hdr, sizeof hdr, h), PROTO_OK);
    assert_true(h->len <= cap);
    return recv_all(fd, buf, h->len);
}

static void send_packet(int fd, const void *payload, size_t n, uint8_t seq)
{
    uint8_t buf[1024];
    struct proto_wr w;
    proto_wr_init(&w, buf, sizeof buf);
    proto_frame_write_packet(&w, payload, n, &seq);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    send_all(fd, buf, w.len);
}

/* Reads the server greeting; keeps its payload in buf (hs views into it). */
static void read_greeting(int fd, uint8_t *buf, size_t cap, struct proto_handshake_v10 *hs)
{
    struct proto_frame_hdr h;
    assert_int_equal(read_packet(fd, buf, cap, &h), 1);
    assert_int_equal(h.seq, 0);
    assert_int_equal(proto_handshake_v10_parse(buf, h.len, hs), PROTO_OK);
}

/* Waits for the peer to close. Returns the code of an ERR packet that came
 * first (0: none); fails the test if anything else arrives or the
 * connection stays open RECV_TIMEOUT_S seconds. */
static unsigned expect_closed(int fd, const char *what)
{
    unsigned code = 0;
    for (;;) {
        uint8_t buf[4096];
        struct proto_frame_hdr h;
        int rc = read_packet(fd, buf, sizeof buf, &h);
        if (rc == 0)
            return code;
        if (rc < 0) {
            fprintf(stderr, "%s: the connection is still open after %d s\n", what, RECV_TIMEOUT_S);
            fail();
        }
        struct proto_err err;
        if (h.len == 0 || buf[0] != 0xff ||
            proto_err_parse(buf, h.len, PROTO_CAP(CLIENT_PROTOCOL_41), &err) != PROTO_OK) {
            fprintf(stderr, "%s: got a %u-byte packet starting 0x%02x instead of ERR or close\n",
                    what, h.len, h.len ? buf[0] : 0);
            fail();
        }
        fprintf(stderr, "%s: ERR %u %.*s\n", what, err.code, (int)err.message.len,
                (const char *)err.message.p);
        code = err.code;
    }
}

/* A correct HandshakeResponse41 for the app user, answering the greeting's
 * plugin (mysql_native_password or caching_sha2_password), into out. */
static size_t build_login(const struct proto_handshake_v10 *hs, uint8_t *out, size_t cap)
{
    uint8_t reply[AUTH_SHA2_LEN];
    int n;
    const char *plugin;
    const char *pw = env.app_password;
    assert_true(hs->scramble_len >= AUTH_NONCE_LEN);
    if (proto_str_eq(hs->auth_plugin, "caching_sha2_password")) {
        plugin = "caching_sha2_password";
        n = auth_sha2_reply(hs->scramble, pw, strlen(pw), reply);
    } else {
        plugin = "mysql_native_password";
        n = auth_native_reply(hs->scramble, pw, strlen(pw), reply);
    }
    assert_true(n > 0);
    struct proto_handshake_response r = {
        .caps = PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_SECURE_CONNECTION) |
                PROTO_CAP(CLIENT_PLUGIN_AUTH) | PROTO_CAP(CLIENT_LONG_PASSWORD) |
                PROTO_CAP(CLIENT_TRANSACTIONS),
        .max_packet = 16 * 1024 * 1024,
        .charset = 45, /* utf8mb4_general_ci */
        .user = {(const uint8_t *)env.app_user, strlen(env.app_user)},
        .auth = {reply, (size_t)n},
        .plugin = {(const uint8_t *)plugin, strlen(plugin)},
    };
    struct proto_wr w;
    proto_wr_init(&w, out, cap);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_OK);
    return w.len;
}

/* Logs in as the app user: greeting, response, then OK (answering an
 * AuthSwitch or caching_sha2's fast-auth result on the way). */
static int raw_login(void)
{
    int fd = raw_connect();
    uint8_t greeting[512], buf[1024];
    struct proto_handshake_v10 hs;
    read_greeting(fd, greeting, sizeof greeting, &hs);
    size_t n = build_login(&hs, buf, sizeof buf);
    send_packet(fd, buf, n, 1);
    for (uint8_t expect_seq = 2;;) {
        struct proto_frame_hdr h;
        assert_int_equal(read_packet(fd, buf, sizeof buf, &h), 1);
        assert_int_equal(h.seq, expect_seq);
        assert_true(h.len > 0);
        if (buf[0] == 0x00)
            return fd; /* OK */
        if (buf[0] == 0x01 && h.len == 2 && buf[1] == AUTH_SHA2_FAST_AUTH_OK) {
            expect_seq++;
            continue;
        }
        if (buf[0] == 0xfe) {
            struct proto_auth_switch sw;
            assert_int_equal(proto_auth_switch_parse(buf, h.len, &sw), PROTO_OK);
            assert_true(sw.scramble.len >= AUTH_NONCE_LEN);
            uint8_t reply[AUTH_SHA2_LEN];
            const char *pw = env.app_password;
            int k = proto_str_eq(sw.plugin, "caching_sha2_password")
                        ? auth_sha2_reply(sw.scramble.p, pw, strlen(pw), reply)
                        : auth_native_reply(sw.scramble.p, pw, strlen(pw), reply);
            assert_true(k > 0);
            send_packet(fd, reply, (size_t)k, (uint8_t)(h.seq + 1));
            expect_seq = (uint8_t)(h.seq + 2);
            continue;
        }
        fprintf(stderr, "raw login: unexpected packet 0x%02x (%u bytes)\n", buf[0], h.len);
        fail();
    }
}

/* ---- the session that must survive ---- */

static MYSQL *open_bystander(void)
{
    MYSQL *m = proxy_connect(&proxy, "gtidproxy_test", 0);
    char *v = cluster_query_value(m, "SELECT 1");
    assert_string_equal(v, "1");
    free(v);
    return m;
}

/* The earlier session still answers, a new one logs in, and (with a proxy)
 * the log, from `mark` (taken before the bad client connected) on, gives the
 * reason the bad client was closed. */
static void expect_others_unaffected(MYSQL *bystander, size_t mark, const char *log_phrase)
{
    char *v = cluster_query_value(bystander, "SELECT 1");
    assert_string_equal(v, "1");
    free(v);
    mysql_close(bystander);

    MYSQL *m = proxy_connect(&proxy, NULL, 0);
    v = cluster_query_value(m, "SELECT 2");
    assert_string_equal(v, "2");
    free(v);
    mysql_close(m);

    if (!proxy_is_direct() && !proxy_log_wait(&proxy, mark, log_phrase, LOG_WAIT_MS)) {
        fprintf(stderr, "the proxy log %s does not say \"%s\" after byte %zu\n", proxy.log,
                log_phrase, mark);
        fail();
    }
}

/* ---- tests ---- */

static void test_garbage_instead_of_handshake_response(void **state)
{
    (void)state;
    MYSQL *bystander = open_bystander();
    size_t mark = proxy_log_mark(&proxy);
    int fd = raw_connect();
    uint8_t greeting[512];
    struct proto_handshake_v10 hs;
    read_greeting(fd, greeting, sizeof greeting, &hs);
    /* A well-framed packet (seq 1) claiming CLIENT_PROTOCOL_41 |
     * CLIENT_SECURE_CONNECTION but far shorter than the 32-byte fixed part,
     * then junk. */
    static const uint8_t garbage[] = {0x00, 0xa2, 0x00, 0x00, 0xde, 0xad,
                                      0xbe, 0xef, 0x00, 0xff, 0x13, 0x37};
    send_packet(fd, garbage, sizeof garbage, 1);
    unsigned err = expect_closed(fd, "garbage");
    if (err)
        assert_int_equal(err, ER_HANDSHAKE_ERROR);
    close(fd);
    expect_others_unaffected(bystander, mark, "bad handshake");
}

static void test_truncated_packet_then_disconnect(void **state)
{
    (void)state;
    MYSQL *bystander = open_bystander();
    size_t mark = proxy_log_mark(&proxy);
    int fd = raw_connect();
    uint8_t greeting[512], buf[1024];
    struct proto_handshake_v10 hs;
    read_greeting(fd, greeting, sizeof greeting, &hs);
    /* The header promises the whole response; only 10 bytes follow. */
    size_t n = build_login(&hs, buf + PROTO_FRAME_HDR_LEN, sizeof buf - PROTO_FRAME_HDR_LEN);
    struct proto_wr w;
    proto_wr_init(&w, buf, PROTO_FRAME_HDR_LEN);
    proto_frame_write_hdr(&w, (uint32_t)n, 1);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    send_all(fd, buf, PROTO_FRAME_HDR_LEN + 10);
    close(fd);
    expect_others_unaffected(bystander, mark, "disconnected mid-packet");
}

static void test_oversized_packet_at_login(void **state)
{
    (void)state;
    MYSQL *bystander = open_bystander();
    size_t mark = proxy_log_mark(&proxy);
    int fd = raw_connect();
    uint8_t greeting[512], hdr[PROTO_FRAME_HDR_LEN + 16];
    struct proto_handshake_v10 hs;
    read_greeting(fd, greeting, sizeof greeting, &hs);
    /* Only the header (and a few bytes): the limit applies before the proxy
     * reads or buffers a byte of such a payload. */
    struct proto_wr w;
    proto_wr_init(&w, hdr, sizeof hdr);
    proto_frame_write_hdr(&w, MAX_PACKET_SIZE + 1, 1);
    proto_wr_zeros(&w, 16);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    send_all(fd, hdr, sizeof hdr);
    if (!proxy_is_direct())
        assert_int_equal(expect_closed(fd, "oversized at login"), ER_NET_PACKET_TOO_LARGE);
    close(fd);
    expect_others_unaffected(bystander, mark, "exceeds max_packet_size");
}

static void test_oversized_packet_after_login(void **state)
{
    (void)state;
    MYSQL *bystander = open_bystander();
    size_t mark = proxy_log_mark(&proxy);
    int fd = raw_login();
    /* A COM_QUERY whose header announces 1 MiB + 1 bytes. */
    uint8_t pkt[PROTO_FRAME_HDR_LEN + 32];
    struct proto_wr w;
    proto_wr_init(&w, pkt, sizeof pkt);
    proto_frame_write_hdr(&w, MAX_PACKET_SIZE + 1, 0);
    proto_wr_u8(&w, PROTO_COM_QUERY);
    proto_wr_bytes(&w, "SELECT '", 8);
    proto_wr_zeros(&w, sizeof pkt - PROTO_FRAME_HDR_LEN - 9);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    send_all(fd, pkt, sizeof pkt);
    if (!proxy_is_direct())
        assert_int_equal(expect_closed(fd, "oversized after login"), ER_NET_PACKET_TOO_LARGE);
    close(fd);
    expect_others_unaffected(bystander, mark, "exceeds max_packet_size");
}

static void test_disconnect_during_login(void **state)
{
    (void)state;
    MYSQL *bystander = open_bystander();
    size_t mark = proxy_log_mark(&proxy);
    int fd = raw_connect();
    uint8_t greeting[512];
    struct proto_handshake_v10 hs;
    read_greeting(fd, greeting, sizeof greeting, &hs);
    close(fd);
    expect_others_unaffected(bystander, mark, "disconnected during login");
}

static void test_wrong_sequence_id(void **state)
{
    (void)state;
    MYSQL *bystander = open_bystander();
    size_t mark = proxy_log_mark(&proxy);
    int fd = raw_connect();
    uint8_t greeting[512], buf[1024];
    struct proto_handshake_v10 hs;
    read_greeting(fd, greeting, sizeof greeting, &hs);
    /* A correct login in every byte but the sequence id (5, not 1): no OK
     * may come back. */
    size_t n = build_login(&hs, buf, sizeof buf);
    send_packet(fd, buf, n, 5);
    unsigned err = expect_closed(fd, "wrong sequence id");
    if (err) /* what the server answers */
        assert_int_equal(err, ER_NET_PACKETS_OUT_OF_ORDER);
    close(fd);
    expect_others_unaffected(bystander, mark, "out of order");
}

/* A client that asks for a large result, reads a little of it and hangs
 * up: the proxy closes that session (and its backend connection, which
 * would otherwise go on sending), and nothing else notices. */
static void test_disconnect_mid_reply(void **state)
{
    (void)state;
    MYSQL *bystander = open_bystander();
    size_t mark = proxy_log_mark(&proxy);
    int fd = raw_login();
    static const char q[] = "\x03SELECT REPEAT('x', 1000) FROM gtidproxy_test.seq_1_to_100000";
    send_packet(fd, q, sizeof q - 1, 0);
    uint8_t some[4096];
    assert_true(recv_all(fd, some, sizeof some) > 0);
    close(fd);
    expect_others_unaffected(bystander, mark, "[RUNNING] closed: client disconnected");
}

static int group_setup(void **state)
{
    (void)state;
    cluster_env_load(&env);
    char overrides[96];
    snprintf(overrides, sizeof overrides, "{\"limits\": {\"max_packet_size\": %u}}",
             MAX_PACKET_SIZE);
    proxy_start(&proxy, &env, overrides);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    proxy_stop(&proxy);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_instead_of_handshake_response),
        cmocka_unit_test(test_truncated_packet_then_disconnect),
        cmocka_unit_test(test_oversized_packet_at_login),
        cmocka_unit_test(test_oversized_packet_after_login),
        cmocka_unit_test(test_disconnect_during_login),
        cmocka_unit_test(test_disconnect_mid_reply),
        cmocka_unit_test(test_wrong_sequence_id),
    };
    return proxy_run_group_tests(tests, group_setup, group_teardown);
}
