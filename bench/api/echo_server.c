/* echo_server.c: ks-bench-echo, the ceiling bench/api compares the API with.
 *
 * A bare gSOAP service as the gSOAP documentation builds one: an accepting
 * thread and a fixed pool of worker threads, each serving the keep-alive
 * requests of one connection with soap_serve() (freeing each request's
 * memory between requests). Its one operation checks the HTTP Basic
 * credentials with strcmp and answers its argument. No database, no
 * framing of our own: what is left is gSOAP's HTTP and XML work, the most
 * any gSOAP server on this machine can do per request.
 *
 *   ks-bench-echo --listen HOST:PORT --workers N --user U --password P
 *
 * A worker serves one connection until the client closes it, so benchmark it
 * with at most N keep-alive connections. Stops on SIGTERM or SIGINT.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "soapH.h"
#include "Echo.nsmap"

#define QUEUE_MAX 1024

static const char *bench_user, *bench_password;
static SOAP_SOCKET queue[QUEUE_MAX];
static int queue_head, queue_count;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_ready = PTHREAD_COND_INITIALIZER;

int ns__Echo(struct soap *soap, char *text, struct ns__EchoResponse *response)
{
    if (!soap->userid || !soap->passwd || strcmp(soap->userid, bench_user) != 0 ||
        strcmp(soap->passwd, bench_password) != 0) {
        soap->authrealm = "echo";
        return 401;
    }
    response->text = text;
    return SOAP_OK;
}

/* Frees a request's data before the next one of a keep-alive connection. */
static int free_request(struct soap *soap)
{
    soap_destroy(soap);
    soap_end(soap);
    return SOAP_OK;
}

static void *worker_main(void *arg)
{
    struct soap *soap = arg;

    for (;;) {
        SOAP_SOCKET s;
        pthread_mutex_lock(&queue_lock);
        while (!queue_count)
            pthread_cond_wait(&queue_ready, &queue_lock);
        s = queue[queue_head];
        queue_head = (queue_head + 1) % QUEUE_MAX;
        queue_count--;
        pthread_mutex_unlock(&queue_lock);
        soap->socket = s;
        soap_serve(soap);
        soap_destroy(soap);
        soap_end(soap);
        soap_closesock(soap);
    }
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: ks-bench-echo --listen HOST:PORT --workers N --user U --password P\n"
                 "A bare gSOAP echo service: the ceiling of bench/api (see bench/api/run.sh).\n");
}

int main(int argc, char **argv)
{
    const char *listen = NULL;
    char host[128];
    int workers = 0, port;
    struct soap *listener;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
            listen = argv[++i];
        } else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
            workers = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--user") && i + 1 < argc) {
            bench_user = argv[++i];
        } else if (!strcmp(argv[i], "--password") && i + 1 < argc) {
            bench_password = argv[++i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!listen || workers < 1 || workers > 1024 || !bench_user || !bench_password ||
        sscanf(listen, "%127[^:]:%d", host, &port) != 2) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    listener = soap_new1(SOAP_IO_KEEPALIVE);
    soap_set_namespaces(listener, namespaces);
    listener->bind_flags = SO_REUSEADDR;
    listener->max_keep_alive = 1000000;
    listener->recv_timeout = 30;
    listener->send_timeout = 30;
    listener->fserveloop = free_request;
    if (!soap_valid_socket(soap_bind(listener, host, port, 1024))) {
        soap_print_fault(listener, stderr);
        return 1;
    }
    for (int i = 0; i < workers; i++) {
        pthread_t thread;
        struct soap *copy = soap_copy(listener);
        if (!copy || pthread_create(&thread, NULL, worker_main, copy) != 0) {
            fprintf(stderr, "ks-bench-echo: cannot start worker %d\n", i);
            return 1;
        }
        pthread_detach(thread);
    }
    fprintf(stderr, "ks-bench-echo: listening on %s with %d workers\n", listen, workers);
    for (;;) {
        SOAP_SOCKET s = soap_accept(listener);
        if (!soap_valid_socket(s))
            continue;
        pthread_mutex_lock(&queue_lock);
        if (queue_count < QUEUE_MAX) {
            queue[(queue_head + queue_count) % QUEUE_MAX] = s;
            queue_count++;
            pthread_cond_signal(&queue_ready);
        } else {
            close(s);
        }
        pthread_mutex_unlock(&queue_lock);
        listener->socket = SOAP_INVALID_SOCKET;
    }
}
