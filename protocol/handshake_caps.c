/*
 * handshake_caps.c - capability negotiation between the proxy, its clients
 * and its backends. The decisions are documented with the prototypes in
 * proto_handshake.h; facts in shared/PROTOCOL.md 1.2 and 6.2.
 */
#include "gtidproxy/proto_handshake.h"

int proto_caps_advertise(uint64_t backend_caps, uint64_t supported, unsigned opts, uint64_t *out)
{
    if ((backend_caps & PROTO_CAPS_REQUIRED) != PROTO_CAPS_REQUIRED)
        return PROTO_EUNSUPPORTED;

    uint64_t allowed = supported & ~PROTO_CAPS_NEVER;
    if (!(opts & PROTO_CAPS_OPT_QUERY_ATTRS))
        allowed &= ~PROTO_CAP(CLIENT_QUERY_ATTRIBUTES);
    if (!(opts & PROTO_CAPS_OPT_OPTIONAL_METADATA))
        allowed &= ~PROTO_CAP(CLIENT_OPTIONAL_RESULTSET_METADATA);

    uint64_t caps = backend_caps & allowed;
    /* TLS toward clients is the proxy's own business. */
    caps &= ~PROTO_CAP(CLIENT_SSL);
    if (opts & PROTO_CAPS_OPT_TLS)
        caps |= PROTO_CAP(CLIENT_SSL);
    /* Bit 0 mirrors the backend so clients pick the same dialect: clear
     * means "MariaDB, extended caps follow"; set means MySQL, no ext. */
    caps &= ~PROTO_CAP(CLIENT_LONG_PASSWORD);
    if (backend_caps & PROTO_CAP(CLIENT_LONG_PASSWORD))
        caps = (caps & UINT64_C(0xFFFFFFFF)) | PROTO_CAP(CLIENT_LONG_PASSWORD);
    *out = caps;
    return PROTO_OK;
}

uint64_t proto_caps_effective(uint64_t client_caps, uint64_t server_caps)
{
    uint64_t eff = client_caps & server_caps;
    bool mariadb = !(client_caps & PROTO_CAP(CLIENT_LONG_PASSWORD)) &&
                   !(server_caps & PROTO_CAP(CLIENT_LONG_PASSWORD));
    if (!mariadb)
        eff &= UINT64_C(0xFFFFFFFF);
    return eff;
}

int proto_caps_check_client(uint64_t client_caps, uint64_t advertised)
{
    if (!(client_caps & PROTO_CAP(CLIENT_PROTOCOL_41)) ||
        !(client_caps & PROTO_CAP(CLIENT_SECURE_CONNECTION)))
        return PROTO_EUNSUPPORTED;
    if ((client_caps & PROTO_CAP(CLIENT_SSL)) && !(advertised & PROTO_CAP(CLIENT_SSL)))
        return PROTO_EBAD;
    return PROTO_OK;
}
