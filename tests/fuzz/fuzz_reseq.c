/*
 * fuzz_reseq.c - libFuzzer target for re-sequencing stored replies
 * (proto_reseq.h).
 *
 * Input: byte 0 = first sequence id, the rest = the run of packets. The run
 * is copied into a buffer of exactly its size, so ASan reports any read or
 * write past it.
 *
 * Invariants (abort() on violation):
 *  - proto_reseq() returns what proto_reseq_check() returns;
 *  - on error the buffer is byte-for-byte unchanged (check, then write);
 *  - on success only the id byte of each header changed, the k-th header
 *    (of *packets, counted by an independent header walk) carries
 *    first + k mod 256, and the last chunk is not 0xFFFFFF;
 *  - re-sequencing the result back to the input's first id restores the
 *    input exactly when the input's ids were consecutive (as a server's are).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_reseq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t first = data[0];
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    /* malloc(0) may return NULL; keep one byte so the pointer is valid but
     * pass n, so the target still sees an empty run. */
    uint8_t *buf = malloc(n ? n : 1);
    CHECK(buf);
    if (n)
        memcpy(buf, in, n);

    size_t packets = (size_t)-1;
    int crc = proto_reseq_check(buf, n, &packets);
    int rc = proto_reseq(buf, n, first);
    CHECK(rc == crc);
    if (rc != PROTO_OK) {
        CHECK(rc == PROTO_EBAD || rc == PROTO_ETRUNC);
        CHECK(packets == (size_t)-1);
        CHECK(n == 0 || memcmp(buf, in, n) == 0);
        free(buf);
        return 0;
    }

    /* Independent walk over the input's headers. */
    size_t off = 0, k = 0;
    uint32_t last_len = 0;
    bool consecutive = true;
    while (off < n) {
        CHECK(n - off >= PROTO_FRAME_HDR_LEN);
        uint32_t len = proto_le24(in + off);
        CHECK(n - off - PROTO_FRAME_HDR_LEN >= len);
        CHECK(memcmp(buf + off, in + off, 3) == 0);
        CHECK(buf[off + 3] == (uint8_t)(first + k));
        consecutive = consecutive && in[off + 3] == (uint8_t)(in[3] + k);
        CHECK(memcmp(buf + off + PROTO_FRAME_HDR_LEN, in + off + PROTO_FRAME_HDR_LEN, len) == 0);
        off += PROTO_FRAME_HDR_LEN + len;
        last_len = len;
        k++;
    }
    CHECK(k == packets && k > 0);
    CHECK(!proto_frame_continues(last_len));

    CHECK(proto_reseq(buf, n, in[3]) == PROTO_OK);
    CHECK(!consecutive || memcmp(buf, in, n) == 0);
    free(buf);
    return 0;
}
