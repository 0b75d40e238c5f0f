/* log.c: the logger of log.h. One line per call, written with a single
 * write() so lines from several threads never interleave. The message's
 * control characters (a client's name, a path it sent) are written as \xNN:
 * they can neither forge a line nor drive a terminal. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

static int log_fd = 2;
static ks_log_level_t log_level = KS_LOG_INFO;
static char log_program[32] = "kisekae";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int ks_log_open(const char *program, const char *path, ks_log_level_t level)
{
    int fd = 2, rc = 0;

    if (path && *path && strcmp(path, "-") != 0) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "%s: open() \"%s\" failed (%d: %s), logging to stderr\n",
                    program, path, errno, strerror(errno));
            fd = 2;
            rc = -1;
        }
    }
    pthread_mutex_lock(&log_lock);
    if (log_fd > 2)
        close(log_fd);
    log_fd = fd;
    log_level = level;
    snprintf(log_program, sizeof log_program, "%s", program);
    pthread_mutex_unlock(&log_lock);
    return rc;
}

/* Appends text to line[*len..size) with its control characters as \xNN,
 * as much as fits. */
static void add_escaped(char *line, size_t *len, size_t size, const char *text)
{
    static const char digits[] = "0123456789abcdef";

    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p >= 0x20 && *p != 0x7f) {
            if (*len + 1 >= size)
                return;
            line[(*len)++] = (char)*p;
        } else {
            if (*len + 4 >= size)
                return;
            line[(*len)++] = '\\';
            line[(*len)++] = 'x';
            line[(*len)++] = digits[*p >> 4];
            line[(*len)++] = digits[*p & 0x0f];
        }
    }
}

void ks_log(ks_log_level_t level, const char *fmt, ...)
{
    char line[2048], message[2048];
    struct timespec now;
    struct tm tm;
    size_t len;
    va_list ap;

    if (level > log_level)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    len = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    len += snprintf(line + len, sizeof line - len, ".%03ldZ %s[%d/%ld] %s: ",
                    now.tv_nsec / 1000000, log_program, (int)getpid(),
                    (long)syscall(SYS_gettid), level_names[level]);
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    add_escaped(line, &len, sizeof line - 1, message);
    line[len++] = '\n';
    pthread_mutex_lock(&log_lock);
    if (write(log_fd, line, len) < 0) {
        /* nowhere left to report it */
    }
    pthread_mutex_unlock(&log_lock);
}

int ks_log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}
