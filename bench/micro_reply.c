/*
 * micro_reply.c - cost of the per-OK hot path of protocol/reply.c and
 * protocol/session_state.c: classify + parse + summarise a real MariaDB
 * COMMIT OK (last_gtid + transaction state), and rewrite it for a client
 * without CLIENT_SESSION_TRACK. Prints ns per operation.
 * Usage: micro_reply [iterations]   (default 10,000,000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_reply.h"
#include "gtidproxy/proto_session_state.h"

/* tests/fixtures/reply/ok_commit_gtid_state.hex */
static const uint8_t commit_ok[] = {
    0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x11, 0x09,
    'l',  'a',  's',  't',  '_',  'g',  't',  'i',  'd',  0x06, '0',  '-',
    '1',  '-',  '5',  '4',  0x05, 0x09, 0x08, '_',  '_',  '_',  '_',  '_',
    '_',  '_',  '_'};

#define CAPS                                                                   \
    (PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_TRANSACTIONS) |          \
     PROTO_CAP(CLIENT_SESSION_TRACK))

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 10000000L;
    volatile size_t sink = 0;
    struct proto_ok ok;
    struct proto_ss_summary s;

    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        if (proto_reply_first_kind(commit_ok, sizeof commit_ok, CAPS) !=
                PROTO_REPLY_OK ||
            proto_ok_parse(commit_ok, sizeof commit_ok, CAPS, &ok) != PROTO_OK ||
            proto_ss_summarize(ok.session_state, &s) != PROTO_OK)
            return 1;
        sink += s.gtid.len;
    }
    double t1 = now_ns();

    uint8_t out[sizeof commit_ok];
    for (long i = 0; i < iters; i++) {
        struct proto_wr w;
        proto_wr_init(&w, out, sizeof out);
        if (proto_ok_rewrite(commit_ok, sizeof commit_ok, CAPS,
                             CAPS & ~PROTO_CAP(CLIENT_SESSION_TRACK),
                             &w) != PROTO_OK)
            return 1;
        sink += w.len;
    }
    double t2 = now_ns();

    printf("classify+parse+summarize: %.1f ns/op\n", (t1 - t0) / (double)iters);
    printf("rewrite for untracked client: %.1f ns/op\n",
           (t2 - t1) / (double)iters);
    printf("(sink %zu)\n", (size_t)sink);
    return 0;
}
