-- kisekae_admin 001: the admin server's own data. Times are Unix seconds.

CREATE TABLE staff (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,          -- Argon2id, crypto_pwhash_str
  role ENUM('owner', 'editor', 'operator', 'viewer') NOT NULL,
  disabled TINYINT NOT NULL DEFAULT 0,
  failed_logins INT NOT NULL DEFAULT 0,         -- since the last successful sign-in
  last_failed_at BIGINT NOT NULL DEFAULT 0,
  locked TINYINT NOT NULL DEFAULT 0,            -- after login_lock_after failures; an owner unlocks
  created_at BIGINT NOT NULL,
  UNIQUE KEY staff_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The id a browser holds is never stored: only its SHA-256.
CREATE TABLE sessions (
  id_hash CHAR(64) NOT NULL PRIMARY KEY,
  staff_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  address VARCHAR(64) NOT NULL,
  flash VARCHAR(500) NOT NULL DEFAULT '',       -- a message carried over a redirect
  KEY sessions_staff (staff_id),
  KEY sessions_last_seen (last_seen_at),
  CONSTRAINT sessions_staff FOREIGN KEY (staff_id) REFERENCES staff (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Every sign-in attempt: the per-address throttle counts the failures here.
CREATE TABLE login_attempts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at BIGINT NOT NULL,
  name VARCHAR(64) NOT NULL,                    -- as typed
  address VARCHAR(64) NOT NULL,
  outcome ENUM('ok', 'failed', 'throttled', 'locked') NOT NULL,
  KEY login_attempts_address (address, at),
  KEY login_attempts_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Every state change and every failed sign-in, never updated.
CREATE TABLE audit_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at BIGINT NOT NULL,
  staff_id BIGINT NULL,                         -- NULL: nobody signed in (a failed sign-in)
  staff_name VARCHAR(64) NOT NULL,
  address VARCHAR(64) NOT NULL,
  action VARCHAR(64) NOT NULL,                  -- e.g. item.register, login.failed
  target VARCHAR(255) NOT NULL DEFAULT '',      -- e.g. item 12
  before_text TEXT NULL,
  after_text TEXT NULL,
  KEY audit_at (at),
  KEY audit_staff (staff_name, id),
  KEY audit_action (action, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
