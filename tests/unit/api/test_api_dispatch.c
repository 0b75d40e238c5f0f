/* test_api_dispatch.c: unit tests of api-server/dispatch.c's routing: every
 * operation of wsdl/kisekae.h reaches its handler, which admits the roles
 * its documentation names ("site:", "admin:", "node, admin:" at the start
 * of the comment above it) and refuses the others with Forbidden; a call
 * without credentials is refused with Unauthorized (HTTP 401); an unknown
 * operation, a GET of the WSDL and XML too deep are answered as documented.
 *
 * The requests are soapcpp2's sample messages of each operation (every
 * element present: they pass the strict parser), served through
 * ks_api_serve_request as the FastCGI transport does, answers captured from
 * soap->fsend. The callers are remembered by the worker thread's
 * authentication memory (ks_auth_remember), so no row is read; what an
 * admitted call does next needs the database, which is a closed port here
 * (DatabaseUnavailable), or fails the handler's own checks (the samples'
 * values are empty): neither is Unauthorized, nor Forbidden for the role.
 *
 * Environment: KS_SOAP_SAMPLES (the folder of Kisekae.OP.req.xml) and
 * KS_WSDL_HEADER (wsdl/kisekae.h), set by ctest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_conf.h"
#include "auth.h"
#include "dispatch.h"
#include "log.h"

#define OPS_MAX 128
#define ROLE_MESSAGE "may not call this operation"

typedef struct {
    char name[64];
    unsigned roles;                /* the documented ones (admin implies site) */
    char *request;                 /* the sample message */
} op_t;

static struct {
    ks_api_conf_t conf;
    ks_db_pool_t *pool;
    ks_api_ctx_t ctx;
    struct soap *soap;
    ks_buf_t answer;
    op_t ops[OPS_MAX];
    int op_count;
} t;

static int capture(struct soap *soap, const char *s, size_t n)
{
    (void)soap;
    ks_buf_append(&t.answer, s, n);
    return SOAP_OK;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)size + 1))) {
        if (fread(text, 1, (size_t)size, f) != (size_t)size) {
            free(text);
            text = NULL;
        } else {
            text[size] = '\0';
        }
    }
    fclose(f);
    return text;
}

/* The roles the comment right above "int ks__<op>(" names before its ':'. */
static unsigned documented_roles(const char *header, const char *op)
{
    char decl[96];
    const char *at, *end, *start, *colon;
    unsigned roles = 0;

    snprintf(decl, sizeof decl, "\nint ks__%s(", op);
    if (!(at = strstr(header, decl)))
        return 0;
    for (end = at; end > header && (end[-1] == '\n' || end[-1] == ' '); end--)
        ;
    if (end - header < 2 || strncmp(end - 2, "*/", 2) != 0)
        return 0;
    for (start = end - 2; start > header && strncmp(start, "/*", 2) != 0; start--)
        ;
    colon = strchr(start, ':');
    if (!colon || colon > end)
        return 0;
    for (const char *p = start + 2; p < colon; p++) {
        if (!strncmp(p, "site", 4))
            roles |= KS_ROLE_SITE;
        else if (!strncmp(p, "admin", 5))
            roles |= KS_ROLE_ADMIN;
        else if (!strncmp(p, "node", 4))
            roles |= KS_ROLE_NODE;
    }
    return roles;
}

static int setup(void **state)
{
    const char *overrides[] = {"db_master=127.0.0.1:1", "db_connect_timeout=1",
                               "auth_recheck_ms=60000"};
    const char *samples = getenv("KS_SOAP_SAMPLES"), *header_path = getenv("KS_WSDL_HEADER");
    char proof[KS_SHA256_HEX_SIZE], path[1024];
    char *header;
    struct dirent *entry;
    DIR *dir;
    ks_err_t err;

    (void)state;
    if (!samples || !header_path || !(header = read_file(header_path)) ||
        !(dir = opendir(samples))) {
        fprintf(stderr, "set KS_SOAP_SAMPLES and KS_WSDL_HEADER (ctest does)\n");
        return -1;
    }
    while ((entry = readdir(dir)) && t.op_count < OPS_MAX) {
        size_t len = strlen(entry->d_name);
        op_t *op = &t.ops[t.op_count];

        if (strncmp(entry->d_name, "Kisekae.", 8) != 0 || len < 16 ||
            strcmp(entry->d_name + len - 8, ".req.xml") != 0 || len - 16 >= sizeof op->name)
            continue;
        memcpy(op->name, entry->d_name + 8, len - 16);
        op->name[len - 16] = '\0';
        op->roles = documented_roles(header, op->name);
        snprintf(path, sizeof path, "%s/%s", samples, entry->d_name);
        if (!(op->request = read_file(path)))
            return -1;
        t.op_count++;
    }
    closedir(dir);
    free(header);

    ks_log_open("test_api_dispatch", "-", KS_LOG_ERROR);
    if (ks_api_conf_load(&t.conf, NULL, overrides, 3, &err) != KS_OK ||
        !(t.pool = ks_db_pool_new(&t.conf.db)) ||
        !(t.soap = ks_api_worker_new(&t.conf, t.pool, &t.ctx)))
        return -1;
    t.ctx.cgi = 1;
    t.soap->fsend = capture;
    ks_buf_init(&t.answer, 1 << 20);
    ks_auth_proof("t-site", "site secret", proof);
    ks_auth_remember("t-site", proof, 1, ks_auth_role_bits("site"), "");
    ks_auth_proof("t-admin", "admin secret", proof);
    ks_auth_remember("t-admin", proof, 1, ks_auth_role_bits("admin"), "");
    ks_auth_proof("t-node", "node secret", proof);
    ks_auth_remember("t-node", proof, 1, ks_auth_role_bits("node"), "img1");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ks_api_worker_free(t.soap, &t.ctx);
    ks_db_pool_free(t.pool);
    ks_buf_free(&t.answer);
    for (int i = 0; i < t.op_count; i++)
        free(t.ops[i].request);
    return 0;
}

/* Serves method path with body as user:password (user NULL: none); the
 * answer is in t.answer; returns its status. */
static int serve(const char *method, const char *path, const char *body, const char *user,
                 const char *password)
{
    char auth[300] = "", head[600], pair[200];
    int keep_alive = 1, status = 0;

    if (user) {
        int n = snprintf(pair, sizeof pair, "%s:%s", user, password);
        snprintf(auth, sizeof auth, "Authorization: Basic %s\r\n",
                 soap_s2base64(t.soap, (const unsigned char *)pair, NULL, n));
    }
    snprintf(head, sizeof head,
             "%s %s HTTP/1.1\r\nHost: api.test\r\n%sContent-Type: text/xml; charset=utf-8\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
             method, path, auth, strlen(body));
    ks_buf_reset(&t.answer);
    t.ctx.head = head;
    t.ctx.head_len = strlen(head);
    t.ctx.body = body;
    t.ctx.body_len = strlen(body);
    ks_api_serve_request(t.soap, &keep_alive);
    ks_buf_append(&t.answer, "", 1);
    if (t.answer.data)
        sscanf(t.answer.data, "Status: %d", &status);
    return status ? status : 200;
}

/* The KisekaeFault code of the answer (copied into code), or "" for none. */
static const char *fault_code(char *code, size_t size)
{
    const char *at = t.answer.data ? strstr(t.answer.data, "<ks:code>") : NULL;
    const char *end = at ? strstr(at, "</ks:code>") : NULL;

    code[0] = '\0';
    if (at && end && (size_t)(end - at - 9) < size) {
        memcpy(code, at + 9, (size_t)(end - at - 9));
        code[end - at - 9] = '\0';
    }
    return code;
}

static void test_every_operation_has_a_sample_and_documented_roles(void **state)
{
    (void)state;
    assert_true(t.op_count >= 41);
    for (int i = 0; i < t.op_count; i++)
        if (!t.ops[i].roles)
            fail_msg("%s: no role at the start of its comment in wsdl/kisekae.h", t.ops[i].name);
}

static void test_no_credentials_unauthorized(void **state)
{
    char code[64];

    (void)state;
    for (int i = 0; i < t.op_count; i++) {
        int status = serve("POST", "/", t.ops[i].request, NULL, NULL);
        if (status != 401 || strcmp(fault_code(code, sizeof code), "Unauthorized") != 0)
            fail_msg("%s without credentials: %d %s", t.ops[i].name, status, code);
    }
}

static void test_each_role_admitted_where_documented(void **state)
{
    static const struct {
        const char *user, *password;
        unsigned roles;
    } callers[] = {
        {"t-site", "site secret", KS_ROLE_SITE},
        {"t-admin", "admin secret", KS_ROLE_ADMIN | KS_ROLE_SITE},
        {"t-node", "node secret", KS_ROLE_NODE},
    };
    char code[64];
    int admitted = 0, refused = 0;

    (void)state;
    for (int i = 0; i < t.op_count; i++)
        for (size_t c = 0; c < sizeof callers / sizeof callers[0]; c++) {
            int status = serve("POST", "/", t.ops[i].request, callers[c].user,
                               callers[c].password);
            int role_refused = !strcmp(fault_code(code, sizeof code), "Forbidden") &&
                               strstr(t.answer.data, ROLE_MESSAGE);
            if (t.ops[i].roles & callers[c].roles) {
                if (status == 401 || role_refused)
                    fail_msg("%s as %s: refused (%d %s)", t.ops[i].name, callers[c].user,
                             status, code);
                admitted++;
            } else {
                if (!role_refused)
                    fail_msg("%s as %s: not refused by role (%d \"%s\")", t.ops[i].name,
                             callers[c].user, status, code);
                refused++;
            }
        }
    assert_true(admitted > 0 && refused > 0);
}

static void test_unknown_operation(void **state)
{
    char code[64];
    const char *body = "<?xml version=\"1.0\"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="
                       "\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ks=\"urn:kisekae:v1\">"
                       "<SOAP-ENV:Body><ks:NoSuchOperation/></SOAP-ENV:Body></SOAP-ENV:Envelope>";

    (void)state;
    assert_int_equal(serve("POST", "/", body, "t-admin", "admin secret"), 500);
    assert_string_equal(fault_code(code, sizeof code), "InvalidArgument");
    assert_non_null(strstr(t.answer.data, "NoSuchOperation"));
}

static void test_too_deep_xml_refused_before_parsing(void **state)
{
    char body[4096] = "<?xml version=\"1.0\"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="
                      "\"http://schemas.xmlsoap.org/soap/envelope/\"><SOAP-ENV:Body>";
    char code[64];

    (void)state;
    for (int i = 0; i < 40; i++)
        strcat(body, "<a>");
    for (int i = 0; i < 40; i++)
        strcat(body, "</a>");
    strcat(body, "</SOAP-ENV:Body></SOAP-ENV:Envelope>");
    assert_int_equal(serve("POST", "/", body, NULL, NULL), 500);
    assert_string_equal(fault_code(code, sizeof code), "TooLarge");
}

static void test_get_wsdl_names_the_host_used(void **state)
{
    (void)state;
    assert_int_equal(serve("GET", "/?wsdl", "", NULL, NULL), 200);
    assert_non_null(strstr(t.answer.data, "<definitions"));
    assert_non_null(strstr(t.answer.data, "http://api.test/"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_operation_has_a_sample_and_documented_roles),
        cmocka_unit_test(test_no_credentials_unauthorized),
        cmocka_unit_test(test_each_role_admitted_where_documented),
        cmocka_unit_test(test_unknown_operation),
        cmocka_unit_test(test_too_deep_xml_refused_before_parsing),
        cmocka_unit_test(test_get_wsdl_names_the_host_used),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
