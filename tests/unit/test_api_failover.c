/* test_api_failover.c: common/api_failover.c against small loopback servers
 * of its own: one port that refuses, one that hangs up on every request,
 * and one that answers each request with a canned HTTP reply (a fault with
 * a KisekaeFault, or a GetAvatar answer). It checks which URL answers,
 * which failures move on, and that a write that may have been received is
 * not sent again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_failover.h"
#include "soapH.h"
#include "Kisekae.nsmap"

/* A server on 127.0.0.1 that answers every request with reply (or hangs up
 * at once when reply is NULL), counting the requests it got. */
typedef struct {
    int fd, port;
    const char *reply;
    int requests;
    pthread_t thread;
} server_t;

static void *serve(void *arg)
{
    server_t *server = arg;
    char buf[65536];

    for (;;) {
        int conn = accept(server->fd, NULL, NULL);
        if (conn < 0)
            return NULL;
        server->requests++;
        if (server->reply) {
            /* Read the whole request (headers and the small body) first. */
            ssize_t got = 0, n;
            while ((n = recv(conn, buf + got, sizeof buf - 1 - (size_t)got, 0)) > 0) {
                got += n;
                buf[got] = '\0';
                if (strstr(buf, "</SOAP-ENV:Envelope>"))
                    break;
            }
            if (send(conn, server->reply, strlen(server->reply), MSG_NOSIGNAL) < 0)
                perror("send");
        }
        close(conn);
    }
}

static void server_start(server_t *server, const char *reply)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;

    memset(server, 0, sizeof *server);
    server->reply = reply;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(server->fd >= 0);
    assert_int_equal(bind(server->fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(server->fd, 16), 0);
    assert_int_equal(getsockname(server->fd, (struct sockaddr *)&addr, &len), 0);
    server->port = ntohs(addr.sin_port);
    assert_int_equal(pthread_create(&server->thread, NULL, serve, server), 0);
}

static void server_stop(server_t *server)
{
    shutdown(server->fd, SHUT_RDWR);
    close(server->fd);
    pthread_join(server->thread, NULL);
}

/* A port on 127.0.0.1 where nothing listens. */
static int refused_port(void)
{
    server_t server;
    int port;

    server_start(&server, NULL);
    port = server.port;
    server_stop(&server);
    return port;
}

/* An HTTP reply carrying body, in buf. */
static const char *http_reply(char *buf, size_t size, int status, const char *body)
{
    snprintf(buf, size,
             "HTTP/1.1 %d X\r\nContent-Type: text/xml; charset=utf-8\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             status, strlen(body), body);
    return buf;
}

#define ENVELOPE_OPEN                                                                      \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"                                           \
    "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" "    \
    "xmlns:ks=\"urn:kisekae:v1\"><SOAP-ENV:Body>"
#define ENVELOPE_CLOSE "</SOAP-ENV:Body></SOAP-ENV:Envelope>"

static char *fault_body(const char *code, char *buf, size_t size)
{
    snprintf(buf, size,
             ENVELOPE_OPEN "<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode>"
             "<faultstring>%s</faultstring><detail><ks:KisekaeFault><ks:code>%s</ks:code>"
             "<ks:message>the %s message</ks:message></ks:KisekaeFault></detail>"
             "</SOAP-ENV:Fault>" ENVELOPE_CLOSE,
             code, code, code);
    return buf;
}

static const char avatar_body[] =
    ENVELOPE_OPEN "<ks:GetAvatarResponse><ks:avatar><ks:userId>m1</ks:userId>"
    "<ks:version>7</ks:version><ks:imageServer>img1</ks:imageServer>"
    "<ks:url>http://i/a/7.png</ks:url><ks:thumbUrl>http://i/t/7.png</ks:thumbUrl>"
    "</ks:avatar></ks:GetAvatarResponse>" ENVELOPE_CLOSE;

static int attempt_get_avatar(struct soap *soap, const char *url, void *args)
{
    struct ks__GetAvatarResponse *response = args;

    memset(response, 0, sizeof *response);
    return soap_call_ks__GetAvatar(soap, url, NULL, "m1", NULL, response);
}

typedef struct {
    ks_failover_t fo;
    char urls[4][64];
    struct soap *soap;
} client_t;

static void client_init(client_t *client, const int *ports, int count)
{
    ks_failover_init(&client->fo, "u", "p", 5);
    for (int i = 0; i < count; i++) {
        snprintf(client->urls[i], sizeof client->urls[i], "http://127.0.0.1:%d/", ports[i]);
        assert_int_equal(ks_failover_add_url(&client->fo, client->urls[i], NULL), KS_OK);
    }
    client->soap = ks_failover_soap_new(&client->fo, NULL);
    assert_non_null(client->soap);
}

/* A GetAvatar call, named operation for the failover (its resendable mark). */
static ks_rc client_call_as(client_t *client, const char *operation, int resend_safe,
                            const char **url, ks_err_t *err)
{
    struct ks__GetAvatarResponse response;

    return ks_failover_call(&client->fo, client->soap, operation, resend_safe,
                            attempt_get_avatar, &response, url, err);
}

static ks_rc client_call(client_t *client, int resend_safe, const char **url, ks_err_t *err)
{
    return client_call_as(client, "GetAvatar", resend_safe, url, err);
}

static void test_moves_on_and_sticks(void **state)
{
    char reply[4096];
    server_t good;
    client_t client;
    const char *url = NULL;
    ks_err_t err;
    int ports[2];

    server_start(&good, http_reply(reply, sizeof reply, 200, avatar_body));
    ports[0] = refused_port();
    ports[1] = good.port;
    client_init(&client, ports, 2);

    /* A refused connection sent nothing: even a write moves on. */
    assert_int_equal(client_call(&client, 0, &url, &err), KS_OK);
    assert_string_equal(url, client.urls[1]);
    assert_int_equal(atomic_load(&client.fo.preferred), 1);
    /* The next call starts at the URL that answered. */
    assert_int_equal(client_call(&client, 1, &url, &err), KS_OK);
    assert_int_equal(good.requests, 2);

    ks_failover_soap_free(client.soap);
    server_stop(&good);
}

static void test_outcome_unknown_is_not_sent_again(void **state)
{
    char reply[4096];
    server_t hangup, good;
    client_t client;
    ks_err_t err;
    int ports[2];

    server_start(&hangup, NULL);
    server_start(&good, http_reply(reply, sizeof reply, 200, avatar_body));
    ports[0] = hangup.port;
    ports[1] = good.port;
    client_init(&client, ports, 2);

    /* The first server took the connection and hung up: a write stops there. */
    assert_int_equal(client_call(&client, 0, NULL, &err), KS_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "outcome unknown"));
    assert_int_equal(good.requests, 0);
    /* So does one its caller calls resend-safe when wsdl/kisekae.h does not
     * mark the operation @resendable. */
    assert_int_equal(client_call_as(&client, "MoveAvatars", 1, NULL, &err), KS_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "outcome unknown"));
    assert_int_equal(good.requests, 0);
    atomic_store(&client.fo.preferred, 0);
    /* A resend-safe call goes on to the second. */
    assert_int_equal(client_call(&client, 1, NULL, &err), KS_OK);
    assert_int_equal(good.requests, 1);

    ks_failover_soap_free(client.soap);
    server_stop(&hangup);
    server_stop(&good);
}

static void test_faults(void **state)
{
    char body[1024], reply[3][4096];
    server_t db_down, not_found, bad_gateway;
    client_t client;
    const char *url = NULL;
    ks_err_t err;
    int ports[3];

    server_start(&bad_gateway, http_reply(reply[0], sizeof reply[0], 502,
                                          "<html>502 Bad Gateway</html>"));
    server_start(&db_down, http_reply(reply[1], sizeof reply[1], 500,
                                      fault_body("DatabaseUnavailable", body, sizeof body)));
    server_start(&not_found, http_reply(reply[2], sizeof reply[2], 500,
                                        fault_body("NotFound", body, sizeof body)));
    ports[0] = bad_gateway.port;
    ports[1] = db_down.port;
    ports[2] = not_found.port;
    client_init(&client, ports, 3);

    /* 502 without a fault and DatabaseUnavailable move on; NotFound is the
     * answer to the call itself. */
    assert_int_equal(client_call(&client, 1, &url, &err), KS_NOTFOUND);
    assert_string_equal(url, client.urls[2]);
    assert_string_equal(ks_failover_fault_code(client.soap), "NotFound");
    assert_non_null(strstr(err.msg, "the NotFound message"));
    assert_int_equal(bad_gateway.requests + db_down.requests + not_found.requests, 3);

    /* DatabaseUnavailable says the call was not done: a write moves on too. */
    atomic_store(&client.fo.preferred, 1);
    assert_int_equal(client_call(&client, 0, &url, &err), KS_NOTFOUND);
    assert_string_equal(url, client.urls[2]);

    ks_failover_soap_free(client.soap);
    server_stop(&bad_gateway);
    server_stop(&db_down);
    server_stop(&not_found);
}

static void test_no_server_answers(void **state)
{
    client_t client;
    ks_err_t err;
    int ports[2] = {refused_port(), refused_port()};

    client_init(&client, ports, 2);
    assert_int_equal(client_call(&client, 1, NULL, &err), KS_UNAVAILABLE);
    assert_non_null(strstr(err.msg, client.urls[0]));
    assert_non_null(strstr(err.msg, client.urls[1]));
    ks_failover_soap_free(client.soap);

    ks_failover_init(&client.fo, "u", "p", 5);
    assert_int_equal(ks_failover_add_url(&client.fo, "ftp://x/", &err), KS_INVALID);
    for (int i = 0; i < KS_FAILOVER_URLS_MAX; i++)
        assert_int_equal(ks_failover_add_url(&client.fo, "http://127.0.0.1:1/", &err), KS_OK);
    assert_int_equal(ks_failover_add_url(&client.fo, "http://127.0.0.1:1/", &err), KS_TOOLARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moves_on_and_sticks),
        cmocka_unit_test(test_outcome_unknown_is_not_sent_again),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_no_server_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
