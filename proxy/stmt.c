/*
 * stmt.c - a session's prepared-statement map (stmt.h).
 */
#include "stmt.h"

#include <stdlib.h>
#include <string.h>

void pstmt_map_init(struct pstmt_map *m, size_t n_backends)
{
    memset(m, 0, sizeof *m);
    m->n_be = n_backends;
}

static void pstmt_free(struct pstmt *p)
{
    free(p->sql);
    free(p->types);
    free(p->srv);
    free(p);
}

void pstmt_map_clear(struct pstmt_map *m)
{
    for (size_t i = 0; i < m->n; i++)
        pstmt_free(m->v[i]);
    m->n = 0;
}

void pstmt_map_free(struct pstmt_map *m)
{
    pstmt_map_clear(m);
    free(m->v);
    m->v = NULL;
    m->cap = 0;
}

struct pstmt *pstmt_add(struct pstmt_map *m, const char *sql, size_t len, bool read,
                        uint16_t num_params, size_t home)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        struct pstmt **v = realloc(m->v, cap * sizeof *v);
        if (!v)
            return NULL;
        m->v = v;
        m->cap = cap;
    }
    struct pstmt *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->srv = calloc(m->n_be, sizeof *p->srv);
    p->sql = sql ? malloc(len + 1) : NULL;
    if (!p->srv || (sql && !p->sql)) {
        pstmt_free(p);
        return NULL;
    }
    if (sql) {
        memcpy(p->sql, sql, len);
        p->sql[len] = '\0';
        p->sql_len = len;
    }
    p->id = ++m->next_id;
    if (p->id == 0) /* 2^32 statements later: 0 is never an id */
        p->id = ++m->next_id;
    p->read = read;
    p->num_params = num_params;
    p->home = p->last_be = home;
    p->long_data_be = PSTMT_NONE;
    m->v[m->n++] = p;
    return p;
}

static size_t index_of(const struct pstmt_map *m, uint32_t id, bool *found)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->v[mid]->id == id) {
            *found = true;
            return mid;
        }
        if (m->v[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

struct pstmt *pstmt_find(struct pstmt_map *m, uint32_t id)
{
    bool found;
    size_t i = index_of(m, id, &found);
    return found ? m->v[i] : NULL;
}

void pstmt_remove(struct pstmt_map *m, uint32_t id)
{
    bool found;
    size_t i = index_of(m, id, &found);
    if (!found)
        return;
    pstmt_free(m->v[i]);
    memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof m->v[0]);
    m->n--;
}

uint32_t pstmt_srv_id(const struct pstmt *p, size_t idx, uint64_t serial)
{
    return serial && p->srv[idx].serial == serial ? p->srv[idx].id : 0;
}

void pstmt_set_srv(struct pstmt *p, size_t idx, uint64_t serial, uint32_t id)
{
    p->srv[idx] = (struct pstmt_srv){.serial = serial, .id = id};
}

int pstmt_set_types(struct pstmt *p, const uint8_t *types, size_t len)
{
    if (!p->types) {
        p->types = malloc(len ? len : 1);
        if (!p->types)
            return -1;
    }
    memcpy(p->types, types, len);
    return 0;
}
