/* admin.h: what every file of kisekae-admin shares: its configuration, the
 * server (the pools every worker draws on) and the request context a page
 * handler works with.
 *
 * kisekae-admin is the staff's web UI: a FastCGI application behind nginx
 * that reaches the avatar platform only through the SOAP API (gSOAP client
 * stubs, common/api_failover.h) and keeps its own data (staff, sessions,
 * login attempts, the audit log) in its own database. Layers, top to
 * bottom: main.c (config, signals, --add-staff) -> front.c (FastCGI:
 * request in, answer out) -> routes.c (the route table: sign-in, role,
 * CSRF) -> page_*.c (one file per page) -> page.c (the page API: forms,
 * templates, messages, SOAP calls, audit) -> session.c, roles.c, html.c,
 * form.c -> store_*.c (the admin database's SQL) -> common/.
 */
#ifndef KS_ADMIN_H
#define KS_ADMIN_H

#include <fcgiapp.h>
#include <stddef.h>
#include "api_failover.h"
#include "buf.h"
#include "db_pool.h"
#include "form.h"
#include "ks.h"
#include "log.h"
#include "roles.h"

#define KS_ADMIN_API_URLS_MAX KS_FAILOVER_URLS_MAX
#define KS_ADMIN_URL_SIZE 512
#define KS_ADMIN_OUTFIT_MAX 16

typedef struct {
    char listen[256];              /* "host:port" or "unix:/path" */
    int threads;
    /* the admin database (kisekae_admin) */
    char db_host[128];
    int db_port;
    char db_user[64];
    char db_password[128];
    char db_name[64];
    int db_timeout_s;
    /* the SOAP API: api_url (repeatable), tried in order */
    char api_urls[KS_ADMIN_API_URLS_MAX][KS_ADMIN_URL_SIZE];
    int api_url_count;
    char api_user[64];
    char api_password[128];
    int api_timeout_s;
    /* sessions */
    int session_idle_s;
    int session_max_age_s;
    int cookie_secure;             /* 1: always Secure; 0: only when nginx says HTTPS */
    /* passwords and login throttling */
    int argon2_opslimit;
    size_t argon2_memlimit;
    int login_throttle_after;      /* failures before each attempt must wait */
    int login_throttle_max_s;      /* longest wait */
    int login_lock_after;          /* an account's failures before it is locked */
    int login_address_window_s;    /* an address's failures count this long */
    /* uploads */
    size_t max_request_bytes;
    size_t max_upload_bytes;       /* one file */
    int max_upload_files;
    /* the preview mannequin */
    char mannequin_user[65];
    int preview_outfit[KS_ADMIN_OUTFIT_MAX];   /* item ids put on the mannequin */
    int preview_outfit_count;
    char metrics_listen[160];      /* the internal GET /metrics listener, "" for none */
    char log_file[1024];
    ks_log_level_t log_level;
} ks_admin_conf_t;

/* Shared by every worker thread; built once at start. */
typedef struct {
    const ks_admin_conf_t *conf;
    ks_db_pool_t *db;              /* the admin database (master only) */
    ks_failover_t api;             /* the API tier */
} ks_admin_server_t;

/* The staff member a request is signed in as. */
typedef struct {
    long long id;
    char name[65];
    ks_staff_role_t role;
    int disabled;
    int failed_logins;
    long long last_failed_at;
    int locked;
} ks_staff_t;

#define KS_ADMIN_PATH_MAX 512
#define KS_ADMIN_CALLS_MAX 48         /* SOAP calls one request may make */
#define KS_ADMIN_MESSAGES_MAX 4096

/* One request, from front.c to the page and back. Strings point into the
 * FastCGI parameters or the request's own buffers: valid until it ends. */
typedef struct ks_admin_req {
    ks_admin_server_t *server;
    const ks_admin_conf_t *conf;
    FCGX_Request *fcgi;
    ks_db_session_t *db;           /* this worker's session of the admin database */
    struct soap *soap;             /* this worker's gSOAP context: the settings each call copies */
    /* Each SOAP call of the request gets a context of its own (a copy of
     * soap), so what one call answered stays valid after the next; all are
     * freed when the request ends. */
    struct soap *calls[KS_ADMIN_CALLS_MAX];
    int call_count;
    long long now;                 /* time(NULL) at the start */

    const char *method;            /* "GET", "POST", ... */
    char path[KS_ADMIN_PATH_MAX];  /* without the query string */
    const char *remote;            /* the client's address */
    int https;
    ks_form_t query;               /* ?name=value... */
    ks_form_t form;                /* the POST body's fields and files */
    char form_error[KS_ERR_MAX];   /* why the body was refused ("" when it was not) */
    const char *route_param;       /* the {} segment of a route such as /items/{}/edit */
    int route;                     /* its index in ks_routes, -1 when none matched */
    char route_param_buf[80];

    int signed_in;
    ks_staff_t staff;
    char session_hash[65];         /* sha256 of the session id (the row's key) */
    char csrf[65];                 /* the token every form of this answer carries */
    char session_id[65];           /* the id the browser holds (only for the CSRF check) */
    char pre_session[65];          /* the sign-in form's own cookie value, before a session */

    /* The answer. */
    int status;
    const char *content_type;
    const char *cache_control;     /* NULL: no-store */
    ks_buf_t headers;              /* extra header lines (Set-Cookie, Location), CRLF each */
    ks_buf_t body;
    ks_buf_t messages;             /* HTML of the message boxes shown above the content */
    char flash[512];               /* a message carried over a redirect */
    int api_down;                  /* the API tier did not answer: the banner */
} ks_admin_req_t;

#endif
