/* progress.c: the progress line of a batch run (progress.h). The rate is
 * measured over the last KS_PROGRESS_SAMPLES seconds, so the ETA follows a
 * run that slows down or speeds up (a rate limit, a failover).
 */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double ks_progress_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ks_progress_init(ks_progress_t *p, FILE *out, const char *label, int interval_s)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->tty = isatty(fileno(out));
    p->interval_s = p->tty ? 0.25 : (double)interval_s;
    p->last_print = ks_progress_now();
    p->printed_done = -1;
    snprintf(p->label, sizeof p->label, "%s", label);
}

/* Records (now, done) once a second; returns members per second over the
 * samples kept, or -1 while there is too little to say. */
static double rate(ks_progress_t *p, double now, long long done)
{
    int oldest;

    if (p->sample_count == 0 || now - p->last_sample >= 1.0) {
        p->sample_time[p->sample_next] = now;
        p->sample_done[p->sample_next] = done;
        p->sample_next = (p->sample_next + 1) % KS_PROGRESS_SAMPLES;
        if (p->sample_count < KS_PROGRESS_SAMPLES)
            p->sample_count++;
        p->last_sample = now;
    }
    oldest = (p->sample_next - p->sample_count + KS_PROGRESS_SAMPLES) % KS_PROGRESS_SAMPLES;
    if (now - p->sample_time[oldest] < 0.5)
        return -1;
    return (double)(done - p->sample_done[oldest]) / (now - p->sample_time[oldest]);
}

void ks_progress_update(ks_progress_t *p, long long done, long long total, long long failed,
                        int force)
{
    double now = ks_progress_now(), per_second = rate(p, now, done);
    char line[256], eta[32] = "?";
    int n;

    if (!force && now - p->last_print < p->interval_s)
        return;
    if (force && !p->tty && done == p->printed_done)
        return;                    /* a log line would only repeat the last one */
    p->printed_done = done;
    p->last_print = now;
    if (per_second > 0 && total > done) {
        long long left = (long long)((double)(total - done) / per_second + 0.5);
        snprintf(eta, sizeof eta, "%lld:%02lld:%02lld", left / 3600, left / 60 % 60, left % 60);
    } else if (total > 0 && done >= total) {
        snprintf(eta, sizeof eta, "0:00:00");
    }
    n = snprintf(line, sizeof line, "%s: %lld/%lld", p->label, done, total);
    if (total > 0 && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, " (%.1f%%)",
                      100.0 * (double)done / (double)total);
    if (n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, "  %.1f members/s  ETA %s  failed %lld",
                 per_second > 0 ? per_second : 0.0, eta, failed);
    if (p->tty) {
        fprintf(p->out, "\r\033[K%s", line);
        p->line_open = 1;
    } else {
        time_t t = time(NULL);
        struct tm tm;
        char stamp[16];
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
        fprintf(p->out, "[%s] %s\n", stamp, line);
    }
    fflush(p->out);
}

void ks_progress_end(ks_progress_t *p)
{
    if (p->line_open) {
        fputc('\n', p->out);
        fflush(p->out);
        p->line_open = 0;
    }
}
