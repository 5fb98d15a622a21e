/*
 * proto_session_state.h - the session_state_info block of an OK packet
 * (CLIENT_SESSION_TRACK): an iterator over its entries, decoders for each
 * known entry type, and a one-call summary for the proxy's hot path (GTID
 * text, schema, transaction state, which tracked system variables changed).
 *
 * Layout: shared/PROTOCOL.md 3.2. The block is a sequence of
 *     int<1> type, int<lenenc> length, length bytes of data
 * entries until the block ends; unknown types are skipped by their length
 * (as libmariadb does).
 *
 * Nothing allocates: every string returned is a view into the caller's OK
 * payload (struct proto_ok.session_state points into it) and lives as long
 * as that buffer.
 */
#ifndef GTIDPROXY_PROTO_SESSION_STATE_H
#define GTIDPROXY_PROTO_SESSION_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_rw.h"

/* Entry types (MY:st enum_session_state_type; MariaDB the same values). */
#define PROTO_SESSION_TRACK_LIST(X)                                            \
    X(SYSTEM_VARIABLES, 0)                                                     \
    X(SCHEMA, 1)                                                               \
    X(STATE_CHANGE, 2)                                                         \
    X(GTIDS, 3)                                                                \
    X(TRANSACTION_CHARACTERISTICS, 4)                                          \
    X(TRANSACTION_STATE, 5)

enum proto_session_track {
#define PROTO_SESSION_TRACK_ENUM(name, value)                                  \
    PROTO_SESSION_TRACK_##name = (value),
    PROTO_SESSION_TRACK_LIST(PROTO_SESSION_TRACK_ENUM)
#undef PROTO_SESSION_TRACK_ENUM
};

/* "SCHEMA" for 1; "UNKNOWN" for types no server defines. */
const char *proto_session_track_name(unsigned type);

/* ---------------------------------------------------------- iterator --- */

struct proto_ss_entry {
    uint8_t type;          /* enum proto_session_track, or unknown */
    struct proto_str data; /* the entry's bytes, without type and length */
};

struct proto_ss_iter {
    struct proto_rd r;
};

/* Starts iterating over a session_state_info block (the content of
 * struct proto_ok.session_state; an empty view yields no entries). */
void proto_ss_iter_init(struct proto_ss_iter *it, struct proto_str block);

/* True when every entry has been returned. */
bool proto_ss_iter_done(const struct proto_ss_iter *it);

/*
 * Returns the next entry: PROTO_OK and *e filled; PROTO_ETRUNC when the
 * type byte, length or data runs past the block (the block comes from a
 * complete OK, so this is malformed input); PROTO_EBAD for a bad length
 * encoding. Do not call once proto_ss_iter_done() is true (PROTO_ETRUNC).
 * Unknown types are returned too; callers skip what they do not know.
 */
int proto_ss_next(struct proto_ss_iter *it, struct proto_ss_entry *e)
    __attribute__((warn_unused_result));

/* ---------------------------------------------------------- decoders --- */
/* Each checks e->type and that the data holds exactly the documented
 * fields: PROTO_EBAD on a wrong type or trailing bytes, PROTO_ETRUNC when a
 * field runs past the data. */

/* SYSTEM_VARIABLES: lenenc name, lenenc value (one variable per entry). */
int proto_ss_sysvar(const struct proto_ss_entry *e, struct proto_str *name,
                    struct proto_str *value)
    __attribute__((warn_unused_result));

/* SCHEMA: lenenc schema name (empty after the current schema was
 * dropped). */
int proto_ss_schema(const struct proto_ss_entry *e, struct proto_str *schema)
    __attribute__((warn_unused_result));

/* STATE_CHANGE: a single raw byte, '1' when the session state changed
 * (`02 01 31`: type 2, length 1, '1'; not a lenenc string). */
int proto_ss_state_change(const struct proto_ss_entry *e, bool *changed)
    __attribute__((warn_unused_result));

/* GTIDS (MySQL only): int<1> encoding specification, which must be 0
 * (PROTO_EUNSUPPORTED otherwise), then the GTID set as lenenc text, e.g.
 * "3E11FA47-71CA-11E1-9E33-C80AA9429562:23" or several UUID sets joined by
 * ",\n". */
int proto_ss_gtids(const struct proto_ss_entry *e, struct proto_str *gtid_set)
    __attribute__((warn_unused_result));

/* TRANSACTION_CHARACTERISTICS: lenenc SQL text that recreates them, e.g.
 * "SET TRANSACTION READ ONLY;" or "START TRANSACTION;"; empty when they are
 * the defaults again. */
int proto_ss_trx_characteristics(const struct proto_ss_entry *e,
                                 struct proto_str *sql)
    __attribute__((warn_unused_result));

/* TRANSACTION_STATE: a lenenc string of exactly 8 characters, each either
 * '_' or the letter of its position:
 *   0 'T' explicit transaction / 'I' implicit (autocommit=0), 1 'r' read a
 *   non-transactional table, 2 'R' read a transactional table, 3 'w' wrote a
 *   non-transactional table, 4 'W' wrote a transactional table, 5 's' unsafe
 *   statement, 6 'S' result set sent, 7 'L' tables locked (LOCK TABLES).
 * Any other character is PROTO_EBAD. */
struct proto_trx_state {
    bool explicit_trx;  /* 'T' */
    bool implicit_trx;  /* 'I' */
    bool read_unsafe;   /* 'r' */
    bool read_trx;      /* 'R' */
    bool write_unsafe;  /* 'w' */
    bool write_trx;     /* 'W' */
    bool unsafe_stmt;   /* 's' */
    bool result_set;    /* 'S' */
    bool locked_tables; /* 'L' */
};

int proto_ss_trx_state(const struct proto_ss_entry *e,
                       struct proto_trx_state *st)
    __attribute__((warn_unused_result));

/* A transaction is open (explicit or implicit). */
static inline bool proto_trx_in_transaction(const struct proto_trx_state *st)
{
    return st->explicit_trx || st->implicit_trx;
}

/* The open transaction wrote something (transactional or not). */
static inline bool proto_trx_has_writes(const struct proto_trx_state *st)
{
    return st->write_trx || st->write_unsafe;
}

/* The open transaction read something. */
static inline bool proto_trx_has_reads(const struct proto_trx_state *st)
{
    return st->read_trx || st->read_unsafe;
}

/* ----------------------------------------------------------- summary --- */

/* System variables whose change the proxy cares about (a pooled backend
 * connection must be brought to the client's values before reuse). */
#define PROTO_SYSVAR_LIST(X)                                                   \
    X(AUTOCOMMIT, "autocommit")                                                \
    X(CHARACTER_SET_CLIENT, "character_set_client")                            \
    X(CHARACTER_SET_RESULTS, "character_set_results")                          \
    X(CHARACTER_SET_CONNECTION, "character_set_connection")                    \
    X(COLLATION_CONNECTION, "collation_connection")                            \
    X(SQL_MODE, "sql_mode")                                                    \
    X(TIME_ZONE, "time_zone")                                                  \
    X(TRANSACTION_ISOLATION, "transaction_isolation")                          \
    X(TX_ISOLATION, "tx_isolation")                                            \
    X(TRANSACTION_READ_ONLY, "transaction_read_only")                          \
    X(TX_READ_ONLY, "tx_read_only")                                            \
    X(LAST_GTID, "last_gtid")

enum proto_sysvar {
#define PROTO_SYSVAR_ENUM(name, text) PROTO_SYSVAR_##name,
    PROTO_SYSVAR_LIST(PROTO_SYSVAR_ENUM)
#undef PROTO_SYSVAR_ENUM
    PROTO_SYSVAR__COUNT
};

/* Bit of a variable in proto_ss_summary.sysvars_changed. */
#define PROTO_SYSVAR_BIT(name) ((uint32_t)1 << PROTO_SYSVAR_##name)

/* "autocommit" for PROTO_SYSVAR_AUTOCOMMIT; "unknown" out of range. */
const char *proto_sysvar_name(enum proto_sysvar v);

/* The enum value for a variable name (ASCII case-insensitive), or -1. */
int proto_sysvar_lookup(struct proto_str name);

#define PROTO_GTID_SOURCE_LIST(X)                                              \
    X(NONE)                                                                    \
    X(MYSQL_GTIDS)       /* SESSION_TRACK_GTIDS entry (MySQL) */               \
    X(MARIADB_LAST_GTID) /* system variable last_gtid (MariaDB) */

enum proto_gtid_source {
#define PROTO_GTID_SOURCE_ENUM(name) PROTO_GTID_SOURCE_##name,
    PROTO_GTID_SOURCE_LIST(PROTO_GTID_SOURCE_ENUM)
#undef PROTO_GTID_SOURCE_ENUM
};

/* "MYSQL_GTIDS", ...; "UNKNOWN" out of range. */
const char *proto_gtid_source_name(enum proto_gtid_source s);

struct proto_ss_summary {
    /* GTID text of what this statement committed: MySQL's GTID set (as
     * "uuid:n[-m][,\nuuid:...]") or MariaDB's "domain-server-seq". Set only
     * when non-empty; when several entries carry one, the last wins. */
    enum proto_gtid_source gtid_source;
    struct proto_str gtid;

    bool has_schema; /* SCHEMA entry seen; schema may be empty */
    struct proto_str schema;

    bool state_changed; /* STATE_CHANGE '1' */

    bool has_trx_state;
    struct proto_trx_state trx_state;

    bool has_trx_characteristics;
    struct proto_str trx_characteristics;

    uint32_t sysvars_changed;                     /* PROTO_SYSVAR_BIT()s */
    struct proto_str sysvar[PROTO_SYSVAR__COUNT]; /* value when bit set */
    unsigned other_sysvars;   /* SYSTEM_VARIABLES entries not in the list */
    unsigned unknown_entries; /* entries of types >= 6, skipped */
};

/*
 * Walks the block once and fills *out (zeroed first). PROTO_OK, or the
 * first error of the iterator or of a decoder for a KNOWN type (a GTIDS
 * entry with an unknown encoding is PROTO_EUNSUPPORTED): a reply whose
 * GTID cannot be read must not be mistaken for one without a GTID, so the
 * caller should treat any error as a protocol error.
 */
int proto_ss_summarize(struct proto_str block, struct proto_ss_summary *out)
    __attribute__((warn_unused_result));

#endif
