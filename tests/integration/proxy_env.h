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
#include <stddef.h>
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
/* The gtidproxy binary proxy_start() runs: GTIDPROXY_IT_BINARY, else the
 * build's. */
const char *proxy_binary(void);
/* Sleeps ms milliseconds (through EINTR). */
void proxy_sleep_ms(unsigned ms);

/* A libmariadb connection through the proxy as the app user (flags: extra
 * mysql_real_connect client flags, e.g. CLIENT_MULTI_STATEMENTS); fails the
 * test on error. db may be NULL. */
MYSQL *proxy_connect(const struct proxy_proc *p, const char *db, unsigned long flags);

/* Same, but returns NULL on failure and leaves the handle's error in *err
 * (code) / errmsg (copied, up to errlen bytes): for tests of refused logins. */
MYSQL *proxy_try_connect(const struct proxy_proc *p, const char *user, const char *password,
                         const char *db, unsigned *err, char *errmsg, size_t errlen);


/* @@server_id of the server that ran `SELECT @@server_id` on m: tells a test
 * where a read was routed. The cluster's primary is server_id 1, replica i is
 * 1 + i (tests/cluster/cluster.sh). */
unsigned proxy_server_id(MYSQL *m);

/* ---- additions used by the it_proxy_*.c suites ---- */

/* A libmariadb handle with the options every test connection gets
 * (connect timeout 10 s, read and write timeouts 60 s: a proxy that stops
 * answering fails the test instead of hanging it). The caller may change
 * them or set others, then connect with proxy_connect_with(). */
MYSQL *proxy_mysql_init(void);

/* proxy_connect() for a handle from proxy_mysql_init() the caller set
 * options on (MYSQL_OPT_LOCAL_INFILE, a charset, a shorter timeout...):
 * connects with the options as they are, touching none. Fails the test on
 * error (the handle is closed then). */
MYSQL *proxy_connect_with(const struct proxy_proc *p, MYSQL *m, const char *db,
                          unsigned long flags);

/* The log's current size: pass it to proxy_log_wait() to look only at what
 * is logged after this point (proxy_start's readiness probe connects and
 * disconnects, and other tests' connections log too). 0 without a log. */
size_t proxy_log_mark(const struct proxy_proc *p);
/* The log from byte `from` on: malloc'ed, NUL-terminated, its length in
 * *len; NULL when there is no log. */
char *proxy_log_read(const struct proxy_proc *p, size_t from, size_t *len);

/* True once the log from byte `from` on contains needle; polled every 20 ms
 * for up to timeout_ms (the proxy logs a closed connection shortly after the
 * test sees it closed). */
bool proxy_log_wait(const struct proxy_proc *p, size_t from, const char *needle,
                    unsigned timeout_ms);

/* How many times the log from byte `from` on contains needle (occurrences
 * do not overlap); 0 without a log. Only p->log is read: a test may point a
 * zeroed proxy_proc's log at any file (it_monitor.c: its captured stderr). */
size_t proxy_log_count(const struct proxy_proc *p, size_t from, const char *needle);

/* Waits (up to 10 s, then fails the test) until every replica applied what
 * the primary has binlogged, asking the servers directly: for a new session
 * that must see other sessions' writes at level session. */
void proxy_sync_replicas(const struct proxy_proc *p);

/* Polls `SELECT @@server_id` on new connections until one is served by a
 * replica (the proxy's monitor may need a moment after start to find them
 * healthy): true then, false after timeout_ms. True at once in direct mode.
 * Suites that check routing call it in their group setup. */
bool proxy_wait_replica_reads(const struct proxy_proc *p, unsigned timeout_ms);

/*
 * Runs a cmocka group like cmocka_run_group_tests() and returns the number
 * of failures. Afterwards it removes the scratch dirs of the proxies stopped
 * during the group when every test passed, and otherwise keeps them and
 * prints their paths (a failed test's log). A proxy stopped outside such a
 * run has its dir removed at once unless the stop itself failed.
 * GTIDPROXY_IT_BINARY in the environment replaces the gtidproxy binary
 * proxy_start() runs (e.g. an ASan build of it).
 */
struct CMUnitTest;
int proxy_run_tests(const char *name, const struct CMUnitTest *tests, size_t n,
                    int (*setup)(void **), int (*teardown)(void **));
#define proxy_run_group_tests(group, setup, teardown)                                              \
    proxy_run_tests(#group, (group), sizeof(group) / sizeof((group)[0]), (setup), (teardown))

#endif
