-- 005_node_binding.sql: each node credential acts for one image server.
--
-- image_server names the image server (image_servers.name) an API client of
-- role node may register and send heartbeats for; a node client without one
-- is refused. Sites and admins have NULL. (Only an admin changes the URLs of
-- a registered server: `kisekae-api --set-image-server` or its image_server
-- line in kisekae-api.conf.)
ALTER TABLE api_clients
  ADD COLUMN image_server VARCHAR(64) CHARACTER SET ascii NULL AFTER role;
