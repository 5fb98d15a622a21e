/*
 * cluster_env.h - what integration tests know about the running test cluster:
 * the GTIDPROXY_* variables `tests/cluster/cluster.sh env` prints, connections
 * through libmariadb (a real client), and the cluster script's fault commands.
 */
#ifndef GTIDPROXY_CLUSTER_ENV_H
#define GTIDPROXY_CLUSTER_ENV_H

#include <sys/types.h>

#include <mysql.h>

/* Node 0 is the primary, 1..N the replicas. */
struct cluster_env {
    const char *host;
    unsigned primary_port;
    unsigned replica_ports[8];
    int replicas;
    const char *app_user, *app_password;
    const char *admin_user, *admin_password;
};

/* Reads the environment; fails the test program with a clear message when the
 * cluster variables are missing (run the suite through scripts/test). */
void cluster_env_load(struct cluster_env *env);

/* Connects to node i as the application user; fails the test on error. */
MYSQL *cluster_connect(const struct cluster_env *env, int node);

/* Runs `cluster.sh ARGS` (e.g. "lag 1 on"); fails the test unless it exits 0. */
void cluster_run(const char *args);

/* Runs a statement that returns no rows; fails the test on error. */
void cluster_exec(MYSQL *m, const char *sql);

/* Runs a query returning one row of one column; returns a malloc'ed copy of
 * the value ("NULL" for SQL NULL). Fails the test on error or no row. */
char *cluster_query_value(MYSQL *m, const char *sql);

/* The server process of node i (from $GTIDPROXY_CLUSTER_DIR/node<i>/
 * mariadbd.pid), for SIGSTOP/SIGCONT; fails the test when unknown. */
pid_t cluster_node_pid(int node);

#endif
