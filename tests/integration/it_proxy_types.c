/*
 * it_proxy_types.c - the binary protocol through the proxy: prepared
 * statements (mysql_stmt_*) with every common column type.
 *  - rows inserted with bound parameters (extremes of every integer type,
 *    DECIMAL(30,10), FLOAT, DOUBLE, DATE, negative fractional TIME,
 *    DATETIME(6), TIMESTAMP, YEAR, CHAR, utf8mb4 VARCHAR/TEXT with emoji,
 *    BINARY and BLOB with every byte value, ENUM, SET, BIT, JSON, NULLs, empty
 *    strings) read back exactly by a prepared SELECT and by a text query,
 *    with the column types the server reports;
 *  - mysql_stmt_send_long_data in chunks, twice on one statement;
 *  - a read-only cursor fetched in batches, with another query run on the
 *    connection between fetches;
 *  - a 20 MiB blob (a packet over 16 MiB: continuation chunks) through a
 *    prepared INSERT and a text SELECT.
 * The servers need max_allowed_packet >= 64 MiB for the last one; group setup
 * raises it on every node that has less (cluster.sh starts them with 16 MiB).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy_env.h"

#define MAX_ALLOWED_PACKET (64u * 1024 * 1024)
#define BIG_BLOB_LEN       (20u * 1024 * 1024)

static struct cluster_env env;
static struct proxy_proc proxy;

/* ---- the type table ---- */

/* One cell: the bytes bound as the parameter (and expected back from a
 * prepared SELECT), and the text a text-protocol SELECT returns. */
struct cell {
    const void *buf;
    unsigned long len;
    const char *text;
    unsigned long text_len;
};

struct column {
    const char *name;
    const char *sql;             /* type in CREATE TABLE */
    enum enum_field_types bind;  /* parameter and result buffer type */
    bool is_unsigned;            /* parameter and result */
    enum enum_field_types field; /* type the server reports in metadata */
    struct cell row[2];          /* row 3 is all NULL */
};

/* Cells. Numbers and times are compound literals with static storage; a
 * string's length excludes the literal's NUL (binary values contain NULs). */
#define NUM(type, value, txt)                                                                      \
    {                                                                                              \
        &(type){value}, sizeof(type), txt, sizeof(txt) - 1                                         \
    }
#define STR(s)                                                                                     \
    {                                                                                              \
        s, sizeof(s) - 1, s, sizeof(s) - 1                                                         \
    }
#define TIME_CELL(txt, ...)                                                                        \
    {                                                                                              \
        &(MYSQL_TIME){__VA_ARGS__}, sizeof(MYSQL_TIME), txt, sizeof(txt) - 1                       \
    }

/* Every byte value 0..255, for BLOB; filled by group setup. */
static uint8_t all_bytes[256];

#define EMOJI_DOLPHIN "\xf0\x9f\x90\xac"
#define EMOJI_GRIN    "\xf0\x9f\x98\x80"
#define DOLPHINS4     EMOJI_DOLPHIN EMOJI_DOLPHIN EMOJI_DOLPHIN EMOJI_DOLPHIN

/* clang-format off */
static const struct column columns[] = {
    {"c_tiny", "TINYINT", MYSQL_TYPE_TINY, false, MYSQL_TYPE_TINY,
     {NUM(int8_t, -128, "-128"), NUM(int8_t, 127, "127")}},
    {"c_utiny", "TINYINT UNSIGNED", MYSQL_TYPE_TINY, true, MYSQL_TYPE_TINY,
     {NUM(uint8_t, 0, "0"), NUM(uint8_t, 255, "255")}},
    {"c_small", "SMALLINT", MYSQL_TYPE_SHORT, false, MYSQL_TYPE_SHORT,
     {NUM(int16_t, -32768, "-32768"), NUM(int16_t, 32767, "32767")}},
    {"c_usmall", "SMALLINT UNSIGNED", MYSQL_TYPE_SHORT, true, MYSQL_TYPE_SHORT,
     {NUM(uint16_t, 0, "0"), NUM(uint16_t, 65535, "65535")}},
    {"c_medium", "MEDIUMINT", MYSQL_TYPE_LONG, false, MYSQL_TYPE_INT24,
     {NUM(int32_t, -8388608, "-8388608"), NUM(int32_t, 8388607, "8388607")}},
    {"c_umedium", "MEDIUMINT UNSIGNED", MYSQL_TYPE_LONG, true, MYSQL_TYPE_INT24,
     {NUM(uint32_t, 0, "0"), NUM(uint32_t, 16777215, "16777215")}},
    {"c_int", "INT", MYSQL_TYPE_LONG, false, MYSQL_TYPE_LONG,
     {NUM(int32_t, INT32_MIN, "-2147483648"), NUM(int32_t, INT32_MAX, "2147483647")}},
    {"c_uint", "INT UNSIGNED", MYSQL_TYPE_LONG, true, MYSQL_TYPE_LONG,
     {NUM(uint32_t, 0, "0"), NUM(uint32_t, UINT32_MAX, "4294967295")}},
    {"c_big", "BIGINT", MYSQL_TYPE_LONGLONG, false, MYSQL_TYPE_LONGLONG,
     {NUM(int64_t, INT64_MIN, "-9223372036854775808"),
      NUM(int64_t, INT64_MAX, "9223372036854775807")}},
    {"c_ubig", "BIGINT UNSIGNED", MYSQL_TYPE_LONGLONG, true, MYSQL_TYPE_LONGLONG,
     {NUM(uint64_t, 0, "0"), NUM(uint64_t, UINT64_MAX, "18446744073709551615")}},
    {"c_dec", "DECIMAL(30,10)", MYSQL_TYPE_NEWDECIMAL, false, MYSQL_TYPE_NEWDECIMAL,
     {STR("-12345678901234567890.0123456789"), STR("99999999999999999999.9999999999")}},
    {"c_float", "FLOAT", MYSQL_TYPE_FLOAT, false, MYSQL_TYPE_FLOAT,
     {NUM(float, -0.15625f, "-0.15625"), NUM(float, 65504.5f, "65504.5")}},
    {"c_double", "DOUBLE", MYSQL_TYPE_DOUBLE, false, MYSQL_TYPE_DOUBLE,
     {NUM(double, -1.5e-300, "-1.5e-300"),
      NUM(double, 1.7976931348623157e308, "1.7976931348623157e308")}},
    {"c_date", "DATE", MYSQL_TYPE_DATE, false, MYSQL_TYPE_DATE,
     {TIME_CELL("1000-01-01", .year = 1000, .month = 1, .day = 1,
                .time_type = MYSQL_TIMESTAMP_DATE),
      TIME_CELL("9999-12-31", .year = 9999, .month = 12, .day = 31,
                .time_type = MYSQL_TIMESTAMP_DATE)}},
    /* Over 24 hours: a result carries days + hours and libmariadb folds them
     * into .hour; a parameter's .hour goes into a 1-byte field as is
     * (libmariadb 3.3 takes days from .day), so these stay below 256 h. */
    {"c_time", "TIME(6)", MYSQL_TYPE_TIME, false, MYSQL_TYPE_TIME,
     {TIME_CELL("-123:45:06.789012", .hour = 123, .minute = 45, .second = 6,
                .second_part = 789012, .neg = 1, .time_type = MYSQL_TIMESTAMP_TIME),
      TIME_CELL("200:00:00.000001", .hour = 200, .second_part = 1,
                .time_type = MYSQL_TIMESTAMP_TIME)}},
    {"c_datetime", "DATETIME(6)", MYSQL_TYPE_DATETIME, false, MYSQL_TYPE_DATETIME,
     {TIME_CELL("1000-01-01 00:00:00.000001", .year = 1000, .month = 1, .day = 1,
                .second_part = 1, .time_type = MYSQL_TIMESTAMP_DATETIME),
      TIME_CELL("9999-12-31 23:59:59.999999", .year = 9999, .month = 12, .day = 31,
                .hour = 23, .minute = 59, .second = 59, .second_part = 999999,
                .time_type = MYSQL_TIMESTAMP_DATETIME)}},
    {"c_ts", "TIMESTAMP NULL DEFAULT NULL", MYSQL_TYPE_TIMESTAMP, false, MYSQL_TYPE_TIMESTAMP,
     {TIME_CELL("2001-02-03 04:05:06", .year = 2001, .month = 2, .day = 3, .hour = 4,
                .minute = 5, .second = 6, .time_type = MYSQL_TIMESTAMP_DATETIME),
      TIME_CELL("2021-06-15 12:34:56", .year = 2021, .month = 6, .day = 15, .hour = 12,
                .minute = 34, .second = 56, .time_type = MYSQL_TIMESTAMP_DATETIME)}},
    /* YEAR is reported UNSIGNED ZEROFILL. */
    {"c_year", "YEAR", MYSQL_TYPE_SHORT, true, MYSQL_TYPE_YEAR,
     {NUM(uint16_t, 1901, "1901"), NUM(uint16_t, 2155, "2155")}},
    {"c_char", "CHAR(10)", MYSQL_TYPE_STRING, false, MYSQL_TYPE_STRING,
     {STR("a"), STR("zzzzzzzzzz")}},
    {"c_varchar", "VARCHAR(64)", MYSQL_TYPE_STRING, false, MYSQL_TYPE_VAR_STRING,
     {STR("h\xc3\xa9llo " EMOJI_DOLPHIN " w\xc3\xb6rld"), STR(DOLPHINS4 DOLPHINS4 DOLPHINS4)}},
    {"c_binary", "BINARY(8)", MYSQL_TYPE_BLOB, false, MYSQL_TYPE_STRING,
     {STR("\x00\x01\x02\xff\x00" "abc"), STR("\xff\xff\xff\xff\xff\xff\xff\xff")}},
    {"c_blob", "BLOB", MYSQL_TYPE_BLOB, false, MYSQL_TYPE_BLOB,
     {{all_bytes, sizeof all_bytes, (const char *)all_bytes, sizeof all_bytes}, STR("")}},
    {"c_text", "TEXT", MYSQL_TYPE_STRING, false, MYSQL_TYPE_BLOB,
     {STR("line 1\nline 2\t'quoted' \"double\" \\ back" EMOJI_GRIN), STR("")}},
    {"c_enum", "ENUM('small','medium','large')", MYSQL_TYPE_STRING, false, MYSQL_TYPE_STRING,
     {STR("small"), STR("large")}},
    {"c_set", "SET('a','b','c','d')", MYSQL_TYPE_STRING, false, MYSQL_TYPE_STRING,
     {STR("a,c"), STR("a,b,c,d")}},
    /* BIT(12) travels as its big-endian bytes in both protocols. */
    {"c_bit", "BIT(12)", MYSQL_TYPE_BLOB, false, MYSQL_TYPE_BIT,
     {STR("\x0a\xbc"), STR("\x0f\xff")}},
    {"c_json", "JSON", MYSQL_TYPE_STRING, false, MYSQL_TYPE_BLOB,
     {STR("{\"k\": [1, 2.5, \"x\"], \"u\": \"\xc3\xa9\"}"), STR("[]")}},
};
/* clang-format on */

#define N_COLS  (sizeof columns / sizeof columns[0])
#define N_ROWS  3 /* ids 1, 2 from the table; 3 is all NULL */
#define BUF_MAX 512

static bool is_time_type(enum enum_field_types t)
{
    return t == MYSQL_TYPE_DATE || t == MYSQL_TYPE_TIME || t == MYSQL_TYPE_DATETIME ||
           t == MYSQL_TYPE_TIMESTAMP;
}

/* ---- helpers ---- */

static void execf(MYSQL *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void execf(MYSQL *m, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    cluster_exec(m, sql);
}

static void stmt_check(MYSQL_STMT *st, int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s: %u %s\n", what, mysql_stmt_errno(st), mysql_stmt_error(st));
        fail();
    }
}

static MYSQL_STMT *prepare(MYSQL *m, const char *sql)
{
    MYSQL_STMT *st = mysql_stmt_init(m);
    assert_non_null(st);
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        fprintf(stderr, "prepare '%s': %s\n", sql, mysql_stmt_error(st));
        fail();
    }
    return st;
}

static MYSQL *connect_utf8mb4(void)
{
    MYSQL *m = proxy_mysql_init();
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    return proxy_connect_with(&proxy, m, "gtidproxy_test", 0);
}

/* "c_tiny, c_utiny, ..." */
static void column_list(char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < N_COLS; i++) {
        strncat(out, i ? ", " : "", len - strlen(out) - 1);
        strncat(out, columns[i].name, len - strlen(out) - 1);
    }
}

/* Creates `table` with every column and inserts rows 1, 2 and the all-NULL
 * row 3 through one prepared INSERT with bound parameters. */
static void insert_typed_rows(MYSQL *m, const char *table)
{
    char cols[1024], defs[2048] = "id INT PRIMARY KEY", marks[256] = "?";
    column_list(cols, sizeof cols);
    for (size_t i = 0; i < N_COLS; i++) {
        size_t d = strlen(defs);
        snprintf(defs + d, sizeof defs - d, ", %s %s", columns[i].name, columns[i].sql);
        strncat(marks, ", ?", sizeof marks - strlen(marks) - 1);
    }
    execf(m, "DROP TABLE IF EXISTS %s", table);
    execf(m, "CREATE TABLE %s (%s) DEFAULT CHARSET=utf8mb4", table, defs);

    char sql[2048];
    snprintf(sql, sizeof sql, "INSERT INTO %s (id, %s) VALUES (%s)", table, cols, marks);
    MYSQL_STMT *st = prepare(m, sql);
    assert_int_equal(mysql_stmt_param_count(st), N_COLS + 1);

    for (int r = 0; r < N_ROWS; r++) {
        MYSQL_BIND b[N_COLS + 1];
        unsigned long lens[N_COLS + 1];
        my_bool null_flag = 1;
        int32_t id = r + 1;
        memset(b, 0, sizeof b);
        b[0].buffer_type = MYSQL_TYPE_LONG;
        b[0].buffer = &id;
        for (size_t i = 0; i < N_COLS; i++) {
            const struct column *c = &columns[i];
            MYSQL_BIND *p = &b[i + 1];
            p->buffer_type = c->bind;
            p->is_unsigned = c->is_unsigned;
            if (r == 2) {
                p->is_null = &null_flag;
                continue;
            }
            p->buffer = (void *)c->row[r].buf;
            lens[i + 1] = c->row[r].len;
            p->buffer_length = c->row[r].len;
            p->length = &lens[i + 1];
        }
        stmt_check(st, mysql_stmt_bind_param(st, b), "bind_param");
        stmt_check(st, mysql_stmt_execute(st), "execute insert");
        assert_int_equal(mysql_stmt_affected_rows(st), 1);
    }
    mysql_stmt_close(st);
    /* The reads below may run on replicas. */
    proxy_sync_replicas(&proxy);
}

static void expect_time_equal(const MYSQL_TIME *want, const MYSQL_TIME *got, const char *name)
{
    if (want->year != got->year || want->month != got->month || want->day != got->day ||
        want->hour != got->hour || want->minute != got->minute || want->second != got->second ||
        want->second_part != got->second_part || want->neg != got->neg ||
        want->time_type != got->time_type) {
        fprintf(stderr,
                "%s: got %s%u-%u-%u %u:%u:%u.%06lu type %d, want %s%u-%u-%u %u:%u:%u.%06lu "
                "type %d\n",
                name, got->neg ? "-" : "", got->year, got->month, got->day, got->hour, got->minute,
                got->second, got->second_part, (int)got->time_type, want->neg ? "-" : "",
                want->year, want->month, want->day, want->hour, want->minute, want->second,
                want->second_part, (int)want->time_type);
        fail();
    }
}

static void expect_bytes(const char *name, int row, const void *want, unsigned long want_len,
                         const void *got, unsigned long got_len)
{
    if (want_len != got_len || memcmp(want, got, want_len) != 0) {
        fprintf(stderr, "%s row %d: got %lu bytes, want %lu bytes", name, row + 1, got_len,
                want_len);
        if (got_len < 80)
            fprintf(stderr, " ('%.*s')", (int)got_len, (const char *)got);
        fprintf(stderr, "\n");
        fail();
    }
}

static void expect_field_types(const MYSQL_FIELD *fields, unsigned n)
{
    assert_int_equal(n, N_COLS);
    for (size_t i = 0; i < N_COLS; i++) {
        if (fields[i].type != columns[i].field) {
            fprintf(stderr, "%s: field type %d, want %d\n", columns[i].name, (int)fields[i].type,
                    (int)columns[i].field);
            fail();
        }
        assert_string_equal(fields[i].name, columns[i].name);
        /* MariaDB flags TIMESTAMP and BIT columns UNSIGNED too. */
        bool want_unsigned = columns[i].is_unsigned || columns[i].field == MYSQL_TYPE_TIMESTAMP ||
                             columns[i].field == MYSQL_TYPE_BIT;
        if (((fields[i].flags & UNSIGNED_FLAG) != 0) != want_unsigned) {
            fprintf(stderr, "%s: flags 0x%x\n", columns[i].name, fields[i].flags);
            fail();
        }
    }
}

/* ---- tests ---- */

static void test_prepared_select_reads_back_every_type(void **state)
{
    (void)state;
    MYSQL *m = connect_utf8mb4();
    insert_typed_rows(m, "types_ps");

    char cols[1024], sql[1200];
    column_list(cols, sizeof cols);
    snprintf(sql, sizeof sql, "SELECT %s FROM types_ps WHERE id = ?", cols);
    MYSQL_STMT *st = prepare(m, sql);
    assert_int_equal(mysql_stmt_field_count(st), N_COLS);
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    assert_non_null(meta);
    expect_field_types(mysql_fetch_fields(meta), mysql_num_fields(meta));
    mysql_free_result(meta);

    for (int r = 0; r < N_ROWS; r++) {
        int32_t id = r + 1;
        MYSQL_BIND param;
        memset(&param, 0, sizeof param);
        param.buffer_type = MYSQL_TYPE_LONG;
        param.buffer = &id;
        stmt_check(st, mysql_stmt_bind_param(st, &param), "bind_param");
        stmt_check(st, mysql_stmt_execute(st), "execute select");

        MYSQL_BIND out[N_COLS];
        static uint8_t bufs[N_COLS][BUF_MAX];
        unsigned long lens[N_COLS];
        /* libmariadb sets *error only where it converts: zero them first. */
        my_bool nulls[N_COLS] = {0}, errors[N_COLS] = {0};
        memset(out, 0, sizeof out);
        memset(bufs, 0xa5, sizeof bufs);
        for (size_t i = 0; i < N_COLS; i++) {
            out[i].buffer_type = columns[i].bind;
            out[i].is_unsigned = columns[i].is_unsigned;
            out[i].buffer = bufs[i];
            out[i].buffer_length = BUF_MAX;
            out[i].length = &lens[i];
            out[i].is_null = &nulls[i];
            out[i].error = &errors[i];
        }
        stmt_check(st, mysql_stmt_bind_result(st, out), "bind_result");
        int rc = mysql_stmt_fetch(st);
        if (rc != 0)
            fprintf(stderr, "fetch row %d: rc %d %s\n", r + 1, rc, mysql_stmt_error(st));
        for (size_t i = 0; rc == MYSQL_DATA_TRUNCATED && i < N_COLS; i++)
            if (errors[i])
                fprintf(stderr, "  %s truncated (length %lu)\n", columns[i].name, lens[i]);
        assert_int_equal(rc, 0);

        for (size_t i = 0; i < N_COLS; i++) {
            const struct column *c = &columns[i];
            if (r == 2) {
                assert_true(nulls[i]);
                continue;
            }
            assert_false(nulls[i]);
            assert_false(errors[i]);
            const struct cell *want = &c->row[r];
            if (is_time_type(c->bind))
                expect_time_equal(want->buf, (const MYSQL_TIME *)bufs[i], c->name);
            else if (c->bind == MYSQL_TYPE_STRING || c->bind == MYSQL_TYPE_BLOB ||
                     c->bind == MYSQL_TYPE_NEWDECIMAL)
                expect_bytes(c->name, r, want->buf, want->len, bufs[i], lens[i]);
            else /* fixed-size numbers: the exact bits, floats included */
                expect_bytes(c->name, r, want->buf, want->len, bufs[i], want->len);
        }
        assert_int_equal(mysql_stmt_fetch(st), MYSQL_NO_DATA);
        stmt_check(st, mysql_stmt_free_result(st), "free_result");
    }
    mysql_stmt_close(st);
    mysql_close(m);
}

static void test_text_select_reads_back_every_type(void **state)
{
    (void)state;
    MYSQL *m = connect_utf8mb4();
    insert_typed_rows(m, "types_text");

    char cols[1024];
    column_list(cols, sizeof cols);
    execf(m, "SELECT %s FROM types_text ORDER BY id", cols);
    MYSQL_RES *res = mysql_store_result(m);
    assert_non_null(res);
    expect_field_types(mysql_fetch_fields(res), mysql_num_fields(res));
    assert_int_equal(mysql_num_rows(res), N_ROWS);
    for (int r = 0; r < N_ROWS; r++) {
        MYSQL_ROW row = mysql_fetch_row(res);
        assert_non_null(row);
        unsigned long *lens = mysql_fetch_lengths(res);
        for (size_t i = 0; i < N_COLS; i++) {
            if (r == 2) {
                assert_null(row[i]);
                continue;
            }
            assert_non_null(row[i]);
            const struct cell *want = &columns[i].row[r];
            expect_bytes(columns[i].name, r, want->text, want->text_len, row[i], lens[i]);
        }
    }
    mysql_free_result(res);
    mysql_close(m);
}

/* A deterministic pseudo-random byte pattern (xorshift), different per seed. */
static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static void test_send_long_data(void **state)
{
    (void)state;
    MYSQL *m = connect_utf8mb4();
    execf(m, "DROP TABLE IF EXISTS types_long_data");
    execf(m, "CREATE TABLE types_long_data (id INT PRIMARY KEY, t LONGTEXT, b LONGBLOB) "
             "DEFAULT CHARSET=utf8mb4");
    MYSQL_STMT *st = prepare(m, "INSERT INTO types_long_data VALUES (?, ?, ?)");

    enum { CHUNK = 64 * 1024, CHUNKS = 5 };
    uint8_t *blob = malloc(CHUNK * CHUNKS);
    assert_non_null(blob);
    static const char *text_parts[] = {("first part " EMOJI_GRIN ", "), "second part, ",
                                       ("third and last " EMOJI_DOLPHIN)};
    char text[256] = "";
    for (size_t k = 0; k < 3; k++)
        strncat(text, text_parts[k], sizeof text - strlen(text) - 1);

    /* The same statement twice: long data belongs to one execution. */
    for (int32_t id = 1; id <= 2; id++) {
        fill_pattern(blob, CHUNK * CHUNKS, (uint32_t)id);
        MYSQL_BIND b[3];
        memset(b, 0, sizeof b);
        b[0].buffer_type = MYSQL_TYPE_LONG;
        b[0].buffer = &id;
        b[1].buffer_type = MYSQL_TYPE_STRING; /* no buffer: all from long data */
        b[2].buffer_type = MYSQL_TYPE_BLOB;
        stmt_check(st, mysql_stmt_bind_param(st, b), "bind_param");
        for (size_t k = 0; k < 3; k++)
            stmt_check(st, mysql_stmt_send_long_data(st, 1, text_parts[k], strlen(text_parts[k])),
                       "send_long_data text");
        for (int k = 0; k < CHUNKS; k++)
            stmt_check(st, mysql_stmt_send_long_data(st, 2, (const char *)blob + k * CHUNK, CHUNK),
                       "send_long_data blob");
        stmt_check(st, mysql_stmt_execute(st), "execute");
        assert_int_equal(mysql_stmt_affected_rows(st), 1);
    }
    mysql_stmt_close(st);

    proxy_sync_replicas(&proxy);
    execf(m, "SELECT id, t, b FROM types_long_data ORDER BY id");
    MYSQL_RES *res = mysql_store_result(m);
    assert_non_null(res);
    assert_int_equal(mysql_num_rows(res), 2);
    for (uint32_t id = 1; id <= 2; id++) {
        MYSQL_ROW row = mysql_fetch_row(res);
        unsigned long *lens = mysql_fetch_lengths(res);
        fill_pattern(blob, CHUNK * CHUNKS, id);
        assert_int_equal(atoi(row[0]), id);
        expect_bytes("t", (int)id - 1, text, strlen(text), row[1], lens[1]);
        expect_bytes("b", (int)id - 1, blob, CHUNK * CHUNKS, row[2], lens[2]);
    }
    mysql_free_result(res);
    free(blob);
    mysql_close(m);
}

static void test_cursor_fetches_in_batches(void **state)
{
    (void)state;
    enum { ROWS = 100 };
    MYSQL *m = connect_utf8mb4();
    execf(m, "DROP TABLE IF EXISTS types_cursor");
    execf(m, "CREATE TABLE types_cursor (id INT PRIMARY KEY, label VARCHAR(16))");
    char sql[8192] = "INSERT INTO types_cursor VALUES ";
    for (int i = 1; i <= ROWS; i++) {
        size_t n = strlen(sql);
        snprintf(sql + n, sizeof sql - n, "%s(%d, 'row%d')", i > 1 ? ", " : "", i, i);
    }
    cluster_exec(m, sql);
    proxy_sync_replicas(&proxy);

    MYSQL_STMT *st = prepare(m, "SELECT id, label FROM types_cursor ORDER BY id");
    unsigned long cursor = CURSOR_TYPE_READ_ONLY, prefetch = 7;
    assert_int_equal(mysql_stmt_attr_set(st, STMT_ATTR_CURSOR_TYPE, &cursor), 0);
    assert_int_equal(mysql_stmt_attr_set(st, STMT_ATTR_PREFETCH_ROWS, &prefetch), 0);
    stmt_check(st, mysql_stmt_execute(st), "execute with cursor");
    /* The server opened a cursor: rows come by COM_STMT_FETCH, 7 at a time. */
    unsigned status = 0;
    assert_int_equal(mariadb_get_infov(m, MARIADB_CONNECTION_SERVER_STATUS, &status), 0);
    assert_true(status & SERVER_STATUS_CURSOR_EXISTS);

    int32_t id = 0;
    char label[16];
    unsigned long label_len = 0;
    MYSQL_BIND out[2];
    memset(out, 0, sizeof out);
    out[0].buffer_type = MYSQL_TYPE_LONG;
    out[0].buffer = &id;
    out[1].buffer_type = MYSQL_TYPE_STRING;
    out[1].buffer = label;
    out[1].buffer_length = sizeof label;
    out[1].length = &label_len;
    stmt_check(st, mysql_stmt_bind_result(st, out), "bind_result");

    for (int want = 1; want <= ROWS; want++) {
        assert_int_equal(mysql_stmt_fetch(st), 0);
        assert_int_equal(id, want);
        char want_label[16];
        snprintf(want_label, sizeof want_label, "row%d", want);
        expect_bytes("label", want - 1, want_label, strlen(want_label), label, label_len);
        if (want == 10) {
            /* Between fetches the connection runs other statements; the
             * cursor stays open on its server. */
            char *v = cluster_query_value(m, "SELECT COUNT(*) FROM types_cursor");
            assert_string_equal(v, "100");
            free(v);
        }
    }
    assert_int_equal(mysql_stmt_fetch(st), MYSQL_NO_DATA);
    mysql_stmt_close(st);
    mysql_close(m);
}

static void test_blob_20mb_round_trip(void **state)
{
    (void)state;
    MYSQL *m = connect_utf8mb4();
    execf(m, "DROP TABLE IF EXISTS types_big_blob");
    execf(m, "CREATE TABLE types_big_blob (id INT PRIMARY KEY, b LONGBLOB)");

    uint8_t *blob = malloc(BIG_BLOB_LEN);
    assert_non_null(blob);
    fill_pattern(blob, BIG_BLOB_LEN, 20);
    MYSQL_STMT *st = prepare(m, "INSERT INTO types_big_blob VALUES (1, ?)");
    unsigned long len = BIG_BLOB_LEN;
    MYSQL_BIND b;
    memset(&b, 0, sizeof b);
    b.buffer_type = MYSQL_TYPE_LONG_BLOB;
    b.buffer = blob;
    b.buffer_length = len;
    b.length = &len;
    stmt_check(st, mysql_stmt_bind_param(st, &b), "bind_param");
    stmt_check(st, mysql_stmt_execute(st), "execute 20 MiB insert");
    assert_int_equal(mysql_stmt_affected_rows(st), 1);
    mysql_stmt_close(st);

    proxy_sync_replicas(&proxy);
    cluster_exec(m, "SELECT b, LENGTH(b) FROM types_big_blob WHERE id = 1");
    MYSQL_RES *res = mysql_store_result(m);
    assert_non_null(res);
    MYSQL_ROW row = mysql_fetch_row(res);
    assert_non_null(row);
    unsigned long *lens = mysql_fetch_lengths(res);
    assert_int_equal(strtoul(row[1], NULL, 10), BIG_BLOB_LEN);
    expect_bytes("b", 0, blob, BIG_BLOB_LEN, row[0], lens[0]);
    mysql_free_result(res);
    free(blob);
    mysql_close(m);
}

/* ---- group ---- */

static MYSQL *admin_connect(int node)
{
    MYSQL *m = mysql_init(NULL);
    assert_non_null(m);
    unsigned port = node == 0 ? env.primary_port : env.replica_ports[node - 1];
    if (!mysql_real_connect(m, env.host, env.admin_user, env.admin_password, NULL, port, NULL, 0)) {
        fprintf(stderr, "admin connect to node %d: %s\n", node, mysql_error(m));
        fail();
    }
    return m;
}

/* The 20 MiB row needs max_allowed_packet above it on the primary (insert)
 * and on the replica that serves the read. A global change applies to
 * sessions opened later: the proxy's backend connections are opened lazily,
 * after this. */
static void raise_max_allowed_packet(void)
{
    for (int node = 0; node <= env.replicas; node++) {
        MYSQL *m = admin_connect(node);
        char *v = cluster_query_value(m, "SELECT @@GLOBAL.max_allowed_packet");
        if (strtoul(v, NULL, 10) < MAX_ALLOWED_PACKET) {
            fprintf(stderr,
                    "it_proxy_types: node %d had max_allowed_packet %s; setting %u "
                    "(cluster.sh could start nodes with --max-allowed-packet=64M)\n",
                    node, v, MAX_ALLOWED_PACKET);
            char sql[96];
            snprintf(sql, sizeof sql, "SET GLOBAL max_allowed_packet = %u", MAX_ALLOWED_PACKET);
            cluster_exec(m, sql);
        }
        free(v);
        mysql_close(m);
    }
}

static int group_setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof all_bytes; i++)
        all_bytes[i] = (uint8_t)i;
    cluster_env_load(&env);
    raise_max_allowed_packet();
    proxy_start(&proxy, &env, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    proxy_stop(&proxy);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepared_select_reads_back_every_type),
        cmocka_unit_test(test_text_select_reads_back_every_type),
        cmocka_unit_test(test_send_long_data),
        cmocka_unit_test(test_cursor_fetches_in_batches),
        cmocka_unit_test(test_blob_20mb_round_trip),
    };
    return proxy_run_group_tests(tests, group_setup, group_teardown);
}
