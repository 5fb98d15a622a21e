/*
 * scrape.c - the scraper of the /metrics benchmark (bench/admin_scrape):
 * GETs one URL at a fixed rate over one keep-alive connection, the way a
 * Prometheus server scrapes, only far more often, and reports what it got.
 *
 *   scrape -u URL [-r RATE] [-d SECONDS] [-t TOKEN]
 *     -u URL      what to GET (http://127.0.0.1:PORT/metrics)
 *     -r RATE     requests per second to aim for (100)
 *     -d SECONDS  how long (10; 0: until SIGINT/SIGTERM)
 *     -t TOKEN    sends Authorization: Bearer TOKEN
 *
 * Pacing: request i is due at start + i / RATE (CLOCK_MONOTONIC, absolute
 * sleeps, so the time a request takes does not slow the schedule). A run
 * that falls more than one period behind skips ahead instead of bursting:
 * the achieved rate then shows the shortfall rather than hiding it.
 *
 * One line on stdout when done (no spaces inside values):
 *   requests= errors= duration_s= req_per_s= lat_p50_us= lat_p99_us=
 *   lat_max_us= bytes_avg= connects= cpu_ms=
 * A request counts as an error when curl fails or the status is not 200;
 * the first error's text goes to stderr. connects is how many TCP
 * connections curl opened (1 when keep-alive held); cpu_ms the scraper's
 * own CPU time (user + system), which on a shared machine is taken from
 * the proxy's benchmark too. Exit status: 0 when the
 * run happened, 1 when it could not start, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define NS_PER_S 1000000000LL
/* A scrape that takes this long counts as an error: /metrics costs the
 * proxy microseconds, so 5 s only bounds a proxy that stopped answering. */
#define REQ_TIMEOUT_MS 5000L

static atomic_bool stop;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop, true);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / NS_PER_S), .tv_nsec = (long)(t % NS_PER_S)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
           !atomic_load(&stop)) {
    }
}

/* Counts the body's bytes and drops them. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    *(uint64_t *)arg += size * n;
    return size * n;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of sorted v[n] (nearest rank). */
static int64_t quantile(const int64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(q * (double)n + 0.999999);
    if (i == 0)
        i = 1;
    return v[(i > n ? n : i) - 1];
}

static void usage(void)
{
    fprintf(stderr, "usage: scrape -u URL [-r RATE] [-d SECONDS] [-t TOKEN]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *url = NULL, *token = NULL;
    double rate = 100;
    double duration = 10;
    int c;
    while ((c = getopt(argc, argv, "u:r:d:t:")) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'r':
            rate = strtod(optarg, NULL);
            break;
        case 'd':
            duration = strtod(optarg, NULL);
            break;
        case 't':
            token = optarg;
            break;
        default:
            usage();
        }
    }
    if (!url || optind != argc || !(rate > 0 && rate <= 100000) || duration < 0)
        usage();

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "scrape: curl_global_init failed\n");
        return 1;
    }
    CURL *h = curl_easy_init();
    char auth[512];
    struct curl_slist *hdr = NULL;
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(NULL, auth);
    }
    uint64_t bytes = 0;
    char errbuf[CURL_ERROR_SIZE];
    if (!h || curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, REQ_TIMEOUT_MS) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &bytes) != CURLE_OK ||
        (hdr && curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr) != CURLE_OK)) {
        fprintf(stderr, "scrape: cannot set up libcurl\n");
        return 1;
    }

    /* Latencies of every request: at most rate * duration of them (plus
     * slack); an open-ended run keeps the last `cap` only for percentiles. */
    size_t cap = duration > 0 ? (size_t)(rate * duration) + 16 : (size_t)(rate * 3600) + 16;
    int64_t *lat = malloc(cap * sizeof *lat);
    if (!lat) {
        fprintf(stderr, "scrape: out of memory\n");
        return 1;
    }
    const int64_t period = (int64_t)((double)NS_PER_S / rate);
    const int64_t start = now_ns();
    const int64_t end = duration > 0 ? start + (int64_t)(duration * (double)NS_PER_S) : INT64_MAX;
    int64_t next = start;
    uint64_t requests = 0, errors = 0;
    size_t n_lat = 0;
    long connects = 0;
    bool first_err = true;

    while (!atomic_load(&stop)) {
        int64_t t = now_ns();
        if (t >= end)
            break;
        if (next > t)
            sleep_until(next);
        if (atomic_load(&stop) || now_ns() >= end)
            break;
        errbuf[0] = '\0';
        int64_t t0 = now_ns();
        CURLcode rc = curl_easy_perform(h);
        int64_t t1 = now_ns();
        long status = 0, nc = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nc);
        connects += nc;
        requests++;
        lat[n_lat++ % cap] = t1 - t0;
        if (rc != CURLE_OK || status != 200) {
            errors++;
            if (first_err && rc != CURLE_OK)
                fprintf(stderr, "scrape: %s: %s\n", url,
                        errbuf[0] ? errbuf : curl_easy_strerror(rc));
            else if (first_err)
                fprintf(stderr, "scrape: %s: status %ld\n", url, status);
            first_err = false;
        }
        next += period;
        if (now_ns() > next + period) /* behind by more than a period: no burst */
            next = now_ns();
    }
    double secs = (double)(now_ns() - start) / (double)NS_PER_S;
    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    size_t n = n_lat < cap ? n_lat : cap;
    qsort(lat, n, sizeof *lat, cmp_i64);
    printf("requests=%llu errors=%llu duration_s=%.2f req_per_s=%.1f lat_p50_us=%lld "
           "lat_p99_us=%lld lat_max_us=%lld bytes_avg=%llu connects=%ld cpu_ms=%lld\n",
           (unsigned long long)requests, (unsigned long long)errors, secs,
           secs > 0 ? (double)requests / secs : 0.0, (long long)(quantile(lat, n, 0.50) / 1000),
           (long long)(quantile(lat, n, 0.99) / 1000), (long long)(n ? lat[n - 1] / 1000 : 0),
           (unsigned long long)(requests ? bytes / requests : 0), connects,
           (long long)cpu.tv_sec * 1000 + cpu.tv_nsec / 1000000);
    free(lat);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return 0;
}
