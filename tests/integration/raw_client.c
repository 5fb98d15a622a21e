/*
 * raw_client.c - a MySQL client on a raw socket (raw_client.h).
 */
#include "raw_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "gtidproxy/auth.h"
#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_tracker.h"

int raw_connect(const char *host, unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = RAW_RECV_TIMEOUT_S};
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    assert_int_equal(inet_pton(AF_INET, host, &sa.sin_addr), 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

bool raw_send_all(int fd, const void *p, size_t n)
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

int raw_recv_all(int fd, uint8_t *p, size_t n)
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

int raw_read_packet(int fd, uint8_t *buf, size_t cap, struct proto_frame_hdr *h)
{
    uint8_t hdr[PROTO_FRAME_HDR_LEN];
    int rc = raw_recv_all(fd, hdr, sizeof hdr);
    if (rc != 1)
        return rc;
    assert_int_equal(proto_frame_hdr_parse(hdr, sizeof hdr, h), PROTO_OK);
    assert_true(h->len <= cap);
    return raw_recv_all(fd, buf, h->len);
}

void raw_send_packet(int fd, const void *payload, size_t n, uint8_t seq)
{
    size_t cap = n + 64;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    struct proto_wr w;
    proto_wr_init(&w, buf, cap);
    proto_frame_write_packet(&w, payload, n, &seq);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    raw_send_all(fd, buf, w.len);
    free(buf);
}

void raw_read_greeting(int fd, uint8_t *buf, size_t cap, struct proto_handshake_v10 *hs)
{
    struct proto_frame_hdr h;
    assert_int_equal(raw_read_packet(fd, buf, cap, &h), 1);
    assert_int_equal(h.seq, 0);
    assert_int_equal(proto_handshake_v10_parse(buf, h.len, hs), PROTO_OK);
}

size_t raw_build_login(const struct proto_handshake_v10 *hs, uint64_t caps, const char *user,
                       const char *password, const char *db, uint8_t *out, size_t cap)
{
    uint8_t reply[AUTH_SHA2_LEN];
    int n;
    const char *plugin;
    assert_true(hs->scramble_len >= AUTH_NONCE_LEN);
    if (proto_str_eq(hs->auth_plugin, "caching_sha2_password")) {
        plugin = "caching_sha2_password";
        n = auth_sha2_reply(hs->scramble, password, strlen(password), reply);
    } else {
        plugin = "mysql_native_password";
        n = auth_native_reply(hs->scramble, password, strlen(password), reply);
    }
    assert_true(n > 0);
    struct proto_handshake_response r = {
        .caps = caps | (db ? PROTO_CAP(CLIENT_CONNECT_WITH_DB) : 0),
        .max_packet = 16 * 1024 * 1024,
        .charset = 45, /* utf8mb4_general_ci */
        .user = {(const uint8_t *)user, strlen(user)},
        .auth = {reply, (size_t)n},
        .plugin = {(const uint8_t *)plugin, strlen(plugin)},
    };
    if (db)
        r.database = (struct proto_str){(const uint8_t *)db, strlen(db)};
    struct proto_wr w;
    proto_wr_init(&w, out, cap);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_OK);
    return w.len;
}

int raw_login(const char *host, unsigned port, const char *user, const char *password,
              const char *db, uint64_t caps, uint64_t *negotiated)
{
    int fd = raw_connect(host, port);
    uint8_t greeting[512], buf[1024];
    struct proto_handshake_v10 hs;
    raw_read_greeting(fd, greeting, sizeof greeting, &hs);
    if (negotiated)
        *negotiated = (caps | (db ? PROTO_CAP(CLIENT_CONNECT_WITH_DB) : 0)) & hs.caps;
    size_t n = raw_build_login(&hs, caps, user, password, db, buf, sizeof buf);
    raw_send_packet(fd, buf, n, 1);
    for (uint8_t expect_seq = 2;;) {
        struct proto_frame_hdr h;
        assert_int_equal(raw_read_packet(fd, buf, sizeof buf, &h), 1);
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
            int k = proto_str_eq(sw.plugin, "caching_sha2_password")
                        ? auth_sha2_reply(sw.scramble.p, password, strlen(password), reply)
                        : auth_native_reply(sw.scramble.p, password, strlen(password), reply);
            assert_true(k > 0);
            raw_send_packet(fd, reply, (size_t)k, (uint8_t)(h.seq + 1));
            expect_seq = (uint8_t)(h.seq + 2);
            continue;
        }
        fprintf(stderr, "raw login: unexpected packet 0x%02x (%u bytes)\n", buf[0], h.len);
        fail();
    }
}

uint8_t *raw_query(int fd, uint64_t caps, const char *sql, size_t *len)
{
    size_t n = strlen(sql);
    uint8_t *cmd = malloc(n + 1);
    assert_non_null(cmd);
    cmd[0] = PROTO_COM_QUERY;
    memcpy(cmd + 1, sql, n);
    raw_send_packet(fd, cmd, n + 1, 0);
    free(cmd);
    struct proto_tracker t;
    proto_tracker_init(&t);
    assert_int_equal(proto_tracker_start(&t, caps, PROTO_COM_QUERY), PROTO_OK);
    size_t cap = 1 << 16, used = 0;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    while (!proto_tracker_done(&t)) {
        uint8_t hdr[PROTO_FRAME_HDR_LEN];
        assert_int_equal(raw_recv_all(fd, hdr, sizeof hdr), 1);
        struct proto_frame_hdr h;
        assert_int_equal(proto_frame_hdr_parse(hdr, sizeof hdr, &h), PROTO_OK);
        assert_true(h.len < PROTO_MAX_PAYLOAD); /* one chunk: enough for tests */
        while (used + sizeof hdr + h.len > cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        memcpy(out + used, hdr, sizeof hdr);
        uint8_t *payload = out + used + sizeof hdr;
        assert_int_equal(raw_recv_all(fd, payload, h.len), 1);
        used += sizeof hdr + h.len;
        struct proto_trk_pkt pkt;
        assert_int_equal(proto_tracker_feed(&t, payload, h.len, h.len, &pkt), PROTO_OK);
    }
    *len = used;
    return out;
}
