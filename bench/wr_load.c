/*
 * wr_load.c - the write-then-read workload of the consistency benchmark
 * (bench/consistency): N threads, each on its own libmariadb connection,
 * loop "write my row, read it back" and check the read saw the write.
 *
 *   wr_load [options] setup   create the table (run once, on the primary)
 *   wr_load [options] load    the workload; one key=value line on stdout
 *   wr_load [options] lag R   replication delay primary -> replica(s): write
 *                             on the primary, time MASTER_GTID_WAIT on each
 *                             replica in R ("HOST:PORT[,HOST:PORT...]")
 *
 * A cycle of thread t (its row is (run, t); run is random per invocation):
 *   write: INSERT ... (run, t, k) ON DUPLICATE KEY UPDATE seq = k
 *   read:  SELECT @@server_id, (SELECT seq FROM wr_load WHERE run=.. AND thread=t)
 * The read is timed with CLOCK_MONOTONIC from sending it to having its row.
 * seq NULL (row missing) or < k is a stale read; @@server_id says which
 * server answered (the test cluster's primary is 1, replica i is 1 + i).
 * Errors are counted and the cycle goes on (a lost connection is opened
 * again); ERR 9005 (gtidproxy's consistency error) is counted apart too.
 *
 * load prints, all on one line (no spaces inside values):
 *   mode=load threads= duration_s= cycles= cycles_per_s= reads= read_p50_us=
 *   read_p99_us= read_max_us= write_p50_us= write_p99_us= stale= stale_missing=
 *   stale_old= errors= errors_consistency= reads_primary= reads_replica=
 *   served_by=ID:COUNT,...
 * The first error's text goes to stderr. Exit status: 0 when the run
 * happened (stale reads and errors are results, not failures), 1 when it
 * could not start, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>

#define ER_GTIDPROXY_CONSISTENCY 9005 /* gatespec.md: ERR 9005 SQLSTATE HY000 */
#define PRIMARY_SERVER_ID        1    /* tests/cluster/cluster.sh: primary server_id 1 */
#define MAX_SERVERS              16
#define MAX_REPLICAS             8

static const char *const create_sql =
    "CREATE TABLE IF NOT EXISTS wr_load (run BIGINT UNSIGNED NOT NULL, "
    "thread INT UNSIGNED NOT NULL, seq BIGINT UNSIGNED NOT NULL, "
    "PRIMARY KEY (run, thread)) ENGINE=InnoDB";

struct opts {
    const char *host, *user, *password, *db;
    unsigned port;
    unsigned threads;
    double duration_s;      /* load: stop after this long (0: only --cycles) */
    unsigned long cycles;   /* load: per thread (0: only --duration) */
    unsigned samples;       /* lag: per replica */
    unsigned long flags;    /* extra mysql_real_connect flags */
};

/* A growable array of latencies in microseconds. */
struct lat {
    uint32_t *v;
    size_t n, cap;
};

struct server_count {
    unsigned id;
    unsigned long n;
};

struct worker {
    pthread_t tid;
    unsigned index;
    const struct opts *o;
    uint64_t run;
    struct lat reads, writes;
    unsigned long cycles, stale_missing, stale_old, errors, errors_consistency;
    struct server_count servers[MAX_SERVERS];
    size_t n_servers;
    char first_error[384]; /* "thread N " + a 256-byte message */
};

static atomic_bool stop_flag;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void lat_add(struct lat *l, int64_t us)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        uint32_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return; /* out of memory: the sample is lost, the run goes on */
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void lat_sort(struct lat *l)
{
    if (l->n) /* qsort's base must not be NULL, even for 0 elements */
        qsort(l->v, l->n, sizeof *l->v, cmp_u32);
}

/* Nearest-rank percentile of a sorted array (q in (0, 1]); 0 when empty. */
static uint32_t pct(const struct lat *l, double q)
{
    if (l->n == 0)
        return 0;
    size_t rank = (size_t)ceil(q * (double)l->n);
    return l->v[rank ? rank - 1 : 0];
}

static void lat_merge(struct lat *into, const struct lat *from)
{
    for (size_t i = 0; i < from->n; i++)
        lat_add(into, from->v[i]);
}

static MYSQL *db_connect(const struct opts *o, const char *host, unsigned port, char *err,
                         size_t errlen)
{
    MYSQL *m = mysql_init(NULL);
    if (!m) {
        snprintf(err, errlen, "mysql_init: out of memory");
        return NULL;
    }
    unsigned connect_s = 5, rw_s = 180; /* above lag's 120 s wait */
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rw_s);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rw_s);
    if (!mysql_real_connect(m, host, o->user, o->password, o->db, port, NULL, o->flags)) {
        snprintf(err, errlen, "connect %s:%u: %u %s", host, port, mysql_errno(m), mysql_error(m));
        mysql_close(m);
        return NULL;
    }
    return m;
}

static void note_error(struct worker *w, MYSQL *m, const char *what)
{
    w->errors++;
    if (mysql_errno(m) == ER_GTIDPROXY_CONSISTENCY)
        w->errors_consistency++;
    if (!w->first_error[0])
        snprintf(w->first_error, sizeof w->first_error, "thread %u %s: %u %s", w->index, what,
                 mysql_errno(m), mysql_error(m));
}

static bool connection_lost(MYSQL *m)
{
    unsigned e = mysql_errno(m);
    return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST;
}

static void count_server(struct worker *w, unsigned id, unsigned long n)
{
    for (size_t i = 0; i < w->n_servers; i++)
        if (w->servers[i].id == id) {
            w->servers[i].n += n;
            return;
        }
    if (w->n_servers < MAX_SERVERS)
        w->servers[w->n_servers++] = (struct server_count){id, n};
}

/* One read-back; returns false on an error (already counted). */
static bool read_back(struct worker *w, MYSQL *m, unsigned long k)
{
    char sql[192];
    snprintf(sql, sizeof sql,
             "SELECT @@server_id, (SELECT seq FROM wr_load WHERE run=%llu AND thread=%u)",
             (unsigned long long)w->run, w->index);
    int64_t t0 = now_us();
    if (mysql_query(m, sql) != 0) {
        note_error(w, m, "read");
        return false;
    }
    MYSQL_RES *res = mysql_store_result(m);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    int64_t t1 = now_us();
    if (!row || !row[0]) {
        note_error(w, m, "read returned no row");
        if (res)
            mysql_free_result(res);
        return false;
    }
    lat_add(&w->reads, t1 - t0);
    count_server(w, (unsigned)strtoul(row[0], NULL, 10), 1);
    if (!row[1])
        w->stale_missing++;
    else {
        unsigned long long seq = strtoull(row[1], NULL, 10);
        if (seq < k)
            w->stale_old++;
        else if (seq > k) {
            w->errors++; /* a value nobody wrote yet: the table is shared by mistake */
            if (!w->first_error[0])
                snprintf(w->first_error, sizeof w->first_error,
                         "thread %u read seq %llu after writing %lu", w->index, seq, k);
        }
    }
    mysql_free_result(res);
    return true;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct opts *o = w->o;
    mysql_thread_init();
    char err[256];
    MYSQL *m = NULL;
    unsigned long k = 0;
    while (!atomic_load(&stop_flag) && (o->cycles == 0 || k < o->cycles)) {
        if (!m) {
            m = db_connect(o, o->host, o->port, err, sizeof err);
            if (!m) {
                w->errors++;
                if (!w->first_error[0])
                    snprintf(w->first_error, sizeof w->first_error, "thread %u %s", w->index,
                             err);
                usleep(100000);
                continue;
            }
        }
        k++;
        w->cycles++;
        char sql[192];
        snprintf(sql, sizeof sql,
                 "INSERT INTO wr_load (run, thread, seq) VALUES (%llu, %u, %lu) "
                 "ON DUPLICATE KEY UPDATE seq = VALUES(seq)",
                 (unsigned long long)w->run, w->index, k);
        int64_t t0 = now_us();
        if (mysql_query(m, sql) != 0) {
            note_error(w, m, "write");
        } else {
            lat_add(&w->writes, now_us() - t0);
            if (read_back(w, m, k))
                continue;
        }
        if (connection_lost(m)) {
            mysql_close(m);
            m = NULL;
        }
    }
    if (m)
        mysql_close(m);
    mysql_thread_end();
    return NULL;
}

static uint64_t random_run(void)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint64_t)now_us() ^ ((uint64_t)getpid() << 40);
    return r >> 1; /* fits BIGINT UNSIGNED and a signed reader alike */
}

static int cmd_setup(const struct opts *o)
{
    char err[256];
    MYSQL *m = db_connect(o, o->host, o->port, err, sizeof err);
    if (!m) {
        fprintf(stderr, "wr_load: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (mysql_query(m, create_sql) != 0) {
        fprintf(stderr, "wr_load: setup: %u %s\n", mysql_errno(m), mysql_error(m));
        rc = 1;
    }
    mysql_close(m);
    return rc;
}

static int cmd_load(const struct opts *o)
{
    struct worker *w = calloc(o->threads, sizeof *w);
    if (!w)
        return 1;
    uint64_t run = random_run();
    int64_t t0 = now_us();
    unsigned started = 0;
    for (unsigned i = 0; i < o->threads; i++) {
        w[i].index = i;
        w[i].o = o;
        w[i].run = run;
        if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0) {
            fprintf(stderr, "wr_load: pthread_create: %s\n", strerror(errno));
            atomic_store(&stop_flag, true);
            break;
        }
        started++;
    }
    if (o->duration_s > 0 && started == o->threads) {
        struct timespec ts = {.tv_sec = (time_t)o->duration_s,
                              .tv_nsec = (long)((o->duration_s - floor(o->duration_s)) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        atomic_store(&stop_flag, true);
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(w[i].tid, NULL);
    double elapsed = (double)(now_us() - t0) / 1e6;

    struct lat reads = {0}, writes = {0};
    unsigned long cycles = 0, missing = 0, old = 0, errors = 0, errors_cons = 0;
    unsigned long on_primary = 0, on_replica = 0;
    struct worker all = {0}; /* servers summed over threads */
    for (unsigned i = 0; i < started; i++) {
        lat_merge(&reads, &w[i].reads);
        lat_merge(&writes, &w[i].writes);
        cycles += w[i].cycles;
        missing += w[i].stale_missing;
        old += w[i].stale_old;
        errors += w[i].errors;
        errors_cons += w[i].errors_consistency;
        for (size_t s = 0; s < w[i].n_servers; s++) {
            count_server(&all, w[i].servers[s].id, w[i].servers[s].n);
            if (w[i].servers[s].id == PRIMARY_SERVER_ID)
                on_primary += w[i].servers[s].n;
            else
                on_replica += w[i].servers[s].n;
        }
        if (w[i].first_error[0] && !all.first_error[0])
            snprintf(all.first_error, sizeof all.first_error, "%s", w[i].first_error);
    }
    lat_sort(&reads);
    lat_sort(&writes);

    char served[MAX_SERVERS * 32] = "";
    size_t len = 0;
    for (size_t s = 0; s < all.n_servers && len < sizeof served; s++)
        len += (size_t)snprintf(served + len, sizeof served - len, "%s%u:%lu", s ? "," : "",
                                all.servers[s].id, all.servers[s].n);
    printf("mode=load threads=%u duration_s=%.2f cycles=%lu cycles_per_s=%.1f reads=%zu "
           "read_p50_us=%u read_p99_us=%u read_max_us=%u write_p50_us=%u write_p99_us=%u "
           "stale=%lu stale_missing=%lu stale_old=%lu errors=%lu errors_consistency=%lu "
           "reads_primary=%lu reads_replica=%lu served_by=%s\n",
           started, elapsed, cycles, elapsed > 0 ? (double)cycles / elapsed : 0.0, reads.n,
           pct(&reads, 0.50), pct(&reads, 0.99), pct(&reads, 1.0), pct(&writes, 0.50),
           pct(&writes, 0.99), missing + old, missing, old, errors, errors_cons, on_primary,
           on_replica, served[0] ? served : "-");
    if (all.first_error[0])
        fprintf(stderr, "wr_load: first error: %s\n", all.first_error);
    for (unsigned i = 0; i < o->threads; i++) {
        free(w[i].reads.v);
        free(w[i].writes.v);
    }
    free(reads.v);
    free(writes.v);
    free(w);
    return started == o->threads ? 0 : 1;
}

/* A string column of a one-row query, copied; NULL on error (printed). */
static int query_string(MYSQL *m, const char *sql, char *out, size_t outlen)
{
    if (mysql_query(m, sql) != 0) {
        fprintf(stderr, "wr_load: %s: %u %s\n", sql, mysql_errno(m), mysql_error(m));
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(m);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    int rc = -1;
    if (row && row[0]) {
        snprintf(out, outlen, "%s", row[0]);
        rc = 0;
    } else {
        fprintf(stderr, "wr_load: %s: no value\n", sql);
    }
    if (res)
        mysql_free_result(res);
    return rc;
}

/*
 * lag: for each sample and each replica, one write on the primary, its GTID
 * from @@last_gtid, then MASTER_GTID_WAIT(gtid, 120) on the replica; the
 * time from the write's OK to the wait's answer is the replication delay
 * (plus one round trip to the replica). Prints
 *   mode=lag samples=N lag_p50_us= lag_max_us= r1_p50_us= r1_max_us= ...
 */
static int cmd_lag(const struct opts *o, const char *replicas)
{
    char err[256];
    MYSQL *primary = db_connect(o, o->host, o->port, err, sizeof err);
    if (!primary) {
        fprintf(stderr, "wr_load: %s\n", err);
        return 1;
    }
    MYSQL *rep[MAX_REPLICAS];
    size_t n_rep = 0;
    int rc = 1;
    struct lat all = {0}, per[MAX_REPLICAS] = {{0}};
    char list[512];
    snprintf(list, sizeof list, "%s", replicas);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(tok, ':');
        if (!colon || n_rep == MAX_REPLICAS) {
            fprintf(stderr, "wr_load: lag: replicas are HOST:PORT[,HOST:PORT...] (at most %d)\n",
                    MAX_REPLICAS);
            goto done;
        }
        *colon = '\0';
        rep[n_rep] = db_connect(o, tok, (unsigned)strtoul(colon + 1, NULL, 10), err, sizeof err);
        if (!rep[n_rep]) {
            fprintf(stderr, "wr_load: %s\n", err);
            goto done;
        }
        n_rep++;
    }
    uint64_t run = random_run();
    unsigned seq = 0; /* a new value per write: an unchanged row would log no GTID */
    for (unsigned s = 1; s <= o->samples; s++) {
        for (size_t r = 0; r < n_rep; r++) {
            char sql[192], gtid[128], wait[256], ans[32];
            snprintf(sql, sizeof sql,
                     "INSERT INTO wr_load (run, thread, seq) VALUES (%llu, 0, %u) "
                     "ON DUPLICATE KEY UPDATE seq = VALUES(seq)",
                     (unsigned long long)run, ++seq);
            if (mysql_query(primary, sql) != 0) {
                fprintf(stderr, "wr_load: lag write: %u %s\n", mysql_errno(primary),
                        mysql_error(primary));
                goto done;
            }
            int64_t t0 = now_us();
            if (query_string(primary, "SELECT @@last_gtid", gtid, sizeof gtid) != 0)
                goto done;
            snprintf(wait, sizeof wait, "SELECT MASTER_GTID_WAIT('%s', 120)", gtid);
            if (query_string(rep[r], wait, ans, sizeof ans) != 0)
                goto done;
            int64_t t1 = now_us();
            if (strcmp(ans, "0") != 0) {
                fprintf(stderr, "wr_load: replica %zu did not apply %s within 120 s\n", r + 1,
                        gtid);
                goto done;
            }
            lat_add(&all, t1 - t0);
            lat_add(&per[r], t1 - t0);
            usleep(20000); /* let the stream go idle: each sample starts alone */
        }
    }
    lat_sort(&all);
    printf("mode=lag samples=%u lag_p50_us=%u lag_max_us=%u", o->samples, pct(&all, 0.5),
           pct(&all, 1.0));
    for (size_t r = 0; r < n_rep; r++) {
        lat_sort(&per[r]);
        printf(" r%zu_p50_us=%u r%zu_max_us=%u", r + 1, pct(&per[r], 0.5), r + 1,
               pct(&per[r], 1.0));
    }
    printf("\n");
    rc = 0;
done:
    free(all.v);
    for (size_t r = 0; r < n_rep; r++)
        free(per[r].v);
    for (size_t r = 0; r < n_rep; r++)
        mysql_close(rep[r]);
    mysql_close(primary);
    return rc;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: wr_load [options] setup | load | lag HOST:PORT[,HOST:PORT...]\n"
            "  -h HOST (127.0.0.1)  -P PORT (3306)  -u USER (app)  -p PASSWORD (app_pw)\n"
            "  -D DB (gtidproxy_test)  -t THREADS (4)  -d SECONDS (10)  -n CYCLES per thread\n"
            "  -m (connect with CLIENT_MULTI_STATEMENTS)  -s SAMPLES per replica for lag (10)\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct opts o = {.host = "127.0.0.1",
                     .user = "app",
                     .password = "app_pw",
                     .db = "gtidproxy_test",
                     .port = 3306,
                     .threads = 4,
                     .duration_s = 10,
                     .samples = 10};
    bool duration_set = false;
    int opt;
    char *end;
    while ((opt = getopt(argc, argv, "h:P:u:p:D:t:d:n:ms:")) != -1) {
        switch (opt) {
        case 'h':
            o.host = optarg;
            break;
        case 'P':
            o.port = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o.port == 0 || o.port > 65535)
                return usage();
            break;
        case 'u':
            o.user = optarg;
            break;
        case 'p':
            o.password = optarg;
            break;
        case 'D':
            o.db = optarg;
            break;
        case 't':
            o.threads = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o.threads == 0 || o.threads > 1024)
                return usage();
            break;
        case 'd':
            o.duration_s = strtod(optarg, &end);
            if (*end || !(o.duration_s >= 0) || o.duration_s > 86400)
                return usage();
            duration_set = true;
            break;
        case 'n':
            o.cycles = strtoul(optarg, &end, 10);
            if (*end)
                return usage();
            break;
        case 'm':
            o.flags |= CLIENT_MULTI_STATEMENTS;
            break;
        case 's':
            o.samples = (unsigned)strtoul(optarg, &end, 10);
            if (*end || o.samples == 0)
                return usage();
            break;
        default:
            return usage();
        }
    }
    if (o.cycles && !duration_set)
        o.duration_s = 0; /* -n alone: run exactly that many cycles */
    if (o.cycles == 0 && o.duration_s == 0)
        return usage();
    if (optind >= argc)
        return usage();
    const char *mode = argv[optind];
    if (mysql_library_init(0, NULL, NULL) != 0) {
        fprintf(stderr, "wr_load: mysql_library_init failed\n");
        return 1;
    }
    int rc;
    if (strcmp(mode, "setup") == 0 && optind + 1 == argc)
        rc = cmd_setup(&o);
    else if (strcmp(mode, "load") == 0 && optind + 1 == argc)
        rc = cmd_load(&o);
    else if (strcmp(mode, "lag") == 0 && optind + 2 == argc)
        rc = cmd_lag(&o, argv[optind + 1]);
    else
        rc = usage();
    mysql_library_end();
    return rc;
}
