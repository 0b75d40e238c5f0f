-- 001_initial.sql: the avatar database (see DESIGN.md "Data model").
--
-- Applied by `kisekae-api --migrate`, which runs every migration numbered
-- above the database's schema_version, in order, and records each one.
-- Member ids are ASCII and compared byte for byte; names are utf8mb4.

CREATE TABLE image_servers (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name            VARCHAR(64) CHARACTER SET ascii NOT NULL,
  internal_url    VARCHAR(255) NOT NULL,
  public_url      VARCHAR(255) NOT NULL,
  weight          INT UNSIGNED NOT NULL DEFAULT 1,
  mode            ENUM('active', 'draining', 'down') NOT NULL DEFAULT 'active',
  member_count    INT UNSIGNED NOT NULL DEFAULT 0,
  last_heartbeat  DATETIME(3) NULL,
  free_disk_bytes BIGINT UNSIGNED NULL,
  created_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY image_servers_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE members (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  image_server_id INT UNSIGNED NOT NULL,
  version         INT UNSIGNED NOT NULL DEFAULT 1,
  created_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY members_user_id (user_id),
  KEY members_image_server (image_server_id),
  CONSTRAINT members_image_server_fk FOREIGN KEY (image_server_id) REFERENCES image_servers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE categories (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name            VARCHAR(64) NOT NULL,
  z_order         INT NOT NULL,
  exclusive       TINYINT(1) NOT NULL,
  required        TINYINT(1) NOT NULL,
  default_item_id INT UNSIGNED NULL,
  created_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY categories_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE items (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  category_id     INT UNSIGNED NOT NULL,
  name            VARCHAR(128) NOT NULL,
  status          ENUM('draft', 'published', 'retired') NOT NULL DEFAULT 'published',
  price           INT NOT NULL DEFAULT 0,
  created_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY items_name (name),
  KEY items_category_status (category_id, status),
  CONSTRAINT items_category_fk FOREIGN KEY (category_id) REFERENCES categories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE categories
  ADD CONSTRAINT categories_default_item_fk FOREIGN KEY (default_item_id) REFERENCES items (id);

-- The canonical art: each layer trimmed to its bounding box, at (x, y) on
-- the canvas. Image servers hold copies; this is the original.
CREATE TABLE item_layers (
  item_id         INT UNSIGNED NOT NULL,
  layer_no        TINYINT UNSIGNED NOT NULL,
  z_order         INT NOT NULL,
  x               SMALLINT NOT NULL,
  y               SMALLINT NOT NULL,
  width           SMALLINT UNSIGNED NOT NULL,
  height          SMALLINT UNSIGNED NOT NULL,
  png             LONGBLOB NOT NULL,
  sha256          CHAR(64) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (item_id, layer_no),
  CONSTRAINT item_layers_item_fk FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE inventory (
  member_id       BIGINT UNSIGNED NOT NULL,
  item_id         INT UNSIGNED NOT NULL,
  granted_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (member_id, item_id),
  KEY inventory_item (item_id),
  CONSTRAINT inventory_member_fk FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE CASCADE,
  CONSTRAINT inventory_item_fk FOREIGN KEY (item_id) REFERENCES items (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE outfit (
  member_id       BIGINT UNSIGNED NOT NULL,
  item_id         INT UNSIGNED NOT NULL,
  worn_at         DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (member_id, item_id),
  KEY outfit_item (item_id),
  CONSTRAINT outfit_member_fk FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE CASCADE,
  CONSTRAINT outfit_item_fk FOREIGN KEY (item_id) REFERENCES items (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Which image server holds which item layer, at which hash.
CREATE TABLE item_replicas (
  image_server_id INT UNSIGNED NOT NULL,
  item_id         INT UNSIGNED NOT NULL,
  layer_no        TINYINT UNSIGNED NOT NULL,
  sha256          CHAR(64) CHARACTER SET ascii NOT NULL,
  state           ENUM('ok', 'failed') NOT NULL,
  attempts        INT UNSIGNED NOT NULL DEFAULT 1,
  last_error      VARCHAR(255) NULL,
  updated_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (image_server_id, item_id, layer_no),
  KEY item_replicas_state (state),
  CONSTRAINT item_replicas_server_fk FOREIGN KEY (image_server_id) REFERENCES image_servers (id),
  CONSTRAINT item_replicas_item_fk FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- API credentials: secret_hash is "sha256$<salt hex>$<hex of sha256(salt || secret)>".
CREATE TABLE api_clients (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  secret_hash     VARCHAR(160) CHARACTER SET ascii NOT NULL,
  role            ENUM('site', 'admin', 'node') NOT NULL,
  enabled         TINYINT(1) NOT NULL DEFAULT 1,
  created_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY api_clients_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
