/* test_admin_session.c: the admin server's session ids, their expiry and
 * hashing, CSRF tokens, Argon2id passwords and sign-in delays
 * (admin-server/session.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include "session.h"
#include "sha256.h"

static int setup(void **state)
{
    (void)state;
    return ks_session_crypto_init();
}

static void test_ids_are_random_hex(void **state)
{
    char a[KS_SESSION_ID_HEX], b[KS_SESSION_ID_HEX];
    (void)state;
    ks_session_new_id(a);
    ks_session_new_id(b);
    assert_int_equal(strlen(a), 64);          /* 256 bits */
    assert_true(ks_session_id_valid(a));
    assert_true(ks_session_id_valid(b));
    assert_string_not_equal(a, b);
    /* many ids, none twice, every hex digit used */
    char seen[16] = {0};
    for (int i = 0; i < 200; i++) {
        char id[KS_SESSION_ID_HEX];
        ks_session_new_id(id);
        assert_string_not_equal(id, a);
        for (int j = 0; j < 64; j++)
            seen[id[j] <= '9' ? id[j] - '0' : id[j] - 'a' + 10] = 1;
    }
    for (int d = 0; d < 16; d++)
        assert_true(seen[d]);
}

static void test_id_validation(void **state)
{
    char id[KS_SESSION_ID_HEX];
    (void)state;
    ks_session_new_id(id);
    assert_true(ks_session_id_valid(id));
    id[10] = 'G';
    assert_false(ks_session_id_valid(id));
    id[10] = 'A';                              /* uppercase is not what we make */
    assert_false(ks_session_id_valid(id));
    assert_false(ks_session_id_valid(""));
    assert_false(ks_session_id_valid(NULL));
    assert_false(ks_session_id_valid("abc"));
    assert_false(ks_session_id_valid("' OR 1=1 --"));
}

static void test_only_the_hash_is_stored(void **state)
{
    char id[KS_SESSION_ID_HEX], hash[KS_SESSION_HASH_HEX], again[KS_SESSION_HASH_HEX],
        expected[KS_SHA256_HEX_SIZE];
    (void)state;
    ks_session_new_id(id);
    ks_session_hash(id, hash);
    ks_session_hash(id, again);
    assert_string_equal(hash, again);          /* the same id finds its row */
    assert_string_not_equal(hash, id);
    ks_sha256_hex(id, strlen(id), expected);   /* SHA-256 of the id's text */
    assert_string_equal(hash, expected);
    id[0] = id[0] == 'a' ? 'b' : 'a';
    ks_session_hash(id, again);
    assert_string_not_equal(hash, again);
}

static void test_expiry(void **state)
{
    const int idle = 1800, max_age = 28800;
    const long long t0 = 1700000000;
    (void)state;
    assert_false(ks_session_expired(t0, t0, t0, idle, max_age));
    assert_false(ks_session_expired(t0 + 1800, t0, t0, idle, max_age));   /* idle 30 min exactly */
    assert_true(ks_session_expired(t0 + 1801, t0, t0, idle, max_age));      /* idle a second more */
    /* used every 20 min: alive until 8 h, then gone however recent its use */
    assert_false(ks_session_expired(t0 + 28800, t0, t0 + 28000, idle, max_age));
    assert_true(ks_session_expired(t0 + 28801, t0, t0 + 28800, idle, max_age));
    /* configured timeouts are honoured */
    assert_true(ks_session_expired(t0 + 61, t0, t0, 60, max_age));
    assert_false(ks_session_expired(t0 + 60, t0, t0, 60, 120));
    assert_true(ks_session_expired(t0 + 121, t0, t0 + 100, 60, 120));
    /* a creation time far in the future (a clock gone wrong) is not trusted */
    assert_true(ks_session_expired(t0, t0 + 3600, t0 + 3600, idle, max_age));
}

static void test_csrf(void **state)
{
    char secret[KS_SESSION_ID_HEX], other[KS_SESSION_ID_HEX], token[KS_SESSION_HASH_HEX],
        token2[KS_SESSION_HASH_HEX];
    (void)state;
    ks_session_new_id(secret);
    ks_session_new_id(other);
    ks_csrf_token(secret, token);
    ks_csrf_token(secret, token2);
    assert_string_equal(token, token2);
    assert_int_equal(strlen(token), 64);
    assert_string_not_equal(token, secret);
    assert_true(ks_csrf_check(secret, token));
    assert_false(ks_csrf_check(other, token));  /* another browser's token */
    assert_false(ks_csrf_check(secret, NULL));  /* missing */
    assert_false(ks_csrf_check(secret, ""));
    assert_false(ks_csrf_check(NULL, token));
    assert_false(ks_csrf_check("", token));
    token2[63] = token2[63] == '0' ? '1' : '0';  /* one digit off */
    assert_false(ks_csrf_check(secret, token2));
    char longer[80];
    snprintf(longer, sizeof longer, "%s00", token);
    assert_false(ks_csrf_check(secret, longer));
    /* the session hash stored in the database is not the token */
    char hash[KS_SESSION_HASH_HEX];
    ks_session_hash(secret, hash);
    assert_false(ks_csrf_check(secret, hash));
}

static void test_passwords(void **state)
{
    char hash[KS_PASSWORD_HASH_MAX], hash2[KS_PASSWORD_HASH_MAX];
    ks_err_t err = {{0}};
    const size_t mem = 8u << 20;
    (void)state;
    assert_int_equal(ks_password_hash("correct horse battery", 1, mem, hash, &err), KS_OK);
    assert_non_null(strstr(hash, "$argon2id$"));
    assert_true(ks_password_verify(hash, "correct horse battery"));
    assert_false(ks_password_verify(hash, "correct horse batterz"));
    assert_false(ks_password_verify(hash, ""));
    /* salted: the same password hashes differently */
    assert_int_equal(ks_password_hash("correct horse battery", 1, mem, hash2, &err), KS_OK);
    assert_string_not_equal(hash, hash2);
    /* rehash when the cost changes, not otherwise */
    assert_false(ks_password_needs_rehash(hash, 1, mem));
    assert_true(ks_password_needs_rehash(hash, 2, mem));
    assert_true(ks_password_needs_rehash(hash, 1, mem * 2));
    assert_true(ks_password_needs_rehash("not a hash", 1, mem));
    assert_int_equal(ks_password_check_policy("short", &err), KS_INVALID);
    assert_int_equal(ks_password_check_policy("long enough now", &err), KS_OK);
}

static void test_login_delay(void **state)
{
    (void)state;
    assert_int_equal(ks_login_delay(0, 3, 60), 0);
    assert_int_equal(ks_login_delay(2, 3, 60), 0);
    assert_int_equal(ks_login_delay(3, 3, 60), 1);
    assert_int_equal(ks_login_delay(4, 3, 60), 2);
    assert_int_equal(ks_login_delay(5, 3, 60), 4);
    assert_int_equal(ks_login_delay(8, 3, 60), 32);
    assert_int_equal(ks_login_delay(9, 3, 60), 60);     /* capped */
    assert_int_equal(ks_login_delay(1000000, 3, 60), 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_are_random_hex),
        cmocka_unit_test(test_id_validation),
        cmocka_unit_test(test_only_the_hash_is_stored),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_login_delay),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
