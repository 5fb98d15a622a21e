-- MariaDB primary: users for replication, the application and the proxy's
-- monitor (IF NOT EXISTS: see mariadb-replica.sql).
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'repl_pw';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app_pw';
GRANT ALL ON *.* TO 'app'@'%';
CREATE USER IF NOT EXISTS 'monitor'@'%' IDENTIFIED BY 'monitor_pw';
GRANT SLAVE MONITOR, BINLOG MONITOR, PROCESS ON *.* TO 'monitor'@'%';
CREATE DATABASE IF NOT EXISTS gtidproxy_test;
