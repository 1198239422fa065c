/*
 * test_ann.c - the approximate index inside snapshots: graphs built for big
 * enough matrices only, searches through the graph close to the exact ones
 * (recall@10 over 50 queries), filters applied inside the graph walk, a
 * filter keeping few rows answered exactly, cancellation, and the registry's
 * background thread publishing a graph for the current snapshot.
 */
#include "harness.h"

#include "index/index_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { A_N = 3000, A_DIMS = 16, A_PER_DOC = 10, A_K = 10 };

static float a_vec[A_N][A_DIMS];
static char a_seg[A_N][24], a_doc[A_N / A_PER_DOC][24];
static uint64_t a_rng = 88172645463325252ull;

static double a_rand(void)
{
    a_rng ^= a_rng << 13;
    a_rng ^= a_rng >> 7;
    a_rng ^= a_rng << 17;
    return (double)(a_rng >> 11) / 9007199254740992.0 * 2 - 1;
}

static void a_rows(rg_index_row *rows, size_t n)
{
    for (size_t u = 0; u < n; u++) {
        double norm = 0;
        for (int i = 0; i < A_DIMS; i++) {
            a_vec[u][i] = (float)a_rand();
            norm += (double)a_vec[u][i] * a_vec[u][i];
        }
        for (int i = 0; i < A_DIMS; i++)
            a_vec[u][i] = (float)(a_vec[u][i] / sqrt(norm));
        snprintf(a_seg[u], sizeof a_seg[u], "s%zu", u);
        snprintf(a_doc[u / A_PER_DOC], sizeof a_doc[0], "d%zu", u / A_PER_DOC);
        rows[u] = (rg_index_row){a_seg[u], a_doc[u / A_PER_DOC], NULL, a_vec[u], A_DIMS, NULL, 0};
    }
}

static rg_index *a_build(size_t n)
{
    static rg_index_row rows[A_N];
    a_rows(rows, n);
    rg_index *ix = NULL;
    CHECK_EQ_INT(rg_index__build(rows, n, 1, &ix), RG_OK);
    return ix;
}

static bool has_graph(const rg_index *ix)
{
    return ix->vec.n == 1 && atomic_load(&ix->vec.m[0].graph) != NULL;
}

/* Exact top k of the matrix (the scan, bypassing the graph). */
static size_t exact(const rg_index *ix, const float *q, const uint64_t *allow, uint32_t *units)
{
    rg_index__scored e[A_K];
    rg_index__topk top = {.e = e, .k = A_K, .allow = allow};
    rg_index__vectors_search(&ix->vec.m[0], q, &top);
    rg_index__topk_sort(&top);
    for (size_t i = 0; i < top.n; i++)
        units[i] = top.e[i].unit;
    return top.n;
}

/* Recall@10 of rg_index_search_vector against the exact scan over 50 random
 * queries; every hit must pass the filter. */
static double recall(rg_index *ix, const rg_index_filter *f, const uint64_t *allow)
{
    size_t found = 0, total = 0;
    for (int qi = 0; qi < 50; qi++) {
        float q[A_DIMS];
        memcpy(q, a_vec[(qi * 61) % A_N], sizeof q);
        q[qi % A_DIMS] += 0.3f;
        double norm = 0;
        for (int i = 0; i < A_DIMS; i++)
            norm += (double)q[i] * q[i];
        for (int i = 0; i < A_DIMS; i++)
            q[i] = (float)(q[i] / sqrt(norm));
        uint32_t want[A_K];
        size_t nw = exact(ix, q, allow, want);
        rg_hit h[A_K];
        size_t n = 0;
        CHECK_EQ_INT(rg_index_search_vector(ix, q, A_DIMS, A_K, f, h, &n), RG_OK);
        CHECK_EQ_INT(n, nw);
        for (size_t i = 0; i < n; i++) {
            unsigned u;
            CHECK(sscanf(h[i].segment_id, "s%u", &u) == 1);
            CHECK(!allow || (allow[u / 64] >> (u % 64) & 1));
            for (size_t j = 0; j < nw; j++)
                found += want[j] == u;
        }
        total += nw;
    }
    return total ? (double)found / (double)total : 1;
}

TEST(index_ann_graph_in_snapshot)
{
    rg_index *ix = a_build(A_N);
    if (!ix)
        return;
    atomic_bool stop = false;
    CHECK_EQ_INT(rg_index__build_graphs(ix, A_N + 1, &stop), RG_OK);
    CHECK(!has_graph(ix)); /* below the threshold: none */
    CHECK(recall(ix, NULL, NULL) == 1.0);
    CHECK_EQ_INT(rg_index__build_graphs(ix, 100, &stop), RG_OK);
    CHECK(has_graph(ix));
    double r = recall(ix, NULL, NULL);
    CHECK(r >= 0.95);

    /* half of the documents: filtered inside the walk */
    rg_arena *a = rg_arena_new(1 << 20);
    const char *ids[A_N / A_PER_DOC];
    size_t n_ids = 0;
    for (size_t d = 0; d < A_N / A_PER_DOC; d += 2)
        ids[n_ids++] = a_doc[d];
    rg_index_filter *f;
    CHECK_EQ_INT(rg_index_filter_documents(ix, a, ids, n_ids, &f), RG_OK);
    static uint64_t allow[A_N / 64 + 1];
    memset(allow, 0, sizeof allow);
    for (size_t u = 0; u < A_N; u++)
        if ((u / A_PER_DOC) % 2 == 0)
            allow[u / 64] |= (uint64_t)1 << (u % 64);
    CHECK(recall(ix, f, allow) >= 0.95);

    /* one document of 300 (1 in 300 rows): answered by the exact scan */
    const char *one[] = {a_doc[7]};
    CHECK_EQ_INT(rg_index_filter_documents(ix, a, one, 1, &f), RG_OK);
    memset(allow, 0, sizeof allow);
    for (size_t u = 70; u < 80; u++)
        allow[u / 64] |= (uint64_t)1 << (u % 64);
    CHECK(recall(ix, f, allow) == 1.0);
    rg_arena_free(a);
    rg_index_release(ix);
}

TEST(index_ann_build_cancelled)
{
    rg_index *ix = a_build(1000);
    if (!ix)
        return;
    atomic_bool stop = true;
    CHECK_EQ_INT(rg_index__build_graphs(ix, 10, &stop), RG_ECANCELED);
    CHECK(!has_graph(ix));
    stop = false;
    atomic_store(&ix->superseded, true);
    CHECK_EQ_INT(rg_index__build_graphs(ix, 10, &stop), RG_ECANCELED);
    CHECK(!has_graph(ix));
    rg_index_release(ix);
}

/* A source of one dataset with A_N / 3 vectors. */
static rg_rc ann_version(void *ctx, const char *t, const char *d, int64_t *v)
{
    (void)ctx, (void)t, (void)d;
    *v = 1;
    return RG_OK;
}

static rg_rc ann_scan(void *ctx, const char *t, const char *d, int64_t *v,
                      rg_rc (*fn)(const rg_index_row *row, void *arg), void *arg)
{
    (void)ctx, (void)t, (void)d;
    static rg_index_row rows[A_N / 3];
    a_rows(rows, A_N / 3);
    *v = 1;
    for (size_t i = 0; i < A_N / 3; i++)
        RG_TRY(fn(&rows[i], arg));
    return RG_OK;
}

TEST(index_ann_registry_background)
{
    rg_index__source src = {.version = ann_version, .scan = ann_scan};
    rg_index_registry *r = NULL;
    CHECK_EQ_INT(rg_index__registry_new_source(&src, &r), RG_OK);
    if (!r)
        return;
    rg_index_registry_ann(r, 500);
    rg_index *ix = NULL;
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &ix), RG_OK);
    bool built = false;
    for (int i = 0; i < 1000 && ix && !(built = has_graph(ix)); i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    CHECK(built);
    rg_index_release(ix);
    rg_index_registry_free(r); /* joins the thread */

    /* freed while a build may be running: the thread stops and joins */
    CHECK_EQ_INT(rg_index__registry_new_source(&src, &r), RG_OK);
    rg_index_registry_ann(r, 10);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &ix), RG_OK);
    rg_index_release(ix);
    rg_index_registry_free(r);
}
