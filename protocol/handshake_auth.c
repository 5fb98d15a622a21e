/*
 * handshake_auth.c - the packets of the auth exchange that follows the
 * handshake: AuthSwitchRequest (server asks for another plugin) and
 * AuthMoreData (server-side plugin data, wrapped in 0x01 so that it cannot
 * be mistaken for OK/ERR/AuthSwitch). Layouts: shared/PROTOCOL.md 1.4 (MY:auth
 * page_protocol_connection_phase_packets_protocol_auth_switch_request,
 * ..._auth_more_data). During auth a leading 0xFE is always AuthSwitch,
 * never EOF.
 */
#include <string.h>

#include "gtidproxy/proto_handshake.h"

int proto_auth_switch_parse(const uint8_t *p, size_t n, struct proto_auth_switch *out)
{
    struct proto_rd r;
    uint8_t hdr;
    int rc;

    memset(out, 0, sizeof *out);
    proto_rd_init(&r, p, n);
    if ((rc = proto_rd_u8(&r, &hdr)) != PROTO_OK)
        return rc;
    if (hdr != PROTO_EOF_HEADER)
        return PROTO_EBAD;
    if (proto_rd_left(&r) == 0) {
        out->is_old = true; /* OldAuthSwitchRequest: mysql_old_password */
        return PROTO_OK;
    }
    if ((rc = proto_rd_nul_str(&r, &out->plugin)) != PROTO_OK)
        return rc;
    proto_rd_rest(&r, &out->data);
    out->scramble = out->data;
    /* Only the SHA-based plugins NUL-terminate their nonce; an ed25519
     * nonce may well end in a zero byte that belongs to it. */
    bool nul_terminated = proto_str_eq(out->plugin, "mysql_native_password") ||
                          proto_str_eq(out->plugin, "caching_sha2_password");
    if (nul_terminated && out->scramble.len && out->scramble.p[out->scramble.len - 1] == 0)
        out->scramble.len--;
    return PROTO_OK;
}

int proto_auth_switch_build(struct proto_wr *w, struct proto_str plugin, struct proto_str data)
{
    /* An empty name would read back as the OldAuthSwitchRequest when data
     * is empty too, and as no plugin at all otherwise. */
    if (plugin.len == 0 || memchr(plugin.p, 0, plugin.len))
        return PROTO_EBAD;
    proto_wr_u8(w, PROTO_EOF_HEADER);
    proto_wr_nul_str(w, plugin.p, plugin.len);
    proto_wr_bytes(w, data.p, data.len);
    return proto_wr_finish(w);
}

int proto_auth_more_data_parse(const uint8_t *p, size_t n, struct proto_str *data)
{
    struct proto_rd r;
    uint8_t hdr;
    int rc;

    data->p = NULL;
    data->len = 0;
    proto_rd_init(&r, p, n);
    if ((rc = proto_rd_u8(&r, &hdr)) != PROTO_OK)
        return rc;
    if (hdr != PROTO_AUTH_MORE_HEADER)
        return PROTO_EBAD;
    proto_rd_rest(&r, data);
    return PROTO_OK;
}

int proto_auth_more_data_build(struct proto_wr *w, struct proto_str data)
{
    proto_wr_u8(w, PROTO_AUTH_MORE_HEADER);
    proto_wr_bytes(w, data.p, data.len);
    return proto_wr_finish(w);
}
