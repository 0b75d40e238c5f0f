/* page_login.c: signing in (GET and POST /login) and out (POST /logout). */
#include <string.h>

#include "auth.h"
#include "admin_metrics.h"
#include "log.h"
#include "page.h"
#include "pages.h"

static void render_form(ks_admin_req_t *req, const char *name, const char *error)
{
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "name", name);
    ks_tpl_set(&vars, "error", error);
    ks_page_render(req, "Sign in", "login", "login.html", &vars);
    ks_tpl_free(&vars);
}

void ks_page_login_form(ks_admin_req_t *req)
{
    if (req->signed_in) {
        ks_page_redirect(req, "/", NULL);
        return;
    }
    render_form(req, "", NULL);
}

void ks_page_login(ks_admin_req_t *req)
{
    const char *name = ks_page_field(req, "name"), *password = ks_page_field(req, "password");
    ks_err_t err = {{0}};
    ks_rc rc;

    if (!name || !*name || !password || !*password || strlen(name) > 64 ||
        strlen(password) > 1024) {
        req->status = 400;
        render_form(req, name && strlen(name) <= 64 ? name : "",
                    "Give your name and your password.");
        return;
    }
    rc = ks_admin_auth_sign_in(req, name, password, &err);
    ks_admin_metrics_sign_in(rc == KS_OK ? KS_SIGN_IN_OK : rc == KS_FORBIDDEN ? KS_SIGN_IN_REFUSED
                                                                          : KS_SIGN_IN_ERROR);
    if (rc == KS_OK) {
        ks_log_info("staff \"%s\" signed in from %s", name, req->remote);
        ks_page_redirect(req, "/", NULL);
        return;
    }
    if (rc != KS_FORBIDDEN) {
        ks_log_error("sign-in of \"%s\": %s", name, err.msg);
        ks_page_error(req, 503, "Sign-in is not possible now",
                      "The admin database did not answer; try again in a moment.");
        return;
    }
    ks_log_warn("sign-in of \"%s\" from %s refused: %s", name, req->remote, err.msg);
    req->status = 403;
    render_form(req, name, err.msg);
}

void ks_page_logout(ks_admin_req_t *req)
{
    ks_log_info("staff \"%s\" signed out", req->staff.name);
    ks_admin_auth_sign_out(req);
    ks_page_redirect(req, "/login", NULL);
}
