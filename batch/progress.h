/* progress.h: what a batch run shows while it works. On a terminal, one
 * line rewritten in place (done/total, percent, members per second over the
 * last seconds, ETA, failures); otherwise (a log, CI) the same line printed
 * every interval seconds, each on its own line with the time. Only the
 * main thread calls these.
 */
#ifndef KS_BATCH_PROGRESS_H
#define KS_BATCH_PROGRESS_H

#include <stdio.h>

#define KS_PROGRESS_SAMPLES 16

typedef struct {
    FILE *out;
    int tty;
    double interval_s;             /* between prints */
    double last_print;
    char label[96];                /* "regenerate img1" */
    int line_open;                 /* a terminal line is on screen without its newline */
    long long printed_done;        /* done as last printed (-1: nothing yet) */
    double sample_time[KS_PROGRESS_SAMPLES];   /* (time, done) once a second, for the rate */
    long long sample_done[KS_PROGRESS_SAMPLES];
    int sample_count, sample_next;
    double last_sample;
} ks_progress_t;

/* Monotonic seconds. */
double ks_progress_now(void);

/* Starts showing progress on out. interval_s applies when out is not a
 * terminal (a terminal is refreshed 4 times a second). */
void ks_progress_init(ks_progress_t *p, FILE *out, const char *label, int interval_s);

/* Shows done of total (total 0: unknown) and failed, when it is time to
 * (force: now). */
void ks_progress_update(ks_progress_t *p, long long done, long long total, long long failed,
                        int force);

/* Ends the terminal line, if one is open, before other output. */
void ks_progress_end(ks_progress_t *p);

#endif
