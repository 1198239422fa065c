/*
 * vector.c - the vector half of a snapshot: exact search by dot product.
 *
 * Vectors are stored contiguously, one row-major float32 matrix per
 * dimension seen in the dataset (a dataset normally has one embedding model,
 * but a model change leaves old rows until they are re-indexed), with the
 * unit of each row beside it in ascending order.  Vectors are L2-normalised by
 * the embedder, so the dot product is the cosine similarity.  A search scans
 * the query's matrix once: the dot product runs eight independent
 * accumulators, which GCC and Clang turn into SIMD multiplies and adds at -O2
 * without reassociating anything (-ffast-math is not needed), and a row is
 * offered to the top-k heap only when it beats the current worst.  Exact
 * search is bound by memory bandwidth: 100k rows of 384 dimensions (154 MB)
 * take about 10 ms on one core of the development machine (SSE2, ~15 GB/s).
 * That is enough until datasets reach millions of units, where an
 * approximate index would take over behind the same calls.
 */
#include "core/alloc.h"
#include "index/hnsw.h"
#include "index/index_int.h"

#include <string.h>

float rg_index__dot(const float *a, const float *b, size_t n)
{
    return rg_index__dot_inline(a, b, n);
}

const rg_index__matrix *rg_index__vectors_get(const rg_index__vectors *v, int dims)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->m[i].dims == dims)
            return &v->m[i];
    return NULL;
}

rg_rc rg_index__vectors_add(rg_index__vectors *v, uint32_t unit, const float *x, int dims)
{
    if (!x || dims <= 0 || dims > RG_INDEX_MAX_DIMS)
        return RG_EINVAL;
    rg_index__matrix *m = (rg_index__matrix *)rg_index__vectors_get(v, dims);
    if (!m) {
        rg_index__matrix *ms = rg_try_realloc(v->m, (v->n + 1) * sizeof *ms);
        if (!ms)
            return RG_ENOMEM;
        v->m = ms;
        m = &v->m[v->n++];
        memset(m, 0, sizeof *m);
        atomic_init(&m->graph, NULL);
        m->dims = dims;
    }
    RG_ASSERT(m->n == 0 || m->unit[m->n - 1] < unit);
    m->dense = unit == m->n && (m->n == 0 || m->dense);
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof(float) / (size_t)dims)
            return RG_ENOMEM;
        float *d = rg_try_realloc(m->data, cap * (size_t)dims * sizeof *d);
        if (!d)
            return RG_ENOMEM;
        m->data = d;
        uint32_t *u = rg_try_realloc(m->unit, cap * sizeof *u);
        if (!u)
            return RG_ENOMEM;
        m->unit = u;
        m->cap = cap;
    }
    memcpy(m->data + m->n * (size_t)dims, x, (size_t)dims * sizeof *x);
    m->unit[m->n++] = unit;
    return RG_OK;
}

void rg_index__vectors_free(rg_index__vectors *v)
{
    for (size_t i = 0; i < v->n; i++) {
        rg_index__hnsw_free(atomic_load(&v->m[i].graph));
        rg_free(v->m[i].data);
        rg_free(v->m[i].unit);
    }
    rg_free(v->m);
    memset(v, 0, sizeof *v);
}

void rg_index__vectors_search(const rg_index__matrix *m, const float *q, rg_index__topk *top)
{
    top->n = 0;
    size_t dims = (size_t)m->dims;
    const float *row = m->data;
    for (size_t i = 0; i < m->n; i++, row += dims) {
        if (!rg_index__allowed(top, m->unit[i]))
            continue;
        double s = rg_index__dot_inline(q, row, dims);
        if (!rg_index__topk_full(top) || s > top->e[0].score)
            rg_index__topk_offer(top, s, m->unit[i]);
    }
}

/* The rows of m whose unit top's filter allows, as a bitmap over rows (a
 * caller allocation, or top->allow itself when rows are units: *own false);
 * *n how many. */
static uint64_t *allowed_rows(const rg_index__matrix *m, const rg_index__topk *top, size_t *n,
                              bool *own)
{
    *own = !m->dense;
    if (m->dense) {
        *n = 0;
        for (size_t w = 0; w < m->n / 64; w++)
            *n += (size_t)__builtin_popcountll(top->allow[w]);
        for (size_t r = m->n / 64 * 64; r < m->n; r++)
            *n += top->allow[r >> 6] >> (r & 63) & 1;
        return (uint64_t *)top->allow;
    }
    uint64_t *bits = rg_try_malloc((m->n / 64 + 1) * sizeof *bits);
    if (!bits)
        return NULL;
    memset(bits, 0, (m->n / 64 + 1) * sizeof *bits);
    *n = 0;
    for (size_t r = 0; r < m->n; r++)
        if (rg_index__allowed(top, m->unit[r])) {
            bits[r >> 6] |= (uint64_t)1 << (r & 63);
            ++*n;
        }
    return bits;
}

rg_rc rg_index__vectors_search_graph(const rg_index__matrix *m, const float *q, rg_index__topk *top,
                                     bool *used)
{
    *used = false;
    top->n = 0;
    const rg_index__hnsw *g = atomic_load_explicit(&m->graph, memory_order_acquire);
    if (!g || top->k == 0)
        return RG_OK;
    uint64_t *rows = NULL;
    bool own = false;
    if (top->allow) {
        size_t n_allowed = 0;
        if (!(rows = allowed_rows(m, top, &n_allowed, &own)))
            return RG_ENOMEM;
        if (n_allowed < m->n / RG_INDEX_ANN_MIN_ALLOWED_INV) { /* a scan is cheaper */
            if (own)
                rg_free(rows);
            return RG_OK;
        }
    }
    rg_index__scored *found = rg_try_malloc(top->k * sizeof *found);
    size_t n = 0;
    rg_rc rc = found ? rg_index__hnsw_search(g, m->data, q, top->k, 0, rows, found, &n) : RG_ENOMEM;
    for (size_t i = 0; rc == RG_OK && i < n; i++) /* n <= k: every one is kept */
        rg_index__topk_offer(top, found[i].score, m->unit[found[i].unit]);
    rg_free(found);
    if (own)
        rg_free(rows);
    *used = rc == RG_OK;
    return rc;
}
