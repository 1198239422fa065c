/*
 * bench_split.c - throughput of the splitter (and, for reference, the cleaner)
 * on one large UTF-8 file.
 *
 * The whole file is split with Dify's automatic rule (500 characters, overlap
 * 50) in one call, as the pipeline does for one extracted document; the run is
 * repeated and the best and median wall-clock times reported as MB/s of input
 * (10^6 bytes).  The output array is kept in an arena freed after each run,
 * so allocation is part of what is measured.  One thread, no I/O in the timed
 * part.  Usage: bench_split FILE [REPEATS]
 */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"
#include "ingest/clean.h"
#include "ingest/split.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    rg_buf b;
    rg_buf_init(&b, (size_t)1 << 32);
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (rg_buf_append(&b, chunk, n) != RG_OK)
            break;
    bool bad = ferror(f) || rg_buf_failed(&b);
    fclose(f);
    if (bad) {
        rg_buf_free(&b);
        return NULL;
    }
    return rg_buf_take(&b, len);
}

/* Times fn over `reps` runs; prints best and median MB/s. */
static void report(const char *what, size_t bytes, double *t, int reps)
{
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double mb = (double)bytes / 1e6;
    printf("%-28s best %8.1f MB/s   median %8.1f MB/s   (%d runs, best %.3f s)\n", what, mb / t[0],
           mb / t[reps / 2], reps, t[0]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_split FILE [REPEATS]\n");
        return 2;
    }
    int64_t reps64 = 5;
    if (argc > 2 && rg_str_to_i64(rg_str_c(argv[2]), 1, 1000, &reps64) != RG_OK) {
        fprintf(stderr, "bench_split: REPEATS must be 1..1000\n");
        return 2;
    }
    int reps = (int)reps64;
    size_t len;
    char *text = read_file(argv[1], &len);
    if (!text) {
        fprintf(stderr, "bench_split: cannot read %s\n", argv[1]);
        return 1;
    }
    rg_str t = {text, len};
    if (!rg_utf8_valid(t.p, t.n)) {
        fprintf(stderr, "bench_split: %s is not valid UTF-8\n", argv[1]);
        return 1;
    }
    size_t chars = rg_utf8_len(t.p, t.n);
    printf("input: %s, %.1f MB, %zu characters\n", argv[1], (double)len / 1e6, chars);

    double *times = rg_xcalloc((size_t)reps, sizeof *times);
    rg_split_rule rule = rg_split_rule_automatic();
    size_t n_chunks = 0, chunk_chars = 0;
    for (int r = 0; r < reps; r++) {
        rg_arena *a = rg_arena_new((size_t)1 << 32);
        rg_str *c;
        double t0 = now_s();
        rg_rc rc = rg_split_text(a, t, &rule, 0, &c, &n_chunks);
        times[r] = now_s() - t0;
        if (rc != RG_OK) {
            fprintf(stderr, "bench_split: split failed: %s\n", rg_rc_name(rc));
            return 1;
        }
        if (r == 0)
            for (size_t i = 0; i < n_chunks; i++)
                chunk_chars += rg_utf8_len(c[i].p, c[i].n);
        rg_arena_free(a);
    }
    printf("chunks: %zu, mean %.1f characters (automatic rule: max 500, overlap 50)\n", n_chunks,
           n_chunks ? (double)chunk_chars / (double)n_chunks : 0.0);
    report("split (automatic)", len, times, reps);

    const rg_clean_rule rules[] = {RG_CLEAN_REMOVE_EXTRA_SPACES};
    for (int r = 0; r < reps; r++) {
        rg_buf out;
        rg_buf_init(&out, len);
        double t0 = now_s();
        rg_rc rc = rg_clean_text(t, rules, 1, &out);
        times[r] = now_s() - t0;
        rg_buf_free(&out);
        if (rc != RG_OK) {
            fprintf(stderr, "bench_split: clean failed: %s\n", rg_rc_name(rc));
            return 1;
        }
    }
    report("clean (remove_extra_spaces)", len, times, reps);
    rg_free(times);
    rg_free(text);
    return 0;
}
