/*
 * bench_hash.c - throughput of an embedding model on real text.
 *
 * Reads a UTF-8 corpus, cuts it into texts - every non-blank line, or with
 * --chunk N consecutive non-blank lines joined until a text holds at least N
 * bytes (the size of a knowledge-base segment) - and embeds them in batches
 * of 32 through the registry, as the indexer will.  Prints texts/s and MB/s
 * (10^6 bytes of embedded text per second; wall clock, one thread, the best
 * of --repeat timed passes after an untimed one) and a checksum of the
 * vectors from the untimed pass, which must not change from run to run.
 * Lines that are not valid UTF-8 are skipped and counted.  The GloVe table
 * is registered when found (embed/glove.h), so ragd/ragd-glove-100d can be
 * named; it then is the default, as in the server.  --gguf FILE registers a
 * BERT GGUF file (embed/bert.h) as ragd/BASENAME, its forward passes on
 * --threads BLAS threads (default 1); --limit N embeds only the first N texts
 * (the transformer is ~1000 times slower than the hash model).
 *
 *   bench_hash CORPUS [--chunk BYTES] [--provider P --model M] [--repeat N]
 *              [--gguf FILE [--threads N]] [--limit N]
 */
#include "core/alloc.h"
#include "core/str.h"
#include "embed/bert.h"
#include "embed/embed.h"
#include "embed/glove.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BATCH = 32 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the whole file at path into a buffer the caller frees with rg_free. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = rg_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = rg_xrealloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        rg_free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\f')
            return false;
    return true;
}

typedef struct text_list {
    rg_str *v;
    size_t n, cap;
} text_list;

static void push(text_list *t, const char *p, size_t n)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->v = rg_xrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = (rg_str){p, n};
}

/* Cuts buf into texts (slices of buf) as described at the top; a chunk spans
 * the blank lines between its lines but never an invalid one. */
static text_list cut_texts(const char *buf, size_t len, size_t chunk, size_t *invalid)
{
    text_list t = {NULL, 0, 0};
    const char *start = NULL, *end = NULL; /* of the chunk being gathered */
    *invalid = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - buf) : len;
        const char *line = buf + i;
        size_t ln = e - i;
        i = e + 1;
        if (blank(line, ln))
            continue;
        if (!rg_utf8_valid(line, ln)) {
            (*invalid)++;
            if (start)
                push(&t, start, (size_t)(end - start));
            start = NULL;
            continue;
        }
        if (!start)
            start = line;
        end = line + ln;
        if ((size_t)(end - start) >= chunk) {
            push(&t, start, (size_t)(end - start));
            start = NULL;
        }
    }
    if (start)
        push(&t, start, (size_t)(end - start));
    return t;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_hash CORPUS [--chunk BYTES] [--provider P --model M] [--repeat N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *provider = NULL, *name = NULL, *gguf = NULL;
    size_t chunk = 0, limit = 0;
    int repeat = 1, threads = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc)
            chunk = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--provider") == 0 && i + 1 < argc)
            provider = argv[++i];
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--gguf") == 0 && i + 1 < argc)
            gguf = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
            limit = (size_t)strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] == '-' || path)
            usage();
        else
            path = argv[i];
    }
    if (!path || repeat < 1 || (!provider != !name))
        usage();
    rg_glove_start(); /* registers ragd-glove-100d when build/models/ holds its table */
    char err[512];
    if (gguf && rg_bert_start(gguf, threads, err, sizeof err) != RG_OK) {
        fprintf(stderr, "bench_hash: %s\n", err);
        return 1;
    }
    const rg_embed_model *m = provider ? rg_embed_find(provider, name) : rg_embed_default();
    if (!m) {
        fprintf(stderr, "bench_hash: no model %s/%s\n", provider, name);
        return 1;
    }
    size_t len = 0;
    char *buf = read_file(path, &len);
    if (!buf) {
        perror(path);
        return 1;
    }
    size_t invalid = 0;
    text_list all = cut_texts(buf, len, chunk, &invalid);
    size_t n = limit && limit < all.n ? limit : all.n;
    const rg_str *texts = all.v;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += texts[i].n;

    size_t dims = (size_t)m->dims;
    float *out = rg_xmalloc(BATCH * dims * sizeof(float));
    /* An untimed first pass warms up and sums the vectors (checksum). */
    double best = 0, sum = 0;
    for (int r = -1; r < repeat; r++) {
        double t0 = now_s();
        for (size_t i = 0; i < n; i += BATCH) {
            size_t k = n - i < BATCH ? n - i : BATCH;
            rg_rc rc = m->embed(m, texts + i, k, out, NULL);
            if (rc != RG_OK) {
                fprintf(stderr, "bench_hash: embed: %s\n", rg_rc_name(rc));
                return 1;
            }
            if (r < 0)
                for (size_t j = 0; j < k * dims; j++)
                    sum += out[j] * (double)((j % 7) + 1);
        }
        double dt = now_s() - t0;
        if (r == 0 || (r > 0 && dt < best))
            best = dt;
    }
    printf("model      %s/%s (%d dims, context %d chars)\n", m->provider, m->name, m->dims,
           m->context_size);
    printf("corpus     %s: %.1f MB\n", path, (double)len / 1e6);
    printf("texts      %zu (%s), mean %.0f bytes, %zu invalid UTF-8 lines skipped\n", n,
           chunk ? "chunks" : "non-blank lines", n ? (double)bytes / (double)n : 0.0, invalid);
    printf("time       %.3f s (best of %d), batches of %d, %d thread%s\n", best, repeat, BATCH,
           gguf ? threads : 1, gguf && threads > 1 ? "s" : "");
    printf("throughput %.0f texts/s, %.2f MB/s\n", (double)n / best, (double)bytes / 1e6 / best);
    rg_bert_shape sh;
    if (rg_bert_shape_of(m, &sh)) { /* count the tokens the window kept, as embed() does */
        double tokens = 0;
        for (size_t i = 0; i < n; i++)
            tokens += (double)rg_bert_tokens(m, texts[i]);
        printf("tokens     %.0f (mean %.1f a text), %.0f tokens/s\n", tokens, tokens / (double)n,
               tokens / best);
    }
    printf("checksum   %.9g\n", sum);
    rg_free(out);
    rg_free(all.v);
    rg_free(buf);
    return 0;
}
