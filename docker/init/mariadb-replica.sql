-- MariaDB replica: drop the image's own binlog, create the users unlogged (in
-- case the primary's initialisation was not binlogged), replicate by GTID.
RESET MASTER;
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app_pw';
GRANT ALL ON *.* TO 'app'@'%';
CREATE USER IF NOT EXISTS 'monitor'@'%' IDENTIFIED BY 'monitor_pw';
GRANT SLAVE MONITOR, BINLOG MONITOR, PROCESS ON *.* TO 'monitor'@'%';
SET SESSION sql_log_bin = 1;
SET GLOBAL gtid_slave_pos = '';
CHANGE MASTER TO MASTER_HOST = 'mariadb-primary', MASTER_PORT = 3306,
  MASTER_USER = 'repl', MASTER_PASSWORD = 'repl_pw', MASTER_USE_GTID = slave_pos,
  MASTER_CONNECT_RETRY = 2;
START SLAVE;
