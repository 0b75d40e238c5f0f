/* test_api_auth.c: unit tests of api-server/auth.c without a database.
 *
 * The secret's hash check (Argon2id, and the legacy "sha256$salt$hash"
 * rows), the role names, the process's memory of verified secrets (keyed by
 * name, secret and row version), and ks_auth_require on the paths that need
 * no row: no or malformed credentials, a client the worker thread verified
 * less than auth_recheck_ms ago (granted or refused by role, the node bound
 * to its image server). When that memory has expired, or does not match the
 * secret given, the row must be read again: the pool here points at a
 * closed loopback port, so the call then fails with DatabaseUnavailable,
 * which is how the tests see that the memory was not trusted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_conf.h"
#include "auth.h"
#include "dispatch.h"

typedef struct {
    ks_api_conf_t conf;
    ks_db_pool_t *pool;
    ks_api_ctx_t ctx;
    struct soap *soap;
} fixture_t;

static int setup(void **state)
{
    /* the database: a port nothing listens on */
    const char *overrides[] = {"db_master=127.0.0.1:1", "db_connect_timeout=1"};
    fixture_t *f = calloc(1, sizeof *f);
    ks_err_t err;

    if (!f || ks_api_conf_load(&f->conf, NULL, overrides, 2, &err) != KS_OK)
        return -1;
    f->pool = ks_db_pool_new(&f->conf.db);
    f->soap = f->pool ? ks_api_worker_new(&f->conf, f->pool, &f->ctx) : NULL;
    if (!f->soap)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;

    soap_destroy(f->soap);             /* the last call's arena */
    soap_end(f->soap);
    ks_api_worker_free(f->soap, &f->ctx);
    ks_db_pool_free(f->pool);
    free(f);
    return 0;
}

/* ks_auth_require as user:password for roles; the fault's code in *code
 * (NULL when it passed). */
static int require(fixture_t *f, const char *user, const char *password, unsigned roles,
                   const char **code)
{
    int status;

    soap_begin(f->soap);
    f->soap->fault = NULL;
    f->soap->error = SOAP_OK;
    f->soap->userid = user;
    f->soap->passwd = password;
    ks_db_session_begin(f->ctx.db);
    status = ks_auth_require(f->soap, roles);
    *code = status == SOAP_OK ? NULL
            : f->soap->fault && f->soap->fault->detail &&
                      f->soap->fault->detail->ks__KisekaeFault
                  ? f->soap->fault->detail->ks__KisekaeFault->code
                  : "(no KisekaeFault)";
    return status;
}

static void remember(const char *name, const char *password, unsigned roles,
                     const char *image_server)
{
    char proof[KS_SHA256_HEX_SIZE];

    ks_auth_proof(name, password, proof);
    ks_auth_remember(name, proof, 1, roles, image_server);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- below the database ------------------------------------------------------------ */

static void test_role_names(void **state)
{
    (void)state;
    assert_int_equal(ks_auth_role_bits("site"), KS_ROLE_SITE);
    assert_int_equal(ks_auth_role_bits("admin"), KS_ROLE_ADMIN | KS_ROLE_SITE);
    assert_int_equal(ks_auth_role_bits("node"), KS_ROLE_NODE);
    assert_int_equal(ks_auth_role_bits("root"), 0);
    assert_int_equal(ks_auth_role_bits("Admin"), 0);
    assert_int_equal(ks_auth_role_bits(""), 0);
}

static void test_argon2id_hash_checks_the_secret(void **state)
{
    char hash[160];
    ks_err_t err;
    int legacy = -1;

    (void)state;
    assert_int_equal(ks_auth_hash_secret("correct horse battery", hash, sizeof hash, &err),
                     KS_OK);
    assert_memory_equal(hash, "$argon2id$", 10);
    assert_true(ks_auth_secret_matches("correct horse battery", hash, &legacy));
    assert_int_equal(legacy, 0);
    assert_false(ks_auth_secret_matches("correct horse batterz", hash, &legacy));
    assert_false(ks_auth_secret_matches("", hash, &legacy));
    /* the same secret hashes differently each time (a salt) */
    {
        char again[160];
        assert_int_equal(ks_auth_hash_secret("correct horse battery", again, sizeof again, &err),
                         KS_OK);
        assert_string_not_equal(hash, again);
    }
    /* secrets of 8..256 characters */
    assert_int_equal(ks_auth_hash_secret("short", hash, sizeof hash, &err), KS_INVALID);
    assert_non_null(strstr(err.msg, "8..256"));
    assert_false(ks_auth_secret_matches("anything", "not a hash", &legacy));
}

static void test_legacy_sha256_rows(void **state)
{
    char digest[KS_SHA256_HEX_SIZE], stored[128];
    int legacy = 0;

    (void)state;
    ks_sha256_hex("pepperopen sesame!", strlen("pepperopen sesame!"), digest);
    snprintf(stored, sizeof stored, "sha256$pepper$%s", digest);
    assert_true(ks_auth_secret_matches("open sesame!", stored, &legacy));
    assert_int_equal(legacy, 1);
    assert_false(ks_auth_secret_matches("open sesame?", stored, &legacy));
    assert_int_equal(legacy, 1);
    /* malformed legacy rows match nothing */
    assert_false(ks_auth_secret_matches("open sesame!", "sha256$pepper", &legacy));
    snprintf(stored, sizeof stored, "sha256$pepper$%.63s", digest);
    assert_false(ks_auth_secret_matches("open sesame!", stored, &legacy));
}

static void test_proof_depends_on_name_and_secret(void **state)
{
    char a[KS_SHA256_HEX_SIZE], b[KS_SHA256_HEX_SIZE], c[KS_SHA256_HEX_SIZE];
    char expected[KS_SHA256_HEX_SIZE];

    (void)state;
    ks_auth_proof("site", "secret-1", a);
    ks_auth_proof("site", "secret-2", b);
    ks_auth_proof("sitf", "secret-1", c);
    ks_sha256_hex("site:secret-1", strlen("site:secret-1"), expected);
    assert_string_equal(a, expected);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
}

static void test_verified_secrets_by_name_secret_and_version(void **state)
{
    char proof[KS_SHA256_HEX_SIZE], other[KS_SHA256_HEX_SIZE];

    (void)state;
    ks_auth_proof("verified-client", "its secret", proof);
    ks_auth_proof("verified-client", "a guess", other);
    assert_false(ks_auth_verified_has("verified-client", proof, 7));
    ks_auth_verified_add("verified-client", proof, 7);
    assert_true(ks_auth_verified_has("verified-client", proof, 7));
    assert_false(ks_auth_verified_has("verified-client", other, 7));    /* another secret */
    assert_false(ks_auth_verified_has("verified-client", proof, 8));    /* a newer row */
    assert_false(ks_auth_verified_has("verified-clien", proof, 7));     /* another name */
    /* the row's new version (a new secret, a revocation) replaces it */
    ks_auth_verified_add("verified-client", other, 8);
    assert_true(ks_auth_verified_has("verified-client", other, 8));
    assert_false(ks_auth_verified_has("verified-client", proof, 7));
}

static void test_verified_slot_taken_by_a_newer_name(void **state)
{
    char proof[KS_SHA256_HEX_SIZE], name[32];
    int evicted = 0;

    (void)state;
    ks_auth_proof("first", "secret", proof);
    ks_auth_verified_add("first", proof, 1);
    /* 256 slots: among a few thousand names, some share first's slot */
    for (int i = 0; i < 5000 && !evicted; i++) {
        snprintf(name, sizeof name, "other-%d", i);
        ks_auth_verified_add(name, proof, 1);
        assert_true(ks_auth_verified_has(name, proof, 1));
        evicted = !ks_auth_verified_has("first", proof, 1);
    }
    assert_true(evicted);
    assert_true(ks_auth_verified_has(name, proof, 1));
}

/* ---- ks_auth_require without reading a row -------------------------------------------- */

static void test_credentials_required(void **state)
{
    fixture_t *f = *state;
    char long_name[80];
    const char *code;

    assert_int_equal(require(f, NULL, NULL, KS_ROLE_SITE, &code), 401);
    assert_string_equal(code, "Unauthorized");
    assert_int_equal(require(f, "", "secret", KS_ROLE_SITE, &code), 401);
    assert_string_equal(code, "Unauthorized");
    memset(long_name, 'n', 65);
    long_name[65] = '\0';
    assert_int_equal(require(f, long_name, "secret", KS_ROLE_SITE, &code), 401);
    assert_int_equal(f->ctx.roles, 0);
}

static void test_remembered_client_granted_by_role(void **state)
{
    fixture_t *f = *state;
    const char *code;

    f->conf.auth_recheck_ms = 60000;
    remember("the-site", "site secret", KS_ROLE_SITE, "");
    remember("the-admin", "admin secret", KS_ROLE_ADMIN | KS_ROLE_SITE, "");
    remember("the-node", "node secret", KS_ROLE_NODE, "img1");

    assert_int_equal(require(f, "the-site", "site secret", KS_ROLE_SITE, &code), SOAP_OK);
    assert_int_equal(f->ctx.roles, KS_ROLE_SITE);
    assert_int_equal(require(f, "the-site", "site secret", KS_ROLE_ADMIN, &code), SOAP_FAULT);
    assert_string_equal(code, "Forbidden");
    assert_int_equal(require(f, "the-site", "site secret", KS_ROLE_NODE, &code), SOAP_FAULT);
    assert_string_equal(code, "Forbidden");

    assert_int_equal(require(f, "the-admin", "admin secret", KS_ROLE_ADMIN, &code), SOAP_OK);
    assert_int_equal(require(f, "the-admin", "admin secret", KS_ROLE_SITE, &code), SOAP_OK);
    assert_int_equal(require(f, "the-admin", "admin secret", KS_ROLE_NODE | KS_ROLE_ADMIN,
                             &code), SOAP_OK);
    assert_int_equal(require(f, "the-admin", "admin secret", KS_ROLE_NODE, &code), SOAP_FAULT);
    assert_string_equal(code, "Forbidden");

    assert_int_equal(require(f, "the-node", "node secret", KS_ROLE_NODE, &code), SOAP_OK);
    assert_string_equal(f->ctx.image_server, "img1");
    assert_int_equal(ks_auth_acts_for(f->soap, "img1"), SOAP_OK);
    assert_int_equal(ks_auth_acts_for(f->soap, "img2"), SOAP_FAULT);
    assert_int_equal(require(f, "the-node", "node secret", KS_ROLE_SITE, &code), SOAP_FAULT);
    assert_string_equal(code, "Forbidden");
    assert_string_equal(f->ctx.image_server, "");
}

static void test_memory_needs_the_same_secret(void **state)
{
    fixture_t *f = *state;
    const char *code;

    f->conf.auth_recheck_ms = 60000;
    remember("the-site", "site secret", KS_ROLE_SITE, "");
    /* another secret is no hit: the row is read (and the database is down) */
    assert_int_equal(require(f, "the-site", "site secret!", KS_ROLE_SITE, &code), SOAP_FAULT);
    assert_string_equal(code, "DatabaseUnavailable");
    assert_int_equal(f->ctx.roles, 0);
}

static void test_memory_expires_after_auth_recheck_ms(void **state)
{
    fixture_t *f = *state;
    const char *code;

    f->conf.auth_recheck_ms = 100;
    remember("the-admin", "admin secret", KS_ROLE_ADMIN | KS_ROLE_SITE, "");
    assert_int_equal(require(f, "the-admin", "admin secret", KS_ROLE_ADMIN, &code), SOAP_OK);
    sleep_ms(150);
    assert_int_equal(require(f, "the-admin", "admin secret", KS_ROLE_ADMIN, &code), SOAP_FAULT);
    assert_string_equal(code, "DatabaseUnavailable");
    /* 0: the row is read at every call */
    f->conf.auth_recheck_ms = 0;
    remember("the-admin", "admin secret", KS_ROLE_ADMIN | KS_ROLE_SITE, "");
    assert_int_equal(require(f, "the-admin", "admin secret", KS_ROLE_ADMIN, &code), SOAP_FAULT);
    assert_string_equal(code, "DatabaseUnavailable");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_names),
        cmocka_unit_test(test_argon2id_hash_checks_the_secret),
        cmocka_unit_test(test_legacy_sha256_rows),
        cmocka_unit_test(test_proof_depends_on_name_and_secret),
        cmocka_unit_test(test_verified_secrets_by_name_secret_and_version),
        cmocka_unit_test(test_verified_slot_taken_by_a_newer_name),
        cmocka_unit_test_setup_teardown(test_credentials_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remembered_client_granted_by_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_needs_the_same_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_expires_after_auth_recheck_ms, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
