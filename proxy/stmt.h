/*
 * stmt.h - a session's prepared statements (binary protocol): the id the
 * client was given, and for each backend connection the id that server gave
 * when the statement was prepared there.
 *
 *   client PREPARE ──▶ backend A (PREPARE_OK id 7) ──▶ client sees id 1
 *   client EXECUTE 1 on backend B ──▶ prepared on B first (id 3), EXECUTE 3
 *
 * A statement is prepared on a backend the first time it runs there; the
 * client's own PREPARE chose the first one (a replica for a proven read, the
 * primary otherwise). Server ids are tied to a backend connection by its
 * serial number, so a reconnected backend prepares again.
 */
#ifndef GTIDPROXY_STMT_H
#define GTIDPROXY_STMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pstmt_srv {
    uint64_t serial; /* the backend connection that holds id (0: none) */
    uint32_t id;
    bool types_sent; /* that server statement has seen the parameter types */
};

#define PSTMT_NONE ((size_t)-1)

struct pstmt {
    uint32_t id; /* client-visible */
    bool read;   /* the text is a proven read */
    char *sql;   /* the text, to prepare it on another backend; NULL if over 16 MB */
    size_t sql_len;
    uint16_t num_params;
    uint8_t *types;        /* 2 * num_params bytes from the last EXECUTE that bound them */
    size_t home;           /* backend index of the client's PREPARE */
    size_t last_be;        /* where the last EXECUTE ran (FETCH, RESET go there) */
    size_t long_data_be;   /* where SEND_LONG_DATA went since the last EXECUTE */
    bool long_data_lost;   /* a SEND_LONG_DATA was refused (9011): so is the EXECUTE */
    struct pstmt_srv *srv; /* [n_be] */
};

struct pstmt_map {
    struct pstmt **v; /* sorted by id (ids only grow, so appends keep order) */
    size_t n, cap;
    uint32_t next_id;
    size_t n_be;
};

void pstmt_map_init(struct pstmt_map *m, size_t n_backends);
/* Forgets every statement (COM_RESET_CONNECTION, COM_CHANGE_USER). */
void pstmt_map_clear(struct pstmt_map *m);
void pstmt_map_free(struct pstmt_map *m);

/* Adds a statement with a fresh client id; NULL when out of memory. sql
 * may be NULL (not re-preparable). */
struct pstmt *pstmt_add(struct pstmt_map *m, const char *sql, size_t len, bool read,
                        uint16_t num_params, size_t home);
struct pstmt *pstmt_find(struct pstmt_map *m, uint32_t id);
void pstmt_remove(struct pstmt_map *m, uint32_t id);

/* The server id on backend idx's connection `serial`, 0 when not prepared there. */
uint32_t pstmt_srv_id(const struct pstmt *p, size_t idx, uint64_t serial);
void pstmt_set_srv(struct pstmt *p, size_t idx, uint64_t serial, uint32_t id);

/* Remembers the parameter types an EXECUTE bound. Returns 0 or -1. */
int pstmt_set_types(struct pstmt *p, const uint8_t *types, size_t len)
    __attribute__((warn_unused_result));

#endif
