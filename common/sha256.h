/* sha256.h: SHA-256 of a buffer as 64 lowercase hex digits (OpenSSL libcrypto). */
#ifndef KS_SHA256_H
#define KS_SHA256_H

#include <stddef.h>

#define KS_SHA256_HEX_SIZE 65   /* 64 digits and the NUL */

void ks_sha256_hex(const void *data, size_t size, char hex[KS_SHA256_HEX_SIZE]);
/* HMAC-SHA256 of data under key, as 64 lowercase hex digits. */
void ks_hmac_sha256_hex(const void *key, size_t key_size, const void *data, size_t size,
                        char hex[KS_SHA256_HEX_SIZE]);
/* 1 when s is 64 lowercase hex digits. */
int ks_sha256_hex_valid(const char *s);

#endif
