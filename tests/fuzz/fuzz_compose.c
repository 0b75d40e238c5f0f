/* fuzz_compose.c: libFuzzer target for composing and the outputs. The input
 * describes a canvas and up to 8 layers (sizes, offsets that may clip, and
 * pixels, made valid premultiplied), which are composed; the result is
 * written with the fast PNG encoder (and must decode back exactly through
 * libpng), scaled to a thumbnail of an input-chosen region and size, and
 * encoded as JPEG. A compose request body made of the rest of the input is
 * parsed as well. Run it with tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "compose_request.h"
#include "jpeg_codec.h"
#include "png_codec.h"
#include "resize.h"

typedef struct {
    const uint8_t *p;
    size_t left;
} reader_t;

static unsigned take(reader_t *r, unsigned range)
{
    unsigned v = 0;
    for (int i = 0; i < 2; i++) {
        v = v << 8 | (r->left > 0 ? *r->p : 0);
        if (r->left > 0) {
            r->p++;
            r->left--;
        }
    }
    return range ? v % range : v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader_t r = {data, size};
    ks_image_t images[8] = {0}, canvas = {0}, thumb = {0};
    ks_layer_ref_t refs[8];
    ks_err_t err;
    uint32_t width = 1 + take(&r, 96), height = 1 + take(&r, 96);
    unsigned count = take(&r, 9);

    for (unsigned i = 0; i < count; i++) {
        uint32_t w = 1 + take(&r, 48), h = 1 + take(&r, 48);
        if (ks_image_alloc(&images[i], w, h, &err) != KS_OK)
            abort();
        for (size_t k = 0; k < (size_t)w * h * 4; k += 4) {
            uint8_t *px = images[i].pixels + k;
            unsigned a = r.left > 0 ? r.p[0] : (unsigned)(k * 7);
            px[3] = (uint8_t)a;
            for (int c = 0; c < 3; c++)
                px[c] = (uint8_t)((r.left > (size_t)c + 1 ? r.p[c + 1] : k) % (a + 1));
            if (r.left >= 4) {
                r.p += 4;
                r.left -= 4;
            }
        }
        images[i].premultiplied = 1;
        refs[i] = (ks_layer_ref_t){&images[i], (int)take(&r, 200) - 100,
                                   (int)take(&r, 200) - 100, KS_TINT_NONE};
        if (take(&r, 2))
            refs[i].tint = KS_TINT(take(&r, 256) << 16 | take(&r, 256) << 8 | take(&r, 256));
    }
    if (ks_compose(refs, count, width, height, &canvas, &err) != KS_OK)
        abort();

    unsigned char *png;
    size_t png_size;
    ks_png_limits_t limits;
    ks_png_limits_default(&limits);
    if (ks_png_encode(&canvas, KS_PNG_LEVEL_FAST, &png, &png_size, &err) != KS_OK)
        abort();
    ks_image_t back;
    if (ks_png_decode(png, png_size, &limits, &back, &err) != KS_OK)
        abort();
    ks_image_premultiply(&back);
    if (memcmp(back.pixels, canvas.pixels, canvas.stride * canvas.height) != 0)
        abort();
    ks_image_free(&back);
    free(png);

    uint32_t tx = take(&r, width), ty = take(&r, height);
    uint32_t tw = 1 + take(&r, width - tx), th = 1 + take(&r, height - ty);
    if (ks_image_resize(&canvas, tx, ty, tw, th, 1 + take(&r, 128), 1 + take(&r, 128), &thumb,
                        &err) != KS_OK)
        abort();
    unsigned char *jpeg;
    size_t jpeg_size;
    if (ks_jpeg_encode(&thumb, take(&r, 0) << 8 | take(&r, 256), 1 + (int)take(&r, 100), &jpeg,
                       &jpeg_size, &err) != KS_OK)
        abort();
    free(jpeg);

    ks_compose_request_t *req = malloc(sizeof *req);
    if (req != NULL) {
        (void)ks_compose_request_parse((const char *)r.p, r.left,
                                       (ks_compose_kind_t)(size % 3), 2048, 2048, req, &err);
        free(req);
    }

    for (unsigned i = 0; i < count; i++)
        ks_image_free(&images[i]);
    ks_image_free(&canvas);
    ks_image_free(&thumb);
    return 0;
}
