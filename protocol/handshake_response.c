/*
 * handshake_response.c - what a client sends back: HandshakeResponse41, the
 * SSLRequest (its first 32 bytes alone), COM_CHANGE_USER (the same fields
 * again, in another order), and the connection-attribute area both carry.
 * Layouts: shared/PROTOCOL.md 1.3 and 1.4 (MY:auth
 * parse_client_handshake_packet / parse_com_change_user_packet, CC
 * send_client_reply_packet).
 *
 *   caps<4> | max_packet<4> | charset<1> | 00*19 | mariadb_ext<4> |
 *   user\0 | auth (lenenc | len<1> | \0-str) | [db\0] | [plugin\0] |
 *   [lenenc attrs_len | (lenenc key, lenenc value)*] | [rest]
 */
#include <string.h>

#include "gtidproxy/proto_handshake.h"

const char *proto_auth_enc_name(enum proto_auth_enc e)
{
    switch (e) {
#define PROTO_AUTH_ENC_CASE(name, text)                                                            \
    case name:                                                                                     \
        return text;
        PROTO_AUTH_ENC_LIST(PROTO_AUTH_ENC_CASE)
#undef PROTO_AUTH_ENC_CASE
    }
    return "unknown";
}

enum proto_auth_enc proto_auth_enc_for(uint64_t client_caps)
{
    if (client_caps & PROTO_CAP(CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA))
        return PROTO_AUTH_ENC_LENENC;
    if (client_caps & PROTO_CAP(CLIENT_SECURE_CONNECTION))
        return PROTO_AUTH_ENC_LEN1;
    return PROTO_AUTH_ENC_NUL;
}

static bool has_nul(struct proto_str s)
{
    return s.len && memchr(s.p, 0, s.len) != NULL;
}

/* ---- connection attributes ---- */

void proto_attrs_iter_init(struct proto_attrs_iter *it, struct proto_str attrs)
{
    proto_rd_init(&it->r, attrs.p, attrs.len);
}

int proto_attrs_next(struct proto_attrs_iter *it, struct proto_str *key, struct proto_str *val)
{
    if (proto_rd_left(&it->r) == 0)
        return 0;
    int rc = proto_rd_lenenc_str(&it->r, key);
    if (rc == PROTO_OK)
        rc = proto_rd_lenenc_str(&it->r, val);
    return rc == PROTO_OK ? 1 : rc;
}

void proto_attrs_put(struct proto_wr *w, const char *key, size_t klen, const char *val, size_t vlen)
{
    proto_wr_lenenc_str(w, key, klen);
    proto_wr_lenenc_str(w, val, vlen);
}

/* Reads the lenenc-prefixed attribute area and checks that its pairs fill
 * it exactly, so users of the iterator never meet a malformed area. */
static int read_attrs(struct proto_rd *r, struct proto_str *attrs)
{
    struct proto_rd save = *r;
    uint64_t len;
    int rc = proto_rd_lenenc(r, &len, NULL);
    if (rc != PROTO_OK)
        return rc;
    if (len > PROTO_CONNECT_ATTRS_MAX) {
        *r = save;
        return PROTO_ETOOBIG;
    }
    if ((rc = proto_rd_bytes(r, (size_t)len, attrs)) != PROTO_OK) {
        *r = save;
        return rc;
    }
    struct proto_attrs_iter it;
    struct proto_str k, v;
    proto_attrs_iter_init(&it, *attrs);
    while ((rc = proto_attrs_next(&it, &k, &v)) == 1)
        ;
    if (rc != 0) {
        *r = save;
        return PROTO_EBAD; /* a pair runs past the declared area */
    }
    return PROTO_OK;
}

static void write_attrs(struct proto_wr *w, struct proto_str attrs)
{
    proto_wr_lenenc_str(w, attrs.p, attrs.len);
}

/* ---- HandshakeResponse41 / SSLRequest ---- */

bool proto_is_ssl_request(const uint8_t *p, size_t n)
{
    return n == PROTO_HANDSHAKE_RESPONSE_FIXED && (proto_le32(p) & PROTO_CAP(CLIENT_SSL));
}

/* Fixed 32-byte head shared by the response and the SSLRequest. Bytes
 * 9..27 are filler that servers ignore; we ignore them too. */
static int read_fixed(struct proto_rd *r, struct proto_handshake_response *out)
{
    uint32_t caps_lo, ext;
    int rc;
    if ((rc = proto_rd_u32(r, &caps_lo)) != PROTO_OK)
        return rc;
    /* A 4.0 client's HandshakeResponse320 has a 2-byte caps field; its
     * low byte pair cannot carry PROTOCOL_41. */
    if (!(caps_lo & PROTO_CAP(CLIENT_PROTOCOL_41)))
        return PROTO_EUNSUPPORTED;
    if ((rc = proto_rd_u32(r, &out->max_packet)) != PROTO_OK ||
        (rc = proto_rd_u8(r, &out->charset)) != PROTO_OK ||
        (rc = proto_rd_skip(r, 19)) != PROTO_OK || (rc = proto_rd_u32(r, &ext)) != PROTO_OK)
        return rc;
    out->caps = caps_lo;
    /* MariaDB server: ext caps count only when the client cleared bit 0
     * (CLIENT_MYSQL); a MySQL client leaves it set and sends zeros. */
    if (!(caps_lo & PROTO_CAP(CLIENT_LONG_PASSWORD)))
        out->caps |= (uint64_t)ext << 32;
    return PROTO_OK;
}

static int read_auth(struct proto_rd *r, enum proto_auth_enc enc, struct proto_str *auth)
{
    uint8_t len;
    int rc;
    switch (enc) {
    case PROTO_AUTH_ENC_LENENC:
        return proto_rd_lenenc_str(r, auth);
    case PROTO_AUTH_ENC_LEN1: {
        struct proto_rd save = *r; /* a failed read leaves the cursor alone */
        if ((rc = proto_rd_u8(r, &len)) != PROTO_OK)
            return rc;
        if ((rc = proto_rd_bytes(r, len, auth)) != PROTO_OK)
            *r = save;
        return rc;
    }
    case PROTO_AUTH_ENC_NUL:
        return proto_rd_nul_str(r, auth);
    }
    return PROTO_EBAD;
}

static int write_auth(struct proto_wr *w, enum proto_auth_enc enc, struct proto_str auth)
{
    switch (enc) {
    case PROTO_AUTH_ENC_LENENC:
        proto_wr_lenenc_str(w, auth.p, auth.len);
        return PROTO_OK;
    case PROTO_AUTH_ENC_LEN1:
        if (auth.len > 0xFF)
            return PROTO_EBAD;
        proto_wr_u8(w, (uint8_t)auth.len);
        proto_wr_bytes(w, auth.p, auth.len);
        return PROTO_OK;
    case PROTO_AUTH_ENC_NUL:
        if (has_nul(auth))
            return PROTO_EBAD;
        proto_wr_nul_str(w, auth.p, auth.len);
        return PROTO_OK;
    }
    return PROTO_EBAD;
}

int proto_handshake_response_parse(const uint8_t *p, size_t n, struct proto_handshake_response *out)
{
    struct proto_rd r;
    int rc;

    memset(out, 0, sizeof *out);
    proto_rd_init(&r, p, n);
    if ((rc = read_fixed(&r, out)) != PROTO_OK)
        return rc;
    if (proto_rd_left(&r) == 0 && (out->caps & PROTO_CAP(CLIENT_SSL))) {
        out->is_ssl_request = true;
        return PROTO_OK;
    }
    if ((rc = proto_rd_nul_str(&r, &out->user)) != PROTO_OK ||
        (rc = read_auth(&r, proto_auth_enc_for(out->caps), &out->auth)) != PROTO_OK)
        return rc;
    if ((out->caps & PROTO_CAP(CLIENT_CONNECT_WITH_DB)) &&
        (rc = proto_rd_nul_str(&r, &out->database)) != PROTO_OK)
        return rc;
    if ((out->caps & PROTO_CAP(CLIENT_PLUGIN_AUTH)) &&
        (rc = proto_rd_nul_str(&r, &out->plugin)) != PROTO_OK)
        return rc;
    if ((out->caps & PROTO_CAP(CLIENT_CONNECT_ATTRS)) &&
        (rc = read_attrs(&r, &out->attrs)) != PROTO_OK)
        return rc;
    proto_rd_rest(&r, &out->rest);
    return PROTO_OK;
}

static void write_fixed(struct proto_wr *w, uint64_t caps, uint32_t max_packet, uint8_t charset)
{
    proto_wr_u32(w, (uint32_t)caps);
    proto_wr_u32(w, max_packet);
    proto_wr_u8(w, charset);
    proto_wr_zeros(w, 19);
    proto_wr_u32(w, (caps & PROTO_CAP(CLIENT_LONG_PASSWORD)) ? 0 : (uint32_t)(caps >> 32));
}

int proto_ssl_request_build(struct proto_wr *w, uint64_t caps, uint32_t max_packet, uint8_t charset)
{
    if (!(caps & PROTO_CAP(CLIENT_SSL)) || !(caps & PROTO_CAP(CLIENT_PROTOCOL_41)))
        return PROTO_EBAD;
    write_fixed(w, caps, max_packet, charset);
    return proto_wr_finish(w);
}

int proto_handshake_response_build(struct proto_wr *w, const struct proto_handshake_response *r)
{
    int rc;
    if (!(r->caps & PROTO_CAP(CLIENT_PROTOCOL_41)) || has_nul(r->user))
        return PROTO_EBAD;
    if ((r->caps & PROTO_CAP(CLIENT_LONG_PASSWORD)) && (r->caps >> 32) != 0)
        return PROTO_EBAD; /* ext caps need bit 0 clear to be sent */
    if ((r->caps & PROTO_CAP(CLIENT_CONNECT_WITH_DB)) && has_nul(r->database))
        return PROTO_EBAD;
    if ((r->caps & PROTO_CAP(CLIENT_PLUGIN_AUTH)) && has_nul(r->plugin))
        return PROTO_EBAD;
    if ((r->caps & PROTO_CAP(CLIENT_CONNECT_ATTRS)) && r->attrs.len > PROTO_CONNECT_ATTRS_MAX)
        return PROTO_ETOOBIG;

    write_fixed(w, r->caps, r->max_packet, r->charset);
    proto_wr_nul_str(w, r->user.p, r->user.len);
    if ((rc = write_auth(w, proto_auth_enc_for(r->caps), r->auth)) != PROTO_OK)
        return rc;
    if (r->caps & PROTO_CAP(CLIENT_CONNECT_WITH_DB))
        proto_wr_nul_str(w, r->database.p, r->database.len);
    if (r->caps & PROTO_CAP(CLIENT_PLUGIN_AUTH))
        proto_wr_nul_str(w, r->plugin.p, r->plugin.len);
    if (r->caps & PROTO_CAP(CLIENT_CONNECT_ATTRS))
        write_attrs(w, r->attrs);
    proto_wr_bytes(w, r->rest.p, r->rest.len);
    return proto_wr_finish(w);
}

/* ---- COM_CHANGE_USER ---- */

/* Change-user auth data: int<1> length under SECURE_CONNECTION, else
 * NUL-terminated; never lenenc (MY:auth parse_com_change_user_packet). */
static enum proto_auth_enc change_user_enc(uint64_t caps)
{
    return (caps & PROTO_CAP(CLIENT_SECURE_CONNECTION)) ? PROTO_AUTH_ENC_LEN1 : PROTO_AUTH_ENC_NUL;
}

int proto_change_user_parse(const uint8_t *p, size_t n, uint64_t caps,
                            struct proto_change_user *out)
{
    struct proto_rd r;
    uint8_t com;
    int rc;

    memset(out, 0, sizeof *out);
    proto_rd_init(&r, p, n);
    if ((rc = proto_rd_u8(&r, &com)) != PROTO_OK)
        return rc;
    if (com != PROTO_COM_CHANGE_USER)
        return PROTO_EBAD;
    if ((rc = proto_rd_nul_str(&r, &out->user)) != PROTO_OK ||
        (rc = read_auth(&r, change_user_enc(caps), &out->auth)) != PROTO_OK ||
        (rc = proto_rd_nul_str(&r, &out->database)) != PROTO_OK)
        return rc;
    if (proto_rd_left(&r) == 0)
        return PROTO_OK; /* a 4.0-style change-user: nothing more */
    out->has_more = true;
    if ((rc = proto_rd_u16(&r, &out->charset)) != PROTO_OK)
        return rc;
    if ((caps & PROTO_CAP(CLIENT_PLUGIN_AUTH)) &&
        (rc = proto_rd_nul_str(&r, &out->plugin)) != PROTO_OK)
        return rc;
    if ((caps & PROTO_CAP(CLIENT_CONNECT_ATTRS)) && (rc = read_attrs(&r, &out->attrs)) != PROTO_OK)
        return rc;
    if (proto_rd_left(&r) != 0)
        return PROTO_EBAD; /* nothing is defined after the attributes */
    return PROTO_OK;
}

int proto_change_user_build(struct proto_wr *w, uint64_t caps, const struct proto_change_user *cu)
{
    int rc;
    if (has_nul(cu->user) || has_nul(cu->database))
        return PROTO_EBAD;
    if (cu->has_more && (caps & PROTO_CAP(CLIENT_PLUGIN_AUTH)) && has_nul(cu->plugin))
        return PROTO_EBAD;
    if (cu->has_more && (caps & PROTO_CAP(CLIENT_CONNECT_ATTRS)) &&
        cu->attrs.len > PROTO_CONNECT_ATTRS_MAX)
        return PROTO_ETOOBIG;

    proto_wr_u8(w, PROTO_COM_CHANGE_USER);
    proto_wr_nul_str(w, cu->user.p, cu->user.len);
    if ((rc = write_auth(w, change_user_enc(caps), cu->auth)) != PROTO_OK)
        return rc;
    proto_wr_nul_str(w, cu->database.p, cu->database.len);
    if (cu->has_more) {
        proto_wr_u16(w, cu->charset);
        if (caps & PROTO_CAP(CLIENT_PLUGIN_AUTH))
            proto_wr_nul_str(w, cu->plugin.p, cu->plugin.len);
        if (caps & PROTO_CAP(CLIENT_CONNECT_ATTRS))
            write_attrs(w, cu->attrs);
    }
    return proto_wr_finish(w);
}
