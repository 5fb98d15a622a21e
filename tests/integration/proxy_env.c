/*
 * proxy_env.c - a gtidproxy process for integration tests (proxy_env.h):
 * its config, its life (fork/exec, wait for the listener, SIGTERM), its log,
 * and libmariadb clients connected through it.
 *
 *   test ──libmariadb──▶ 127.0.0.1:<free port> gtidproxy ──▶ primary, replicas
 *                               │ stdout+stderr
 *                               ▼
 *                        /tmp/gtidproxy-it-XXXXXX/gtidproxy.log
 *
 * With GTIDPROXY_IT_DIRECT=1 nothing is started and every connection goes to
 * the primary: the suites prove their own expectations against a server.
 *
 * Scratch dirs (config + log) outlive proxy_stop() until the cmocka group
 * run by proxy_run_group_tests() ends: they are removed when every test
 * passed and kept (paths printed) otherwise, so a failed test's log can be
 * read afterwards.
 */
#include "proxy_env.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <jansson.h>

/* How long the proxy gets to listen after exec, and to exit after SIGTERM. */
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS  10000
#define POLL_MS          20
/* Bytes of the log printed when the proxy misbehaves: enough for the last
 * few dozen lines, which is where a startup error or a crash shows. */
#define LOG_TAIL_BYTES 4096

/* Scratch dirs of stopped proxies, removed after the group if all passed. */
#define MAX_SCRATCH 32
static char scratch[MAX_SCRATCH][256];
static int n_scratch;
static bool in_group;   /* proxy_run_group_tests() is running */
static bool misbehaved; /* a proxy failed to start or stop cleanly */

void proxy_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

bool proxy_is_direct(void)
{
    const char *v = getenv("GTIDPROXY_IT_DIRECT");
    return v && strcmp(v, "1") == 0; /* as tests/drivers/ read it */
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* A loopback port nobody listens on right now: bind port 0, read what the
 * kernel chose, close. Both ports are taken while both sockets are open, so
 * the two differ. (Another process could take one before the proxy binds
 * it; on a test machine that race is rare enough to accept.) */
static void free_ports(unsigned *a, unsigned *b)
{
    int fds[2];
    unsigned *out[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fds[i] >= 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fds[i], (struct sockaddr *)&sa, sizeof sa), 0);
        socklen_t len = sizeof sa;
        assert_int_equal(getsockname(fds[i], (struct sockaddr *)&sa, &len), 0);
        *out[i] = ntohs(sa.sin_port);
    }
    close(fds[0]);
    close(fds[1]);
}

static void print_log_tail(const struct proxy_proc *p)
{
    FILE *f = fopen(p->log, "r");
    if (!f) {
        fprintf(stderr, "proxy log %s: %s\n", p->log, strerror(errno));
        return;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > LOG_TAIL_BYTES ? size - LOG_TAIL_BYTES : 0;
    fseek(f, from, SEEK_SET);
    fprintf(stderr, "---- last %ld bytes of %s ----\n", size - from, p->log);
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stderr);
    fprintf(stderr, "---- end of proxy log ----\n");
    fclose(f);
}

/* The config of proxy_env.h: every key the README documents for a cluster on
 * loopback, with debug logging so tests can look for reasons in the log. */
static json_t *base_config(const struct proxy_proc *p)
{
    const struct cluster_env *env = p->env;
    json_t *backends = json_array();
    json_array_append_new(backends,
                          json_pack("{s:s, s:s, s:i, s:s}", "name", "primary", "host", env->host,
                                    "port", (int)env->primary_port, "role", "primary"));
    for (int i = 0; i < env->replicas; i++) {
        char name[32];
        snprintf(name, sizeof name, "replica%d", i + 1);
        json_array_append_new(backends, json_pack("{s:s, s:s, s:i, s:s, s:i}", "name", name, "host",
                                                  env->host, "port", (int)env->replica_ports[i],
                                                  "role", "replica", "weight", 1));
    }
    json_t *cfg = json_object();
    json_object_set_new(
        cfg, "listeners",
        json_pack("[{s:s, s:s, s:i}]", "name", "it", "address", "127.0.0.1", "port", (int)p->port));
    json_object_set_new(
        cfg, "admin", json_pack("{s:s, s:i}", "address", "127.0.0.1", "port", (int)p->admin_port));
    json_object_set_new(cfg, "backends", backends);
    /* admin too: the session suite changes user to it. */
    json_object_set_new(cfg, "users",
                        json_pack("[{s:s, s:s}, {s:s, s:s}]", "name", env->app_user, "password",
                                  env->app_password, "name", env->admin_user, "password",
                                  env->admin_password));
    json_object_set_new(
        cfg, "backend_credentials",
        json_pack("{s:s, s:s}", "user", env->app_user, "password", env->app_password));
    json_object_set_new(cfg, "monitor",
                        json_pack("{s:s, s:s, s:i, s:i}", "user",
                                  env_or("GTIDPROXY_MONITOR_USER", "monitor"), "password",
                                  env_or("GTIDPROXY_MONITOR_PASSWORD", "monitor_pw"), "interval_ms",
                                  200, "gtid_poll_interval_ms", 20));
    json_object_set_new(cfg, "consistency",
                        json_pack("{s:s, s:i, s:[s], s:i}", "default_level", "session",
                                  "wait_timeout_ms", 200, "fallback", "primary",
                                  "max_replica_lag_ms", 10000));
    /* Two workers: the sessions of one test land on different loops. */
    json_object_set_new(cfg, "workers", json_integer(2));
    json_object_set_new(cfg, "limits",
                        json_pack("{s:i, s:i, s:i}", "max_client_connections", 1000,
                                  "max_packet_size", 64 * 1024 * 1024, "buffer_high_water",
                                  1024 * 1024));
    json_object_set_new(cfg, "timeouts",
                        json_pack("{s:i, s:i, s:i}", "connect_ms", 2000, "client_idle_ms", 0,
                                  "backend_query_ms", 0));
    json_object_set_new(cfg, "logging", json_pack("{s:s}", "level", "debug"));
    /* json_pack() returns NULL for a bad format and json_object_set_new()
     * then adds nothing: every section must be there. */
    assert_int_equal(json_object_size(cfg), 11);
    return cfg;
}

static void write_config(const struct proxy_proc *p, const char *overrides)
{
    json_t *cfg = base_config(p);
    if (overrides) {
        json_error_t jerr;
        json_t *ov = json_loads(overrides, 0, &jerr);
        if (!ov || !json_is_object(ov)) {
            fprintf(stderr, "proxy_start: overrides are not a JSON object (%s): %s\n",
                    ov ? "not an object" : jerr.text, overrides);
            fail();
        }
        /* Objects merge key by key at every depth; arrays and scalars in
         * the overrides replace what the base had. */
        assert_int_equal(json_object_update_recursive(cfg, ov), 0);
        json_decref(ov);
    }
    if (json_dump_file(cfg, p->conf, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "proxy_start: cannot write %s: %s\n", p->conf, strerror(errno));
        fail();
    }
    json_decref(cfg);
}

static bool port_accepts(const char *host, unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static void describe_status(int status, char *out, size_t len)
{
    if (WIFEXITED(status))
        snprintf(out, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(out, len, "wait status 0x%x", (unsigned)status);
}

const char *proxy_binary(void)
{
    return env_or("GTIDPROXY_IT_BINARY", GTIDPROXY_BINARY);
}

static void remove_scratch(const char *dir)
{
    char path[320];
    const char *files[] = {"gtidproxy.json", "gtidproxy.log"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    if (rmdir(dir) != 0)
        fprintf(stderr, "proxy_env: left %s behind: %s\n", dir, strerror(errno));
}

/* Registers a new scratch dir with the group runner, which decides at the
 * end whether it goes. */
static void remember_scratch(const char *dir)
{
    if (in_group && n_scratch < MAX_SCRATCH)
        snprintf(scratch[n_scratch++], sizeof scratch[0], "%s", dir);
}

/* After a stop: outside a group runner nobody else will know whether tests
 * failed, so a clean stop removes the dir at once. */
static void release_scratch(struct proxy_proc *p, bool clean)
{
    if (p->dir[0] && !in_group && clean && !misbehaved)
        remove_scratch(p->dir);
    p->dir[0] = '\0';
}

void proxy_start(struct proxy_proc *p, const struct cluster_env *env, const char *overrides)
{
    memset(p, 0, sizeof *p);
    p->env = env;
    if (proxy_is_direct()) {
        p->port = env->primary_port;
        return;
    }
    snprintf(p->dir, sizeof p->dir, "/tmp/gtidproxy-it-XXXXXX");
    if (!mkdtemp(p->dir)) {
        fprintf(stderr, "proxy_start: mkdtemp: %s\n", strerror(errno));
        fail();
    }
    remember_scratch(p->dir);
    snprintf(p->conf, sizeof p->conf, "%s/gtidproxy.json", p->dir);
    snprintf(p->log, sizeof p->log, "%s/gtidproxy.log", p->dir);
    free_ports(&p->port, &p->admin_port);
    write_config(p, overrides);

    const char *bin = proxy_binary();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || in < 0 || dup2(in, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        char *argv[] = {(char *)bin, (char *)"-c", p->conf, NULL};
        execv(bin, argv);
        dprintf(2, "proxy_env: exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    p->pid = pid;

    for (unsigned waited = 0;; waited += POLL_MS) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            char why[96];
            describe_status(status, why, sizeof why);
            p->pid = 0;
            misbehaved = true;
            fprintf(stderr, "proxy_start: %s -c %s ended (%s) before listening on port %u\n", bin,
                    p->conf, why, p->port);
            print_log_tail(p);
            fail();
        }
        if (port_accepts(env->host, p->port))
            return;
        if (waited >= START_TIMEOUT_MS) {
            fprintf(stderr, "proxy_start: no listener on port %u after %u ms; killing pid %d\n",
                    p->port, waited, (int)pid);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            p->pid = 0;
            misbehaved = true;
            print_log_tail(p);
            fail();
        }
        proxy_sleep_ms(POLL_MS);
    }
}

void proxy_stop(struct proxy_proc *p)
{
    if (p->pid <= 0) {
        release_scratch(p, true);
        return;
    }
    pid_t pid = p->pid;
    p->pid = 0;
    kill(pid, SIGTERM);
    int status = 0;
    bool exited = false;
    for (unsigned waited = 0; waited <= STOP_TIMEOUT_MS; waited += POLL_MS) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            break;
        }
        proxy_sleep_ms(POLL_MS);
    }
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    bool clean = exited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!clean) {
        char why[96];
        describe_status(status, why, sizeof why);
        misbehaved = true;
        fprintf(stderr, "proxy_stop: pid %d %s after SIGTERM (%s)\n", (int)pid,
                exited ? "did not exit cleanly" : "was still running 10 s", why);
        print_log_tail(p);
        release_scratch(p, false);
        fail();
    }
    release_scratch(p, true);
}

void proxy_signal(struct proxy_proc *p, int sig)
{
    if (p->pid > 0)
        assert_int_equal(kill(p->pid, sig), 0);
}

int proxy_run_tests(const char *name, const struct CMUnitTest *tests, size_t n,
                    int (*setup)(void **), int (*teardown)(void **))
{
    in_group = true;
    int failed = _cmocka_run_group_tests(name, tests, n, setup, teardown);
    in_group = false;
    for (int i = 0; i < n_scratch; i++) {
        if (failed || misbehaved)
            fprintf(stderr, "proxy_env: kept the proxy's config and log in %s\n", scratch[i]);
        else
            remove_scratch(scratch[i]);
    }
    n_scratch = 0;
    /* cmocka 1.1 does not count a failed group teardown (where proxy_stop
     * runs) in its result; a proxy that exited badly still fails the run. */
    if (failed == 0 && misbehaved) {
        fprintf(stderr, "proxy_env: a proxy did not start or stop cleanly (see above)\n");
        return 1;
    }
    return failed;
}

/* Options every test connection gets: bounded waits, so a proxy that stops
 * answering fails the test instead of hanging it until the CTest timeout. */
static void set_common_options(MYSQL *m)
{
    unsigned connect_s = 10, io_s = 60;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &io_s);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
}

MYSQL *proxy_mysql_init(void)
{
    MYSQL *m = mysql_init(NULL);
    assert_non_null(m);
    set_common_options(m);
    return m;
}

MYSQL *proxy_connect_with(const struct proxy_proc *p, MYSQL *m, const char *db, unsigned long flags)
{
    const struct cluster_env *env = p->env;
    if (!mysql_real_connect(m, env->host, env->app_user, env->app_password, db, p->port, NULL,
                            flags)) {
        fprintf(stderr, "connect to %s port %u (%s) as %s, db %s: %u %s\n", env->host, p->port,
                proxy_is_direct() ? "primary, direct" : "proxy", env->app_user, db ? db : "-",
                mysql_errno(m), mysql_error(m));
        mysql_close(m);
        fail();
    }
    return m;
}

MYSQL *proxy_connect(const struct proxy_proc *p, const char *db, unsigned long flags)
{
    return proxy_connect_with(p, proxy_mysql_init(), db, flags);
}

MYSQL *proxy_try_connect(const struct proxy_proc *p, const char *user, const char *password,
                         const char *db, unsigned *err, char *errmsg, size_t errlen)
{
    MYSQL *m = proxy_mysql_init();
    if (mysql_real_connect(m, p->env->host, user, password, db, p->port, NULL, 0)) {
        *err = 0;
        if (errlen)
            errmsg[0] = '\0';
        return m;
    }
    *err = mysql_errno(m);
    if (errlen)
        snprintf(errmsg, errlen, "%s", mysql_error(m));
    mysql_close(m);
    return NULL;
}

/* The log from byte `from` on, NUL-terminated (malloc'ed), or NULL when
 * there is no log. */
char *proxy_log_read(const struct proxy_proc *p, size_t from, size_t *len_out)
{
    if (!p->log[0])
        return NULL;
    FILE *f = fopen(p->log, "r");
    if (!f)
        return NULL;
    if (fseek(f, (long)from, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0, n;
    char *buf = malloc(cap);
    assert_non_null(buf);
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len == cap - 1) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

static bool log_has(const struct proxy_proc *p, size_t from, const char *needle)
{
    size_t len = 0;
    char *buf = proxy_log_read(p, from, &len);
    if (!buf)
        return false;
    bool found = memmem(buf, len, needle, strlen(needle)) != NULL;
    free(buf);
    return found;
}

size_t proxy_log_mark(const struct proxy_proc *p)
{
    struct stat st;
    if (!p->log[0] || stat(p->log, &st) != 0)
        return 0;
    return (size_t)st.st_size;
}

bool proxy_log_wait(const struct proxy_proc *p, size_t from, const char *needle,
                    unsigned timeout_ms)
{
    for (unsigned waited = 0;; waited += POLL_MS) {
        if (log_has(p, from, needle))
            return true;
        if (waited >= timeout_ms)
            return false;
        proxy_sleep_ms(POLL_MS);
    }
}

size_t proxy_log_count(const struct proxy_proc *p, size_t from, const char *needle)
{
    size_t len = 0, n = 0, nl = strlen(needle);
    assert_true(nl > 0);
    char *buf = proxy_log_read(p, from, &len);
    for (const char *at = buf; at && (at = memmem(at, len - (size_t)(at - buf), needle, nl));
         at += nl)
        n++;
    free(buf);
    return n;
}

unsigned proxy_server_id(MYSQL *m)
{
    char *v = cluster_query_value(m, "SELECT @@server_id");
    unsigned id = (unsigned)strtoul(v, NULL, 10);
    free(v);
    return id;
}

void proxy_sync_replicas(const struct proxy_proc *p)
{
    const struct cluster_env *env = p->env;
    MYSQL *primary = cluster_connect(env, 0);
    char *pos = cluster_query_value(primary, "SELECT @@gtid_binlog_pos");
    mysql_close(primary);
    for (int i = 1; i <= env->replicas; i++) {
        MYSQL *r = cluster_connect(env, i);
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT MASTER_GTID_WAIT('%s', 10)", pos);
        char *rc = cluster_query_value(r, sql);
        if (strcmp(rc, "0") != 0) {
            fprintf(stderr, "replica %d did not reach %s within 10 s (%s)\n", i, pos, rc);
            fail();
        }
        free(rc);
        mysql_close(r);
    }
    free(pos);
}

bool proxy_wait_replica_reads(const struct proxy_proc *p, unsigned timeout_ms)
{
    if (proxy_is_direct())
        return true;
    for (unsigned waited = 0;; waited += POLL_MS) {
        MYSQL *m = proxy_connect(p, NULL, 0);
        unsigned id = proxy_server_id(m);
        mysql_close(m);
        if (id != 1)
            return true;
        if (waited >= timeout_ms)
            return false;
        proxy_sleep_ms(POLL_MS);
    }
}
