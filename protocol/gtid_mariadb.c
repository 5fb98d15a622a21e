/*
 * gtid_mariadb.c - MariaDB GTID positions: "domain-server-seq" lists with one
 * GTID per domain, kept sorted by domain (include/gtidproxy/gtid_set.h).
 *
 * Grammar accepted (checked against MariaDB 10.11.19, see
 * tests/fixtures/gtid/README.md, and sql/rpl_gtid.cc gtid_parser_helper):
 *
 *   pos  := ws* [ gtid ( ws* ',' ws* gtid )* ] ws*
 *   gtid := u32 '-' u32 '-' u64          decimal digits, leading zeros allowed
 *
 * - Empty text is the empty position (MASTER_GTID_WAIT('') returns 0 at once).
 * - Domain and server id above 4294967295, seq above 2^64-1, signs, missing
 *   parts ("0-1"), non-digits ("a-b-c", "0-1-x") and a trailing comma are
 *   rejected, as the server rejects them (ER_INCORRECT_GTID_STATE).
 * - Stricter than the server: no '+' sign ("0-1-+5" passes the server's
 *   my_strtoll10), no whitespace inside a GTID. Laxer: whitespace before a
 *   comma and at the end (the server rejects "0-1-5 ,1-2-3"); harmless, since
 *   what we send back is always the canonical text.
 * - Duplicate domains ("0-1-5,0-1-6") are accepted and folded with the union
 *   rule (higher seq wins). That is MASTER_GTID_WAIT's meaning: it waits for
 *   every listed GTID in turn, so the highest seq decides (server: 0 for
 *   '0-1-5,0-1-6' when slave_pos is 0-1-10, -1 for '0-1-5,0-1-11'). Only the
 *   assignment SET GLOBAL gtid_slave_pos rejects them (ER 1943).
 * - seq 0 is accepted; such a GTID is contained in every position, even one
 *   without that domain (server: MASTER_GTID_WAIT('55-1-0',0) = 0 when
 *   domain 55 is unknown).
 */
#include "gtid_internal.h"

#include <stdlib.h>
#include <string.h>

void gtid__mdb_free(struct gtid_mariadb_set *s)
{
    free(s->pos);
    s->pos = NULL;
    s->n = s->cap = 0;
}

void gtid__mdb_clear(struct gtid_mariadb_set *s)
{
    s->n = 0;
}

/* The union rule on one domain: true when x beats y. Lexicographic on
 * (seq, server) so that union is commutative and associative. */
static bool beats(const struct gtid_mariadb_gtid *x, const struct gtid_mariadb_gtid *y)
{
    return x->seq > y->seq || (x->seq == y->seq && x->server > y->server);
}

static int cmp_domain(const void *x, const void *y)
{
    const struct gtid_mariadb_gtid *a = x, *b = y;
    if (a->domain != b->domain)
        return a->domain < b->domain ? -1 : 1;
    /* Ties ordered by the union rule, winner last, so folding keeps the last. */
    if (beats(a, b))
        return 1;
    return beats(b, a) ? -1 : 0;
}

/* Reads decimal digits at t[*i] into *v, at most max; 0 or PROTO_EBAD. */
static int parse_num(const char *t, size_t n, size_t *i, uint64_t max, uint64_t *v)
{
    size_t j = *i;
    uint64_t x = 0;
    if (j >= n || !gtid__is_digit(t[j]))
        return PROTO_EBAD;
    while (j < n && gtid__is_digit(t[j])) {
        unsigned d = (unsigned)(t[j] - '0');
        if (x > (max - d) / 10) {
            *i = j;
            return PROTO_EBAD;
        }
        x = x * 10 + d;
        j++;
    }
    *i = j;
    *v = x;
    return PROTO_OK;
}

static int parse_gtid(const char *t, size_t n, size_t *i, struct gtid_mariadb_gtid *g)
{
    uint64_t d, s, q;
    if (parse_num(t, n, i, UINT32_MAX, &d) != PROTO_OK)
        return PROTO_EBAD;
    if (*i >= n || t[*i] != '-')
        return PROTO_EBAD;
    (*i)++;
    if (parse_num(t, n, i, UINT32_MAX, &s) != PROTO_OK)
        return PROTO_EBAD;
    if (*i >= n || t[*i] != '-')
        return PROTO_EBAD;
    (*i)++;
    if (parse_num(t, n, i, UINT64_MAX, &q) != PROTO_OK)
        return PROTO_EBAD;
    g->domain = (uint32_t)d;
    g->server = (uint32_t)s;
    g->seq = q;
    return PROTO_OK;
}

/* Sorts s->pos and folds duplicate domains (the winner sorts last). */
static void normalize(struct gtid_mariadb_set *s)
{
    gtid__sort(s->pos, s->n, sizeof *s->pos, cmp_domain);
    uint32_t w = 0;
    for (uint32_t r = 0; r < s->n; r++) {
        if (w > 0 && s->pos[w - 1].domain == s->pos[r].domain)
            s->pos[w - 1] = s->pos[r];
        else
            s->pos[w++] = s->pos[r];
    }
    s->n = w;
}

int gtid__mdb_parse(struct gtid_mariadb_set *s, const char *t, size_t n, size_t *err_off)
{
    size_t i = 0;
    int rc = PROTO_OK;
    s->n = 0;
    if (n > GTID_TEXT_MAX) {
        rc = PROTO_ETOOBIG;
        goto fail;
    }
    i = gtid__skip_space(t, n, 0);
    if (i == n)
        return PROTO_OK;
    for (;;) {
        struct gtid_mariadb_gtid g;
        if ((rc = parse_gtid(t, n, &i, &g)) != PROTO_OK)
            goto fail;
        /* Raw entries (duplicates included) count against the limit, so the
         * array never outgrows it while parsing. */
        if (s->n >= GTID_MARIADB_MAX_DOMAINS) {
            rc = PROTO_ETOOBIG;
            goto fail;
        }
        if ((rc = gtid__grow((void **)&s->pos, &s->cap, s->n + 1, sizeof *s->pos)) != PROTO_OK)
            goto fail;
        s->pos[s->n++] = g;
        i = gtid__skip_space(t, n, i);
        if (i == n)
            break;
        if (t[i] != ',') {
            rc = PROTO_EBAD;
            goto fail;
        }
        i = gtid__skip_space(t, n, i + 1);
        if (i == n) { /* trailing comma: the server rejects it too */
            rc = PROTO_EBAD;
            goto fail;
        }
    }
    normalize(s);
    return PROTO_OK;
fail:
    s->n = 0;
    if (err_off)
        *err_off = i;
    return rc;
}

void gtid__mdb_format(const struct gtid_mariadb_set *s, struct proto_wr *w)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (i > 0)
            proto_wr_u8(w, ',');
        gtid__wr_u64(w, s->pos[i].domain);
        proto_wr_u8(w, '-');
        gtid__wr_u64(w, s->pos[i].server);
        proto_wr_u8(w, '-');
        gtid__wr_u64(w, s->pos[i].seq);
    }
}

size_t gtid__mdb_format_len(const struct gtid_mariadb_set *s)
{
    size_t len = s->n ? s->n - 1 : 0;
    for (uint32_t i = 0; i < s->n; i++)
        len += gtid__u64_len(s->pos[i].domain) + gtid__u64_len(s->pos[i].server) +
               gtid__u64_len(s->pos[i].seq) + 2;
    return len;
}

bool gtid__mdb_equal(const struct gtid_mariadb_set *a, const struct gtid_mariadb_set *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->pos[i].domain != b->pos[i].domain || a->pos[i].server != b->pos[i].server ||
            a->pos[i].seq != b->pos[i].seq)
            return false;
    return true;
}

/* Index of domain d in s, or -1. */
static long find_domain(const struct gtid_mariadb_set *s, uint32_t d)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->pos[mid].domain < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->pos[lo].domain == d ? (long)lo : -1;
}

/* Sequence number a has reached in domain d; 0 when a lacks the domain. */
static uint64_t seq_in(const struct gtid_mariadb_set *a, uint32_t d)
{
    long k = find_domain(a, d);
    return k < 0 ? 0 : a->pos[k].seq;
}

bool gtid__mdb_contains(const struct gtid_mariadb_set *a, const struct gtid_mariadb_set *b)
{
    for (uint32_t i = 0; i < b->n; i++)
        if (seq_in(a, b->pos[i].domain) < b->pos[i].seq)
            return false;
    return true;
}

uint64_t gtid__mdb_missing(const struct gtid_mariadb_set *a, const struct gtid_mariadb_set *b)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        uint64_t have = seq_in(a, b->pos[i].domain);
        if (have < b->pos[i].seq)
            sum = gtid__sat_add(sum, b->pos[i].seq - have);
    }
    return sum;
}

int gtid__mdb_union(struct gtid_mariadb_set *a, const struct gtid_mariadb_set *b)
{
    /* Size of the result first, so a fails before it changes. */
    uint32_t fresh = 0;
    for (uint32_t i = 0; i < b->n; i++)
        if (find_domain(a, b->pos[i].domain) < 0)
            fresh++;
    if (a->n + fresh > GTID_MARIADB_MAX_DOMAINS)
        return PROTO_ETOOBIG;
    int rc = gtid__grow((void **)&a->pos, &a->cap, a->n + fresh, sizeof *a->pos);
    if (rc != PROTO_OK)
        return rc;
    /* Merge from the back: the write index never falls below a's read index. */
    uint32_t i = a->n, j = b->n, k = a->n + fresh;
    while (j > 0) {
        const struct gtid_mariadb_gtid *y = &b->pos[j - 1];
        if (i > 0 && a->pos[i - 1].domain > y->domain) {
            a->pos[--k] = a->pos[--i];
        } else if (i > 0 && a->pos[i - 1].domain == y->domain) {
            struct gtid_mariadb_gtid x = a->pos[--i];
            a->pos[--k] = beats(y, &x) ? *y : x;
            j--;
        } else {
            a->pos[--k] = *y;
            j--;
        }
    }
    /* Whatever remains of a is already in place (k == i). */
    a->n += fresh;
    return PROTO_OK;
}

int gtid__mdb_copy(struct gtid_mariadb_set *dst, const struct gtid_mariadb_set *src)
{
    int rc = gtid__grow((void **)&dst->pos, &dst->cap, src->n, sizeof *dst->pos);
    if (rc != PROTO_OK)
        return rc;
    if (src->n)
        memcpy(dst->pos, src->pos, (size_t)src->n * sizeof *src->pos);
    dst->n = src->n;
    return PROTO_OK;
}

int gtid__mdb_add(struct gtid_mariadb_set *s, const struct gtid_mariadb_gtid *g)
{
    struct gtid_mariadb_set one = {(struct gtid_mariadb_gtid *)g, 1, 1};
    return gtid__mdb_union(s, &one);
}
