-- 005_members_by_server.sql: ListAvatarsByServer pages through an image
-- server's members in user id order with a keyset cursor
-- (WHERE image_server_id = ? AND user_id > ? ORDER BY user_id LIMIT ?): this
-- index answers each page by a range scan of the page's rows alone, at any
-- depth. members_image_server stays: MoveAvatars takes MIN(id) per server
-- from it.
ALTER TABLE members
  ADD KEY members_server_user (image_server_id, user_id);
