/*
 * session_state.c - session_state_info of an OK packet: entry iterator,
 * per-type decoders and the hot-path summary (GTID, schema, transaction
 * state, changed system variables). Contracts in
 * include/gtidproxy/proto_session_state.h; layout in PROTOCOL.md 3.2.
 *
 *   OK.session_state --iter--> (type, data) --decoder--> views
 *                    \--proto_ss_summarize--> struct proto_ss_summary
 *
 * Pure: no allocation, no globals; every string is a view into the OK.
 */
#include "gtidproxy/proto_session_state.h"

#include <string.h>

const char *proto_session_track_name(unsigned type)
{
    switch (type) {
#define PROTO_SESSION_TRACK_CASE(name, value)                                  \
    case value:                                                                \
        return #name;
        PROTO_SESSION_TRACK_LIST(PROTO_SESSION_TRACK_CASE)
#undef PROTO_SESSION_TRACK_CASE
    }
    return "UNKNOWN";
}

/* Names with their lengths, so the hot-path lookup rejects most names on
 * the length compare alone. */
static const struct {
    const char *name;
    size_t len;
} sysvars[PROTO_SYSVAR__COUNT] = {
#define PROTO_SYSVAR_NAME(name, text) {text, sizeof(text) - 1},
    PROTO_SYSVAR_LIST(PROTO_SYSVAR_NAME)
#undef PROTO_SYSVAR_NAME
};

const char *proto_sysvar_name(enum proto_sysvar v)
{
    if ((unsigned)v >= PROTO_SYSVAR__COUNT)
        return "unknown";
    return sysvars[v].name;
}

/* Servers send variable names in lower case; compare ASCII-case-blind
 * anyway so "AUTOCOMMIT" cannot slip past the change mask. */
static bool ascii_ieq(struct proto_str s, const char *lower, size_t n)
{
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        if (c != (uint8_t)lower[i])
            return false;
    }
    return true;
}

int proto_sysvar_lookup(struct proto_str name)
{
    for (int i = 0; i < PROTO_SYSVAR__COUNT; i++)
        if (ascii_ieq(name, sysvars[i].name, sysvars[i].len))
            return i;
    return -1;
}

const char *proto_gtid_source_name(enum proto_gtid_source s)
{
    switch (s) {
#define PROTO_GTID_SOURCE_CASE(name)                                           \
    case PROTO_GTID_SOURCE_##name:                                             \
        return #name;
        PROTO_GTID_SOURCE_LIST(PROTO_GTID_SOURCE_CASE)
#undef PROTO_GTID_SOURCE_CASE
    }
    return "UNKNOWN";
}

/* ---------------------------------------------------------- iterator --- */

void proto_ss_iter_init(struct proto_ss_iter *it, struct proto_str block)
{
    proto_rd_init(&it->r, block.p, block.len);
}

bool proto_ss_iter_done(const struct proto_ss_iter *it)
{
    return proto_rd_left(&it->r) == 0;
}

int proto_ss_next(struct proto_ss_iter *it, struct proto_ss_entry *e)
{
    size_t start = it->r.pos;
    int rc;

    if ((rc = proto_rd_u8(&it->r, &e->type)) != PROTO_OK)
        return rc;
    if ((rc = proto_rd_lenenc_str(&it->r, &e->data)) != PROTO_OK) {
        it->r.pos = start; /* a failed next leaves the iterator in place */
        return rc;
    }
    return PROTO_OK;
}

/* ---------------------------------------------------------- decoders --- */

/* Reader over an entry of the expected type. */
static int entry_rd(const struct proto_ss_entry *e, unsigned type,
                    struct proto_rd *r)
{
    if (e->type != type)
        return PROTO_EBAD;
    proto_rd_init(r, e->data.p, e->data.len);
    return PROTO_OK;
}

/* Decoders accept exactly the documented fields: trailing bytes mean the
 * entry is not what we think it is. */
static int entry_end(const struct proto_rd *r)
{
    return proto_rd_left(r) == 0 ? PROTO_OK : PROTO_EBAD;
}

int proto_ss_sysvar(const struct proto_ss_entry *e, struct proto_str *name,
                    struct proto_str *value)
{
    struct proto_rd r;
    int rc;
    if ((rc = entry_rd(e, PROTO_SESSION_TRACK_SYSTEM_VARIABLES, &r)) != 0 ||
        (rc = proto_rd_lenenc_str(&r, name)) != PROTO_OK ||
        (rc = proto_rd_lenenc_str(&r, value)) != PROTO_OK)
        return rc;
    return entry_end(&r);
}

int proto_ss_schema(const struct proto_ss_entry *e, struct proto_str *schema)
{
    struct proto_rd r;
    int rc;
    if ((rc = entry_rd(e, PROTO_SESSION_TRACK_SCHEMA, &r)) != 0 ||
        (rc = proto_rd_lenenc_str(&r, schema)) != PROTO_OK)
        return rc;
    return entry_end(&r);
}

int proto_ss_state_change(const struct proto_ss_entry *e, bool *changed)
{
    struct proto_rd r;
    uint8_t c;
    int rc;
    if ((rc = entry_rd(e, PROTO_SESSION_TRACK_STATE_CHANGE, &r)) != 0 ||
        (rc = proto_rd_u8(&r, &c)) != PROTO_OK)
        return rc;
    if (c != '1' && c != '0')
        return PROTO_EBAD;
    *changed = c == '1';
    return entry_end(&r);
}

int proto_ss_gtids(const struct proto_ss_entry *e, struct proto_str *gtid_set)
{
    struct proto_rd r;
    uint8_t spec;
    int rc;
    if ((rc = entry_rd(e, PROTO_SESSION_TRACK_GTIDS, &r)) != 0 ||
        (rc = proto_rd_u8(&r, &spec)) != PROTO_OK)
        return rc;
    /* Only encoding 0 (GTID set as text) exists (MY:st
     * Session_gtids_ctx_encoder_string); a new one would change meaning. */
    if (spec != 0)
        return PROTO_EUNSUPPORTED;
    if ((rc = proto_rd_lenenc_str(&r, gtid_set)) != PROTO_OK)
        return rc;
    return entry_end(&r);
}

int proto_ss_trx_characteristics(const struct proto_ss_entry *e,
                                 struct proto_str *sql)
{
    struct proto_rd r;
    int rc;
    if ((rc = entry_rd(e, PROTO_SESSION_TRACK_TRANSACTION_CHARACTERISTICS,
                       &r)) != 0 ||
        (rc = proto_rd_lenenc_str(&r, sql)) != PROTO_OK)
        return rc;
    return entry_end(&r);
}

/* Letter each position of the TRANSACTION_STATE string may hold besides
 * '_'; position 0 also takes 'I'. */
static const char trx_letters[8] = {'T', 'r', 'R', 'w', 'W', 's', 'S', 'L'};

int proto_ss_trx_state(const struct proto_ss_entry *e,
                       struct proto_trx_state *st)
{
    struct proto_rd r;
    struct proto_str s;
    int rc;
    if ((rc = entry_rd(e, PROTO_SESSION_TRACK_TRANSACTION_STATE, &r)) != 0 ||
        (rc = proto_rd_lenenc_str(&r, &s)) != PROTO_OK)
        return rc;
    if ((rc = entry_end(&r)) != PROTO_OK)
        return rc;
    if (s.len != sizeof trx_letters)
        return PROTO_EBAD;
    bool on[sizeof trx_letters];
    for (size_t i = 0; i < sizeof trx_letters; i++) {
        uint8_t c = s.p[i];
        if (c == '_')
            on[i] = false;
        else if (c == (uint8_t)trx_letters[i] || (i == 0 && c == 'I'))
            on[i] = true;
        else
            return PROTO_EBAD;
    }
    memset(st, 0, sizeof *st);
    st->explicit_trx = on[0] && s.p[0] == 'T';
    st->implicit_trx = on[0] && s.p[0] == 'I';
    st->read_unsafe = on[1];
    st->read_trx = on[2];
    st->write_unsafe = on[3];
    st->write_trx = on[4];
    st->unsafe_stmt = on[5];
    st->result_set = on[6];
    st->locked_tables = on[7];
    return PROTO_OK;
}

/* ----------------------------------------------------------- summary --- */

static int summarize_sysvar(const struct proto_ss_entry *e,
                            struct proto_ss_summary *out)
{
    struct proto_str name, value;
    int rc = proto_ss_sysvar(e, &name, &value);
    if (rc != PROTO_OK)
        return rc;
    int v = proto_sysvar_lookup(name);
    if (v < 0) {
        out->other_sysvars++;
        return PROTO_OK;
    }
    out->sysvars_changed |= (uint32_t)1 << v;
    out->sysvar[v] = value;
    /* MariaDB reports its GTID as this variable (no GTIDS tracker). */
    if (v == PROTO_SYSVAR_LAST_GTID && value.len > 0) {
        out->gtid_source = PROTO_GTID_SOURCE_MARIADB_LAST_GTID;
        out->gtid = value;
    }
    return PROTO_OK;
}

static int summarize_entry(const struct proto_ss_entry *e,
                           struct proto_ss_summary *out)
{
    struct proto_str s;
    int rc;

    switch (e->type) {
    case PROTO_SESSION_TRACK_SYSTEM_VARIABLES:
        return summarize_sysvar(e, out);
    case PROTO_SESSION_TRACK_SCHEMA:
        if ((rc = proto_ss_schema(e, &out->schema)) == PROTO_OK)
            out->has_schema = true;
        return rc;
    case PROTO_SESSION_TRACK_STATE_CHANGE: {
        bool changed = false;
        if ((rc = proto_ss_state_change(e, &changed)) == PROTO_OK)
            out->state_changed |= changed;
        return rc;
    }
    case PROTO_SESSION_TRACK_GTIDS:
        if ((rc = proto_ss_gtids(e, &s)) == PROTO_OK && s.len > 0) {
            out->gtid_source = PROTO_GTID_SOURCE_MYSQL_GTIDS;
            out->gtid = s;
        }
        return rc;
    case PROTO_SESSION_TRACK_TRANSACTION_CHARACTERISTICS:
        if ((rc = proto_ss_trx_characteristics(
                 e, &out->trx_characteristics)) == PROTO_OK)
            out->has_trx_characteristics = true;
        return rc;
    case PROTO_SESSION_TRACK_TRANSACTION_STATE:
        if ((rc = proto_ss_trx_state(e, &out->trx_state)) == PROTO_OK)
            out->has_trx_state = true;
        return rc;
    default:
        /* Reserved types (MariaDB's compiled-out user-variable tracker,
         * future MySQL ones): skipped by length, as libmariadb does. */
        out->unknown_entries++;
        return PROTO_OK;
    }
}

int proto_ss_summarize(struct proto_str block, struct proto_ss_summary *out)
{
    struct proto_ss_iter it;
    struct proto_ss_entry e;
    int rc;

    memset(out, 0, sizeof *out);
    out->gtid.p = block.p;
    out->schema.p = block.p;
    out->trx_characteristics.p = block.p;
    proto_ss_iter_init(&it, block);
    while (!proto_ss_iter_done(&it)) {
        if ((rc = proto_ss_next(&it, &e)) != PROTO_OK)
            return rc;
        if ((rc = summarize_entry(&e, out)) != PROTO_OK)
            return rc;
    }
    return PROTO_OK;
}
