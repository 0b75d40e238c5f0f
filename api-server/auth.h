/* auth.h: the parts of HTTP Basic authentication (auth.c) below the
 * database: the secret's hash check, the role names, and the two memories of
 * verified secrets (the process's, by row version; each worker thread's,
 * trusted for auth_recheck_ms). ks_auth_require, which every handler calls,
 * is declared in api.h; these are for auth.c and its unit tests
 * (tests/unit/api/test_api_auth.c).
 */
#ifndef KS_API_AUTH_H
#define KS_API_AUTH_H

#include "api.h"
#include "sha256.h"

/* The role bits of a role's name in api_clients: "site", "admin" (which
 * may do what a site does too) or "node"; 0 for any other. */
unsigned ks_auth_role_bits(const char *role);

/* 1 when secret matches stored: an Argon2id hash (ks_auth_hash_secret), or
 * a legacy "sha256$salt$hash" row, compared in constant time; *legacy is 1
 * for the legacy kind (the caller replaces it). */
int ks_auth_secret_matches(const char *secret, const char *stored, int *legacy);

/* What the memories keep instead of the password: the hex SHA-256 of
 * "name:password". */
void ks_auth_proof(const char *name, const char *password, char proof[KS_SHA256_HEX_SIZE]);

/* The process's memory of verified secrets, one slot per hash of the name
 * (a newer entry takes the slot): 1 when name's secret of proof was
 * verified at row version, which a new secret or a revocation bumps. */
int ks_auth_verified_has(const char *name, const char *proof, unsigned long long version);
void ks_auth_verified_add(const char *name, const char *proof, unsigned long long version);

/* The calling thread's memory of client name: its secret (proof) was
 * verified at version, its row read now with roles and image_server ("" for
 * none). ks_auth_require trusts it without reading the row again for
 * auth_recheck_ms (when above 0). */
void ks_auth_remember(const char *name, const char *proof, unsigned long long version,
                      unsigned roles, const char *image_server);

#endif
