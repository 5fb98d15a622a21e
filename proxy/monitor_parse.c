/*
 * monitor_parse.c - the monitor's pure decisions (monitor_parse.h): flavor
 * from a version string, the SQL per flavor, and SHOW SLAVE|REPLICA STATUS
 * rows folded into "replicating" and a lag.
 */
#include "monitor_parse.h"

#include <string.h>

enum gtid_flavor mon_flavor_of_version(const char *version)
{
    return version && strstr(version, "MariaDB") ? GTID_FLAVOR_MARIADB : GTID_FLAVOR_MYSQL;
}

const char *mon_sql_applied(enum gtid_flavor f, bool primary)
{
    if (f != GTID_FLAVOR_MARIADB)
        return "SELECT @@GLOBAL.gtid_executed";
    /* A MariaDB primary's commits are in its binlog before their OK reaches
     * the client (the binlog is the commit log), so @@gtid_binlog_pos covers
     * every write a client has seen acknowledged. Its @@gtid_slave_pos is
     * empty or left over from a time it replicated, and @@gtid_current_pos
     * mixes the two. A replica's applied set is @@gtid_slave_pos: that is
     * what MASTER_GTID_WAIT compares with (PROTOCOL.md 5.2). */
    return primary ? "SELECT @@gtid_binlog_pos" : "SELECT @@gtid_slave_pos";
}

const char *mon_sql_repl_status(enum gtid_flavor f)
{
    return f == GTID_FLAVOR_MARIADB ? "SHOW SLAVE STATUS" : "SHOW REPLICA STATUS";
}

void mon_repl_cols_init(struct mon_repl_cols *c)
{
    c->io = c->sql = c->lag = -1;
}

void mon_repl_cols_note(struct mon_repl_cols *c, int idx, const char *name)
{
    if (!name)
        return;
    if (strcmp(name, "Replica_IO_Running") == 0 || strcmp(name, "Slave_IO_Running") == 0)
        c->io = idx;
    else if (strcmp(name, "Replica_SQL_Running") == 0 || strcmp(name, "Slave_SQL_Running") == 0)
        c->sql = idx;
    else if (strcmp(name, "Seconds_Behind_Source") == 0 ||
             strcmp(name, "Seconds_Behind_Master") == 0)
        c->lag = idx;
}

void mon_repl_status_init(struct mon_repl_status *st)
{
    st->rows = 0;
    st->replicating = false;
    st->applying = false;
    st->receiving = false;
    st->lag_ms = -1;
}

int64_t mon_lag_ms(const char *seconds)
{
    if (!seconds || !*seconds)
        return -1;
    int64_t s = 0;
    for (const char *p = seconds; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (s < MON_LAG_MAX_S)
            s = s * 10 + (*p - '0');
    }
    if (s > MON_LAG_MAX_S)
        s = MON_LAG_MAX_S;
    return s * 1000;
}

static const char *cell(const char *const *row, size_t n, int idx)
{
    return idx >= 0 && (size_t)idx < n ? row[idx] : NULL;
}

static bool is_yes(const char *v)
{
    return v && strcmp(v, "Yes") == 0;
}

void mon_repl_status_add(struct mon_repl_status *st, const struct mon_repl_cols *c,
                         const char *const *row, size_t n)
{
    bool applying = is_yes(cell(row, n, c->sql));
    bool receiving = is_yes(cell(row, n, c->io));
    bool running = receiving && applying;
    int64_t lag = mon_lag_ms(cell(row, n, c->lag));
    if (st->rows == 0) {
        st->replicating = running;
        st->applying = applying;
        st->receiving = receiving;
        st->lag_ms = lag;
    } else {
        st->replicating = st->replicating && running;
        st->applying = st->applying && applying;
        st->receiving = st->receiving && receiving;
        /* One channel of unknown lag makes the whole lag unknown. */
        st->lag_ms = st->lag_ms < 0 || lag < 0 ? -1 : (lag > st->lag_ms ? lag : st->lag_ms);
    }
    st->rows++;
}
