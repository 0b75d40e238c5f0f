/* log.h: one logger for every binary. Lines go to stderr or a file, each with
 * a UTC timestamp, the level and the thread; a line names the call that failed
 * and its object: `open() "items/12/0.png" failed (13: Permission denied)`. */
#ifndef KS_LOG_H
#define KS_LOG_H

typedef enum { KS_LOG_ERROR, KS_LOG_WARN, KS_LOG_INFO, KS_LOG_DEBUG } ks_log_level_t;

/* path NULL or "-" logs to stderr. Returns 0, or -1 when the file cannot be
 * opened (the logger then stays on stderr). Safe to call again (SIGHUP). */
int ks_log_open(const char *program, const char *path, ks_log_level_t level);
void ks_log(ks_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ks_log_error(...) ks_log(KS_LOG_ERROR, __VA_ARGS__)
#define ks_log_warn(...)  ks_log(KS_LOG_WARN, __VA_ARGS__)
#define ks_log_info(...)  ks_log(KS_LOG_INFO, __VA_ARGS__)
#define ks_log_debug(...) ks_log(KS_LOG_DEBUG, __VA_ARGS__)

/* Parses "error", "warn", "info" or "debug"; returns -1 on anything else. */
int ks_log_level_parse(const char *name);

#endif
