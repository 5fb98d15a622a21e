/*
 * fault_cluster.c - node processes, admin connections and the repair every
 * fault case's teardown runs (fault_cluster.h).
 */
#include "fault_cluster.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long a replica gets to catch up after the repair: a primary that was
 * restarted makes the IO threads reconnect (MASTER_CONNECT_RETRY=1 s). */
#define CATCH_UP_S 30

MYSQL *fault_node_admin(const struct cluster_env *env, int node, char *err, size_t errlen)
{
    MYSQL *m = mysql_init(NULL);
    if (!m) {
        snprintf(err, errlen, "mysql_init failed");
        return NULL;
    }
    unsigned ct = 5, io = CATCH_UP_S + 10;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &io);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &io);
    unsigned port = node == 0 ? env->primary_port : env->replica_ports[node - 1];
    if (!mysql_real_connect(m, env->host, env->admin_user, env->admin_password, NULL, port, NULL,
                            CLIENT_MULTI_STATEMENTS)) {
        snprintf(err, errlen, "node %d (port %u): %u %s", node, port, mysql_errno(m),
                 mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

unsigned fault_sql(MYSQL *m, const char *sql, char *err, size_t errlen)
{
    if (mysql_query(m, sql) != 0) {
        snprintf(err, errlen, "'%s': %u %s", sql, mysql_errno(m), mysql_error(m));
        return mysql_errno(m);
    }
    /* Drain every result of a multi-statement text. */
    int more;
    do {
        MYSQL_RES *res = mysql_store_result(m);
        if (res)
            mysql_free_result(res);
        more = mysql_next_result(m);
        if (more > 0) {
            snprintf(err, errlen, "'%s': %u %s", sql, mysql_errno(m), mysql_error(m));
            return mysql_errno(m);
        }
    } while (more == 0);
    return 0;
}

pid_t fault_node_pid(int node)
{
    const char *dir = getenv("GTIDPROXY_CLUSTER_DIR");
    if (!dir || !*dir)
        return 0;
    char path[512];
    snprintf(path, sizeof path, "%s/node%d/mariadbd.pid", dir, node);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

bool fault_node_alive(int node)
{
    pid_t pid = fault_node_pid(node);
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

bool fault_node_stopped(int node)
{
    pid_t pid = fault_node_pid(node);
    if (pid <= 0)
        return false;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* pid (comm) state ...: comm may hold spaces, the state follows the
     * last ')'. */
    char *close = strrchr(buf, ')');
    return close && close[1] == ' ' && (close[2] == 'T' || close[2] == 't');
}

int fault_cluster_sh(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s", GTIDPROXY_CLUSTER_SH, args);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "fault_cluster: '%s' exited with status %d\n", cmd, rc);
    return rc;
}

static const char *node_arg(int node, char *buf, size_t len)
{
    if (node == 0)
        snprintf(buf, len, "primary");
    else
        snprintf(buf, len, "replica%d", node);
    return buf;
}

/* The value of column `name` in the only row of res; NULL when absent. */
static const char *column(MYSQL_RES *res, MYSQL_ROW row, const char *name)
{
    unsigned n = mysql_num_fields(res);
    MYSQL_FIELD *f = mysql_fetch_fields(res);
    for (unsigned i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return row[i];
    return NULL;
}

/* 1: both replication threads run; 0: not; -1: cannot tell. */
static int replication_running(MYSQL *m, char *why, size_t len)
{
    if (mysql_query(m, "SHOW SLAVE STATUS") != 0) {
        snprintf(why, len, "SHOW SLAVE STATUS: %s", mysql_error(m));
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(m);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    if (!row) {
        snprintf(why, len, "SHOW SLAVE STATUS returned no row");
        if (res)
            mysql_free_result(res);
        return -1;
    }
    const char *io = column(res, row, "Slave_IO_Running");
    const char *sql = column(res, row, "Slave_SQL_Running");
    const char *err = column(res, row, "Last_SQL_Error");
    int ok = io && sql && strcmp(io, "Yes") == 0 && strcmp(sql, "Yes") == 0;
    snprintf(why, len, "IO %s, SQL %s, last SQL error '%s'", io ? io : "?", sql ? sql : "?",
             err ? err : "");
    mysql_free_result(res);
    return ok;
}

static int repair_replica(const struct cluster_env *env, int i)
{
    char err[512], why[512];
    MYSQL *m = fault_node_admin(env, i, err, sizeof err);
    if (!m) {
        fprintf(stderr, "fault_cluster: replica%d: %s\n", i, err);
        return -1;
    }
    int rc = 0;
    int running = replication_running(m, why, sizeof why);
    if (running != 1) {
        fprintf(stderr, "fault_cluster: replica%d: %s: repairing\n", i, why);
        /* The suite's only replication error is the conflicting row in
         * FAULT_CONFLICT_TABLE; removing it locally lets the primary's
         * event apply. The table may not exist (1146). */
        unsigned code = fault_sql(m,
                                  "SET SESSION sql_log_bin = 0; DELETE FROM " FAULT_CONFLICT_TABLE
                                  "; SET SESSION sql_log_bin = 1",
                                  err, sizeof err);
        if (code != 0 && code != 1146)
            fprintf(stderr, "fault_cluster: replica%d: %s\n", i, err);
        fault_sql(m, "SET SESSION sql_log_bin = 1", err, sizeof err);
        if (fault_sql(m, "START SLAVE", err, sizeof err) != 0) {
            fprintf(stderr, "fault_cluster: replica%d: %s\n", i, err);
            rc = -1;
        }
    }
    mysql_close(m);
    return rc;
}

static int wait_caught_up(const struct cluster_env *env, int i, const char *pos)
{
    char err[512], sql[512];
    MYSQL *m = fault_node_admin(env, i, err, sizeof err);
    if (!m) {
        fprintf(stderr, "fault_cluster: replica%d: %s\n", i, err);
        return -1;
    }
    snprintf(sql, sizeof sql, "SELECT MASTER_GTID_WAIT('%s', %d)", pos, CATCH_UP_S);
    int rc = -1;
    if (mysql_query(m, sql) == 0) {
        MYSQL_RES *res = mysql_store_result(m);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        rc = row && row[0] && strcmp(row[0], "0") == 0 ? 0 : -1;
        if (res)
            mysql_free_result(res);
    }
    char why[512] = "";
    if (rc == 0 && replication_running(m, why, sizeof why) != 1)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "fault_cluster: replica%d did not apply %s within %d s (%s %s)\n", i, pos,
                CATCH_UP_S, why, mysql_error(m));
    mysql_close(m);
    return rc;
}

int fault_cluster_restore(const struct cluster_env *env)
{
    int rc = 0;
    char arg[32], cmd[64];
    for (int i = 0; i <= env->replicas; i++) {
        if (fault_node_stopped(i)) {
            fprintf(stderr, "fault_cluster: node %d was stopped: SIGCONT\n", i);
            kill(fault_node_pid(i), SIGCONT);
        }
    }
    for (int i = 0; i <= env->replicas; i++) {
        if (!fault_node_alive(i)) {
            fprintf(stderr, "fault_cluster: node %d is down: starting it\n", i);
            snprintf(cmd, sizeof cmd, "start %s", node_arg(i, arg, sizeof arg));
            if (fault_cluster_sh(cmd) != 0)
                rc = -1;
        }
    }
    for (int i = 1; i <= env->replicas; i++)
        if (repair_replica(env, i) != 0)
            rc = -1;
    char err[512];
    MYSQL *p = fault_node_admin(env, 0, err, sizeof err);
    if (!p) {
        fprintf(stderr, "fault_cluster: primary: %s\n", err);
        return -1;
    }
    char pos[4096] = "";
    if (mysql_query(p, "SELECT @@gtid_binlog_pos") == 0) {
        MYSQL_RES *res = mysql_store_result(p);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        if (row && row[0])
            snprintf(pos, sizeof pos, "%s", row[0]);
        if (res)
            mysql_free_result(res);
    }
    mysql_close(p);
    if (!pos[0]) {
        fprintf(stderr, "fault_cluster: cannot read the primary's gtid_binlog_pos\n");
        return -1;
    }
    for (int i = 1; i <= env->replicas; i++)
        if (wait_caught_up(env, i, pos) != 0)
            rc = -1;
    return rc;
}
