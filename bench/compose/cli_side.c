/* cli_side.c: the bench's work as whole processes, one composite each.
 *
 *   kisekae-compose --size WxH -o OUT.png L1.png@X,Y ... L10.png@X,Y
 *   vips composite "CANVAS.png L1.png ... L10.png" OUT.png "2 2 ... 2"
 *        --x "X1 ... X10" --y "Y1 ... Y10"      (2 is VIPS_BLEND_MODE_OVER)
 *   convert -size WxH xc:none L1.png -geometry +X+Y -composite ... -depth 8 OUT.png
 *
 * vips composite has no canvas size: its first image is the base, here a
 * transparent PNG of the canvas size. convert's xc: canvas has the depth of
 * its build (16 bits in Debian's Q16), which it would keep in the PNG:
 * -depth 8 makes it write 8-bit RGBA like the others. Each run starts with
 * posix_spawn() and ends when waitpid() returns, so a figure is a process's
 * whole cost: start, loading its libraries, reading the layers, compositing,
 * writing the file. stdout goes to /dev/null and stderr to OUT.png.stderr,
 * quoted on failure.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"

#define BENCH_CLI_TEXT_MAX (64 * 1024)
#define BENCH_CLI_OUTPUT_MAX ((size_t)64 << 20)

extern char **environ;

/* Appends a NUL-terminated argument to the text block and the argv. */
typedef struct {
    bench_cli_t *cli;
    size_t used, argc;
    int overflow;
} bench__argv_t;

static char *bench__arg(bench__argv_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *bench__arg(bench__argv_t *b, const char *fmt, ...)
{
    char *start = b->cli->strings + b->used;
    size_t room = BENCH_CLI_TEXT_MAX - b->used;
    va_list args;
    int length;

    if (b->overflow || b->argc + 1 >= sizeof b->cli->argv / sizeof b->cli->argv[0]) {
        b->overflow = 1;
        return NULL;
    }
    va_start(args, fmt);
    length = vsnprintf(start, room, fmt, args);
    va_end(args);
    if (length < 0 || (size_t)length >= room) {
        b->overflow = 1;
        return NULL;
    }
    b->used += (size_t)length + 1;
    b->cli->argv[b->argc++] = start;
    b->cli->argv[b->argc] = NULL;
    return start;
}

/* Appends to the last argument (built in several steps). */
static void bench__arg_more(bench__argv_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bench__arg_more(bench__argv_t *b, const char *fmt, ...)
{
    size_t room = BENCH_CLI_TEXT_MAX - b->used + 1;
    char *end = b->cli->strings + b->used - 1;          /* over the last NUL */
    va_list args;
    int length;

    if (b->overflow)
        return;
    va_start(args, fmt);
    length = vsnprintf(end, room, fmt, args);
    va_end(args);
    if (length < 0 || (size_t)length >= room) {
        b->overflow = 1;
        return;
    }
    b->used += (size_t)length;
}

ks_rc bench_cli_new(bench_cli_tool_t tool, const char *program, const bench_avatar_t *avatar,
                    bench_cli_t **out, ks_err_t *err)
{
    static const char *const names[] = { "kisekae", "vips", "imagemagick" };
    bench_cli_t *cli = calloc(1, sizeof *cli);
    bench__argv_t b = { .cli = cli };
    int length;

    *out = NULL;
    if (cli == NULL || (cli->strings = malloc(BENCH_CLI_TEXT_MAX)) == NULL) {
        free(cli);
        return ks_err(err, KS_NOMEM, "out of memory");
    }
    cli->avatar = avatar;
    length = snprintf(cli->output, sizeof cli->output, "%s/%s-cli.png", avatar->out_dir,
                      names[tool]);
    if (length < 0 || (size_t)length >= sizeof cli->output) {
        bench_cli_free(cli);
        return ks_err(err, KS_INVALID, "output path too long");
    }

    bench__arg(&b, "%s", program);
    switch (tool) {
    case BENCH_CLI_KISEKAE:
        bench__arg(&b, "--size");
        bench__arg(&b, "%ux%u", avatar->width, avatar->height);
        bench__arg(&b, "-o");
        bench__arg(&b, "%s", cli->output);
        for (int i = 0; i < BENCH_LAYERS; i++)
            bench__arg(&b, "%s@%d,%d", avatar->layers[i].path, avatar->layers[i].x,
                       avatar->layers[i].y);
        break;
    case BENCH_CLI_VIPS:
        bench__arg(&b, "composite");
        bench__arg(&b, "%s", avatar->canvas_path);
        for (int i = 0; i < BENCH_LAYERS; i++)
            bench__arg_more(&b, " %s", avatar->layers[i].path);
        bench__arg(&b, "%s", cli->output);
        bench__arg(&b, "2");
        for (int i = 1; i < BENCH_LAYERS; i++)
            bench__arg_more(&b, " 2");
        bench__arg(&b, "--x");
        bench__arg(&b, "%d", avatar->layers[0].x);
        for (int i = 1; i < BENCH_LAYERS; i++)
            bench__arg_more(&b, " %d", avatar->layers[i].x);
        bench__arg(&b, "--y");
        bench__arg(&b, "%d", avatar->layers[0].y);
        for (int i = 1; i < BENCH_LAYERS; i++)
            bench__arg_more(&b, " %d", avatar->layers[i].y);
        break;
    case BENCH_CLI_MAGICK:
        bench__arg(&b, "-size");
        bench__arg(&b, "%ux%u", avatar->width, avatar->height);
        bench__arg(&b, "xc:none");
        for (int i = 0; i < BENCH_LAYERS; i++) {
            bench__arg(&b, "%s", avatar->layers[i].path);
            bench__arg(&b, "-geometry");
            bench__arg(&b, "%+d%+d", avatar->layers[i].x, avatar->layers[i].y);
            bench__arg(&b, "-composite");
        }
        bench__arg(&b, "-depth");       /* xc: is 16-bit in a Q16 build: write 8-bit */
        bench__arg(&b, "8");
        bench__arg(&b, "%s", cli->output);
        break;
    }
    if (b.overflow) {
        bench_cli_free(cli);
        return ks_err(err, KS_INVALID, "the %s command line is too long", names[tool]);
    }
    *out = cli;
    return KS_OK;
}

void bench_cli_free(bench_cli_t *cli)
{
    if (cli == NULL)
        return;
    free(cli->strings);
    free(cli);
}

/* The first line of the run's stderr, for an error message. */
static void bench__first_line(const char *path, char *line, size_t size)
{
    FILE *f = fopen(path, "r");

    line[0] = '\0';
    if (f == NULL)
        return;
    if (fgets(line, (int)size, f) != NULL)
        line[strcspn(line, "\n")] = '\0';
    fclose(f);
}

ks_rc bench_cli_run(void *state, bench_output_t *out, ks_err_t *err)
{
    bench_cli_t *cli = state;
    char stderr_path[PATH_MAX + 8], reason[256];
    posix_spawn_file_actions_t actions;
    pid_t pid;
    int status, spawn_rc;

    snprintf(stderr_path, sizeof stderr_path, "%s.stderr", cli->output);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path, O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    spawn_rc = posix_spawn(&pid, cli->argv[0], &actions, NULL, cli->argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawn_rc != 0)
        return ks_err(err, KS_ERROR, "posix_spawn() \"%s\" failed (%d: %s)", cli->argv[0],
                      spawn_rc, strerror(spawn_rc));
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return ks_err(err, KS_ERROR, "waitpid() for \"%s\" failed (%d: %s)", cli->argv[0],
                          errno, strerror(errno));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        bench__first_line(stderr_path, reason, sizeof reason);
        return ks_err(err, KS_ERROR, "\"%s\" %s %d: %s", cli->argv[0],
                      WIFEXITED(status) ? "exited with" : "died of signal",
                      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                      reason[0] ? reason : "(nothing on stderr)");
    }
    if (out == NULL)
        return KS_OK;
    out->release = free;
    return ks_file_read(cli->output, BENCH_CLI_OUTPUT_MAX, &out->data, &out->size, err);
}
