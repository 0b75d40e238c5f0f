-- 002_operations.sql: album scenes and photos, archived item art, the
-- background render queue and tombstones of deleted members.
--
-- An album photo records everything it was made of (the scene at its
-- sha256, each avatar's user id, version and item layers with their
-- sha256), so it can be rebuilt from the database alone; when an item's art
-- is replaced, the old layers move to item_layer_archive for that reason.

-- A scene: an album background, stored whole (not trimmed) as a canonical PNG.
CREATE TABLE scenes (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name            VARCHAR(64) NOT NULL,
  width           SMALLINT UNSIGNED NOT NULL,
  height          SMALLINT UNSIGNED NOT NULL,
  png             LONGBLOB NOT NULL,
  sha256          CHAR(64) CHARACTER SET ascii NOT NULL,
  created_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY scenes_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Where avatars stand on a scene: the top-left corner of the avatar canvas.
-- Slot 0 is the member's, 1.. are for friends.
CREATE TABLE scene_slots (
  scene_id        INT UNSIGNED NOT NULL,
  slot_no         TINYINT UNSIGNED NOT NULL,
  x               SMALLINT NOT NULL,
  y               SMALLINT NOT NULL,
  PRIMARY KEY (scene_id, slot_no),
  CONSTRAINT scene_slots_scene_fk FOREIGN KEY (scene_id) REFERENCES scenes (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A member's album photo, stored as JPEG on image_server_id (the member's
-- server when it was taken) under albums/ab/cd/<user_id>/<id>.jpg.
CREATE TABLE album_photos (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  member_id       BIGINT UNSIGNED NOT NULL,
  image_server_id INT UNSIGNED NOT NULL,
  scene_id        INT UNSIGNED NOT NULL,
  scene_sha256    CHAR(64) CHARACTER SET ascii NOT NULL,
  width           SMALLINT UNSIGNED NOT NULL,
  height          SMALLINT UNSIGNED NOT NULL,
  quality         TINYINT UNSIGNED NOT NULL,
  caption         VARCHAR(200) NULL,
  created_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY album_photos_member (member_id, id),
  CONSTRAINT album_photos_member_fk FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE CASCADE,
  CONSTRAINT album_photos_server_fk FOREIGN KEY (image_server_id) REFERENCES image_servers (id),
  CONSTRAINT album_photos_scene_fk FOREIGN KEY (scene_id) REFERENCES scenes (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Who stood in each slot. member_id goes NULL when that member is deleted;
-- user_id stays, as the photo (the album owner's) does.
CREATE TABLE album_photo_members (
  photo_id        INT UNSIGNED NOT NULL,
  slot_no         TINYINT UNSIGNED NOT NULL,
  member_id       BIGINT UNSIGNED NULL,
  user_id         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  avatar_version  INT UNSIGNED NOT NULL,
  x               SMALLINT NOT NULL,
  y               SMALLINT NOT NULL,
  PRIMARY KEY (photo_id, slot_no),
  KEY album_photo_members_member (member_id),
  CONSTRAINT album_photo_members_photo_fk FOREIGN KEY (photo_id) REFERENCES album_photos (id) ON DELETE CASCADE,
  CONSTRAINT album_photo_members_member_fk FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The layers drawn on the photo, in drawing order (seq), at their place on
-- the photo (slot offset included). No foreign key to item_layers: the art
-- may be replaced later; (item_id, layer_no, sha256) is then found in
-- item_layer_archive.
CREATE TABLE album_photo_layers (
  photo_id        INT UNSIGNED NOT NULL,
  seq             SMALLINT UNSIGNED NOT NULL,
  slot_no         TINYINT UNSIGNED NOT NULL,
  item_id         INT UNSIGNED NOT NULL,
  layer_no        TINYINT UNSIGNED NOT NULL,
  z_order         INT NOT NULL,
  x               SMALLINT NOT NULL,
  y               SMALLINT NOT NULL,
  sha256          CHAR(64) CHARACTER SET ascii NOT NULL,
  PRIMARY KEY (photo_id, seq),
  CONSTRAINT album_photo_layers_photo_fk FOREIGN KEY (photo_id) REFERENCES album_photos (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Item art that UpdateItem replaced, kept for the album photos that use it.
CREATE TABLE item_layer_archive (
  item_id         INT UNSIGNED NOT NULL,
  layer_no        TINYINT UNSIGNED NOT NULL,
  sha256          CHAR(64) CHARACTER SET ascii NOT NULL,
  z_order         INT NOT NULL,
  x               SMALLINT NOT NULL,
  y               SMALLINT NOT NULL,
  width           SMALLINT UNSIGNED NOT NULL,
  height          SMALLINT UNSIGNED NOT NULL,
  png             LONGBLOB NOT NULL,
  archived_at     DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (item_id, layer_no, sha256),
  CONSTRAINT item_layer_archive_item_fk FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Members whose avatar must be composed again (new art of an item they
-- wear). Every API server's renderer thread claims rows with
-- SELECT ... FOR UPDATE SKIP LOCKED; a failed attempt is retried at not_before.
CREATE TABLE render_queue (
  member_id       BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  reason          VARCHAR(128) NOT NULL,
  enqueued_at     DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  not_before      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  attempts        INT UNSIGNED NOT NULL DEFAULT 0,
  last_error      VARCHAR(255) NULL,
  KEY render_queue_due (not_before),
  CONSTRAINT render_queue_member_fk FOREIGN KEY (member_id) REFERENCES members (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The last version of each deleted member: a member created again under the
-- same user_id starts above it, so an image URL is never reused (caches keep
-- avatar images forever).
CREATE TABLE member_tombstones (
  user_id         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  last_version    INT UNSIGNED NOT NULL,
  deleted_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
