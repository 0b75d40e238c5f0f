/* batch.h: POST /internal/batch (PROTOCOL.md): many compose and album
 * recipes in one request, composed one after the other on the FastCGI
 * worker that received it, each of its files compared with the one on disk
 * and written (atomically) only when it is missing or differs, unless the
 * batch only checks. The API's RebuildAvatars sends these.
 *
 * The body is a first line `batch write` or `batch check`, then for each
 * recipe a line `compose N` or `album N` followed by exactly N bytes: the
 * body of POST /internal/compose or /internal/album. The answer has a line
 * per image: `<recipe> <status> <path>[ <message>]`, recipes numbered from 0
 * in the order given, status one of written, unchanged, missing, differs
 * (the last two only when checking) or failed (path "-" when the recipe did
 * not parse).
 *
 * Composing goes through the rebuild path (rebuild.h: layers or scenes the
 * store lacks are fetched from the API) and the encoders of output.h, so a
 * file composed again from its recipe is the same bytes as the original.
 */
#ifndef KS_BATCH_H
#define KS_BATCH_H

#include <stddef.h>
#include "buf.h"
#include "image_conf.h"
#include "ks.h"
#include "rebuild.h"

#define KS_BATCH_MAX_BODY (8 * 1024 * 1024)   /* bytes of a batch request body */
#define KS_BATCH_MAX_RECIPES 1000             /* recipes in one batch */

/* What a batch did, for the answer's first line and the log. */
typedef struct {
    int recipes, images, written, missing, differs, unchanged, failed;
} ks_batch_counts_t;

/* Runs the batch in body[0..size) (see above), asking the API through client
 * (this thread's; NULL without api_url) for what the store lacks; conf gives
 * the store and the canvas limits. The image lines go to answer (initialised
 * by the caller). KS_OK whatever each image's status; KS_INVALID for a
 * malformed body and KS_TOOLARGE for more than KS_BATCH_MAX_RECIPES
 * recipes, both before anything is composed (message in err). */
ks_rc ks_batch_run(ks_rebuilder_t *rebuilder, ks_node_api_client_t *client,
                   const ks_image_conf_t *conf, const char *body, size_t size, ks_buf_t *answer,
                   ks_batch_counts_t *counts, ks_err_t *err);

#endif
