-- 012_item_frames.sql: animated item layers (an idle blink, a wave).
--
-- A layer can have frames: frame 0 is the layer's own art (its row as
-- before) and frame f (1..63) is a row of its own in item_layers, numbered
-- layer_no = 1000 * f + the layer's number, with the same z_order. Every
-- frame row of an animated layer, frame 0's included, carries its delay in
-- delay_ms (20..65535 ms); a still layer's is NULL, as every row before.
--
-- Why rows of item_layers rather than a table of frames: a frame is art an
-- image server draws, exactly as a layer is, so everything that carries
-- layers carries frames unchanged: the push to every image server
-- (PUT /internal/items/{item}/{layer_no}), the record of what each server
-- holds (item_replicas), the store's file (items/{item}/{layer_no}.png), the
-- nodes' manifest and sync, GetItemLayer, and the archive of replaced art
-- (item_layer_archive). A compose recipe names frame art by its layer_no in
-- its flayer lines (image-server/PROTOCOL.md). The price is a wider
-- layer_no (64007 at most) in the tables that hold frame rows;
-- album_photo_layers keeps its TINYINT: album photos are still (frame 0).
ALTER TABLE item_layers
  MODIFY layer_no SMALLINT UNSIGNED NOT NULL,
  ADD COLUMN delay_ms SMALLINT UNSIGNED NULL AFTER sha256;
ALTER TABLE item_layer_archive MODIFY layer_no SMALLINT UNSIGNED NOT NULL;
ALTER TABLE item_replicas MODIFY layer_no SMALLINT UNSIGNED NOT NULL;
