/*
 * bench_vectors.c - ragd's side of bench/vectors (see run), three modes:
 *
 *   prep GLOVE DIR      GloVe table -> DIR/base.f32, DIR/query.f32 (f32, unit
 *                       rows; every 34th word is a query, 10,000 of them) and
 *                       DIR/gt.u32 (exact top 10 of each query by dot
 *                       product, both cores).  Files: u32 rows, u32 dims, data.
 *   run DIR M EFC EF,EF,...   builds the HNSW graph single-threaded, then for
 *                       each ef runs every query one after the other and
 *                       prints "ragd ef recall qps build_s bytes_per_vector".
 *   filter DIR M EFC EF filtered searches at several allowed fractions
 *                       against an exact scan of the allowed rows.
 */
#include "core/alloc.h"
#include "index/hnsw.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define K          10
#define N_QUERIES  10000
#define QUERY_STEP 34

typedef struct {
    uint32_t n, dims;
    float *v;
} mat;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_vectors: %s\n", what);
    exit(1);
}

static void *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = rg_xmalloc((size_t)n);
    if (fread(p, 1, (size_t)n, f) != (size_t)n)
        die("short read");
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void save(const char *dir, const char *name, uint32_t n, uint32_t dims, const void *p,
                 size_t elem)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(&n, 4, 1, f) != 1 || fwrite(&dims, 4, 1, f) != 1 ||
        fwrite(p, elem, (size_t)n * dims, f) != (size_t)n * dims || fclose(f) != 0)
        die(path);
}

static mat load(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    uint32_t *p = slurp(path, &len);
    mat m = {p[0], p[1], NULL};
    m.v = rg_xmalloc((size_t)m.n * m.dims * 4);
    memcpy(m.v, p + 2, (size_t)m.n * m.dims * 4);
    rg_free(p);
    return m;
}

static float half(uint16_t h)
{
    int e = (h >> 10) & 31, f = h & 1023;
    float v = e == 0    ? ldexpf((float)f, -24)
              : e == 31 ? (f ? NAN : INFINITY)
                        : ldexpf((float)(f | 1024), e - 25);
    return h >> 15 ? -v : v;
}

/* --- prep ------------------------------------------------------------------ */

typedef struct {
    const mat *base, *q;
    uint32_t *gt;
    uint32_t from, to;
} gt_job;

static void top_insert(float *bs, uint32_t *bi, float s, uint32_t id)
{
    if (s <= bs[K - 1])
        return;
    int j = K - 1;
    while (j > 0 && bs[j - 1] < s) {
        bs[j] = bs[j - 1];
        bi[j] = bi[j - 1];
        j--;
    }
    bs[j] = s;
    bi[j] = id;
}

static void *gt_run(void *arg)
{
    gt_job *j = arg;
    for (uint32_t q = j->from; q < j->to; q++) {
        float bs[K];
        uint32_t bi[K] = {0};
        for (int i = 0; i < K; i++)
            bs[i] = -INFINITY;
        const float *x = j->q->v + (size_t)q * j->q->dims;
        for (uint32_t r = 0; r < j->base->n; r++)
            top_insert(bs, bi,
                       rg_index__dot(x, j->base->v + (size_t)r * j->base->dims, j->base->dims), r);
        memcpy(j->gt + (size_t)q * K, bi, sizeof bi);
    }
    return NULL;
}

static void prep(const char *glove, const char *dir)
{
    size_t len;
    unsigned char *p = slurp(glove, &len);
    if (len < 80 || memcmp(p, "RGGLOVE1", 8) != 0)
        die("not an RGGLOVE1 file");
    uint32_t dims, count, dtype;
    uint64_t voff;
    memcpy(&dims, p + 12, 4);
    memcpy(&count, p + 16, 4);
    memcpy(&dtype, p + 20, 4);
    memcpy(&voff, p + 64, 8);
    size_t es = dtype == 1 ? 2 : 4;
    if (voff + (uint64_t)count * dims * es > len)
        die("truncated table");
    mat base = {0, dims, rg_xmalloc((size_t)count * dims * 4)};
    mat q = {0, dims, rg_xmalloc((size_t)N_QUERIES * dims * 4)};
    for (uint32_t w = 0; w < count; w++) {
        bool is_q = w % QUERY_STEP == 0 && q.n < N_QUERIES;
        float *dst = is_q ? q.v + (size_t)q.n++ * dims : base.v + (size_t)base.n++ * dims;
        double n2 = 0;
        for (uint32_t i = 0; i < dims; i++) {
            const unsigned char *e = p + voff + ((size_t)w * dims + i) * es;
            if (es == 2) {
                uint16_t h;
                memcpy(&h, e, 2);
                dst[i] = half(h);
            } else {
                memcpy(&dst[i], e, 4);
            }
            n2 += (double)dst[i] * dst[i];
        }
        if (n2 > 0)
            for (uint32_t i = 0; i < dims; i++)
                dst[i] = (float)(dst[i] / sqrt(n2));
    }
    save(dir, "base.f32", base.n, dims, base.v, 4);
    save(dir, "query.f32", q.n, dims, q.v, 4);
    uint32_t *gt = rg_xmalloc((size_t)q.n * K * 4);
    enum { T = 2 };
    pthread_t th[T];
    gt_job jobs[T];
    for (int t = 0; t < T; t++) {
        jobs[t] = (gt_job){&base, &q, gt, q.n * (uint32_t)t / T, q.n * (uint32_t)(t + 1) / T};
        pthread_create(&th[t], NULL, gt_run, &jobs[t]);
    }
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    save(dir, "gt.u32", q.n, K, gt, 4);
    fprintf(stderr, "bench/vectors: %u base rows, %u queries, %u dims\n", base.n, q.n, dims);
}

/* --- run ------------------------------------------------------------------- */

static rg_index__hnsw *build(const mat *b, int m, int efc, double *secs)
{
    rg_index__hnsw_params p;
    rg_index__hnsw_defaults(&p);
    p.m = m;
    p.ef_construction = efc;
    rg_index__hnsw *h;
    if (rg_index__hnsw_new((int)b->dims, &p, &h) != RG_OK)
        die("hnsw_new");
    double t0 = now();
    if (rg_index__hnsw_reserve(h, b->n) != RG_OK)
        die("hnsw_reserve");
    for (uint32_t r = 0; r < b->n; r++)
        if (rg_index__hnsw_add(h, b->v, r) != RG_OK)
            die("hnsw_add");
    *secs = now() - t0;
    return h;
}

static void run(const char *dir, int m, int efc, char *efs)
{
    mat b = load(dir, "base.f32"), q = load(dir, "query.f32"), gt = load(dir, "gt.u32");
    const char *lim = getenv("BENCH_ROWS"); /* for profiling: a prefix of the base */
    if (lim && strtoul(lim, NULL, 10) < b.n)
        b.n = (uint32_t)strtoul(lim, NULL, 10);
    double bs;
    rg_index__hnsw *h = build(&b, m, efc, &bs);
    rg_index__scored out[K];
    size_t n;
    /* warm the search pool and caches */
    for (uint32_t i = 0; i < 200; i++)
        if (rg_index__hnsw_search(h, b.v, q.v + (size_t)i * q.dims, K, 10, NULL, out, &n))
            die("search");
    double per = (double)rg_index__hnsw_bytes(h) / b.n;
    for (char *tok = strtok(efs, ","); tok; tok = strtok(NULL, ",")) {
        size_t ef = strtoul(tok, NULL, 10), hit = 0;
        double t0 = now();
        for (uint32_t i = 0; i < q.n; i++) {
            if (rg_index__hnsw_search(h, b.v, q.v + (size_t)i * q.dims, K, ef, NULL, out, &n))
                die("search");
            const uint32_t *want = (const uint32_t *)gt.v + (size_t)i * K;
            for (size_t j = 0; j < n; j++)
                for (int w = 0; w < K; w++)
                    hit += out[j].unit == want[w];
        }
        double t = now() - t0;
        printf("ragd %zu %.4f %.0f %.1f %.1f %.1f\n", ef, (double)hit / ((double)q.n * K), q.n / t,
               bs, per, per + b.dims * 4.0);
        fflush(stdout);
    }
    rg_index__hnsw_free(h);
}

/* --- filter ---------------------------------------------------------------- */

static void filter(const char *dir, int m, int efc, size_t ef)
{
    mat b = load(dir, "base.f32"), q = load(dir, "query.f32");
    double bs;
    rg_index__hnsw *h = build(&b, m, efc, &bs);
    size_t words = (b.n + 63) / 64;
    uint64_t *allow = rg_xmalloc(words * 8);
    static const double fracs[] = {0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005};
    enum { NQ = 500 };
    printf("allowed  recall  hnsw_us  exact_us\n");
    for (size_t f = 0; f < sizeof fracs / sizeof *fracs; f++) {
        memset(allow, 0, words * 8);
        uint64_t x = 12345;
        for (uint32_t r = 0; r < b.n; r++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if ((double)(x >> 11) / 9007199254740992.0 < fracs[f])
                allow[r / 64] |= 1ull << (r % 64);
        }
        double th = 0, te = 0;
        size_t hit = 0, total = 0;
        for (uint32_t i = 0; i < NQ; i++) {
            const float *qq = q.v + (size_t)i * q.dims;
            rg_index__scored out[K];
            size_t n;
            double t0 = now();
            if (rg_index__hnsw_search(h, b.v, qq, K, ef, allow, out, &n))
                die("search");
            double t1 = now();
            float bsc[K];
            uint32_t bi[K] = {0};
            for (int j = 0; j < K; j++)
                bsc[j] = -INFINITY;
            for (size_t w = 0; w < words; w++)
                for (uint64_t bits = allow[w]; bits; bits &= bits - 1) {
                    uint32_t r = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
                    top_insert(bsc, bi, rg_index__dot(qq, b.v + (size_t)r * b.dims, b.dims), r);
                }
            double t2 = now();
            th += t1 - t0;
            te += t2 - t1;
            for (size_t j = 0; j < n; j++)
                for (int w = 0; w < K; w++)
                    hit += out[j].unit == bi[w] && bsc[w] > -INFINITY;
            for (int w = 0; w < K; w++)
                total += bsc[w] > -INFINITY;
        }
        printf("%6.1f%%  %.4f  %7.0f  %8.0f\n", fracs[f] * 100, (double)hit / total, th / NQ * 1e6,
               te / NQ * 1e6);
        fflush(stdout);
    }
    rg_index__hnsw_free(h);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "prep") == 0)
        prep(argv[2], argv[3]);
    else if (argc == 6 && strcmp(argv[1], "run") == 0)
        run(argv[2], (int)strtol(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10), argv[5]);
    else if (argc == 6 && strcmp(argv[1], "filter") == 0)
        filter(argv[2], (int)strtol(argv[3], NULL, 10), (int)strtol(argv[4], NULL, 10),
               strtoul(argv[5], NULL, 10));
    else
        die("usage: prep GLOVE DIR | run DIR M EFC EF,EF,... | filter DIR M EFC EF");
    return 0;
}
