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

#endif
