/*
 * classify.c - statement classifier: SQL text -> kind + flags for routing.
 *
 * Owns: keyword and built-in function knowledge (one sorted word table),
 * the per-statement grammar the router needs (SELECT bodies, transaction
 * control, SET, USE, PREPARE/EXECUTE, EXPLAIN/ANALYZE/SHOW), multi-statement
 * merging and the ambiguity readings (classify.h explains them).
 * Not owned: tokens (lexer.c), hint syntax (hints.c), routing policy (the
 * router reads kind + flags).
 *
 *   text --lexer--> significant tokens (+ comments -> hints)
 *        --classify_statement--> struct stmt, one per ';'-separated part
 *        --merge--> struct classify_result        (per reading; readings
 *                                                  that disagree -> WRITE)
 *
 * Fail closed: a statement is READ only when its first keyword is a read
 * and nothing in its body says otherwise; every unknown first word, unknown
 * function (without CLASSIFY_O_STORED_FUNC_READ), lexical error or
 * disagreement between readings is WRITE.
 *
 * Work is bounded: every loop consumes a token, each token consumes a byte,
 * at most 8 readings, recursion one level deep. No allocation, no globals
 * (the word table is const).
 */
#include "gtidproxy/classify.h"

#include <string.h>

/* Word attributes, besides the CLASSIFY_F_* bits a call of the word adds.
 * They live in bits the flag list does not use (checked below). */
#define FC                                                                                         \
    (1u << 28)           /* may be followed by '(' without being a stored                          \
                            function: built-in or keyword */
#define FB    (1u << 29) /* the flags apply without parentheses too */
#define FW    (1u << 30) /* a write statement keyword (not followed by '(') */
#define FATTR (FC | FB | FW)

_Static_assert((CLASSIFY_F_EXPLAIN << 1) <= FC, "word attribute bits overlap the classify flags");

/*
 * Every word the classifier looks at, sorted by byte value (ASCII, '_'
 * after letters) so a binary search finds it; the unit test checks order.
 * Generated from plain lists (statement keywords, keywords allowed before
 * '(', MySQL 8.0 / MariaDB 10.11 built-in functions from their manuals'
 * function indexes, and the side-effect / nondeterministic ones); a
 * built-in missing here is treated as a stored function (safe side).
 */
#define WORD_LIST(X)                                                                               \
    X(ABS, FC)                                                                                     \
    X(ACOS, FC)                                                                                    \
    X(ADDDATE, FC)                                                                                 \
    X(ADDTIME, FC)                                                                                 \
    X(ADD_MONTHS, FC)                                                                              \
    X(AES_DECRYPT, FC)                                                                             \
    X(AES_ENCRYPT, FC)                                                                             \
    X(AGAINST, FC)                                                                                 \
    X(ALL, FC)                                                                                     \
    X(ALTER, 0)                                                                                    \
    X(ANALYZE, 0)                                                                                  \
    X(AND, FC)                                                                                     \
    X(ANY, FC)                                                                                     \
    X(ANY_VALUE, FC)                                                                               \
    X(AS, FC)                                                                                      \
    X(ASCII, FC)                                                                                   \
    X(ASIN, FC)                                                                                    \
    X(ATAN, FC)                                                                                    \
    X(ATAN2, FC)                                                                                   \
    X(AUTOCOMMIT, 0)                                                                               \
    X(AVG, FC)                                                                                     \
    X(BEGIN, 0)                                                                                    \
    X(BENCHMARK, FC)                                                                               \
    X(BETWEEN, FC)                                                                                 \
    X(BIGINT, FC)                                                                                  \
    X(BIN, FC)                                                                                     \
    X(BINARY, FC)                                                                                  \
    X(BINLOG, 0)                                                                                   \
    X(BINLOG_GTID_POS, FC | CLASSIFY_F_SERVER_STATE)                                               \
    X(BIN_TO_UUID, FC)                                                                             \
    X(BIT, FC)                                                                                     \
    X(BIT_AND, FC)                                                                                 \
    X(BIT_COUNT, FC)                                                                               \
    X(BIT_LENGTH, FC)                                                                              \
    X(BIT_OR, FC)                                                                                  \
    X(BIT_XOR, FC)                                                                                 \
    X(BY, FC)                                                                                      \
    X(CALL, 0)                                                                                     \
    X(CASE, FC)                                                                                    \
    X(CAST, FC)                                                                                    \
    X(CEIL, FC)                                                                                    \
    X(CEILING, FC)                                                                                 \
    X(CHAIN, 0)                                                                                    \
    X(CHANGE, 0)                                                                                   \
    X(CHAR, FC)                                                                                    \
    X(CHARACTER, FC)                                                                               \
    X(CHARACTER_LENGTH, FC)                                                                        \
    X(CHARSET, FC)                                                                                 \
    X(CHAR_LENGTH, FC)                                                                             \
    X(CHECK, 0)                                                                                    \
    X(CHECKSUM, 0)                                                                                 \
    X(CHR, FC)                                                                                     \
    X(COALESCE, FC)                                                                                \
    X(COERCIBILITY, FC)                                                                            \
    X(COLLATION, FC)                                                                               \
    X(COLUMNS, FC)                                                                                 \
    X(COLUMN_ADD, FC)                                                                              \
    X(COLUMN_CHECK, FC)                                                                            \
    X(COLUMN_CREATE, FC)                                                                           \
    X(COLUMN_DELETE, FC)                                                                           \
    X(COLUMN_EXISTS, FC)                                                                           \
    X(COLUMN_GET, FC)                                                                              \
    X(COLUMN_JSON, FC)                                                                             \
    X(COLUMN_LIST, FC)                                                                             \
    X(COMMIT, 0)                                                                                   \
    X(COMPRESS, FC)                                                                                \
    X(CONCAT, FC)                                                                                  \
    X(CONCAT_WS, FC)                                                                               \
    X(CONNECTION, 0)                                                                               \
    X(CONNECTION_ID, FC | CLASSIFY_F_NONDETERMINISTIC | CLASSIFY_F_SERVER_STATE)                   \
    X(CONSISTENT, 0)                                                                               \
    X(CONV, FC)                                                                                    \
    X(CONVERT, FC)                                                                                 \
    X(CONVERT_TZ, FC)                                                                              \
    X(COS, FC)                                                                                     \
    X(COT, FC)                                                                                     \
    X(COUNT, FC)                                                                                   \
    X(CRC32, FC)                                                                                   \
    X(CREATE, 0)                                                                                   \
    X(CUME_DIST, FC)                                                                               \
    X(CURDATE, FC | CLASSIFY_F_NONDETERMINISTIC)                                                   \
    X(CURRENT, 0)                                                                                  \
    X(CURRENT_DATE, FC | FB | CLASSIFY_F_NONDETERMINISTIC)                                         \
    X(CURRENT_ROLE, FC | FB | CLASSIFY_F_NONDETERMINISTIC)                                         \
    X(CURRENT_TIME, FC | FB | CLASSIFY_F_NONDETERMINISTIC)                                         \
    X(CURRENT_TIMESTAMP, FC | FB | CLASSIFY_F_NONDETERMINISTIC)                                    \
    X(CURRENT_USER, FC | FB | CLASSIFY_F_NONDETERMINISTIC)                                         \
    X(CURTIME, FC | CLASSIFY_F_NONDETERMINISTIC)                                                   \
    X(DATABASE, FC | CLASSIFY_F_NONDETERMINISTIC)                                                  \
    X(DATE, FC)                                                                                    \
    X(DATEDIFF, FC)                                                                                \
    X(DATETIME, FC)                                                                                \
    X(DATE_ADD, FC)                                                                                \
    X(DATE_FORMAT, FC)                                                                             \
    X(DATE_SUB, FC)                                                                                \
    X(DAY, FC)                                                                                     \
    X(DAYNAME, FC)                                                                                 \
    X(DAYOFMONTH, FC)                                                                              \
    X(DAYOFWEEK, FC)                                                                               \
    X(DAYOFYEAR, FC)                                                                               \
    X(DEALLOCATE, 0)                                                                               \
    X(DEC, FC)                                                                                     \
    X(DECIMAL, FC)                                                                                 \
    X(DECODE, FC)                                                                                  \
    X(DEFAULT, FC)                                                                                 \
    X(DEGREES, FC)                                                                                 \
    X(DELETE, FW)                                                                                  \
    X(DENSE_RANK, FC)                                                                              \
    X(DESC, 0)                                                                                     \
    X(DESCRIBE, 0)                                                                                 \
    X(DES_DECRYPT, FC)                                                                             \
    X(DES_ENCRYPT, FC)                                                                             \
    X(DIAGNOSTICS, 0)                                                                              \
    X(DISTINCT, FC)                                                                                \
    X(DIV, FC)                                                                                     \
    X(DO, 0)                                                                                       \
    X(DOUBLE, FC)                                                                                  \
    X(DROP, 0)                                                                                     \
    X(ELSE, FC)                                                                                    \
    X(ELSEIF, 0)                                                                                   \
    X(ELT, FC)                                                                                     \
    X(ENCODE, FC)                                                                                  \
    X(ENCRYPT, FC)                                                                                 \
    X(ENGINE, 0)                                                                                   \
    X(ENUM, FC)                                                                                    \
    X(ERRORS, 0)                                                                                   \
    X(ESCAPE, FC)                                                                                  \
    X(EXCEPT, FC)                                                                                  \
    X(EXECUTE, 0)                                                                                  \
    X(EXISTS, FC)                                                                                  \
    X(EXP, FC)                                                                                     \
    X(EXPLAIN, 0)                                                                                  \
    X(EXPORT_SET, FC)                                                                              \
    X(EXTENDED, 0)                                                                                 \
    X(EXTRACT, FC)                                                                                 \
    X(EXTRACTVALUE, FC)                                                                            \
    X(FALSE, 0)                                                                                    \
    X(FIELD, FC)                                                                                   \
    X(FIND_IN_SET, FC)                                                                             \
    X(FIRST_VALUE, FC)                                                                             \
    X(FLOAT, FC)                                                                                   \
    X(FLOOR, FC)                                                                                   \
    X(FLUSH, 0)                                                                                    \
    X(FOR, FC)                                                                                     \
    X(FORMAT, FC)                                                                                  \
    X(FORMAT_BYTES, FC)                                                                            \
    X(FORMAT_PICO_TIME, FC)                                                                        \
    X(FOUND_ROWS, FC | CLASSIFY_F_FOUND_ROWS)                                                      \
    X(FROM, FC)                                                                                    \
    X(FROM_BASE64, FC)                                                                             \
    X(FROM_DAYS, FC)                                                                               \
    X(FROM_UNIXTIME, FC)                                                                           \
    X(FULL, 0)                                                                                     \
    X(GEOMETRYCOLLECTION, FC)                                                                      \
    X(GET, 0)                                                                                      \
    X(GET_LOCK, FC | CLASSIFY_F_LOCK_FUNC)                                                         \
    X(GLOBAL, 0)                                                                                   \
    X(GRANT, 0)                                                                                    \
    X(GREATEST, FC)                                                                                \
    X(GROUP, FC)                                                                                   \
    X(GROUPING, FC)                                                                                \
    X(GROUP_CONCAT, FC)                                                                            \
    X(GTID_SUBSET, FC)                                                                             \
    X(GTID_SUBTRACT, FC)                                                                           \
    X(HANDLER, 0)                                                                                  \
    X(HAVING, FC)                                                                                  \
    X(HELP, 0)                                                                                     \
    X(HEX, FC)                                                                                     \
    X(HOUR, FC)                                                                                    \
    X(IF, FC)                                                                                      \
    X(IFNULL, FC)                                                                                  \
    X(IMMEDIATE, 0)                                                                                \
    X(IN, FC)                                                                                      \
    X(INDEX, FC)                                                                                   \
    X(INET6_ATON, FC)                                                                              \
    X(INET6_NTOA, FC)                                                                              \
    X(INET_ATON, FC)                                                                               \
    X(INET_NTOA, FC)                                                                               \
    X(INSERT, FW | FC)                                                                             \
    X(INSTALL, 0)                                                                                  \
    X(INSTR, FC)                                                                                   \
    X(INT, FC)                                                                                     \
    X(INTEGER, FC)                                                                                 \
    X(INTERSECT, FC)                                                                               \
    X(INTERVAL, FC)                                                                                \
    X(INTO, 0)                                                                                     \
    X(IS, FC)                                                                                      \
    X(ISNULL, FC)                                                                                  \
    X(IS_FREE_LOCK, FC | CLASSIFY_F_LOCK_FUNC)                                                     \
    X(IS_IPV4, FC)                                                                                 \
    X(IS_IPV4_COMPAT, FC)                                                                          \
    X(IS_IPV4_MAPPED, FC)                                                                          \
    X(IS_IPV6, FC)                                                                                 \
    X(IS_USED_LOCK, FC | CLASSIFY_F_LOCK_FUNC)                                                     \
    X(IS_UUID, FC)                                                                                 \
    X(JOIN, FC)                                                                                    \
    X(JSON_ARRAY, FC)                                                                              \
    X(JSON_ARRAYAGG, FC)                                                                           \
    X(JSON_ARRAY_APPEND, FC)                                                                       \
    X(JSON_ARRAY_INSERT, FC)                                                                       \
    X(JSON_COMPACT, FC)                                                                            \
    X(JSON_CONTAINS, FC)                                                                           \
    X(JSON_CONTAINS_PATH, FC)                                                                      \
    X(JSON_DEPTH, FC)                                                                              \
    X(JSON_DETAILED, FC)                                                                           \
    X(JSON_EQUALS, FC)                                                                             \
    X(JSON_EXISTS, FC)                                                                             \
    X(JSON_EXTRACT, FC)                                                                            \
    X(JSON_INSERT, FC)                                                                             \
    X(JSON_KEYS, FC)                                                                               \
    X(JSON_LENGTH, FC)                                                                             \
    X(JSON_LOOSE, FC)                                                                              \
    X(JSON_MERGE, FC)                                                                              \
    X(JSON_MERGE_PATCH, FC)                                                                        \
    X(JSON_MERGE_PRESERVE, FC)                                                                     \
    X(JSON_NORMALIZE, FC)                                                                          \
    X(JSON_OBJECT, FC)                                                                             \
    X(JSON_OBJECTAGG, FC)                                                                          \
    X(JSON_OVERLAPS, FC)                                                                           \
    X(JSON_PRETTY, FC)                                                                             \
    X(JSON_QUERY, FC)                                                                              \
    X(JSON_QUOTE, FC)                                                                              \
    X(JSON_REMOVE, FC)                                                                             \
    X(JSON_REPLACE, FC)                                                                            \
    X(JSON_SCHEMA_VALID, FC)                                                                       \
    X(JSON_SEARCH, FC)                                                                             \
    X(JSON_SET, FC)                                                                                \
    X(JSON_STORAGE_FREE, FC)                                                                       \
    X(JSON_STORAGE_SIZE, FC)                                                                       \
    X(JSON_TABLE, FC)                                                                              \
    X(JSON_TYPE, FC)                                                                               \
    X(JSON_UNQUOTE, FC)                                                                            \
    X(JSON_VALID, FC)                                                                              \
    X(JSON_VALUE, FC)                                                                              \
    X(KEY, FC)                                                                                     \
    X(KILL, 0)                                                                                     \
    X(LAG, FC)                                                                                     \
    X(LASTVAL, FC | CLASSIFY_F_SEQUENCE)                                                           \
    X(LAST_DAY, FC)                                                                                \
    X(LAST_INSERT_ID, FC | CLASSIFY_F_LAST_INSERT_ID)                                              \
    X(LAST_VALUE, FC)                                                                              \
    X(LATERAL, FC)                                                                                 \
    X(LCASE, FC)                                                                                   \
    X(LEAD, FC)                                                                                    \
    X(LEAST, FC)                                                                                   \
    X(LEFT, FC)                                                                                    \
    X(LENGTH, FC)                                                                                  \
    X(LENGTHB, FC)                                                                                 \
    X(LIKE, FC)                                                                                    \
    X(LIMIT, FC)                                                                                   \
    X(LINESTRING, FC)                                                                              \
    X(LN, FC)                                                                                      \
    X(LOAD, 0)                                                                                     \
    X(LOAD_FILE, FC | CLASSIFY_F_SERVER_STATE)                                                     \
    X(LOCAL, 0)                                                                                    \
    X(LOCALTIME, FC | FB | CLASSIFY_F_NONDETERMINISTIC)                                            \
    X(LOCALTIMESTAMP, FC | FB | CLASSIFY_F_NONDETERMINISTIC)                                       \
    X(LOCATE, FC)                                                                                  \
    X(LOCK, 0)                                                                                     \
    X(LOG, FC)                                                                                     \
    X(LOG10, FC)                                                                                   \
    X(LOG2, FC)                                                                                    \
    X(LOWER, FC)                                                                                   \
    X(LPAD, FC)                                                                                    \
    X(LTRIM, FC)                                                                                   \
    X(MAKEDATE, FC)                                                                                \
    X(MAKETIME, FC)                                                                                \
    X(MAKE_SET, FC)                                                                                \
    X(MASTER, 0)                                                                                   \
    X(MASTER_GTID_WAIT, FC | CLASSIFY_F_SERVER_STATE)                                              \
    X(MASTER_POS_WAIT, FC | CLASSIFY_F_SERVER_STATE)                                               \
    X(MATCH, FC)                                                                                   \
    X(MAX, FC)                                                                                     \
    X(MBRCONTAINS, FC)                                                                             \
    X(MBRDISJOINT, FC)                                                                             \
    X(MBREQUALS, FC)                                                                               \
    X(MBRINTERSECTS, FC)                                                                           \
    X(MBROVERLAPS, FC)                                                                             \
    X(MBRTOUCHES, FC)                                                                              \
    X(MBRWITHIN, FC)                                                                               \
    X(MD5, FC)                                                                                     \
    X(MEDIAN, FC)                                                                                  \
    X(MEDIUMINT, FC)                                                                               \
    X(MEMBER, FC)                                                                                  \
    X(MICROSECOND, FC)                                                                             \
    X(MID, FC)                                                                                     \
    X(MIN, FC)                                                                                     \
    X(MINUTE, FC)                                                                                  \
    X(MOD, FC)                                                                                     \
    X(MODE, 0)                                                                                     \
    X(MONTH, FC)                                                                                   \
    X(MONTHNAME, FC)                                                                               \
    X(MULTILINESTRING, FC)                                                                         \
    X(MULTIPOINT, FC)                                                                              \
    X(MULTIPOLYGON, FC)                                                                            \
    X(NAMES, 0)                                                                                    \
    X(NAME_CONST, FC)                                                                              \
    X(NATURAL_SORT_KEY, FC)                                                                        \
    X(NCHAR, FC)                                                                                   \
    X(NEXT, 0)                                                                                     \
    X(NEXTVAL, FC | CLASSIFY_F_SEQUENCE)                                                           \
    X(NO, 0)                                                                                       \
    X(NOT, FC)                                                                                     \
    X(NOW, FC | CLASSIFY_F_NONDETERMINISTIC)                                                       \
    X(NTH_VALUE, FC)                                                                               \
    X(NTILE, FC)                                                                                   \
    X(NULLIF, FC)                                                                                  \
    X(NUMERIC, FC)                                                                                 \
    X(NVARCHAR, FC)                                                                                \
    X(NVL, FC)                                                                                     \
    X(NVL2, FC)                                                                                    \
    X(OCT, FC)                                                                                     \
    X(OCTET_LENGTH, FC)                                                                            \
    X(OF, FC)                                                                                      \
    X(OFF, 0)                                                                                      \
    X(OFFSET, FC)                                                                                  \
    X(ON, FC)                                                                                      \
    X(ONLY, 0)                                                                                     \
    X(OPTIMIZE, 0)                                                                                 \
    X(OR, FC)                                                                                      \
    X(ORD, FC)                                                                                     \
    X(ORDER, FC)                                                                                   \
    X(OVER, FC)                                                                                    \
    X(PARTITION, FC)                                                                               \
    X(PARTITIONS, 0)                                                                               \
    X(PASSWORD, FC)                                                                                \
    X(PERCENTILE_CONT, FC)                                                                         \
    X(PERCENTILE_DISC, FC)                                                                         \
    X(PERCENT_RANK, FC)                                                                            \
    X(PERIOD_ADD, FC)                                                                              \
    X(PERIOD_DIFF, FC)                                                                             \
    X(PERSIST, 0)                                                                                  \
    X(PERSIST_ONLY, 0)                                                                             \
    X(PI, FC)                                                                                      \
    X(POINT, FC)                                                                                   \
    X(POLYGON, FC)                                                                                 \
    X(POSITION, FC)                                                                                \
    X(POW, FC)                                                                                     \
    X(POWER, FC)                                                                                   \
    X(PREPARE, 0)                                                                                  \
    X(PREVIOUS, 0)                                                                                 \
    X(PROCEDURE, 0)                                                                                \
    X(PROCESSLIST, 0)                                                                              \
    X(PROFILE, 0)                                                                                  \
    X(PROFILES, 0)                                                                                 \
    X(PURGE, 0)                                                                                    \
    X(QUARTER, FC)                                                                                 \
    X(QUOTE, FC)                                                                                   \
    X(RADIANS, FC)                                                                                 \
    X(RAND, FC | CLASSIFY_F_NONDETERMINISTIC)                                                      \
    X(RANDOM_BYTES, FC | CLASSIFY_F_NONDETERMINISTIC)                                              \
    X(RANK, FC)                                                                                    \
    X(READ, 0)                                                                                     \
    X(REAL, FC)                                                                                    \
    X(RECURSIVE, 0)                                                                                \
    X(REGEXP, FC)                                                                                  \
    X(REGEXP_INSTR, FC)                                                                            \
    X(REGEXP_LIKE, FC)                                                                             \
    X(REGEXP_REPLACE, FC)                                                                          \
    X(REGEXP_SUBSTR, FC)                                                                           \
    X(RELAYLOG, 0)                                                                                 \
    X(RELEASE, 0)                                                                                  \
    X(RELEASE_ALL_LOCKS, FC | CLASSIFY_F_LOCK_FUNC)                                                \
    X(RELEASE_LOCK, FC | CLASSIFY_F_LOCK_FUNC)                                                     \
    X(RENAME, 0)                                                                                   \
    X(REPAIR, 0)                                                                                   \
    X(REPEAT, FC)                                                                                  \
    X(REPLACE, FW | FC)                                                                            \
    X(REPLICA, 0)                                                                                  \
    X(REPLICAS, 0)                                                                                 \
    X(RESET, 0)                                                                                    \
    X(RETURNING, FC)                                                                               \
    X(REVERSE, FC)                                                                                 \
    X(REVOKE, 0)                                                                                   \
    X(RIGHT, FC)                                                                                   \
    X(RLIKE, FC)                                                                                   \
    X(ROLE, 0)                                                                                     \
    X(ROLES_GRAPHML, FC | CLASSIFY_F_NONDETERMINISTIC)                                             \
    X(ROLLBACK, 0)                                                                                 \
    X(ROUND, FC)                                                                                   \
    X(ROW, FC)                                                                                     \
    X(ROW_COUNT, FC | CLASSIFY_F_ROW_COUNT)                                                        \
    X(ROW_NUMBER, FC)                                                                              \
    X(RPAD, FC)                                                                                    \
    X(RTRIM, FC)                                                                                   \
    X(SAVEPOINT, 0)                                                                                \
    X(SCHEMA, FC | CLASSIFY_F_NONDETERMINISTIC)                                                    \
    X(SECOND, FC)                                                                                  \
    X(SEC_TO_TIME, FC)                                                                             \
    X(SELECT, FC)                                                                                  \
    X(SESSION, 0)                                                                                  \
    X(SESSION_USER, FC | CLASSIFY_F_NONDETERMINISTIC)                                              \
    X(SET, 0)                                                                                      \
    X(SETVAL, FC | CLASSIFY_F_SEQUENCE)                                                            \
    X(SFORMAT, FC)                                                                                 \
    X(SHA, FC)                                                                                     \
    X(SHA1, FC)                                                                                    \
    X(SHA2, FC)                                                                                    \
    X(SHARE, 0)                                                                                    \
    X(SHOW, 0)                                                                                     \
    X(SHUTDOWN, 0)                                                                                 \
    X(SIGN, FC)                                                                                    \
    X(SIGNED, FC)                                                                                  \
    X(SIN, FC)                                                                                     \
    X(SLAVE, 0)                                                                                    \
    X(SLAVES, 0)                                                                                   \
    X(SLEEP, FC)                                                                                   \
    X(SMALLINT, FC)                                                                                \
    X(SNAPSHOT, 0)                                                                                 \
    X(SOME, FC)                                                                                    \
    X(SOUNDEX, FC)                                                                                 \
    X(SOURCE_POS_WAIT, FC | CLASSIFY_F_SERVER_STATE)                                               \
    X(SPACE, FC)                                                                                   \
    X(SQL_CALC_FOUND_ROWS, 0)                                                                      \
    X(SQRT, FC)                                                                                    \
    X(STACKED, 0)                                                                                  \
    X(START, 0)                                                                                    \
    X(STATEMENT, 0)                                                                                \
    X(STATEMENT_DIGEST, FC)                                                                        \
    X(STATEMENT_DIGEST_TEXT, FC)                                                                   \
    X(STATUS, 0)                                                                                   \
    X(STD, FC)                                                                                     \
    X(STDDEV, FC)                                                                                  \
    X(STDDEV_POP, FC)                                                                              \
    X(STDDEV_SAMP, FC)                                                                             \
    X(STOP, 0)                                                                                     \
    X(STRAIGHT_JOIN, FC)                                                                           \
    X(STRCMP, FC)                                                                                  \
    X(STR_TO_DATE, FC)                                                                             \
    X(ST_AREA, FC)                                                                                 \
    X(ST_ASBINARY, FC)                                                                             \
    X(ST_ASGEOJSON, FC)                                                                            \
    X(ST_ASTEXT, FC)                                                                               \
    X(ST_ASWKB, FC)                                                                                \
    X(ST_ASWKT, FC)                                                                                \
    X(ST_BUFFER, FC)                                                                               \
    X(ST_CENTROID, FC)                                                                             \
    X(ST_CONTAINS, FC)                                                                             \
    X(ST_CROSSES, FC)                                                                              \
    X(ST_DIFFERENCE, FC)                                                                           \
    X(ST_DISJOINT, FC)                                                                             \
    X(ST_DISTANCE, FC)                                                                             \
    X(ST_DISTANCE_SPHERE, FC)                                                                      \
    X(ST_ENVELOPE, FC)                                                                             \
    X(ST_EQUALS, FC)                                                                               \
    X(ST_GEOMFROMGEOJSON, FC)                                                                      \
    X(ST_GEOMFROMTEXT, FC)                                                                         \
    X(ST_GEOMFROMWKB, FC)                                                                          \
    X(ST_INTERSECTION, FC)                                                                         \
    X(ST_INTERSECTS, FC)                                                                           \
    X(ST_ISEMPTY, FC)                                                                              \
    X(ST_ISVALID, FC)                                                                              \
    X(ST_LATITUDE, FC)                                                                             \
    X(ST_LENGTH, FC)                                                                               \
    X(ST_LONGITUDE, FC)                                                                            \
    X(ST_MAKEENVELOPE, FC)                                                                         \
    X(ST_NUMPOINTS, FC)                                                                            \
    X(ST_OVERLAPS, FC)                                                                             \
    X(ST_POINTFROMTEXT, FC)                                                                        \
    X(ST_POLYFROMTEXT, FC)                                                                         \
    X(ST_SRID, FC)                                                                                 \
    X(ST_TOUCHES, FC)                                                                              \
    X(ST_UNION, FC)                                                                                \
    X(ST_WITHIN, FC)                                                                               \
    X(ST_X, FC)                                                                                    \
    X(ST_Y, FC)                                                                                    \
    X(SUBDATE, FC)                                                                                 \
    X(SUBSTR, FC)                                                                                  \
    X(SUBSTRING, FC)                                                                               \
    X(SUBSTRING_INDEX, FC)                                                                         \
    X(SUBTIME, FC)                                                                                 \
    X(SUM, FC)                                                                                     \
    X(SYSDATE, FC | CLASSIFY_F_NONDETERMINISTIC)                                                   \
    X(SYSTEM_USER, FC | CLASSIFY_F_NONDETERMINISTIC)                                               \
    X(SYS_GUID, FC | CLASSIFY_F_NONDETERMINISTIC)                                                  \
    X(TABLE, 0)                                                                                    \
    X(TAN, FC)                                                                                     \
    X(TEMPORARY, 0)                                                                                \
    X(THEN, FC)                                                                                    \
    X(TIME, FC)                                                                                    \
    X(TIMEDIFF, FC)                                                                                \
    X(TIMESTAMP, FC)                                                                               \
    X(TIMESTAMPADD, FC)                                                                            \
    X(TIMESTAMPDIFF, FC)                                                                           \
    X(TIME_FORMAT, FC)                                                                             \
    X(TIME_TO_SEC, FC)                                                                             \
    X(TINYINT, FC)                                                                                 \
    X(TO, 0)                                                                                       \
    X(TO_BASE64, FC)                                                                               \
    X(TO_CHAR, FC)                                                                                 \
    X(TO_DAYS, FC)                                                                                 \
    X(TO_SECONDS, FC)                                                                              \
    X(TRANSACTION, 0)                                                                              \
    X(TRIM, FC)                                                                                    \
    X(TRUE, 0)                                                                                     \
    X(TRUNCATE, FC)                                                                                \
    X(UCASE, FC)                                                                                   \
    X(UNCOMPRESS, FC)                                                                              \
    X(UNCOMPRESSED_LENGTH, FC)                                                                     \
    X(UNHEX, FC)                                                                                   \
    X(UNINSTALL, 0)                                                                                \
    X(UNION, FC)                                                                                   \
    X(UNIX_TIMESTAMP, FC | CLASSIFY_F_NONDETERMINISTIC)                                            \
    X(UNLOCK, 0)                                                                                   \
    X(UNSIGNED, FC)                                                                                \
    X(UPDATE, FW)                                                                                  \
    X(UPPER, FC)                                                                                   \
    X(USE, 0)                                                                                      \
    X(USER, FC | CLASSIFY_F_NONDETERMINISTIC)                                                      \
    X(USING, FC)                                                                                   \
    X(UTC_DATE, FC | FB | CLASSIFY_F_NONDETERMINISTIC)                                             \
    X(UTC_TIME, FC | FB | CLASSIFY_F_NONDETERMINISTIC)                                             \
    X(UTC_TIMESTAMP, FC | FB | CLASSIFY_F_NONDETERMINISTIC)                                        \
    X(UUID, FC | CLASSIFY_F_NONDETERMINISTIC)                                                      \
    X(UUID_SHORT, FC | CLASSIFY_F_NONDETERMINISTIC)                                                \
    X(UUID_TO_BIN, FC)                                                                             \
    X(VALUE, 0)                                                                                    \
    X(VALUES, FC)                                                                                  \
    X(VARBINARY, FC)                                                                               \
    X(VARCHAR, FC)                                                                                 \
    X(VARIABLES, 0)                                                                                \
    X(VARIANCE, FC)                                                                                \
    X(VAR_POP, FC)                                                                                 \
    X(VAR_SAMP, FC)                                                                                \
    X(VERSION, FC | CLASSIFY_F_SERVER_STATE)                                                       \
    X(WAIT_FOR_EXECUTED_GTID_SET, FC | CLASSIFY_F_SERVER_STATE)                                    \
    X(WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS, FC | CLASSIFY_F_SERVER_STATE)                             \
    X(WARNINGS, 0)                                                                                 \
    X(WEEK, FC)                                                                                    \
    X(WEEKDAY, FC)                                                                                 \
    X(WEEKOFYEAR, FC)                                                                              \
    X(WEIGHT_STRING, FC)                                                                           \
    X(WHEN, FC)                                                                                    \
    X(WHERE, FC)                                                                                   \
    X(WINDOW, FC)                                                                                  \
    X(WITH, FC)                                                                                    \
    X(WORK, 0)                                                                                     \
    X(WRITE, 0)                                                                                    \
    X(XA, 0)                                                                                       \
    X(XOR, FC)                                                                                     \
    X(YEAR, FC)                                                                                    \
    X(YEARWEEK, FC)

enum word_id {
#define WORD_ENUM(name, attr) W_##name,
    WORD_LIST(WORD_ENUM)
#undef WORD_ENUM
        W__COUNT
};

struct word {
    const char *name;
    uint8_t len;
    uint32_t attr;
};

static const struct word words[W__COUNT] = {
#define WORD_ENTRY(name, attr) {#name, (uint8_t)(sizeof #name - 1), (attr)},
    WORD_LIST(WORD_ENTRY)
#undef WORD_ENTRY
};

#define WORD_MAX_LEN 40 /* longest entry is 33 bytes */

/* letter_start[c - 'A']: index of the first word starting with letter c;
 * [26] is the count. Narrows the binary search to one letter (the search
 * was half of the classifier's time). Rewritten from the word list by
 * tools/gen_classify_words.py; classify__word_table_check verifies it. */
static const uint16_t letter_start[27] = {0,   21,  37,  88,  118, 136, 153, 164, 169,
                                          195, 234, 236, 265, 295, 311, 323, 346, 348,
                                          385, 475, 496, 516, 525, 538, 540, 542, 542};

/* ------------------------------------------------------------------ */
/* Names                                                              */
/* ------------------------------------------------------------------ */

static const char *const kind_names[] = {
#define KIND_NAME(name) #name,
    CLASSIFY_KIND_LIST(KIND_NAME)
#undef KIND_NAME
};

const char *classify_kind_name(enum classify_kind k)
{
    if ((unsigned)k >= sizeof kind_names / sizeof kind_names[0])
        return "?";
    return kind_names[k];
}

static const char *const sub_names[] = {
#define SUB_NAME(name) #name,
    CLASSIFY_SUB_LIST(SUB_NAME)
#undef SUB_NAME
};

const char *classify_sub_name(enum classify_sub s)
{
    if ((unsigned)s >= sizeof sub_names / sizeof sub_names[0])
        return "?";
    return sub_names[s];
}

const char *classify_flag_name(uint32_t bit)
{
    switch (bit) {
#define FLAG_CASE(name, b)                                                                         \
    case 1u << (b):                                                                                \
        return #name;
        CLASSIFY_FLAG_LIST(FLAG_CASE)
#undef FLAG_CASE
    default:
        return "?";
    }
}

size_t classify_flags_format(uint32_t flags, char *buf, size_t cap)
{
    size_t need = 0;
    if (cap > 0)
        buf[0] = '\0';
    if (flags == 0) {
        if (cap > 1) {
            buf[0] = '-';
            buf[1] = '\0';
        }
        return 1;
    }
    for (unsigned b = 0; b < 32; b++) {
        uint32_t bit = 1u << b;
        if (!(flags & bit))
            continue;
        const char *name = classify_flag_name(bit);
        size_t len = strlen(name) + (need ? 1 : 0);
        if (cap > 0 && need + len < cap) {
            if (need)
                buf[need] = '|';
            memcpy(buf + need + (need ? 1 : 0), name, strlen(name));
            buf[need + len] = '\0';
        } else if (cap > 0) {
            cap = 0; /* stop writing; keep counting */
        }
        need += len;
    }
    return need;
}

/* ------------------------------------------------------------------ */
/* Word lookup                                                        */
/* ------------------------------------------------------------------ */

/* Byte order of up[0..n) against a table entry; an open-coded loop since
 * most comparisons of the binary search differ in the first byte. */
static inline int cmp_word(const uint8_t *up, size_t n, const struct word *w)
{
    const uint8_t *b = (const uint8_t *)w->name;
    size_t m = n < w->len ? n : w->len;
    for (size_t i = 0; i < m; i++)
        if (up[i] != b[i])
            return (int)up[i] - (int)b[i];
    return (n > w->len) - (n < w->len);
}

/* The word_id of p[0..n) (any case), or -1. */
static int word_lookup(const uint8_t *p, size_t n)
{
    if (n == 0 || n > WORD_MAX_LEN)
        return -1;
    uint8_t up[WORD_MAX_LEN];
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 0x80)
            return -1;
        up[i] = (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
    }
    if (up[0] < 'A' || up[0] > 'Z')
        return -1; /* every word in the table starts with a letter */
    size_t lo = letter_start[up[0] - 'A'], hi = letter_start[up[0] - 'A' + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_word(up, n, &words[mid]);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

int classify__word_table_check(size_t *bad)
{
    if (letter_start[26] != W__COUNT) {
        *bad = W__COUNT;
        return -1;
    }
    for (size_t i = 0; i < W__COUNT; i++) {
        const struct word *w = &words[i];
        uint8_t first = (uint8_t)w->name[0];
        if (first < 'A' || first > 'Z' || i < letter_start[first - 'A'] ||
            i >= letter_start[first - 'A' + 1]) {
            *bad = i;
            return -1;
        }
        if (i > 0 && cmp_word((const uint8_t *)w->name, w->len, &words[i - 1]) <= 0) {
            *bad = i;
            return -1;
        }
        if (word_lookup((const uint8_t *)w->name, w->len) != (int)i) {
            *bad = i;
            return -1;
        }
    }
    return (int)W__COUNT;
}

static bool iprefix(const uint8_t *p, size_t n, const char *lc)
{
    size_t m = strlen(lc);
    return n >= m && proto_ieq(p, m, lc);
}

/* ------------------------------------------------------------------ */
/* Token stream: significant tokens with one token of look-ahead       */
/* ------------------------------------------------------------------ */

struct tok {
    struct classify_token t;
    int kw;     /* enum word_id for WORD tokens in the table, else -1 */
    uint8_t ch; /* PUNCT: its byte (':' for ":="), else 0 */
};

struct stream {
    struct classify_lexer lx;
    struct tok cur, la;
    struct hint_set *hint; /* NULL: this reading does not collect hints */
    bool first_only;       /* classify_stmt: hints of the first statement only */
    size_t last_end;       /* end of the last content token consumed */
    uint32_t lexflags;     /* CLASSIFY_F_EXEC_COMMENT */
};

static void lex_sig(struct stream *s, struct tok *o)
{
    for (;;) {
        classify_lex_next(&s->lx, &o->t);
        if (o->t.type != CLASSIFY_TOK_COMMENT)
            break;
        if (s->hint && !(o->t.bits & CLASSIFY_TB_IN_EXEC)) {
            if (hint_parse(s->lx.p + o->t.body_off, o->t.body_len, s->hint) != PROTO_OK) {
                /* recorded in s->hint->error; classification goes on */
            }
        }
    }
    if (o->t.bits & CLASSIFY_TB_IN_EXEC)
        s->lexflags |= CLASSIFY_F_EXEC_COMMENT;
    o->kw = o->t.type == CLASSIFY_TOK_WORD ? word_lookup(s->lx.p + o->t.off, o->t.len) : -1;
    o->ch = o->t.type == CLASSIFY_TOK_PUNCT ? s->lx.p[o->t.off] : 0;
}

static inline bool tk_end(const struct tok *t)
{
    return t->t.type == CLASSIFY_TOK_SEMI || t->t.type == CLASSIFY_TOK_END ||
           t->t.type == CLASSIFY_TOK_ERROR;
}

static inline bool tk_punct(const struct tok *t, uint8_t ch)
{
    return t->t.type == CLASSIFY_TOK_PUNCT && t->ch == ch;
}

static inline bool tk_name(const struct tok *t)
{
    return t->t.type == CLASSIFY_TOK_WORD || t->t.type == CLASSIFY_TOK_QIDENT;
}

static void adv(struct stream *s)
{
    if (!tk_end(&s->cur))
        s->last_end = s->cur.t.off + s->cur.t.len;
    s->cur = s->la;
    if (s->first_only && s->cur.t.type == CLASSIFY_TOK_SEMI)
        s->hint = NULL; /* comments past the ';' belong to the next one */
    lex_sig(s, &s->la);
}

static struct proto_str tok_view(const struct stream *s, const struct tok *t)
{
    struct proto_str v = {s->lx.p + t->t.off, t->t.len};
    return v;
}

/* A name's text: quotes of `x` / 'x' / "x" stripped (doubled quotes are
 * left as they are: the view cannot unescape). */
static struct proto_str name_view(const struct stream *s, const struct tok *t)
{
    struct proto_str v = tok_view(s, t);
    if (t->t.type != CLASSIFY_TOK_WORD && v.len >= 2) {
        v.p++;
        v.len -= 2;
    }
    return v;
}

/* ------------------------------------------------------------------ */
/* Statement bodies                                                   */
/* ------------------------------------------------------------------ */

struct stmt {
    enum classify_kind kind;
    enum classify_sub sub;
    uint32_t flags;
    int8_t read_only;
    int8_t autocommit;
    bool write; /* a write keyword inside a read body */
    bool empty;
    struct proto_str keyword, name, prepare_text;
};

#define BODY_READ  0x1u /* read candidate: unknown calls, PROCEDURE, INTO.. */
#define BODY_WITH  0x2u /* starts with a WITH prelude (CTE names + cols) */
#define BODY_COMMA 0x4u /* stop at a ',' on depth 0 (SET assignments) */
#define BODY_SHOW  0x8u /* SHOW/DESCRIBE: like READ, PROCEDURE is a name */

/* @@[scope.]name: which flags reading it implies; *global for a global or
 * persisted scope. */
static uint32_t sysvar_flags(const uint8_t *p, size_t n, bool *global)
{
    uint32_t f = CLASSIFY_F_SYS_VAR;
    size_t i = 2, dot = 0;
    for (size_t j = i; j < n; j++)
        if (p[j] == '.')
            dot = j;
    const uint8_t *name = p + (dot ? dot + 1 : i);
    size_t nlen = n - (size_t)(name - p);
    *global = dot && (proto_ieq(p + 2, dot - 2, "global") || proto_ieq(p + 2, dot - 2, "persist") ||
                      proto_ieq(p + 2, dot - 2, "persist_only"));
    /* Results of this session's last write: only the primary has them. */
    if (proto_ieq(name, nlen, "identity") || proto_ieq(name, nlen, "last_insert_id") ||
        proto_ieq(name, nlen, "insert_id") || proto_ieq(name, nlen, "last_gtid"))
        f |= CLASSIFY_F_LAST_INSERT_ID;
    if (proto_ieq(name, nlen, "warning_count") || proto_ieq(name, nlen, "error_count"))
        f |= CLASSIFY_F_PREV_STMT_STATE;
    if (iprefix(name, nlen, "gtid_") || proto_ieq(name, nlen, "server_id") ||
        proto_ieq(name, nlen, "server_uuid") || proto_ieq(name, nlen, "read_only") ||
        proto_ieq(name, nlen, "super_read_only") || proto_ieq(name, nlen, "hostname"))
        f |= CLASSIFY_F_SERVER_STATE;
    return f;
}

static void stored_call(struct stmt *st, unsigned how)
{
    if (how & (BODY_READ | BODY_SHOW))
        st->flags |= CLASSIFY_F_STORED_FUNC;
}

/* Scans from s->cur to the end of the statement (or a depth-0 ',' with
 * BODY_COMMA), collecting flags. Leaves s->cur on the stop token. */
static void scan_body(struct stream *s, struct stmt *st, unsigned how)
{
    unsigned depth = 0;
    bool prelude = (how & BODY_WITH) != 0;
    bool readish = (how & (BODY_READ | BODY_SHOW)) != 0;
    int prev_kw = -1;
    uint8_t prev_ch = 0;
    enum classify_tok prev_type = CLASSIFY_TOK_END;

    while (!tk_end(&s->cur)) {
        const struct tok *c = &s->cur, *la = &s->la;
        switch (c->t.type) {
        case CLASSIFY_TOK_PUNCT:
            if (c->ch == ',' && depth == 0 && (how & BODY_COMMA))
                return;
            if (c->ch == '(')
                depth++;
            else if (c->ch == ')' && depth > 0)
                depth--;
            break;
        case CLASSIFY_TOK_USERVAR:
            st->flags |= tk_punct(la, ':') ? CLASSIFY_F_USER_VAR_ASSIGN : CLASSIFY_F_USES_USER_VAR;
            break;
        case CLASSIFY_TOK_SYSVAR: {
            bool global;
            st->flags |= sysvar_flags(s->lx.p + c->t.off, c->t.len, &global);
            break;
        }
        case CLASSIFY_TOK_WORD:
        case CLASSIFY_TOK_QIDENT:
        case CLASSIFY_TOK_STRING: {
            bool call = tk_punct(la, '(');
            uint32_t attr = c->kw >= 0 ? words[c->kw].attr : 0;
            if (c->kw >= 0) {
                if (attr & FB)
                    st->flags |= attr & ~FATTR;
                if ((attr & FW) && !call)
                    st->write = true;
                switch (c->kw) {
                case W_FOR:
                    if (readish && (la->kw == W_UPDATE || la->kw == W_SHARE))
                        st->flags |= CLASSIFY_F_LOCKING_READ;
                    break;
                case W_LOCK:
                    if (readish)
                        st->flags |= CLASSIFY_F_LOCKING_READ;
                    break;
                case W_INTO:
                    if (readish && prev_kw != W_INSERT && prev_kw != W_REPLACE) {
                        st->flags |= CLASSIFY_F_SELECT_INTO;
                        if (la->t.type == CLASSIFY_TOK_USERVAR)
                            st->flags |= CLASSIFY_F_USER_VAR_ASSIGN;
                    }
                    break;
                case W_NEXT:
                case W_PREVIOUS:
                    if (la->kw == W_VALUE)
                        st->flags |= CLASSIFY_F_SEQUENCE;
                    break;
                case W_SQL_CALC_FOUND_ROWS:
                    st->flags |= CLASSIFY_F_FOUND_ROWS;
                    break;
                case W_PROCEDURE:
                    if (how & BODY_READ)
                        st->write = true;
                    break;
                case W_SELECT:
                    if (depth == 0)
                        prelude = false;
                    break;
                default:
                    break;
                }
            }
            if (call) {
                if (prev_type == CLASSIFY_TOK_PUNCT && prev_ch == '.')
                    stored_call(st, how); /* db.func( */
                else if (c->t.type == CLASSIFY_TOK_STRING) {
                    /* "f"(..) calls f under ANSI_QUOTES */
                    if (s->lx.p[c->t.off] == '"')
                        stored_call(st, how);
                } else if (c->kw >= 0 && (attr & FC))
                    st->flags |= attr & ~FATTR;
                else if (prev_kw == W_AS || (prev_type == CLASSIFY_TOK_PUNCT && prev_ch == ')'))
                    ; /* alias column list: AS t (a, b) */
                else if (prelude && depth == 0)
                    ; /* WITH cte (a, b) AS (...) */
                else
                    stored_call(st, how);
            }
            break;
        }
        default:
            break;
        }
        prev_kw = c->kw;
        prev_ch = c->ch;
        prev_type = c->t.type;
        adv(s);
    }
}

static enum classify_kind read_kind(const struct stmt *st, unsigned opts)
{
    uint32_t force = CLASSIFY_F_FORCE_PRIMARY;
    if (!(opts & CLASSIFY_O_STORED_FUNC_READ))
        force |= CLASSIFY_F_STORED_FUNC;
    if (st->write || (st->flags & force))
        return CLASSIFY_WRITE;
    return CLASSIFY_READ;
}

static void read_body(struct stream *s, struct stmt *st, unsigned opts, unsigned how)
{
    scan_body(s, st, how | BODY_READ);
    st->kind = read_kind(st, opts);
}

static void classify_statement(struct stream *s, struct stmt *st, unsigned opts, unsigned depth);

/* ------------------------------------------------------------------ */
/* SHOW, EXPLAIN / DESCRIBE / ANALYZE                                 */
/* ------------------------------------------------------------------ */

static uint32_t show_word_flags(int kw)
{
    switch (kw) {
    case W_MASTER:
    case W_SLAVE:
    case W_SLAVES:
    case W_REPLICA:
    case W_REPLICAS:
    case W_BINLOG:
    case W_BINARY:
    case W_RELAYLOG:
    case W_PROCESSLIST:
    case W_STATUS:
    case W_VARIABLES:
    case W_ENGINE:
    case W_GLOBAL:
        return CLASSIFY_F_SERVER_STATE;
    case W_WARNINGS:
    case W_ERRORS:
    case W_PROFILE:
    case W_PROFILES:
    case W_COUNT: /* SHOW COUNT(*) WARNINGS */
        return CLASSIFY_F_PREV_STMT_STATE;
    default:
        return 0;
    }
}

static void do_show(struct stream *s, struct stmt *st, unsigned opts)
{
    adv(s);
    /* What is shown: SHOW x, or SHOW FULL|GLOBAL|SESSION|LOCAL|ALL x (not
     * SHOW TABLE STATUS, SHOW PROCEDURE STATUS: catalog, not server). */
    st->flags |= show_word_flags(s->cur.kw);
    if (s->cur.kw == W_FULL || s->cur.kw == W_SESSION || s->cur.kw == W_LOCAL || s->cur.kw == W_ALL)
        st->flags |= show_word_flags(s->la.kw);
    scan_body(s, st, BODY_SHOW);
    st->kind = read_kind(st, opts);
}

static bool is_read_start(const struct tok *t)
{
    return t->kw == W_SELECT || t->kw == W_WITH || t->kw == W_VALUES || t->kw == W_TABLE ||
           tk_punct(t, '(');
}

/* EXPLAIN / DESCRIBE / DESC (analyze_stmt false) and MariaDB's ANALYZE
 * (true). EXPLAIN ANALYZE (MySQL) and ANALYZE (MariaDB) run the statement,
 * so what is explained decides: a read stays READ, a write is WRITE. Plain
 * EXPLAIN of a write would not run it, but we do not rely on that. */
static void do_explain(struct stream *s, struct stmt *st, unsigned opts, unsigned depth,
                       bool analyze_stmt)
{
    adv(s);
    if (!analyze_stmt)
        st->flags |= CLASSIFY_F_EXPLAIN;
    for (;;) {
        if (s->cur.kw == W_EXTENDED || s->cur.kw == W_PARTITIONS ||
            (!analyze_stmt && s->cur.kw == W_ANALYZE)) {
            adv(s);
            continue;
        }
        if (s->cur.kw == W_FORMAT && !tk_punct(&s->la, '(')) {
            adv(s);
            if (tk_punct(&s->cur, '='))
                adv(s);
            if (tk_name(&s->cur) || s->cur.t.type == CLASSIFY_TOK_STRING)
                adv(s);
            continue;
        }
        break;
    }
    const struct tok *c = &s->cur;
    if (is_read_start(c) && !(analyze_stmt && c->kw == W_TABLE)) {
        if (depth >= 1)
            return; /* leftover tokens: WRITE */
        struct stmt inner;
        memset(&inner, 0, sizeof inner);
        classify_statement(s, &inner, opts, depth + 1);
        st->flags |= inner.flags | CLASSIFY_F_EXPLAIN;
        st->kind = inner.kind == CLASSIFY_READ ? CLASSIFY_READ : CLASSIFY_WRITE;
        return;
    }
    if (analyze_stmt)
        return;           /* ANALYZE TABLE, ANALYZE UPDATE...: WRITE */
    if (c->kw == W_FOR) { /* EXPLAIN FOR CONNECTION n */
        st->flags |= CLASSIFY_F_SERVER_STATE;
        scan_body(s, st, BODY_SHOW);
        st->kind = read_kind(st, opts);
        return;
    }
    bool write_kw = c->kw >= 0 && (words[c->kw].attr & FW);
    if (tk_name(c) && !write_kw) {
        /* DESCRIBE table [column | 'wild'] */
        scan_body(s, st, BODY_SHOW);
        st->kind = read_kind(st, opts);
    }
    /* else: EXPLAIN UPDATE / INSERT / DELETE / REPLACE / ...: WRITE */
}

/* ------------------------------------------------------------------ */
/* Transactions                                                       */
/* ------------------------------------------------------------------ */

static bool take_name(struct stream *s, struct proto_str *out)
{
    if (!tk_name(&s->cur))
        return false;
    *out = name_view(s, &s->cur);
    adv(s);
    return true;
}

/* [AND [NO] CHAIN] [[NO] RELEASE] */
static bool chain_release(struct stream *s, struct stmt *st)
{
    if (s->cur.kw == W_AND) {
        adv(s);
        bool no = s->cur.kw == W_NO;
        if (no)
            adv(s);
        if (s->cur.kw != W_CHAIN)
            return false;
        adv(s);
        if (!no)
            st->flags |= CLASSIFY_F_TRX_CHAIN;
    }
    if (s->cur.kw == W_NO) {
        adv(s);
        if (s->cur.kw != W_RELEASE)
            return false;
        adv(s);
    } else if (s->cur.kw == W_RELEASE) {
        adv(s);
        st->flags |= CLASSIFY_F_TRX_RELEASE;
    }
    return tk_end(&s->cur);
}

static void trx(struct stmt *st, enum classify_sub sub)
{
    st->kind = CLASSIFY_TRX;
    st->sub = sub;
}

static void do_start(struct stream *s, struct stmt *st)
{
    adv(s);
    if (s->cur.kw != W_TRANSACTION)
        return; /* START SLAVE / REPLICA / GROUP_REPLICATION: WRITE */
    adv(s);
    while (!tk_end(&s->cur)) {
        if (s->cur.kw == W_READ && s->la.kw == W_ONLY) {
            st->read_only = 1;
        } else if (s->cur.kw == W_READ && s->la.kw == W_WRITE) {
            st->read_only = 0;
        } else if (s->cur.kw == W_WITH && s->la.kw == W_CONSISTENT) {
            adv(s);
            if (s->la.kw != W_SNAPSHOT)
                return;
            st->flags |= CLASSIFY_F_CONSISTENT_SNAPSHOT;
        } else {
            return;
        }
        adv(s);
        adv(s);
        if (tk_punct(&s->cur, ','))
            adv(s);
        else if (!tk_end(&s->cur))
            return;
    }
    trx(st, CLASSIFY_SUB_START);
}

static void do_trx(struct stream *s, struct stmt *st)
{
    int kw = s->cur.kw;
    switch (kw) {
    case W_BEGIN:
        adv(s);
        if (s->cur.kw == W_WORK)
            adv(s);
        if (tk_end(&s->cur)) /* else BEGIN NOT ATOMIC ...: WRITE */
            trx(st, CLASSIFY_SUB_BEGIN);
        return;
    case W_START:
        do_start(s, st);
        return;
    case W_COMMIT:
        adv(s);
        if (s->cur.kw == W_WORK)
            adv(s);
        if (chain_release(s, st))
            trx(st, CLASSIFY_SUB_COMMIT);
        return;
    case W_ROLLBACK:
        adv(s);
        if (s->cur.kw == W_WORK)
            adv(s);
        if (s->cur.kw == W_TO) {
            adv(s);
            if (s->cur.kw == W_SAVEPOINT)
                adv(s);
            if (take_name(s, &st->name) && tk_end(&s->cur))
                trx(st, CLASSIFY_SUB_ROLLBACK_TO);
            return;
        }
        if (chain_release(s, st))
            trx(st, CLASSIFY_SUB_ROLLBACK);
        return;
    case W_SAVEPOINT:
        adv(s);
        if (take_name(s, &st->name) && tk_end(&s->cur))
            trx(st, CLASSIFY_SUB_SAVEPOINT);
        return;
    case W_RELEASE:
        adv(s);
        if (s->cur.kw != W_SAVEPOINT)
            return;
        adv(s);
        if (take_name(s, &st->name) && tk_end(&s->cur))
            trx(st, CLASSIFY_SUB_RELEASE_SAVEPOINT);
        return;
    case W_XA:
        adv(s);
        scan_body(s, st, 0);
        trx(st, CLASSIFY_SUB_XA);
        return;
    default:
        return;
    }
}

/* ------------------------------------------------------------------ */
/* SET, USE, PREPARE / EXECUTE / DEALLOCATE                            */
/* ------------------------------------------------------------------ */

/* SET [SESSION|LOCAL] TRANSACTION characteristic [, ...] */
static void set_transaction(struct stream *s, struct stmt *st)
{
    adv(s); /* TRANSACTION */
    while (!tk_end(&s->cur)) {
        if (s->cur.kw == W_READ && s->la.kw == W_ONLY)
            st->read_only = 1;
        else if (s->cur.kw == W_READ && s->la.kw == W_WRITE)
            st->read_only = 0;
        if (!tk_name(&s->cur) && !tk_punct(&s->cur, ','))
            return; /* only words and commas belong here: else WRITE */
        adv(s);
    }
    trx(st, CLASSIFY_SUB_SET_TRANSACTION);
}

/* The value of `autocommit = <v>` when v is one literal token. */
static int8_t autocommit_value(const struct stream *s)
{
    const struct tok *c = &s->cur;
    if (!tk_end(&s->la) && !tk_punct(&s->la, ','))
        return -1;
    if (c->t.type == CLASSIFY_TOK_NUMBER && c->t.len == 1) {
        uint8_t d = s->lx.p[c->t.off];
        if (d == '0' || d == '1')
            return (int8_t)(d - '0');
    }
    if (c->kw == W_ON || c->kw == W_TRUE)
        return 1;
    if (c->kw == W_OFF || c->kw == W_FALSE)
        return 0;
    return -1;
}

static void do_set(struct stream *s, struct stmt *st, unsigned opts, unsigned depth)
{
    adv(s); /* SET */
    const struct tok *c = &s->cur;

    if (c->kw == W_STATEMENT) { /* MariaDB: SET STATEMENT a=1 FOR <stmt> */
        if (depth >= 1)
            return;
        unsigned d = 0;
        adv(s);
        while (!tk_end(&s->cur)) {
            if (tk_punct(&s->cur, '('))
                d++;
            else if (tk_punct(&s->cur, ')') && d > 0)
                d--;
            else if (d == 0 && s->cur.kw == W_FOR)
                break;
            adv(s);
        }
        if (s->cur.kw != W_FOR)
            return;
        adv(s);
        struct stmt inner;
        memset(&inner, 0, sizeof inner);
        classify_statement(s, &inner, opts, depth + 1);
        st->kind = inner.kind;
        st->sub = inner.sub;
        st->flags |= inner.flags;
        st->read_only = inner.read_only;
        st->autocommit = inner.autocommit;
        st->name = inner.name;
        st->prepare_text = inner.prepare_text;
        return;
    }
    if (c->kw == W_TRANSACTION) {
        set_transaction(s, st);
        return;
    }
    if ((c->kw == W_SESSION || c->kw == W_LOCAL) && s->la.kw == W_TRANSACTION) {
        adv(s);
        set_transaction(s, st);
        return;
    }
    if (c->kw == W_GLOBAL && s->la.kw == W_TRANSACTION) {
        st->flags |= CLASSIFY_F_GLOBAL_CHANGE;
        return;
    }
    if (c->kw == W_PASSWORD || (c->kw == W_DEFAULT && s->la.kw == W_ROLE))
        return; /* writes the grant tables: WRITE */
    if (c->kw == W_ROLE || c->kw == W_NAMES || c->kw == W_CHARSET ||
        (c->kw == W_CHARACTER && s->la.kw == W_SET)) {
        scan_body(s, st, 0);
        st->kind = CLASSIFY_SESSION;
        st->sub = CLASSIFY_SUB_SET;
        return;
    }

    bool global = false, ac = false, other = false;
    for (;;) {
        bool is_ac = false;
        if (c->kw == W_GLOBAL || c->kw == W_PERSIST || c->kw == W_PERSIST_ONLY) {
            global = true;
            adv(s);
        } else if (c->kw == W_SESSION || c->kw == W_LOCAL) {
            adv(s);
        }
        if (c->t.type == CLASSIFY_TOK_USERVAR) {
            st->flags |= CLASSIFY_F_USER_VAR_ASSIGN;
            adv(s);
        } else if (c->t.type == CLASSIFY_TOK_SYSVAR) {
            bool g = false;
            (void)sysvar_flags(s->lx.p + c->t.off, c->t.len, &g);
            global |= g;
            size_t i = c->t.len;
            while (i > 2 && s->lx.p[c->t.off + i - 1] != '.')
                i--;
            size_t from = i > 2 ? i : 2;
            is_ac = proto_ieq(s->lx.p + c->t.off + from, c->t.len - from, "autocommit");
            adv(s);
        } else if (tk_name(c)) {
            is_ac = c->t.type == CLASSIFY_TOK_WORD && c->kw == W_AUTOCOMMIT;
            adv(s);
            while (tk_punct(&s->cur, '.')) { /* SET a.b = ... */
                is_ac = false;
                adv(s);
                if (!tk_name(&s->cur))
                    return;
                adv(s);
            }
        } else {
            return; /* not an assignment: WRITE */
        }
        if (!tk_punct(&s->cur, '=') && !tk_punct(&s->cur, ':'))
            return;
        adv(s);
        if (is_ac) {
            ac = true;
            st->autocommit = autocommit_value(s);
        } else {
            other = true;
        }
        scan_body(s, st, BODY_COMMA | BODY_READ);
        if (!tk_punct(&s->cur, ','))
            break;
        adv(s);
    }
    if (!tk_end(&s->cur))
        return;
    if (global) {
        st->flags |= CLASSIFY_F_GLOBAL_CHANGE;
        return;
    }
    /* Side effects in the values (GET_LOCK, NEXTVAL, a stored function,
     * a locking subquery) or values only the primary has: WRITE. */
    uint32_t force = CLASSIFY_F_FORCE_PRIMARY & ~CLASSIFY_F_USER_VAR_ASSIGN;
    if (!(opts & CLASSIFY_O_STORED_FUNC_READ))
        force |= CLASSIFY_F_STORED_FUNC;
    if (st->write || (st->flags & force))
        return;
    if (ac) {
        trx(st, CLASSIFY_SUB_AUTOCOMMIT);
        if (other)
            st->flags |= CLASSIFY_F_SESSION_VARS;
        return;
    }
    st->kind = CLASSIFY_SESSION;
    st->sub = CLASSIFY_SUB_SET;
}

static void session(struct stmt *st, enum classify_sub sub)
{
    st->kind = CLASSIFY_SESSION;
    st->sub = sub;
}

static void do_ps(struct stream *s, struct stmt *st)
{
    int kw = s->cur.kw;
    adv(s);
    if (kw == W_PREPARE) {
        if (!take_name(s, &st->name) || s->cur.kw != W_FROM)
            return;
        adv(s);
        if (s->cur.t.type == CLASSIFY_TOK_STRING) {
            st->prepare_text = name_view(s, &s->cur);
        } else if (s->cur.t.type == CLASSIFY_TOK_USERVAR) {
            st->flags |= CLASSIFY_F_USES_USER_VAR;
        } else {
            return;
        }
        adv(s);
        if (tk_end(&s->cur))
            session(st, CLASSIFY_SUB_PREPARE);
        return;
    }
    if (kw == W_EXECUTE) {
        if (s->cur.kw == W_IMMEDIATE)
            return; /* EXECUTE IMMEDIATE 'sql': not looked into: WRITE */
        if (!take_name(s, &st->name))
            return;
        if (s->cur.kw == W_USING) {
            adv(s);
            scan_body(s, st, 0);
        }
        if (tk_end(&s->cur))
            session(st, CLASSIFY_SUB_EXECUTE);
        return;
    }
    /* DEALLOCATE PREPARE x / DROP PREPARE x */
    if (s->cur.kw != W_PREPARE)
        return;
    adv(s);
    if (take_name(s, &st->name) && tk_end(&s->cur))
        session(st, CLASSIFY_SUB_DEALLOCATE);
}

/* ------------------------------------------------------------------ */
/* One statement                                                      */
/* ------------------------------------------------------------------ */

/* Classifies the statement starting at s->cur and consumes it up to its
 * ';' / end / error token. Anything a handler did not consume makes the
 * statement WRITE. */
static void classify_statement(struct stream *s, struct stmt *st, unsigned opts, unsigned depth)
{
    st->kind = CLASSIFY_WRITE;
    st->sub = CLASSIFY_SUB_NONE;
    st->read_only = -1;
    st->autocommit = -1;
    if (tk_end(&s->cur)) {
        st->empty = true;
        st->kind = CLASSIFY_OTHER;
        return;
    }
    bool paren = false;
    while (tk_punct(&s->cur, '(')) {
        paren = true;
        adv(s);
    }
    st->keyword = tok_view(s, &s->cur);
    int kw = s->cur.kw;
    if (paren && !is_read_start(&s->cur))
        kw = -1;

    switch (kw) {
    case W_SELECT:
    case W_VALUES:
    case W_TABLE:
    case W_DO:
        read_body(s, st, opts, 0);
        break;
    case W_WITH:
        read_body(s, st, opts, BODY_WITH);
        break;
    case W_SHOW:
        do_show(s, st, opts);
        break;
    case W_HELP:
        adv(s);
        scan_body(s, st, BODY_SHOW);
        st->kind = read_kind(st, opts);
        break;
    case W_DESC:
    case W_DESCRIBE:
    case W_EXPLAIN:
        do_explain(s, st, opts, depth, false);
        break;
    case W_ANALYZE:
        do_explain(s, st, opts, depth, true);
        break;
    case W_BEGIN:
    case W_START:
    case W_COMMIT:
    case W_ROLLBACK:
    case W_SAVEPOINT:
    case W_RELEASE:
    case W_XA:
        do_trx(s, st);
        break;
    case W_SET:
        do_set(s, st, opts, depth);
        break;
    case W_USE:
        adv(s);
        if (take_name(s, &st->name) && tk_end(&s->cur))
            session(st, CLASSIFY_SUB_USE);
        break;
    case W_PREPARE:
    case W_EXECUTE:
    case W_DEALLOCATE:
        do_ps(s, st);
        break;
    case W_DROP:
        if (s->la.kw == W_PREPARE) {
            do_ps(s, st);
            break;
        }
        adv(s);
        if (s->cur.kw == W_TEMPORARY)
            st->flags |= CLASSIFY_F_TEMP_TABLE;
        break;
    case W_CREATE:
        adv(s);
        if (s->cur.kw == W_OR && s->la.kw == W_REPLACE) {
            adv(s);
            adv(s);
        }
        if (s->cur.kw == W_TEMPORARY)
            st->flags |= CLASSIFY_F_TEMP_TABLE;
        break;
    case W_GET:
        adv(s);
        if (s->cur.kw == W_CURRENT || s->cur.kw == W_STACKED)
            adv(s);
        if (s->cur.kw == W_DIAGNOSTICS) {
            scan_body(s, st, 0);
            st->flags |= CLASSIFY_F_PREV_STMT_STATE;
            st->kind = CLASSIFY_OTHER;
        }
        break;
    default:
        break; /* INSERT, UPDATE, CALL, DDL, LOCK, unknown: WRITE */
    }
    if (!tk_end(&s->cur)) {
        st->kind = CLASSIFY_WRITE;
        st->sub = CLASSIFY_SUB_NONE;
        scan_body(s, st, 0);
    }
}

/* ------------------------------------------------------------------ */
/* Readings and the public entry points                               */
/* ------------------------------------------------------------------ */

/* One reading of the text in lexer mode `mode`. Fills out (hint aside). */
static void run_pass(const uint8_t *p, size_t n, unsigned mode, unsigned opts, bool first_only,
                     struct hint_set *hint, struct classify_result *out, unsigned *amb,
                     bool *rejected)
{
    *rejected = false;
    struct stream s;
    memset(&s, 0, sizeof s);
    classify_lex_init(&s.lx, p, n, mode | CLASSIFY_LEX_COMMENTS);
    s.hint = hint;
    s.first_only = first_only;
    lex_sig(&s, &s.la);
    adv(&s);

    unsigned segs = 0, nonempty = 0;
    bool all_read = true;
    uint32_t flags = 0;
    for (;;) {
        struct stmt st;
        memset(&st, 0, sizeof st);
        size_t first_off = s.cur.t.off;
        s.last_end = first_off;
        classify_statement(&s, &st, opts, 0);
        if (s.cur.t.type == CLASSIFY_TOK_ERROR) {
            /* Unterminated in the first statement: a server lexing this
             * way rejects the text before running any of it. */
            if (segs == 0 && (s.cur.t.bits & CLASSIFY_TB_UNTERMINATED))
                *rejected = true;
            st.flags |= CLASSIFY_F_LEX_ERROR;
            st.kind = CLASSIFY_WRITE;
            st.sub = CLASSIFY_SUB_NONE;
            st.empty = false;
        }
        if (segs == 0) {
            out->kind = st.kind;
            out->sub = st.sub;
            out->read_only = st.read_only;
            out->autocommit = st.autocommit;
            out->keyword = st.keyword;
            out->name = st.name;
            out->prepare_text = st.prepare_text;
            out->stmt_off = first_off;
            out->stmt_len = s.last_end > first_off ? s.last_end - first_off : 0;
            out->next = s.cur.t.type == CLASSIFY_TOK_SEMI ? s.cur.t.off + 1 : n;
        }
        segs++;
        flags |= st.flags;
        if (!st.empty) {
            nonempty++;
            if (st.kind != CLASSIFY_READ)
                all_read = false;
        }
        if (s.cur.t.type != CLASSIFY_TOK_SEMI)
            break;
        adv(&s);
        if (s.cur.t.type == CLASSIFY_TOK_END)
            break; /* a trailing ';' */
        if (first_only) {
            flags |= CLASSIFY_F_MULTI_STATEMENT;
            break;
        }
    }
    if (segs > 1) {
        flags |= CLASSIFY_F_MULTI_STATEMENT;
        out->kind = nonempty == 0 ? CLASSIFY_OTHER : all_read ? CLASSIFY_READ : CLASSIFY_WRITE;
        if (out->kind != CLASSIFY_READ || nonempty > 1)
            out->sub = CLASSIFY_SUB_NONE;
    }
    out->statements = nonempty;
    out->flags = flags | s.lexflags;
    *amb = s.lx.amb;
}

static int classify_common(const void *text, size_t n, unsigned opts, bool first_only,
                           struct classify_result *out)
{
    const uint8_t *p = (const uint8_t *)text;
    unsigned base = 0;
    unsigned allowed = CLASSIFY_AMB_COND_EXEC;
    if (opts & CLASSIFY_O_SQL_MODE_KNOWN) {
        if (opts & CLASSIFY_O_NO_BACKSLASH_ESCAPES)
            base |= CLASSIFY_LEX_SQ_NOESC | CLASSIFY_LEX_DQ_NOESC;
        if (opts & CLASSIFY_O_ANSI_QUOTES)
            base |= CLASSIFY_LEX_DQ_IDENT;
    } else {
        allowed |= CLASSIFY_AMB_SQ_BACKSLASH | CLASSIFY_AMB_DQ_BACKSLASH;
    }

    memset(out, 0, sizeof *out);
    hint_init(&out->hint);
    unsigned amb = 0;
    bool rejected;
    run_pass(p, n, base, opts, first_only, &out->hint, out, &amb, &rejected);
    if (out->hint.present && hint_finish(&out->hint) != PROTO_OK) {
        /* out->hint.error says why; the proxy answers with it */
    }

    amb &= allowed;
    if (amb && out->kind != CLASSIFY_WRITE) {
        /* Other readings: every subset of the ambiguity bits seen (new
         * bits may show up in another reading). At most 7 more passes. */
        unsigned done = 1u; /* reading 0 */
        bool disagree = false;
        uint32_t flags = out->flags;
        while (!disagree) {
            unsigned m;
            for (m = 1; m < 8; m++)
                if (!(done & (1u << m)) && (m & ~amb) == 0)
                    break;
            if (m == 8)
                break;
            done |= 1u << m;
            struct classify_result alt;
            memset(&alt, 0, sizeof alt);
            unsigned amb2 = 0;
            unsigned mode = (base ^ (m & (CLASSIFY_LEX_SQ_NOESC | CLASSIFY_LEX_DQ_NOESC))) |
                            (m & CLASSIFY_LEX_SKIP_COND);
            run_pass(p, n, mode, opts, first_only, NULL, &alt, &amb2, &rejected);
            amb |= amb2 & allowed;
            if (rejected)
                continue; /* that server runs nothing: no disagreement */
            flags |= alt.flags;
            /* Statement boundaries count too: a walker using .next must
             * not skip a statement another reading sees. */
            if (alt.kind != out->kind || alt.sub != out->sub || alt.next != out->next ||
                alt.read_only != out->read_only || alt.autocommit != out->autocommit)
                disagree = true;
        }
        out->flags = flags;
        if (disagree) {
            out->kind = CLASSIFY_WRITE;
            out->sub = CLASSIFY_SUB_NONE;
            out->flags |= CLASSIFY_F_AMBIGUOUS;
        }
    }
    out->cacheable = out->kind == CLASSIFY_READ && !(out->flags & CLASSIFY_F_NOT_CACHEABLE);
    return PROTO_OK;
}

int classify_query(const void *p, size_t n, unsigned opts, struct classify_result *out)
{
    return classify_common(p, n, opts, false, out);
}

int classify_stmt(const void *p, size_t n, unsigned opts, struct classify_result *out)
{
    return classify_common(p, n, opts, true, out);
}
