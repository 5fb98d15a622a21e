/*
 * gtid_mysql.c - MySQL GTID sets: per (uuid, tag) a sorted list of disjoint,
 * non-adjacent inclusive intervals (include/gtidproxy/gtid_set.h).
 *
 *   set      .run[0..n)  sorted by (uuid bytes, tag bytes; untagged first)
 *   run      .tsid  .iv[0..n)  sorted, iv[k].hi + 1 < iv[k+1].lo
 *   slots    run[n..cap) are spare heads that keep their iv buffers, so a
 *            cleared or re-parsed set reuses its memory
 *
 * Grammar accepted (mysql-server sql/rpl_gtid_set.cc Gtid_set::add_gtid_text,
 * libs/mysql/gtid/tsid.cpp, tag.cpp, uuid.cpp; PROTOCOL.md section 5.1):
 *
 *   set      := ws* [ uuid_set ( ws* ',' ws* uuid_set )* ] ws*
 *   uuid_set := uuid ws* ( ':' ws* ( tag | interval ) ws* )+
 *   interval := gno [ ws* '-' ws* gno ]        lo <= hi
 *   gno      := [1-9][0-9]*                     <= 2^63-2 (GNO_END exclusive)
 *   uuid     := 8-4-4-4-12 hex digits, any case
 *   tag      := [A-Za-z_][A-Za-z0-9_]{0,31}     stored lower case
 *
 * Intervals after a tag belong to (uuid, tag) until the next tag; intervals
 * before any tag are untagged. Whitespace is what SKIP_WHITESPACE skips.
 *
 * Stricter than the server, on purpose (we only need to read what servers
 * print and what applications hand in, and a misread set is worse than a
 * rejected one):
 * - numbers with a leading zero: the server reads them with strtoll base 0,
 *   so "u:010" means 8 there and "u:0x10" means 16; we refuse both forms;
 * - "u:5-3": the server silently drops a reversed interval; we reject it;
 * - empty items: a bare uuid, a tag with no interval after it ("u:t",
 *   "u:t1:t2:1"), a trailing, leading or doubled comma, all of which the
 *   server accepts as "nothing";
 * - the "+" prefix and "ANONYMOUS" some server paths allow.
 * Limits (GTID_TEXT_MAX, GTID_MYSQL_MAX_TSIDS, GTID_MYSQL_MAX_INTERVALS)
 * count the text as written, before equal tsids and touching intervals
 * merge, so parsing never holds more than the limits.
 */
#include "gtid_internal.h"

#include <stdlib.h>
#include <string.h>

#define UUID_TEXT_LEN 36

/* ---- tsid helpers ---------------------------------------------------- */

static int tsid_cmp(const struct gtid_tsid *a, const struct gtid_tsid *b)
{
    int c = memcmp(a->uuid, b->uuid, sizeof a->uuid);
    if (c)
        return c;
    size_t m = a->tag_len < b->tag_len ? a->tag_len : b->tag_len;
    c = m ? memcmp(a->tag, b->tag, m) : 0;
    if (c)
        return c;
    return (int)a->tag_len - (int)b->tag_len;
}

static int run_cmp(const void *x, const void *y)
{
    return tsid_cmp(&((const struct gtid_mysql_run *)x)->tsid,
                    &((const struct gtid_mysql_run *)y)->tsid);
}

static int iv_cmp(const void *x, const void *y)
{
    const struct gtid_interval *a = x, *b = y;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    return 0;
}

/* 36-char dashed uuid at t[0..36); false when malformed. */
static bool parse_uuid(const char *t, uint8_t out[16])
{
    size_t k = 0;
    for (size_t i = 0; i < UUID_TEXT_LEN;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (t[i] != '-')
                return false;
            i++;
            continue;
        }
        int h = proto_hex_digit(t[i]), l = proto_hex_digit(t[i + 1]);
        if (h < 0 || l < 0)
            return false;
        out[k++] = (uint8_t)(h << 4 | l);
        i += 2;
    }
    return true;
}

static void wr_uuid(struct proto_wr *w, const uint8_t u[16])
{
    static const char hex[] = "0123456789abcdef";
    char buf[UUID_TEXT_LEN];
    size_t o = 0;
    for (size_t k = 0; k < 16; k++) {
        if (k == 4 || k == 6 || k == 8 || k == 10)
            buf[o++] = '-';
        buf[o++] = hex[u[k] >> 4];
        buf[o++] = hex[u[k] & 15];
    }
    proto_wr_bytes(w, buf, sizeof buf);
}

static bool is_tag_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_tag_char(char c)
{
    return is_tag_start(c) || gtid__is_digit(c);
}

/* ---- set storage ----------------------------------------------------- */

void gtid__my_free(struct gtid_mysql_set *s)
{
    for (uint32_t i = 0; i < s->cap; i++)
        free(s->run[i].iv);
    free(s->run);
    memset(s, 0, sizeof *s);
}

void gtid__my_clear(struct gtid_mysql_set *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        s->run[i].n = 0;
    s->n = 0;
    s->n_iv = 0;
}

/* Room for need heads; new spare heads start without buffers. */
static int grow_runs(struct gtid_mysql_set *s, uint32_t need)
{
    uint32_t old = s->cap;
    int rc = gtid__grow((void **)&s->run, &s->cap, need, sizeof *s->run);
    if (rc == PROTO_OK && s->cap > old)
        memset(s->run + old, 0, (size_t)(s->cap - old) * sizeof *s->run);
    return rc;
}

static int grow_iv(struct gtid_mysql_run *r, uint32_t need)
{
    return gtid__grow((void **)&r->iv, &r->cap, need, sizeof *r->iv);
}

static void swap_runs(struct gtid_mysql_run *a, struct gtid_mysql_run *b)
{
    struct gtid_mysql_run t = *a;
    *a = *b;
    *b = t;
}

/* Index of the run for tsid, or where it would go (*found false). */
static uint32_t find_run(const struct gtid_mysql_set *s, const struct gtid_tsid *tsid, bool *found)
{
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = tsid_cmp(&s->run[mid].tsid, tsid);
        if (c < 0)
            lo = mid + 1;
        else if (c > 0)
            hi = mid;
        else {
            *found = true;
            return mid;
        }
    }
    *found = false;
    return lo;
}

/* First interval of r with hi + 1 >= x (the first one x can touch). */
static uint32_t first_touching(const struct gtid_interval *iv, uint32_t n, uint64_t x)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (iv[mid].hi + 1 < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Sorts and coalesces r's intervals in place; returns the new count. */
static uint32_t coalesce(struct gtid_mysql_run *r)
{
    gtid__sort(r->iv, r->n, sizeof *r->iv, iv_cmp);
    uint32_t w = 0;
    for (uint32_t k = 0; k < r->n; k++) {
        if (w > 0 && r->iv[k].lo <= r->iv[w - 1].hi + 1) {
            if (r->iv[k].hi > r->iv[w - 1].hi)
                r->iv[w - 1].hi = r->iv[k].hi;
        } else {
            r->iv[w++] = r->iv[k];
        }
    }
    r->n = w;
    return w;
}

/* ---- parse ----------------------------------------------------------- */

/* gno at t[*i]: [1-9][0-9]* up to GTID_MYSQL_GNO_MAX. */
static int parse_gno(const char *t, size_t n, size_t *i, uint64_t *v)
{
    size_t j = *i;
    uint64_t x = 0;
    if (j >= n || t[j] < '1' || t[j] > '9')
        return PROTO_EBAD; /* also "0", "010", "0x10", "+5", "-5" */
    while (j < n && gtid__is_digit(t[j])) {
        unsigned d = (unsigned)(t[j] - '0');
        if (x > (GTID_MYSQL_GNO_MAX - d) / 10) {
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

/* Appends a head for tsid at the end of s (unsorted; parse sorts later). */
static int append_run(struct gtid_mysql_set *s, const struct gtid_tsid *tsid)
{
    if (s->n >= GTID_MYSQL_MAX_TSIDS)
        return PROTO_ETOOBIG;
    int rc = grow_runs(s, s->n + 1);
    if (rc != PROTO_OK)
        return rc;
    struct gtid_mysql_run *r = &s->run[s->n++];
    r->tsid = *tsid;
    r->n = 0;
    return PROTO_OK;
}

static int append_iv(struct gtid_mysql_set *s, struct gtid_mysql_run *r, uint64_t lo, uint64_t hi)
{
    if (s->n_iv >= GTID_MYSQL_MAX_INTERVALS)
        return PROTO_ETOOBIG;
    int rc = grow_iv(r, r->n + 1);
    if (rc != PROTO_OK)
        return rc;
    r->iv[r->n].lo = lo;
    r->iv[r->n].hi = hi;
    r->n++;
    s->n_iv++;
    return PROTO_OK;
}

/* Sorts the heads, merges heads of equal tsid, sorts and coalesces each. */
static int normalize(struct gtid_mysql_set *s)
{
    gtid__sort(s->run, s->n, sizeof *s->run, run_cmp);
    uint32_t w = 0;
    for (uint32_t r = 1; r < s->n; r++) {
        struct gtid_mysql_run *dst = &s->run[w], *src = &s->run[r];
        if (tsid_cmp(&dst->tsid, &src->tsid) == 0) {
            int rc = grow_iv(dst, dst->n + src->n);
            if (rc != PROTO_OK)
                return rc;
            memcpy(dst->iv + dst->n, src->iv, (size_t)src->n * sizeof *src->iv);
            dst->n += src->n;
            src->n = 0;
        } else {
            w++;
            if (w != r)
                swap_runs(&s->run[w], &s->run[r]);
        }
    }
    if (s->n)
        s->n = w + 1;
    s->n_iv = 0;
    for (uint32_t r = 0; r < s->n; r++)
        s->n_iv += coalesce(&s->run[r]);
    return PROTO_OK;
}

int gtid__my_parse(struct gtid_mysql_set *s, const char *t, size_t n, size_t *err_off)
{
    size_t i = 0;
    int rc = PROTO_OK;
    gtid__my_clear(s);
    if (n > GTID_TEXT_MAX) {
        rc = PROTO_ETOOBIG;
        goto fail;
    }
    i = gtid__skip_space(t, n, 0);
    while (i < n) {
        struct gtid_tsid tsid;
        memset(&tsid, 0, sizeof tsid);
        if (n - i < UUID_TEXT_LEN || !parse_uuid(t + i, tsid.uuid)) {
            rc = PROTO_EBAD;
            goto fail;
        }
        i = gtid__skip_space(t, n, i + UUID_TEXT_LEN);
        if (i >= n || t[i] != ':') { /* a bare uuid is no set */
            rc = PROTO_EBAD;
            goto fail;
        }
        /* cur: head receiving intervals, NULL until the first one arrives,
         * so a uuid with only tagged intervals has no empty untagged head. */
        uint32_t cur = UINT32_MAX;
        while (i < n && t[i] == ':') {
            i = gtid__skip_space(t, n, i + 1);
            if (i < n && is_tag_start(t[i])) {
                if (tsid.tag_len > 0 && cur == UINT32_MAX) {
                    rc = PROTO_EBAD; /* previous tag had no interval */
                    goto fail;
                }
                size_t start = i;
                while (i < n && is_tag_char(t[i]))
                    i++;
                if (i - start > GTID_MYSQL_TAG_MAX) {
                    i = start;
                    rc = PROTO_EBAD;
                    goto fail;
                }
                tsid.tag_len = (uint8_t)(i - start);
                for (size_t k = 0; k < tsid.tag_len; k++) {
                    char c = t[start + k];
                    tsid.tag[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
                }
                cur = UINT32_MAX;
                i = gtid__skip_space(t, n, i);
                if (i >= n || t[i] != ':') {
                    rc = PROTO_EBAD; /* a tag must be followed by intervals */
                    goto fail;
                }
                continue;
            }
            uint64_t lo, hi;
            if ((rc = parse_gno(t, n, &i, &lo)) != PROTO_OK)
                goto fail;
            hi = lo;
            i = gtid__skip_space(t, n, i);
            if (i < n && t[i] == '-') {
                i = gtid__skip_space(t, n, i + 1);
                size_t at = i;
                if ((rc = parse_gno(t, n, &i, &hi)) != PROTO_OK)
                    goto fail;
                if (hi < lo) {
                    i = at;
                    rc = PROTO_EBAD;
                    goto fail;
                }
                i = gtid__skip_space(t, n, i);
            }
            if (cur == UINT32_MAX) {
                if ((rc = append_run(s, &tsid)) != PROTO_OK)
                    goto fail;
                cur = s->n - 1;
            }
            if ((rc = append_iv(s, &s->run[cur], lo, hi)) != PROTO_OK)
                goto fail;
        }
        if (cur == UINT32_MAX) { /* "u:" or a tag with nothing after it */
            rc = PROTO_EBAD;
            goto fail;
        }
        if (i >= n)
            break;
        if (t[i] != ',') {
            rc = PROTO_EBAD;
            goto fail;
        }
        i = gtid__skip_space(t, n, i + 1);
        if (i >= n) { /* trailing comma */
            rc = PROTO_EBAD;
            goto fail;
        }
    }
    if ((rc = normalize(s)) != PROTO_OK)
        goto fail;
    return PROTO_OK;
fail:
    gtid__my_clear(s);
    if (err_off)
        *err_off = i;
    return rc;
}

/* ---- format ---------------------------------------------------------- */

void gtid__my_format(const struct gtid_mysql_set *s, struct proto_wr *w)
{
    for (uint32_t r = 0; r < s->n; r++) {
        const struct gtid_mysql_run *run = &s->run[r];
        if (r == 0 || memcmp(run->tsid.uuid, s->run[r - 1].tsid.uuid, 16) != 0) {
            if (r > 0)
                proto_wr_u8(w, ',');
            wr_uuid(w, run->tsid.uuid);
        }
        if (run->tsid.tag_len) {
            proto_wr_u8(w, ':');
            proto_wr_bytes(w, run->tsid.tag, run->tsid.tag_len);
        }
        for (uint32_t k = 0; k < run->n; k++) {
            proto_wr_u8(w, ':');
            gtid__wr_u64(w, run->iv[k].lo);
            if (run->iv[k].hi != run->iv[k].lo) {
                proto_wr_u8(w, '-');
                gtid__wr_u64(w, run->iv[k].hi);
            }
        }
    }
}

size_t gtid__my_format_len(const struct gtid_mysql_set *s)
{
    size_t len = 0;
    for (uint32_t r = 0; r < s->n; r++) {
        const struct gtid_mysql_run *run = &s->run[r];
        if (r == 0 || memcmp(run->tsid.uuid, s->run[r - 1].tsid.uuid, 16) != 0)
            len += (r > 0) + UUID_TEXT_LEN;
        if (run->tsid.tag_len)
            len += 1 + run->tsid.tag_len;
        for (uint32_t k = 0; k < run->n; k++) {
            len += 1 + gtid__u64_len(run->iv[k].lo);
            if (run->iv[k].hi != run->iv[k].lo)
                len += 1 + gtid__u64_len(run->iv[k].hi);
        }
    }
    return len;
}

/* ---- queries --------------------------------------------------------- */

bool gtid__my_equal(const struct gtid_mysql_set *a, const struct gtid_mysql_set *b)
{
    if (a->n != b->n || a->n_iv != b->n_iv)
        return false;
    for (uint32_t r = 0; r < a->n; r++) {
        const struct gtid_mysql_run *x = &a->run[r], *y = &b->run[r];
        if (x->n != y->n || tsid_cmp(&x->tsid, &y->tsid) != 0)
            return false;
        for (uint32_t k = 0; k < x->n; k++)
            if (x->iv[k].lo != y->iv[k].lo || x->iv[k].hi != y->iv[k].hi)
                return false;
    }
    return true;
}

/* Does run a cover every interval of b? */
static bool run_contains(const struct gtid_mysql_run *a, const struct gtid_interval *b, uint32_t nb)
{
    uint32_t from = 0;
    for (uint32_t k = 0; k < nb; k++) {
        /* b is sorted, so the covering interval never lies before the last. */
        uint32_t p = from + first_touching(a->iv + from, a->n - from, b[k].lo + 1);
        if (p >= a->n || a->iv[p].lo > b[k].lo || a->iv[p].hi < b[k].hi)
            return false;
        from = p;
    }
    return true;
}

bool gtid__my_contains(const struct gtid_mysql_set *a, const struct gtid_mysql_set *b)
{
    for (uint32_t r = 0; r < b->n; r++) {
        bool found;
        uint32_t k = find_run(a, &b->run[r].tsid, &found);
        if (!found || !run_contains(&a->run[k], b->run[r].iv, b->run[r].n))
            return false;
    }
    return true;
}

/* |b \ a| for one tsid, saturating. a may be NULL (tsid absent). */
static uint64_t run_missing(const struct gtid_mysql_run *a, const struct gtid_mysql_run *b)
{
    uint64_t sum = 0;
    uint32_t p = 0;
    for (uint32_t k = 0; k < b->n; k++) {
        uint64_t lo = b->iv[k].lo, hi = b->iv[k].hi;
        uint64_t missing = hi - lo + 1;
        if (a) {
            /* a's intervals overlapping [lo, hi]; p only moves forward. */
            while (p < a->n && a->iv[p].hi < lo)
                p++;
            for (uint32_t q = p; q < a->n && a->iv[q].lo <= hi; q++) {
                uint64_t olo = a->iv[q].lo > lo ? a->iv[q].lo : lo;
                uint64_t ohi = a->iv[q].hi < hi ? a->iv[q].hi : hi;
                missing -= ohi - olo + 1;
            }
        }
        sum = gtid__sat_add(sum, missing);
    }
    return sum;
}

uint64_t gtid__my_missing(const struct gtid_mysql_set *a, const struct gtid_mysql_set *b)
{
    uint64_t sum = 0;
    for (uint32_t r = 0; r < b->n; r++) {
        bool found;
        uint32_t k = find_run(a, &b->run[r].tsid, &found);
        sum = gtid__sat_add(sum, run_missing(found ? &a->run[k] : NULL, &b->run[r]));
    }
    return sum;
}

/* ---- update ---------------------------------------------------------- */

/* Intervals of run a after merging in b (dry run). */
static uint32_t merged_count(const struct gtid_mysql_run *a, const struct gtid_interval *b,
                             uint32_t nb)
{
    uint32_t i = 0, j = 0, count = 0;
    uint64_t last_hi = 0;
    while (i < a->n || j < nb) {
        const struct gtid_interval *x;
        if (j >= nb || (i < a->n && a->iv[i].lo <= b[j].lo))
            x = &a->iv[i++];
        else
            x = &b[j++];
        if (count > 0 && x->lo <= last_hi + 1) {
            if (x->hi > last_hi)
                last_hi = x->hi;
        } else {
            count++;
            last_hi = x->hi;
        }
    }
    return count;
}

/* Adds [lo, hi] to r; r needs room for r->n + 1 unless it merges. */
static void insert_iv(struct gtid_mysql_run *r, uint64_t lo, uint64_t hi)
{
    uint32_t p = first_touching(r->iv, r->n, lo);
    uint32_t q = p;
    while (q < r->n && r->iv[q].lo <= hi + 1)
        q++;
    if (p == q) {
        memmove(r->iv + p + 1, r->iv + p, (size_t)(r->n - p) * sizeof *r->iv);
        r->iv[p].lo = lo;
        r->iv[p].hi = hi;
        r->n++;
        return;
    }
    if (r->iv[p].lo < lo)
        lo = r->iv[p].lo;
    if (r->iv[q - 1].hi > hi)
        hi = r->iv[q - 1].hi;
    r->iv[p].lo = lo;
    r->iv[p].hi = hi;
    memmove(r->iv + p + 1, r->iv + q, (size_t)(r->n - q) * sizeof *r->iv);
    r->n -= q - p - 1;
}

/*
 * Merges b into r; r->cap >= r->n + nb. r's intervals first move up by nb,
 * then the merged output is written from the front: after taking i of r's
 * and j of b's, at most i + j intervals were written, and r's next unread
 * one sits at nb + i >= i + j, so nothing unread is overwritten.
 */
static void merge_run(struct gtid_mysql_run *r, const struct gtid_interval *b, uint32_t nb)
{
    uint32_t na = r->n, i = 0, j = 0, w = 0;
    struct gtid_interval *v = r->iv;
    memmove(v + nb, v, (size_t)na * sizeof *v);
    while (i < na || j < nb) {
        struct gtid_interval x;
        if (j >= nb || (i < na && v[nb + i].lo <= b[j].lo))
            x = v[nb + i++];
        else
            x = b[j++];
        if (w > 0 && x.lo <= v[w - 1].hi + 1) {
            if (x.hi > v[w - 1].hi)
                v[w - 1].hi = x.hi;
        } else {
            v[w++] = x;
        }
    }
    r->n = w;
}

int gtid__my_union(struct gtid_mysql_set *a, const struct gtid_mysql_set *b)
{
    /* Pass 1: result size, checked against the limits before any change. */
    uint32_t fresh = 0;
    uint64_t total = a->n_iv;
    for (uint32_t r = 0; r < b->n; r++) {
        bool found;
        uint32_t k = find_run(a, &b->run[r].tsid, &found);
        if (!found) {
            fresh++;
            total += b->run[r].n;
        } else {
            total += merged_count(&a->run[k], b->run[r].iv, b->run[r].n);
            total -= a->run[k].n;
        }
    }
    if (a->n + fresh > GTID_MYSQL_MAX_TSIDS || total > GTID_MYSQL_MAX_INTERVALS)
        return PROTO_ETOOBIG;

    /* Pass 2: reserve every buffer; a failure here leaves a's content as it
     * was (only capacities grew). New heads take the spare slots in order. */
    int rc = grow_runs(a, a->n + fresh);
    if (rc != PROTO_OK)
        return rc;
    uint32_t spare = a->n;
    for (uint32_t r = 0; r < b->n; r++) {
        const struct gtid_mysql_run *y = &b->run[r];
        bool found;
        uint32_t k = find_run(a, &y->tsid, &found);
        if (!found)
            rc = grow_iv(&a->run[spare++], y->n);
        else if (!run_contains(&a->run[k], y->iv, y->n))
            rc = grow_iv(&a->run[k], a->run[k].n + (y->n == 1 ? 1 : y->n));
        if (rc != PROTO_OK)
            return rc;
    }

    /* Pass 3: merge; nothing below can fail. */
    uint32_t n_old = a->n;
    spare = n_old;
    for (uint32_t r = 0; r < b->n; r++) {
        const struct gtid_mysql_run *y = &b->run[r];
        bool found;
        /* a->n is still n_old: the search sees only the sorted heads. */
        uint32_t k = find_run(a, &y->tsid, &found);
        if (!found) {
            struct gtid_mysql_run *nr = &a->run[spare++];
            nr->tsid = y->tsid;
            memcpy(nr->iv, y->iv, (size_t)y->n * sizeof *y->iv);
            nr->n = y->n;
        } else if (!run_contains(&a->run[k], y->iv, y->n)) {
            if (y->n == 1)
                insert_iv(&a->run[k], y->iv[0].lo, y->iv[0].hi);
            else
                merge_run(&a->run[k], y->iv, y->n);
        }
    }
    a->n = n_old + fresh;
    if (fresh)
        gtid__sort(a->run, a->n, sizeof *a->run, run_cmp);
    a->n_iv = (uint32_t)total;
    return PROTO_OK;
}

int gtid__my_copy(struct gtid_mysql_set *dst, const struct gtid_mysql_set *src)
{
    int rc = grow_runs(dst, src->n);
    if (rc != PROTO_OK)
        return rc;
    for (uint32_t r = 0; r < src->n; r++)
        if ((rc = grow_iv(&dst->run[r], src->run[r].n)) != PROTO_OK)
            return rc;
    for (uint32_t r = src->n; r < dst->n; r++)
        dst->run[r].n = 0;
    for (uint32_t r = 0; r < src->n; r++) {
        dst->run[r].tsid = src->run[r].tsid;
        memcpy(dst->run[r].iv, src->run[r].iv, (size_t)src->run[r].n * sizeof *src->run[r].iv);
        dst->run[r].n = src->run[r].n;
    }
    dst->n = src->n;
    dst->n_iv = src->n_iv;
    return PROTO_OK;
}

int gtid__my_add(struct gtid_mysql_set *s, const struct gtid_tsid *tsid, uint64_t gno)
{
    if (gno < 1 || gno > GTID_MYSQL_GNO_MAX || tsid->tag_len > GTID_MYSQL_TAG_MAX)
        return PROTO_EBAD;
    for (size_t k = 0; k < tsid->tag_len; k++) {
        char c = tsid->tag[k];
        if (!((c >= 'a' && c <= 'z') || c == '_' || (k > 0 && gtid__is_digit(c))))
            return PROTO_EBAD; /* not canonical: upper case or bad grammar */
    }
    struct gtid_interval one = {gno, gno};
    struct gtid_mysql_run run;
    memset(&run, 0, sizeof run);
    run.tsid = *tsid;
    run.iv = &one;
    run.n = run.cap = 1;
    struct gtid_mysql_set b = {&run, 1, 1, 1};
    return gtid__my_union(s, &b);
}
