/* compose_request.h: the bodies of POST /internal/compose, /internal/preview
 * and /internal/album (PROTOCOL.md).
 *
 *     user_id alice
 *     version 3                      (album: photo 17)
 *     canvas 240 320
 *     thumb 60 10 120 120 96 96      (compose, preview; optional)
 *     scene 3 <sha256>               (album)
 *     background #ffffff             (album; optional)
 *     quality 85                     (album; optional)
 *     layer <item_id> <layer_no> <z_order> <x> <y> <sha256>
 *
 * Parsing is strict: every key is known to the kind of request, said once
 * (layer: up to 256 times; at least once but for an album), with the right
 * number of words and every number in range. Errors name the line:
 * `line 4: layer x "12a" is not an integer`.
 */
#ifndef KS_COMPOSE_REQUEST_H
#define KS_COMPOSE_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include "ks.h"
#include "compose.h"
#include "paths.h"
#include "resize.h"
#include "sha256.h"

#define KS_COMPOSE_MAX_BODY (64 * 1024)   /* bytes of a request body */
#define KS_COMPOSE_MAX_LAYERS 256
#define KS_COMPOSE_MAX_OFFSET (1 << 20)   /* |x|, |y| of a layer on the canvas */
#define KS_COMPOSE_MAX_FRAMES 64          /* frames of an animated avatar (KS_APNG_FRAMES_MAX) */
#define KS_COMPOSE_MAX_ANIM_PIXELS (16u << 20)   /* frames x width x height */

typedef struct {
    int item_id;                         /* 1..INT_MAX */
    int layer_no;                        /* 0..INT_MAX */
    int z_order;                         /* any int */
    int x, y;                            /* -KS_COMPOSE_MAX_OFFSET..KS_COMPOSE_MAX_OFFSET */
    char sha256[KS_SHA256_HEX_SIZE];     /* lowercase hex */
    uint32_t tint;                       /* KS_TINT_NONE or KS_TINT(0xRRGGBB), compose.h */
    int frame;                           /* -1: in every frame; else only in that frame */
} ks_compose_layer_t;

typedef enum { KS_REQUEST_COMPOSE, KS_REQUEST_PREVIEW, KS_REQUEST_ALBUM } ks_compose_kind_t;

typedef struct {
    ks_compose_kind_t kind;
    char user_id[KS_USER_ID_MAX + 1];    /* "" when a preview leaves it out */
    unsigned version;                    /* >= 1; 0 when not given */
    unsigned photo;                      /* album: >= 1 */
    uint32_t width, height;              /* canvas, 1..max */
    int has_thumb;                       /* the thumbnail region (inside the canvas) */
    uint32_t thumb_x, thumb_y, thumb_width, thumb_height, thumb_out_width, thumb_out_height;
    int scene_id;                        /* album: the background, 1..INT_MAX */
    char scene_sha256[KS_SHA256_HEX_SIZE];
    uint32_t background;                 /* album: 0xRRGGBB, default white */
    int quality;                         /* album: JPEG quality, default 85 */
    int frame_count;                     /* 0: a still avatar; else 2..KS_COMPOSE_MAX_FRAMES */
    unsigned delays_ms[KS_COMPOSE_MAX_FRAMES];   /* how long each frame shows */
    size_t layer_count;                  /* 1..KS_COMPOSE_MAX_LAYERS */
    ks_compose_layer_t layers[KS_COMPOSE_MAX_LAYERS];   /* sorted by z_order, stable */
} ks_compose_request_t;

/* Parses body[0..size) of a request of the given kind into req (caller-
 * owned; about 22 KiB, so allocate it rather than putting it on a small
 * stack) and sorts its layers by z_order, keeping the given order among
 * equal z. Errors: KS_INVALID (malformed), KS_TOOLARGE (body over
 * KS_COMPOSE_MAX_BODY, canvas over max_width x max_height, more than
 * KS_COMPOSE_MAX_LAYERS layers), message in err. */
ks_rc ks_compose_request_parse(const char *body, size_t size, ks_compose_kind_t kind,
                               uint32_t max_width, uint32_t max_height,
                               ks_compose_request_t *req, ks_err_t *err);

#endif
