/* test_rw.c - wire primitives: lenenc boundaries, truncation, sticky writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/proto_rw.h"
#include "testsupport.h"

struct lenenc_vec {
    const char *hex;
    uint64_t value;
};

/* Each boundary of the length-encoded integer, byte-exact. */
static const struct lenenc_vec lenenc_vecs[] = {
    {"00", 0},
    {"fa", 250},
    {"fcfb00", 251},
    {"fcffff", 65535},
    {"fd000001", 65536},
    {"fdffffff", 16777215},
    {"fe0000000100000000", 16777216},
    {"feffffffffffffffff", UINT64_MAX},
};

static void test_lenenc_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof lenenc_vecs / sizeof lenenc_vecs[0]; i++) {
        uint8_t want[16], got[16];
        size_t n = tu_hex(lenenc_vecs[i].hex, want, sizeof want);
        struct proto_wr w;
        proto_wr_init(&w, got, sizeof got);
        proto_wr_lenenc(&w, lenenc_vecs[i].value);
        assert_int_equal(proto_wr_finish(&w), PROTO_OK);
        assert_int_equal(w.len, n);
        assert_memory_equal(got, want, n);
        assert_int_equal(proto_lenenc_size(lenenc_vecs[i].value), n);

        struct proto_rd r;
        uint64_t v;
        bool is_null = true;
        proto_rd_init(&r, want, n);
        assert_int_equal(proto_rd_lenenc(&r, &v, &is_null), PROTO_OK);
        assert_true(v == lenenc_vecs[i].value);
        assert_false(is_null);
        assert_int_equal(proto_rd_left(&r), 0);

        /* Every truncation fails without moving the cursor. */
        for (size_t cut = 0; cut < n; cut++) {
            proto_rd_init(&r, want, cut);
            assert_int_equal(proto_rd_lenenc(&r, &v, NULL), PROTO_ETRUNC);
            assert_int_equal(r.pos, 0);
        }
    }
}

static void test_lenenc_null_and_ff(void **state)
{
    (void)state;
    const uint8_t null_byte = 0xFB, ff = 0xFF;
    struct proto_rd r;
    uint64_t v = 7;
    bool is_null = false;

    proto_rd_init(&r, &null_byte, 1);
    assert_int_equal(proto_rd_lenenc(&r, &v, &is_null), PROTO_OK);
    assert_true(is_null);
    assert_true(v == 0);

    proto_rd_init(&r, &null_byte, 1);
    assert_int_equal(proto_rd_lenenc(&r, &v, NULL), PROTO_EBAD);

    proto_rd_init(&r, &ff, 1);
    assert_int_equal(proto_rd_lenenc(&r, &v, &is_null), PROTO_EBAD);
}

static void test_lenenc_str_overlong(void **state)
{
    (void)state;
    uint8_t buf[8];
    /* Claims 5 bytes, has 3: an error, never a read past the end. */
    size_t n = tu_hex("05 61 62 63", buf, sizeof buf);
    struct proto_rd r;
    struct proto_str s;
    proto_rd_init(&r, buf, n);
    assert_int_equal(proto_rd_lenenc_str(&r, &s), PROTO_ETRUNC);
    assert_int_equal(r.pos, 0);

    n = tu_hex("03 61 62 63 ff", buf, sizeof buf);
    proto_rd_init(&r, buf, n);
    assert_int_equal(proto_rd_lenenc_str(&r, &s), PROTO_OK);
    assert_true(proto_str_eq(s, "abc"));
    assert_int_equal(proto_rd_left(&r), 1);
}

static void test_fixed_and_nul(void **state)
{
    (void)state;
    uint8_t buf[32];
    size_t n = tu_hex("0102 030405 06070809 6869 00 0a0b0c0d0e0f1011", buf, sizeof buf);
    struct proto_rd r;
    uint16_t u16;
    uint32_t u24, u32;
    uint64_t u64;
    struct proto_str s;
    proto_rd_init(&r, buf, n);
    assert_int_equal(proto_rd_u16(&r, &u16), PROTO_OK);
    assert_int_equal(u16, 0x0201);
    assert_int_equal(proto_rd_u24(&r, &u24), PROTO_OK);
    assert_int_equal(u24, 0x050403);
    assert_int_equal(proto_rd_u32(&r, &u32), PROTO_OK);
    assert_int_equal(u32, 0x09080706);
    assert_int_equal(proto_rd_nul_str(&r, &s), PROTO_OK);
    assert_true(proto_str_eq(s, "hi"));
    assert_int_equal(proto_rd_u64(&r, &u64), PROTO_OK);
    assert_true(u64 == 0x11100f0e0d0c0b0aULL);
    assert_int_equal(proto_rd_u8(&r, (uint8_t *)buf), PROTO_ETRUNC);

    /* A NUL string without its NUL is truncated, not read past. */
    proto_rd_init(&r, "abc", 3);
    assert_int_equal(proto_rd_nul_str(&r, &s), PROTO_ETRUNC);
    assert_int_equal(r.pos, 0);
}

static void test_writer_sticky_overflow(void **state)
{
    (void)state;
    uint8_t buf[4];
    struct proto_wr w;
    proto_wr_init(&w, buf, sizeof buf);
    proto_wr_u16(&w, 0xBEEF);
    proto_wr_u24(&w, 1); /* does not fit */
    proto_wr_u8(&w, 0x42); /* would fit, but the error is sticky */
    assert_int_equal(proto_wr_finish(&w), PROTO_ENOSPACE);
    assert_int_equal(w.len, 2);
    assert_string_equal(proto_status_str(PROTO_ENOSPACE), "output buffer too small");
}

static void test_writer_strings(void **state)
{
    (void)state;
    uint8_t buf[32], want[32];
    struct proto_wr w;
    proto_wr_init(&w, buf, sizeof buf);
    proto_wr_lenenc_str(&w, "abc", 3);
    proto_wr_nul_str(&w, "de", 2);
    proto_wr_zeros(&w, 2);
    proto_wr_u32(&w, 0x01020304);
    size_t n = tu_hex("03616263 646500 0000 04030201", want, sizeof want);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    assert_int_equal(w.len, n);
    assert_memory_equal(buf, want, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lenenc_roundtrip),
        cmocka_unit_test(test_lenenc_null_and_ff),
        cmocka_unit_test(test_lenenc_str_overlong),
        cmocka_unit_test(test_fixed_and_nul),
        cmocka_unit_test(test_writer_sticky_overflow),
        cmocka_unit_test(test_writer_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
