/*
 * idle_conns.c - the idle-connection load of the performance harness
 * (bench/run --idle N, issue 8 "connection scale"): opens N client
 * connections to a server or proxy, completes the handshake and login on
 * each (libmariadb, blocking connects from a few threads), then holds them
 * idle until SIGTERM or SIGINT.
 *
 *   idle_conns -h HOST -P PORT -u USER -p PASSWORD [-D DB] [-n N] [-t THREADS]
 *
 * No -D: the login names no database, so a proxy that opens backends
 * lazily needs none for these sessions (gtidproxy checks a named database
 * on the primary at login, which would hold a backend connection each).
 *
 * stdout, one line each, flushed (a script waits for "up "):
 *   up connections=N seconds=S           every connection has logged in
 *   done alive=A dead=D                  on SIGTERM/SIGINT: each connection
 *                                        was pinged (COM_PING) once, then closed
 * The first failed connect's error goes to stderr. Exit status: 0 after the
 * signal; 1 when a connection could not be opened (the others are closed);
 * 2 on bad usage.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#define CONNECT_TIMEOUT_S 20
/* Descriptors beyond the connections: stdio, libmariadb's, the threads'. */
#define SPARE_FDS 64

struct opts {
    const char *host, *user, *password, *db;
    unsigned port;
    unsigned long n;
    unsigned threads;
};

struct shared {
    const struct opts *o;
    MYSQL **conns; /* n entries; NULL until opened */
    atomic_bool failed;
    pthread_mutex_t err_lock;
    char err[512];
};

struct worker {
    pthread_t tid;
    unsigned index;
    struct shared *sh;
};

static void usage(void)
{
    fprintf(stderr, "usage: idle_conns -h HOST -P PORT -u USER -p PASSWORD [-D DB] [-n N] "
                    "[-t THREADS]\n");
    exit(2);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Each thread opens connections index, index + threads, ... and stops at
 * the first failure anywhere (one error message is enough). */
static void *connect_some(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    const struct opts *o = sh->o;
    unsigned timeout = CONNECT_TIMEOUT_S;

    mysql_thread_init();
    for (unsigned long i = w->index; i < o->n && !atomic_load(&sh->failed); i += o->threads) {
        MYSQL *m = mysql_init(NULL);
        if (!m) {
            pthread_mutex_lock(&sh->err_lock);
            if (!atomic_exchange(&sh->failed, true))
                snprintf(sh->err, sizeof sh->err, "connection %lu: mysql_init: out of memory", i);
            pthread_mutex_unlock(&sh->err_lock);
            break;
        }
        mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
        if (!mysql_real_connect(m, o->host, o->user, o->password, o->db, o->port, NULL, 0)) {
            pthread_mutex_lock(&sh->err_lock);
            if (!atomic_exchange(&sh->failed, true))
                snprintf(sh->err, sizeof sh->err, "connection %lu: %u %s", i, mysql_errno(m),
                         mysql_error(m));
            pthread_mutex_unlock(&sh->err_lock);
            mysql_close(m);
            break;
        }
        sh->conns[i] = m;
    }
    mysql_thread_end();
    return NULL;
}

/* Room for n connections' descriptors: the soft limit up to the hard one. */
static void raise_nofile(unsigned long n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)n + SPARE_FDS;
    if (rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        fprintf(stderr, "idle_conns: open files limited to %llu, %lu connections need about %llu\n",
                (unsigned long long)rl.rlim_cur, n, (unsigned long long)want);
}

static void close_all(MYSQL **conns, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        if (conns[i])
            mysql_close(conns[i]);
}

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1", .n = 10000, .threads = 8};
    int c;
    while ((c = getopt(argc, argv, "h:P:u:p:D:n:t:")) != -1) {
        switch (c) {
        case 'h': o.host = optarg; break;
        case 'P': o.port = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'u': o.user = optarg; break;
        case 'p': o.password = optarg; break;
        case 'D': o.db = optarg; break;
        case 'n': o.n = strtoul(optarg, NULL, 10); break;
        case 't': o.threads = (unsigned)strtoul(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (optind != argc || !o.user || !o.password || o.port == 0 || o.port > 65535 || o.n == 0 ||
        o.threads == 0 || o.threads > 1024)
        usage();
    if (o.threads > o.n)
        o.threads = (unsigned)o.n;

    /* SIGTERM/SIGINT wait for sigwait below; the threads inherit the mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    raise_nofile(o.n);
    if (mysql_library_init(0, NULL, NULL) != 0) {
        fprintf(stderr, "idle_conns: mysql_library_init failed\n");
        return 1;
    }
    struct shared sh = {.o = &o, .conns = calloc(o.n, sizeof(MYSQL *))};
    struct worker *ws = calloc(o.threads, sizeof *ws);
    if (!sh.conns || !ws) {
        fprintf(stderr, "idle_conns: out of memory\n");
        free(sh.conns);
        free(ws);
        return 1;
    }
    pthread_mutex_init(&sh.err_lock, NULL);

    double t0 = now_s();
    unsigned started = 0;
    for (unsigned t = 0; t < o.threads; t++) {
        ws[t] = (struct worker){.index = t, .sh = &sh};
        if (pthread_create(&ws[t].tid, NULL, connect_some, &ws[t]) != 0) {
            atomic_store(&sh.failed, true);
            snprintf(sh.err, sizeof sh.err, "pthread_create failed");
            break;
        }
        started++;
    }
    for (unsigned t = 0; t < started; t++)
        pthread_join(ws[t].tid, NULL);
    if (atomic_load(&sh.failed)) {
        unsigned long opened = 0;
        for (unsigned long i = 0; i < o.n; i++)
            opened += sh.conns[i] != NULL;
        fprintf(stderr, "idle_conns: %s (%lu of %lu were open)\n", sh.err, opened, o.n);
        close_all(sh.conns, o.n);
        free(sh.conns);
        free(ws);
        mysql_library_end();
        return 1;
    }
    printf("up connections=%lu seconds=%.2f\n", o.n, now_s() - t0);
    fflush(stdout);

    int sig;
    sigwait(&stop, &sig);

    /* Still logged in? A proxy that dropped idle sessions fails the ping. */
    unsigned long alive = 0;
    for (unsigned long i = 0; i < o.n; i++)
        alive += mysql_ping(sh.conns[i]) == 0;
    printf("done alive=%lu dead=%lu\n", alive, o.n - alive);
    fflush(stdout);
    close_all(sh.conns, o.n);
    free(sh.conns);
    free(ws);
    mysql_library_end();
    return 0;
}
