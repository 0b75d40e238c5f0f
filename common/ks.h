/* ks.h: return codes and the error buffer shared by every kisekae module.
 *
 * A function that fails writes one message, where the failure is detected,
 * into the caller's ks_err_t and returns a ks_rc; callers propagate the code
 * and leave the message alone. SOAP faults, HTTP error bodies and log lines
 * are built from that message.
 *
 * Beside them, two small helpers every daemon's modules use: a monotonic
 * clock in milliseconds and the FNV-1a hash of a string.
 */
#ifndef KS_H
#define KS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    KS_OK = 0,
    KS_ERROR = -1,        /* internal error: a bug or a system call that failed */
    KS_INVALID = -2,      /* bad input from the caller */
    KS_NOTFOUND = -3,     /* the named thing does not exist */
    KS_TOOLARGE = -4,     /* input over a configured limit */
    KS_CONFLICT = -5,     /* the request contradicts the stored state */
    KS_UNAVAILABLE = -6,  /* a peer (database, image server) did not answer */
    KS_NOMEM = -7,        /* out of memory */
    KS_NOTOWNED = -8,     /* the member does not own the item */
    KS_FORBIDDEN = -9,    /* the caller's role may not do this */
    KS_DBDOWN = -10,      /* no database server could answer */
    KS_BUSY = -11         /* the database gave a transaction up (deadlock, lock wait
                           * timeout): it changed nothing and may be run again */
} ks_rc;

#define KS_ERR_MAX 512

typedef struct {
    char msg[KS_ERR_MAX];
} ks_err_t;

/* Writes a printf-style message into err (when err is not NULL) and returns rc,
 * so that a failure reads `return ks_err(err, KS_INVALID, "...", ...);`. The
 * arguments may include err->msg itself (to prefix it). */
ks_rc ks_err(ks_err_t *err, ks_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The name of a return code ("KS_INVALID"), for logs. */
const char *ks_rc_name(ks_rc rc);

/* Milliseconds of CLOCK_MONOTONIC: for timeouts and ages, never dates. */
long long ks_now_ms(void);

/* The 32-bit FNV-1a hash of s (NUL-terminated): for spreading keys over
 * the slots of a table. */
uint32_t ks_fnv1a(const char *s);

#endif
