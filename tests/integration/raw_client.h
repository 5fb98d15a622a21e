/*
 * raw_client.h - a MySQL client on a raw socket, for tests that must see
 * the exact bytes on the wire or break the protocol on purpose: connect,
 * log in with chosen capabilities, send packets, read packets and whole
 * replies (framed, as received). Built from protocol/ (handshake, auth,
 * framing, the reply tracker); every failure fails the cmocka test.
 */
#ifndef GTIDPROXY_RAW_CLIENT_H
#define GTIDPROXY_RAW_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_handshake.h"

/* How long a read waits before raw_recv_all() reports a timeout. */
#define RAW_RECV_TIMEOUT_S 5

/* The capabilities raw_login() asks for unless told otherwise. */
#define RAW_CAPS_BASIC                                                                             \
    (PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_SECURE_CONNECTION) |                         \
     PROTO_CAP(CLIENT_PLUGIN_AUTH) | PROTO_CAP(CLIENT_LONG_PASSWORD) |                             \
     PROTO_CAP(CLIENT_TRANSACTIONS))

/* A TCP connection to host:port with a receive timeout. */
int raw_connect(const char *host, unsigned port);

/* Sends everything; false when the peer already closed (EPIPE,
 * ECONNRESET): a proxy may close before a bad client finished writing. */
bool raw_send_all(int fd, const void *p, size_t n);

/* Reads exactly n bytes: 1 done, 0 the peer closed (EOF or reset) first,
 * -1 nothing for RAW_RECV_TIMEOUT_S seconds. */
int raw_recv_all(int fd, uint8_t *p, size_t n);

/* One packet's payload (one chunk) into buf; like raw_recv_all. */
int raw_read_packet(int fd, uint8_t *buf, size_t cap, struct proto_frame_hdr *h);

/* Frames payload with sequence id seq and sends it. */
void raw_send_packet(int fd, const void *payload, size_t n, uint8_t seq);

/* Reads the greeting (seq 0) into buf; hs views into it. */
void raw_read_greeting(int fd, uint8_t *buf, size_t cap, struct proto_handshake_v10 *hs);

/* A HandshakeResponse41 for user/password answering the greeting's plugin
 * (mysql_native_password or caching_sha2_password) into out; db may be
 * NULL. caps: what the client asks for (CONNECT_WITH_DB added for a db). */
size_t raw_build_login(const struct proto_handshake_v10 *hs, uint64_t caps, const char *user,
                       const char *password, const char *db, uint8_t *out, size_t cap);

/* Connects and logs in (answering an AuthSwitch or caching_sha2's fast
 * path on the way); returns the socket. *negotiated (may be NULL) gets
 * the capabilities both sides have. */
int raw_login(const char *host, unsigned port, const char *user, const char *password,
              const char *db, uint64_t caps, uint64_t *negotiated);

/* Sends COM_QUERY sql (seq 0) and reads its whole reply, packets framed as
 * received, into a malloc'd buffer (*len bytes). caps: the negotiated ones
 * (the reply's shape depends on them). */
uint8_t *raw_query(int fd, uint64_t caps, const char *sql, size_t *len);

#endif
