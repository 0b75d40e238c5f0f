/* placeholder.h: the picture an <img> gets while a member's real image
 * cannot be served (its image server down, a rebuild failing or too slow, an
 * unknown member): a plain grey silhouette, or an operator's own PNG
 * (placeholder_png in the API's and the image servers' configuration). It
 * is answered with Cache-Control: no-cache, so the real image replaces it as
 * soon as it exists. */
#ifndef KS_PLACEHOLDER_H
#define KS_PLACEHOLDER_H

#include <stddef.h>
#include "ks.h"

/* The built-in silhouette as a PNG of width x height (1..4096 each) into
 * *png (malloc'd, the caller frees). The same size gives the same bytes. */
ks_rc ks_placeholder_draw(unsigned width, unsigned height, unsigned char **png, size_t *size,
                          ks_err_t *err);

/* The placeholder of a configuration: the PNG file at path when path is not
 * empty (checked to be a PNG of at most 4096x4096), else the silhouette of
 * width x height. */
ks_rc ks_placeholder_load(const char *path, unsigned width, unsigned height,
                          unsigned char **png, size_t *size, ks_err_t *err);

/* Writes png[0] and png[1] (the avatar's and the thumbnail's placeholder)
 * as DIR/avatar.png and DIR/thumb.png, each replaced atomically, DIR made
 * when missing: the files an nginx in front answers with while the server
 * behind it can't answer at all (deploy/nginx/snippets). */
ks_rc ks_placeholder_publish(const char *dir, unsigned char *const png[2], const size_t size[2],
                             ks_err_t *err);

#endif
