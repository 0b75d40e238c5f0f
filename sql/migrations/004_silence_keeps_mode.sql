-- 004_silence_keeps_mode.sql: a draining server that falls silent is marked
-- down as an active one is (so the changes of its members fail at once
-- instead of waiting for its timeout), and its next heartbeat or
-- registration gives it back the mode it had. silenced_mode is that mode
-- while down_by_silence is 1, else NULL.
ALTER TABLE image_servers
  ADD COLUMN silenced_mode ENUM('active', 'draining') NULL AFTER down_by_silence;
