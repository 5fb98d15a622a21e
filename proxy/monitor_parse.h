/*
 * monitor_parse.h - the monitor's pure decisions, apart from its I/O so unit
 * tests can drive both flavors (no MySQL server runs in CI): which flavor a
 * version string names, which SQL asks each flavor what it has applied and
 * how its replication runs, and what a SHOW SLAVE|REPLICA STATUS result
 * says about replication threads and lag.
 *
 *   MariaDB  SHOW SLAVE STATUS     Slave_IO_Running, Slave_SQL_Running, Seconds_Behind_Master
 *   MySQL    SHOW REPLICA STATUS   Replica_IO_Running, Replica_SQL_Running, Seconds_Behind_Source
 *            (8.0.22+; older MySQL and MariaDB's SHOW REPLICA STATUS alias print the
 *             Slave_ / _Master names, so both spellings are accepted for either flavor)
 *
 * Columns are found by name, never by position: their order differs between
 * flavors and versions. A status result has one row per replication channel
 * (MySQL) or for the default connection (MariaDB); no row means the server
 * does not replicate.
 */
#ifndef GTIDPROXY_MONITOR_PARSE_H
#define GTIDPROXY_MONITOR_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/gtid_set.h"

/* MariaDB when the version string contains "MariaDB" (e.g.
 * "10.11.6-MariaDB-0+deb12u1-log"), MySQL otherwise ("8.4.0"). NULL: MySQL. */
enum gtid_flavor mon_flavor_of_version(const char *version);

/*
 * The query whose single value is the set a backend has applied:
 *   MariaDB replica  SELECT @@gtid_slave_pos   (what MASTER_GTID_WAIT compares with)
 *   MariaDB primary  SELECT @@gtid_binlog_pos  (what it has committed)
 *   MySQL, either    SELECT @@GLOBAL.gtid_executed
 */
const char *mon_sql_applied(enum gtid_flavor f, bool primary);
/* SHOW SLAVE STATUS (MariaDB) / SHOW REPLICA STATUS (MySQL). */
const char *mon_sql_repl_status(enum gtid_flavor f);

/* Where the columns we read sit in a status result; -1 = absent. */
struct mon_repl_cols {
    int io, sql, lag;
};

void mon_repl_cols_init(struct mon_repl_cols *c);
/* Column idx of the result is called name: remembers it if it is one of ours. */
void mon_repl_cols_note(struct mon_repl_cols *c, int idx, const char *name);

/* What the rows of a status result say, folded over every row. */
struct mon_repl_status {
    size_t rows;
    bool replicating; /* rows > 0 and every row's IO and SQL threads are "Yes" */
    bool applying;    /* rows > 0 and every row's SQL thread is "Yes" */
    bool receiving;   /* rows > 0 and every row's IO thread is "Yes" */
    int64_t lag_ms;   /* the largest row's lag; -1 when no row, or any row's is NULL/absent */
};

void mon_repl_status_init(struct mon_repl_status *st);
/* Folds in one row of n values (NULL = SQL NULL). A row without the IO or
 * SQL column (a server we do not understand) counts as not replicating. */
void mon_repl_status_add(struct mon_repl_status *st, const struct mon_repl_cols *c,
                         const char *const *row, size_t n);

/* Seconds_Behind_Master/_Source text to milliseconds: -1 for NULL, empty or
 * anything but decimal digits (the server prints an unsigned number or
 * NULL); more than MON_LAG_MAX_S seconds saturates there, so a huge lag
 * still counts as over any limit instead of as unknown. */
#define MON_LAG_MAX_S ((int64_t)1 << 40) /* ~35,000 years; * 1000 fits int64 easily */
int64_t mon_lag_ms(const char *seconds);

#endif
