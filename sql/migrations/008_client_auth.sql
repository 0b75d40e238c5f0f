-- 007_client_auth.sql: what authenticating API clients needs besides the
-- secret's hash (now Argon2id, "$argon2id$...", from libsodium; the
-- "sha256$salt$hash" of older rows is still accepted once and replaced).
--
-- version goes up whenever the credentials change or are revoked: an API
-- server remembers a verified secret for that version only, and reads the
-- version on the master at every call, so a revocation takes effect at once
-- on every API server. failed_logins counts the failed logins since the
-- last success (last_failed_at the latest): past a few, a secret is checked
-- at most once per growing delay.
ALTER TABLE api_clients
  ADD COLUMN version        INT UNSIGNED NOT NULL DEFAULT 1 AFTER enabled,
  ADD COLUMN failed_logins  INT UNSIGNED NOT NULL DEFAULT 0 AFTER version,
  ADD COLUMN last_failed_at DATETIME(3) NULL AFTER failed_logins;
