/* standalone.c: kisekae-api's own HTTP listener.
 *
 * One event-loop thread (the main thread) owns every connection: it accepts,
 * reads with non-blocking sockets and frames requests (http_frame.c). Only a
 * request received whole goes to the bounded pool of worker threads, so a
 * worker never waits for a client: a slowloris client sending a byte a
 * second, or any number of idle keep-alive connections, costs a slot in the
 * connection table and no worker. A worker serves the request (dispatch.c) and
 * writes the answer as far as the socket takes it without blocking; the loop
 * sends what is left.
 *
 * Handing every keep-alive request through the loop costs two thread
 * wake-ups, so a worker with nothing else to do watches the connection it
 * just served for a moment (KS_WORKER_WATCH_MS) and serves its next request
 * itself when it arrives whole. The watch never delays other work: the loop
 * cuts it short (the worker's eventfd) when a request is queued and no
 * worker is free, and a request that arrives in pieces goes back to the loop.
 *
 * Limits, all from the configuration: the header and body sizes (refused
 * with TooLarge as soon as they are known), a deadline for receiving a whole
 * request from its first byte (recv_timeout; 408 after it), an idle time for
 * keep-alive connections (keepalive_timeout), a time to send an answer
 * (send_timeout), the number of connections (max_connections: when full, the
 * longest idle keep-alive connection is closed for a new one, or accepting
 * waits) and the memory all requests being received may take together
 * (max_buffered_bytes, counting what receive buffers hold beyond the first
 * KS_IN_INITIAL bytes each, which max_connections bounds). A request of known
 * length takes its whole buffer at once or none of it, and waits (reading
 * nothing more) until memory is back; one that waits past recv_timeout gets
 * 503, so connections waiting for each other's memory cannot hang forever.
 *
 * A connection closed after an answer is shut down for writing and drained
 * for a moment ("lingering close"), so a client still sending a body it was
 * refused for reads the answer instead of a reset.
 *
 * Signals: the loop thread is the one that takes them (workers block them);
 * it wakes at least once a second, stops when asked and runs a reload that
 * SIGHUP asked for (ks_api_reload_if_asked). A worker that waited
 * KS_IDLE_CHECK_S for work calls ks_api_worker_idle, so its database
 * session drops the connections to servers the reload removed.
 */
#define _GNU_SOURCE                     /* accept4() */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "dispatch.h"
#include "http_frame.h"
#include "daemon.h"
#include "log.h"
#include "net.h"
#include "reply.h"
#include "standalone.h"

#define KS_IN_INITIAL (16 * 1024)       /* first receive buffer of a connection */
#define KS_OUT_KEEP (64 * 1024)         /* larger send buffers are freed after use */
#define KS_READ_SLICE (256 * 1024)      /* bytes read from one connection per event */
#define KS_LINGER_MS 2000               /* drain after a close for this long without data */
#define KS_LINGER_MAX_MS 30000          /* and at most this long */
#define KS_WORKER_WATCH_MS 50           /* a free worker watches its last connection */
#define KS_TAG_LISTEN 0
#define KS_TAG_WAKE 1
#define KS_EVENTS 256

/* What the loop does with a connection a worker gives back. */
typedef enum {
    BACK_ANSWERED,      /* a request was answered (perhaps not all sent yet) */
    BACK_READING        /* between requests: frame what is there, or wait */
} back_t;

typedef enum {
    CONN_READING,       /* the loop waits for (the rest of) a request */
    CONN_SERVING,       /* queued for or held by a worker */
    CONN_WRITING,       /* the loop sends the rest of an answer */
    CONN_LINGERING      /* shut down for writing, draining what the client sends */
} conn_state_t;

typedef struct conn {
    int fd;
    int slot;
    unsigned generation;        /* tells a stale epoll event from the slot's new owner */
    conn_state_t state;
    char peer[64];
    char *in;                   /* what was received of the current request (and more) */
    size_t in_len, in_cap;
    ks_http_frame_t frame;
    int continue_sent;          /* "100 Continue" answered for this request */
    int eof;                    /* the client shut down its side */
    int wants_memory;           /* read_available() found the budget spent */
    int paused;                 /* so it waits for memory (counted in paused_count) */
    char *head;                 /* the header gSOAP reads when the framer rewrote it */
    size_t head_len;
    char *out;                  /* what the socket did not take of the answer */
    size_t out_len, out_sent, out_cap;
    int keep_alive;             /* requests the connection may still serve */
    int close_after;            /* close once the answer is sent */
    int broken;                 /* a send failed: the client is gone */
    long long deadline_ms;      /* of the current state */
    long long linger_end_ms;
    long long idle_since_ms;
    back_t back;                /* set by the worker giving it back */
    struct conn *next;          /* in the work or done queue */
} conn_t;

typedef struct loop loop_t;

typedef struct {
    loop_t *loop;
    struct soap *soap;
    ks_api_ctx_t ctx;
    pthread_t thread;
    int wake_fd;                /* eventfd: the loop ends a watch */
    atomic_int watching;        /* watching a connection; the loop may end it */
} worker_t;

struct loop {
    const ks_api_conf_t *conf;
    ks_http_limits_t limits;
    size_t in_max;              /* largest receive buffer a request may need */
    int epfd, listen_fd, wake_fd;
    int listening;              /* the listening socket is in epoll */
    conn_t **slots;
    int slot_count, conn_count;
    unsigned generation;
    atomic_size_t buffered;     /* bytes of the receive buffers beyond KS_IN_INITIAL */
    atomic_int memory_freed;    /* buffered went down since the loop last looked */
    int paused_count;           /* connections waiting for memory (loop only) */
    long long last_scan_ms;

    pthread_mutex_t lock;       /* guards the queues, the counts below and stopping */
    pthread_cond_t work_ready;
    conn_t *work_head, *work_tail;
    atomic_int work_count;      /* in the work queue; read without the lock */
    conn_t *done_head, *done_tail;
    int idle_workers;           /* waiting for work */
    int stopping;

    worker_t *workers;
    int worker_count;
};

static void queue_push(conn_t **head, conn_t **tail, conn_t *c)
{
    c->next = NULL;
    if (*tail)
        (*tail)->next = c;
    else
        *head = c;
    *tail = c;
}

static conn_t *queue_pop(conn_t **head, conn_t **tail)
{
    conn_t *c = *head;
    if (c) {
        *head = c->next;
        if (!*head)
            *tail = NULL;
        c->next = NULL;
    }
    return c;
}

/* ---- epoll ------------------------------------------------------------------------ */

static void arm(loop_t *loop, conn_t *c, uint32_t events)
{
    struct epoll_event ev = {.events = events | EPOLLONESHOT};
    ev.data.u64 = ((uint64_t)c->generation << 32) | (uint64_t)(c->slot + 2);
    if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        ks_log_error("epoll_ctl() MOD for %s failed (%d: %s)", c->peer, errno, strerror(errno));
}

static void set_listening(loop_t *loop, int on)
{
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u64 = KS_TAG_LISTEN;
    if (on == loop->listening || loop->listen_fd < 0)
        return;
    if (epoll_ctl(loop->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, loop->listen_fd, &ev) != 0)
        ks_log_error("epoll_ctl() on the listening socket failed (%d: %s)", errno,
                     strerror(errno));
    loop->listening = on;
}

/* ---- connections ---------------------------------------------------------------------- */

static void close_conn(loop_t *loop, conn_t *c)
{
    close(c->fd);              /* also leaves epoll */
    if (c->in_cap > KS_IN_INITIAL) {
        atomic_fetch_sub(&loop->buffered, c->in_cap - KS_IN_INITIAL);
        atomic_store(&loop->memory_freed, 1);
    }
    if (c->paused)
        loop->paused_count--;
    free(c->in);
    free(c->head);
    free(c->out);
    loop->slots[c->slot] = NULL;
    loop->conn_count--;
    free(c);
    set_listening(loop, 1);
}

/* Makes room for at least need bytes in c->in within the memory budget
 * (the loop and the workers call it). Returns 0, or -1 when the budget is
 * spent (the connection must wait). */
static int reserve_in(loop_t *loop, conn_t *c, size_t need)
{
    size_t cap, grow;
    char *in;

    if (need <= c->in_cap)
        return 0;
    cap = c->in_cap ? c->in_cap * 2 : KS_IN_INITIAL;
    if (cap < need)
        cap = need;
    if (cap > loop->in_max)
        cap = loop->in_max > need ? loop->in_max : need;
    /* What the buffer holds beyond KS_IN_INITIAL counts against the budget. */
    grow = cap - (c->in_cap > KS_IN_INITIAL ? c->in_cap : KS_IN_INITIAL);
    if (grow && atomic_fetch_add(&loop->buffered, grow) + grow > loop->conf->max_buffered_bytes) {
        atomic_fetch_sub(&loop->buffered, grow);
        return -1;
    }
    if (!(in = realloc(c->in, cap))) {
        atomic_fetch_sub(&loop->buffered, grow);
        return -1;
    }
    c->in = in;
    c->in_cap = cap;
    return 0;
}

/* Drops the request just answered from c->in, keeping what follows it (the
 * next request, pipelined), and shrinks a large buffer. Either thread. */
static void next_request(loop_t *loop, conn_t *c)
{
    size_t rest = c->in_len - c->frame.request_len;

    memmove(c->in, c->in + c->frame.request_len, rest);
    c->in_len = rest;
    ks_http_frame_init(&c->frame);
    c->continue_sent = 0;
    if (c->in_cap > KS_IN_INITIAL && rest <= KS_IN_INITIAL) {
        char *in = realloc(c->in, KS_IN_INITIAL);
        if (in) {
            atomic_fetch_sub(&loop->buffered, c->in_cap - KS_IN_INITIAL);
            atomic_store(&loop->memory_freed, 1);
            c->in = in;
            c->in_cap = KS_IN_INITIAL;
        }
    }
    c->idle_since_ms = ks_now_ms();
    c->deadline_ms = c->idle_since_ms +
                     1000LL * (rest ? loop->conf->recv_timeout_s : loop->conf->keepalive_timeout_s);
}

/* Reads what the client sent, without blocking, at most KS_READ_SLICE bytes.
 * Returns 0, or -1 when the connection failed; sets c->eof at its end and
 * c->wants_memory when the memory budget is spent. Either thread. */
static int read_available(loop_t *loop, conn_t *c)
{
    size_t got = 0;

    while (got < KS_READ_SLICE) {
        ssize_t n;
        if (c->in_len == c->in_cap) {
            size_t need = c->in_len + 1;
            const ks_http_frame_t *f = &c->frame;
            if (f->header_len && f->has_length) {  /* all of the request, or nothing */
                size_t whole = f->start + f->header_len + (size_t)f->content_length;
                if (c->in_len >= whole)
                    break;                        /* it is in; later bytes can wait */
                need = whole;
            }
            if (reserve_in(loop, c, need) != 0) {
                if (c->in_cap < loop->in_max)
                    c->wants_memory = 1;          /* wait for memory */
                break;                            /* else the framer refuses it */
            }
        }
        size_t room = c->in_cap - c->in_len;
        n = read(c->fd, c->in + c->in_len, room);
        if (n > 0) {
            if (c->in_len == 0)                   /* a request starts: its deadline */
                c->deadline_ms = ks_now_ms() + 1000LL * loop->conf->recv_timeout_s;
            c->in_len += (size_t)n;
            got += (size_t)n;
            if ((size_t)n < room)                 /* drained: spare a read() */
                break;
        } else if (n == 0) {
            c->eof = 1;
            break;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Appends to the unsent answer (the worker and the loop both call this, never
 * at the same time: the connection belongs to one of them). */
static int out_append(conn_t *c, const char *data, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 16 * 1024;
        char *out;
        while (cap < c->out_len + n)
            cap *= 2;
        if (!(out = realloc(c->out, cap)))
            return -1;
        c->out = out;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
    return 0;
}

/* Sends what it can of the pending answer. 1 when all is sent, 0 when the
 * socket is full, -1 when the client is gone. */
static int flush_out(conn_t *c)
{
    while (c->out_sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
        if (n > 0)
            c->out_sent += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        else
            return -1;
    }
    c->out_len = c->out_sent = 0;
    if (c->out_cap > KS_OUT_KEEP) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    return 1;
}

static void linger(loop_t *loop, conn_t *c)
{
    long long now = ks_now_ms();

    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGERING;
    c->linger_end_ms = now + KS_LINGER_MAX_MS;
    c->deadline_ms = now + KS_LINGER_MS;
    arm(loop, c, EPOLLIN);
}

static void advance(loop_t *loop, conn_t *c);

/* The answer is out: close, or wait for the next request. */
static void answered(loop_t *loop, conn_t *c)
{
    if (c->close_after || c->broken) {
        if (c->broken)
            close_conn(loop, c);
        else
            linger(loop, c);
        return;
    }
    next_request(loop, c);
    c->state = CONN_READING;
    advance(loop, c);
}

/* Sends the answer the loop wrote into c->out, then answered(). */
static void send_answer(loop_t *loop, conn_t *c)
{
    int sent = flush_out(c);

    if (sent < 0) {
        c->broken = 1;
        answered(loop, c);
    } else if (sent == 0) {
        c->state = CONN_WRITING;
        c->deadline_ms = ks_now_ms() + 1000LL * loop->conf->send_timeout_s;
        arm(loop, c, EPOLLOUT);
    } else {
        answered(loop, c);
    }
}

/* Refuses the request in c with a SOAP fault and closes the connection. */
static void refuse(loop_t *loop, conn_t *c, int status, const char *code, const char *reason)
{
    char body[KS_FAULT_XML_MAX], head[256];
    size_t length = ks_fault_xml(body, sizeof body, code, reason);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nServer: kisekae-api\r\n"
                     "Content-Type: text/xml; charset=utf-8\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", status, ks_http_reason(status), length);

    ks_log_info("refused a request from %s: %s", c->peer, reason);
    c->close_after = 1;
    c->state = CONN_SERVING;            /* no more reading */
    if (out_append(c, head, (size_t)n) || out_append(c, body, length))
        c->broken = 1;
    send_answer(loop, c);
}

static void dispatch(loop_t *loop, conn_t *c)
{
    if (ks_http_frame_rewrites(&c->frame)) {
        size_t size = c->frame.header_len + 64;
        int n;
        free(c->head);
        c->head = malloc(size);
        n = c->head ? ks_http_frame_header(&c->frame, c->in, c->head, size) : -1;
        if (n < 0) {
            refuse(loop, c, 500, "Internal", "out of memory for a request header");
            return;
        }
        c->head_len = (size_t)n;
    }
    c->state = CONN_SERVING;
    pthread_mutex_lock(&loop->lock);
    queue_push(&loop->work_head, &loop->work_tail, c);
    atomic_fetch_add(&loop->work_count, 1);
    if (loop->idle_workers > 0) {
        pthread_cond_signal(&loop->work_ready);
    } else {
        /* Every worker is busy or watching a connection: end one watch. */
        for (int i = 0; i < loop->worker_count; i++) {
            worker_t *w = &loop->workers[i];
            if (atomic_exchange(&w->watching, 0)) {
                uint64_t one = 1;
                if (write(w->wake_fd, &one, sizeof one) < 0)
                    ks_log_warn("write() to a worker's eventfd failed (%d: %s)", errno,
                                strerror(errno));
                break;
            }
        }
    }
    pthread_mutex_unlock(&loop->lock);
}

/* Frames what c received and acts: serve, refuse, or wait for more. */
static void advance(loop_t *loop, conn_t *c)
{
    ks_http_frame_t *f = &c->frame;
    ks_frame_state_t state;
    int wants_memory = c->wants_memory;

    c->wants_memory = 0;
    if (c->eof && c->in_len == 0) {            /* an idle keep-alive connection closing */
        close_conn(loop, c);
        return;
    }
    state = ks_http_frame_feed(f, c->in, c->in_len, &loop->limits);
    if (state == KS_FRAME_DONE) {
        dispatch(loop, c);
        return;
    }
    if (state == KS_FRAME_BAD) {
        refuse(loop, c, f->status, f->too_large ? "TooLarge" : "InvalidArgument", f->reason);
        return;
    }
    c->in_len = ks_http_frame_compact(f, c->in, c->in_len);
    if (wants_memory) {
        c->paused = 1;                  /* resume_paused() arms it again */
        loop->paused_count++;
        return;
    }
    if (c->eof) {                       /* half a request, and the client is done */
        close_conn(loop, c);
        return;
    }
    if (f->header_len && f->expect_continue && !c->continue_sent) {
        static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
        c->continue_sent = 1;
        if (send(c->fd, go_on, sizeof go_on - 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
            close_conn(loop, c);
            return;
        }
    }
    /* Room for the whole request at once, when its length is known. */
    if (f->header_len && f->has_length &&
        reserve_in(loop, c, f->start + f->header_len + (size_t)f->content_length) != 0) {
        c->paused = 1;
        loop->paused_count++;
        return;
    }
    if (c->in_len == 0 && !loop->listening)
        set_listening(loop, 1);         /* an idle connection: accept_all() may evict it */
    arm(loop, c, EPOLLIN);
}

/* Reads what the client sent, then advance(). */
static void receive(loop_t *loop, conn_t *c)
{
    if (read_available(loop, c) != 0) {
        close_conn(loop, c);
        return;
    }
    advance(loop, c);
}

/* Memory came back: connections waiting for it try again. */
static void resume_paused(loop_t *loop)
{
    for (int i = 0; i < loop->slot_count && loop->paused_count > 0; i++) {
        conn_t *c = loop->slots[i];
        if (c && c->paused && c->state == CONN_READING) {
            c->paused = 0;
            loop->paused_count--;
            receive(loop, c);
        }
    }
}

static void drain(loop_t *loop, conn_t *c)
{
    static char sink[64 * 1024];
    long long now = ks_now_ms();

    for (;;) {
        ssize_t n = read(c->fd, sink, sizeof sink);
        if (n > 0) {
            c->deadline_ms = now + KS_LINGER_MS;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && now < c->linger_end_ms) {
            if (c->deadline_ms > c->linger_end_ms)
                c->deadline_ms = c->linger_end_ms;
            arm(loop, c, EPOLLIN);
            return;
        }
        close_conn(loop, c);
        return;
    }
}

static void on_conn_event(loop_t *loop, conn_t *c, uint32_t events)
{
    switch (c->state) {
    case CONN_READING:
        receive(loop, c);
        break;
    case CONN_WRITING:
        if (events & (EPOLLERR | EPOLLHUP)) {
            close_conn(loop, c);
            break;
        }
        send_answer(loop, c);
        break;
    case CONN_LINGERING:
        drain(loop, c);
        break;
    case CONN_SERVING:
        break;                                   /* not armed; a stale event */
    }
}

/* Closes the keep-alive connection idle the longest, to make room. */
static int evict_idle(loop_t *loop)
{
    conn_t *oldest = NULL;

    for (int i = 0; i < loop->slot_count; i++) {
        conn_t *c = loop->slots[i];
        if (c && c->state == CONN_READING && c->in_len == 0 && !c->paused &&
            (!oldest || c->idle_since_ms < oldest->idle_since_ms))
            oldest = c;
    }
    if (!oldest)
        return -1;
    close_conn(loop, oldest);
    return 0;
}

static void accept_all(loop_t *loop)
{
    for (int first = 1;; first = 0) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        int fd, slot = -1, on = 1;
        conn_t *c;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT};

        if (loop->conn_count >= loop->slot_count) {
            /* Make room only for a client known to wait: epoll said one did
             * before the first accept(); after it, let epoll say so again. */
            if (!first)
                return;
            if (evict_idle(loop) != 0) {
                set_listening(loop, 0);         /* full: new clients wait in the backlog */
                return;
            }
        }
        fd = accept4(loop->listen_fd, (struct sockaddr *)&peer, &peer_len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                ks_log_warn("accept() failed (%d: %s)", errno, strerror(errno));
            return;
        }
        for (int i = 0; i < loop->slot_count; i++)
            if (!loop->slots[i]) {
                slot = i;
                break;
            }
        c = calloc(1, sizeof *c);
        if (slot < 0 || !c) {
            free(c);
            close(fd);
            ks_log_error("out of memory for a connection");
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        c->fd = fd;
        c->slot = slot;
        c->generation = ++loop->generation;
        c->state = CONN_READING;
        c->keep_alive = loop->conf->max_keep_alive + 1;
        c->idle_since_ms = ks_now_ms();
        c->deadline_ms = c->idle_since_ms + 1000LL * loop->conf->recv_timeout_s;
        if (peer.ss_family == AF_INET) {
            const struct sockaddr_in *in4 = (const struct sockaddr_in *)&peer;
            const unsigned char *a = (const unsigned char *)&in4->sin_addr;
            snprintf(c->peer, sizeof c->peer, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3],
                     ntohs(in4->sin_port));
        } else {
            snprintf(c->peer, sizeof c->peer, "a client");
        }
        ks_http_frame_init(&c->frame);
        ev.data.u64 = ((uint64_t)c->generation << 32) | (uint64_t)(slot + 2);
        if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            ks_log_error("epoll_ctl() ADD failed (%d: %s)", errno, strerror(errno));
            close(fd);
            free(c);
            continue;
        }
        loop->slots[slot] = c;
        loop->conn_count++;
    }
}

/* Connections workers gave back. */
static void take_done(loop_t *loop)
{
    conn_t *done;
    uint64_t ignored;

    if (read(loop->wake_fd, &ignored, sizeof ignored) < 0 && errno != EAGAIN)
        ks_log_warn("read() of the wake-up eventfd failed (%d: %s)", errno, strerror(errno));
    pthread_mutex_lock(&loop->lock);
    done = loop->done_head;
    loop->done_head = loop->done_tail = NULL;
    pthread_mutex_unlock(&loop->lock);
    while (done) {
        conn_t *c = done;
        done = c->next;
        c->next = NULL;
        if (c->back == BACK_READING) {
            c->state = CONN_READING;
            advance(loop, c);
        } else if (c->out_len > c->out_sent) {
            send_answer(loop, c);
        } else {
            answered(loop, c);
        }
    }
}

/* Once a second: deadlines, and connections waiting for memory. */
static void scan(loop_t *loop, long long now)
{
    char reason[128];

    for (int i = 0; i < loop->slot_count; i++) {
        conn_t *c = loop->slots[i];
        if (!c || c->state == CONN_SERVING)
            continue;
        if (c->deadline_ms > now)
            continue;
        if (c->paused) {
            c->paused = 0;
            loop->paused_count--;
            refuse(loop, c, 503, "Internal", "the server is short of memory for requests "
                   "(max_buffered_bytes); try again");
        } else if (c->state == CONN_READING && c->in_len > 0) {
            snprintf(reason, sizeof reason, "request not received whole within %d s",
                     loop->conf->recv_timeout_s);
            refuse(loop, c, 408, "InvalidArgument", reason);
        } else {
            if (c->state == CONN_WRITING) {
                /* Reset, rather than leave the kernel holding the unsent
                 * answer for a client that does not read it. */
                struct linger abort_close = {.l_onoff = 1, .l_linger = 0};
                setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
                ks_log_info("%s did not read its answer within %d s: connection reset", c->peer,
                            loop->conf->send_timeout_s);
            }
            close_conn(loop, c);
        }
    }
}

/* ---- workers -------------------------------------------------------------------------- */

/* soap->fsend: straight to the socket while it takes the bytes; the rest is
 * kept for the loop to send, so a client that does not read holds no worker. */
static int conn_fsend(struct soap *soap, const char *s, size_t n)
{
    conn_t *c = ks_api_ctx(soap)->transport;

    if (c->broken)
        return SOAP_EOF;
    while (n && c->out_len == 0) {
        ssize_t sent = send(c->fd, s, n, MSG_NOSIGNAL);
        if (sent > 0) {
            s += sent;
            n -= (size_t)sent;
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            c->broken = 1;
            return SOAP_EOF;
        }
    }
    if (n && out_append(c, s, n) != 0) {
        c->broken = 1;
        return SOAP_EOM;
    }
    return SOAP_OK;
}

/* Gives c back to the loop. */
static void give_back(loop_t *loop, conn_t *c, back_t back)
{
    uint64_t one = 1;

    c->back = back;
    pthread_mutex_lock(&loop->lock);
    queue_push(&loop->done_head, &loop->done_tail, c);
    pthread_mutex_unlock(&loop->lock);
    if (write(loop->wake_fd, &one, sizeof one) < 0)
        ks_log_warn("write() to the wake-up eventfd failed (%d: %s)", errno, strerror(errno));
}

/* Serves the request framed in c. */
static void serve(worker_t *w, conn_t *c)
{
    ks_api_ctx_t *ctx = &w->ctx;
    int rewritten = ks_http_frame_rewrites(&c->frame);

    ctx->transport = c;
    ctx->head = rewritten ? c->head : c->in + c->frame.start;
    ctx->head_len = rewritten ? c->head_len : c->frame.header_len;
    ctx->body = c->in + c->frame.start + c->frame.header_len;
    ctx->body_len = c->frame.body_len;
    w->soap->socket = c->fd;             /* so gSOAP writes an HTTP status line */
    ks_api_serve_request(w->soap, &c->keep_alive);
    w->soap->socket = SOAP_INVALID_SOCKET;
    ctx->transport = NULL;
    if (!c->keep_alive || c->eof)
        c->close_after = 1;
}

/* After an answer, with nothing else to do: waits up to KS_WORKER_WATCH_MS
 * for c's next request, unless the loop ends the watch. 1 when a whole
 * request is there to serve, 0 when c went back to the loop. No lock: this
 * runs once per request in every worker. The worker announces the watch,
 * then looks at the queue; the loop queues, then looks for a watcher; with
 * sequentially consistent atomics one of them sees the other. */
static int watch(worker_t *w, conn_t *c)
{
    loop_t *loop = w->loop;
    struct pollfd fds[2] = {{.fd = c->fd, .events = POLLIN}, {.fd = w->wake_fd, .events = POLLIN}};
    uint64_t ignored;
    int ready = 0;

    atomic_store(&w->watching, 1);
    if (atomic_load(&loop->work_count) == 0)
        ready = poll(fds, 2, KS_WORKER_WATCH_MS);
    if (!atomic_exchange(&w->watching, 0)) {
        ready = 0;                           /* the loop ended the watch: work waits */
        fds[1].revents |= POLLIN;            /* take its wake-up now (or a later one) */
    }
    if (fds[1].revents & POLLIN) {
        if (read(w->wake_fd, &ignored, sizeof ignored) < 0 && errno != EAGAIN)
            ks_log_warn("read() of a worker's eventfd failed (%d: %s)", errno, strerror(errno));
        ready = 0;
    }
    if (ready > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
        read_available(loop, c) == 0 && !c->eof && !c->wants_memory &&
        ks_http_frame_feed(&c->frame, c->in, c->in_len, &loop->limits) == KS_FRAME_DONE &&
        !ks_http_frame_rewrites(&c->frame))
        return 1;
    give_back(loop, c, BACK_READING);         /* idle, partial, refused or closing */
    return 0;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    loop_t *loop = w->loop;
    conn_t *c = NULL;

    ks_daemon_block_stop_signals();
    for (;;) {
        if (!c) {
            struct timespec deadline;
            int idle = 0, stopping;

            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline.tv_sec += KS_IDLE_CHECK_S;
            pthread_mutex_lock(&loop->lock);
            loop->idle_workers++;
            while (!loop->work_head && !loop->stopping && !idle)
                idle = pthread_cond_timedwait(&loop->work_ready, &loop->lock, &deadline) ==
                       ETIMEDOUT;
            loop->idle_workers--;
            stopping = loop->stopping;
            c = stopping ? NULL : queue_pop(&loop->work_head, &loop->work_tail);
            if (c)
                atomic_fetch_sub(&loop->work_count, 1);
            pthread_mutex_unlock(&loop->lock);
            if (!c && idle && !stopping) {
                ks_api_worker_idle(&w->ctx);     /* no request for a while */
                continue;
            }
            if (!c)
                break;
        }
        serve(w, c);
        if (c->out_len > c->out_sent || c->close_after || c->broken) {
            give_back(loop, c, BACK_ANSWERED);
            c = NULL;
            continue;
        }
        next_request(loop, c);
        if (c->in_len > 0) {                 /* pipelined: the loop frames it */
            give_back(loop, c, BACK_READING);
            c = NULL;
        } else if (!watch(w, c)) {
            c = NULL;
        }
    }
    return NULL;
}

/* ---- start and stop ---------------------------------------------------------------------- */

/* Enough file descriptors for max_connections (plus the workers' database
 * and HTTP connections); returns how many connections we may hold. */
static int fit_connections(const ks_api_conf_t *conf)
{
    struct rlimit limit;
    rlim_t need = (rlim_t)conf->max_connections + (rlim_t)conf->workers * 8 + 64;

    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return conf->max_connections;
    if (limit.rlim_cur < need) {
        limit.rlim_cur = need < limit.rlim_max ? need : limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur < need) {
        int fit = (int)limit.rlim_cur - conf->workers * 8 - 64;
        if (fit < 16)
            fit = 16;
        ks_log_warn("only %llu file descriptors (ulimit -n): max_connections lowered from %d "
                    "to %d", (unsigned long long)limit.rlim_cur, conf->max_connections, fit);
        return fit;
    }
    return conf->max_connections;
}

int ks_api_serve_standalone(const ks_api_conf_t *conf, ks_db_pool_t *pool,
                            volatile sig_atomic_t *stop)
{
    loop_t loop_storage = {0}, *loop = &loop_storage;
    struct epoll_event events[KS_EVENTS], ev = {.events = EPOLLIN};
    pthread_condattr_t cond_attr;
    int status = 0, started = 0;
    ks_err_t err;

    loop->conf = conf;
    loop->limits.max_header_bytes = conf->max_header_bytes;
    loop->limits.max_body_bytes = conf->max_request_bytes;
    loop->in_max = 64 + conf->max_header_bytes + conf->max_request_bytes + 16 * 1024;
    loop->listen_fd = loop->epfd = loop->wake_fd = -1;
    loop->slot_count = fit_connections(conf);
    pthread_mutex_init(&loop->lock, NULL);
    /* Idle workers wait with a deadline (KS_IDLE_CHECK_S) on this clock. */
    pthread_condattr_init(&cond_attr);
    pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&loop->work_ready, &cond_attr);
    pthread_condattr_destroy(&cond_attr);

    if (ks_net_listen(conf->listen, 1024, &loop->listen_fd, &err) != KS_OK) {
        ks_log_error("%s", err.msg);
        return 1;
    }
    fcntl(loop->listen_fd, F_SETFL, fcntl(loop->listen_fd, F_GETFL) | O_NONBLOCK);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->slots = calloc((size_t)loop->slot_count, sizeof *loop->slots);
    loop->workers = calloc((size_t)conf->workers, sizeof *loop->workers);
    if (loop->epfd < 0 || loop->wake_fd < 0 || !loop->slots || !loop->workers) {
        ks_log_error("epoll_create1()/eventfd()/calloc() failed (%d: %s)", errno, strerror(errno));
        status = 1;
        goto done;
    }
    ev.data.u64 = KS_TAG_WAKE;
    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wake_fd, &ev);
    set_listening(loop, 1);

    for (int i = 0; i < conf->workers; i++) {
        worker_t *w = &loop->workers[i];
        w->loop = loop;
        w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        w->soap = ks_api_worker_new(conf, pool, &w->ctx);
        if (!w->soap || w->wake_fd < 0) {
            ks_log_error("out of memory for worker %d", i);
            status = 1;
            goto done;
        }
        w->soap->fsend = conn_fsend;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            ks_log_error("pthread_create() failed for worker %d", i);
            ks_api_worker_free(w->soap, &w->ctx);
            w->soap = NULL;
            status = 1;
            goto done;
        }
        started++;
        loop->worker_count = started;
    }
    ks_log_info("listening on %s (HTTP) with %d workers, at most %d connections", conf->listen,
                conf->workers, loop->slot_count);

    while (!*stop) {
        int n = epoll_wait(loop->epfd, events, KS_EVENTS, 1000);   /* a signal cuts it short */
        long long now;
        if (n < 0 && errno != EINTR) {
            ks_log_error("epoll_wait() failed (%d: %s)", errno, strerror(errno));
            status = 1;
            break;
        }
        ks_api_reload_if_asked();
        for (int i = 0; i < n; i++) {
            uint64_t tag = events[i].data.u64;
            if (tag == KS_TAG_LISTEN) {
                accept_all(loop);
            } else if (tag == KS_TAG_WAKE) {
                take_done(loop);
            } else {
                int slot = (int)(tag & 0xffffffffu) - 2;
                conn_t *c = slot >= 0 && slot < loop->slot_count ? loop->slots[slot] : NULL;
                if (c && c->generation == (unsigned)(tag >> 32))
                    on_conn_event(loop, c, events[i].events);
            }
        }
        if (loop->paused_count > 0 && atomic_exchange(&loop->memory_freed, 0))
            resume_paused(loop);
        now = ks_now_ms();
        if (now - loop->last_scan_ms >= 1000) {
            loop->last_scan_ms = now;
            scan(loop, now);
        }
    }
done:
    pthread_mutex_lock(&loop->lock);
    loop->stopping = 1;
    pthread_cond_broadcast(&loop->work_ready);
    pthread_mutex_unlock(&loop->lock);
    for (int i = 0; i < started; i++)
        pthread_join(loop->workers[i].thread, NULL);
    for (int i = 0; i < started; i++)
        ks_api_worker_free(loop->workers[i].soap, &loop->workers[i].ctx);
    for (int i = 0; loop->workers && i < conf->workers; i++)
        if (loop->workers[i].wake_fd > 0)
            close(loop->workers[i].wake_fd);
    for (int i = 0; loop->slots && i < loop->slot_count; i++)
        if (loop->slots[i])
            close_conn(loop, loop->slots[i]);
    if (loop->listen_fd >= 0) {
        close(loop->listen_fd);
        ks_net_unlink(conf->listen);
    }
    if (loop->epfd >= 0)
        close(loop->epfd);
    if (loop->wake_fd >= 0)
        close(loop->wake_fd);
    free(loop->slots);
    free(loop->workers);
    pthread_mutex_destroy(&loop->lock);
    pthread_cond_destroy(&loop->work_ready);
    return status;
}
