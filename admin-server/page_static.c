/* page_static.c: the stylesheet, the script and the icons under /static/,
 * compiled into the binary from admin-server/static/. */
#include <string.h>

#include "embedded.h"
#include "page.h"
#include "pages.h"

extern const ks_embedded_t ks_admin_static[];

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');

    if (dot && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (dot && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (dot && strcmp(dot, ".png") == 0)
        return "image/png";
    return "application/octet-stream";
}

void ks_page_static(ks_admin_req_t *req)
{
    for (const ks_embedded_t *f = ks_admin_static; f->name; f++) {
        if (strcmp(f->name, req->route_param) == 0) {
            ks_page_send_data(req, type_of(f->name), f->data, f->size,
                              "public, max-age=300");
            return;
        }
    }
    ks_page_send_text(req, 404, "no such file");
}
