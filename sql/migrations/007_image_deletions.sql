-- 006_image_deletions.sql: the images each image server must delete.
--
-- DeleteAvatar queues the deletion of every image of the member on every
-- image server (the files a move left behind, a server marked down or
-- unreachable included), DeleteAlbumPhoto the one photo on its server, and
-- MoveAvatars the old files on the server the member left. The API tries
-- them at once, and the renderer thread of every API server retries what is
-- left (claimed with SELECT ... FOR UPDATE SKIP LOCKED) until the image
-- server confirms: a row goes when its files are gone.
CREATE TABLE image_deletions (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  image_server_id INT UNSIGNED NOT NULL,
  user_id         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  photo_id        INT UNSIGNED NULL,           -- NULL: every image of the member
  enqueued_at     DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  not_before      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  attempts        INT UNSIGNED NOT NULL DEFAULT 0,
  last_error      VARCHAR(255) NULL,
  KEY image_deletions_due (not_before),
  KEY image_deletions_user (user_id),
  CONSTRAINT image_deletions_server_fk FOREIGN KEY (image_server_id) REFERENCES image_servers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
