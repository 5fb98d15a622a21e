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
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_handshake.h"
#include "gtidproxy/proto_reply.h"
#include "proxy_env.h"
#include "raw_client.h"

#define MAX_PACKET_SIZE             (1024u * 1024) /* limits.max_packet_size below */
#define ER_HANDSHAKE_ERROR          1043           /* "Bad handshake" */
#define ER_NET_PACKET_TOO_LARGE     1153
#define ER_NET_PACKETS_OUT_OF_ORDER 1156
#define LOG_WAIT_MS                 3000

static struct cluster_env env;
static struct proxy_proc proxy;

/* ---- a raw client (raw_client.h) on the proxy's port ---- */

/* Waits for the peer to close. Returns the code of an ERR packet that came
 * first (0: none); fails the test if anything else arrives or the
 * connection stays open RAW_RECV_TIMEOUT_S seconds. */
static unsigned expect_closed(int fd, const char *what)
{
    unsigned code = 0;
    for (;;) {
        uint8_t buf[4096];
        struct proto_frame_hdr h;
        int rc = raw_read_packet(fd, buf, sizeof buf, &h);
        if (rc == 0)
            return code;
        if (rc < 0) {
            fprintf(stderr, "%s: the connection is still open after %d s\n", what,
                    RAW_RECV_TIMEOUT_S);
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
    int fd = raw_connect(env.host, proxy.port);
    uint8_t greeting[512];
    struct proto_handshake_v10 hs;
    raw_read_greeting(fd, greeting, sizeof greeting, &hs);
    /* A well-framed packet (seq 1) claiming CLIENT_PROTOCOL_41 |
     * CLIENT_SECURE_CONNECTION but far shorter than the 32-byte fixed part,
     * then junk. */
    static const uint8_t garbage[] = {0x00, 0xa2, 0x00, 0x00, 0xde, 0xad,
                                      0xbe, 0xef, 0x00, 0xff, 0x13, 0x37};
    raw_send_packet(fd, garbage, sizeof garbage, 1);
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
    int fd = raw_connect(env.host, proxy.port);
    uint8_t greeting[512], buf[1024];
    struct proto_handshake_v10 hs;
    raw_read_greeting(fd, greeting, sizeof greeting, &hs);
    /* The header promises the whole response; only 10 bytes follow. */
    size_t n = raw_build_login(&hs, RAW_CAPS_BASIC, env.app_user, env.app_password, NULL,
                               buf + PROTO_FRAME_HDR_LEN, sizeof buf - PROTO_FRAME_HDR_LEN);
    struct proto_wr w;
    proto_wr_init(&w, buf, PROTO_FRAME_HDR_LEN);
    proto_frame_write_hdr(&w, (uint32_t)n, 1);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    raw_send_all(fd, buf, PROTO_FRAME_HDR_LEN + 10);
    close(fd);
    expect_others_unaffected(bystander, mark, "disconnected mid-packet");
}

static void test_oversized_packet_at_login(void **state)
{
    (void)state;
    MYSQL *bystander = open_bystander();
    size_t mark = proxy_log_mark(&proxy);
    int fd = raw_connect(env.host, proxy.port);
    uint8_t greeting[512], hdr[PROTO_FRAME_HDR_LEN + 16];
    struct proto_handshake_v10 hs;
    raw_read_greeting(fd, greeting, sizeof greeting, &hs);
    /* Only the header (and a few bytes): the limit applies before the proxy
     * reads or buffers a byte of such a payload. */
    struct proto_wr w;
    proto_wr_init(&w, hdr, sizeof hdr);
    proto_frame_write_hdr(&w, MAX_PACKET_SIZE + 1, 1);
    proto_wr_zeros(&w, 16);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    raw_send_all(fd, hdr, sizeof hdr);
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
    int fd =
        raw_login(env.host, proxy.port, env.app_user, env.app_password, NULL, RAW_CAPS_BASIC, NULL);
    /* A COM_QUERY whose header announces 1 MiB + 1 bytes. */
    uint8_t pkt[PROTO_FRAME_HDR_LEN + 32];
    struct proto_wr w;
    proto_wr_init(&w, pkt, sizeof pkt);
    proto_frame_write_hdr(&w, MAX_PACKET_SIZE + 1, 0);
    proto_wr_u8(&w, PROTO_COM_QUERY);
    proto_wr_bytes(&w, "SELECT '", 8);
    proto_wr_zeros(&w, sizeof pkt - PROTO_FRAME_HDR_LEN - 9);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    raw_send_all(fd, pkt, sizeof pkt);
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
    int fd = raw_connect(env.host, proxy.port);
    uint8_t greeting[512];
    struct proto_handshake_v10 hs;
    raw_read_greeting(fd, greeting, sizeof greeting, &hs);
    close(fd);
    expect_others_unaffected(bystander, mark, "disconnected during login");
}

static void test_wrong_sequence_id(void **state)
{
    (void)state;
    MYSQL *bystander = open_bystander();
    size_t mark = proxy_log_mark(&proxy);
    int fd = raw_connect(env.host, proxy.port);
    uint8_t greeting[512], buf[1024];
    struct proto_handshake_v10 hs;
    raw_read_greeting(fd, greeting, sizeof greeting, &hs);
    /* A correct login in every byte but the sequence id (5, not 1): no OK
     * may come back. */
    size_t n =
        raw_build_login(&hs, RAW_CAPS_BASIC, env.app_user, env.app_password, NULL, buf, sizeof buf);
    raw_send_packet(fd, buf, n, 5);
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
    int fd =
        raw_login(env.host, proxy.port, env.app_user, env.app_password, NULL, RAW_CAPS_BASIC, NULL);
    static const char q[] = "\x03SELECT REPEAT('x', 1000) FROM gtidproxy_test.seq_1_to_100000";
    raw_send_packet(fd, q, sizeof q - 1, 0);
    uint8_t some[4096];
    assert_true(raw_recv_all(fd, some, sizeof some) > 0);
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
