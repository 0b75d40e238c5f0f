/* embedded.h: files compiled into a binary by ks_embed() (common/embed.cmake). */
#ifndef KS_EMBEDDED_H
#define KS_EMBEDDED_H

#include <stddef.h>

typedef struct {
    const char *name;             /* base name of the file; NULL ends a table */
    const unsigned char *data;    /* its bytes, followed by a NUL */
    size_t size;
} ks_embedded_t;

#endif
