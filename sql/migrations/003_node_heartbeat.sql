-- 003_node_heartbeat.sql: what an image server's heartbeat reports, and why
-- a server is down.
--
-- down_by_silence is 1 when the API marked the server down because its
-- heartbeats stopped (image_server_timeout); its next heartbeat or
-- registration makes it active again. A server an admin set down has 0 and
-- stays down until an admin says otherwise.
ALTER TABLE image_servers
  ADD COLUMN items_stored     BIGINT UNSIGNED NULL AFTER free_disk_bytes,
  ADD COLUMN avatars_composed BIGINT UNSIGNED NULL AFTER items_stored,
  ADD COLUMN down_by_silence  TINYINT(1) NOT NULL DEFAULT 0 AFTER mode;

-- The retry of failed pushes looks for failed rows, oldest first.
ALTER TABLE item_replicas
  ADD KEY item_replicas_retry (state, updated_at);
