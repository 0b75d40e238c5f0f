-- 011_tints_hides.sql: tints and hide rules (README "Tints" and "Hide rules").
--
-- A layer marked tintable is recoloured, when the member wears its item with
-- a colour (outfit.tint), by a multiply of each colour channel
-- (common/compose.h). A layer's role ("front", "back"...; "" for none) is
-- what hide rules name: while an item is worn, its rules hide the layers of
-- other worn items of category_id, those of role only, or all of them when
-- role is NULL. Album photos keep the colour each layer was drawn with, so
-- a photo is composed again the same.

ALTER TABLE item_layers
  ADD COLUMN tintable TINYINT(1) NOT NULL DEFAULT 0,
  ADD COLUMN role VARCHAR(16) CHARACTER SET ascii NOT NULL DEFAULT '';

CREATE TABLE item_hides (
  item_id         INT UNSIGNED NOT NULL,
  seq             TINYINT UNSIGNED NOT NULL,
  category_id     INT UNSIGNED NOT NULL,
  role            VARCHAR(16) CHARACTER SET ascii NULL,
  PRIMARY KEY (item_id, seq),
  KEY item_hides_category (category_id),
  CONSTRAINT item_hides_item_fk FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE,
  CONSTRAINT item_hides_category_fk FOREIGN KEY (category_id) REFERENCES categories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE outfit
  ADD COLUMN tint CHAR(7) CHARACTER SET ascii NULL;

ALTER TABLE album_photo_layers
  ADD COLUMN tint CHAR(7) CHARACTER SET ascii NOT NULL DEFAULT '';
