/*
 * gtid_internal.h - helpers shared by gtid_set.c (the flavor dispatch),
 * gtid_mysql.c and gtid_mariadb.c. Not a public header: the proxy uses
 * include/gtidproxy/gtid_set.h only.
 */
#ifndef GTIDPROXY_GTID_INTERNAL_H
#define GTIDPROXY_GTID_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/gtid_set.h"

/* The whitespace MySQL's SKIP_WHITESPACE skips (isspace in the C locale). */
static inline bool gtid__is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline size_t gtid__skip_space(const char *t, size_t n, size_t i)
{
    while (i < n && gtid__is_space(t[i]))
        i++;
    return i;
}

static inline bool gtid__is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Grows *p (elements of elem bytes) to hold at least need, doubling; the
 * content is kept. 0 or GTID_ENOMEM; on failure nothing changed. */
int gtid__grow(void **p, uint32_t *cap, uint32_t need, size_t elem);

/* In-place heap sort (no allocation, O(n log n) even on hostile input);
 * returns at once when the array is already sorted, the common case. */
void gtid__sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* Decimal digits of v (1..20) and writing them. */
size_t gtid__u64_len(uint64_t v);
void gtid__wr_u64(struct proto_wr *w, uint64_t v);

static inline uint64_t gtid__sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* MySQL flavor (gtid_mysql.c). */
void gtid__my_free(struct gtid_mysql_set *s);
void gtid__my_clear(struct gtid_mysql_set *s);
int gtid__my_parse(struct gtid_mysql_set *s, const char *t, size_t n, size_t *err_off);
void gtid__my_format(const struct gtid_mysql_set *s, struct proto_wr *w);
size_t gtid__my_format_len(const struct gtid_mysql_set *s);
bool gtid__my_equal(const struct gtid_mysql_set *a, const struct gtid_mysql_set *b);
bool gtid__my_contains(const struct gtid_mysql_set *a, const struct gtid_mysql_set *b);
uint64_t gtid__my_missing(const struct gtid_mysql_set *a, const struct gtid_mysql_set *b);
int gtid__my_union(struct gtid_mysql_set *a, const struct gtid_mysql_set *b);
int gtid__my_copy(struct gtid_mysql_set *dst, const struct gtid_mysql_set *src);
int gtid__my_add(struct gtid_mysql_set *s, const struct gtid_tsid *tsid, uint64_t gno);

/* MariaDB flavor (gtid_mariadb.c). */
void gtid__mdb_free(struct gtid_mariadb_set *s);
void gtid__mdb_clear(struct gtid_mariadb_set *s);
int gtid__mdb_parse(struct gtid_mariadb_set *s, const char *t, size_t n, size_t *err_off);
void gtid__mdb_format(const struct gtid_mariadb_set *s, struct proto_wr *w);
size_t gtid__mdb_format_len(const struct gtid_mariadb_set *s);
bool gtid__mdb_equal(const struct gtid_mariadb_set *a, const struct gtid_mariadb_set *b);
bool gtid__mdb_contains(const struct gtid_mariadb_set *a, const struct gtid_mariadb_set *b);
uint64_t gtid__mdb_missing(const struct gtid_mariadb_set *a, const struct gtid_mariadb_set *b);
int gtid__mdb_union(struct gtid_mariadb_set *a, const struct gtid_mariadb_set *b);
int gtid__mdb_copy(struct gtid_mariadb_set *dst, const struct gtid_mariadb_set *src);
int gtid__mdb_add(struct gtid_mariadb_set *s, const struct gtid_mariadb_gtid *g);

#endif
