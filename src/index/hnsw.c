/*
 * hnsw.c - the approximate vector index: a hierarchical navigable small
 * world graph (Malkov & Yashunin, "Efficient and robust approximate nearest
 * neighbor search using HNSW graphs", 2016) over the rows of the caller's
 * matrix, similarity = dot product of unit rows.
 *
 * Layout.  Level 0 (every node) is one flat array of (1 + 2M) uint32 per
 * node: a count, then up to 2M neighbour rows, so a node's list is found by
 * multiplication and read in one or two cache lines.  Nodes drawn above level
 * 0 (1 in M of them) get L lists of (1 + M) uint32 in a second flat array,
 * found through a per-node list number.  A node's level is
 * floor(-ln(U) / ln(M)) with U from a seeded xorshift64* stream, so the same
 * seed and rows give the same graph.  The vectors stay in the caller's matrix
 * (the graph holds row numbers); graph memory is ~4 (2M + 3) bytes per row
 * plus the upper levels (~4 (M + 1) / (M - 1) bytes per row).
 *
 * Insertion (alg. 1 of the paper): greedy descent through the levels above
 * the new node's, then on each of its levels a best-first search with
 * ef_construction candidates, M neighbours chosen by the paper's heuristic
 * (alg. 4: keep a candidate only if it is closer to the new node than to
 * every neighbour already kept - this keeps links pointing in different
 * directions, which is what makes clustered data such as word vectors
 * navigable), and reverse links, a full neighbour list being re-chosen by the
 * same heuristic.  All memory an insertion can need is reserved before the
 * graph is touched, so RG_ENOMEM leaves it unchanged.
 *
 * Search: greedy descent to level 0, then best-first search with ef
 * candidates.  Per step the unvisited neighbours of the node are collected
 * first and their vectors prefetched, then scored: the memory latency of the
 * random rows overlaps instead of adding up.  The visited set is an array of
 * 16-bit generation stamps (one per row) that is cleared only when the
 * generation wraps, so a search costs nothing for the rows it does not
 * touch.  A search takes its buffers (stamps, candidate and result heaps)
 * from a pool in the graph guarded by a mutex and gives them back, so
 * concurrent searches need no caller-side state and do not allocate after
 * the first few (an add takes one the same way).  With an allow bitmap,
 * disallowed rows still guide the walk but never enter the results, and the
 * walk stops only when ef allowed rows are held (hnswlib's rule for its
 * filter), so recall stays near the unfiltered one while the work grows like
 * 1 / (allowed fraction).
 *
 * Prefetching every cache line of each unvisited neighbour's row at once
 * beat prefetching only its first line, or one row ahead, by 25-80 % in
 * queries/s on 100k GloVe rows (hnswlib prefetches one line one row
 * ahead).  The dot product is plain C with independent accumulators
 * (vectorised by the compiler without reassociation); a copy compiled for
 * AVX2 is chosen at run time when the CPU has it (1.5x faster on 100
 * dimensions, in cache), and the search loop is compiled twice so that the
 * dot product is inlined into it (+10-15 % queries/s over a call through a
 * pointer).  Scores are float inside the graph.
 *
 * Defaults, measured by bench/vectors on the GloVe words (331k rows x 100,
 * held-out word queries, a hard set: neighbours of rare words are diffuse):
 * M 16 and ef_construction 200 (hnswlib's defaults) give recall@10 0.881 at
 * ef 64, 0.935 at 128, 0.957 at 192 and 0.982 at 400, so ef_search is 192.
 * M 32 reaches 0.957 at ef 96 with ~1.3x the queries/s but ~1.9x the link
 * memory (270 instead of 141 bytes per row); M 16 is the default.
 * Sentence embeddings of chunks are usually easier; a caller that wants
 * speed over recall passes a smaller ef.
 */
#include "index/hnsw.h"

#include "core/alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
/* Largest neighbour list (level 0). */
#define MAX_LIST (2 * RG_INDEX_HNSW_MAX_M)

typedef float (*dot_fn)(const float *a, const float *b, size_t n);

typedef struct cand {
    float s;
    uint32_t id;
} cand;

/* The buffers of one search (or of the writer). */
typedef struct scratch {
    struct scratch *next; /* in the pool */
    uint16_t *seen;       /* generation stamp per row */
    size_t seen_n;
    uint16_t gen;
    cand *c; /* candidates: max-heap by score */
    size_t c_cap;
    cand *r; /* results: min-heap by score (root = worst kept) */
    size_t r_cap;
} scratch;

struct rg_index__hnsw {
    int dims, m, m0, efc, efs;
    double mult; /* 1 / ln(M) */
    uint64_t rng;
    dot_fn dot;
    size_t n, cap;
    uint32_t *l0;     /* cap x (1 + m0) */
    uint8_t *level;   /* cap */
    uint32_t *up_off; /* cap: first upper list of the node, NONE if level 0 */
    uint32_t *up;     /* up_n lists of (1 + m) */
    size_t up_n, up_cap;
    uint32_t entry;     /* NONE while empty */
    int top;            /* level of entry */
    pthread_mutex_t mu; /* guards pool */
    scratch *pool;      /* buffers of finished searches and adds */
};

/* --- dot products ---------------------------------------------------------- */

static inline __attribute__((always_inline)) float dot_plain(const float *a, const float *b,
                                                             size_t n)
{
    return rg_index__dot_inline(a, b, n);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static inline __attribute__((always_inline)) float
dot_avx2(const float *a, const float *b, size_t n)
{
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (size_t j = 0; j < 16; j++)
            acc[j] += a[i + j] * b[i + j];
    for (; i + 8 <= n; i += 8)
        for (size_t j = 0; j < 8; j++)
            acc[j] += a[i + j] * b[i + j];
    float tail = 0;
    for (; i < n; i++)
        tail += a[i] * b[i];
    for (size_t j = 0; j < 8; j++)
        acc[j] += acc[j + 8];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}
#endif

static dot_fn pick_dot(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2"))
        return dot_avx2;
#endif
    return dot_plain;
}

/* --- small helpers --------------------------------------------------------- */

/* The dot product as the graph uses it: NaN (a broken row) ranks last. */
static inline float score(const rg_index__hnsw *h, const float *a, const float *b)
{
    float s = h->dot(a, b, (size_t)h->dims);
    return s == s ? s : -INFINITY;
}

static inline const float *row_of(const rg_index__hnsw *h, const float *data, uint32_t id)
{
    return data + (size_t)id * (size_t)h->dims;
}

static inline uint32_t *links(const rg_index__hnsw *h, uint32_t id, int lev)
{
    if (lev == 0)
        return h->l0 + (size_t)id * (size_t)(1 + h->m0);
    return h->up + ((size_t)h->up_off[id] + (size_t)(lev - 1)) * (size_t)(1 + h->m);
}

static inline bool allowed(const uint64_t *allow, uint32_t id)
{
    return !allow || (allow[id >> 6] >> (id & 63)) & 1;
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}

static int draw_level(rg_index__hnsw *h)
{
    double u = (double)((next_rand(&h->rng) >> 11) + 1) / 9007199254740992.0; /* (0, 1] */
    double l = -log(u) * h->mult;
    return l >= RG_INDEX_HNSW_MAX_LEVEL ? RG_INDEX_HNSW_MAX_LEVEL : (int)l;
}

/* --- heaps of candidates --------------------------------------------------- */

/* Max-heap (best on top) when max, else min-heap (worst on top). */
static inline bool above(cand a, cand b, bool max)
{
    return max ? a.s > b.s : a.s < b.s;
}

static inline void heap_push(cand *e, size_t *n, cand x, bool max)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!above(x, e[p], max))
            break;
        e[i] = e[p];
        i = p;
    }
    e[i] = x;
}

static inline void heap_pop(cand *e, size_t *n, bool max)
{
    cand x = e[--*n];
    size_t i = 0, len = *n;
    for (;;) {
        size_t l = 2 * i + 1, m = l;
        if (l >= len)
            break;
        if (l + 1 < len && above(e[l + 1], e[l], max))
            m = l + 1;
        if (!above(e[m], x, max))
            break;
        e[i] = e[m];
        i = m;
    }
    if (len)
        e[i] = x;
}

/* Best first, ties by row ascending (deterministic output order). */
static int best_first(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Best first, ties by row descending: among copies of one row the newest is
 * linked, which chains the copies together (see select_heuristic). */
static int best_newest_first(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->id > y->id ? -1 : x->id < y->id;
}

/* --- scratch --------------------------------------------------------------- */

static void scratch_free(scratch *s)
{
    if (!s)
        return;
    rg_free(s->seen);
    rg_free(s->c);
    rg_free(s->r);
    rg_free(s);
}

/* Makes s fit a search over n rows with ef results. */
static rg_rc scratch_fit(scratch *s, size_t n, size_t ef)
{
    if (s->seen_n < n) {
        size_t c = s->seen_n ? s->seen_n : 1024;
        while (c < n)
            c = c > SIZE_MAX / 4 ? n : c * 2;
        if (c > SIZE_MAX / sizeof *s->seen)
            return RG_ENOMEM;
        uint16_t *p = rg_try_realloc(s->seen, c * sizeof *p);
        if (!p)
            return RG_ENOMEM;
        memset(p + s->seen_n, 0, (c - s->seen_n) * sizeof *p);
        s->seen = p;
        s->seen_n = c;
    }
    /* A candidate is pushed at most once per visited row. */
    RG_TRY(rg_index__reserve((void **)&s->c, &s->c_cap, n + 1, sizeof *s->c));
    return rg_index__reserve((void **)&s->r, &s->r_cap, ef + 2, sizeof *s->r);
}

static uint16_t next_gen(scratch *s)
{
    if (++s->gen == 0) {
        memset(s->seen, 0, s->seen_n * sizeof *s->seen);
        s->gen = 1;
    }
    return s->gen;
}

/* Buffers for a search of n rows with ef results, from the pool or new. */
static rg_rc pool_take(const rg_index__hnsw *h, size_t n, size_t ef, scratch **out)
{
    rg_index__hnsw *w = (rg_index__hnsw *)h; /* the pool is the one mutable part */
    pthread_mutex_lock(&w->mu);
    scratch *s = w->pool;
    if (s)
        w->pool = s->next;
    pthread_mutex_unlock(&w->mu);
    if (!s) {
        s = rg_try_malloc(sizeof *s);
        if (!s)
            return RG_ENOMEM;
        memset(s, 0, sizeof *s);
    }
    rg_rc rc = scratch_fit(s, n, ef);
    if (rc != RG_OK) {
        scratch_free(s);
        return rc;
    }
    *out = s;
    return RG_OK;
}

static void pool_give(const rg_index__hnsw *h, scratch *s)
{
    rg_index__hnsw *w = (rg_index__hnsw *)h;
    pthread_mutex_lock(&w->mu);
    s->next = w->pool;
    w->pool = s;
    pthread_mutex_unlock(&w->mu);
}

/* --- searching ------------------------------------------------------------- */

/* Greedy walk on level lev from *ep (score *eps) to a local best. */
static void greedy(const rg_index__hnsw *h, const float *data, const float *q, int lev,
                   uint32_t *ep, float *eps)
{
    bool moved = true;
    while (moved) {
        moved = false;
        const uint32_t *l = links(h, *ep, lev);
        for (uint32_t j = 0; j < l[0]; j++)
            __builtin_prefetch(row_of(h, data, l[1 + j]));
        for (uint32_t j = 1, cnt = l[0]; j <= cnt; j++) {
            float s = score(h, q, row_of(h, data, l[j]));
            if (s > *eps) {
                *eps = s;
                *ep = l[j];
                moved = true;
            }
        }
    }
}

/* Best-first search of level lev from ep: the best ef allowed rows into the
 * min-heap s->r (returns their number). */
static inline __attribute__((always_inline)) size_t
search_impl(const rg_index__hnsw *h, const float *data, const float *q, uint32_t ep, float eps,
            int lev, size_t ef, const uint64_t *allow, scratch *s, dot_fn dot)
{
    uint16_t gen = next_gen(s);
    size_t nc = 0, nr = 0, dims = (size_t)h->dims, lines = (dims * sizeof(float) + 63) / 64;
    cand *c = s->c, *r = s->r;
    s->seen[ep] = gen;
    heap_push(c, &nc, (cand){eps, ep}, true);
    if (allowed(allow, ep))
        heap_push(r, &nr, (cand){eps, ep}, false);
    while (nc) {
        cand cur = c[0];
        if (nr == ef && cur.s < r[0].s)
            break;
        heap_pop(c, &nc, true);
        const uint32_t *l = links(h, cur.id, lev);
        uint32_t batch[MAX_LIST];
        size_t nb = 0;
        for (uint32_t j = 1, cnt = l[0]; j <= cnt; j++) {
            uint32_t id = l[j];
            if (s->seen[id] != gen) {
                s->seen[id] = gen;
                batch[nb++] = id;
                const char *p = (const char *)row_of(h, data, id);
                for (size_t k = 0; k < lines; k++)
                    __builtin_prefetch(p + 64 * k);
            }
        }
        for (size_t j = 0; j < nb; j++) {
            uint32_t id = batch[j];
            float sc = dot(q, row_of(h, data, id), dims);
            if (sc != sc)
                sc = -INFINITY;
            if (nr < ef || sc > r[0].s) {
                heap_push(c, &nc, (cand){sc, id}, true);
                if (allowed(allow, id)) {
                    heap_push(r, &nr, (cand){sc, id}, false);
                    if (nr > ef)
                        heap_pop(r, &nr, false);
                }
            }
        }
        if (nc)
            __builtin_prefetch(links(h, c[0].id, lev));
    }
    return nr;
}

/* search_impl with the dot product inlined, one copy per instruction set
 * (an indirect call per row cost ~5 % of a search). */
static size_t search_plain(const rg_index__hnsw *h, const float *data, const float *q, uint32_t ep,
                           float eps, int lev, size_t ef, const uint64_t *allow, scratch *s)
{
    return search_impl(h, data, q, ep, eps, lev, ef, allow, s, dot_plain);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static size_t
search_avx2(const rg_index__hnsw *h, const float *data, const float *q, uint32_t ep, float eps,
            int lev, size_t ef, const uint64_t *allow, scratch *s)
{
    return search_impl(h, data, q, ep, eps, lev, ef, allow, s, dot_avx2);
}
#endif

static size_t search_level(const rg_index__hnsw *h, const float *data, const float *q, uint32_t ep,
                           float eps, int lev, size_t ef, const uint64_t *allow, scratch *s)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (h->dot == dot_avx2)
        return search_avx2(h, data, q, ep, eps, lev, ef, allow, s);
#endif
    return search_plain(h, data, q, ep, eps, lev, ef, allow, s);
}

rg_rc rg_index__hnsw_search(const rg_index__hnsw *h, const float *data, const float *q, size_t k,
                            size_t ef, const uint64_t *allow, rg_index__scored *out, size_t *n)
{
    *n = 0;
    if (h->n == 0 || k == 0)
        return RG_OK;
    if (ef == 0)
        ef = (size_t)h->efs;
    if (ef < k)
        ef = k;
    if (ef > h->n)
        ef = h->n;
    scratch *s;
    RG_TRY(pool_take(h, h->n, ef, &s));
    uint32_t ep = h->entry;
    float eps = score(h, q, row_of(h, data, ep));
    for (int lev = h->top; lev > 0; lev--)
        greedy(h, data, q, lev, &ep, &eps);
    size_t nr = search_level(h, data, q, ep, eps, 0, ef, allow, s);
    qsort(s->r, nr, sizeof *s->r, best_first);
    size_t m = 0; /* a NaN row (score -inf) is never returned */
    for (size_t i = 0; i < nr && m < k && s->r[i].s > -INFINITY; i++)
        out[m++] = (rg_index__scored){s->r[i].s, s->r[i].id};
    *n = m;
    pool_give(h, s);
    return RG_OK;
}

/* --- inserting ------------------------------------------------------------- */

/* The heuristic of alg. 4: from cand[0..n) sorted best first (scores against
 * the base row), keep at most max rows each closer to the base than to every
 * row kept before it.  Writes the kept rows into list (count first).  A copy
 * of a kept row (dot >= DUP_DOT: the rows are unit vectors) is dropped too:
 * with the paper's rule copies of one chunk, which tie, would fill each
 * other's lists and make a trap with no way out.  Candidates come sorted
 * newest first among ties, so each copy links the previous one and is linked
 * back by it: the copies form a chain every one of which stays reachable. */
#define DUP_DOT 0.99999f
static void select_heuristic(const rg_index__hnsw *h, const float *data, const cand *cd, size_t n,
                             int max, uint32_t *list)
{
    uint32_t kept = 0;
    for (size_t i = 0; i < n && kept < (uint32_t)max; i++) {
        const float *x = row_of(h, data, cd[i].id);
        bool good = true;
        for (uint32_t j = 0; j < kept && good; j++) {
            float d = score(h, x, row_of(h, data, list[1 + j]));
            good = d <= cd[i].s && d < DUP_DOT;
        }
        if (good)
            list[1 + kept++] = cd[i].id;
    }
    list[0] = kept;
}

/* Adds a link nb -> id on level lev, re-choosing nb's list when full. */
static void link_back(rg_index__hnsw *h, const float *data, uint32_t nb, uint32_t id, int lev)
{
    uint32_t *l = links(h, nb, lev);
    int max = lev == 0 ? h->m0 : h->m;
    if (l[0] < (uint32_t)max) {
        l[1 + l[0]++] = id;
        return;
    }
    cand cd[MAX_LIST + 1];
    const float *x = row_of(h, data, nb);
    size_t n = 0;
    for (uint32_t j = 1; j <= l[0]; j++)
        cd[n++] = (cand){score(h, x, row_of(h, data, l[j])), l[j]};
    cd[n++] = (cand){score(h, x, row_of(h, data, id)), id};
    qsort(cd, n, sizeof *cd, best_newest_first);
    select_heuristic(h, data, cd, n, max, l);
}

/* Makes the per-row arrays hold cap rows. */
static rg_rc resize_rows(rg_index__hnsw *h, size_t c)
{
    size_t per = (size_t)(1 + h->m0) * sizeof *h->l0;
    if (c > SIZE_MAX / per)
        return RG_ENOMEM;
    uint32_t *l0 = rg_try_realloc(h->l0, c * per);
    if (!l0)
        return RG_ENOMEM;
    h->l0 = l0;
    uint8_t *lv = rg_try_realloc(h->level, c * sizeof *lv);
    if (!lv)
        return RG_ENOMEM;
    h->level = lv;
    uint32_t *uo = rg_try_realloc(h->up_off, c * sizeof *uo);
    if (!uo)
        return RG_ENOMEM;
    h->up_off = uo;
    h->cap = c;
    return RG_OK;
}

rg_rc rg_index__hnsw_reserve(rg_index__hnsw *h, size_t rows)
{
    if (rows > RG_INDEX_HNSW_MAX_ROWS)
        return RG_ENOMEM;
    if (rows > h->cap)
        RG_TRY(resize_rows(h, rows));
    /* the upper levels: 1 / (M - 1) lists per row on average, plus slack */
    size_t up = rows / (size_t)(h->m - 1) + 64;
    return rg_index__reserve((void **)&h->up, &h->up_cap, up * (size_t)(1 + h->m), sizeof *h->up);
}

/* Reserves everything inserting one more row at level lev can need. */
static rg_rc reserve_add(rg_index__hnsw *h, int lev)
{
    size_t need = h->n + 1;
    if (need > h->cap)
        RG_TRY(resize_rows(h, h->cap ? h->cap * 2 : 64));
    if (lev > 0) {
        if (h->up_n + (size_t)lev >= NONE)
            return RG_ENOMEM;
        RG_TRY(rg_index__reserve((void **)&h->up, &h->up_cap,
                                 (h->up_n + (size_t)lev) * (size_t)(1 + h->m), sizeof *h->up));
    }
    return RG_OK;
}

rg_rc rg_index__hnsw_add(rg_index__hnsw *h, const float *data, uint32_t row)
{
    if (row != h->n || row >= RG_INDEX_HNSW_MAX_ROWS || !data)
        return RG_EINVAL;
    uint64_t rng = h->rng;
    int lev = draw_level(h);
    scratch *s = NULL;
    rg_rc rc = reserve_add(h, lev);
    if (rc == RG_OK)
        rc = pool_take(h, h->n + 1, (size_t)h->efc, &s);
    if (rc != RG_OK) {
        h->rng = rng; /* the same draw next time */
        return rc;
    }
    h->n++;
    h->level[row] = (uint8_t)lev;
    links(h, row, 0)[0] = 0;
    h->up_off[row] = NONE;
    if (lev > 0) {
        h->up_off[row] = (uint32_t)h->up_n;
        for (int i = 0; i < lev; i++)
            h->up[(h->up_n + (size_t)i) * (size_t)(1 + h->m)] = 0;
        h->up_n += (size_t)lev;
    }
    if (h->entry == NONE) {
        h->entry = row;
        h->top = lev;
        pool_give(h, s);
        return RG_OK;
    }
    const float *q = row_of(h, data, row);
    uint32_t ep = h->entry;
    float eps = score(h, q, row_of(h, data, ep));
    for (int l = h->top; l > lev; l--)
        greedy(h, data, q, l, &ep, &eps);
    for (int l = lev < h->top ? lev : h->top; l >= 0; l--) {
        size_t nr = search_level(h, data, q, ep, eps, l, (size_t)h->efc, NULL, s);
        qsort(s->r, nr, sizeof *s->r, best_newest_first);
        uint32_t *mine = links(h, row, l);
        select_heuristic(h, data, s->r, nr, h->m, mine);
        for (uint32_t j = 1; j <= mine[0]; j++)
            link_back(h, data, mine[j], row, l);
        ep = s->r[0].id;
        eps = s->r[0].s;
    }
    if (lev > h->top) {
        h->entry = row;
        h->top = lev;
    }
    pool_give(h, s);
    return RG_OK;
}

/* --- life cycle ------------------------------------------------------------ */

void rg_index__hnsw_defaults(rg_index__hnsw_params *p)
{
    p->m = 16;
    p->ef_construction = 200;
    p->ef_search = 192;
    p->seed = 1;
}

rg_rc rg_index__hnsw_new(int dims, const rg_index__hnsw_params *p, rg_index__hnsw **out)
{
    rg_index__hnsw_params d;
    rg_index__hnsw_defaults(&d);
    if (!p)
        p = &d;
    *out = NULL;
    if (dims <= 0 || dims > RG_INDEX_MAX_DIMS || p->m < 2 || p->m > RG_INDEX_HNSW_MAX_M ||
        p->ef_construction < 1 || p->ef_construction > RG_INDEX_HNSW_MAX_EF || p->ef_search < 1 ||
        p->ef_search > RG_INDEX_HNSW_MAX_EF)
        return RG_EINVAL;
    rg_index__hnsw *h = rg_try_malloc(sizeof *h);
    if (!h)
        return RG_ENOMEM;
    memset(h, 0, sizeof *h);
    h->dims = dims;
    h->m = p->m;
    h->m0 = 2 * p->m;
    h->efc = p->ef_construction;
    h->efs = p->ef_search;
    h->mult = 1 / log((double)p->m);
    h->rng = p->seed ? p->seed : 0x9e3779b97f4a7c15ull; /* xorshift needs a non-zero state */
    h->dot = pick_dot();
    h->entry = NONE;
    pthread_mutex_init(&h->mu, NULL);
    *out = h;
    return RG_OK;
}

size_t rg_index__hnsw_rows(const rg_index__hnsw *h)
{
    return h->n;
}

static size_t scratch_bytes(const scratch *s)
{
    return sizeof *s + s->seen_n * sizeof *s->seen + (s->c_cap + s->r_cap) * sizeof(cand);
}

size_t rg_index__hnsw_bytes(const rg_index__hnsw *h)
{
    size_t b = sizeof *h + h->cap * ((size_t)(1 + h->m0) * sizeof *h->l0 + sizeof *h->level +
                                     sizeof *h->up_off);
    b += h->up_cap * sizeof *h->up;
    rg_index__hnsw *w = (rg_index__hnsw *)h;
    pthread_mutex_lock(&w->mu);
    for (const scratch *s = h->pool; s; s = s->next)
        b += scratch_bytes(s);
    pthread_mutex_unlock(&w->mu);
    return b;
}

void rg_index__hnsw_free(rg_index__hnsw *h)
{
    if (!h)
        return;
    while (h->pool) {
        scratch *s = h->pool;
        h->pool = s->next;
        scratch_free(s);
    }
    pthread_mutex_destroy(&h->mu);
    rg_free(h->l0);
    rg_free(h->level);
    rg_free(h->up_off);
    rg_free(h->up);
    rg_free(h);
}
