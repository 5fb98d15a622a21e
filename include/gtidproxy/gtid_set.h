/*
 * gtid_set.h - GTID sets of both server flavors, as the consistency gate
 * needs them: parse the text servers print and accept, print the canonical
 * text they accept back (WAIT_FOR_EXECUTED_GTID_SET, MASTER_GTID_WAIT), and
 * answer "does A contain B" exactly and without allocating.
 *
 *   MySQL    uuid[:tag]:a-b:c,...     sorted disjoint intervals per (uuid, tag)
 *   MariaDB  domain-server-seq,...    one position per domain, sorted by domain
 *
 * Facts and sources: shared/PROTOCOL.md section 5, and the notes in
 * protocol/gtid_mysql.c and protocol/gtid_mariadb.c (grammar details, where we
 * are stricter than the servers and why).
 *
 * Memory: a struct gtid_set owns its arrays. They grow geometrically and never
 * shrink until gtid_set_free(), so parse / union / add / copy into a set that
 * already has the room do not allocate; contains / equal / missing / format
 * never allocate. A set is not thread-safe; copy it to share a snapshot.
 *
 * Errors: 0 (PROTO_OK) or a negative code. PROTO_EBAD = malformed text,
 * PROTO_ETOOBIG = a limit below was hit, PROTO_EUNSUPPORTED = the two sets
 * have different flavors, GTID_ENOMEM = malloc failed. Unless a function says
 * otherwise, a failed call leaves the destination set exactly as it was.
 */
#ifndef GTIDPROXY_GTID_SET_H
#define GTIDPROXY_GTID_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_rw.h"

#define GTID_FLAVOR_LIST(X)                                                    \
    X(GTID_FLAVOR_MYSQL, "mysql")                                              \
    X(GTID_FLAVOR_MARIADB, "mariadb")

enum gtid_flavor {
#define GTID_FLAVOR_ENUM(name, text) name,
    GTID_FLAVOR_LIST(GTID_FLAVOR_ENUM)
#undef GTID_FLAVOR_ENUM
};

/* "mysql" / "mariadb"; "unknown" for anything else. Never NULL. */
const char *gtid_flavor_name(enum gtid_flavor f);

/* proto_rw.h has no out-of-memory status; this one sits outside its range. */
#define GTID_ENOMEM (-64)

/* Text for a proto_status code or GTID_ENOMEM. Never NULL. */
const char *gtid_status_str(int status);

/*
 * Limits, so hostile or runaway input cannot exhaust memory. A set at the
 * limits holds at most 64 Ki intervals (16 B each, 1 MiB) plus 4 Ki (uuid,
 * tag) heads; union may reserve up to twice that while merging.
 * - GTID_TEXT_MAX: longest text parse accepts (4 MiB; the server's own
 *   gtid_executed for 64 Ki intervals of 19-digit numbers is ~2.6 MB).
 * - GTID_MYSQL_GNO_MAX: MySQL's GNO_END is INT64_MAX and is exclusive
 *   (sql/rpl_gtid_set.cc parse_gno rejects ret >= GNO_END), so 2^63-2.
 */
#define GTID_TEXT_MAX            ((size_t)4 << 20)
#define GTID_MYSQL_MAX_TSIDS     4096u
#define GTID_MYSQL_MAX_INTERVALS 65536u
#define GTID_MYSQL_GNO_MAX       ((uint64_t)INT64_MAX - 1)
#define GTID_MYSQL_TAG_MAX       32u /* mysql::gtid::tag_max_length */
#define GTID_MARIADB_MAX_DOMAINS 4096u

/* Inclusive range of MySQL transaction numbers, 1 <= lo <= hi <= GNO_MAX. */
struct gtid_interval {
    uint64_t lo, hi;
};

/* MySQL source id: server uuid plus optional tag (8.3+), tag stored lower
 * case and not NUL-terminated; tag_len 0 = untagged. */
struct gtid_tsid {
    uint8_t uuid[16];
    uint8_t tag_len;
    char tag[GTID_MYSQL_TAG_MAX];
};

/* One tsid and its intervals: sorted, disjoint, never adjacent, never empty. */
struct gtid_mysql_run {
    struct gtid_tsid tsid;
    struct gtid_interval *iv;
    uint32_t n, cap;
};

struct gtid_mysql_set {
    struct gtid_mysql_run *run; /* sorted by (uuid bytes, tag bytes) */
    uint32_t n, cap;
    uint32_t n_iv; /* intervals over all runs, for the limit */
};

/* MariaDB GTID / per-domain position. */
struct gtid_mariadb_gtid {
    uint32_t domain, server;
    uint64_t seq;
};

struct gtid_mariadb_set {
    struct gtid_mariadb_gtid *pos; /* sorted by domain, one per domain */
    uint32_t n, cap;
};

/* Either flavor. Zero-initialised memory is NOT a valid set: use init. */
struct gtid_set {
    enum gtid_flavor flavor;
    union {
        struct gtid_mysql_set my;
        struct gtid_mariadb_set mdb;
    } u;
};

/* An empty set of flavor f; allocates nothing. */
void gtid_set_init(struct gtid_set *s, enum gtid_flavor f);
/* Releases the arrays; s is then an empty set of the same flavor again. */
void gtid_set_free(struct gtid_set *s);
/* Empties s, keeping its arrays for reuse. */
void gtid_set_clear(struct gtid_set *s);

/*
 * Replaces the content of s (whose flavor says which grammar) by the set in
 * text[0..len). The text need not be NUL-terminated and is never read past
 * len. Empty or all-whitespace text is the empty set. On error s is empty and
 * *err_off (if not NULL) is the byte offset where parsing stopped.
 */
int gtid_set_parse(struct gtid_set *s, const char *text, size_t len, size_t *err_off)
    __attribute__((warn_unused_result));

/*
 * Canonical text of s, appended to w (sticky errors: check
 * proto_wr_finish()). MySQL: uuids lower case in byte order, untagged
 * intervals first then tags in byte order, uuid sets joined by "," (no
 * newline: the server's parser skips whitespace, so ",\n" and "," are the
 * same set, and the text goes into SQL and logs). MariaDB: "d-s-n" joined by
 * "," in domain order, as the server prints @@gtid_slave_pos. Empty set: "".
 */
void gtid_set_format(const struct gtid_set *s, struct proto_wr *w);
/* Exact byte length gtid_set_format() writes. */
size_t gtid_set_format_len(const struct gtid_set *s);
/* The canonical text as a malloc'd NUL-terminated string (*len, if not
 * NULL, its length), for logs, results and JSON; NULL when out of memory. */
char *gtid_set_text(const struct gtid_set *s, size_t *len);

bool gtid_set_is_empty(const struct gtid_set *s);

/* Same flavor and same content (= same canonical text). MariaDB compares
 * server ids too; two positions may contain each other and differ. */
bool gtid_set_equal(const struct gtid_set *a, const struct gtid_set *b);

/*
 * a contains b (a ⊇ b): every transaction of b is in a. MySQL: every interval
 * of b lies inside one of a's intervals of the same (uuid, tag). MariaDB:
 * every domain of b is in a with seq >= b's, server id ignored, which is what
 * MASTER_GTID_WAIT checks against @@gtid_slave_pos. Different flavors: false
 * (fail closed). O(|b| log |a|), no allocation.
 */
bool gtid_set_contains(const struct gtid_set *a, const struct gtid_set *b);

/*
 * How many transactions of b are missing from a, saturating at UINT64_MAX
 * (the admin "GTID distance"). 0 exactly when gtid_set_contains(a, b).
 * MariaDB: sum over b's domains of max(0, b.seq - a.seq), a.seq = 0 where a
 * lacks the domain. Different flavors: UINT64_MAX.
 */
uint64_t gtid_set_missing(const struct gtid_set *a, const struct gtid_set *b);

/*
 * a := a ∪ b. MySQL: intervals merged per (uuid, tag). MariaDB: per domain
 * the higher seq wins with its server id; on equal seq the higher server id
 * wins so union stays commutative (under gtid_strict_mode one seq of a domain
 * has one server id, so that tie does not arise within one topology).
 * Atomic: on error a is unchanged. b may be a (a no-op).
 *
 * The per-write path (an OK packet's OWN_GTID set or last_gtid value into
 * the session's set): gtid_set_parse() the text into a scratch set kept per
 * connection, then gtid_set_union() it in; neither allocates once the two
 * sets have grown to their working size (bench/micro_gtid.c).
 */
int gtid_set_union(struct gtid_set *a, const struct gtid_set *b)
    __attribute__((warn_unused_result));

/* dst := src, reusing dst's arrays when they fit. When the flavors differ,
 * dst is first freed and takes src's flavor (then empty on failure). */
int gtid_set_copy(struct gtid_set *dst, const struct gtid_set *src)
    __attribute__((warn_unused_result));

/* Adds one MySQL GTID to a MySQL set; gno in 1..GTID_MYSQL_GNO_MAX. The tag
 * must already be canonical (lower case, valid grammar, <= 32 chars). */
int gtid_mysql_add(struct gtid_set *s, const struct gtid_tsid *tsid, uint64_t gno)
    __attribute__((warn_unused_result));

/* Adds one MariaDB GTID to a MariaDB set, with the union rule above (a lower
 * seq than the domain's current one changes nothing). */
int gtid_mariadb_add(struct gtid_set *s, uint32_t domain, uint32_t server, uint64_t seq)
    __attribute__((warn_unused_result));

#endif
