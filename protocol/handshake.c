/*
 * handshake.c - Protocol::HandshakeV10, the server's first packet: parsed
 * when a backend greets the proxy, built when the proxy greets a client.
 * Layout: shared/PROTOCOL.md 1.1 (MY:auth send_server_handshake_packet,
 * MDB:doc connection.md).
 *
 *   0a | version\0 | thread_id<4> | scramble[0..8) | 00 | caps_lo<2> |
 *   charset<1> | status<2> | caps_hi<2> | auth_data_len<1> |
 *   00*6 | mariadb_ext_caps<4> (zeros for MySQL) |
 *   scramble[8..) padded to max(13, auth_data_len - 8) | plugin\0
 */
#include <string.h>

#include "gtidproxy/proto_handshake.h"

#define SCRAMBLE_PART1 8
/* Part 2 is never shorter than 13 bytes: 12 scramble bytes + NUL for the
 * usual 20-byte scramble (MY:auth writes max(13, len - 8)). */
#define SCRAMBLE_PART2_MIN 13
#define SCRAMBLE_DEFAULT   20

/* An ERR where the handshake was expected. Capabilities are not yet agreed,
 * so MySQL sends no '#'+SQLSTATE; we still take one if it is there. */
static int parse_first_err(struct proto_rd *r, struct proto_handshake_err *err)
{
    int rc = proto_rd_u16(r, &err->code);
    if (rc != PROTO_OK)
        return rc;
    struct proto_str rest;
    proto_rd_rest(r, &rest);
    if (rest.len >= 6 && rest.p[0] == '#') {
        err->sqlstate.p = rest.p + 1;
        err->sqlstate.len = 5;
        rest.p += 6;
        rest.len -= 6;
    }
    err->message = rest;
    return PROTO_EHANDSHAKE_ERR;
}

/* Part 2 length on the wire for a given auth_plugin_data_len. */
static size_t part2_len(uint8_t auth_data_len)
{
    return auth_data_len > SCRAMBLE_PART1 + SCRAMBLE_PART2_MIN
               ? (size_t)auth_data_len - SCRAMBLE_PART1
               : SCRAMBLE_PART2_MIN;
}

int proto_handshake_v10_parse(const uint8_t *p, size_t n, struct proto_handshake_v10 *out)
{
    struct proto_rd r;
    uint8_t version, filler, auth_data_len;
    uint16_t caps_lo, caps_hi;
    uint32_t ext;
    struct proto_str part1, part2;
    int rc;

    memset(out, 0, sizeof *out);
    proto_rd_init(&r, p, n);
    if ((rc = proto_rd_u8(&r, &version)) != PROTO_OK)
        return rc;
    if (version == PROTO_ERR_HEADER)
        return parse_first_err(&r, &out->err);
    if (version != 10)
        return PROTO_EUNSUPPORTED;

    if ((rc = proto_rd_nul_str(&r, &out->server_version)) != PROTO_OK ||
        (rc = proto_rd_u32(&r, &out->thread_id)) != PROTO_OK ||
        (rc = proto_rd_bytes(&r, SCRAMBLE_PART1, &part1)) != PROTO_OK ||
        (rc = proto_rd_u8(&r, &filler)) != PROTO_OK ||
        (rc = proto_rd_u16(&r, &caps_lo)) != PROTO_OK ||
        (rc = proto_rd_u8(&r, &out->charset)) != PROTO_OK ||
        (rc = proto_rd_u16(&r, &out->status)) != PROTO_OK ||
        (rc = proto_rd_u16(&r, &caps_hi)) != PROTO_OK ||
        (rc = proto_rd_u8(&r, &auth_data_len)) != PROTO_OK ||
        (rc = proto_rd_skip(&r, 6)) != PROTO_OK || (rc = proto_rd_u32(&r, &ext)) != PROTO_OK)
        return rc;

    out->real_version = out->server_version;
    size_t plen = sizeof PROTO_MARIADB_VERSION_PREFIX - 1;
    if (out->server_version.len > plen &&
        memcmp(out->server_version.p, PROTO_MARIADB_VERSION_PREFIX, plen) == 0) {
        out->real_version.p += plen;
        out->real_version.len -= plen;
    }

    out->caps = (uint64_t)caps_lo | (uint64_t)caps_hi << 16;
    /* MariaDB >= 10.2 clears bit 0 (CLIENT_MYSQL) to say the last reserved
     * int<4> holds its extended caps; MySQL leaves bit 0 set and zeros. */
    if (!(out->caps & PROTO_CAP(CLIENT_LONG_PASSWORD)))
        out->caps |= (uint64_t)ext << 32;
    if (!(out->caps & PROTO_CAP(CLIENT_PROTOCOL_41)) ||
        !(out->caps & PROTO_CAP(CLIENT_SECURE_CONNECTION)))
        return PROTO_EUNSUPPORTED;

    /* With PLUGIN_AUTH the length byte counts scramble + NUL; without it
     * (or when a server sends 0) the scramble is the classic 20 bytes. */
    bool plugin_auth = (out->caps & PROTO_CAP(CLIENT_PLUGIN_AUTH)) != 0;
    if (plugin_auth && auth_data_len >= 1 && auth_data_len <= SCRAMBLE_PART1)
        return PROTO_EBAD;
    size_t slen = plugin_auth && auth_data_len > SCRAMBLE_PART1 ? (size_t)auth_data_len - 1
                                                                : SCRAMBLE_DEFAULT;
    if ((rc = proto_rd_bytes(&r, part2_len(auth_data_len), &part2)) != PROTO_OK)
        return rc;
    memcpy(out->scramble, part1.p, SCRAMBLE_PART1);
    memcpy(out->scramble + SCRAMBLE_PART1, part2.p, slen - SCRAMBLE_PART1);
    out->scramble_len = (uint8_t)slen;

    if (plugin_auth && (rc = proto_rd_nul_str(&r, &out->auth_plugin)) != PROTO_OK)
        return rc;
    return PROTO_OK;
}

static bool has_nul(struct proto_str s)
{
    return s.len && memchr(s.p, 0, s.len) != NULL;
}

int proto_handshake_v10_build(struct proto_wr *w, const struct proto_handshake_v10 *hs)
{
    bool plugin_auth = (hs->caps & PROTO_CAP(CLIENT_PLUGIN_AUTH)) != 0;
    bool mariadb_ext = !(hs->caps & PROTO_CAP(CLIENT_LONG_PASSWORD));
    size_t slen = hs->scramble_len;

    if (slen < SCRAMBLE_PART1 || slen > PROTO_SCRAMBLE_MAX ||
        (!plugin_auth && slen != SCRAMBLE_DEFAULT))
        return PROTO_EBAD;
    if (!mariadb_ext && (hs->caps >> 32) != 0)
        return PROTO_EBAD;
    if (has_nul(hs->server_version) || (plugin_auth && has_nul(hs->auth_plugin)))
        return PROTO_EBAD;

    uint8_t auth_data_len = plugin_auth ? (uint8_t)(slen + 1) : 0;
    size_t p2 = part2_len(auth_data_len);

    proto_wr_u8(w, 10);
    proto_wr_nul_str(w, hs->server_version.p, hs->server_version.len);
    proto_wr_u32(w, hs->thread_id);
    proto_wr_bytes(w, hs->scramble, SCRAMBLE_PART1);
    proto_wr_u8(w, 0);
    proto_wr_u16(w, (uint16_t)(hs->caps & 0xFFFF));
    proto_wr_u8(w, hs->charset);
    proto_wr_u16(w, hs->status);
    proto_wr_u16(w, (uint16_t)((hs->caps >> 16) & 0xFFFF));
    proto_wr_u8(w, auth_data_len);
    proto_wr_zeros(w, 6);
    proto_wr_u32(w, mariadb_ext ? (uint32_t)(hs->caps >> 32) : 0);
    proto_wr_bytes(w, hs->scramble + SCRAMBLE_PART1, slen - SCRAMBLE_PART1);
    proto_wr_zeros(w, p2 - (slen - SCRAMBLE_PART1));
    if (plugin_auth)
        proto_wr_nul_str(w, hs->auth_plugin.p, hs->auth_plugin.len);
    return proto_wr_finish(w);
}
