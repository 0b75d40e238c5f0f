/* routes.c: the route table and the dispatcher (routes.h). Every page of
 * the admin UI is one line here: its method, path, the action its role must
 * allow (roles.c decides) and its handler (pages.h). */
#include "routes.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "log.h"
#include "page.h"
#include "pages.h"

const ks_route_t ks_routes[] = {
    {"GET", "/login", KS_ACT_VIEW, ks_page_login_form, 1},
    {"POST", "/login", KS_ACT_VIEW, ks_page_login, 1},
    {"POST", "/logout", KS_ACT_VIEW, ks_page_logout, 0},
    {"GET", "/static/{}", KS_ACT_VIEW, ks_page_static, 1},
    {"GET", "/", KS_ACT_VIEW, ks_page_dashboard, 0},

    {"GET", "/categories", KS_ACT_VIEW, ks_page_categories, 0},
    {"GET", "/categories/new", KS_ACT_CATALOG_EDIT, ks_page_category_new, 0},
    {"POST", "/categories/new", KS_ACT_CATALOG_EDIT, ks_page_category_create, 0},
    {"GET", "/categories/{}", KS_ACT_VIEW, ks_page_category_edit, 0},
    {"POST", "/categories/{}", KS_ACT_CATALOG_EDIT, ks_page_category_update, 0},

    {"GET", "/items", KS_ACT_VIEW, ks_page_items, 0},
    {"GET", "/items/new", KS_ACT_CATALOG_EDIT, ks_page_item_new, 0},
    {"POST", "/items/new", KS_ACT_CATALOG_EDIT, ks_page_item_create, 0},
    {"POST", "/items/preview", KS_ACT_CATALOG_EDIT, ks_page_item_preview, 0},
    {"GET", "/items/{}/thumb.png", KS_ACT_VIEW, ks_page_item_thumb, 0},
    {"GET", "/items/{}/preview.png", KS_ACT_VIEW, ks_page_item_on_mannequin, 0},
    {"GET", "/items/{}", KS_ACT_VIEW, ks_page_item_edit, 0},
    {"POST", "/items/{}", KS_ACT_CATALOG_EDIT, ks_page_item_update, 0},
    {"POST", "/items/{}/publish", KS_ACT_CATALOG_EDIT, ks_page_item_publish, 0},
    {"POST", "/items/{}/retire", KS_ACT_CATALOG_EDIT, ks_page_item_retire, 0},

    {"GET", "/scenes", KS_ACT_VIEW, ks_page_scenes, 0},
    {"GET", "/scenes/new", KS_ACT_CATALOG_EDIT, ks_page_scene_new, 0},
    {"POST", "/scenes/new", KS_ACT_CATALOG_EDIT, ks_page_scene_create, 0},
    {"POST", "/scenes/preview", KS_ACT_CATALOG_EDIT, ks_page_scene_preview, 0},
    {"GET", "/scenes/{}/background.png", KS_ACT_VIEW, ks_page_scene_background, 0},

    {"GET", "/members", KS_ACT_VIEW, ks_page_members, 0},
    {"GET", "/members/{}", KS_ACT_VIEW, ks_page_member, 0},
    {"GET", "/members/{}/avatar.png", KS_ACT_VIEW, ks_page_member_image, 0},
    {"GET", "/members/{}/thumb.png", KS_ACT_VIEW, ks_page_member_image, 0},
    {"GET", "/members/{}/anim.png", KS_ACT_VIEW, ks_page_member_image, 0},
    {"POST", "/members/{}/grant", KS_ACT_MEMBER_ITEMS, ks_page_member_grant, 0},
    {"POST", "/members/{}/revoke", KS_ACT_MEMBER_ITEMS, ks_page_member_revoke, 0},
    {"POST", "/members/{}/regenerate", KS_ACT_MEMBER_REGENERATE, ks_page_member_regenerate, 0},
    {"POST", "/members/{}/move", KS_ACT_MEMBER_MOVE, ks_page_member_move, 0},
    {"GET", "/members/{}/delete", KS_ACT_MEMBER_DELETE, ks_page_member_delete_form, 0},
    {"POST", "/members/{}/delete", KS_ACT_MEMBER_DELETE, ks_page_member_delete, 0},

    {"GET", "/servers", KS_ACT_VIEW, ks_page_servers, 0},
    {"GET", "/servers/{}", KS_ACT_VIEW, ks_page_server, 0},
    {"POST", "/servers/{}/mode", KS_ACT_SERVER_EDIT, ks_page_server_mode, 0},
    {"POST", "/servers/{}/weight", KS_ACT_SERVER_EDIT, ks_page_server_weight, 0},
    {"POST", "/servers/{}/move", KS_ACT_SERVER_EDIT, ks_page_server_move, 0},
    {"POST", "/servers/{}/purge", KS_ACT_SERVER_EDIT, ks_page_server_purge, 0},

    {"GET", "/staff", KS_ACT_STAFF_MANAGE, ks_page_staff, 0},
    {"POST", "/staff/new", KS_ACT_STAFF_MANAGE, ks_page_staff_add, 0},
    {"GET", "/staff/{}", KS_ACT_STAFF_MANAGE, ks_page_staff_one, 0},
    {"POST", "/staff/{}/role", KS_ACT_STAFF_MANAGE, ks_page_staff_role, 0},
    {"POST", "/staff/{}/disable", KS_ACT_STAFF_MANAGE, ks_page_staff_disable, 0},
    {"POST", "/staff/{}/unlock", KS_ACT_STAFF_MANAGE, ks_page_staff_unlock, 0},
    {"POST", "/staff/{}/password", KS_ACT_STAFF_MANAGE, ks_page_staff_password, 0},

    {"GET", "/audit", KS_ACT_AUDIT_VIEW, ks_page_audit_log, 0},

    {"GET", "/webhooks", KS_ACT_WEBHOOKS, ks_page_webhooks, 0},
    {"POST", "/webhooks/new", KS_ACT_WEBHOOKS, ks_page_webhook_register, 0},
    {"GET", "/webhooks/{}", KS_ACT_WEBHOOKS, ks_page_webhook, 0},
    {"POST", "/webhooks/{}/delete", KS_ACT_WEBHOOKS, ks_page_webhook_delete, 0},
    {"POST", "/webhooks/{}/redeliver", KS_ACT_WEBHOOKS, ks_page_webhook_redeliver, 0},

    {NULL, NULL, 0, NULL, 0},
};

static int segment_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

int ks_route_match(const char *pattern, const char *path, const char **param,
                   char *param_buf, size_t param_size)
{
    const char *slot = strstr(pattern, "{}");
    size_t prefix, len = 0;

    *param = NULL;
    if (!slot)
        return strcmp(pattern, path) == 0;
    prefix = (size_t)(slot - pattern);
    if (strncmp(pattern, path, prefix) != 0)
        return 0;
    while (segment_char(path[prefix + len]))
        len++;
    if (len == 0 || len >= param_size || path[prefix] == '.' ||
        strcmp(path + prefix + len, slot + 2) != 0)
        return 0;
    memcpy(param_buf, path + prefix, len);
    param_buf[len] = '\0';
    *param = param_buf;
    return 1;
}

/* The route for req: the first whose path and method match. *path_known
 * says whether some route has the path (405 rather than 404). A fixed path
 * ("/items/new") is listed before a pattern that would take it. */
static const ks_route_t *find_route(ks_admin_req_t *req, int *path_known)
{
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;

    *path_known = 0;
    req->route = -1;
    for (const ks_route_t *r = ks_routes; r->path; r++) {
        const char *param;
        if (!ks_route_match(r->path, req->path, &param, req->route_param_buf,
                            sizeof req->route_param_buf))
            continue;
        *path_known = 1;
        if (strcmp(r->method, method) == 0) {
            req->route_param = param;
            req->route = (int)(r - ks_routes);
            return r;
        }
    }
    return NULL;
}

void ks_admin_dispatch(ks_admin_req_t *req)
{
    const ks_route_t *route;
    ks_err_t err = {{0}};
    int path_known;

    route = find_route(req, &path_known);
    if (!route && path_known) {
        req->status = 405;
        ks_buf_addf(&req->headers, "Allow: %s\r\n", strcmp(req->method, "POST") == 0
                                                          ? "GET, HEAD" : "POST");
    }
    if (route && route->handle == ks_page_static) {
        route->handle(req);            /* no session needed, none touched */
        return;
    }
    if (ks_admin_auth_load(req, &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        ks_page_error(req, 503, "The admin database does not answer",
                      "Nothing can be shown or changed until it is back. (%s)", err.msg);
        return;
    }
    if (!route) {
        if (req->status == 405)
            ks_page_error(req, 405, "Method not allowed", "%s is not allowed on %s.",
                          req->method, req->path);
        else
            ks_page_error(req, 404, "Page not found", "There is no page at %s.", req->path);
        return;
    }
    if (!route->public_page && !req->signed_in) {
        if (strcmp(req->method, "POST") == 0) {
            ks_page_error(req, 403, "Signed out", "Your session has ended, so nothing was "
                          "changed. Sign in again and repeat the change.");
            return;
        }
        ks_page_redirect(req, "/login", NULL);
        return;
    }
    if (!route->public_page && !ks_page_can(req, route->action)) {
        ks_log_warn("%s %s refused: staff \"%s\" (%s) may not %s", req->method, req->path,
                    req->staff.name, ks_staff_role_name((int)req->staff.role),
                    ks_action_name((int)route->action));
        ks_page_error(req, 403, "Not allowed", "Your role (%s) does not allow this page.",
                      ks_staff_role_name((int)req->staff.role));
        return;
    }
    if (strcmp(req->method, "POST") == 0 && !ks_admin_auth_csrf_ok(req)) {
        ks_log_warn("POST %s from %s refused: missing or wrong CSRF token", req->path,
                    req->remote);
        ks_page_error(req, 403, "Form refused", "The form had no valid security token (it may "
                      "have come from another site, or from before you signed in again). "
                      "Nothing was changed; reload the page and try again.");
        return;
    }
    route->handle(req);
}
