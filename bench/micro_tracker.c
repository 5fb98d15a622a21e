/*
 * micro_tracker.c - throughput of framing + reply tracking on a large result
 * set, the proxy's hot path for big SELECTs.
 *
 * Builds in memory the wire bytes of a MariaDB-style text result set (the
 * shape of tests/fixtures/tracker/query_select_rows.hex: count with
 * metadata_follows, 3 column definitions, EOF, N rows, EOF) and of a binary
 * one (COM_STMT_EXECUTE with cached metadata), then feeds them through
 * proto_frame_rd in 64 KiB pieces (a socket read) with the tracker on top,
 * the way a proxy would: zero-copy when a packet's bytes are contiguous in
 * the piece, via a small buffer when a packet straddles two pieces.
 *
 * Usage: micro_tracker [rows]   (default 1000000). Prints MB/s and
 * ns/packet per run; exits 0. Not a test: it checks only that the reply
 * ended where it should.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_tracker.h"
#include "gtidproxy/proto_tracker_stream.h"

#define CAPS_MDB (0x00bea28cull | (0x1dull << 32))
#define PIECE    (64u * 1024u)

static void die(const char *what)
{
    fprintf(stderr, "micro_tracker: %s\n", what);
    exit(1);
}

static void put(struct proto_wr *w, uint8_t *seq, const void *payload, size_t n)
{
    proto_frame_write_packet(w, payload, n, seq);
}

/* Column definition as MariaDB 10.11 sends it with EXTENDED_METADATA (the
 * "id" column of query_select_rows.hex). */
static const uint8_t coldef[] = {0x03, 'd',  'e',  'f',  0x01, 't',  0x02, 't',  '1',  0x02, 't',
                                 '1',  0x02, 'i',  'd',  0x02, 'i',  'd',  0x00, 0x0c, 0x3f, 0x00,
                                 0x0b, 0x00, 0x00, 0x00, 0x03, 0x03, 0x42, 0x00, 0x00, 0x00, 0x00};
static const uint8_t eof[] = {0xfe, 0x00, 0x00, 0x22, 0x00};

static uint8_t *build(bool binary, size_t rows, size_t *len, size_t *packets)
{
    /* Rows: text "<id> 'name-xxxxxx' NULL", binary 00 bitmap int name. */
    size_t cap = 64 + 3 * 40 + rows * 40;
    uint8_t *buf = malloc(cap);
    if (!buf)
        die("out of memory");
    struct proto_wr w;
    proto_wr_init(&w, buf, cap);
    uint8_t seq = 1;
    const uint8_t count_text[] = {0x03, 0x01}, count_bin[] = {0x03, 0x00};
    *packets = 0;
    if (binary) {
        put(&w, &seq, count_bin, 2); /* metadata cached: no definitions */
        put(&w, &seq, eof, 5);
        *packets += 2;
    } else {
        put(&w, &seq, count_text, 2);
        for (int i = 0; i < 3; i++)
            put(&w, &seq, coldef, sizeof coldef);
        put(&w, &seq, eof, 5);
        *packets += 5;
    }
    for (size_t i = 0; i < rows; i++) {
        uint8_t row[40];
        size_t n = 0;
        if (binary) {
            row[n++] = 0x00;
            row[n++] = 0x10; /* third column NULL: bit 2 + offset 2 */
            uint32_t id = (uint32_t)i;
            memcpy(row + n, &id, 4);
            n += 4;
        } else {
            n += (size_t)snprintf((char *)row + 1, 12, "%zu", i % 100000000);
            row[0] = (uint8_t)n;
            n++;
        }
        row[n++] = 11;
        memcpy(row + n, "name-", 5);
        for (int k = 0; k < 6; k++)
            row[n + 5 + (size_t)k] = (uint8_t)('a' + (i >> (4 * k)) % 16);
        n += 11;
        if (!binary)
            row[n++] = 0xfb; /* NULL note */
        put(&w, &seq, row, n);
    }
    put(&w, &seq, eof, 5);
    *packets += rows + 1;
    if (proto_wr_finish(&w) != PROTO_OK)
        die("build overflow");
    *len = w.len;
    return buf;
}

/* Feeds one socket read; the proxy would forward the same bytes. */
static void feed_piece(struct proto_tracker_stream *st, const uint8_t *p, size_t n)
{
    while (n > 0) {
        struct proto_trk_pkt pkt;
        size_t used;
        int rc = proto_tracker_stream_feed(st, p, n, &used, &pkt);
        p += used;
        n -= used;
        if (rc < 0)
            die(proto_status_str(rc));
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run(const char *label, bool binary, size_t rows)
{
    size_t len, packets;
    uint8_t *wire = build(binary, rows, &len, &packets);
    static uint8_t scratch[4096];
    struct proto_tracker_stream st;
    double best = 1e30;
    for (int iter = 0; iter < 3; iter++) {
        proto_tracker_stream_init(&st, scratch, sizeof scratch, 1u << 24);
        if (proto_tracker_stream_start(
                &st, CAPS_MDB, binary ? PROTO_COM_STMT_EXECUTE : PROTO_COM_QUERY) != PROTO_OK)
            die("start");
        double t0 = now();
        for (size_t off = 0; off < len; off += PIECE)
            feed_piece(&st, wire + off, len - off < PIECE ? len - off : PIECE);
        double dt = now() - t0;
        if (!proto_tracker_done(&st.trk) || st.trk.res.rows != rows)
            die("reply did not end as built");
        if (dt < best)
            best = dt;
    }
    printf("%-7s rows=%zu packets=%zu bytes=%zu  %.1f MB/s  %.2f ns/packet (best of 3)\n", label,
           rows, packets, len, (double)len / best / 1e6, best * 1e9 / (double)packets);
    free(wire);
}

int main(int argc, char **argv)
{
    size_t rows = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    run("text", false, rows);
    run("binary", true, rows);
    return 0;
}
