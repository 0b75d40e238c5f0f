/* routes.h: the route table and the dispatcher: which page answers a
 * request, and the checks every request passes first. */
#ifndef KS_ADMIN_ROUTES_H
#define KS_ADMIN_ROUTES_H

#include "admin.h"

typedef void (*ks_page_fn)(ks_admin_req_t *req);

typedef struct {
    const char *method;          /* "GET" (HEAD too) or "POST" */
    const char *path;            /* "/items", or with "{}" for one segment: "/items/{}/edit" */
    ks_action_t action;          /* what the staff member's role must allow */
    ks_page_fn handle;
    int public_page;             /* 1: no sign-in needed (the sign-in page, static files) */
} ks_route_t;

/* The routes, ending with {NULL}. */
extern const ks_route_t ks_routes[];

/* 1 when path matches pattern; *param gets the segment of "{}" (or NULL). */
int ks_route_match(const char *pattern, const char *path, const char **param,
                   char *param_buf, size_t param_size);

/* Answers req: finds the route (404, 405), loads the session (a page that
 * needs one sends the browser to /login), checks the role (403) and, for a
 * POST, the CSRF token (403, nothing changed), then runs the page. */
void ks_admin_dispatch(ks_admin_req_t *req);

#endif
