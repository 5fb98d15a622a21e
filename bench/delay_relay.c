/*
 * delay_relay.c - a TCP relay that holds every byte for D milliseconds in
 * each direction: it puts a replica a fixed time behind its primary
 * (CHANGE MASTER TO MASTER_PORT=<relay>) at any resolution, where
 * MASTER_DELAY has whole seconds only. bench/consistency runs one per delay.
 *
 *   client ──▶ [read, stamp due = now + D] ──▶ queue ──▶ [write when due] ──▶ upstream
 *   client ◀── [write when due] ◀── queue ◀── [read, stamp due = now + D] ◀── upstream
 *
 * Order and content are kept exactly; a FIN is delayed like the bytes before
 * it (shutdown(SHUT_WR) when it falls due), a reset or a connect failure
 * closes both sides at once. One thread, ppoll(): a handful of connections.
 *
 * Usage: delay_relay -l [HOST:]PORT -u HOST:PORT -d MS [-q]
 * Prints "delay_relay: listening ..." on stderr once it accepts, then one line
 * per connection opened and closed (unless -q). SIGTERM/SIGINT: exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bytes queued in one direction before the relay stops reading that side:
 * 1000 ms of a replication stream at a few MB/s fits; a faster source is
 * paced by TCP instead of growing memory without bound. */
#define MAX_QUEUED (32u << 20)
#define READ_CHUNK 65536
#define MAX_PAIRS  256

struct chunk {
    struct chunk *next;
    int64_t due_ns; /* CLOCK_MONOTONIC time it may be written */
    size_t len, off;
    bool eof; /* a FIN to pass on, no data */
    unsigned char data[];
};

/* One direction: bytes read from `from`, written to `to`. */
struct dir {
    int from, to;
    struct chunk *head, *tail;
    size_t queued;
    bool read_eof;      /* `from` sent its FIN (queued as an eof chunk) */
    bool write_blocked; /* `to` would block: wait for POLLOUT */
    bool shut_done;     /* the FIN reached `to` */
    uint64_t bytes;
};

struct pair {
    int fd[2]; /* 0: accepted client, 1: upstream */
    struct dir d[2];
    unsigned id;
    bool dead;
};

static volatile sig_atomic_t stop_now;
static int64_t delay_ns;
static bool quiet;

static void on_stop(int sig)
{
    (void)sig;
    stop_now = 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* "HOST:PORT" or "PORT" (host 127.0.0.1) into an IPv4 address. */
static int parse_addr(const char *text, struct sockaddr_in *sa)
{
    char host[64] = "127.0.0.1";
    const char *colon = strrchr(text, ':');
    const char *port = text;
    if (colon) {
        size_t n = (size_t)(colon - text);
        if (n == 0 || n >= sizeof host)
            return -1;
        memcpy(host, text, n);
        host[n] = '\0';
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || p <= 0 || p > 65535)
        return -1;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)p);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void dir_free(struct dir *d)
{
    while (d->head) {
        struct chunk *c = d->head;
        d->head = c->next;
        free(c);
    }
    d->tail = NULL;
    d->queued = 0;
}

static void pair_close(struct pair *p, const char *why)
{
    if (!quiet)
        fprintf(stderr, "delay_relay: #%u closed (%s): %llu bytes up, %llu down\n", p->id, why,
                (unsigned long long)p->d[0].bytes, (unsigned long long)p->d[1].bytes);
    for (int i = 0; i < 2; i++) {
        dir_free(&p->d[i]);
        close(p->fd[i]);
    }
    p->dead = true;
}

static int enqueue(struct dir *d, const unsigned char *buf, size_t n, bool eof, int64_t now)
{
    struct chunk *c = malloc(sizeof *c + n);
    if (!c)
        return -1;
    c->next = NULL;
    c->due_ns = now + delay_ns;
    c->len = n;
    c->off = 0;
    c->eof = eof;
    if (n)
        memcpy(c->data, buf, n);
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    d->queued += n;
    return 0;
}

/* Reads what `from` has (once: the poll loop comes back for more).
 * Returns -1 when the pair must close. */
static int dir_read(struct dir *d, int64_t now)
{
    unsigned char buf[READ_CHUNK];
    ssize_t n = read(d->from, buf, sizeof buf);
    if (n > 0) {
        d->bytes += (uint64_t)n;
        return enqueue(d, buf, (size_t)n, false, now);
    }
    if (n == 0) {
        d->read_eof = true;
        return enqueue(d, NULL, 0, true, now);
    }
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

/* Writes every chunk that is due. Returns -1 when the pair must close. */
static int dir_flush(struct dir *d, int64_t now)
{
    d->write_blocked = false;
    while (d->head && d->head->due_ns <= now) {
        struct chunk *c = d->head;
        if (c->eof) {
            shutdown(d->to, SHUT_WR);
            d->shut_done = true;
        } else {
            ssize_t n = write(d->to, c->data + c->off, c->len - c->off);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) {
                    d->write_blocked = true;
                    return 0;
                }
                return -1;
            }
            c->off += (size_t)n;
            d->queued -= (size_t)n;
            if (c->off < c->len) {
                d->write_blocked = true;
                return 0;
            }
        }
        d->head = c->next;
        if (!d->head)
            d->tail = NULL;
        free(c);
    }
    return 0;
}

static bool dir_reading(const struct dir *d)
{
    return !d->read_eof && d->queued < MAX_QUEUED;
}

static int accept_one(int lfd, const struct sockaddr_in *up, struct pair *p, unsigned id)
{
    int cfd = accept(lfd, NULL, NULL);
    if (cfd < 0)
        return -1;
    /* A blocking connect: upstream is on loopback, refused or accepted at once. */
    int ufd = socket(AF_INET, SOCK_STREAM, 0);
    if (ufd < 0 || connect(ufd, (const struct sockaddr *)up, sizeof *up) != 0) {
        fprintf(stderr, "delay_relay: #%u upstream connect: %s\n", id, strerror(errno));
        if (ufd >= 0)
            close(ufd);
        close(cfd);
        return -1;
    }
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (set_nonblock(cfd) != 0 || set_nonblock(ufd) != 0) {
        close(cfd);
        close(ufd);
        return -1;
    }
    memset(p, 0, sizeof *p);
    p->fd[0] = cfd;
    p->fd[1] = ufd;
    p->d[0].from = cfd;
    p->d[0].to = ufd;
    p->d[1].from = ufd;
    p->d[1].to = cfd;
    p->id = id;
    if (!quiet)
        fprintf(stderr, "delay_relay: #%u open\n", id);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: delay_relay -l [HOST:]PORT -u HOST:PORT -d MS [-q]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct sockaddr_in listen_sa, up_sa;
    const char *listen_arg = NULL, *up_arg = NULL;
    long delay_ms = -1;
    int opt;
    while ((opt = getopt(argc, argv, "l:u:d:q")) != -1) {
        switch (opt) {
        case 'l':
            listen_arg = optarg;
            break;
        case 'u':
            up_arg = optarg;
            break;
        case 'd': {
            char *end;
            delay_ms = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || delay_ms < 0 || delay_ms > 3600000)
                return usage();
            break;
        }
        case 'q':
            quiet = true;
            break;
        default:
            return usage();
        }
    }
    if (!listen_arg || !up_arg || delay_ms < 0 || parse_addr(listen_arg, &listen_sa) != 0 ||
        parse_addr(up_arg, &up_sa) != 0)
        return usage();
    delay_ns = delay_ms * 1000000;

    /* SIGTERM/SIGINT stay blocked except inside ppoll (which unblocks them
     * atomically): one arriving between the loop's check and ppoll cannot be
     * lost, and ppoll returns EINTR for it. */
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_set, poll_mask;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_set, &poll_mask);
    sigdelset(&poll_mask, SIGTERM);
    sigdelset(&poll_mask, SIGINT);

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (const struct sockaddr *)&listen_sa, sizeof listen_sa) != 0 ||
        listen(lfd, 64) != 0 || set_nonblock(lfd) != 0) {
        fprintf(stderr, "delay_relay: listen on %s: %s\n", listen_arg, strerror(errno));
        return 1;
    }
    fprintf(stderr, "delay_relay: listening on %s -> %s, delay %ld ms\n", listen_arg, up_arg,
            delay_ms);

    static struct pair pairs[MAX_PAIRS];
    size_t n_pairs = 0;
    unsigned next_id = 1;
    struct pollfd pfd[1 + 2 * MAX_PAIRS];

    while (!stop_now) {
        int64_t now = now_ns();
        int64_t wake = -1; /* earliest due chunk that is not waiting on POLLOUT */
        pfd[0] = (struct pollfd){.fd = n_pairs < MAX_PAIRS ? lfd : -1, .events = POLLIN};
        for (size_t i = 0; i < n_pairs; i++) {
            struct pair *p = &pairs[i];
            for (int s = 0; s < 2; s++) {
                /* fd[s] is read by d[s] and written by d[1-s]. */
                short ev = 0;
                if (dir_reading(&p->d[s]))
                    ev |= POLLIN;
                if (p->d[1 - s].write_blocked)
                    ev |= POLLOUT;
                /* fd -1: poll skips it, so a hung-up socket nobody reads
                 * cannot spin the loop with POLLHUP. */
                pfd[1 + 2 * i + (size_t)s] = (struct pollfd){.fd = ev ? p->fd[s] : -1, .events = ev};
                const struct dir *d = &p->d[s];
                if (d->head && !d->write_blocked && (wake < 0 || d->head->due_ns < wake))
                    wake = d->head->due_ns;
            }
        }
        struct timespec ts, *tsp = NULL;
        if (wake >= 0) {
            int64_t left = wake > now ? wake - now : 0;
            ts.tv_sec = (time_t)(left / 1000000000);
            ts.tv_nsec = (long)(left % 1000000000);
            tsp = &ts;
        }
        int rc = ppoll(pfd, 1 + 2 * n_pairs, tsp, &poll_mask);
        if (rc < 0 && errno != EINTR) {
            perror("delay_relay: ppoll");
            return 1;
        }
        now = now_ns();
        for (size_t i = 0; rc > 0 && i < n_pairs; i++) {
            struct pair *p = &pairs[i];
            for (int s = 0; s < 2 && !p->dead; s++) {
                short re = pfd[1 + 2 * i + (size_t)s].revents;
                if ((re & (POLLIN | POLLHUP | POLLERR)) && dir_reading(&p->d[s]) &&
                    dir_read(&p->d[s], now) != 0)
                    pair_close(p, "read failed");
            }
        }
        for (size_t i = 0; i < n_pairs; i++) {
            struct pair *p = &pairs[i];
            for (int s = 0; s < 2 && !p->dead; s++)
                if (dir_flush(&p->d[s], now) != 0)
                    pair_close(p, "write failed");
            if (!p->dead && p->d[0].shut_done && p->d[1].shut_done)
                pair_close(p, "both sides finished");
        }
        /* Compact: dead pairs out, order of the live ones kept. */
        size_t live = 0;
        for (size_t i = 0; i < n_pairs; i++)
            if (!pairs[i].dead)
                pairs[live++] = pairs[i];
        n_pairs = live;
        if (rc > 0 && (pfd[0].revents & POLLIN) && n_pairs < MAX_PAIRS &&
            accept_one(lfd, &up_sa, &pairs[n_pairs], next_id++) == 0)
            n_pairs++;
    }
    for (size_t i = 0; i < n_pairs; i++)
        pair_close(&pairs[i], "relay stopped");
    close(lfd);
    return 0;
}
