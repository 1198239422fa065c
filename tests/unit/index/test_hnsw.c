/*
 * test_hnsw.c - the approximate vector index: recall against an exact scan on
 * seeded random unit vectors, filters (never a disallowed row, allowed ones
 * found), k beyond the rows, tiny and duplicate graphs, determinism, the
 * memory figure, and argument checks.
 */
#include "harness.h"

#include "core/alloc.h"
#include "index/hnsw.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

static uint64_t hrng;

static double hrand(void)
{
    uint64_t x = hrng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    hrng = x;
    return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2 - 1;
}

static void unit_rows(float *v, size_t rows, int dims)
{
    for (size_t r = 0; r < rows; r++, v += dims) {
        double n = 0;
        for (int i = 0; i < dims; i++) {
            v[i] = (float)hrand();
            n += (double)v[i] * v[i];
        }
        for (int i = 0; i < dims; i++)
            v[i] = (float)(v[i] / sqrt(n));
    }
}

static rg_index__hnsw *build(const float *data, size_t rows, int dims,
                             const rg_index__hnsw_params *p)
{
    rg_index__hnsw *h = NULL;
    CHECK_EQ_INT(rg_index__hnsw_new(dims, p, &h), RG_OK);
    for (size_t r = 0; r < rows; r++)
        CHECK_EQ_INT(rg_index__hnsw_add(h, data, (uint32_t)r), RG_OK);
    return h;
}

/* The exact best k allowed rows' numbers into want (returns how many). */
static size_t exact(const float *data, size_t rows, int dims, const float *q, size_t k,
                    const uint64_t *allow, uint32_t *want)
{
    double best[16];
    size_t n = 0;
    for (size_t r = 0; r < rows; r++) {
        if (allow && !((allow[r / 64] >> (r % 64)) & 1))
            continue;
        double s = 0;
        for (int i = 0; i < dims; i++)
            s += (double)q[i] * data[r * (size_t)dims + (size_t)i];
        size_t j = n < k ? n++ : k;
        if (j == k && s <= best[k - 1])
            continue;
        if (j == k)
            j = k - 1;
        while (j > 0 && best[j - 1] < s) {
            best[j] = best[j - 1];
            want[j] = want[j - 1];
            j--;
        }
        best[j] = s;
        want[j] = (uint32_t)r;
    }
    return n;
}

/* recall@10 of nq random queries (allow may be NULL); checks every returned
 * row is allowed, sorted best first, and scored by its dot product. */
static double recall(const rg_index__hnsw *h, const float *data, size_t rows, int dims, int nq,
                     const uint64_t *allow)
{
    size_t hit = 0, total = 0;
    float q[64];
    for (int i = 0; i < nq; i++) {
        unit_rows(q, 1, dims);
        uint32_t want[10];
        size_t nw = exact(data, rows, dims, q, 10, allow, want);
        rg_index__scored got[10];
        size_t n = 99;
        CHECK_EQ_INT(rg_index__hnsw_search(h, data, q, 10, 0, allow, got, &n), RG_OK);
        CHECK_EQ_INT(n, nw);
        for (size_t j = 0; j < n; j++) {
            uint32_t r = got[j].unit;
            CHECK(r < rows);
            CHECK(!allow || ((allow[r / 64] >> (r % 64)) & 1));
            CHECK(j == 0 || got[j].score <= got[j - 1].score);
            double s = 0;
            for (int d = 0; d < dims; d++)
                s += (double)q[d] * data[r * (size_t)dims + (size_t)d];
            CHECK(fabs(s - got[j].score) < 1e-5);
            for (size_t w = 0; w < nw; w++)
                hit += want[w] == r;
        }
        total += nw;
    }
    return total ? (double)hit / (double)total : 1;
}

#define ROWS 3000
#define DIMS 24

TEST(index_hnsw_recall_and_filters)
{
    hrng = 0x2545f4914f6cdd1dull;
    float *data = rg_xmalloc((size_t)ROWS * DIMS * sizeof *data);
    unit_rows(data, ROWS, DIMS);
    rg_index__hnsw *h = build(data, ROWS, DIMS, NULL);
    CHECK_EQ_INT(rg_index__hnsw_rows(h), ROWS);
    double r = recall(h, data, ROWS, DIMS, 60, NULL);
    CHECK(r >= 0.95);

    /* 50 % and 5 % of the rows allowed, scattered */
    uint64_t allow[(ROWS + 63) / 64];
    static const int every[] = {2, 20};
    for (size_t f = 0; f < RG_ARRAY_LEN(every); f++) {
        memset(allow, 0, sizeof allow);
        for (size_t i = 0; i < ROWS; i++)
            if ((i * 7919) % (size_t)every[f] == 0)
                allow[i / 64] |= 1ull << (i % 64);
        r = recall(h, data, ROWS, DIMS, 40, allow);
        CHECK(r >= 0.95);
    }
    /* one allowed row: found whatever the query */
    memset(allow, 0, sizeof allow);
    allow[1234 / 64] |= 1ull << (1234 % 64);
    rg_index__scored got[10];
    size_t n = 0;
    CHECK_EQ_INT(rg_index__hnsw_search(h, data, data, 10, 0, allow, got, &n), RG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(got[0].unit, 1234);
    /* nothing allowed */
    memset(allow, 0, sizeof allow);
    CHECK_EQ_INT(rg_index__hnsw_search(h, data, data, 10, 0, allow, got, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    /* a stored row finds itself first */
    for (uint32_t i = 0; i < ROWS; i += 97) {
        CHECK_EQ_INT(rg_index__hnsw_search(h, data, data + i * DIMS, 1, 0, NULL, got, &n), RG_OK);
        CHECK(n == 1 && got[0].unit == i);
    }

    /* memory: links of 2M + 1 words per row at least, and not absurd */
    size_t b = rg_index__hnsw_bytes(h);
    CHECK(b >= (size_t)ROWS * 33 * 4);
    CHECK(b < (size_t)ROWS * 400);
    rg_index__hnsw_free(h);
    rg_free(data);
}

TEST(index_hnsw_k_beyond_rows_and_small_graphs)
{
    hrng = 7;
    float data[40 * 8];
    unit_rows(data, 40, 8);
    rg_index__scored got[64];
    size_t n = 99;
    rg_index__hnsw *h = build(data, 0, 8, NULL);
    CHECK_EQ_INT(rg_index__hnsw_search(h, data, data, 10, 0, NULL, got, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    size_t added = 0;
    for (size_t rows = 1; rows <= 40; rows += rows < 3 ? 1 : 37) { /* 1, 2, 3, 40 */
        while (added < rows)
            CHECK_EQ_INT(rg_index__hnsw_add(h, data, (uint32_t)added++), RG_OK);
        /* k > rows: every row, exactly ordered, the query itself first */
        CHECK_EQ_INT(rg_index__hnsw_search(h, data, data, 64, 0, NULL, got, &n), RG_OK);
        CHECK_EQ_INT(n, rows);
        CHECK_EQ_INT(got[0].unit, 0);
        for (size_t j = 1; j < n; j++)
            CHECK(got[j].score <= got[j - 1].score);
        CHECK_EQ_INT(rg_index__hnsw_search(h, data, data, 0, 0, NULL, got, &n), RG_OK);
        CHECK_EQ_INT(n, 0);
    }
    rg_index__hnsw_free(h);

    /* 2 rows */
    h = build(data, 2, 8, NULL);
    CHECK_EQ_INT(rg_index__hnsw_search(h, data, data + 8, 5, 1, NULL, got, &n), RG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(got[0].unit, 1);
    CHECK_EQ_INT(got[1].unit, 0);
    rg_index__hnsw_free(h);
}

TEST(index_hnsw_duplicates_and_nan)
{
    /* 1000 random rows of which 100..399 are copies of row 7 and row 5 is
     * broken (NaN): the copies must not trap searches, the NaN row is never
     * returned */
    enum { R = 1000, D = 16 };
    hrng = 5;
    float *data = rg_xmalloc((size_t)R * D * sizeof *data);
    unit_rows(data, R, D);
    for (size_t i = 100; i < 400; i++)
        memcpy(data + i * D, data + 7 * D, D * sizeof *data);
    data[5 * D] = NAN;
    rg_index__hnsw *h = build(data, R, D, NULL);
    rg_index__scored got[R];
    size_t n = 0;
    CHECK_EQ_INT(rg_index__hnsw_search(h, data, data + 7 * D, 10, 0, NULL, got, &n), RG_OK);
    CHECK_EQ_INT(n, 10);
    for (size_t j = 0; j < n; j++)
        CHECK((got[j].unit == 7 || (got[j].unit >= 100 && got[j].unit < 400)) &&
              fabs(got[j].score - 1) < 1e-5);
    float *other = rg_xmalloc((size_t)R * D * sizeof *data); /* the NaN row left out */
    memcpy(other, data, (size_t)R * D * sizeof *data);
    other[5 * D] = -2; /* never near a unit query */
    CHECK(recall(h, other, R, D, 40, NULL) >= 0.9);
    CHECK_EQ_INT(rg_index__hnsw_search(h, data, data, R, R, NULL, got, &n), RG_OK);
    CHECK(n >= R - 50 && n <= R - 1); /* a few copies may be unreachable */
    for (size_t j = 0; j < n; j++)
        CHECK(got[j].unit != 5 && (j == 0 || got[j].score <= got[j - 1].score));
    rg_index__hnsw_free(h);
    rg_free(other);
    rg_free(data);
}

TEST(index_hnsw_deterministic)
{
    hrng = 99;
    enum { R = 800, D = 16 };
    float *data = rg_xmalloc((size_t)R * D * sizeof *data);
    unit_rows(data, R, D);
    rg_index__hnsw_params p;
    rg_index__hnsw_defaults(&p);
    p.m = 6;
    p.ef_construction = 20;
    p.seed = 42;
    rg_index__hnsw *a = build(data, R, D, &p), *b = build(data, R, D, &p);
    CHECK_EQ_INT(rg_index__hnsw_bytes(a), rg_index__hnsw_bytes(b));
    for (int i = 0; i < 50; i++) {
        float q[D];
        unit_rows(q, 1, D);
        rg_index__scored x[10], y[10];
        size_t nx = 0, ny = 0;
        CHECK_EQ_INT(rg_index__hnsw_search(a, data, q, 10, 10, NULL, x, &nx), RG_OK);
        CHECK_EQ_INT(rg_index__hnsw_search(b, data, q, 10, 10, NULL, y, &ny), RG_OK);
        CHECK_EQ_INT(nx, ny);
        for (size_t j = 0; j < nx && j < ny; j++)
            CHECK(x[j].unit == y[j].unit && x[j].score == y[j].score);
    }
    rg_index__hnsw_free(a);
    rg_index__hnsw_free(b);
    rg_free(data);
}

typedef struct {
    const rg_index__hnsw *h;
    const float *data;
    uint32_t first[40]; /* the best row of each query */
    int bad;
} par_job;

static void *par_search(void *arg)
{
    par_job *j = arg;
    for (int round = 0; round < 5; round++)
        for (uint32_t i = 0; i < 40; i++) {
            rg_index__scored got[5];
            size_t n = 0;
            if (rg_index__hnsw_search(j->h, j->data, j->data + i * 7 * 16, 5, 0, NULL, got, &n) !=
                    RG_OK ||
                n != 5 || got[0].unit != j->first[i])
                j->bad++;
        }
    return NULL;
}

TEST(index_hnsw_concurrent_searches)
{
    /* four threads search one graph at once and agree with a lone search */
    enum { R = 600, D = 16 };
    hrng = 11;
    float *data = rg_xmalloc((size_t)R * D * sizeof *data);
    unit_rows(data, R, D);
    rg_index__hnsw *h = build(data, R, D, NULL);
    par_job jobs[4];
    for (uint32_t i = 0; i < 40; i++) {
        rg_index__scored got[5];
        size_t n = 0;
        CHECK_EQ_INT(rg_index__hnsw_search(h, data, data + i * 7 * D, 5, 0, NULL, got, &n), RG_OK);
        CHECK(n == 5 && got[0].unit == i * 7); /* a stored row finds itself */
    }
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (par_job){h, data, {0}, 0};
        for (uint32_t i = 0; i < 40; i++)
            jobs[t].first[i] = i * 7;
        CHECK_EQ_INT(pthread_create(&th[t], NULL, par_search, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        CHECK_EQ_INT(jobs[t].bad, 0);
    }
    rg_index__hnsw_free(h);
    rg_free(data);
}

TEST(index_hnsw_arguments)
{
    rg_index__hnsw_params p;
    rg_index__hnsw_defaults(&p);
    CHECK(p.m >= 2 && p.ef_construction >= p.m && p.ef_search >= 10);
    rg_index__hnsw *h = (rg_index__hnsw *)&p;
    CHECK_EQ_INT(rg_index__hnsw_new(0, NULL, &h), RG_EINVAL);
    CHECK(h == NULL);
    CHECK_EQ_INT(rg_index__hnsw_new(RG_INDEX_MAX_DIMS + 1, NULL, &h), RG_EINVAL);
    p.m = RG_INDEX_HNSW_MAX_M + 1;
    CHECK_EQ_INT(rg_index__hnsw_new(8, &p, &h), RG_EINVAL);
    p.m = 1;
    CHECK_EQ_INT(rg_index__hnsw_new(8, &p, &h), RG_EINVAL);
    rg_index__hnsw_defaults(&p);
    p.ef_construction = RG_INDEX_HNSW_MAX_EF + 1;
    CHECK_EQ_INT(rg_index__hnsw_new(8, &p, &h), RG_EINVAL);
    rg_index__hnsw_defaults(&p);
    p.ef_search = 0;
    CHECK_EQ_INT(rg_index__hnsw_new(8, &p, &h), RG_EINVAL);
    CHECK_EQ_INT(rg_index__hnsw_new(8, NULL, &h), RG_OK);
    float v[16] = {1};
    CHECK_EQ_INT(rg_index__hnsw_add(h, v, 1), RG_EINVAL); /* out of order */
    CHECK_EQ_INT(rg_index__hnsw_add(h, v, 0), RG_OK);
    CHECK_EQ_INT(rg_index__hnsw_add(h, v, 0), RG_EINVAL); /* again */
    CHECK_EQ_INT(rg_index__hnsw_add(h, NULL, 1), RG_EINVAL);
    CHECK_EQ_INT(rg_index__hnsw_rows(h), 1);
    rg_index__hnsw_free(h);
    rg_index__hnsw_free(NULL);
}
