/*
 * scrape.c - the scraper of the /metrics benchmark (bench/admin_scrape):
 * GETs one URL at a fixed rate over one keep-alive connection, the way a
 * Prometheus server scrapes, only far more often, and reports what it got.
 *
 *   scrape -u URL [-r RATE] [-d SECONDS] [-t TOKEN] [-b]
 *     -u URL      what to GET: http://HOST:PORT/PATH (HOST a name or an
 *                 address literal, IPv6 in brackets; no https)
 *     -r RATE     requests per second to aim for (100)
 *     -d SECONDS  how long (10; 0: until SIGINT/SIGTERM)
 *     -t TOKEN    sends Authorization: Bearer TOKEN
 *     -b          run as SCHED_BATCH: a woken scraper then waits for the
 *                 running thread's slice instead of preempting it (what a
 *                 Prometheus on another host does to the proxy's cores:
 *                 nothing). Its CPU time is the same and still reported.
 *
 * It stands in for a Prometheus server, which normally runs on another
 * host; here it shares the proxy's cores, so it is built to cost as little
 * as a client can: a plain blocking socket, one prebuilt request written
 * with one send(), the answer read with as few recv() calls as the kernel
 * allows (usually one) into one reused buffer, and no per-request
 * allocation. It reads exactly the body HTTP/1.1 says there is
 * (Content-Length, or chunked), so keep-alive holds; the body itself is
 * only counted.
 *
 * Pacing: request i is due at start + i / RATE (CLOCK_MONOTONIC, absolute
 * sleeps, so the time a request takes does not slow the schedule). A run
 * that falls more than one period behind skips ahead instead of bursting:
 * the achieved rate then shows the shortfall rather than hiding it.
 *
 * One line on stdout when done (no spaces inside values):
 *   requests= errors= duration_s= req_per_s= lat_p50_us= lat_p99_us=
 *   lat_max_us= bytes_avg= connects= cpu_ms=
 * A request counts as an error when it cannot be sent, its answer is not a
 * well-formed HTTP/1.x response, the status is not 200, or no complete
 * answer arrives within 5 s; the first error's text goes to stderr, and
 * but for a complete non-200 answer the connection is dropped (the next
 * request opens a new one). A request on a reused (kept-alive) connection
 * that the server had closed - EOF or ECONNRESET before any byte of the
 * answer, or EPIPE/ECONNRESET on send - is retried once on a new
 * connection, as HTTP clients do for a GET, without counting an error; a
 * timeout or any other failure is an error, never retried. connects
 * is how many TCP connections were opened (1 when keep-alive held);
 * bytes_avg the body bytes per request; cpu_ms the scraper's own CPU time
 * (user + system), which on a shared machine is taken from the proxy's
 * benchmark too. Exit status: 0 when the run happened, 1 when it could
 * not start, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL
/* A scrape that takes this long counts as an error: /metrics costs the
 * proxy microseconds, so 5 s only bounds a proxy that stopped answering. */
#define REQ_TIMEOUT_S 5
/* The read buffer: a /metrics answer (~12 KB) fits in one recv(); a larger
 * body is read through it in pieces, never held whole. */
#define RBUF_SIZE (256 * 1024)
/* Status line plus headers must fit in the buffer's first part. */
#define HEAD_MAX (16 * 1024)

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
    fprintf(stderr, "usage: scrape -u http://HOST:PORT/PATH [-r RATE] [-d SECONDS] [-t TOKEN] "
                    "[-b]\n");
    exit(2);
}

/* ---- the URL ---------------------------------------------------------- */

struct target {
    char host[256]; /* without brackets */
    char port[8];
    const char *path;   /* into the URL: "/metrics" (or "/" when none) */
    char hostport[272]; /* the Host header's value, as given */
};

/* http://HOST[:PORT][/PATH]. false: not one. */
static bool parse_url(const char *url, struct target *t)
{
    if (strncasecmp(url, "http://", 7) != 0)
        return false;
    const char *h = url + 7, *end = h + strcspn(h, "/?#");
    t->path = *end == '/' ? end : "/";
    if (*end && *end != '/')
        return false;
    size_t hp = (size_t)(end - h);
    if (hp == 0 || hp >= sizeof t->hostport)
        return false;
    memcpy(t->hostport, h, hp);
    t->hostport[hp] = '\0';
    const char *host = h, *host_end, *colon;
    if (*h == '[') {
        host = h + 1;
        host_end = memchr(h, ']', hp);
        if (!host_end)
            return false;
        colon = host_end + 1 < end && host_end[1] == ':' ? host_end + 1 : NULL;
        if (!colon && host_end + 1 != end)
            return false;
    } else {
        colon = memchr(h, ':', hp);
        host_end = colon ? colon : end;
    }
    size_t hl = (size_t)(host_end - host);
    if (hl == 0 || hl >= sizeof t->host)
        return false;
    memcpy(t->host, host, hl);
    t->host[hl] = '\0';
    size_t pl = colon ? (size_t)(end - colon - 1) : 0;
    if (colon && (pl == 0 || pl >= sizeof t->port))
        return false;
    if (colon) {
        memcpy(t->port, colon + 1, pl);
        t->port[pl] = '\0';
    } else {
        strcpy(t->port, "80");
    }
    return strspn(t->port, "0123456789") == strlen(t->port);
}

/* ---- one connection ----------------------------------------------------- */

struct conn {
    int fd;                 /* -1: none open */
    struct addrinfo *addrs; /* resolved once */
    char *rbuf;             /* RBUF_SIZE */
    size_t have, off;       /* bytes in rbuf, and where the unread ones start */
    bool got_any;           /* a byte of the current answer arrived */
    bool peer_closed;       /* the last failure was the server closing the
                               connection (EOF, ECONNRESET, EPIPE) */
    char err[256];          /* why the last request failed */
};

static void set_err(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

static void conn_drop(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->have = c->off = 0;
}

static bool conn_open(struct conn *c)
{
    int last = 0;
    for (const struct addrinfo *a = c->addrs; a; a = a->ai_next) {
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last = errno;
            continue;
        }
        /* Blocking I/O with kernel timeouts: no poll() per request. */
        struct timeval tv = {.tv_sec = REQ_TIMEOUT_S};
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            c->fd = fd;
            c->have = c->off = 0;
            return true;
        }
        last = errno;
        close(fd);
    }
    set_err(c, "connect: %s", strerror(last));
    return false;
}

/* More bytes into rbuf (compacting what is unread to its start first).
 * false: EOF, error or timeout (c->err says which; c->peer_closed for EOF
 * and ECONNRESET). */
static bool fill(struct conn *c)
{
    if (c->off > 0) {
        memmove(c->rbuf, c->rbuf + c->off, c->have - c->off);
        c->have -= c->off;
        c->off = 0;
    }
    if (c->have == RBUF_SIZE) {
        set_err(c, "answer line or head longer than %d bytes", RBUF_SIZE);
        return false;
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf + c->have, RBUF_SIZE - c->have, 0);
        if (n > 0) {
            c->have += (size_t)n;
            c->got_any = true;
            return true;
        }
        if (n == 0) {
            c->peer_closed = true;
            set_err(c, "connection closed by the server");
            return false;
        }
        if (errno == EINTR && !atomic_load(&stop))
            continue;
        if (errno == ECONNRESET)
            c->peer_closed = true;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            set_err(c, "no complete answer within %d s", REQ_TIMEOUT_S);
        else
            set_err(c, "recv: %s", strerror(errno));
        return false;
    }
}

/* The next CRLF-terminated line at c->off (CRLF excluded): *line, *len;
 * consumed. false: the connection failed first. */
static bool read_line(struct conn *c, const char **line, size_t *len)
{
    for (;;) {
        char *p = c->rbuf + c->off;
        char *nl = memchr(p, '\n', c->have - c->off);
        if (nl) {
            size_t n = (size_t)(nl - p);
            if (n > 0 && p[n - 1] == '\r')
                n--;
            *line = p;
            *len = n;
            c->off = (size_t)(nl - c->rbuf) + 1;
            return true;
        }
        if (c->have - c->off >= HEAD_MAX) {
            set_err(c, "a header or chunk line over %d bytes", HEAD_MAX);
            return false;
        }
        if (!fill(c))
            return false;
    }
}

/* Consumes n body bytes (counting them into *bytes). */
static bool skip_body(struct conn *c, uint64_t n, uint64_t *bytes)
{
    while (n > 0) {
        if (c->off == c->have && !fill(c))
            return false;
        size_t avail = c->have - c->off;
        size_t take = avail < n ? avail : (size_t)n;
        c->off += take;
        n -= take;
        *bytes += take;
    }
    return true;
}

/* A header line "Name: value" named name? *v, *vl: the trimmed value. */
static bool header_is(const char *line, size_t len, const char *name, const char **v, size_t *vl)
{
    size_t nl = strlen(name);
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return false;
    const char *p = line + nl + 1, *e = line + len;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *v = p;
    *vl = (size_t)(e - p);
    return true;
}

static bool value_has(const char *v, size_t vl, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i + tl <= vl; i++)
        if (strncasecmp(v + i, token, tl) == 0)
            return true;
    return false;
}

/* Parses a decimal (base 10) or hex (base 16) count from v[0..vl). */
static bool parse_count(const char *v, size_t vl, int base, uint64_t *out)
{
    uint64_t n = 0;
    size_t i = 0;
    for (; i < vl; i++) {
        int d;
        char ch = v[i];
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if (base == 16 && ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else if (base == 16 && ch >= 'A' && ch <= 'F')
            d = ch - 'A' + 10;
        else
            break;
        if (n > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        n = n * (uint64_t)base + (uint64_t)d;
    }
    if (i == 0)
        return false;
    /* Decimal: nothing may follow. Hex (chunk size): ";ext" or spaces may. */
    if (i < vl && (base == 10 || (v[i] != ';' && v[i] != ' ' && v[i] != '\t')))
        return false;
    *out = n;
    return true;
}

/* A chunked body: size lines, data, CRLF, ..., 0, trailers, empty line. */
static bool read_chunked(struct conn *c, uint64_t *bytes)
{
    const char *l;
    size_t ll;
    for (;;) {
        uint64_t n;
        if (!read_line(c, &l, &ll))
            return false;
        if (!parse_count(l, ll, 16, &n)) {
            set_err(c, "bad chunk size line");
            return false;
        }
        if (n == 0)
            break;
        if (!skip_body(c, n, bytes))
            return false;
        if (!read_line(c, &l, &ll))
            return false;
        if (ll != 0) {
            set_err(c, "chunk not followed by CRLF");
            return false;
        }
    }
    do { /* trailers, up to the empty line */
        if (!read_line(c, &l, &ll))
            return false;
    } while (ll != 0);
    return true;
}

/* Sends req and reads one whole answer. *status: its status code (0 when
 * none was read). false: the connection cannot be used again (c->err;
 * c->peer_closed when the server had closed it, c->got_any when part of
 * an answer came first); true with *status != 200 is an error the
 * connection survives. */
static bool exchange(struct conn *c, const char *req, size_t req_len, int *status, uint64_t *bytes)
{
    *status = 0;
    c->got_any = false;
    c->peer_closed = false;
    for (size_t sent = 0; sent < req_len;) {
        ssize_t n = send(c->fd, req + sent, req_len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR && !atomic_load(&stop))
            continue;
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            c->peer_closed = true;
        if (n <= 0) {
            set_err(c, "send: %s", n < 0 ? strerror(errno) : "nothing sent");
            return false;
        }
        sent += (size_t)n;
    }
    const char *l;
    size_t ll;
    if (!read_line(c, &l, &ll))
        return false;
    /* "HTTP/1.x SSS reason" */
    if (ll < 12 || strncmp(l, "HTTP/1.", 7) != 0 || l[8] != ' ' || l[9] < '1' || l[9] > '5' ||
        l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' || (ll > 12 && l[12] != ' ')) {
        set_err(c, "not an HTTP/1.x status line: \"%.*s\"", (int)(ll < 60 ? ll : 60), l);
        return false;
    }
    *status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    bool http10 = l[7] == '0';
    bool chunked = false, has_len = false, close_after = http10;
    uint64_t clen = 0;
    for (;;) {
        if (!read_line(c, &l, &ll))
            return false;
        if (ll == 0)
            break;
        const char *v;
        size_t vl;
        if (header_is(l, ll, "Content-Length", &v, &vl)) {
            if (!parse_count(v, vl, 10, &clen)) {
                set_err(c, "bad Content-Length");
                return false;
            }
            has_len = true;
        } else if (header_is(l, ll, "Transfer-Encoding", &v, &vl)) {
            chunked = value_has(v, vl, "chunked");
        } else if (header_is(l, ll, "Connection", &v, &vl)) {
            if (value_has(v, vl, "close"))
                close_after = true;
            else if (value_has(v, vl, "keep-alive"))
                close_after = false;
        }
    }
    bool ok;
    if (*status == 204 || *status == 304 || *status < 200)
        ok = true; /* no body (1xx is not expected: the request has none) */
    else if (chunked)
        ok = read_chunked(c, bytes);
    else if (has_len)
        ok = skip_body(c, clen, bytes);
    else {
        set_err(c, "answer without Content-Length or chunked body");
        ok = false; /* a body up to EOF: this connection is done anyway */
    }
    if (ok && close_after)
        conn_drop(c); /* the server said so: the next request reconnects */
    return ok;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *token = NULL;
    double rate = 100;
    double duration = 10;
    bool batch = false;
    int opt;
    while ((opt = getopt(argc, argv, "u:r:d:t:b")) != -1) {
        switch (opt) {
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
        case 'b':
            batch = true;
            break;
        default:
            usage();
        }
    }
    struct target t;
    if (!url || optind != argc || !(rate > 0 && rate <= 100000) || duration < 0 ||
        !parse_url(url, &t))
        usage();
    if (token && (strlen(token) > 4096 || strpbrk(token, "\r\n"))) {
        fprintf(stderr, "scrape: the token must be one line of at most 4096 bytes\n");
        return 2;
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (batch) {
        struct sched_param sp = {.sched_priority = 0};
        if (sched_setscheduler(0, SCHED_BATCH, &sp) != 0)
            fprintf(stderr, "scrape: SCHED_BATCH: %s (running as before)\n", strerror(errno));
    }

    struct conn c = {.fd = -1};
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    int gai = getaddrinfo(t.host, t.port, &hints, &c.addrs);
    if (gai != 0) {
        fprintf(stderr, "scrape: %s: %s\n", t.host, gai_strerror(gai));
        return 1;
    }
    char *req = NULL;
    int req_len = asprintf(&req,
                           "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gtidproxy-bench-scrape\r\n"
                           "Accept: text/plain\r\n%s%s%s\r\n",
                           t.path, t.hostport, token ? "Authorization: Bearer " : "",
                           token ? token : "", token ? "\r\n" : "");
    /* Latencies of every request: at most rate * duration of them (plus
     * slack); an open-ended run keeps the last `cap` only for percentiles. */
    size_t cap = duration > 0 ? (size_t)(rate * duration) + 16 : (size_t)(rate * 3600) + 16;
    int64_t *lat = malloc(cap * sizeof *lat);
    c.rbuf = malloc(RBUF_SIZE);
    if (req_len < 0 || !lat || !c.rbuf) {
        fprintf(stderr, "scrape: out of memory\n");
        return 1;
    }

    const int64_t period = (int64_t)((double)NS_PER_S / rate);
    const int64_t start = now_ns();
    const int64_t end = duration > 0 ? start + (int64_t)(duration * (double)NS_PER_S) : INT64_MAX;
    int64_t next = start;
    uint64_t requests = 0, errors = 0, bytes = 0;
    size_t n_lat = 0;
    long connects = 0;
    bool first_err = true;

    while (!atomic_load(&stop)) {
        int64_t t0 = now_ns();
        if (t0 >= end)
            break;
        if (next > t0) {
            sleep_until(next);
            if (atomic_load(&stop))
                break;
            t0 = now_ns();
            if (t0 >= end)
                break;
        }
        int status = 0;
        bool reused = c.fd >= 0;
        bool ok = reused || (conn_open(&c) && ++connects);
        ok = ok && exchange(&c, req, (size_t)req_len, &status, &bytes);
        if (!ok && reused && c.peer_closed && !c.got_any && !atomic_load(&stop)) {
            /* The server closed the kept-alive connection before this
             * request reached it (its idle timeout): one retry on a new
             * connection, as HTTP clients do for a GET. A timeout or a
             * malformed answer is not retried: it is the server's fault,
             * and retrying it would hide the error and double the wait. */
            conn_drop(&c);
            ok = conn_open(&c) && ++connects;
            ok = ok && exchange(&c, req, (size_t)req_len, &status, &bytes);
        }
        int64_t t1 = now_ns();
        if (!ok && atomic_load(&stop))
            break; /* cut off by SIGINT/SIGTERM: not an answer that failed */
        requests++;
        lat[n_lat++ % cap] = t1 - t0;
        if (!ok || status != 200) {
            errors++;
            if (!ok)
                conn_drop(&c);
            if (first_err && ok)
                fprintf(stderr, "scrape: %s: status %d\n", url, status);
            else if (first_err)
                fprintf(stderr, "scrape: %s: %s\n", url, c.err);
            first_err = false;
        }
        next += period;
        if (t1 > next + period) /* behind by more than a period: no burst */
            next = t1;
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
    conn_drop(&c);
    freeaddrinfo(c.addrs);
    free(c.rbuf);
    free(lat);
    free(req);
    return 0;
}
