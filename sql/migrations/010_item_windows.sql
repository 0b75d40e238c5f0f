-- 010_item_windows.sql: time-limited items. An item can be granted and put
-- on only inside its window: from available_from (NULL: always began) until
-- available_until (NULL: never ends), both UTC instants. At the end the
-- expiry job of every API server (api-server/expiry.c) queues the wearers in
-- render_queue; the renderer takes the item off each of them in the same
-- transaction as it raises the version and composes it. The index finds the
-- ended items without scanning the catalog.
ALTER TABLE items
  ADD COLUMN available_from  DATETIME NULL,
  ADD COLUMN available_until DATETIME NULL,
  ADD KEY items_available_until (available_until);
