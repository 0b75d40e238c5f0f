/* layer_file.c: premultiplied layers on disk, mapped for composing (see
 * layer_file.h for the layout). */
#include "layer_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

static const char magic[8] = {'K', 'S', 'L', 'A', 'Y', 'E', 'R', '1'};

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

ks_rc ks_layer_file_write(const char *path, const ks_image_t *img, const char *sha256_hex,
                          ks_err_t *err)
{
    size_t row = (size_t)img->width * 4;

    if (!img->premultiplied || img->pixels == NULL || img->width == 0 || img->height == 0)
        return ks_err(err, KS_INVALID, "layer file: not a premultiplied image");
    if (!ks_sha256_hex_valid(sha256_hex))
        return ks_err(err, KS_INVALID, "layer file: sha256 is not 64 lowercase hex digits");
    if (row > (SIZE_MAX - KS_LAYER_FILE_HEADER) / img->height)
        return ks_err(err, KS_TOOLARGE, "layer file: %ux%u is too large", img->width,
                      img->height);
    size_t size = KS_LAYER_FILE_HEADER + row * img->height;
    uint8_t *file = calloc(1, size);
    if (file == NULL)
        return ks_err(err, KS_NOMEM, "layer file: out of memory for %zu bytes", size);
    memcpy(file, magic, sizeof magic);
    put_le32(file + 8, img->width);
    put_le32(file + 12, img->height);
    memcpy(file + 16, sha256_hex, 64);
    for (uint32_t y = 0; y < img->height; y++)
        memcpy(file + KS_LAYER_FILE_HEADER + y * row, img->pixels + y * img->stride, row);
    ks_rc rc = ks_file_write_atomic(path, file, size, err);
    free(file);
    return rc;
}

ks_rc ks_layer_file_map(const char *path, const char *sha256_hex, uint32_t max_width,
                        uint32_t max_height, ks_layer_map_t *out, ks_err_t *err)
{
    struct stat st;
    int fd, error;

    memset(out, 0, sizeof *out);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = errno;
        if (error == ENOENT)
            return ks_err(err, KS_NOTFOUND, "layer file \"%s\" missing", path);
        return ks_err(err, KS_ERROR, "open() \"%s\" failed (%d: %s)", path, error,
                      strerror(error));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < KS_LAYER_FILE_HEADER) {
        close(fd);
        return ks_err(err, KS_INVALID, "layer file \"%s\" is not a layer file", path);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    error = errno;
    close(fd);
    if (map == MAP_FAILED)
        return ks_err(err, KS_ERROR, "mmap() \"%s\" failed (%d: %s)", path, error,
                      strerror(error));

    const uint8_t *head = map;
    uint32_t width = get_le32(head + 8), height = get_le32(head + 12);
    ks_rc rc = KS_OK;
    if (memcmp(head, magic, sizeof magic) != 0)
        rc = ks_err(err, KS_INVALID, "layer file \"%s\" has no layer header", path);
    else if (width == 0 || height == 0 || width > max_width || height > max_height)
        rc = ks_err(err, KS_INVALID, "layer file \"%s\" is %ux%u, outside 1x1..%ux%u", path,
                    width, height, max_width, max_height);
    else if ((uint64_t)st.st_size != KS_LAYER_FILE_HEADER + (uint64_t)width * height * 4)
        rc = ks_err(err, KS_INVALID, "layer file \"%s\" is %lld bytes, not %ux%u pixels", path,
                    (long long)st.st_size, width, height);
    else if (memcmp(head + 16, sha256_hex, 64) != 0)
        rc = ks_err(err, KS_CONFLICT, "layer file \"%s\" is of another PNG", path);
    if (rc != KS_OK) {
        munmap(map, (size_t)st.st_size);
        return rc;
    }
    out->map = map;
    out->map_size = (size_t)st.st_size;
    out->image.width = width;
    out->image.height = height;
    out->image.stride = (size_t)width * 4;
    out->image.pixels = (uint8_t *)map + KS_LAYER_FILE_HEADER;
    out->image.premultiplied = 1;
    return KS_OK;
}

void ks_layer_file_unmap(ks_layer_map_t *map)
{
    if (map->map != NULL)
        munmap(map->map, map->map_size);
    memset(map, 0, sizeof *map);
}
