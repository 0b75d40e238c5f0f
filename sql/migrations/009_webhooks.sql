-- 009_webhooks.sql: sites' webhook endpoints, the events recorded for them
-- and each event's delivery to each webhook.
--
-- An operation that changes a member's avatar inserts the event in its own
-- transaction, and one delivery row per webhook subscribed to its type (so
-- an event no webhook wants costs one statement and leaves no row). The
-- sender thread of every API server claims due deliveries (FOR UPDATE SKIP
-- LOCKED), a member's oldest first per webhook, and POSTs them outside the
-- transaction under a lease (next_at moved past the POST's timeout).
CREATE TABLE webhooks (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  url         VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  secret      VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  events      SET('avatar.changed', 'avatar.regenerated', 'avatar.moved', 'avatar.deleted')
              NOT NULL,
  created_at  DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE webhook_events (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  type        VARCHAR(32) CHARACTER SET ascii NOT NULL,
  user_id     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  data        VARCHAR(2048) NOT NULL,          -- the JSON object sent as "data"
  created_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE webhook_deliveries (
  webhook_id   INT UNSIGNED NOT NULL,
  event_id     BIGINT UNSIGNED NOT NULL,
  user_id      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  state        ENUM('pending', 'delivered', 'failed') NOT NULL DEFAULT 'pending',
  attempts     INT UNSIGNED NOT NULL DEFAULT 0,
  next_at      DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  last_status  INT NOT NULL DEFAULT 0,
  last_error   VARCHAR(255) NOT NULL DEFAULT '',
  delivered_at DATETIME(3) NULL,
  PRIMARY KEY (webhook_id, event_id),
  KEY webhook_deliveries_due (state, next_at),
  KEY webhook_deliveries_member (webhook_id, user_id, state, event_id),
  CONSTRAINT webhook_deliveries_webhook_fk FOREIGN KEY (webhook_id) REFERENCES webhooks (id)
    ON DELETE CASCADE,
  CONSTRAINT webhook_deliveries_event_fk FOREIGN KEY (event_id) REFERENCES webhook_events (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
