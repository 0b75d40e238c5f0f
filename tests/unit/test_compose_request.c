/* test_compose_request.c: unit tests of image-server/compose_request.c.
 *
 * One good request checked field by field, the z-order sort (stable for
 * ties), then a table of bad bodies, each with the code and the words its
 * message must contain (the line number among them).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose_request.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static ks_rc parse_kind(const char *body, ks_compose_kind_t kind, ks_compose_request_t **req,
                        ks_err_t *err)
{
    *req = malloc(sizeof **req);
    assert_non_null(*req);
    memset(err, 0, sizeof *err);
    return ks_compose_request_parse(body, strlen(body), kind, 2048, 1024, *req, err);
}

static ks_rc parse(const char *body, ks_compose_request_t **req, ks_err_t *err)
{
    return parse_kind(body, KS_REQUEST_COMPOSE, req, err);
}

static void test_thumb_preview_album(void **state)
{
    ks_compose_request_t *req;
    ks_err_t err;
    (void)state;

    assert_int_equal(parse("user_id a\nversion 1\ncanvas 240 320\nthumb 60 10 120 120 96 48\n"
                           "layer 1 0 0 0 0 " SHA_A, &req, &err), KS_OK);
    assert_true(req->has_thumb);
    assert_int_equal(req->thumb_x, 60);
    assert_int_equal(req->thumb_height, 120);
    assert_int_equal(req->thumb_out_height, 48);
    free(req);

    /* A preview needs no member; an album needs a scene but no layer. */
    assert_int_equal(parse_kind("canvas 10 10\nlayer 1 0 0 0 0 " SHA_A, KS_REQUEST_PREVIEW,
                                &req, &err), KS_OK);
    assert_string_equal(req->user_id, "");
    free(req);
    assert_int_equal(parse_kind("user_id bob\nphoto 17\ncanvas 640 480\nscene 3 " SHA_B
                                "\nbackground #204080\nquality 70", KS_REQUEST_ALBUM, &req, &err),
                     KS_OK);
    assert_int_equal(req->photo, 17);
    assert_int_equal(req->scene_id, 3);
    assert_string_equal(req->scene_sha256, SHA_B);
    assert_int_equal(req->background, 0x204080);
    assert_int_equal(req->quality, 70);
    assert_int_equal(req->layer_count, 0);
    free(req);
    assert_int_equal(parse_kind("user_id bob\nphoto 1\ncanvas 64 48\nscene 3 " SHA_B,
                                KS_REQUEST_ALBUM, &req, &err), KS_OK);
    assert_int_equal(req->background, 0xffffff);
    assert_int_equal(req->quality, 85);
    free(req);

    static const struct {
        const char *body;
        ks_compose_kind_t kind;
        const char *message;
    } bad[] = {
        {"user_id a\nversion 1\ncanvas 240 320\nthumb 200 10 120 120 96 96\nlayer 1 0 0 0 0 "
         SHA_A, KS_REQUEST_COMPOSE, "thumb region 200,10 120x120 is not inside the 240x320 canvas"},
        {"user_id a\nversion 1\ncanvas 240 320\nthumb 0 0 0 120 96 96", KS_REQUEST_COMPOSE,
         "line 4: thumb width \"0\" is not an integer in 1..2147483647"},
        {"user_id a\nversion 1\ncanvas 240 320\nthumb 0 0 1 1 5000 96", KS_REQUEST_COMPOSE,
         "line 4: thumb out_width \"5000\" is not an integer in 1..4096"},
        {"user_id a\nversion 1\ncanvas 9 9\nscene 3 " SHA_B, KS_REQUEST_COMPOSE,
         "line 4: scene is not a key of a compose request"},
        {"user_id a\nversion 1\ncanvas 9 9\nscene 3 " SHA_B, KS_REQUEST_ALBUM,
         "line 2: version is not a key of a album request"},
        {"user_id a\nphoto 1\ncanvas 9 9", KS_REQUEST_ALBUM, "album request has no scene"},
        {"user_id a\nphoto 1\ncanvas 9 9\nscene 3 " SHA_B "\nquality 101", KS_REQUEST_ALBUM,
         "line 5: quality value \"101\" is not an integer in 1..100"},
        {"user_id a\nphoto 1\ncanvas 9 9\nscene 3 " SHA_B "\nbackground red", KS_REQUEST_ALBUM,
         "line 5: background \"red\" is not #RRGGBB"},
        {"user_id a\nphoto 1\ncanvas 9 9\nscene 3 xyz", KS_REQUEST_ALBUM,
         "line 4: scene sha256 \"xyz\" is not 64 lowercase hex digits"},
        {"canvas 9 9", KS_REQUEST_PREVIEW, "preview request has no layer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse_kind(bad[i].body, bad[i].kind, &req, &err), KS_INVALID);
        assert_string_equal(err.msg, bad[i].message);
        free(req);
    }
}

static void test_good_request(void **state)
{
    ks_compose_request_t *req;
    ks_err_t err;
    const char *body = "user_id alice\n"
                       "version 3\n"
                       "canvas 240 320\n"
                       "layer 12 0 10 -5 7 " SHA_A "\n"
                       "\n"
                       "  layer\t13 1 -3 0 0 " SHA_B " #A0b0C0 \r\n"
                       "layer 2147483647 2147483647 2147483647 1048576 -1048576 " SHA_A;

    (void)state;
    assert_int_equal(parse(body, &req, &err), KS_OK);
    assert_string_equal(req->user_id, "alice");
    assert_int_equal(req->version, 3);
    assert_int_equal(req->width, 240);
    assert_int_equal(req->height, 320);
    assert_int_equal(req->layer_count, 3);
    /* sorted by z: -3, 10, 2147483647 */
    assert_int_equal(req->layers[0].item_id, 13);
    assert_int_equal(req->layers[0].layer_no, 1);
    assert_int_equal(req->layers[0].z_order, -3);
    assert_string_equal(req->layers[0].sha256, SHA_B);
    assert_int_equal(req->layers[0].tint, KS_TINT(0xa0b0c0));
    assert_int_equal(req->layers[1].tint, KS_TINT_NONE);
    assert_int_equal(req->layers[1].item_id, 12);
    assert_int_equal(req->layers[1].x, -5);
    assert_int_equal(req->layers[1].y, 7);
    assert_int_equal(req->layers[2].item_id, 2147483647);
    assert_int_equal(req->layers[2].x, 1048576);
    assert_int_equal(req->layers[2].y, -1048576);
    free(req);
}

static void test_frames(void **state)
{
    ks_compose_request_t *req;
    ks_err_t err;
    (void)state;

    assert_int_equal(parse("user_id a\nversion 2\ncanvas 240 320\nframes 500 120 500\n"
                           "layer 1 0 0 0 0 " SHA_A "\nflayer 1 2 0 5 1 2 " SHA_B " #102030\n"
                           "flayer 0 2 1 5 1 2 " SHA_A, &req, &err), KS_OK);
    assert_int_equal(req->frame_count, 3);
    assert_int_equal(req->delays_ms[0], 500);
    assert_int_equal(req->delays_ms[1], 120);
    assert_int_equal(req->layer_count, 3);
    assert_int_equal(req->layers[0].frame, -1);
    assert_int_equal(req->layers[1].frame, 1);             /* z 5, stable: in order given */
    assert_int_equal(req->layers[1].item_id, 2);
    assert_int_equal(req->layers[1].tint, KS_TINT(0x102030));
    assert_int_equal(req->layers[2].frame, 0);
    free(req);
    /* frames only on a compose request, and within the pixel budget */
    assert_int_equal(parse_kind("canvas 240 320\nframes 10 10\nlayer 1 0 0 0 0 " SHA_A,
                                KS_REQUEST_PREVIEW, &req, &err), KS_INVALID);
    free(req);
    assert_int_equal(parse("user_id a\nversion 2\ncanvas 2048 1024\nframes 10 10 10 10 10 10 10"
                           " 10 10\nlayer 1 0 0 0 0 " SHA_A, &req, &err), KS_TOOLARGE);
    free(req);
}

static void test_sort_is_stable(void **state)
{
    static const int z[] = {5, 1, 5, 1, 0, 5, -7, 1};
    static const int expected_items[] = {7, 5, 2, 4, 8, 1, 3, 6};   /* z, then given order */
    char body[4096];
    size_t used;
    ks_compose_request_t *req;
    ks_err_t err;

    (void)state;
    used = (size_t)snprintf(body, sizeof body, "user_id b\nversion 1\ncanvas 10 10\n");
    for (int i = 0; i < 8; i++)
        used += (size_t)snprintf(body + used, sizeof body - used, "layer %d 0 %d 0 0 %s\n",
                                 i + 1, z[i], SHA_A);
    assert_int_equal(parse(body, &req, &err), KS_OK);
    assert_int_equal(req->layer_count, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(req->layers[i].item_id, expected_items[i]);
    free(req);
}

static void test_layer_count_limit(void **state)
{
    size_t size = 300 * 100 + 100;
    char *body = malloc(size);
    size_t used;
    ks_compose_request_t *req;
    ks_err_t err;

    (void)state;
    assert_non_null(body);
    used = (size_t)snprintf(body, size, "user_id c\nversion 9\ncanvas 1 1\n");
    for (int i = 0; i < KS_COMPOSE_MAX_LAYERS; i++)
        used += (size_t)snprintf(body + used, size - used, "layer %d 0 0 0 0 %s\n", i + 1,
                                 SHA_A);
    assert_int_equal(parse(body, &req, &err), KS_OK);
    assert_int_equal(req->layer_count, KS_COMPOSE_MAX_LAYERS);
    free(req);

    snprintf(body + used, size - used, "layer 999 0 0 0 0 %s\n", SHA_A);
    assert_int_equal(parse(body, &req, &err), KS_TOOLARGE);
    assert_non_null(strstr(err.msg, "line 260"));
    assert_non_null(strstr(err.msg, "more than 256 layers"));
    free(req);
    free(body);
}

static void test_body_limits(void **state)
{
    char *body = malloc(KS_COMPOSE_MAX_BODY + 2);
    ks_compose_request_t *req = malloc(sizeof *req);
    ks_err_t err = {{0}};
    const char nul_body[] = "user_id a\nversion 1\0\ncanvas 1 1\n";

    (void)state;
    assert_non_null(body);
    assert_non_null(req);
    memset(body, '\n', KS_COMPOSE_MAX_BODY + 1);
    assert_int_equal(ks_compose_request_parse(body, KS_COMPOSE_MAX_BODY + 1, KS_REQUEST_COMPOSE, 10, 10, req, &err),
                     KS_TOOLARGE);
    /* Exactly at the limit is read (and fails for what it lacks, not its size). */
    assert_int_equal(ks_compose_request_parse(body, KS_COMPOSE_MAX_BODY, KS_REQUEST_COMPOSE, 10, 10, req, &err),
                     KS_INVALID);
    assert_non_null(strstr(err.msg, "no user_id"));
    assert_int_equal(ks_compose_request_parse(nul_body, sizeof nul_body - 1, KS_REQUEST_COMPOSE, 10, 10, req, &err),
                     KS_INVALID);
    assert_non_null(strstr(err.msg, "NUL"));
    assert_int_equal(ks_compose_request_parse("", 0, KS_REQUEST_COMPOSE, 10, 10, req, &err), KS_INVALID);
    free(req);
    free(body);
}

typedef struct {
    const char *body;
    ks_rc rc;
    const char *message;     /* must appear in err.msg */
} bad_case_t;

#define HEAD "user_id alice\nversion 3\ncanvas 240 320\n"
#define GOOD_LAYER "layer 12 0 10 0 0 " SHA_A "\n"

static const bad_case_t bad_cases[] = {
    /* missing keys */
    {"version 3\ncanvas 240 320\n" GOOD_LAYER, KS_INVALID, "no user_id"},
    {"user_id a\ncanvas 240 320\n" GOOD_LAYER, KS_INVALID, "no version"},
    {"user_id a\nversion 3\n" GOOD_LAYER, KS_INVALID, "no canvas"},
    {HEAD, KS_INVALID, "no layer"},
    /* repeated or unknown keys */
    {HEAD "user_id bob\n" GOOD_LAYER, KS_INVALID, "line 4: user_id given twice"},
    {HEAD "version 4\n" GOOD_LAYER, KS_INVALID, "line 4: version given twice"},
    {HEAD "canvas 1 1\n" GOOD_LAYER, KS_INVALID, "line 4: canvas given twice"},
    {HEAD GOOD_LAYER "colour red\n", KS_INVALID, "line 5: unknown key \"colour\""},
    {HEAD GOOD_LAYER "# a comment\n", KS_INVALID, "line 5: unknown key \"#\""},
    {"USER_ID alice\n", KS_INVALID, "line 1: unknown key \"USER_ID\""},
    /* word counts */
    {"user_id\n", KS_INVALID, "line 1: user_id takes 1 value"},
    {"user_id alice bob\n", KS_INVALID, "line 1: user_id takes 1 value (<user_id>), got 2"},
    {"version\n", KS_INVALID, "line 1: version takes 1 value"},
    {"canvas 240\n", KS_INVALID, "line 1: canvas takes 2 values"},
    {"canvas 240 320 1\n", KS_INVALID, "line 1: canvas takes 2 values"},
    {HEAD "layer 12 0 10 0 0\n", KS_INVALID, "line 4: layer takes 6 values"},
    {HEAD "layer 12 0 10 0 0 " SHA_A " extra\n", KS_INVALID, "line 4: tint \"extra\" is not"},
    {HEAD "layer 12 0 10 0 0 " SHA_A " #12345\n", KS_INVALID, "line 4: tint \"#12345\" is not"},
    {HEAD "layer 12 0 10 0 0 " SHA_A " #123456 extra\n", KS_INVALID,
     "line 4: layer takes 6 values"},
    {HEAD "layer 1 2 3 4 5 6 7 8 9\n", KS_INVALID, "line 4: layer takes 6 values"},
    {HEAD "frames 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10\n", KS_INVALID, "line 4: too many values"},
    {HEAD "frames 10\nlayer 1 0 0 0 0 " SHA_A "\n", KS_INVALID, "line 4: frames takes 2 values"},
    {HEAD "frames 10 0\nlayer 1 0 0 0 0 " SHA_A "\n", KS_INVALID, "frames delay \"0\""},
    {HEAD "frames 10 20\nframes 10 20\n", KS_INVALID, "line 5: frames given twice"},
    {HEAD "flayer 0 1 0 0 0 0 " SHA_A "\n", KS_INVALID, "is drawn in frame 0 of 0"},
    {HEAD "frames 10 20\nflayer 2 1 0 0 0 0 " SHA_A "\n", KS_INVALID, "frame 2 of 2"},
    {HEAD "frames 10 20\nflayer 64 1 0 0 0 0 " SHA_A "\n", KS_INVALID, "flayer frame \"64\""},
    /* user_id */
    {"user_id ../etc\n", KS_INVALID, "line 1: user_id \"../etc\" is not"},
    {"user_id .hidden\n", KS_INVALID, "user_id \".hidden\""},
    {"user_id a/b\n", KS_INVALID, "user_id \"a/b\""},
    {"user_id xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", KS_INVALID,
     "is not 1..64 characters"},
    /* numbers */
    {"version 0\n", KS_INVALID, "line 1: version number \"0\" is not an integer in 1..4294967295"},
    {"version 4294967296\n", KS_INVALID, "version number \"4294967296\""},
    {"version -1\n", KS_INVALID, "version number \"-1\""},
    {"version +3\n", KS_INVALID, "version number \"+3\""},
    {"version 3.0\n", KS_INVALID, "version number \"3.0\""},
    {"version 0x3\n", KS_INVALID, "version number \"0x3\""},
    {"version -\n", KS_INVALID, "version number \"-\""},
    {"version 99999999999999999999999999\n", KS_INVALID, "version number"},
    {"canvas 0 320\n", KS_INVALID, "line 1: canvas width \"0\""},
    {"canvas 240 -1\n", KS_INVALID, "line 1: canvas height \"-1\""},
    {"canvas 2049 320\n", KS_TOOLARGE, "line 1: canvas 2049x320 is over the limit of 2048x1024"},
    {"canvas 240 1025\n", KS_TOOLARGE, "canvas 240x1025 is over"},
    {HEAD "layer 0 0 10 0 0 " SHA_A "\n", KS_INVALID, "line 4: layer item_id \"0\""},
    {HEAD "layer -12 0 10 0 0 " SHA_A "\n", KS_INVALID, "layer item_id \"-12\""},
    {HEAD "layer 2147483648 0 10 0 0 " SHA_A "\n", KS_INVALID, "item_id \"2147483648\""},
    {HEAD "layer 12 -1 10 0 0 " SHA_A "\n", KS_INVALID, "layer layer_no \"-1\""},
    {HEAD "layer 12 0 2147483648 0 0 " SHA_A "\n", KS_INVALID, "layer z_order \"2147483648\""},
    {HEAD "layer 12 0 -2147483649 0 0 " SHA_A "\n", KS_INVALID, "z_order \"-2147483649\""},
    {HEAD "layer 12 0 1 1048577 0 " SHA_A "\n", KS_INVALID, "layer x \"1048577\""},
    {HEAD "layer 12 0 1 0 -1048577 " SHA_A "\n", KS_INVALID, "layer y \"-1048577\""},
    {HEAD "layer 12 0 1 0 1e3 " SHA_A "\n", KS_INVALID, "layer y \"1e3\""},
    /* sha256 */
    {HEAD "layer 12 0 1 0 0 " SHA_A "a\n", KS_INVALID, "line 4: layer sha256"},
    {HEAD "layer 12 0 1 0 0 ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n",
     KS_INVALID, "is not 64 lowercase hex digits"},
    {HEAD "layer 12 0 1 0 0 xyz\n", KS_INVALID, "sha256 \"xyz\""},
    /* bytes */
    {"user_id alice\rversion 3\n", KS_INVALID, "line 1: unexpected byte 0x0d"},
    {"user_id al\x01ice\n", KS_INVALID, "line 1: unexpected byte 0x01"},
    {"user_id caf\xc3\xa9\n", KS_INVALID, "unexpected byte 0xc3"},
};

static void test_bad_requests(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        ks_compose_request_t *req;
        ks_err_t err;
        ks_rc rc = parse(bad_cases[i].body, &req, &err);
        if (rc != bad_cases[i].rc || strstr(err.msg, bad_cases[i].message) == NULL) {
            print_error("case %zu: got %d \"%s\", expected %d with \"%s\"\n", i, rc, err.msg,
                        bad_cases[i].rc, bad_cases[i].message);
            free(req);
            fail();
        }
        free(req);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thumb_preview_album),
        cmocka_unit_test(test_good_request),
        cmocka_unit_test(test_sort_is_stable),
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_layer_count_limit),
        cmocka_unit_test(test_body_limits),
        cmocka_unit_test(test_bad_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
