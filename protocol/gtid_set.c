/*
 * gtid_set.c - the flavor-tagged GTID set (include/gtidproxy/gtid_set.h):
 * dispatch to gtid_mysql.c / gtid_mariadb.c, flavor names, and the small
 * helpers both flavors share (growth, sorting, decimal output).
 */
#include "gtid_internal.h"

#include <stdlib.h>
#include <string.h>

const char *gtid_flavor_name(enum gtid_flavor f)
{
    switch (f) {
#define GTID_FLAVOR_CASE(name, text)                                           \
    case name:                                                                 \
        return text;
        GTID_FLAVOR_LIST(GTID_FLAVOR_CASE)
#undef GTID_FLAVOR_CASE
    }
    return "unknown";
}

const char *gtid_status_str(int status)
{
    if (status == GTID_ENOMEM)
        return "out of memory";
    return proto_status_str(status);
}

int gtid__grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return PROTO_OK;
    /* Limits keep need far below 2^31, so doubling cannot overflow. */
    uint32_t nc = *cap ? *cap : 4;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q)
        return GTID_ENOMEM;
    *p = q;
    *cap = nc;
    return PROTO_OK;
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
                      int (*cmp)(const void *, const void *))
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
            child++;
        if (cmp(base + root * size, base + child * size) >= 0)
            return;
        swap_bytes(base + root * size, base + child * size, size);
        root = child;
    }
}

void gtid__sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    unsigned char *b = base;
    size_t i;
    for (i = 1; i < n; i++)
        if (cmp(b + (i - 1) * size, b + i * size) > 0)
            break;
    if (i >= n)
        return;
    for (i = n / 2; i-- > 0;)
        sift_down(b, i, n, size, cmp);
    for (i = n; i-- > 1;) {
        swap_bytes(b, b + i * size, size);
        sift_down(b, 0, i, size, cmp);
    }
}

size_t gtid__u64_len(uint64_t v)
{
    size_t len = 1;
    while (v >= 10) {
        v /= 10;
        len++;
    }
    return len;
}

void gtid__wr_u64(struct proto_wr *w, uint64_t v)
{
    char buf[20];
    size_t i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    proto_wr_bytes(w, buf + i, sizeof buf - i);
}

void gtid_set_init(struct gtid_set *s, enum gtid_flavor f)
{
    memset(s, 0, sizeof *s);
    s->flavor = f;
}

void gtid_set_free(struct gtid_set *s)
{
    if (s->flavor == GTID_FLAVOR_MYSQL)
        gtid__my_free(&s->u.my);
    else
        gtid__mdb_free(&s->u.mdb);
    gtid_set_init(s, s->flavor);
}

void gtid_set_clear(struct gtid_set *s)
{
    if (s->flavor == GTID_FLAVOR_MYSQL)
        gtid__my_clear(&s->u.my);
    else
        gtid__mdb_clear(&s->u.mdb);
}

int gtid_set_parse(struct gtid_set *s, const char *text, size_t len, size_t *err_off)
{
    if (err_off)
        *err_off = 0;
    if (s->flavor == GTID_FLAVOR_MYSQL)
        return gtid__my_parse(&s->u.my, text, len, err_off);
    return gtid__mdb_parse(&s->u.mdb, text, len, err_off);
}

void gtid_set_format(const struct gtid_set *s, struct proto_wr *w)
{
    if (s->flavor == GTID_FLAVOR_MYSQL)
        gtid__my_format(&s->u.my, w);
    else
        gtid__mdb_format(&s->u.mdb, w);
}

size_t gtid_set_format_len(const struct gtid_set *s)
{
    if (s->flavor == GTID_FLAVOR_MYSQL)
        return gtid__my_format_len(&s->u.my);
    return gtid__mdb_format_len(&s->u.mdb);
}

char *gtid_set_text(const struct gtid_set *s, size_t *len)
{
    size_t n = gtid_set_format_len(s);
    char *text = malloc(n + 1);
    if (!text)
        return NULL;
    struct proto_wr w;
    proto_wr_init(&w, text, n);
    gtid_set_format(s, &w);
    if (proto_wr_finish(&w) != PROTO_OK) { /* format_len is exact: cannot happen */
        free(text);
        return NULL;
    }
    text[w.len] = '\0';
    if (len)
        *len = w.len;
    return text;
}

bool gtid_set_is_empty(const struct gtid_set *s)
{
    return s->flavor == GTID_FLAVOR_MYSQL ? s->u.my.n == 0 : s->u.mdb.n == 0;
}

bool gtid_set_equal(const struct gtid_set *a, const struct gtid_set *b)
{
    if (a->flavor != b->flavor)
        return false;
    if (a->flavor == GTID_FLAVOR_MYSQL)
        return gtid__my_equal(&a->u.my, &b->u.my);
    return gtid__mdb_equal(&a->u.mdb, &b->u.mdb);
}

bool gtid_set_contains(const struct gtid_set *a, const struct gtid_set *b)
{
    if (a->flavor != b->flavor)
        return false;
    if (a->flavor == GTID_FLAVOR_MYSQL)
        return gtid__my_contains(&a->u.my, &b->u.my);
    return gtid__mdb_contains(&a->u.mdb, &b->u.mdb);
}

uint64_t gtid_set_missing(const struct gtid_set *a, const struct gtid_set *b)
{
    if (a->flavor != b->flavor)
        return UINT64_MAX;
    if (a->flavor == GTID_FLAVOR_MYSQL)
        return gtid__my_missing(&a->u.my, &b->u.my);
    return gtid__mdb_missing(&a->u.mdb, &b->u.mdb);
}

int gtid_set_union(struct gtid_set *a, const struct gtid_set *b)
{
    if (a->flavor != b->flavor)
        return PROTO_EUNSUPPORTED;
    if (a == b)
        return PROTO_OK;
    if (a->flavor == GTID_FLAVOR_MYSQL)
        return gtid__my_union(&a->u.my, &b->u.my);
    return gtid__mdb_union(&a->u.mdb, &b->u.mdb);
}

int gtid_set_copy(struct gtid_set *dst, const struct gtid_set *src)
{
    if (dst == src)
        return PROTO_OK;
    if (dst->flavor != src->flavor) {
        /* Different storage: start over in the source's flavor. */
        gtid_set_free(dst);
        gtid_set_init(dst, src->flavor);
    }
    if (src->flavor == GTID_FLAVOR_MYSQL)
        return gtid__my_copy(&dst->u.my, &src->u.my);
    return gtid__mdb_copy(&dst->u.mdb, &src->u.mdb);
}

int gtid_mysql_add(struct gtid_set *s, const struct gtid_tsid *tsid, uint64_t gno)
{
    if (s->flavor != GTID_FLAVOR_MYSQL)
        return PROTO_EUNSUPPORTED;
    return gtid__my_add(&s->u.my, tsid, gno);
}

int gtid_mariadb_add(struct gtid_set *s, uint32_t domain, uint32_t server, uint64_t seq)
{
    if (s->flavor != GTID_FLAVOR_MARIADB)
        return PROTO_EUNSUPPORTED;
    struct gtid_mariadb_gtid g = {domain, server, seq};
    return gtid__mdb_add(&s->u.mdb, &g);
}
