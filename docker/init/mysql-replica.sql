-- MySQL 8.4 replica: forget the GTIDs the image's own initialisation made, so
-- the replica's set is a subset of the primary's, then replicate with GTID
-- auto-positioning. Users are created unlogged (no errant GTIDs) in case the
-- primary's initialisation was not binlogged.
RESET BINARY LOGS AND GTIDS;
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app_pw';
GRANT ALL ON *.* TO 'app'@'%';
CREATE USER IF NOT EXISTS 'monitor'@'%' IDENTIFIED BY 'monitor_pw';
GRANT REPLICATION CLIENT, PROCESS ON *.* TO 'monitor'@'%';
SET SESSION sql_log_bin = 1;
CHANGE REPLICATION SOURCE TO SOURCE_HOST = 'mysql-primary', SOURCE_PORT = 3306,
  SOURCE_USER = 'repl', SOURCE_PASSWORD = 'repl_pw', SOURCE_AUTO_POSITION = 1,
  GET_SOURCE_PUBLIC_KEY = 1, SOURCE_CONNECT_RETRY = 2;
START REPLICA;
