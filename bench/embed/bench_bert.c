/*
 * bench_bert.c - the BERT encoder's arithmetic rate on a fixed shape, against
 * this machine's fp32 peak.
 *
 * Registers the GGUF file given (embed/bert.h) and embeds batches of --seqs
 * texts of exactly --tokens tokens each ([CLS], tokens - 2 full stops - one
 * token each, a vocabulary piece or [UNK] - and [SEP]) with --threads BLAS
 * threads, through the model's embed() as the indexer calls it (tokenization
 * included).  The useful work is counted as 2 M N K flops for every GEMM of
 * the forward pass (the fused Q/K/V, output, FFN up and down projections
 * over all tokens) plus the attention matmuls (Q K^T and P V: 4 L^2 h per
 * sequence and layer); LayerNorm, softmax, GELU and pooling are not counted.
 * Two peaks are printed for comparison: the nominal one, threads x 2 FMA
 * units x 8 fp32 lanes x 2 flops x the clock in /proc/cpuinfo (AVX2 + FMA),
 * and the rate of one large cblas_sgemm (2048^3) measured in the same run.
 * The process's CPU time per batch is printed too: on a shared machine the
 * wall clock includes time other processes took, CPU time does not, so
 * GFLOP per CPU-second against one core's nominal rate is the efficiency of
 * the code while it runs.
 *
 *   bench_bert MODEL.gguf [--seqs 32] [--tokens 128] [--threads 2] [--repeat 5]
 */
#include "core/alloc.h"
#include "core/str.h"
#include "embed/bert.h"
#include "embed/embed.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PEAK_N = 2048 };

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* The first "cpu MHz" of /proc/cpuinfo in GHz, or 0. */
static double cpu_ghz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    double mhz = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "cpu MHz", 7) == 0) {
            const char *c = strchr(line, ':');
            mhz = c ? strtod(c + 1, NULL) : 0;
            break;
        }
    if (f)
        fclose(f);
    return mhz / 1000;
}

/* GFLOP/s of the best of three PEAK_N^3 sgemm. */
static double sgemm_peak(void)
{
    size_t n = PEAK_N;
    float *a = rg_xmalloc(n * n * sizeof *a), *b = rg_xmalloc(n * n * sizeof *b),
          *c = rg_xmalloc(n * n * sizeof *c);
    for (size_t i = 0; i < n * n; i++) {
        a[i] = (float)(i % 7) * 0.01f;
        b[i] = (float)(i % 5) * 0.02f;
    }
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0f, a,
                    (int)n, b, (int)n, 0.0f, c, (int)n);
        double dt = now_s() - t0;
        if (r > 0 && dt < best) /* the first warms up */
            best = dt;
    }
    rg_free(a);
    rg_free(b);
    rg_free(c);
    return 2.0 * (double)n * (double)n * (double)n / best / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_bert MODEL.gguf [--seqs N] [--tokens N] [--threads N] "
                    "[--repeat N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int seqs = 32, tokens = 128, threads = 2, repeat = 5;
    for (int i = 1; i < argc; i++) {
        int *v = strcmp(argv[i], "--seqs") == 0      ? &seqs
                 : strcmp(argv[i], "--tokens") == 0  ? &tokens
                 : strcmp(argv[i], "--threads") == 0 ? &threads
                 : strcmp(argv[i], "--repeat") == 0  ? &repeat
                                                     : NULL;
        if (v && i + 1 < argc)
            *v = (int)strtol(argv[++i], NULL, 10);
        else if (argv[i][0] == '-' || path)
            usage();
        else
            path = argv[i];
    }
    if (!path || seqs < 1 || tokens < 3 || threads < 1 || repeat < 1)
        usage();
    char err[512];
    if (rg_bert_start(path, threads, err, sizeof err) != RG_OK) {
        fprintf(stderr, "bench_bert: %s\n", err);
        return 1;
    }
    const char *base = strrchr(path, '/');
    char name[256];
    snprintf(name, sizeof name, "%s", base ? base + 1 : path);
    if (strlen(name) > 5 && strcmp(name + strlen(name) - 5, ".gguf") == 0)
        name[strlen(name) - 5] = '\0';
    const rg_embed_model *m = rg_embed_find("ragd", name);
    rg_bert_shape sh = {0};
    if (!rg_bert_shape_of(m, &sh) || (size_t)tokens > sh.ctx) {
        fprintf(stderr, "bench_bert: %d tokens exceed the model's window of %zu\n", tokens, sh.ctx);
        return 1;
    }
    char *text = rg_xmalloc((size_t)tokens * 2);
    for (int i = 0; i < tokens - 2; i++)
        memcpy(text + 2 * i, ". ", 2);
    rg_str *texts = rg_xmalloc((size_t)seqs * sizeof *texts);
    for (int i = 0; i < seqs; i++)
        texts[i] = (rg_str){text, (size_t)(tokens - 2) * 2};
    float *out = rg_xmalloc((size_t)seqs * (size_t)m->dims * sizeof *out);

    double h = (double)sh.hidden, f = (double)sh.ffn, t = (double)seqs * tokens;
    double per_layer =
        2 * t * (3 * h * h + h * h + 2 * h * f) + (double)seqs * 4 * (double)tokens * tokens * h;
    double flops = per_layer * (double)sh.layers;
    double best = 1e30, best_cpu = 1e30;
    for (int r = -1; r < repeat; r++) {
        double t0 = now_s(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (m->embed(m, texts, (size_t)seqs, out, err) != RG_OK) {
            fprintf(stderr, "bench_bert: embed: %s\n", err);
            return 1;
        }
        double dt = now_s() - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (r >= 0 && dt < best)
            best = dt;
        if (r >= 0 && dc < best_cpu)
            best_cpu = dc;
    }
    double ghz = cpu_ghz(), nominal = threads * 2 * 8 * 2 * ghz, peak = sgemm_peak();
    double got = flops / best / 1e9;
    printf("model      %s (%zu layers, hidden %zu, ffn %zu, %zu heads)\n", m->name, sh.layers,
           sh.hidden, sh.ffn, sh.heads);
    printf("shape      %d x %d tokens, %d BLAS threads, best of %d\n", seqs, tokens, threads,
           repeat);
    printf("time       %.2f ms per batch: %.0f texts/s, %.0f tokens/s\n", best * 1e3, seqs / best,
           t / best);
    printf("work       %.3f GFLOP per batch (GEMMs + attention matmuls)\n", flops / 1e9);
    printf("achieved   %.1f GFLOP/s\n", got);
    printf("peak       nominal %.1f GFLOP/s (%d x 2 FMA x 8 lanes x 2 x %.3f GHz): %.0f%%\n",
           nominal, threads, ghz, nominal > 0 ? 100 * got / nominal : 0.0);
    printf("peak       sgemm %dx%dx%d %.1f GFLOP/s: %.0f%%\n", PEAK_N, PEAK_N, PEAK_N, peak,
           100 * got / peak);
    printf("cpu time   %.2f s per batch (all threads): %.1f GFLOP per CPU-second, %.0f%% of one "
           "core's nominal (OpenBLAS threads waiting in sched_yield count as busy)\n",
           best_cpu, flops / best_cpu / 1e9, 100 * flops / best_cpu / 1e9 / (nominal / threads));
    rg_free(out);
    rg_free(texts);
    rg_free(text);
    return 0;
}
