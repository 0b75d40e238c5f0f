/* walkthrough.c (kisekae-sample-c): every site operation of the kisekae API
 * through kisekae_client.h, against a live stack, checking each answer.
 *
 *   KISEKAE_API_URLS="http://api1/ http://api2/" KISEKAE_SITE_USER=site \
 *   KISEKAE_SITE_PASSWORD=... [KISEKAE_SAMPLE_RUN=tag] kisekae-sample-c
 *
 * It picks two published items (not a default item, not of a required
 * category) and a scene from the stack's catalog, creates a member and a
 * friend (walk-c-<run>-a and -b), dresses, previews, photographs and finally
 * deletes them. It also colours a tintable item (the sample catalog's hair)
 * and checks a signed webhook payload with kisekae_webhook_verify (good,
 * tampered, stale). One line per operation; the last line is
 * "walkthrough c: passed (N operations)" and the exit status 0, or
 * "FAIL <operation>: <why>" and exit status 1. Images are downloaded with
 * gSOAP's HTTP GET, so the program needs nothing but gSOAP (and libsodium,
 * for the library's signature check).
 *
 *   kisekae-sample-c --verify-webhook SECRET SIGNATURE < BODY
 *
 * checks one webhook request as a site's handler would: exit 0 and
 * "accepted" when SIGNATURE (the X-Kisekae-Signature header) signs the bytes
 * on standard input under SECRET within the tolerance, else exit 1 and
 * "refused".
 */
#define _POSIX_C_SOURCE 200809L         /* strtok_r, nanosleep, getpid */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kisekae_client.h"
#include "soapH.h"

#define MAX_URLS 16
#define TRIES 30                        /* reads repeated while a replica catches up */

static int operations;
static kisekae_client_t *kisekae;
static const char *members[2];          /* created, deleted at the end (or on failure) */
static int member_count;

static void ok(const char *operation, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const char *operation, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static void check(int cond, const char *operation, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ok(const char *operation, const char *fmt, ...)
{
    va_list ap;

    operations++;
    printf("ok   %-17s ", operation);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static void fail(const char *operation, const char *fmt, ...)
{
    kisekae_error_t err;
    va_list ap;

    printf("FAIL %s: ", operation);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    /* leave nothing behind; errors here change nothing to the verdict */
    for (int i = 0; i < member_count; i++)
        kisekae_delete_avatar(kisekae, members[i], NULL, &err);
    kisekae_client_free(kisekae);
    exit(1);
}

static void check(int cond, const char *operation, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (cond)
        ok(operation, "%s", text);
    else
        fail(operation, "%s", text);
}

/* Fails the operation with the error of a call that returned -1. */
static void must(int rc, const kisekae_error_t *err)
{
    if (rc != 0)
        fail(err->operation, "%s: %s (%s)", err->code, err->message, err->url);
}

/* Reads go to database replicas, which may be a moment behind the master:
 * after a write, a read is repeated until its answer shows the write. Counts
 * a try, sleeps 0.1 s and returns 1 while tries remain. */
static int again(int *tries)
{
    struct timespec pause = {0, 100 * 1000 * 1000};

    if (++*tries >= TRIES)
        return 0;
    nanosleep(&pause, NULL);
    return 1;
}

/* A call that must fail with code want: rc and err are its outcome. Returns
 * 1 when it did (and prints the ok line), 0 when it succeeded (the caller
 * tries again while a replica catches up); fails on another error. */
static int faulted(int rc, const kisekae_error_t *err, const char *want)
{
    if (rc == 0)
        return 0;
    if (strcmp(err->code, want) != 0)
        fail(err->operation, "expected the fault %s, got %s: %s", want, err->code, err->message);
    ok(err->operation, "fault %s: %s", want, err->message);
    return 1;
}

static const char *env(const char *name)
{
    const char *value = getenv(name);

    if (!value || !*value) {
        fprintf(stderr, "kisekae-sample-c: %s is not set\n", name);
        exit(2);
    }
    return value;
}

static int has(const int *list, int count, int id)
{
    for (int i = 0; i < count; i++)
        if (list[i] == id)
            return 1;
    return 0;
}

/* "1 3 12": a list of ids as text. */
static const char *ids(char *buf, size_t size, const int *list, int count)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < count && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%d", i ? " " : "", list[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    return buf;
}

/* width x height from a PNG's IHDR; 0 x 0 if data is no PNG. */
static void png_size(const unsigned char *png, size_t size, unsigned *width, unsigned *height)
{
    int is_png = png && size >= 24 && !memcmp(png, "\x89PNG\r\n\x1a\n", 8) &&
                 !memcmp(png + 12, "IHDR", 4);

    *width = is_png ? (unsigned)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19] : 0;
    *height = is_png ? (unsigned)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23] : 0;
}

/* GETs url with gSOAP; returns the HTTP status (0: no answer), the body in
 * the http context's memory (valid until its next soap_end). */
static int download(struct soap *http, const char *url, const unsigned char **body, size_t *size)
{
    soap_end(http);
    *body = NULL;
    *size = 0;
    if (soap_GET(http, url, NULL) != SOAP_OK || soap_begin_recv(http) != SOAP_OK) {
        int status = http->error >= 100 && http->error < 600 ? http->error : 0;
        soap_closesock(http);
        return status;
    }
    *body = (const unsigned char *)soap_http_get_body(http, size);
    if (soap_end_recv(http) != SOAP_OK || !*body) {
        soap_closesock(http);
        return 0;
    }
    return 200;
}

/* --verify-webhook SECRET SIGNATURE: the body on standard input (at most
 * 64 KiB, the largest a webhook sends and more). */
static int verify_webhook(const char *secret, const char *signature)
{
    static char body[64 * 1024 + 1];
    size_t size = fread(body, 1, sizeof body, stdin);

    if (size == sizeof body || ferror(stdin)) {
        fprintf(stderr, "kisekae-sample-c: the body on standard input is over 64 KiB\n");
        return 2;
    }
    if (!kisekae_webhook_verify(body, size, signature, secret, 0, 0)) {
        printf("refused\n");
        return 1;
    }
    printf("accepted\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *urls[MAX_URLS];
    char url_list[4096], run[64], member[128], friend[128], missing[128], text[512];
    kisekae_options_t options = {0};
    kisekae_error_t err;
    struct soap *http;
    unsigned canvas_w = 0, canvas_h = 0, width, height;
    const unsigned char *body;
    size_t body_size;
    int status, tries;

    if (argc == 4 && !strcmp(argv[1], "--verify-webhook"))
        return verify_webhook(argv[2], argv[3]);
    if (argc > 1) {
        fprintf(stderr, "usage: kisekae-sample-c   (with KISEKAE_API_URLS, KISEKAE_SITE_USER, "
                        "KISEKAE_SITE_PASSWORD, optionally KISEKAE_SAMPLE_RUN)\n"
                        "       kisekae-sample-c --verify-webhook SECRET SIGNATURE < BODY\n");
        return strcmp(argv[1], "--help") ? 2 : 0;
    }
    snprintf(url_list, sizeof url_list, "%s", env("KISEKAE_API_URLS"));
    for (char *save = NULL, *url = strtok_r(url_list, " \t\n", &save);
         url && options.url_count < MAX_URLS; url = strtok_r(NULL, " \t\n", &save))
        urls[options.url_count++] = url;
    options.urls = urls;
    options.user = env("KISEKAE_SITE_USER");
    options.password = env("KISEKAE_SITE_PASSWORD");
    if (getenv("KISEKAE_SAMPLE_RUN") && *getenv("KISEKAE_SAMPLE_RUN"))
        snprintf(run, sizeof run, "%s", getenv("KISEKAE_SAMPLE_RUN"));
    else
        snprintf(run, sizeof run, "%ld-%d", (long)time(NULL), (int)getpid());
    if (getenv("KISEKAE_CANVAS") && sscanf(getenv("KISEKAE_CANVAS"), "%ux%u", &canvas_w,
                                           &canvas_h) != 2)
        canvas_w = canvas_h = 0;
    snprintf(member, sizeof member, "walk-c-%s-a", run);
    snprintf(friend, sizeof friend, "walk-c-%s-b", run);
    snprintf(missing, sizeof missing, "walk-c-%s-nobody", run);

    kisekae = kisekae_client_new(&options, &err);
    if (!kisekae) {
        fprintf(stderr, "kisekae-sample-c: %s: %s\n", err.code, err.message);
        return 2;
    }
    http = soap_new1(SOAP_IO_KEEPALIVE);
    if (!http)
        fail("setup", "out of memory");
    http->connect_timeout = 10;
    http->recv_timeout = http->send_timeout = 30;

    /* ---- the catalog: categories, items, one item, scenes */
    kisekae_categories_t categories, named;
    must(kisekae_list_categories(kisekae, NULL, &categories, &err), &err);
    check(categories.count > 0, "ListCategories", "%d categories, the first \"%s\"",
          categories.count, categories.count ? categories.categories[0].name : "");
    must(kisekae_list_categories(kisekae, categories.categories[0].name, &named, &err), &err);
    check(named.count == 1 && named.categories[0].id == categories.categories[0].id,
          "ListCategories", "name \"%s\": a list of one, id %d", categories.categories[0].name,
          named.count ? named.categories[0].id : 0);

    kisekae_items_t page;
    int published = 1;
    must(kisekae_list_items(kisekae, 0, 0, 100, &page, &err), &err);
    for (int i = 0; i < page.count; i++)
        published = published && !strcmp(page.items[i].status, "published");
    check(page.count > 0 && page.total >= page.count && published, "ListItems",
          "%d of %d published items", page.count, page.total);
    /* two items a member may put on and take off: not a default item, not of
     * a required category, of two different categories */
    const kisekae_item_t *item_x = NULL, *item_y = NULL;
    for (int i = 0; i < page.count && !item_y; i++) {
        const kisekae_item_t *item = &page.items[i];
        int optional = 1;
        for (int c = 0; c < categories.count; c++) {
            const kisekae_category_t *category = &categories.categories[c];
            if ((category->id == item->category_id && category->required) ||
                category->default_item_id == item->id)
                optional = 0;
        }
        if (!optional)
            continue;
        if (!item_x)
            item_x = item;
        else if (item->category_id != item_x->category_id)
            item_y = item;
    }
    if (!item_y)
        fail("ListItems", "the catalog needs two optional items of two categories");
    int x = item_x->id, y = item_y->id;

    kisekae_item_t item;
    must(kisekae_get_item(kisekae, x, &item, &err), &err);
    check(item.id == x && !strcmp(item.name, item_x->name) && item.layer_count >= 1 &&
              item.layers[0].width > 0,
          "GetItem", "item %d \"%s\", %d layer(s)", x, item.name, item.layer_count);

    kisekae_scenes_t scenes;
    must(kisekae_list_scenes(kisekae, &scenes, &err), &err);
    if (scenes.count == 0)
        fail("ListScenes", "no scene in the catalog: an admin must register one (RegisterScene)");
    const kisekae_scene_t *scene = &scenes.scenes[0];
    for (int i = 0; i < scenes.count; i++)
        if (scenes.scenes[i].slot_count >= 2) {
            scene = &scenes.scenes[i];
            break;
        }
    ok("ListScenes", "%d scene(s); using %d \"%s\" with %d slot(s)", scenes.count, scene->id,
       scene->name, scene->slot_count);

    /* ---- members */
    kisekae_avatar_t avatar;
    must(kisekae_create_avatar(kisekae, member, NULL, &avatar, &err), &err);
    members[member_count++] = member;
    check(avatar.version == 1 && !strcmp(avatar.user_id, member), "CreateAvatar",
          "%s version 1 on %s, wearing %s", member, avatar.image_server,
          ids(text, sizeof text, avatar.worn_item_ids, avatar.worn_count));
    must(kisekae_create_avatar(kisekae, friend, NULL, &avatar, &err), &err);
    members[member_count++] = friend;
    check(avatar.version == 1, "CreateAvatar", "%s version 1", friend);

    size_t url_len;
    must(kisekae_get_avatar(kisekae, member, 1, &avatar, &err), &err);
    url_len = strlen(avatar.url);
    check(avatar.version == 1 && url_len > 6 && !strcmp(avatar.url + url_len - 6, "/1.png"),
          "GetAvatar", "version %d, %s", avatar.version, avatar.url);

    /* ---- the outfit */
    if (!faulted(kisekae_change_outfit(kisekae, member, &x, 1, NULL, 0, NULL, 0, &avatar, &err),
                 &err, "NotOwned"))
        fail("ChangeOutfit", "succeeded; expected the fault NotOwned");

    kisekae_grant_t granted;
    must(kisekae_grant_item(kisekae, member, x, &granted, &err), &err);
    check(granted.item_id == x && !granted.already_owned, "GrantItem",
          "item %d, already_owned 0", x);
    must(kisekae_grant_item(kisekae, member, x, &granted, &err), &err);
    check(granted.already_owned, "GrantItem", "item %d again, already_owned 1", x);
    must(kisekae_grant_item(kisekae, member, y, &granted, &err), &err);
    ok("GrantItem", "item %d", y);

    kisekae_member_items_t owned;
    int owned_ids[128], worn_ids[128], owned_count, worn_count;
    tries = 0;
    do {
        must(kisekae_list_member_items(kisekae, member, 0, 0, 0, &owned, &err), &err);
        owned_count = worn_count = 0;
        for (int i = 0; i < owned.count && i < 128; i++) {
            owned_ids[owned_count++] = owned.items[i].item_id;
            if (owned.items[i].worn)
                worn_ids[worn_count++] = owned.items[i].item_id;
        }
    } while (!has(owned_ids, owned_count, y) && again(&tries));
    check(owned.total == owned_count && has(owned_ids, owned_count, x) &&
              has(owned_ids, owned_count, y) && !has(worn_ids, worn_count, x) &&
              !has(worn_ids, worn_count, y),
          "ListMemberItems", "total %d: %s (the default items too), worn: %s", owned.total,
          ids(text, sizeof text, owned_ids, owned_count),
          ids(text + 256, sizeof text - 256, worn_ids, worn_count));

    must(kisekae_change_outfit(kisekae, member, &x, 1, NULL, 0, NULL, 0, &avatar, &err), &err);
    check(avatar.version == 2 && has(avatar.worn_item_ids, avatar.worn_count, x), "ChangeOutfit",
          "version %d, wearing %s", avatar.version,
          ids(text, sizeof text, avatar.worn_item_ids, avatar.worn_count));

    must(kisekae_get_avatar(kisekae, member, 2, &avatar, &err), &err);
    status = download(http, avatar.url, &body, &body_size);
    png_size(body, body_size, &width, &height);
    if (!canvas_w) {
        canvas_w = width;
        canvas_h = height;
    }
    check(avatar.version == 2 && status == 200 && width && width == canvas_w &&
              height == canvas_h,
          "GetAvatar", "version 2; %s: HTTP %d, PNG %ux%u", avatar.url, status, width, height);

    kisekae_avatars_t batch;
    const char *asked[] = {member, friend, missing};
    tries = 0;
    do
        must(kisekae_get_avatars(kisekae, asked, 3, &batch, &err), &err);
    while (!(batch.count == 2 && batch.avatars[0].version == 2) && again(&tries));
    check(batch.count == 2 && !strcmp(batch.avatars[0].user_id, member) &&
              !strcmp(batch.avatars[1].user_id, friend) && batch.missing_count == 1 &&
              !strcmp(batch.missing_user_ids[0], missing),
          "GetAvatars", "2 avatars in the order asked; missing_user_ids, a list of one: [%s]",
          batch.missing_count ? batch.missing_user_ids[0] : "");

    kisekae_preview_t preview;
    tries = 0;
    do
        must(kisekae_preview_avatar(kisekae, member, &y, 1, NULL, 0, NULL, 0, &preview, &err),
             &err);
    while (!has(preview.worn_item_ids, preview.worn_count, x) && again(&tries));
    png_size(preview.png, preview.png_size, &width, &height);
    must(kisekae_get_avatar(kisekae, member, 2, &avatar, &err), &err);
    check(width == canvas_w && height == canvas_h &&
              has(preview.worn_item_ids, preview.worn_count, x) &&
              has(preview.worn_item_ids, preview.worn_count, y) && avatar.version == 2,
          "PreviewAvatar", "PNG %ux%u (%zu bytes), wearing %s; the avatar still at version %d",
          width, height, preview.png_size,
          ids(text, sizeof text, preview.worn_item_ids, preview.worn_count), avatar.version);

    kisekae_revoke_t revoked;
    must(kisekae_revoke_item(kisekae, member, x, &revoked, &err), &err);
    check(revoked.was_owned && revoked.was_worn && revoked.avatar.version == 3 &&
              !has(revoked.avatar.worn_item_ids, revoked.avatar.worn_count, x),
          "RevokeItem", "item %d was worn; version 3, wearing %s", x,
          ids(text, sizeof text, revoked.avatar.worn_item_ids, revoked.avatar.worn_count));

    must(kisekae_regenerate_avatar(kisekae, member, &avatar, &err), &err);
    url_len = strlen(avatar.url);
    check(avatar.version == 4 && url_len > 6 && !strcmp(avatar.url + url_len - 6, "/4.png"),
          "RegenerateAvatar", "version %d", avatar.version);

    /* ---- the album */
    kisekae_photo_t photo;
    const char *friends[] = {friend};
    int friend_count = scene->slot_count >= 2 ? 1 : 0;
    char caption[128];
    snprintf(caption, sizeof caption, "walkthrough c %s", run);
    must(kisekae_create_album_photo(kisekae, member, scene->id, friends, friend_count, caption,
                                    &photo, &err), &err);
    status = download(http, photo.url, &body, &body_size);
    check(photo.scene_id == scene->id && photo.member_count == 1 + friend_count &&
              photo.members[0].slot == 0 && !strcmp(photo.members[0].user_id, member) &&
              status == 200 && body_size >= 3 && !memcmp(body, "\xff\xd8\xff", 3),
          "CreateAlbumPhoto", "photo %d with %d member(s); %s: HTTP %d, %zu bytes of JPEG",
          photo.id, photo.member_count, photo.url, status, body_size);

    kisekae_photos_t album;
    tries = 0;
    do
        must(kisekae_list_album_photos(kisekae, member, 0, 0, &album, &err), &err);
    while (album.total != 1 && again(&tries));
    check(album.total == 1 && album.count == 1 && album.photos[0].id == photo.id,
          "ListAlbumPhotos", "total 1, a list of one: photo %d",
          album.count ? album.photos[0].id : 0);

    must(kisekae_delete_album_photo(kisekae, member, photo.id, &err), &err);
    tries = 0;
    do
        must(kisekae_list_album_photos(kisekae, member, 0, 0, &album, &err), &err);
    while (album.total != 0 && again(&tries));
    check(album.total == 0 && album.count == 0 && album.photos == NULL, "DeleteAlbumPhoto",
          "photo %d; the album is empty (count 0)", photo.id);

    /* ---- tints: a worn item's tintable layers in any colour */
    const kisekae_item_t *hair = NULL;
    for (int i = 0; i < page.count && !hair; i++) {
        int tintable = page.items[i].layer_count > 0;
        for (int l = 0; l < page.items[i].layer_count; l++)
            tintable = tintable && page.items[i].layers[l].tintable;
        if (tintable)
            hair = &page.items[i];
    }
    if (!hair)
        fail("ListItems", "the catalog has no tintable item (the sample catalog's hair is)");
    int h = hair->id;
    const char *tint;
    must(kisekae_grant_item(kisekae, friend, h, &granted, &err), &err);
    kisekae_colour_t blue = {h, "#3366cc"}, red = {h, "#CC3333"}, bad = {h, "blue"};
    must(kisekae_change_outfit(kisekae, friend, &h, 1, NULL, 0, &blue, 1, &avatar, &err), &err);
    tint = kisekae_colour_of(avatar.colours, avatar.colour_count, h);
    check(has(avatar.worn_item_ids, avatar.worn_count, h) && avatar.colour_count == 1 && tint &&
              !strcmp(tint, "#3366CC"),
          "ChangeOutfit", "item %d \"%s\" in #3366cc: version %d, tint %s, %s, animUrl %s", h,
          hair->name, avatar.version, tint ? tint : "none", avatar.url,
          avatar.anim_url ? avatar.anim_url : "(none: no animated item worn)");
    int tinted_version = avatar.version;
    must(kisekae_get_avatar(kisekae, friend, tinted_version, &avatar, &err), &err);
    tint = kisekae_colour_of(avatar.colours, avatar.colour_count, h);
    check(tint && !strcmp(tint, "#3366CC"), "GetAvatar", "version %d: tint %s", avatar.version,
          tint ? tint : "none");
    status = download(http, avatar.url, &body, &body_size);
    png_size(body, body_size, &width, &height);
    check(status == 200 && width == canvas_w && height == canvas_h, "download",
          "the tinted avatar: HTTP %d, %zu bytes of PNG", status, body_size);
    must(kisekae_preview_avatar(kisekae, friend, NULL, 0, NULL, 0, &red, 1, &preview, &err), &err);
    tint = kisekae_colour_of(preview.colours, preview.colour_count, h);
    png_size(preview.png, preview.png_size, &width, &height);
    check(width == canvas_w && tint && !strcmp(tint, "#CC3333"), "PreviewAvatar",
          "item %d in #CC3333: PNG %zu bytes, tint %s", h, preview.png_size, tint ? tint : "none");
    check(kisekae_change_outfit(kisekae, friend, NULL, 0, NULL, 0, &bad, 1, &avatar, &err) != 0 &&
              !strcmp(err.code, "InvalidArgument") && err.http_status == 0 && !err.url[0],
          "ChangeOutfit", "colour \"blue\": refused by the client (%s, not sent: %s)", err.code,
          err.message);

    /* ---- webhooks: a site checks X-Kisekae-Signature before it trusts a body */
    const char *secret = "whsec-sample-0123456789abcdef";
    char webhook_body[] = "{\"id\":\"42\",\"type\":\"avatar.changed\",\"created\":"
                          "\"2026-01-01T00:00:00Z\",\"data\":{\"userId\":\"alice\",\"version\":3}}";
    const time_t signed_at = 1767225600;
    const char *header = "t=1767225600,"
                         "v1=8ec7ab68efae06b67c561de35c7c360266a5d4c49646c37f96289724d4ca7e53";
    size_t webhook_size = strlen(webhook_body);
    check(kisekae_webhook_verify(webhook_body, webhook_size, header, secret, 0, signed_at + 60),
          "webhook", "a signed sample payload, a minute after t=%ld: accepted", (long)signed_at);
    char *version = strstr(webhook_body, "\"version\":3");
    if (!version)
        fail("webhook", "the sample body has no \"version\":3");
    version[strlen("\"version\":")] = '4';
    check(!kisekae_webhook_verify(webhook_body, webhook_size, header, secret, 0, signed_at + 60),
          "webhook", "a tampered body (\"version\":4): refused");
    version[strlen("\"version\":")] = '3';
    check(!kisekae_webhook_verify(webhook_body, webhook_size, header,
                                  "whsec-another-0123456789abcdef", 0, signed_at + 60),
          "webhook", "another secret: refused");
    check(!kisekae_webhook_verify(webhook_body, webhook_size, header, secret, 0, 0), "webhook",
          "the same payload now, long after t=%ld: refused (older than %d s)", (long)signed_at,
          KISEKAE_WEBHOOK_TOLERANCE);

    /* ---- faults and the end */
    tries = 0;
    while (!faulted(kisekae_get_avatar(kisekae, missing, 0, &avatar, &err), &err, "NotFound"))
        if (!again(&tries))
            fail("GetAvatar", "%s: succeeded; expected the fault NotFound", missing);
    for (int i = member_count - 1; i >= 0; i--) {
        int photos_deleted = -1;
        must(kisekae_delete_avatar(kisekae, members[i], &photos_deleted, &err), &err);
        check(photos_deleted >= 0, "DeleteAvatar", "%s, %d album photo(s) deleted", members[i],
              photos_deleted);
    }
    member_count = 0;
    tries = 0;
    while (!faulted(kisekae_get_avatar(kisekae, member, 0, &avatar, &err), &err, "NotFound"))
        if (!again(&tries))
            fail("GetAvatar", "%s: succeeded after DeleteAvatar", member);

    soap_destroy(http);
    soap_end(http);
    soap_free(http);
    kisekae_client_free(kisekae);
    printf("walkthrough c: passed (%d operations)\n", operations);
    return 0;
}
