/*
 * test_classify.c - statement classifier: a table of statements -> kind,
 * subkind and the exact flag set; then spans, names, values, options,
 * multi-statement walking, hints, and every truncation of the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/classify.h"
#include "testsupport.h"

#define R      CLASSIFY_READ
#define W      CLASSIFY_WRITE
#define T      CLASSIFY_TRX
#define S      CLASSIFY_SESSION
#define O      CLASSIFY_OTHER
#define F(x)   CLASSIFY_F_##x
#define SUB(x) CLASSIFY_SUB_##x

struct vec {
    const char *sql;
    enum classify_kind kind;
    enum classify_sub sub;
    uint32_t flags;
};

/* Expected kind, subkind and exact flags with default options (sql_mode
 * unknown, stored functions are writes). */
static const struct vec vecs[] = {
    /* plain reads */
    {"SELECT 1", R, SUB(NONE), 0},
    {"select 1", R, SUB(NONE), 0},
    {"SeLeCt 1", R, SUB(NONE), 0},
    {"  \t\n SELECT 1", R, SUB(NONE), 0},
    {"SELECT 1;", R, SUB(NONE), 0},
    {"SELECT 1 ;  -- trailing comment", R, SUB(NONE), 0},
    {"SELECT c FROM sbtest1 WHERE id=?", R, SUB(NONE), 0},
    {"SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c", R, SUB(NONE), 0},
    {"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 5 AND 104", R, SUB(NONE), 0},
    {"SELECT DISTINCT c FROM t WHERE id IN (1,2,3) ORDER BY c", R, SUB(NONE), 0},
    {"select/**/1", R, SUB(NONE), 0},
    {"/* leading */ SELECT 1", R, SUB(NONE), 0},
    {"-- comment\nSELECT 1", R, SUB(NONE), 0},
    {"--\tcomment\nSELECT 1", R, SUB(NONE), 0},
    {"# hash comment\nSELECT 1", R, SUB(NONE), 0},
    {"SELECT 1 # trailing", R, SUB(NONE), 0},
    {"SELECT 1--1", R, SUB(NONE), 0},
    {"SELECT 1 -- ", R, SUB(NONE), 0},
    {"SELECT 1 --", R, SUB(NONE), 0},
    {"SELECT ';' FROM t", R, SUB(NONE), 0},
    {"SELECT \"a;b\" FROM t", R, SUB(NONE), 0},
    {"SELECT 'it''s; DROP TABLE t'", R, SUB(NONE), 0},
    {"SELECT `a;b` FROM `t;`", R, SUB(NONE), 0},
    {"SELECT `x``;` FROM t", R, SUB(NONE), 0},
    {"SELECT /* ; */ 1", R, SUB(NONE), 0},
    {"SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t", R, SUB(NONE), 0},
    {"(SELECT 1) UNION (SELECT 2)", R, SUB(NONE), 0},
    {"((SELECT a FROM t)) UNION ALL SELECT b FROM u", R, SUB(NONE), 0},
    {"  ( select 1 )", R, SUB(NONE), 0},
    {"SELECT a FROM t UNION SELECT b FROM u EXCEPT SELECT c FROM v", R, SUB(NONE), 0},
    {"WITH c AS (SELECT 1 AS x) SELECT x FROM c", R, SUB(NONE), 0},
    {"WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE "
     "n<5) SELECT * FROM r",
     R, SUB(NONE), 0},
    {"WITH a (x) AS (SELECT 1), b (y) AS (SELECT 2) SELECT * FROM a, b", R, SUB(NONE), 0},
    {"SELECT * FROM (SELECT 1) AS dt (a)", R, SUB(NONE), 0},
    {"SELECT CAST(a AS DECIMAL(10,2)), CONVERT(b, CHAR(10)) FROM t", R, SUB(NONE), 0},
    {"SELECT COUNT(*), MAX(a), GROUP_CONCAT(DISTINCT b) FROM t GROUP BY c "
     "HAVING COUNT(*) > 1",
     R, SUB(NONE), 0},
    {"SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) FROM t", R, SUB(NONE), 0},
    {"SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a)", R, SUB(NONE), 0},
    {"SELECT * FROM t1 JOIN t2 USING (id) LEFT JOIN t3 ON (t3.id = t1.id)", R, SUB(NONE), 0},
    {"SELECT * FROM t FORCE INDEX (PRIMARY) WHERE a = 1", R, SUB(NONE), 0},
    {"SELECT * FROM t PARTITION (p0)", R, SUB(NONE), 0},
    {"SELECT MATCH (a) AGAINST ('x' IN BOOLEAN MODE) FROM t", R, SUB(NONE), 0},
    {"SELECT JSON_EXTRACT(doc, '$.a'), IFNULL(a, 0), COALESCE(b, 1) FROM t", R, SUB(NONE), 0},
    {"SELECT SUBSTRING(a FROM 1 FOR 2) FROM t", R, SUB(NONE), 0},
    {"SELECT * FROM t FOR SYSTEM_TIME AS OF TIMESTAMP '2020-01-01'", R, SUB(NONE), 0},
    {"SELECT INSERT('abc', 1, 1, 'x'), REPLACE(a, 'x', 'y') FROM t", R, SUB(NONE), 0},
    {"SELECT a FROM t WHERE a = ANY (SELECT b FROM u)", R, SUB(NONE), 0},
    {"SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (a INT PATH '$')) AS "
     "jt",
     R, SUB(NONE), 0},
    {"SELECT update_time, `update` FROM t", R, SUB(NONE), 0},
    {"SELECT 1 FROM dual WHERE 1.5e3 > .5 AND 0x1F = 31", R, SUB(NONE), 0},
    {"TABLE t", R, SUB(NONE), 0},
    {"VALUES ROW(1, 2), ROW(3, 4)", R, SUB(NONE), 0},
    {"SELECT 1; SELECT 2", R, SUB(NONE), F(MULTI_STATEMENT)},
    {"SELECT 1;;", R, SUB(NONE), F(MULTI_STATEMENT)},
    {"SELECT SLEEP(1)", R, SUB(NONE), 0},
    {"HELP 'contents'", R, SUB(NONE), 0},
    {"DO 1 + 1", R, SUB(NONE), 0},
    {"DO SLEEP(0.1)", R, SUB(NONE), 0},
    {"/*!40101 SELECT 1 */", R, SUB(NONE), F(EXEC_COMMENT)},
    {"SELECT /*! STRAIGHT_JOIN */ a FROM t", R, SUB(NONE), F(EXEC_COMMENT)},
    {"SELECT 1 /*!80000 , 2 */", R, SUB(NONE), F(EXEC_COMMENT)},
    {"SELECT 'a\\'b' FROM t", R, SUB(NONE), 0},

    /* reads with advisory flags */
    {"SELECT NOW()", R, SUB(NONE), F(NONDETERMINISTIC)},
    {"SELECT CURRENT_TIMESTAMP", R, SUB(NONE), F(NONDETERMINISTIC)},
    {"SELECT * FROM t WHERE d > CURDATE() - INTERVAL 1 DAY", R, SUB(NONE), F(NONDETERMINISTIC)},
    {"SELECT RAND(), UUID()", R, SUB(NONE), F(NONDETERMINISTIC)},
    {"SELECT UUID_SHORT()", R, SUB(NONE), F(NONDETERMINISTIC)},
    {"SELECT SYSDATE()", R, SUB(NONE), F(NONDETERMINISTIC)},
    {"SELECT CONNECTION_ID()", R, SUB(NONE), F(NONDETERMINISTIC) | F(SERVER_STATE)},
    {"SELECT CURRENT_USER", R, SUB(NONE), F(NONDETERMINISTIC)},
    {"SELECT @a", R, SUB(NONE), F(USES_USER_VAR)},
    {"SELECT * FROM t WHERE id = @id", R, SUB(NONE), F(USES_USER_VAR)},
    {"SELECT @a = 1", R, SUB(NONE), F(USES_USER_VAR)},
    {"SELECT @@version", R, SUB(NONE), F(SYS_VAR)},
    {"SELECT @@session.sql_mode", R, SUB(NONE), F(SYS_VAR)},
    {"SELECT @@global.gtid_executed", R, SUB(NONE), F(SYS_VAR) | F(SERVER_STATE)},
    {"SELECT @@gtid_current_pos", R, SUB(NONE), F(SYS_VAR) | F(SERVER_STATE)},
    {"SELECT @@warning_count", R, SUB(NONE), F(SYS_VAR) | F(PREV_STMT_STATE)},
    {"SELECT VERSION()", R, SUB(NONE), F(SERVER_STATE)},
    {"SELECT MASTER_GTID_WAIT('0-1-5', 1)", R, SUB(NONE), F(SERVER_STATE)},
    {"SELECT WAIT_FOR_EXECUTED_GTID_SET('3E11FA47-71CA-11E1-9E33-"
     "C80AA9429562:1-5', 1)",
     R, SUB(NONE), F(SERVER_STATE)},
    {"SHOW TABLES", R, SUB(NONE), 0},
    {"show full tables from db like 'a%'", R, SUB(NONE), 0},
    {"SHOW CREATE TABLE t", R, SUB(NONE), 0},
    {"SHOW PROCEDURE STATUS", R, SUB(NONE), 0},
    {"SHOW SLAVE STATUS", R, SUB(NONE), F(SERVER_STATE)},
    {"SHOW REPLICA STATUS", R, SUB(NONE), F(SERVER_STATE)},
    {"SHOW ALL SLAVES STATUS", R, SUB(NONE), F(SERVER_STATE)},
    {"SHOW MASTER STATUS", R, SUB(NONE), F(SERVER_STATE)},
    {"SHOW BINARY LOGS", R, SUB(NONE), F(SERVER_STATE)},
    {"SHOW GLOBAL VARIABLES LIKE 'gtid%'", R, SUB(NONE), F(SERVER_STATE)},
    {"SHOW FULL PROCESSLIST", R, SUB(NONE), F(SERVER_STATE)},
    {"SHOW WARNINGS", R, SUB(NONE), F(PREV_STMT_STATE)},
    {"SHOW COUNT(*) ERRORS", R, SUB(NONE), F(PREV_STMT_STATE)},
    {"DESCRIBE t", R, SUB(NONE), F(EXPLAIN)},
    {"DESC t col", R, SUB(NONE), F(EXPLAIN)},
    {"EXPLAIN t", R, SUB(NONE), F(EXPLAIN)},
    {"EXPLAIN SELECT * FROM t WHERE a = 1", R, SUB(NONE), F(EXPLAIN)},
    {"EXPLAIN FORMAT=JSON SELECT 1", R, SUB(NONE), F(EXPLAIN)},
    {"EXPLAIN EXTENDED SELECT 1", R, SUB(NONE), F(EXPLAIN)},
    {"EXPLAIN ANALYZE SELECT * FROM t", R, SUB(NONE), F(EXPLAIN)},
    {"ANALYZE SELECT * FROM t", R, SUB(NONE), F(EXPLAIN)},
    {"ANALYZE FORMAT=JSON SELECT * FROM t", R, SUB(NONE), F(EXPLAIN)},
    {"EXPLAIN FOR CONNECTION 12", R, SUB(NONE), F(EXPLAIN) | F(SERVER_STATE)},
    {"DESCRIBE SELECT 1", R, SUB(NONE), F(EXPLAIN)},

    /* reads that must go to the primary */
    {"SELECT * FROM t WHERE id = 1 FOR UPDATE", W, SUB(NONE), F(LOCKING_READ)},
    {"/* why */ SELECT * FROM t FOR UPDATE", W, SUB(NONE), F(LOCKING_READ)},
    {"-- c\nSELECT * FROM t FOR UPDATE NOWAIT", W, SUB(NONE), F(LOCKING_READ)},
    {"SELECT * FROM t FOR SHARE SKIP LOCKED", W, SUB(NONE), F(LOCKING_READ)},
    {"SELECT * FROM t FOR UPDATE OF t", W, SUB(NONE), F(LOCKING_READ)},
    {"SELECT * FROM t LOCK IN SHARE MODE", W, SUB(NONE), F(LOCKING_READ)},
    {"select * from t lock in share mode", W, SUB(NONE), F(LOCKING_READ)},
    {"(SELECT * FROM t FOR UPDATE)", W, SUB(NONE), F(LOCKING_READ)},
    {"SELECT a INTO @x FROM t", W, SUB(NONE),
     F(SELECT_INTO) | F(USER_VAR_ASSIGN) | F(USES_USER_VAR)},
    {"SELECT a FROM t INTO OUTFILE '/tmp/x'", W, SUB(NONE), F(SELECT_INTO)},
    {"SELECT a FROM t INTO DUMPFILE '/tmp/x'", W, SUB(NONE), F(SELECT_INTO)},
    {"SELECT @a:=1", W, SUB(NONE), F(USER_VAR_ASSIGN)},
    {"SELECT @a := a + 1 FROM t", W, SUB(NONE), F(USER_VAR_ASSIGN)},
    {"SELECT GET_LOCK('x', 10)", W, SUB(NONE), F(LOCK_FUNC)},
    {"SELECT RELEASE_LOCK('x')", W, SUB(NONE), F(LOCK_FUNC)},
    {"SELECT IS_FREE_LOCK('x')", W, SUB(NONE), F(LOCK_FUNC)},
    {"SELECT IS_USED_LOCK('x')", W, SUB(NONE), F(LOCK_FUNC)},
    {"SELECT RELEASE_ALL_LOCKS()", W, SUB(NONE), F(LOCK_FUNC)},
    {"DO RELEASE_LOCK('x')", W, SUB(NONE), F(LOCK_FUNC)},
    {"DO GET_LOCK('x', 0)", W, SUB(NONE), F(LOCK_FUNC)},
    {"SELECT LAST_INSERT_ID()", W, SUB(NONE), F(LAST_INSERT_ID)},
    {"select last_insert_id ( )", W, SUB(NONE), F(LAST_INSERT_ID)},
    {"SELECT @@identity", W, SUB(NONE), F(SYS_VAR) | F(LAST_INSERT_ID)},
    {"SELECT @@last_gtid", W, SUB(NONE), F(SYS_VAR) | F(LAST_INSERT_ID)},
    {"SELECT FOUND_ROWS()", W, SUB(NONE), F(FOUND_ROWS)},
    {"SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10", W, SUB(NONE), F(FOUND_ROWS)},
    {"SELECT ROW_COUNT()", W, SUB(NONE), F(ROW_COUNT)},
    {"SELECT NEXTVAL(s)", W, SUB(NONE), F(SEQUENCE)},
    {"SELECT NEXT VALUE FOR s", W, SUB(NONE), F(SEQUENCE)},
    {"SELECT LASTVAL(s)", W, SUB(NONE), F(SEQUENCE)},
    {"SELECT PREVIOUS VALUE FOR s", W, SUB(NONE), F(SEQUENCE)},
    {"SELECT SETVAL(s, 10)", W, SUB(NONE), F(SEQUENCE)},
    {"SELECT f(1)", W, SUB(NONE), F(STORED_FUNC)},
    {"SELECT db.f(a) FROM t", W, SUB(NONE), F(STORED_FUNC)},
    {"SELECT `f`(1)", W, SUB(NONE), F(STORED_FUNC)},
    {"SELECT db.now()", W, SUB(NONE), F(STORED_FUNC)},
    {"SELECT \"f\"(1)", W, SUB(NONE), F(STORED_FUNC)},
    {"SELECT a FROM t PROCEDURE ANALYSE()", W, SUB(NONE), F(STORED_FUNC)},
    {"EXPLAIN SELECT * FROM t FOR UPDATE", W, SUB(NONE), F(EXPLAIN) | F(LOCKING_READ)},
    {"SHOW STATUS WHERE GET_LOCK('a', 1)", W, SUB(NONE), F(SERVER_STATE) | F(LOCK_FUNC)},
    {"WITH c AS (SELECT 1) UPDATE t, c SET t.a = 1", W, SUB(NONE), 0},
    {"WITH c AS (SELECT id FROM u) DELETE FROM t WHERE id IN (SELECT id "
     "FROM c)",
     W, SUB(NONE), 0},
    {"WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c", W, SUB(NONE), 0},
    {"SELECT 1 FOR /*!99999 x */ UPDATE", W, SUB(NONE), F(EXEC_COMMENT)},
    {"SELECT 1 FOR /*!99999 x */ SHARE", W, SUB(NONE),
     F(EXEC_COMMENT) | F(LOCKING_READ) | F(AMBIGUOUS)},
    {"SELECT 1 /*M! FOR UPDATE */", W, SUB(NONE), F(EXEC_COMMENT) | F(LOCKING_READ)},
    {"SELECT 1 /*!50000 FOR UPDATE */", W, SUB(NONE), F(EXEC_COMMENT) | F(LOCKING_READ)},

    /* multi-statement and malformed text */
    {"SELECT 1; DROP TABLE t", W, SUB(NONE), F(MULTI_STATEMENT)},
    {"SELECT 1;DELETE FROM t", W, SUB(NONE), F(MULTI_STATEMENT)},
    {"SELECT 1--1; DELETE FROM t", W, SUB(NONE), F(MULTI_STATEMENT)},
    {"SELECT 1 /*!; DELETE FROM t */", W, SUB(NONE), F(MULTI_STATEMENT) | F(EXEC_COMMENT)},
    {"SELECT '\\'; DELETE FROM t; -- '", W, SUB(NONE), F(MULTI_STATEMENT) | F(AMBIGUOUS)},
    {"SELECT \"\\\"; DELETE FROM t; -- \"", W, SUB(NONE), F(MULTI_STATEMENT) | F(AMBIGUOUS)},
    {"SELECT 1 /*M!100000 ; DELETE FROM t */", W, SUB(NONE), F(MULTI_STATEMENT) | F(EXEC_COMMENT)},
    {"SELECT 'unterminated", W, SUB(NONE), F(LEX_ERROR)},
    {"SELECT \"unterminated", W, SUB(NONE), F(LEX_ERROR)},
    {"SELECT `unterminated", W, SUB(NONE), F(LEX_ERROR)},
    {"SELECT 1 /* unterminated", W, SUB(NONE), F(LEX_ERROR)},
    {"SELECT 1 /*! unterminated", W, SUB(NONE), F(LEX_ERROR) | F(EXEC_COMMENT)},
    {"SELECT 1 /*! /*! 2 */ */", W, SUB(NONE), F(LEX_ERROR) | F(EXEC_COMMENT)},
    {"SELECT 1 # \x01\nx", R, SUB(NONE), 0},
    {"SELECT 1 --\x01; DELETE FROM t", R, SUB(NONE), 0},
    {"SELECT 1 --x; DELETE FROM t", W, SUB(NONE), F(MULTI_STATEMENT)},
    {"'just a string'", W, SUB(NONE), 0},
    {"(", W, SUB(NONE), 0},
    {"(UPDATE t SET a = 1)", W, SUB(NONE), 0},
    {"`select` 1", W, SUB(NONE), 0},
    {"SELEC 1", W, SUB(NONE), 0},

    /* writes */
    {"INSERT INTO t (a) VALUES (1)", W, SUB(NONE), 0},
    {"insert into t values (NOW())", W, SUB(NONE), F(NONDETERMINISTIC)},
    {"INSERT INTO t SELECT * FROM u", W, SUB(NONE), 0},
    {"INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a)", W, SUB(NONE), 0},
    {"REPLACE INTO t VALUES (1)", W, SUB(NONE), 0},
    {"UPDATE sbtest1 SET k=k+1 WHERE id=?", W, SUB(NONE), 0},
    {"DELETE FROM sbtest1 WHERE id=?", W, SUB(NONE), 0},
    {"#x\nDELETE FROM t", W, SUB(NONE), 0},
    {"/*!50000 DELETE FROM t */", W, SUB(NONE), F(EXEC_COMMENT)},
    {"/*!50000 SELECT 1 */; /*!50000 UPDATE t SET a=1 */", W, SUB(NONE),
     F(EXEC_COMMENT) | F(MULTI_STATEMENT)},
    {"/*M!100100 DELETE FROM t */", W, SUB(NONE), F(EXEC_COMMENT)},
    {"LOAD DATA INFILE '/tmp/x' INTO TABLE t", W, SUB(NONE), 0},
    {"CALL p(1)", W, SUB(NONE), 0},
    {"CREATE TABLE t (a INT)", W, SUB(NONE), 0},
    {"CREATE TEMPORARY TABLE tmp (a INT)", W, SUB(NONE), F(TEMP_TABLE)},
    {"CREATE OR REPLACE TEMPORARY TABLE tmp (a INT)", W, SUB(NONE), F(TEMP_TABLE)},
    {"DROP TEMPORARY TABLE tmp", W, SUB(NONE), F(TEMP_TABLE)},
    {"DROP TABLE t", W, SUB(NONE), 0},
    {"ALTER TABLE t ADD COLUMN b INT", W, SUB(NONE), 0},
    {"TRUNCATE TABLE t", W, SUB(NONE), 0},
    {"RENAME TABLE a TO b", W, SUB(NONE), 0},
    {"GRANT SELECT ON db.* TO 'u'@'%'", W, SUB(NONE), F(USES_USER_VAR)},
    {"LOCK TABLES t READ", W, SUB(NONE), 0},
    {"UNLOCK TABLES", W, SUB(NONE), 0},
    {"FLUSH TABLES", W, SUB(NONE), 0},
    {"ANALYZE TABLE t", W, SUB(NONE), 0},
    {"ANALYZE NO_WRITE_TO_BINLOG TABLE t", W, SUB(NONE), 0},
    {"ANALYZE UPDATE t SET a = 1", W, SUB(NONE), 0},
    {"ANALYZE FORMAT=JSON DELETE FROM t", W, SUB(NONE), 0},
    {"EXPLAIN UPDATE t SET a = 1", W, SUB(NONE), F(EXPLAIN)},
    {"EXPLAIN ANALYZE DELETE FROM t", W, SUB(NONE), F(EXPLAIN)},
    {"OPTIMIZE TABLE t", W, SUB(NONE), 0},
    {"KILL 12", W, SUB(NONE), 0},
    {"START SLAVE", W, SUB(NONE), 0},
    {"HANDLER t OPEN", W, SUB(NONE), 0},
    {"BEGIN NOT ATOMIC SELECT 1; END", W, SUB(NONE), F(MULTI_STATEMENT)},
    {"EXECUTE IMMEDIATE 'SELECT 1'", W, SUB(NONE), 0},
    {"SET GLOBAL read_only = 1", W, SUB(NONE), F(GLOBAL_CHANGE)},
    {"SET @@global.max_connections = 10", W, SUB(NONE), F(GLOBAL_CHANGE)},
    {"SET PERSIST max_connections = 10", W, SUB(NONE), F(GLOBAL_CHANGE)},
    {"SET PASSWORD = 'x'", W, SUB(NONE), 0},
    {"SET @a = GET_LOCK('x', 1)", W, SUB(NONE), F(USER_VAR_ASSIGN) | F(LOCK_FUNC)},
    {"SET @a = NEXTVAL(s)", W, SUB(NONE), F(USER_VAR_ASSIGN) | F(SEQUENCE)},
    {"SET @id = LAST_INSERT_ID()", W, SUB(NONE), F(USER_VAR_ASSIGN) | F(LAST_INSERT_ID)},
    {"SET @a = f(1)", W, SUB(NONE), F(USER_VAR_ASSIGN) | F(STORED_FUNC)},

    /* transactions */
    {"BEGIN", T, SUB(BEGIN), 0},
    {"begin work", T, SUB(BEGIN), 0},
    {"START TRANSACTION", T, SUB(START), 0},
    {"START TRANSACTION READ ONLY", T, SUB(START), 0},
    {"START TRANSACTION READ WRITE", T, SUB(START), 0},
    {"START TRANSACTION WITH CONSISTENT SNAPSHOT", T, SUB(START), F(CONSISTENT_SNAPSHOT)},
    {"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", T, SUB(START),
     F(CONSISTENT_SNAPSHOT)},
    {"COMMIT", T, SUB(COMMIT), 0},
    {"commit work", T, SUB(COMMIT), 0},
    {"COMMIT AND CHAIN", T, SUB(COMMIT), F(TRX_CHAIN)},
    {"COMMIT AND NO CHAIN NO RELEASE", T, SUB(COMMIT), 0},
    {"COMMIT RELEASE", T, SUB(COMMIT), F(TRX_RELEASE)},
    {"ROLLBACK", T, SUB(ROLLBACK), 0},
    {"ROLLBACK WORK", T, SUB(ROLLBACK), 0},
    {"ROLLBACK TO SAVEPOINT sp1", T, SUB(ROLLBACK_TO), 0},
    {"ROLLBACK TO sp1", T, SUB(ROLLBACK_TO), 0},
    {"SAVEPOINT sp1", T, SUB(SAVEPOINT), 0},
    {"RELEASE SAVEPOINT sp1", T, SUB(RELEASE_SAVEPOINT), 0},
    {"XA START 'xid1'", T, SUB(XA), 0},
    {"XA END 'xid1'", T, SUB(XA), 0},
    {"XA PREPARE 'xid1'", T, SUB(XA), 0},
    {"XA COMMIT 'xid1'", T, SUB(XA), 0},
    {"XA RECOVER", T, SUB(XA), 0},
    {"SET autocommit=0", T, SUB(AUTOCOMMIT), 0},
    {"set autocommit = 1", T, SUB(AUTOCOMMIT), 0},
    {"SET SESSION autocommit = OFF", T, SUB(AUTOCOMMIT), 0},
    {"SET @@autocommit = 1", T, SUB(AUTOCOMMIT), 0},
    {"SET @@session.autocommit = 0", T, SUB(AUTOCOMMIT), 0},
    {"SET autocommit = 0, sql_mode = ''", T, SUB(AUTOCOMMIT), F(SESSION_VARS)},
    {"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", T, SUB(SET_TRANSACTION), 0},
    {"SET SESSION TRANSACTION READ ONLY", T, SUB(SET_TRANSACTION), 0},
    {"COMMIT AND", W, SUB(NONE), 0},
    {"SAVEPOINT", W, SUB(NONE), 0},

    /* session */
    {"SET NAMES utf8mb4", S, SUB(SET), 0},
    {"SET NAMES 'utf8mb4' COLLATE 'utf8mb4_bin'", S, SUB(SET), 0},
    {"SET CHARACTER SET utf8", S, SUB(SET), 0},
    {"SET SESSION sql_mode = 'ANSI_QUOTES'", S, SUB(SET), 0},
    {"SET @@session.time_zone = '+00:00'", S, SUB(SET), 0},
    {"SET sql_mode = CONCAT(@@sql_mode, ',NO_ZERO_DATE')", S, SUB(SET), F(SYS_VAR)},
    {"SET time_zone = '+00:00', @x = 5", S, SUB(SET), F(USER_VAR_ASSIGN)},
    {"SET @a = 1", S, SUB(SET), F(USER_VAR_ASSIGN)},
    {"SET @a := (SELECT MAX(id) FROM t)", S, SUB(SET), F(USER_VAR_ASSIGN)},
    {"SET ROLE r1", S, SUB(SET), 0},
    {"USE db1", S, SUB(USE), 0},
    {"use `my db`", S, SUB(USE), 0},
    {"PREPARE s1 FROM 'SELECT * FROM t WHERE id = ?'", S, SUB(PREPARE), 0},
    {"PREPARE s1 FROM @sql", S, SUB(PREPARE), F(USES_USER_VAR)},
    {"EXECUTE s1", S, SUB(EXECUTE), 0},
    {"EXECUTE s1 USING @a, @b", S, SUB(EXECUTE), F(USES_USER_VAR)},
    {"DEALLOCATE PREPARE s1", S, SUB(DEALLOCATE), 0},
    {"DROP PREPARE s1", S, SUB(DEALLOCATE), 0},
    {"SET STATEMENT max_statement_time=1 FOR SELECT * FROM t", R, SUB(NONE), 0},
    {"SET STATEMENT max_statement_time=1 FOR UPDATE t SET a=1", W, SUB(NONE), 0},

    /* other */
    {"", O, SUB(NONE), 0},
    {"   ", O, SUB(NONE), 0},
    {"/* only a comment */", O, SUB(NONE), 0},
    {"-- only a comment", O, SUB(NONE), 0},
    {";", O, SUB(NONE), 0},
    {"GET DIAGNOSTICS @n = NUMBER", O, SUB(NONE), F(PREV_STMT_STATE) | F(USES_USER_VAR)},
};

static bool check_vec(const struct vec *v, unsigned opts)
{
    struct classify_result r;
    assert_int_equal(classify_query(v->sql, strlen(v->sql), opts, &r), PROTO_OK);
    if (r.kind != v->kind || r.sub != v->sub || r.flags != v->flags) {
        char got[512], want[512];
        classify_flags_format(r.flags, got, sizeof got);
        classify_flags_format(v->flags, want, sizeof want);
        print_error("%s\n  got  %s/%s %s\n  want %s/%s %s\n", v->sql, classify_kind_name(r.kind),
                    classify_sub_name(r.sub), got, classify_kind_name(v->kind),
                    classify_sub_name(v->sub), want);
        return false;
    }
    /* Invariants every result keeps. */
    if (r.kind == CLASSIFY_READ)
        assert_int_equal(r.flags & CLASSIFY_F_FORCE_PRIMARY, 0);
    assert_true(r.cacheable == (r.kind == CLASSIFY_READ && !(r.flags & CLASSIFY_F_NOT_CACHEABLE)));
    return true;
}

static void test_table(void **state)
{
    (void)state;
    size_t n = sizeof vecs / sizeof vecs[0];
    assert_true(n >= 150);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !check_vec(&vecs[i], 0);
    assert_int_equal(bad, 0);
}

/* The same table with the session's sql_mode known to be the default:
 * nothing changes except that no quoting reading is tried. */
static void test_table_mode_known(void **state)
{
    (void)state;
    struct classify_result r;
    const char *q = "SELECT '\\'; DELETE FROM t; -- '";
    assert_int_equal(classify_query(q, strlen(q), CLASSIFY_O_SQL_MODE_KNOWN, &r), PROTO_OK);
    assert_int_equal(r.kind, CLASSIFY_READ);
    assert_int_equal(r.flags, 0);
    assert_int_equal(classify_query(q, strlen(q),
                                    CLASSIFY_O_SQL_MODE_KNOWN | CLASSIFY_O_NO_BACKSLASH_ESCAPES,
                                    &r),
                     PROTO_OK);
    assert_int_equal(r.kind, CLASSIFY_WRITE);
    assert_true(r.flags & CLASSIFY_F_MULTI_STATEMENT);
    assert_false(r.flags & CLASSIFY_F_AMBIGUOUS);

    /* classify_stmt: the other reading ends the first statement earlier
     * (and its READ agrees), but a walker would then skip the DELETE. */
    q = "SELECT '\\'; DELETE FROM t; -- '";
    assert_int_equal(classify_stmt(q, strlen(q), 0, &r), PROTO_OK);
    assert_int_equal(r.kind, CLASSIFY_WRITE);
    assert_true(r.flags & CLASSIFY_F_AMBIGUOUS);

    /* ANSI_QUOTES: "f"(1) is a function call, "x" an identifier. */
    q = "SELECT \"x\" FROM t";
    assert_int_equal(
        classify_query(q, strlen(q), CLASSIFY_O_SQL_MODE_KNOWN | CLASSIFY_O_ANSI_QUOTES, &r),
        PROTO_OK);
    assert_int_equal(r.kind, CLASSIFY_READ);
    q = "SELECT \"f\"(1)";
    assert_int_equal(
        classify_query(q, strlen(q), CLASSIFY_O_SQL_MODE_KNOWN | CLASSIFY_O_ANSI_QUOTES, &r),
        PROTO_OK);
    assert_int_equal(r.kind, CLASSIFY_WRITE);
    assert_int_equal(r.flags, CLASSIFY_F_STORED_FUNC);
}

static void test_stored_func_option(void **state)
{
    (void)state;
    struct classify_result r;
    const char *q = "SELECT f(a), db.g(b) FROM t";
    assert_int_equal(classify_query(q, strlen(q), CLASSIFY_O_STORED_FUNC_READ, &r), PROTO_OK);
    assert_int_equal(r.kind, CLASSIFY_READ);
    assert_int_equal(r.flags, CLASSIFY_F_STORED_FUNC);
    assert_false(r.cacheable);
    /* The option does not cover side effects the classifier knows. */
    q = "SELECT f(a), GET_LOCK('x', 1)";
    assert_int_equal(classify_query(q, strlen(q), CLASSIFY_O_STORED_FUNC_READ, &r), PROTO_OK);
    assert_int_equal(r.kind, CLASSIFY_WRITE);
    q = "SET @a = f(1)";
    assert_int_equal(classify_query(q, strlen(q), CLASSIFY_O_STORED_FUNC_READ, &r), PROTO_OK);
    assert_int_equal(r.kind, CLASSIFY_SESSION);
}

static struct classify_result cq(const char *q)
{
    struct classify_result r;
    assert_int_equal(classify_query(q, strlen(q), 0, &r), PROTO_OK);
    return r;
}

static void assert_view(struct proto_str v, const char *want)
{
    assert_int_equal(v.len, strlen(want));
    if (v.len)
        assert_memory_equal(v.p, want, v.len);
}

static void test_spans_and_keyword(void **state)
{
    (void)state;
    const char *q = "  /* c */ select a from t ;  -- x\n";
    struct classify_result r = cq(q);
    assert_int_equal(r.stmt_off, 10);
    assert_int_equal(r.stmt_len, strlen("select a from t"));
    assert_int_equal(r.next, 27);
    assert_view(r.keyword, "select");
    assert_int_equal(r.statements, 1);
    assert_false(r.flags & CLASSIFY_F_MULTI_STATEMENT);

    q = "/*!50000 DELETE FROM t */";
    r = cq(q);
    assert_view(r.keyword, "DELETE");
    assert_int_equal(r.stmt_off, 9);
    assert_int_equal(r.stmt_len, strlen("DELETE FROM t"));
    assert_int_equal(r.next, strlen(q));

    r = cq("");
    assert_int_equal(r.stmt_len, 0);
    assert_int_equal(r.next, 0);
    assert_int_equal(r.statements, 0);
    assert_int_equal(r.keyword.len, 0);
}

static void test_values(void **state)
{
    (void)state;
    struct classify_result r = cq("START TRANSACTION READ ONLY");
    assert_int_equal(r.read_only, 1);
    r = cq("START TRANSACTION READ WRITE");
    assert_int_equal(r.read_only, 0);
    r = cq("START TRANSACTION");
    assert_int_equal(r.read_only, -1);
    r = cq("SET SESSION TRANSACTION READ ONLY");
    assert_int_equal(r.read_only, 1);

    static const struct {
        const char *q;
        int ac;
    } acs[] = {
        {"SET autocommit=0", 0},
        {"SET autocommit=1", 1},
        {"SET autocommit = ON", 1},
        {"SET autocommit = off", 0},
        {"SET autocommit = TRUE", 1},
        {"SET @@autocommit=false", 0},
        {"SET autocommit = @x", -1},
        {"SET autocommit = 1 - 1", -1},
        {"SET autocommit = 0, names = 1", 0},
    };
    for (size_t i = 0; i < sizeof acs / sizeof acs[0]; i++) {
        r = cq(acs[i].q);
        assert_int_equal(r.kind, CLASSIFY_TRX);
        assert_int_equal(r.sub, CLASSIFY_SUB_AUTOCOMMIT);
        assert_int_equal(r.autocommit, acs[i].ac);
    }

    r = cq("USE db1");
    assert_view(r.name, "db1");
    r = cq("USE `my db`");
    assert_view(r.name, "my db");
    r = cq("SAVEPOINT `sp 1`");
    assert_view(r.name, "sp 1");
    r = cq("ROLLBACK TO SAVEPOINT sp2");
    assert_view(r.name, "sp2");
    r = cq("RELEASE SAVEPOINT sp3");
    assert_view(r.name, "sp3");
    r = cq("PREPARE s1 FROM 'SELECT ?'");
    assert_view(r.name, "s1");
    assert_view(r.prepare_text, "SELECT ?");
    r = cq("EXECUTE s1 USING @a");
    assert_view(r.name, "s1");
    r = cq("DEALLOCATE PREPARE s1");
    assert_view(r.name, "s1");
}

/* classify_stmt walks a multi-statement text one statement at a time. */
static void test_walk(void **state)
{
    (void)state;
    const char *q = "SET autocommit=0; SELECT 1 ; UPDATE t SET a=1;COMMIT";
    static const struct {
        enum classify_kind kind;
        enum classify_sub sub;
        const char *kw;
    } want[] = {
        {CLASSIFY_TRX, CLASSIFY_SUB_AUTOCOMMIT, "SET"},
        {CLASSIFY_READ, CLASSIFY_SUB_NONE, "SELECT"},
        {CLASSIFY_WRITE, CLASSIFY_SUB_NONE, "UPDATE"},
        {CLASSIFY_TRX, CLASSIFY_SUB_COMMIT, "COMMIT"},
    };
    struct classify_result whole = cq(q);
    assert_int_equal(whole.kind, CLASSIFY_WRITE);
    assert_int_equal(whole.statements, 4);
    assert_true(whole.flags & CLASSIFY_F_MULTI_STATEMENT);

    size_t off = 0, len = strlen(q);
    for (size_t i = 0; i < 4; i++) {
        struct classify_result r;
        assert_int_equal(classify_stmt(q + off, len - off, 0, &r), PROTO_OK);
        assert_int_equal(r.kind, want[i].kind);
        assert_int_equal(r.sub, want[i].sub);
        assert_view(r.keyword, want[i].kw);
        assert_int_equal(r.statements, 1);
        assert_int_equal((r.flags & CLASSIFY_F_MULTI_STATEMENT) != 0, i < 3);
        assert_true(r.next > 0 && r.next <= len - off);
        off += r.next;
    }
    assert_int_equal(off, len);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(classify_kind_name(CLASSIFY_READ), "READ");
    assert_string_equal(classify_kind_name(CLASSIFY_OTHER), "OTHER");
    assert_string_equal(classify_kind_name((enum classify_kind)99), "?");
    assert_string_equal(classify_sub_name(CLASSIFY_SUB_ROLLBACK_TO), "ROLLBACK_TO");
    assert_string_equal(classify_flag_name(CLASSIFY_F_LOCKING_READ), "LOCKING_READ");
    assert_string_equal(classify_flag_name(CLASSIFY_F_EXPLAIN), "EXPLAIN");
    assert_string_equal(classify_flag_name(1u << 31), "?");

    char buf[64];
    assert_int_equal(classify_flags_format(0, buf, sizeof buf), 1);
    assert_string_equal(buf, "-");
    size_t need =
        classify_flags_format(CLASSIFY_F_LOCKING_READ | CLASSIFY_F_SEQUENCE, buf, sizeof buf);
    assert_string_equal(buf, "LOCKING_READ|SEQUENCE");
    assert_int_equal(need, strlen("LOCKING_READ|SEQUENCE"));
    /* Too small: truncated at a name boundary, NUL-terminated, full need. */
    char small[16];
    need =
        classify_flags_format(CLASSIFY_F_LOCKING_READ | CLASSIFY_F_SEQUENCE, small, sizeof small);
    assert_int_equal(need, strlen("LOCKING_READ|SEQUENCE"));
    assert_string_equal(small, "LOCKING_READ");

    size_t bad = 0;
    int words = classify__word_table_check(&bad);
    if (words < 0)
        print_error("word table out of order at entry %zu\n", bad);
    assert_true(words > 400);
}

/* ---- hints ---- */

static void test_hint_valid(void **state)
{
    (void)state;
    struct classify_result r =
        cq("SELECT /* gtidproxy: consistency=eventual wait_ms=200 "
           "fallback=cache,primary route=replica cache=off max_stale_ms=5000 */ "
           "* FROM t");
    assert_int_equal(r.kind, CLASSIFY_READ);
    assert_true(r.hint.present);
    assert_null(r.hint.error);
    assert_int_equal(r.hint.consistency, HINT_CONS_EVENTUAL);
    assert_int_equal(r.hint.wait_ms, 200);
    assert_int_equal(r.hint.max_stale_ms, 5000);
    assert_int_equal(r.hint.n_fallback, 2);
    assert_int_equal(r.hint.fallback[0], HINT_FB_CACHE);
    assert_int_equal(r.hint.fallback[1], HINT_FB_PRIMARY);
    assert_int_equal(r.hint.route, HINT_ROUTE_REPLICA);
    assert_true(r.hint.keys & HINT_K_CACHE);
    assert_false(r.hint.cache);
    assert_string_equal(hint_consistency_name(r.hint.consistency), "eventual");
    assert_string_equal(hint_fallback_name(HINT_FB_ERROR), "error");
    assert_string_equal(hint_route_name(HINT_ROUTE_PRIMARY), "primary");

    /* token implies consistency=token; MariaDB and quoted MySQL sets. */
    r = cq("SELECT 1 /*gtidproxy: token=0-1-5,1-2-9 */");
    assert_null(r.hint.error);
    assert_int_equal(r.hint.consistency, HINT_CONS_TOKEN);
    assert_view(r.hint.token, "0-1-5,1-2-9");
    r = cq("SELECT 1 /* GTIDPROXY: consistency=token "
           "token='3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5, "
           "3E11FA47-71CA-11E1-9E33-C80AA9429563:3' */");
    assert_null(r.hint.error);
    assert_view(r.hint.token, "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5, "
                              "3E11FA47-71CA-11E1-9E33-C80AA9429563:3");

    /* Line comments and two hint comments merge. */
    r = cq("-- gtidproxy: consistency=strong\n"
           "SELECT 1 # gtidproxy: wait_ms=0\n");
    assert_null(r.hint.error);
    assert_int_equal(r.hint.consistency, HINT_CONS_STRONG);
    assert_int_equal(r.hint.keys, HINT_K_CONSISTENCY | HINT_K_WAIT_MS);

    /* classify_stmt sees the first statement's hints only. */
    const char *two = "SELECT 1 /* gtidproxy: wait_ms=5 */; /* gtidproxy: route=primary */ "
                      "SELECT 2";
    assert_int_equal(classify_stmt(two, strlen(two), 0, &r), PROTO_OK);
    assert_int_equal(r.hint.keys, HINT_K_WAIT_MS);
    r = cq(two);
    assert_int_equal(r.hint.keys, HINT_K_WAIT_MS | HINT_K_ROUTE);

    /* Plain comments are not hints; hints in executable comments are code. */
    r = cq("SELECT 1 /* about gtidproxy: x */");
    assert_false(r.hint.present);
    r = cq("SELECT 1 /*! /* gtidproxy: bogus */ */");
    assert_false(r.hint.present);
}

struct bad_hint {
    const char *q;
    const char *at; /* expected error_at text, NULL to skip */
};

static void test_hint_invalid(void **state)
{
    (void)state;
    static const struct bad_hint bads[] = {
        {"SELECT /* gtidproxy: consistancy=strong */ 1", "consistancy"},
        {"SELECT /* gtidproxy: consistency=strongest */ 1", "strongest"},
        {"SELECT /* gtidproxy: wait_ms=abc */ 1", "abc"},
        {"SELECT /* gtidproxy: wait_ms=3600001 */ 1", "3600001"},
        {"SELECT /* gtidproxy: wait_ms=-1 */ 1", "-1"},
        {"SELECT /* gtidproxy: wait_ms= */ 1", "wait_ms"},
        {"SELECT /* gtidproxy: fallback=cache,,primary */ 1", NULL},
        {"SELECT /* gtidproxy: fallback=cache,disk */ 1", "disk"},
        {"SELECT /* gtidproxy: fallback=cache,cache */ 1", "cache"},
        {"SELECT /* gtidproxy: route=somewhere */ 1", "somewhere"},
        {"SELECT /* gtidproxy: cache=maybe */ 1", "maybe"},
        {"SELECT /* gtidproxy: */ 1", NULL},
        {"SELECT /* gtidproxy: wait_ms */ 1", "wait_ms"},
        {"SELECT /* gtidproxy: token=a b */ 1", "b"},
        {"SELECT /* gtidproxy: token=0-1-5;x */ 1", "0-1-5;x"},
        {"SELECT /* gtidproxy: token='0-1-5 */ 1", NULL},
        {"SELECT /* gtidproxy: route='primary' */ 1", "primary"},
        {"SELECT /* gtidproxy: consistency=token */ 1", NULL},
        {"SELECT /* gtidproxy: consistency=strong token=0-1-5 */ 1", "0-1-5"},
        /* a key given twice, in one comment and across two */
        {"SELECT /* gtidproxy: wait_ms=1 wait_ms=2 */ 1", "wait_ms"},
        {"SELECT /* gtidproxy: wait_ms=1 */ 1 /* gtidproxy: wait_ms=2 */", "wait_ms"},
        /* the first error wins even when a later comment is fine */
        {"SELECT /* gtidproxy: foo=1 */ 1 /* gtidproxy: wait_ms=2 */", "foo"},
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        struct classify_result r = cq(bads[i].q);
        if (!r.hint.present || !r.hint.error) {
            print_error("hint accepted: %s\n", bads[i].q);
            fail();
        }
        if (bads[i].at)
            assert_view(r.hint.error_at, bads[i].at);
        /* Classification does not depend on the hint. */
        assert_int_equal(r.kind, CLASSIFY_READ);
    }
}

/* hint_parse on its own: non-hint text is left alone. */
static void test_hint_direct(void **state)
{
    (void)state;
    struct hint_set h;
    hint_init(&h);
    const uint8_t plain[] = "just a comment";
    assert_int_equal(hint_parse(plain, sizeof plain - 1, &h), PROTO_OK);
    assert_false(h.present);
    const uint8_t ok[] = "  gtidproxy:route=primary";
    assert_true(hint_is_hint(ok, sizeof ok - 1));
    assert_int_equal(hint_parse(ok, sizeof ok - 1, &h), PROTO_OK);
    assert_int_equal(h.route, HINT_ROUTE_PRIMARY);
    assert_int_equal(hint_finish(&h), PROTO_OK);
    const uint8_t five[] = "gtidproxy: fallback=cache,primary,replica,error";
    hint_init(&h);
    assert_int_equal(hint_parse(five, sizeof five - 1, &h), PROTO_OK);
    assert_int_equal(h.n_fallback, 4);
    const uint8_t trunc[] = "gtidpro";
    assert_false(hint_is_hint(trunc, sizeof trunc - 1));
}

/* Every prefix of every table entry, in an exactly-sized heap buffer so
 * ASan catches any read past the end; invariants must hold for each. */
static void test_truncations(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        size_t n = strlen(vecs[i].sql);
        for (size_t cut = 0; cut <= n; cut++) {
            uint8_t *buf = malloc(cut ? cut : 1);
            assert_non_null(buf);
            memcpy(buf, vecs[i].sql, cut);
            struct classify_result r;
            assert_int_equal(classify_query(buf, cut, 0, &r), PROTO_OK);
            if (r.kind == CLASSIFY_READ)
                assert_int_equal(r.flags & CLASSIFY_F_FORCE_PRIMARY, 0);
            assert_true(r.stmt_off + r.stmt_len <= cut);
            assert_true(r.next <= cut);
            if (r.keyword.len)
                assert_true(r.keyword.p >= buf && r.keyword.p + r.keyword.len <= buf + cut);
            assert_int_equal(classify_stmt(buf, cut, 0, &r), PROTO_OK);
            assert_true(r.next <= cut);
            free(buf);
        }
    }
}

/* Real COM_QUERY packets captured from the mariadb client and a
 * libmariadb program (tests/fixtures/classify/README.md). */
static void test_captured(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        enum classify_kind kind;
        enum classify_sub sub;
        uint32_t flags;
    } caps[] = {
        {"classify/q01_for_update_after_comment.hex", W, SUB(NONE), F(LOCKING_READ)},
        {"classify/q02_select_into_var.hex", W, SUB(NONE),
         F(SELECT_INTO) | F(USER_VAR_ASSIGN) | F(USES_USER_VAR)},
        {"classify/q03_escaped_quote.hex", R, SUB(NONE), 0},
        {"classify/q04_autocommit_off.hex", T, SUB(AUTOCOMMIT), 0},
        {"classify/q05_start_trx_read_only.hex", T, SUB(START), 0},
        {"classify/q06_gtidproxy_hint.hex", R, SUB(NONE), 0},
        {"classify/q07_commit.hex", T, SUB(COMMIT), 0},
        {"classify/q08_exec_comment_delete.hex", W, SUB(NONE), F(EXEC_COMMENT)},
        {"classify/q09_gtid_current_pos.hex", R, SUB(NONE), F(SYS_VAR) | F(SERVER_STATE)},
        {"classify/q10_multi_select_delete.hex", W, SUB(NONE), F(MULTI_STATEMENT)},
        {"classify/q11_use_db.hex", S, SUB(USE), 0},
        {"classify/q12_multi_escaped_backslash.hex", R, SUB(NONE), F(MULTI_STATEMENT)},
    };
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        size_t n;
        uint8_t *pkt = tu_fixture(caps[i].file, &n);
        assert_true(n >= 1);
        assert_int_equal(pkt[0], 0x03); /* COM_QUERY */
        struct classify_result r;
        assert_int_equal(classify_query(pkt + 1, n - 1, 0, &r), PROTO_OK);
        if (r.kind != caps[i].kind || r.sub != caps[i].sub || r.flags != caps[i].flags) {
            char got[256];
            classify_flags_format(r.flags, got, sizeof got);
            print_error("%s: got %s/%s %s\n", caps[i].file, classify_kind_name(r.kind),
                        classify_sub_name(r.sub), got);
            fail();
        }
        if (i == 3)
            assert_int_equal(r.autocommit, 0);
        if (i == 4)
            assert_int_equal(r.read_only, 1);
        if (i == 5) {
            assert_true(r.hint.present);
            assert_null(r.hint.error);
            assert_int_equal(r.hint.consistency, HINT_CONS_EVENTUAL);
            assert_int_equal(r.hint.wait_ms, 200);
        }
        if (i == 10)
            assert_view(r.name, "test");
        free(pkt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_mode_known),
        cmocka_unit_test(test_stored_func_option),
        cmocka_unit_test(test_spans_and_keyword),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_hint_valid),
        cmocka_unit_test(test_hint_invalid),
        cmocka_unit_test(test_hint_direct),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_captured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
