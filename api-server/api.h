/* api.h: what the API server's modules share: its configuration, the
 * per-worker context every SOAP handler reaches through soap->user, and the
 * functions nearly every handler calls (faults, checks, auth). Other files
 * declare what they offer in their own header. The files call one way:
 * main -> standalone/fastcgi -> dispatch -> op_* and http_avatar -> services
 * -> store -> common/ (ctest `layering` fails on a cycle).
 *
 * Module map: main.c (command line, signals, start), api_conf.c (the
 * config table),
 * dispatch.c (serving one request whatever the transport: SOAP, the WSDL and
 * the plain GETs), reply.c (answers written without gSOAP's serializer),
 * standalone.c (the HTTP listener: an event loop and the worker pool),
 * fastcgi.c (the same behind nginx), http_avatar.c (GET /avatar/...),
 * avatar_read.c (the reads behind GetAvatar and the redirects), auth.c (HTTP
 * Basic against api_clients), fault.c (SOAP faults with stable codes),
 * store.c (SQL the operations share), image_client.c (calls to image
 * servers), render.c (composing avatars, and the background renderer of
 * render_queue), album.c (composing album photos), node_health.c (marking
 * silent image servers down), migrate.c (schema migrations, API credentials), and the SOAP
 * operations: op_catalog.c (categories and items), op_avatar.c (avatars as a
 * whole), op_outfit.c (what a member wears, try-on), op_inventory.c (what a
 * member owns), op_album.c (scenes and album photos), op_cluster.c (image
 * servers), op_system.c (GetSystemStatus: the database pool, image servers,
 * counts), op_node.c (the image servers' own calls: registration, heartbeat,
 * the catalog manifest and canonical layers), replicate.c (the retry of
 * failed layer pushes), api_metrics.c (the counters GET /metrics serves on
 * the internal metrics_listen).
 */
#ifndef KS_API_H
#define KS_API_H

#include <signal.h>
#include "soapH.h"
#include "config.h"
#include "db_pool.h"
#include "http_client.h"
#include "ks.h"
#include "log.h"

#define KS_IMAGE_SERVERS_MAX 64

typedef struct {
    char name[64];
    char internal_url[256];
    char public_url[256];
    int weight;
} ks_api_image_server_conf_t;

enum { KS_API_STANDALONE, KS_API_FASTCGI };

typedef struct {
    int mode;                       /* KS_API_STANDALONE or KS_API_FASTCGI */
    char listen[160];
    int workers;
    size_t max_request_bytes;       /* a request's body */
    size_t max_header_bytes;        /* its request line and header fields */
    int max_xml_depth;
    int recv_timeout_s, send_timeout_s;
    int keepalive_timeout_s;
    int max_keep_alive;
    int max_connections;
    size_t max_buffered_bytes;      /* all requests being received, together */
    int avatar_cache_ms;            /* how long a member's avatar view is kept */
    int avatar_cache_entries;
    ks_db_conf_t db;
    ks_api_image_server_conf_t image_servers[KS_IMAGE_SERVERS_MAX];
    int image_server_count;
    char cluster_secret[128];
    int image_timeout_s;
    ks_wxh_t canvas;
    size_t max_layer_bytes;
    int max_layers;
    int thumb_x, thumb_y, thumb_width, thumb_height;  /* bust-up crop of the canvas */
    ks_wxh_t thumb_size;                              /* thumbnail size */
    size_t max_scene_bytes;
    int album_quality;           /* JPEG quality of album photos */
    int max_album_photos;        /* per member */
    int render_batch;            /* avatars the renderer composes before it looks up */
    int render_interval_s;       /* how often an idle renderer looks at the queue */
    int render_retry_s;          /* delay before a failed re-render is tried again */
    int image_server_timeout_s;  /* silence after which a server is marked down (0: never) */
    int replica_retry_s;         /* delay before a failed layer push is tried again */
    int replica_retry_batch;     /* failed pushes tried per renderer round */
    int deletion_retry_s;        /* delay before a failed deletion of images is tried again */
    int auth_recheck_ms;         /* a verified client is trusted this long unread (0: never) */
    int webhook_timeout_s;       /* a webhook POST's limit */
    int webhook_retry_s;         /* delay after a webhook POST's first failure (doubling) */
    int webhook_give_up_h;       /* an event's age when its deliveries stop being tried */
    int webhook_interval_ms;     /* how often an idle sender looks for due deliveries */
    int expiry_interval_ms;      /* how often the expiry job looks for ended items */
    char metrics_listen[160];    /* the internal GET /metrics listener, "" for none */
    char placeholder_png[512];   /* the stand-in avatar picture, "" for the built-in one */
    char placeholder_thumb_png[512];
    char log_file[512];
    ks_log_level_t log_level;
} ks_api_conf_t;

/* Roles of API clients; an operation names the roles it admits. */
enum {
    KS_ROLE_SITE = 1,
    KS_ROLE_ADMIN = 2,
    KS_ROLE_NODE = 4
};

/* One per worker thread, reached through soap->user. */
typedef struct {
    const ks_api_conf_t *conf;
    ks_db_session_t *db;
    ks_http_t *http;
    ks_err_t err;            /* the current request's error message */
    unsigned roles;          /* the caller's roles, once ks_auth_require passed */
    char image_server[64];   /* a node caller's image server (its only one), else "" */

    /* The request being served, whole in memory (the transport received it):
     * the HTTP header gSOAP reads, then the body. */
    const char *head, *body;
    size_t head_len, body_len;
    size_t handed;           /* bytes of head and body given to gSOAP so far */
    const char *scheme;      /* "http" or "https": how the client reached us */
    int cgi;                 /* answers are CGI ("Status:"), not HTTP (FastCGI) */
    char host[256];          /* its Host header when safe to echo, else "" */
    int (*fparsehdr)(struct soap *, const char *, const char *);  /* gSOAP's own */
    void *transport;         /* the transport's state for this worker */
    const char *fault_code;  /* the stable code of a fault server.c answered itself, or NULL */
} ks_api_ctx_t;

static inline ks_api_ctx_t *ks_api_ctx(struct soap *soap)
{
    return (ks_api_ctx_t *)soap->user;
}

/* fault.c: sets a SOAP fault whose detail carries code (one of the stable
 * codes of wsdl/kisekae.h) and the printf-style message; returns SOAP_FAULT
 * so a handler can `return ks_fault(...)`. */
int ks_fault(struct soap *soap, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The fault for a failed call: the code follows rc, the message is err's.
 * Internal errors are logged and answered without their details. */
int ks_fault_rc(struct soap *soap, ks_rc rc, const ks_err_t *err);
/* 1 when code is one of the stable fault codes. */
int ks_fault_code_known(const char *code);
/* The whole SOAP envelope (NUL-terminated, in out) of the fault ks_fault
 * would set for code and message, as gSOAP writes it: for the answers
 * written without a SOAP operation (reply.c) and `kisekae-api --fault-xml`.
 * A message is cut to KS_FAULT_MESSAGE_MAX bytes, so KS_FAULT_XML_MAX bytes
 * always hold the envelope. Returns its length; 0 (out empty) when it does
 * not fit in size. */
#define KS_FAULT_MESSAGE_MAX 512
#define KS_FAULT_XML_MAX 8192
size_t ks_fault_xml(char *out, size_t size, const char *code, const char *message);

/* Validation helpers that set the fault themselves (InvalidArgument), so a
 * handler reads `if (ks_check_text(...)) return soap->error;`. Text must be
 * present, 1..max_len bytes of UTF-8 without control characters. */
int ks_check_text(struct soap *soap, const char *field, const char *value, size_t max_len);
/* A member id: 1..64 characters of [A-Za-z0-9._-], not starting with '.'.
 * ks_check_member_id names the field in its message. */
int ks_check_user_id(struct soap *soap, const char *value);
int ks_check_member_id(struct soap *soap, const char *field, const char *value);
/* A page of a list: offset 0..KS_PAGE_OFFSET_MAX (default 0), limit
 * 1..KS_PAGE_LIMIT_MAX (default KS_PAGE_LIMIT_DEFAULT); either may be NULL. */
#define KS_PAGE_OFFSET_MAX 10000000
#define KS_PAGE_LIMIT_MAX 100
#define KS_PAGE_LIMIT_DEFAULT 50
int ks_check_page(struct soap *soap, const int *offset, const int *limit, int *page_offset,
                  int *page_limit);

/* auth.c: checks the request's HTTP Basic credentials against api_clients
 * and that the client's role is one of roles. Returns SOAP_OK, or sets the
 * fault (Unauthorized with HTTP 401, or Forbidden) and returns its error. */
int ks_auth_require(struct soap *soap, unsigned roles);
/* After ks_auth_require(KS_ROLE_NODE): SOAP_OK when the caller is the node
 * credential of image server server, else sets Forbidden and returns it. */
int ks_auth_acts_for(struct soap *soap, const char *server);
/* Writes the stored form of secret (an Argon2id hash, "$argon2id$...")
 * into out (160 bytes are enough). */
ks_rc ks_auth_hash_secret(const char *secret, char *out, size_t size, ks_err_t *err);

/* render.c: the background renderer. One thread per API server composes
 * again the avatars queued in render_queue. start returns KS_OK or the
 * error (in err); stop ends the thread (waiting for the avatar it composes)
 * and does nothing when it was not started. wake makes it look at the queue
 * now, e.g. after an operation queued avatars. */
ks_rc ks_renderer_start(const ks_api_conf_t *conf, ks_db_pool_t *pool, ks_err_t *err);
void ks_renderer_stop(void);
void ks_renderer_wake(void);

/* replicate.c: pushes again (at most replica_retry_batch) item layers whose
 * push to an active image server failed and whose delay has passed;
 * *retried says how many were tried. The renderer thread calls it. */
ks_rc ks_replicas_retry(ks_api_ctx_t *ctx, int *retried);

/* migrate.c */
ks_rc ks_migrate(ks_db_pool_t *pool, ks_err_t *err);
/* Creates or updates API credentials; a node client (role node) names the
 * image server it acts for (image_server, else NULL). */
ks_rc ks_add_client(ks_db_pool_t *pool, const char *name, const char *role,
                    const char *image_server, const char *secret, ks_err_t *err);
/* Revokes API client name at once on every API server (it stays, disabled;
 * --add-client enables it again with a new secret). KS_NOTFOUND when there
 * is none. */
ks_rc ks_revoke_client(ks_db_pool_t *pool, const char *name, ks_err_t *err);
/* Records the configured image servers in image_servers (insert or update). */
ks_rc ks_register_image_servers(ks_db_pool_t *pool, const ks_api_conf_t *conf, ks_err_t *err);
/* An admin's change of one image server's URLs (insert or update), as an
 * image_server line of the configuration would. */
ks_rc ks_set_image_server(ks_db_pool_t *pool, const ks_api_image_server_conf_t *server,
                          ks_err_t *err);

#endif
