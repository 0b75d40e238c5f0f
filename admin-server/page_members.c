/* page_members.c: the members, for staff who help them.
 *
 *   GET  /members                    find members by user id or its beginning, and
 *                                    by image server (SearchMembers), pages by user id
 *   GET  /members/{id}               the member: avatar and thumbnail, version, image
 *                                    server, outfit, inventory (GetAvatar,
 *                                    ListMemberItems), and what staff may do to it
 *   GET  /members/{id}/avatar.png    the avatar image, and its thumbnail
 *   GET  /members/{id}/thumb.png     (see member_image)
 *   GET  /members/{id}/anim.png      the animated avatar (Avatar.animUrl, an APNG)
 *                                    of a member wearing animated items
 *   POST /members/{id}/grant         GrantItem
 *   POST /members/{id}/revoke        RevokeItem
 *   POST /members/{id}/regenerate    RegenerateAvatar
 *   POST /members/{id}/move          MoveAvatar to another image server
 *   GET  /members/{id}/delete        the confirmation, naming the member;
 *   POST /members/{id}/delete        DeleteAvatar once its user id is typed again
 *
 * Every change is written to the audit log with the member's state before
 * and after ("version 3 on img1").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "log.h"
#include "page.h"
#include "pages.h"
#include "soapH.h"

#define PAGE_SIZE 50
#define INVENTORY_PAGE 100
#define IMAGE_MAX_BYTES (16u << 20)
#define ITEM_ID_MAX 2147483647LL

/* 1 when s could be a user id (the API checks it too). */
static int user_id_like(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 64 || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* ---- the search ---- */

typedef struct {
    char *prefix, *server, *after;
    int limit;
    struct ks__SearchMembersResponse response;
} search_call_t;

static int attempt_search(struct soap *soap, const char *url, void *p)
{
    search_call_t *call = p;
    return soap_call_ks__SearchMembers(soap, url, NULL, call->prefix, call->server, call->after,
                                       &call->limit, &call->response);
}

void ks_page_members(ks_admin_req_t *req)
{
    const char *q = ks_page_query(req, "q"), *server = ks_page_query(req, "server");
    const char *after = ks_page_query(req, "after");
    struct ks__ListImageServersResponse *servers = NULL;
    search_call_t call = {.limit = PAGE_SIZE};
    ks_buf_t rows, options;
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_buf_init(&rows, 1 << 20);
    ks_buf_init(&options, 1 << 16);
    if (q && *q && !user_id_like(q)) {
        ks_tpl_set(&vars, "err_q", "A user id is 1 to 64 characters of A-Z a-z 0-9 . _ - "
                   "(not starting with a dot).");
        q = NULL;
    }
    if (server && !*server)
        server = NULL;
    call.prefix = (char *)(q && *q ? q : NULL);
    call.server = (char *)server;
    call.after = (char *)(after && user_id_like(after) ? after : NULL);
    ks_tpl_set(&vars, "q", q);
    ks_tpl_set(&vars, "filter_server", server);

    ks_servers_list(req, &servers);
    ks_servers_options(req, servers, server, "Every image server", NULL, &options);
    ks_tpl_set_html(&vars, "server_options", options.data ? options.data : "");
    if ((q && *q) || server || call.after) {
        if (ks_page_api(req, "SearchMembers", 1, attempt_search, &call) == KS_OK) {
            const struct ks__SearchMembersResponse *r = &call.response;
            for (int i = 0; i < r->__sizemember; i++) {
                ks_tpl_t row;
                ks_tpl_init(&row);
                ks_tpl_set(&row, "user_id", r->member[i].userId);
                ks_tpl_set_int(&row, "version", r->member[i].version);
                ks_tpl_set(&row, "server", r->member[i].imageServer);
                ks_tpl_set(&row, "exact", q && strcmp(q, r->member[i].userId) == 0 ? "1" : "");
                ks_page_render_part(req, &rows, "member_row.html", &row);
                ks_tpl_free(&row);
            }
            ks_tpl_set(&vars, "searched", "1");
            ks_tpl_set_int(&vars, "shown", r->__sizemember);
            ks_tpl_set(&vars, "none", r->__sizemember ? "" : "1");
            ks_tpl_set(&vars, "not_first", call.after ? "1" : "");
            ks_tpl_set(&vars, "next_after", r->nextAfterUserId);
        }
    }
    ks_tpl_set_html(&vars, "rows", rows.data ? rows.data : "");
    ks_page_render(req, "Members", "members", "members.html", &vars);
    ks_buf_free(&rows);
    ks_buf_free(&options);
    ks_tpl_free(&vars);
}

/* ---- one member ---- */

typedef struct {
    char *user_id;
    struct ks__GetAvatarResponse response;
} avatar_call_t;

static int attempt_avatar(struct soap *soap, const char *url, void *p)
{
    avatar_call_t *call = p;
    return soap_call_ks__GetAvatar(soap, url, NULL, call->user_id, NULL, &call->response);
}

/* The member of the route's {id} with its avatar, or NULL with the error
 * page drawn. Valid until the request ends. */
static struct ks__Avatar *route_member(ks_admin_req_t *req)
{
    avatar_call_t call = {.user_id = (char *)req->route_param};
    ks_rc rc;

    if (!user_id_like(req->route_param)) {
        ks_page_error(req, 404, "Page not found", "\"%s\" is not a user id.", req->route_param);
        return NULL;
    }
    rc = ks_page_api_lookup(req, "GetAvatar", attempt_avatar, &call);
    if (rc == KS_NOTFOUND)
        ks_page_error(req, 404, "Member not found", "There is no member \"%s\".",
                      req->route_param);
    else if (rc != KS_OK || !call.response.avatar)
        ks_page_error(req, 503, "The member could not be read", "See the message above.");
    return rc == KS_OK ? call.response.avatar : NULL;
}

/* "version 3 on img1" */
static void describe(const struct ks__Avatar *a, char *out, size_t size)
{
    snprintf(out, size, "version %d on %s, %d item(s) worn", a->version, a->imageServer,
             a->__sizewornItemId);
}

typedef struct {
    char *user_id;
    int offset, limit;
    struct ks__ListMemberItemsResponse response;
} items_call_t;

static int attempt_items(struct soap *soap, const char *url, void *p)
{
    items_call_t *call = p;
    return soap_call_ks__ListMemberItems(soap, url, NULL, call->user_id, NULL, &call->offset,
                                         &call->limit, &call->response);
}

/* The name of item id in the inventory, or NULL. */
static const char *owned_name(const struct ks__ListMemberItemsResponse *inv, int id)
{
    for (int i = 0; inv && i < inv->__sizeitem; i++)
        if (inv->item[i].itemId == id)
            return inv->item[i].name;
    return NULL;
}

static void inventory_rows(ks_admin_req_t *req, const struct ks__ListMemberItemsResponse *inv,
                           const char *user_id, ks_buf_t *rows)
{
    for (int i = 0; i < inv->__sizeitem; i++) {
        const struct ks__MemberItem *it = &inv->item[i];
        char granted[32];
        ks_tpl_t row;

        ks_format_utc(granted, sizeof granted, (long long)it->grantedAt, 16);
        ks_tpl_init(&row);
        ks_tpl_set(&row, "user_id", user_id);
        ks_tpl_set_int(&row, "item_id", it->itemId);
        ks_tpl_set_int(&row, "category_id", it->categoryId);
        ks_tpl_set(&row, "name", it->name);
        ks_tpl_set(&row, "status", it->status);
        ks_tpl_set(&row, "worn", it->worn == true_ ? "1" : "");
        ks_tpl_set(&row, "granted", granted);
        ks_tpl_set(&row, "csrf", req->csrf);
        ks_tpl_set(&row, "can_member_items", ks_page_can(req, KS_ACT_MEMBER_ITEMS) ? "1" : "");
        ks_page_render_part(req, rows, "member_item_row.html", &row);
        ks_tpl_free(&row);
    }
}

static void render_member(ks_admin_req_t *req, const struct ks__Avatar *a, ks_tpl_t *vars)
{
    struct ks__ListImageServersResponse *servers = NULL;
    items_call_t inv = {.user_id = a->userId, .limit = INVENTORY_PAGE};
    const char *offset_text = ks_page_query(req, "offset");
    ks_buf_t rows, outfit, options;
    long long offset = 0;
    char title[120];

    ks_buf_init(&rows, 1 << 20);
    ks_buf_init(&outfit, 1 << 16);
    ks_buf_init(&options, 1 << 16);
    if (offset_text && ks_page_parse_int(offset_text, 0, 10000000, &offset) == 0)
        inv.offset = (int)offset;
    ks_tpl_set(vars, "user_id", a->userId);
    ks_tpl_set_int(vars, "version", a->version);
    ks_tpl_set(vars, "server", a->imageServer);
    ks_tpl_set(vars, "url", a->url);
    ks_tpl_set(vars, "thumb_url", a->thumbUrl);
    ks_tpl_set(vars, "anim_url", a->animUrl);
    ks_tpl_set_int(vars, "worn_count", a->__sizewornItemId);
    if (ks_page_api(req, "ListMemberItems", 1, attempt_items, &inv) == KS_OK) {
        inventory_rows(req, &inv.response, a->userId, &rows);
        ks_tpl_set(vars, "inventory", "1");
        ks_tpl_set_int(vars, "owned", inv.response.total);
        ks_tpl_set(vars, "no_items", inv.response.__sizeitem ? "" : "1");
        if (inv.offset > 0)
            ks_tpl_set_int(vars, "prev_offset", inv.offset > INVENTORY_PAGE
                                                    ? inv.offset - INVENTORY_PAGE : 0);
        ks_tpl_set(vars, "not_first", inv.offset > 0 ? "1" : "");
        if (inv.offset + inv.response.__sizeitem < inv.response.total)
            ks_tpl_set_int(vars, "next_offset", inv.offset + inv.response.__sizeitem);
    }
    for (int i = 0; i < a->__sizewornItemId; i++) {
        const char *name = owned_name(inv.response.item ? &inv.response : NULL,
                                      a->wornItemId[i]);
        ks_tpl_t row;
        ks_tpl_init(&row);
        ks_tpl_set_int(&row, "item_id", a->wornItemId[i]);
        ks_tpl_set(&row, "name", name ? name : "");
        ks_page_render_part(req, &outfit, "member_outfit_item.html", &row);
        ks_tpl_free(&row);
    }
    ks_tpl_set_html(vars, "items", rows.data ? rows.data : "");
    ks_tpl_set_html(vars, "outfit", outfit.data ? outfit.data : "");
    if (ks_page_can(req, KS_ACT_MEMBER_MOVE) && ks_servers_list(req, &servers) == KS_OK) {
        int choices = ks_servers_options(req, servers, NULL, NULL, a->imageServer, &options);
        ks_tpl_set(vars, "move_choices", choices ? "1" : "");
    }
    ks_tpl_set_html(vars, "move_options", options.data ? options.data : "");
    ks_tpl_set(vars, "can_change", ks_page_can(req, KS_ACT_MEMBER_ITEMS) ||
                                   ks_page_can(req, KS_ACT_MEMBER_REGENERATE) ||
                                   ks_page_can(req, KS_ACT_MEMBER_MOVE) ||
                                   ks_page_can(req, KS_ACT_MEMBER_DELETE) ? "1" : "");
    snprintf(title, sizeof title, "Member %.64s", a->userId);
    ks_page_render(req, title, "members", "member.html", vars);
    ks_buf_free(&rows);
    ks_buf_free(&outfit);
    ks_buf_free(&options);
}

void ks_page_member(ks_admin_req_t *req)
{
    struct ks__Avatar *a = route_member(req);
    ks_tpl_t vars;

    if (!a)
        return;
    ks_tpl_init(&vars);
    render_member(req, a, &vars);
    ks_tpl_free(&vars);
}

/* The avatar's image (or its thumbnail, or its animation), fetched from the
 * public URL the API gives, as a member's browser would: the page's CSP
 * keeps its images to this site, so they come through here. */
void ks_page_member_image(ks_admin_req_t *req)
{
    int thumb = strstr(req->path, "/thumb.png") != NULL;
    int anim = strstr(req->path, "/anim.png") != NULL;
    avatar_call_t call = {.user_id = (char *)req->route_param};
    ks_http_response_t answer = {0};
    ks_http_t *http = NULL;
    ks_err_t err = {{0}};
    const char *why = NULL;
    int status = 0;
    ks_rc rc;

    if (!user_id_like(req->route_param) ||
        ks_page_api_lookup(req, "GetAvatar", attempt_avatar, &call) != KS_OK ||
        !call.response.avatar) {
        why = "no such member, or the API did not answer\n";
        status = 404;
    } else if (anim && !call.response.avatar->animUrl) {
        why = "the member wears no animated item\n";
        status = 404;
    } else if (!(http = ks_http_new((long)req->conf->api_timeout_s * 1000))) {
        why = "out of memory\n";
        status = 503;
    } else {
        const struct ks__Avatar *a = call.response.avatar;
        const char *url = thumb ? a->thumbUrl : anim ? a->animUrl : a->url;
        rc = ks_http_request(http, "GET", url, NULL, NULL, 0, IMAGE_MAX_BYTES, &answer, &err);
        if (rc != KS_OK || answer.status != 200 || answer.body_size < 8 ||
            memcmp(answer.body, "\x89PNG", 4) != 0) {
            ks_log_warn("image of member \"%s\" at %s: %s (HTTP %ld)", req->route_param, url,
                        rc != KS_OK ? err.msg : "not a PNG", answer.status);
            why = "the image server did not give the image\n";
            status = 502;
        }
    }
    if (why) {
        ks_page_send_text(req, status, why);
    } else {
        /* the page's URL carries the version (?v=): a version's image never changes */
        ks_page_send_data(req, "image/png", answer.body, answer.body_size,
                          "private, max-age=3600");
    }
    ks_http_response_free(&answer);
    ks_http_free(http);
}

/* ---- changes ---- */

/* After a change to member a: the audit entry and back to its page. */
static void changed(ks_admin_req_t *req, const char *user_id, const char *action,
                    const char *before, const char *after, const char *flash)
{
    char target[80], location[96];

    snprintf(target, sizeof target, "member %.64s", user_id);
    ks_page_audit(req, action, target, before, after);
    snprintf(location, sizeof location, "/members/%.64s", user_id);
    ks_page_redirect(req, location, flash);
}

/* A change refused: the member's page again with the message above it. */
static void refused(ks_admin_req_t *req, const struct ks__Avatar *a)
{
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    req->status = 400;
    render_member(req, a, &vars);
    ks_tpl_free(&vars);
}

/* The form's item id (field item), or 0 with a message. */
static int form_item(ks_admin_req_t *req)
{
    long long id;

    if (ks_page_parse_int(ks_page_field(req, "item"), 1, ITEM_ID_MAX, &id) != 0) {
        ks_page_message(req, "error", "Give the item's id: a whole number of 1 or more.");
        return 0;
    }
    return (int)id;
}

typedef struct {
    char *user_id;
    int item_id;
    struct ks__GrantItemResponse grant;
    struct ks__RevokeItemResponse revoke;
} item_change_t;

static int attempt_grant(struct soap *soap, const char *url, void *p)
{
    item_change_t *call = p;
    return soap_call_ks__GrantItem(soap, url, NULL, call->user_id, call->item_id, &call->grant);
}

static int attempt_revoke(struct soap *soap, const char *url, void *p)
{
    item_change_t *call = p;
    return soap_call_ks__RevokeItem(soap, url, NULL, call->user_id, call->item_id,
                                    &call->revoke);
}

void ks_page_member_grant(ks_admin_req_t *req)
{
    struct ks__Avatar *a = route_member(req);
    item_change_t call = {0};
    char before[64], after[64], location[96], flash[200];

    if (!a)
        return;
    call.user_id = a->userId;
    if (!(call.item_id = form_item(req)) ||
        ks_page_api(req, "GrantItem", 1, attempt_grant, &call) != KS_OK) {
        refused(req, a);
        return;
    }
    if (call.grant.alreadyOwned == true_) {
        snprintf(flash, sizeof flash, "%.64s owned item %d already: nothing changed.", a->userId,
                 call.item_id);
        snprintf(location, sizeof location, "/members/%.64s", a->userId);
        ks_page_redirect(req, location, flash);     /* nothing changed: nothing to audit */
        return;
    }
    snprintf(before, sizeof before, "item %d not owned", call.item_id);
    snprintf(after, sizeof after, "item %d owned", call.item_id);
    snprintf(flash, sizeof flash, "Item %d granted to %.64s.", call.item_id, a->userId);
    changed(req, a->userId, "member.grant", before, after, flash);
}

void ks_page_member_revoke(ks_admin_req_t *req)
{
    struct ks__Avatar *a = route_member(req);
    item_change_t call = {0};
    char before[128], after[128], flash[256];

    if (!a)
        return;
    call.user_id = a->userId;
    if (!(call.item_id = form_item(req)) ||
        ks_page_api(req, "RevokeItem", 1, attempt_revoke, &call) != KS_OK) {
        refused(req, a);
        return;
    }
    snprintf(before, sizeof before, "item %d %s; %s", call.item_id,
             call.revoke.wasOwned == true_ ? "owned" : "not owned",
             call.revoke.wasWorn == true_ ? "worn" : "not worn");
    snprintf(after, sizeof after, "item %d not owned; avatar version %d", call.item_id,
             call.revoke.avatar ? call.revoke.avatar->version : a->version);
    if (call.revoke.wasOwned != true_)
        snprintf(flash, sizeof flash, "%.64s did not own item %d: nothing changed.", a->userId,
                 call.item_id);
    else
        snprintf(flash, sizeof flash, "Item %d revoked from %.64s%s.", call.item_id, a->userId,
                 call.revoke.wasWorn == true_ ? " and taken off (the avatar was drawn again)"
                                              : "");
    changed(req, a->userId, "member.revoke", before, after, flash);
}

typedef struct {
    char *user_id;
    struct ks__RegenerateAvatarResponse response;
} regenerate_call_t;

static int attempt_regenerate(struct soap *soap, const char *url, void *p)
{
    regenerate_call_t *call = p;
    return soap_call_ks__RegenerateAvatar(soap, url, NULL, call->user_id, &call->response);
}

void ks_page_member_regenerate(ks_admin_req_t *req)
{
    struct ks__Avatar *a = route_member(req);
    regenerate_call_t call = {0};
    char before[128], after[128], flash[200];

    if (!a)
        return;
    call.user_id = a->userId;
    if (ks_page_api(req, "RegenerateAvatar", 0, attempt_regenerate, &call) != KS_OK ||
        !call.response.avatar) {
        refused(req, a);
        return;
    }
    describe(a, before, sizeof before);
    describe(call.response.avatar, after, sizeof after);
    snprintf(flash, sizeof flash, "The avatar of %.64s was drawn again: version %d.", a->userId,
             call.response.avatar->version);
    changed(req, a->userId, "member.regenerate", before, after, flash);
}

typedef struct {
    char *user_id, *to;
    struct ks__MoveAvatarResponse response;
} move_call_t;

static int attempt_move(struct soap *soap, const char *url, void *p)
{
    move_call_t *call = p;
    return soap_call_ks__MoveAvatar(soap, url, NULL, call->user_id, call->to, &call->response);
}

void ks_page_member_move(ks_admin_req_t *req)
{
    struct ks__Avatar *a = route_member(req);
    move_call_t call = {0};
    char before[128], after[128], flash[320];

    if (!a)
        return;
    call.user_id = a->userId;
    call.to = (char *)ks_page_field(req, "to");
    if (!call.to || !*call.to || strlen(call.to) > 64) {
        ks_page_message(req, "error", "Choose the image server to move the member to.");
        refused(req, a);
        return;
    }
    /* not resent: a second sending would find the member moved (a Conflict) */
    if (ks_page_api(req, "MoveAvatar", 0, attempt_move, &call) != KS_OK ||
        !call.response.avatar) {
        refused(req, a);
        return;
    }
    describe(a, before, sizeof before);
    describe(call.response.avatar, after, sizeof after);
    snprintf(flash, sizeof flash, "%.64s moved from %.64s to %.64s (version %d)%s.", a->userId,
             a->imageServer, call.to, call.response.avatar->version,
             call.response.photosKept ? "; some album photos stay on the old server" : "");
    changed(req, a->userId, "member.move", before, after, flash);
}

static void render_delete(ks_admin_req_t *req, const struct ks__Avatar *a, const char *error)
{
    char title[120];
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "user_id", a->userId);
    ks_tpl_set_int(&vars, "version", a->version);
    ks_tpl_set(&vars, "server", a->imageServer);
    ks_tpl_set(&vars, "error", error);
    snprintf(title, sizeof title, "Delete member %.64s?", a->userId);
    ks_page_render(req, title, "members", "member_delete.html", &vars);
    ks_tpl_free(&vars);
}

void ks_page_member_delete_form(ks_admin_req_t *req)
{
    struct ks__Avatar *a = route_member(req);

    if (a)
        render_delete(req, a, NULL);
}

typedef struct {
    char *user_id;
    struct ks__DeleteAvatarResponse response;
} delete_call_t;

static int attempt_delete(struct soap *soap, const char *url, void *p)
{
    delete_call_t *call = p;
    return soap_call_ks__DeleteAvatar(soap, url, NULL, call->user_id, &call->response);
}

void ks_page_member_delete(ks_admin_req_t *req)
{
    struct ks__Avatar *a = route_member(req);
    const char *confirm = ks_page_field(req, "confirm");
    delete_call_t call = {0};
    char before[128], after[64], target[80], flash[200];

    if (!a)
        return;
    if (!confirm || strcmp(confirm, a->userId) != 0) {
        req->status = 400;
        render_delete(req, a, "Type the member's user id exactly to confirm. Nothing was "
                      "deleted.");
        return;
    }
    call.user_id = a->userId;
    /* not resent: a second sending would answer NotFound for a member deleted */
    if (ks_page_api(req, "DeleteAvatar", 0, attempt_delete, &call) != KS_OK) {
        req->status = 400;
        render_delete(req, a, NULL);
        return;
    }
    describe(a, before, sizeof before);
    snprintf(after, sizeof after, "deleted with %d album photo(s)",
             call.response.albumPhotosDeleted);
    snprintf(target, sizeof target, "member %.64s", a->userId);
    ks_page_audit(req, "member.delete", target, before, after);
    snprintf(flash, sizeof flash, "Member %.64s deleted, with %d album photo(s).", a->userId,
             call.response.albumPhotosDeleted);
    ks_page_redirect(req, "/members", flash);
}
