-- MySQL 8.4 primary: users for replication, the application and the proxy's
-- monitor. IF NOT EXISTS: the replicas create the same users unlogged, so
-- whichever runs first, replication never stops on a duplicate user.
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'repl_pw';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app_pw';
GRANT ALL ON *.* TO 'app'@'%';
CREATE USER IF NOT EXISTS 'monitor'@'%' IDENTIFIED BY 'monitor_pw';
GRANT REPLICATION CLIENT, PROCESS ON *.* TO 'monitor'@'%';
CREATE DATABASE IF NOT EXISTS gtidproxy_test;
