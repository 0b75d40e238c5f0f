{{! What the master of a ./kisekae stack holds (idempotent; replicas receive
    it through replication): the replication user, the API's database and
    user, the admin UI's. Variables: repl_password, db_name, db_user,
    db_password, admin_db_name, admin_db_user, admin_db_password. Piped
    into mariadb, never on a command line. }}
CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY '{{repl_password}}';
ALTER USER 'repl'@'127.0.0.1' IDENTIFIED BY '{{repl_password}}';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
CREATE DATABASE IF NOT EXISTS `{{db_name}}` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '{{db_user}}'@'127.0.0.1' IDENTIFIED BY '{{db_password}}';
ALTER USER '{{db_user}}'@'127.0.0.1' IDENTIFIED BY '{{db_password}}';
GRANT ALL PRIVILEGES ON `{{db_name}}`.* TO '{{db_user}}'@'127.0.0.1';
GRANT SLAVE MONITOR, BINLOG MONITOR ON *.* TO '{{db_user}}'@'127.0.0.1';
CREATE DATABASE IF NOT EXISTS `{{admin_db_name}}` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '{{admin_db_user}}'@'127.0.0.1' IDENTIFIED BY '{{admin_db_password}}';
ALTER USER '{{admin_db_user}}'@'127.0.0.1' IDENTIFIED BY '{{admin_db_password}}';
GRANT ALL PRIVILEGES ON `{{admin_db_name}}`.* TO '{{admin_db_user}}'@'127.0.0.1';
