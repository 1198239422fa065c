/*
 * test_vector.c - exact vector search: top-k against a brute force (double
 * precision dot products sorted with qsort), one matrix per dimension, units
 * without a vector, edge cases of k and dims, and the dot product kernel.
 */
#include "harness.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "index/index_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t vrng_state;

static double vrand(void)
{
    uint64_t x = vrng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    vrng_state = x;
    return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0 * 2 - 1;
}

static void random_unit(float *v, int dims)
{
    double n = 0;
    for (int i = 0; i < dims; i++) {
        v[i] = (float)vrand();
        n += (double)v[i] * v[i];
    }
    for (int i = 0; i < dims; i++)
        v[i] = (float)(v[i] / sqrt(n));
}

typedef struct {
    double score;
    size_t unit;
} brute;

static int brute_best_first(const void *a, const void *b)
{
    const brute *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->unit > y->unit) - (x->unit < y->unit);
}

TEST(index_vector_dot)
{
    float a[19], b[19];
    for (int n = 0; n <= 19; n++) {
        double want = 0;
        for (int i = 0; i < n; i++) {
            a[i] = (float)(i + 1) * 0.5f;
            b[i] = (float)(n - i);
            want += (double)a[i] * b[i];
        }
        CHECK(fabs(rg_index__dot(a, b, (size_t)n) - want) < 1e-4 * (want + 1));
    }
}

#define N_UNITS 5000
#define DIMS    96

TEST(index_vector_topk_equals_brute_force)
{
    vrng_state = 0x9e3779b97f4a7c15ull;
    rg_arena *a = rg_arena_new((size_t)64 << 20);
    float *vecs = rg_arena_alloc(a, (size_t)N_UNITS * DIMS * sizeof *vecs);
    float small[N_UNITS / 10][8];
    rg_index_row *rows = rg_arena_calloc(a, N_UNITS, sizeof *rows);
    for (size_t u = 0; u < N_UNITS; u++) {
        rows[u].segment_id = rg_arena_printf(a, "%zu", u);
        rows[u].document_id = "doc";
        if (u % 10 == 3) { /* economy units: no vector */
            rows[u].vector = NULL;
        } else if (u % 10 == 7) { /* another model: 8 dimensions */
            random_unit(small[u / 10], 8);
            rows[u].vector = small[u / 10];
            rows[u].dims = 8;
        } else {
            random_unit(vecs + u * DIMS, DIMS);
            rows[u].vector = vecs + u * DIMS;
            rows[u].dims = DIMS;
        }
    }
    rg_index *ix;
    CHECK_EQ_INT(rg_index__build(rows, N_UNITS, 1, &ix), RG_OK);
    CHECK_EQ_INT(rg_index_size(ix), N_UNITS);
    CHECK_EQ_INT(ix->vec.n, 2);

    brute *all = rg_arena_alloc(a, N_UNITS * sizeof *all);
    rg_hit *hits = rg_arena_alloc(a, N_UNITS * sizeof *hits);
    static const size_t ks[] = {1, 5, 10, 100, 4000, 10000};
    int bad = 0;
    for (int q = 0; q < 60; q++) {
        float query[DIMS];
        random_unit(query, DIMS);
        if (q % 4 == 0) /* a stored vector: it must come first, score ~1 */
            memcpy(query, vecs + (size_t)(q * 10 + 1) * DIMS, sizeof query);
        size_t m = 0;
        for (size_t u = 0; u < N_UNITS; u++) {
            if (rows[u].dims != DIMS)
                continue;
            double s = 0;
            for (int i = 0; i < DIMS; i++)
                s += (double)query[i] * rows[u].vector[i];
            all[m++] = (brute){s, u};
        }
        qsort(all, m, sizeof *all, brute_best_first);
        size_t k = ks[q % RG_ARRAY_LEN(ks)], n = 0;
        CHECK_EQ_INT(rg_index_search_vector(ix, query, DIMS, k, NULL, hits, &n), RG_OK);
        size_t want = k < m ? k : m;
        if (n != want) {
            bad++;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            /* float vs double sums: the same unit, or a near tie swapped */
            bool same = strtoul(hits[i].segment_id, NULL, 10) == all[i].unit;
            if ((!same && fabs(hits[i].score - all[i].score) > 1e-5) ||
                fabs(hits[i].score - all[i].score) > 1e-5 ||
                (i && hits[i].score > hits[i - 1].score))
                bad++;
        }
        if (q % 4 == 0) {
            CHECK(strtoul(hits[0].segment_id, NULL, 10) == (unsigned long)(q * 10 + 1));
            CHECK(fabs(hits[0].score - 1) < 1e-5);
        }
    }
    CHECK_EQ_INT(bad, 0);

    /* the 8-dimension matrix is searched on its own */
    size_t n = 0;
    CHECK_EQ_INT(rg_index_search_vector(ix, small[0], 8, 3, NULL, hits, &n), RG_OK);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(hits[0].segment_id, "7");
    CHECK(fabs(hits[0].score - 1) < 1e-5);
    /* no matrix of that dimension, k 0, bad arguments */
    float q4[4] = {1, 0, 0, 0};
    CHECK_EQ_INT(rg_index_search_vector(ix, q4, 4, 3, NULL, hits, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(rg_index_search_vector(ix, small[0], 8, 0, NULL, hits, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(rg_index_search_vector(ix, NULL, 8, 3, NULL, hits, &n), RG_EINVAL);
    CHECK_EQ_INT(rg_index_search_vector(ix, q4, 0, 3, NULL, hits, &n), RG_EINVAL);
    /* full-text search finds nothing in a vector-only snapshot */
    CHECK_EQ_INT(rg_index_search_text(ix, RG_STR("anything"), 3, NULL, hits, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    rg_index_release(ix);
    rg_arena_free(a);
}

TEST(index_vector_ties_and_nan)
{
    /* equal vectors tie: unit order decides; a NaN row is never returned */
    float same[3] = {0.6f, 0.8f, 0}, nan_row[3] = {NAN, 0, 0}, other[3] = {0, 0, 1};
    const rg_index_row rows[] = {
        {.segment_id = "n", .document_id = "d", .vector = nan_row, .dims = 3},
        {.segment_id = "a", .document_id = "d", .vector = same, .dims = 3},
        {.segment_id = "o", .document_id = "d", .vector = other, .dims = 3},
        {.segment_id = "b", .document_id = "d", .vector = same, .dims = 3},
        {.segment_id = "c", .document_id = "d", .vector = same, .dims = 3},
        {.segment_id = "z", .document_id = "d", .vector = same, .dims = RG_INDEX_MAX_DIMS + 1},
    };
    rg_index *ix;
    CHECK_EQ_INT(rg_index__build(rows, RG_ARRAY_LEN(rows), 1, &ix), RG_OK);
    rg_hit h[8];
    size_t n = 0;
    CHECK_EQ_INT(rg_index_search_vector(ix, same, 3, 2, NULL, h, &n), RG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(h[0].segment_id, "a");
    CHECK_EQ_STR(h[1].segment_id, "b");
    CHECK_EQ_INT(rg_index_search_vector(ix, same, 3, 8, NULL, h, &n), RG_OK);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_STR(h[2].segment_id, "c");
    CHECK_EQ_STR(h[3].segment_id, "o");
    CHECK(h[3].score == 0);
    rg_index_release(ix);
}
