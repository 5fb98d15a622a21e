/*
 * backend_auth.h - the proxy as a client of a backend server: reading its
 * HandshakeV10, choosing the capabilities, answering with the configured
 * backend credentials, and following AuthSwitchRequest / AuthMoreData to the
 * end (mysql_native_password; caching_sha2_password fast path and full auth
 * by RSA public key over a plain connection).
 *
 *   backend                                  proxy
 *   HandshakeV10  ───────────────────▶  bauth_feed()
 *                 ◀── HandshakeResponse41 (caps mirror the client + SESSION_TRACK)
 *   AuthSwitchRequest ────────────────▶  bauth_feed()  ── auth data ──▶
 *   AuthMoreData 0x03 (fast auth ok) ─▶  bauth_feed()  (nothing to send)
 *   AuthMoreData 0x04 (full auth) ────▶  bauth_feed()  ── 0x02 (want key) ──▶
 *   AuthMoreData PEM key ─────────────▶  bauth_feed()  ── RSA(pw ^ nonce) ──▶
 *   OK | ERR ─────────────────────────▶  BAUTH_OK | BAUTH_DENIED
 *
 * Pure logic over payloads: outputs are complete FRAMED packets written
 * through a struct proto_wr (sequence id = the server packet's + 1). No
 * pointers into the caller's input survive a call: the facts the proxy needs
 * later are copied into struct bauth.
 */
#ifndef GTIDPROXY_BACKEND_AUTH_H
#define GTIDPROXY_BACKEND_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/auth.h"
#include "gtidproxy/proto_handshake.h"
#include "gtidproxy/proto_reply.h"
#include "gtidproxy/proto_rw.h"

#define BAUTH_VERSION_MAX 96
#define BAUTH_PLUGIN_MAX  64

/* Inputs; the strings must outlive the login. */
struct bauth_params {
    const char *user;
    const char *password; /* may be "" */
    const char *database; /* NULL or "": none (no CLIENT_CONNECT_WITH_DB) */
    /* The capabilities the client negotiated with the proxy (effective set,
     * MariaDB ext caps in bits 32..63). The backend gets the same flags, so
     * reply bytes can be forwarded unchanged, plus CLIENT_SESSION_TRACK and
     * what login needs (PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH,
     * PLUGIN_AUTH_LENENC_CLIENT_DATA, CONNECT_WITH_DB iff database,
     * CONNECT_ATTRS iff attrs), all masked by what the server offers; never
     * SSL or compression. */
    uint64_t client_caps;
    uint8_t charset; /* collation id to ask for (the client's) */
    uint32_t max_packet;
    const uint8_t *attrs; /* encoded attribute pairs (proto_attrs_put) or NULL */
    size_t attrs_len;
};

/* What the server said about itself in its HandshakeV10. */
struct bauth_server {
    char version[BAUTH_VERSION_MAX]; /* raw, e.g. "5.5.5-10.11.19-MariaDB-log" */
    uint8_t real_version_off;        /* bauth_real_version(): version minus "5.5.5-" */
    bool mariadb;                    /* "MariaDB" in the version */
    uint32_t thread_id;
    uint64_t caps;
    uint8_t charset;
    uint16_t status;
    char plugin[BAUTH_PLUGIN_MAX]; /* its default auth plugin */
};

/* The version without MariaDB's "5.5.5-" prefix (an offset, not a pointer,
 * so the struct may be copied). */
static inline const char *bauth_real_version(const struct bauth_server *s)
{
    return s->version + s->real_version_off;
}

#define BAUTH_RESULT_LIST(X)                                                                       \
    X(BAUTH_SEND, "send")     /* send w's packet, feed the server's next packet */                 \
    X(BAUTH_WAIT, "wait")     /* nothing to send; feed the server's next packet */                 \
    X(BAUTH_OK, "ok")         /* logged in: a->caps, a->server are final */                        \
    X(BAUTH_DENIED, "denied") /* the server sent ERR: a->err_* */                                  \
    X(BAUTH_FAILED, "failed") /* protocol error or unsupported: a->why */

enum bauth_result {
#define BAUTH_RESULT_ENUM(name, text) name,
    BAUTH_RESULT_LIST(BAUTH_RESULT_ENUM)
#undef BAUTH_RESULT_ENUM
};
const char *bauth_result_name(enum bauth_result r);

struct bauth {
    struct bauth_params prm;
    struct bauth_server server;
    uint64_t caps; /* negotiated: what we sent ∧ server caps (proto_caps_effective) */
    /* After BAUTH_DENIED: the server's ERR (also for an ERR instead of a
     * greeting, e.g. 1040 Too many connections). */
    uint16_t err_code;
    char err_sqlstate[6];
    char err_message[PROTO_ERR_MSG_MAX + 1];
    char why[192]; /* after BAUTH_FAILED (and DENIED): one line for logs/clients */
    /* Private. */
    int state;
    uint8_t next_seq; /* the sequence id the server's next packet must carry */
    int switches;     /* AuthSwitchRequests followed so far */
    uint8_t nonce[PROTO_SCRAMBLE_MAX];
    size_t nonce_len;
    char plugin[BAUTH_PLUGIN_MAX]; /* the plugin the proxy answers with now */
};

void bauth_init(struct bauth *a, const struct bauth_params *prm);

/* Feeds the server's next packet (seq, payload; continuation chunks already
 * joined). See the picture above.
 * - BAUTH_SEND: one framed packet was appended to w; send it, then feed the
 *   server's answer. On every other result w is left untouched.
 * - The first packet must carry seq 0, each later one the id after the
 *   proxy's last packet (or after the server's previous one, after WAIT);
 *   anything else is BAUTH_FAILED.
 * - w needs room for one packet: 4 + 32 + strlen(user) + 1 + 33 (auth) +
 *   strlen(database) + 1 + 22 (plugin) + 9 + attrs_len for the response,
 *   4 + the RSA key size (512 for RSA-4096) for full caching_sha2 auth;
 *   when it is short the result is BAUTH_FAILED ("output buffer too
 *   small"). 1 KiB + attrs_len covers ordinary names.
 * - After OK, DENIED or FAILED every further call returns BAUTH_FAILED and
 *   leaves the outcome fields alone.
 * An ERR greeting gives BAUTH_DENIED with err_sqlstate "" (servers send
 * none before capabilities are agreed). */
enum bauth_result bauth_feed(struct bauth *a, uint8_t seq, const uint8_t *p, size_t n,
                             struct proto_wr *w);

#endif
