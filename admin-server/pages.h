/* pages.h: every page handler, one file each (page_*.c), for the route
 * table in routes.c. A new page: write page_NAME.c, declare its handlers
 * here, add its routes to the table. */
#ifndef KS_ADMIN_PAGES_H
#define KS_ADMIN_PAGES_H

#include "admin.h"

/* page_login.c */
void ks_page_login_form(ks_admin_req_t *req);
void ks_page_login(ks_admin_req_t *req);
void ks_page_logout(ks_admin_req_t *req);

/* page_static.c: /static/NAME (CSS, JS, icons) */
void ks_page_static(ks_admin_req_t *req);

/* page_dashboard.c */
void ks_page_dashboard(ks_admin_req_t *req);

/* page_categories.c */
void ks_page_categories(ks_admin_req_t *req);
void ks_page_category_new(ks_admin_req_t *req);
void ks_page_category_create(ks_admin_req_t *req);
void ks_page_category_edit(ks_admin_req_t *req);
void ks_page_category_update(ks_admin_req_t *req);

/* page_items.c */
void ks_page_items(ks_admin_req_t *req);
void ks_page_item_new(ks_admin_req_t *req);
void ks_page_item_create(ks_admin_req_t *req);
void ks_page_item_preview(ks_admin_req_t *req);
void ks_page_item_thumb(ks_admin_req_t *req);
void ks_page_item_on_mannequin(ks_admin_req_t *req);
void ks_page_item_edit(ks_admin_req_t *req);
void ks_page_item_update(ks_admin_req_t *req);
void ks_page_item_publish(ks_admin_req_t *req);
void ks_page_item_retire(ks_admin_req_t *req);

/* page_scenes.c */
void ks_page_scenes(ks_admin_req_t *req);
void ks_page_scene_new(ks_admin_req_t *req);
void ks_page_scene_create(ks_admin_req_t *req);
void ks_page_scene_preview(ks_admin_req_t *req);
void ks_page_scene_background(ks_admin_req_t *req);

/* page_members.c */
void ks_page_members(ks_admin_req_t *req);
void ks_page_member(ks_admin_req_t *req);
void ks_page_member_image(ks_admin_req_t *req);
void ks_page_member_grant(ks_admin_req_t *req);
void ks_page_member_revoke(ks_admin_req_t *req);
void ks_page_member_regenerate(ks_admin_req_t *req);
void ks_page_member_move(ks_admin_req_t *req);
void ks_page_member_delete_form(ks_admin_req_t *req);
void ks_page_member_delete(ks_admin_req_t *req);

/* page_servers.c */
void ks_page_servers(ks_admin_req_t *req);
void ks_page_server(ks_admin_req_t *req);
void ks_page_server_mode(ks_admin_req_t *req);
void ks_page_server_weight(ks_admin_req_t *req);
void ks_page_server_move(ks_admin_req_t *req);
void ks_page_server_purge(ks_admin_req_t *req);
/* ListImageServers into *out (valid until the request ends). */
struct ks__ListImageServersResponse;
ks_rc ks_servers_list(ks_admin_req_t *req, struct ks__ListImageServersResponse **out);
/* <option>s of the servers of list into out, selected marking one, after
 * placeholder (NULL: none); with move_from, only the active servers other
 * than move_from (where its members may go). Returns the servers listed. */
int ks_servers_options(ks_admin_req_t *req, const struct ks__ListImageServersResponse *list,
                       const char *selected, const char *placeholder, const char *move_from,
                       ks_buf_t *out);

/* page_staff.c (owners) */
void ks_page_staff(ks_admin_req_t *req);
void ks_page_staff_add(ks_admin_req_t *req);
void ks_page_staff_one(ks_admin_req_t *req);
void ks_page_staff_role(ks_admin_req_t *req);
void ks_page_staff_disable(ks_admin_req_t *req);
void ks_page_staff_unlock(ks_admin_req_t *req);
void ks_page_staff_password(ks_admin_req_t *req);

/* page_audit.c */
void ks_page_audit_log(ks_admin_req_t *req);

/* page_webhooks.c (owners) */
void ks_page_webhooks(ks_admin_req_t *req);
void ks_page_webhook_register(ks_admin_req_t *req);
void ks_page_webhook(ks_admin_req_t *req);
void ks_page_webhook_delete(ks_admin_req_t *req);
void ks_page_webhook_redeliver(ks_admin_req_t *req);

/* page_text.c */
/* Appends s %-encoded for a query string (all but A-Z a-z 0-9 - . _). */
void ks_url_encode(ks_buf_t *out, const char *s);
/* at (Unix seconds) in UTC as "YYYY-MM-DD HH:MM:SS" cut to its first chars
 * (10: the date, 16: to the minute, 19: all), into out. */
void ks_format_utc(char *out, size_t size, long long at, int chars);
/* A datetime-local input's value ("YYYY-MM-DDTHH:MM", seconds optional),
 * read as UTC, into *out (Unix seconds); 0 when valid, else -1. */
int ks_parse_datetime_local(const char *s, long long *out);
/* at as a datetime-local input's value in UTC ("YYYY-MM-DDTHH:MM", with
 * ":SS" when at has seconds). */
void ks_format_datetime_local(char *out, size_t size, long long at);

#endif
