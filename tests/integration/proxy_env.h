/*
 * proxy_env.h - a gtidproxy process for integration tests: a config written
 * for the running test cluster, the binary started in the foreground with its
 * log captured, and clients connected through it with libmariadb.
 *
 * GTIDPROXY_IT_DIRECT=1 in the environment makes proxy_start() start nothing
 * and proxy_connect() connect to the primary directly: it proves a test's
 * own expectations against a real server (tests of routing itself check
 * proxy_is_direct() and skip).
 */
#ifndef GTIDPROXY_PROXY_ENV_H
#define GTIDPROXY_PROXY_ENV_H

#include <stdbool.h>
#include <sys/types.h>

#include <mysql.h>

#include "cluster_env.h"

struct proxy_proc {
    pid_t pid;            /* 0: not running (or direct mode) */
    unsigned port;        /* the client listener */
    unsigned admin_port;  /* the admin listener */
    char dir[256];        /* scratch dir: gtidproxy.json, gtidproxy.log */
    char conf[320];
    char log[320];
    const struct cluster_env *env;
};

/*
 * Writes a config for the cluster in env (listener and admin on free
 * loopback ports, the primary and every replica as backends, user app with
 * the cluster's app password, backend and monitor credentials, log level
 * debug), deep-merges `overrides` (JSON object text, or NULL) into it,
 * starts GTIDPROXY_BINARY -c that file with stderr to the log, and waits
 * (up to 10 s) until the listener accepts. Fails the test with the log's tail
 * if the process exits or never listens.
 */
void proxy_start(struct proxy_proc *p, const struct cluster_env *env, const char *overrides);

/* SIGTERM, then waits up to 10 s (SIGKILL after that); fails the test if the
 * proxy exited non-zero or was killed. Removes the scratch dir unless the
 * test failed. Safe on a proxy that was never started. */
void proxy_stop(struct proxy_proc *p);

/* Sends a signal (e.g. SIGHUP) to the running proxy. */
void proxy_signal(struct proxy_proc *p, int sig);

bool proxy_is_direct(void);

/* A libmariadb connection through the proxy as the app user (flags: extra
 * mysql_real_connect client flags, e.g. CLIENT_MULTI_STATEMENTS); fails the
 * test on error. db may be NULL. */
MYSQL *proxy_connect(const struct proxy_proc *p, const char *db, unsigned long flags);

/* Same, but returns NULL on failure and leaves the handle's error in *err
 * (code) / errmsg (copied, up to errlen bytes): for tests of refused logins. */
MYSQL *proxy_try_connect(const struct proxy_proc *p, const char *user, const char *password,
                         const char *db, unsigned *err, char *errmsg, size_t errlen);

/* True when the proxy's log contains needle (a plain substring). */
bool proxy_log_contains(const struct proxy_proc *p, const char *needle);

/* @@server_id of the server that ran `SELECT @@server_id` on m: tells a test
 * where a read was routed. The cluster's primary is server_id 1, replica i is
 * 1 + i (tests/cluster/cluster.sh). */
unsigned proxy_server_id(MYSQL *m);

#endif
