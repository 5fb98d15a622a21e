/* test_monitor.c - the monitor's pure decisions (proxy/monitor_parse.h):
 * flavor from version strings, the SQL each flavor gets, and what SHOW
 * SLAVE|REPLICA STATUS results say. The MariaDB column list is what a
 * MariaDB 10.11.19 replica returned (mysql_fetch_fields, in order); the
 * MySQL one follows MySQL 8.4's SHOW REPLICA STATUS documentation. No
 * MySQL server runs here, so these tables are the MySQL flavor's test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "monitor_parse.h"

static const char *const mariadb_cols[] = {"Slave_IO_State",
                                           "Master_Host",
                                           "Master_User",
                                           "Master_Port",
                                           "Connect_Retry",
                                           "Master_Log_File",
                                           "Read_Master_Log_Pos",
                                           "Relay_Log_File",
                                           "Relay_Log_Pos",
                                           "Relay_Master_Log_File",
                                           "Slave_IO_Running",
                                           "Slave_SQL_Running",
                                           "Replicate_Do_DB",
                                           "Replicate_Ignore_DB",
                                           "Replicate_Do_Table",
                                           "Replicate_Ignore_Table",
                                           "Replicate_Wild_Do_Table",
                                           "Replicate_Wild_Ignore_Table",
                                           "Last_Errno",
                                           "Last_Error",
                                           "Skip_Counter",
                                           "Exec_Master_Log_Pos",
                                           "Relay_Log_Space",
                                           "Until_Condition",
                                           "Until_Log_File",
                                           "Until_Log_Pos",
                                           "Master_SSL_Allowed",
                                           "Master_SSL_CA_File",
                                           "Master_SSL_CA_Path",
                                           "Master_SSL_Cert",
                                           "Master_SSL_Cipher",
                                           "Master_SSL_Key",
                                           "Seconds_Behind_Master",
                                           "Master_SSL_Verify_Server_Cert",
                                           "Last_IO_Errno",
                                           "Last_IO_Error",
                                           "Last_SQL_Errno",
                                           "Last_SQL_Error",
                                           "Replicate_Ignore_Server_Ids",
                                           "Master_Server_Id",
                                           "Master_SSL_Crl",
                                           "Master_SSL_Crlpath",
                                           "Using_Gtid",
                                           "Gtid_IO_Pos",
                                           "Replicate_Do_Domain_Ids",
                                           "Replicate_Ignore_Domain_Ids",
                                           "Parallel_Mode",
                                           "SQL_Delay",
                                           "SQL_Remaining_Delay",
                                           "Slave_SQL_Running_State",
                                           "Slave_DDL_Groups",
                                           "Slave_Non_Transactional_Groups",
                                           "Slave_Transactional_Groups",
                                           "Replicate_Rewrite_DB"};
#define MARIADB_NCOLS (sizeof mariadb_cols / sizeof mariadb_cols[0])

static const char *const mysql_cols[] = {"Replica_IO_State",
                                         "Source_Host",
                                         "Source_User",
                                         "Source_Port",
                                         "Connect_Retry",
                                         "Source_Log_File",
                                         "Read_Source_Log_Pos",
                                         "Relay_Log_File",
                                         "Relay_Log_Pos",
                                         "Relay_Source_Log_File",
                                         "Replica_IO_Running",
                                         "Replica_SQL_Running",
                                         "Replicate_Do_DB",
                                         "Replicate_Ignore_DB",
                                         "Replicate_Do_Table",
                                         "Replicate_Ignore_Table",
                                         "Replicate_Wild_Do_Table",
                                         "Replicate_Wild_Ignore_Table",
                                         "Last_Errno",
                                         "Last_Error",
                                         "Skip_Counter",
                                         "Exec_Source_Log_Pos",
                                         "Relay_Log_Space",
                                         "Until_Condition",
                                         "Until_Log_File",
                                         "Until_Log_Pos",
                                         "Source_SSL_Allowed",
                                         "Source_SSL_CA_File",
                                         "Source_SSL_CA_Path",
                                         "Source_SSL_Cert",
                                         "Source_SSL_Cipher",
                                         "Source_SSL_Key",
                                         "Seconds_Behind_Source",
                                         "Source_SSL_Verify_Server_Cert",
                                         "Last_IO_Errno",
                                         "Last_IO_Error",
                                         "Last_SQL_Errno",
                                         "Last_SQL_Error",
                                         "Replicate_Ignore_Server_Ids",
                                         "Source_Server_Id",
                                         "Source_UUID",
                                         "Source_Info_File",
                                         "SQL_Delay",
                                         "SQL_Remaining_Delay",
                                         "Replica_SQL_Running_State",
                                         "Source_Retry_Count",
                                         "Source_Bind",
                                         "Last_IO_Error_Timestamp",
                                         "Last_SQL_Error_Timestamp",
                                         "Source_SSL_Crl",
                                         "Source_SSL_Crlpath",
                                         "Retrieved_Gtid_Set",
                                         "Executed_Gtid_Set",
                                         "Auto_Position",
                                         "Replicate_Rewrite_DB",
                                         "Channel_Name"};
#define MYSQL_NCOLS (sizeof mysql_cols / sizeof mysql_cols[0])

static struct mon_repl_cols cols_of(const char *const *names, size_t n)
{
    struct mon_repl_cols c;
    mon_repl_cols_init(&c);
    for (size_t i = 0; i < n; i++)
        mon_repl_cols_note(&c, (int)i, names[i]);
    return c;
}

/* A row of n filler cells with the three we read set as given. */
static void make_row(const char **row, size_t n, const struct mon_repl_cols *c, const char *io,
                     const char *sql, const char *lag)
{
    for (size_t i = 0; i < n; i++)
        row[i] = "x";
    row[c->io] = io;
    row[c->sql] = sql;
    row[c->lag] = lag;
}

static void test_flavor_and_sql(void **state)
{
    (void)state;
    assert_int_equal(mon_flavor_of_version("10.11.19-MariaDB-0+deb12u1-log"), GTID_FLAVOR_MARIADB);
    assert_int_equal(mon_flavor_of_version("5.5.5-10.6.12-MariaDB"), GTID_FLAVOR_MARIADB);
    assert_int_equal(mon_flavor_of_version("8.4.0"), GTID_FLAVOR_MYSQL);
    assert_int_equal(mon_flavor_of_version("8.0.36-0ubuntu0.22.04.1"), GTID_FLAVOR_MYSQL);
    assert_int_equal(mon_flavor_of_version(NULL), GTID_FLAVOR_MYSQL);

    assert_string_equal(mon_sql_applied(GTID_FLAVOR_MARIADB, false), "SELECT @@gtid_slave_pos");
    assert_string_equal(mon_sql_applied(GTID_FLAVOR_MARIADB, true), "SELECT @@gtid_binlog_pos");
    assert_string_equal(mon_sql_applied(GTID_FLAVOR_MYSQL, false), "SELECT @@GLOBAL.gtid_executed");
    assert_string_equal(mon_sql_applied(GTID_FLAVOR_MYSQL, true), "SELECT @@GLOBAL.gtid_executed");
    assert_string_equal(mon_sql_repl_status(GTID_FLAVOR_MARIADB), "SHOW SLAVE STATUS");
    assert_string_equal(mon_sql_repl_status(GTID_FLAVOR_MYSQL), "SHOW REPLICA STATUS");
}

static void test_columns_found_by_name(void **state)
{
    (void)state;
    struct mon_repl_cols c = cols_of(mariadb_cols, MARIADB_NCOLS);
    assert_int_equal(c.io, 10);
    assert_int_equal(c.sql, 11);
    assert_int_equal(c.lag, 32);
    c = cols_of(mysql_cols, MYSQL_NCOLS);
    assert_int_equal(c.io, 10);
    assert_int_equal(c.sql, 11);
    assert_int_equal(c.lag, 32);
    /* Another order: found wherever they are. */
    static const char *const shuffled[] = {"Seconds_Behind_Source", "Channel_Name",
                                           "Replica_SQL_Running", "Replica_IO_Running"};
    c = cols_of(shuffled, 4);
    assert_int_equal(c.lag, 0);
    assert_int_equal(c.sql, 2);
    assert_int_equal(c.io, 3);
    /* Similar names are not ours. */
    static const char *const near[] = {"Slave_IO_State", "Slave_SQL_Running_State",
                                       "Replica_SQL_Running_State", "SQL_Delay"};
    c = cols_of(near, 4);
    assert_int_equal(c.io, -1);
    assert_int_equal(c.sql, -1);
    assert_int_equal(c.lag, -1);
}

static void test_one_row(void **state)
{
    (void)state;
    static const struct {
        const char *io, *sql, *lag;
        bool replicating, applying;
        int64_t lag_ms;
    } cases[] = {
        {"Yes", "Yes", "0", true, true, 0},
        {"Yes", "Yes", "7", true, true, 7000},
        {"Yes", "No", NULL, false, false, -1}, /* SQL thread stopped: lag NULL */
        {"No", "Yes", "3", false, true, 3000},
        {"Connecting", "Yes", "0", false, true, 0}, /* MySQL's IO thread before it connected */
        {"Preparing", "Yes", "0", false, true, 0},  /* MariaDB's */
        {"yes", "Yes", "0", false, true, 0},        /* only the server's exact spelling */
        {NULL, "Yes", "0", false, true, 0},
        {"Yes", "no", "0", false, false, 0},
    };
    for (int flavor = 0; flavor < 2; flavor++) {
        const char *const *names = flavor ? mysql_cols : mariadb_cols;
        size_t n = flavor ? MYSQL_NCOLS : MARIADB_NCOLS;
        struct mon_repl_cols c = cols_of(names, n);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const char *row[64];
            make_row(row, n, &c, cases[i].io, cases[i].sql, cases[i].lag);
            struct mon_repl_status st;
            mon_repl_status_init(&st);
            mon_repl_status_add(&st, &c, row, n);
            assert_int_equal(st.rows, 1);
            bool receiving = cases[i].io && strcmp(cases[i].io, "Yes") == 0;
            if (st.replicating != cases[i].replicating || st.applying != cases[i].applying ||
                st.receiving != receiving || st.lag_ms != cases[i].lag_ms)
                fail_msg("flavor %d case %zu: replicating %d applying %d lag %lld", flavor, i,
                         (int)st.replicating, (int)st.applying, (long long)st.lag_ms);
        }
    }
}

static void test_rows_fold(void **state)
{
    (void)state;
    struct mon_repl_cols c = cols_of(mysql_cols, MYSQL_NCOLS);
    const char *a[64], *b[64];
    struct mon_repl_status st;

    /* No row: the server does not replicate. */
    memset(&st, 0xA5, sizeof st); /* init must set every field */
    mon_repl_status_init(&st);
    assert_int_equal(st.rows, 0);
    assert_false(st.replicating);
    assert_false(st.applying);
    assert_false(st.receiving);
    assert_int_equal(st.lag_ms, -1);

    /* Two channels: both must run; the lag is the larger. */
    make_row(a, MYSQL_NCOLS, &c, "Yes", "Yes", "2");
    make_row(b, MYSQL_NCOLS, &c, "Yes", "Yes", "5");
    mon_repl_status_init(&st);
    mon_repl_status_add(&st, &c, a, MYSQL_NCOLS);
    mon_repl_status_add(&st, &c, b, MYSQL_NCOLS);
    assert_int_equal(st.rows, 2);
    assert_true(st.replicating);
    assert_int_equal(st.lag_ms, 5000);

    /* One stopped channel with unknown lag: not replicating, lag unknown,
     * whichever order the rows come in. */
    make_row(b, MYSQL_NCOLS, &c, "Yes", "No", NULL);
    for (int order = 0; order < 2; order++) {
        mon_repl_status_init(&st);
        mon_repl_status_add(&st, &c, order ? b : a, MYSQL_NCOLS);
        mon_repl_status_add(&st, &c, order ? a : b, MYSQL_NCOLS);
        assert_false(st.replicating);
        assert_false(st.applying);
        assert_true(st.receiving); /* both IO threads run */
        assert_int_equal(st.lag_ms, -1);
    }

    /* A result without our columns (a server we do not understand): rows,
     * but not replicating. */
    struct mon_repl_cols none;
    mon_repl_cols_init(&none);
    mon_repl_status_init(&st);
    mon_repl_status_add(&st, &none, a, MYSQL_NCOLS);
    assert_int_equal(st.rows, 1);
    assert_false(st.replicating);
    assert_int_equal(st.lag_ms, -1);

    /* Column indexes past the row's end read as absent. */
    struct mon_repl_cols far = {.io = 100, .sql = 101, .lag = 102};
    mon_repl_status_init(&st);
    mon_repl_status_add(&st, &far, a, MYSQL_NCOLS);
    assert_false(st.replicating);
}

static void test_lag_text(void **state)
{
    (void)state;
    assert_int_equal(mon_lag_ms(NULL), -1);
    assert_int_equal(mon_lag_ms(""), -1);
    assert_int_equal(mon_lag_ms("0"), 0);
    assert_int_equal(mon_lag_ms("1"), 1000);
    assert_int_equal(mon_lag_ms("86400"), 86400000);
    assert_int_equal(mon_lag_ms("-1"), -1);
    assert_int_equal(mon_lag_ms("1.5"), -1);
    assert_int_equal(mon_lag_ms(" 1"), -1);
    assert_int_equal(mon_lag_ms("NULL"), -1);
    /* Absurd values saturate (still over any limit), never wrap. */
    assert_int_equal(mon_lag_ms("18446744073709551615"), MON_LAG_MAX_S * 1000);
    assert_int_equal(mon_lag_ms("99999999999999999999999999"), MON_LAG_MAX_S * 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flavor_and_sql), cmocka_unit_test(test_columns_found_by_name),
        cmocka_unit_test(test_one_row),        cmocka_unit_test(test_rows_fold),
        cmocka_unit_test(test_lag_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
