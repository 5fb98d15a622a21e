/*
 * stmt.c - the client commands that name a prepared statement: reading and
 * rewriting their statement id, parsing COM_STMT_EXECUTE's parameter block
 * and re-sending an EXECUTE with its parameter types (proto_stmt.h has the
 * contracts, shared/PROTOCOL.md 4.1 / 4.4 the layouts).
 *
 *   client EXECUTE (id C, flag 0) --proto_stmt_execute_with_types(id B,
 *       types cached from the client's first EXECUTE)--> EXECUTE (id B,
 *       flag 1, types) for a backend that has not seen the types yet
 *
 * Pure: no allocation, no globals; views point into the caller's payload.
 */
#include "gtidproxy/proto_stmt.h"

#include <string.h>

#include "gtidproxy/proto_consts.h"

/* cmd byte + int<4> stmt_id: the prefix every command here shares. */
#define STMT_ID_END 5u

static bool names_statement(uint8_t cmd)
{
    switch (cmd) {
    case PROTO_COM_STMT_EXECUTE:
    case PROTO_COM_STMT_SEND_LONG_DATA:
    case PROTO_COM_STMT_CLOSE:
    case PROTO_COM_STMT_RESET:
    case PROTO_COM_STMT_FETCH:
        return true;
    default:
        return false;
    }
}

/* Checks the command byte (when there is one) before the length, so a
 * short packet of another command is reported as the wrong command. */
static int check_id_prefix(const uint8_t *p, size_t n)
{
    if (n == 0)
        return PROTO_ETRUNC;
    if (!names_statement(p[0]))
        return PROTO_EBAD;
    if (n < STMT_ID_END)
        return PROTO_ETRUNC;
    return PROTO_OK;
}

int proto_stmt_id(const uint8_t *p, size_t n, uint32_t *id)
{
    int rc = check_id_prefix(p, n);
    if (rc != PROTO_OK)
        return rc;
    *id = proto_le32(p + 1);
    return PROTO_OK;
}

int proto_stmt_set_id(uint8_t *p, size_t n, uint32_t id)
{
    int rc = check_id_prefix(p, n);
    if (rc != PROTO_OK)
        return rc;
    struct proto_wr w;
    proto_wr_init(&w, p + 1, 4);
    proto_wr_u32(&w, id);
    return proto_wr_finish(&w);
}

int proto_stmt_execute_parse(const uint8_t *p, size_t n, uint16_t num_params,
                             struct proto_stmt_exec *out)
{
    struct proto_rd r;
    uint8_t cmd, bound;
    int rc;

    memset(out, 0, sizeof *out);
    out->null_bitmap.p = p;
    out->types.p = p;
    proto_rd_init(&r, p, n);

    if ((rc = proto_rd_u8(&r, &cmd)) != PROTO_OK)
        return rc;
    if (cmd != PROTO_COM_STMT_EXECUTE)
        return PROTO_EBAD;
    if ((rc = proto_rd_u32(&r, &out->stmt_id)) != PROTO_OK ||
        (rc = proto_rd_u8(&r, &out->flags)) != PROTO_OK ||
        (rc = proto_rd_u32(&r, &out->iterations)) != PROTO_OK)
        return rc;

    if (num_params > 0) {
        /* At most (65535 + 7) / 8 = 8192 bitmap bytes and 2 * 65535 type
         * bytes: no overflow in size_t. */
        if ((rc = proto_rd_bytes(&r, ((size_t)num_params + 7) / 8,
                                 &out->null_bitmap)) != PROTO_OK ||
            (rc = proto_rd_u8(&r, &bound)) != PROTO_OK)
            return rc;
        /* Servers read any non-zero byte as "types follow" (MariaDB and
         * MySQL setup_conversion_functions); clients write a bool. Anything
         * else is not a real client, so fail closed. */
        if (bound > 1)
            return PROTO_EBAD;
        out->types_bound = bound == 1;
        if (out->types_bound &&
            (rc = proto_rd_bytes(&r, 2 * (size_t)num_params, &out->types)) !=
                PROTO_OK)
            return rc;
    }
    /* With no parameters, nothing follows in real captures; anything that
     * does is left to the server (it ignores it), and shows as values. */
    out->values_off = r.pos;
    return PROTO_OK;
}

int proto_stmt_execute_with_types(struct proto_wr *w, const uint8_t *p, size_t n,
                                  uint16_t num_params, struct proto_str types,
                                  uint32_t stmt_id)
{
    struct proto_stmt_exec ex;
    int rc = proto_stmt_execute_parse(p, n, num_params, &ex);
    if (rc != PROTO_OK)
        return rc;

    bool insert = num_params > 0 && !ex.types_bound;
    if (insert && types.len != 2 * (size_t)num_params)
        return PROTO_EBAD;

    proto_wr_u8(w, p[0]);
    proto_wr_u32(w, stmt_id);
    if (!insert) {
        /* Nothing to insert: the payload is complete as it is. */
        proto_wr_bytes(w, p + STMT_ID_END, n - STMT_ID_END);
        return proto_wr_finish(w);
    }
    /* Everything up to the bound flag (the byte right before the values
     * when no types are bound), the flag set, the types, the values. */
    proto_wr_bytes(w, p + STMT_ID_END, ex.values_off - 1 - STMT_ID_END);
    proto_wr_u8(w, 1);
    proto_wr_bytes(w, types.p, types.len);
    proto_wr_bytes(w, p + ex.values_off, n - ex.values_off);
    return proto_wr_finish(w);
}
