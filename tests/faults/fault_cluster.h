/*
 * fault_cluster.h - what the fault cases do to the test cluster and how
 * every case's teardown puts it back, whatever state a failed case left:
 * node processes (pid, stopped or dead), admin connections to one node, and
 * fault_cluster_restore().
 *
 * Nothing here calls cmocka: a teardown must get as far as it can (and
 * still stop the proxy) even when one repair fails, and the helpers may run
 * on a case's side thread.
 */
#ifndef GTIDPROXY_FAULT_CLUSTER_H
#define GTIDPROXY_FAULT_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cluster_env.h"

/* The table the SQL-thread case writes a conflicting row into (directly on
 * a replica, not binlogged); fault_cluster_restore() empties it there. */
#define FAULT_CONFLICT_TABLE "gtidproxy_test.fault_conflict"

/* Node i (0 = primary) as the cluster's admin user: all privileges, so it
 * may write on a read_only replica. NULL on failure, the reason in err. */
MYSQL *fault_node_admin(const struct cluster_env *env, int node, char *err, size_t errlen);

/* Runs statements on a connection; 0, or the server's error code (message
 * in err). */
unsigned fault_sql(MYSQL *m, const char *sql, char *err, size_t errlen);

/* The server process of node i from its pid file; 0 when there is none. */
pid_t fault_node_pid(int node);
/* The process exists (stopped or not). */
bool fault_node_alive(int node);
/* The process is stopped (SIGSTOP: state T in /proc/<pid>/stat). */
bool fault_node_stopped(int node);

/* Runs `cluster.sh ARGS` with the suite's environment; its exit status. */
int fault_cluster_sh(const char *args);

/*
 * Puts the cluster back: stopped nodes get SIGCONT, dead ones are started
 * (`cluster.sh start`), a replica whose SQL or IO thread is not running gets
 * the suite's conflicting rows removed (without binlogging) and START
 * SLAVE, and every replica must then apply the primary's binlog position
 * within 30 s. Returns 0, or -1 after printing what could not be repaired.
 */
int fault_cluster_restore(const struct cluster_env *env);

#endif
