/*
 * index_int.h - what the files of index/ share, and the seams the unit tests
 * and bench/search use: a snapshot built from rows handed over directly (no
 * store), a registry over any row source, and the exhaustive BM25 scorer that
 * the pruned one must agree with.  Nothing outside index/, tests and benches
 * includes this header.
 */
#ifndef RG_INDEX_INDEX_INT_H
#define RG_INDEX_INDEX_INT_H

#include "core/alloc.h"
#include "core/buf.h"
#include "index/index.h"

#include <math.h>
#include <stdatomic.h>

#define RG_INDEX_BM25_K1 1.2
#define RG_INDEX_BM25_B  0.75
/* Largest vector dimension kept (a row with more keeps its terms only). */
#define RG_INDEX_MAX_DIMS 65536
/* Offsets into a snapshot's id pool are 32-bit: "no child" is this one. */
#define RG_INDEX_NO_CHILD UINT32_MAX

/* --- top-k selection, shared by BM25 and vector search -------------------- */

typedef struct rg_index__scored {
    double score;
    uint32_t unit;
} rg_index__scored;

/* A min-heap of at most k entries whose root is the worst kept result.  The
 * order is score descending, then unit ascending; callers offer units in
 * ascending unit order, so a later unit with the same score as the root never
 * displaces it, and "offer only when score > root" is exact. */
typedef struct rg_index__topk {
    rg_index__scored *e; /* k entries, owned by the caller */
    size_t n, k;
    uint64_t work;         /* postings read or probed (tests check that pruning prunes) */
    const uint64_t *allow; /* units that may be kept, a bit each; NULL: all */
} rg_index__topk;

/* True when the heap's filter lets unit through. */
static inline bool rg_index__allowed(const rg_index__topk *h, uint32_t unit)
{
    return !h->allow || (h->allow[unit >> 6] >> (unit & 63) & 1);
}

static inline bool rg_index__worse(rg_index__scored a, rg_index__scored b)
{
    return a.score < b.score || (a.score == b.score && a.unit > b.unit);
}

static inline void rg_index__sift_down(rg_index__topk *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && rg_index__worse(h->e[l], h->e[m]))
            m = l;
        if (r < h->n && rg_index__worse(h->e[r], h->e[m]))
            m = r;
        if (m == i)
            return;
        rg_index__scored t = h->e[i];
        h->e[i] = h->e[m];
        h->e[m] = t;
        i = m;
    }
}

/* True once the heap holds k entries: from then on its root is the bar to beat. */
static inline bool rg_index__topk_full(const rg_index__topk *h)
{
    return h->n == h->k;
}

/* Offers (score, unit); unit must be larger than every unit offered before.
 * NaN scores are never kept. */
static inline void rg_index__topk_offer(rg_index__topk *h, double score, uint32_t unit)
{
    if (h->k == 0 || isnan(score) || !rg_index__allowed(h, unit))
        return;
    if (h->n < h->k) {
        size_t i = h->n++;
        h->e[i] = (rg_index__scored){score, unit};
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!rg_index__worse(h->e[i], h->e[p]))
                break;
            rg_index__scored t = h->e[i];
            h->e[i] = h->e[p];
            h->e[p] = t;
            i = p;
        }
    } else if (score > h->e[0].score) {
        h->e[0] = (rg_index__scored){score, unit};
        rg_index__sift_down(h, 0);
    }
}

/* Sorts the kept entries best first (score descending, unit ascending). */
void rg_index__topk_sort(rg_index__topk *h);

/* --- growable arrays -------------------------------------------------------- */

/* Makes *p (an rg_ allocation of *cap elements of elem bytes, or NULL) hold at
 * least need elements, doubling.  RG_ENOMEM (p untouched) when it cannot.
 * Inline so that hnsw.c stands alone (bench/vectors builds it by itself). */
RG_WUR static inline rg_rc rg_index__reserve(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return RG_OK;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return RG_ENOMEM;
        c *= 2;
    }
    if (c > SIZE_MAX / elem)
        return RG_ENOMEM;
    void *q = rg_try_realloc(*p, c * elem);
    if (!q)
        return RG_ENOMEM;
    *p = q;
    *cap = c;
    return RG_OK;
}

/* --- BM25 (bm25.c) -------------------------------------------------------- */

typedef struct rg_index__term {
    uint64_t post; /* first posting */
    uint32_t off;  /* the term's bytes in the term pool */
    uint32_t len;
    uint32_t hash;
    uint32_t df; /* postings (units containing the term) */
    float max_w; /* the largest w of its postings (for MaxScore's bound) */
    double idf;  /* log(1 + (N - df + 0.5) / (df + 0.5)) */
} rg_index__term;

/* The immutable full-text part of a snapshot.  Postings of a term are sorted
 * by unit; w is the BM25 term-frequency part, tf (k1 + 1) / (tf + k1 (1 - b +
 * b dl / avgdl)), precomputed because a snapshot never changes, so a unit's
 * score is the sum over matched query terms of (repeats x idf) w. */
typedef struct rg_index__text {
    rg_index__term *terms;
    size_t n_terms;
    uint32_t *slots; /* open addressing: term id + 1, 0 empty */
    size_t slot_mask;
    char *pool; /* term bytes */
    uint32_t *p_unit;
    float *p_w;
    uint64_t n_post;
    size_t n_docs; /* units with at least one term: BM25's N */
    double avgdl;
} rg_index__text;

typedef struct rg_index__text_builder {
    rg_index__text t;
    size_t terms_cap;
    uint32_t *last_unit; /* per term: the last unit that had it */
    uint64_t *last_tr;   /* per term: its triple for that unit */
    rg_buf pool;
    struct rg_index__triple *tr;
    size_t n_tr, tr_cap;
    uint32_t *dl; /* per unit: sum of tf */
    size_t dl_cap;
    uint32_t n_units;
    double avgdl; /* > 0: the average length w is computed with (a layer's base's) */
} rg_index__text_builder;

void rg_index__text_builder_init(rg_index__text_builder *b);
/* Frees what a builder holds (after an error; finish consumes it). */
void rg_index__text_builder_free(rg_index__text_builder *b);
/* Adds unit's "term\ttf\n" lines (terms may be NULL); units come in order
 * 0, 1, 2 ... with no gap (a unit without terms still calls this). */
RG_WUR rg_rc rg_index__text_add(rg_index__text_builder *b, uint32_t unit, const char *terms,
                                size_t len);
/* Builds the postings into *out and empties the builder (freed either way). */
RG_WUR rg_rc rg_index__text_finish(rg_index__text_builder *b, rg_index__text *out);
void rg_index__text_free(rg_index__text *t);

/* Parts of one snapshot (index.c): most parts a snapshot may have (a full
 * one and the layers stacked on it). */
#define RG_INDEX_MAX_PARTS 8

/* The texts whose units count in BM25's IDF (N and each df summed): every
 * part of a layered snapshot. */
typedef struct rg_index__stats {
    const struct rg_index__text *t[RG_INDEX_MAX_PARTS];
    size_t n;
} rg_index__stats;

/* The best top->k units for the query into top (unsorted).  exhaustive false:
 * MaxScore (windows of units, skipping those that cannot enter the top k);
 * true: every posting of every query term scored, term at a time.  Both give
 * the same units with identical scores.  stats (nullable: t alone): the
 * parts whose units count in the IDF, t among them. */
RG_WUR rg_rc rg_index__text_search(const rg_index__text *t, rg_str query, bool exhaustive,
                                   const rg_index__stats *stats, rg_index__topk *top);

/* The BM25 score the query gives each of units[0..n) of t, exactly as a
 * search would (0 for a unit that matches no term), into out. */
RG_WUR rg_rc rg_index__text_score(const rg_index__text *t, rg_str query,
                                  const rg_index__stats *stats, const uint32_t *units, size_t n,
                                  double *out);

/* --- vectors (vector.c) --------------------------------------------------- */

struct rg_index__hnsw;

typedef struct rg_index__matrix {
    int dims;
    size_t n, cap;
    float *data;    /* n rows of dims floats, row-major */
    uint32_t *unit; /* n units, ascending */
    bool dense;     /* unit[r] == r for every row: unit bitmaps are row bitmaps */
    /* the approximate index over these rows (hnsw.h), built in the
     * background after the snapshot and published once; NULL until then */
    struct rg_index__hnsw *_Atomic graph;
} rg_index__matrix;

typedef struct rg_index__vectors {
    rg_index__matrix *m; /* one per dimension seen */
    size_t n;
} rg_index__vectors;

/* Appends unit's vector to the matrix of its dimension. */
RG_WUR rg_rc rg_index__vectors_add(rg_index__vectors *v, uint32_t unit, const float *x, int dims);
void rg_index__vectors_free(rg_index__vectors *v);
/* The matrix of that dimension, NULL if none. */
const rg_index__matrix *rg_index__vectors_get(const rg_index__vectors *v, int dims);
/* Best top->k rows of m by dot product with q (unsorted). */
void rg_index__vectors_search(const rg_index__matrix *m, const float *q, rg_index__topk *top);
/* Below 1 allowed row in this many, a filtered search scans the allowed rows
 * exactly instead of walking the graph (hnsw.h: the walk's cost grows like
 * 1 / allowed fraction; bench/vectors measured the crossover near 7 %). */
#define RG_INDEX_ANN_MIN_ALLOWED_INV 14
/* Best top->k rows of m by the approximate index, when m has one and top's
 * filter (over units) leaves enough rows; *used false (nothing done) when
 * the caller should scan instead. */
RG_WUR rg_rc rg_index__vectors_search_graph(const rg_index__matrix *m, const float *q,
                                            rg_index__topk *top, bool *used);
/* The dot product, inlined where it is called in a loop: eight independent
 * accumulators, which GCC and Clang vectorise at -O2 without reassociating
 * anything (no -ffast-math), summed in a fixed order. */
static inline __attribute__((always_inline)) float rg_index__dot_inline(const float *a,
                                                                        const float *b, size_t n)
{
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t j = 0; j < 8; j++)
            acc[j] += a[i + j] * b[i + j];
    float tail = 0;
    for (; i < n; i++)
        tail += a[i] * b[i];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}
/* The dot product the search uses (for tests). */
float rg_index__dot(const float *a, const float *b, size_t n);

/* --- snapshots (index.c) -------------------------------------------------- */

typedef struct rg_index__unit {
    uint32_t seg, doc, child; /* offsets into the id pool; child RG_INDEX_NO_CHILD */
} rg_index__unit;

/* The units of one document: consecutive, as the store's scan yields them. */
typedef struct rg_index__docrange {
    uint32_t doc; /* offset of its id in the pool */
    uint32_t first, n;
} rg_index__docrange;

struct rg_index {
    atomic_long refs;
    atomic_bool superseded; /* a newer snapshot replaced it: background work stops */
    int64_t version;
    uint64_t gen; /* the registry build that made it */
    rg_index__unit *units;
    size_t n_units;
    char *ids;                /* NUL-terminated ids */
    rg_index__docrange *docs; /* sorted by document id (a document may repeat) */
    size_t n_docs;
    rg_index__text text;
    rg_index__vectors vec;
    /* A layered snapshot: the parts below it, oldest first - a full
     * snapshot, then the own units of the layers built on it; a reference
     * held on each - whose units are live where alive[i] has their bit (a
     * bit per unit of below[i], owned: clear for the units of documents
     * changed since), followed by its own units, the documents changed
     * since the snapshot it was layered on, as they are now.  BM25
     * statistics are summed over all parts.  n_below 0: a full snapshot. */
    rg_index **below;
    uint64_t **alive;
    size_t n_below;
    size_t n_live; /* live units of the parts below */
};

typedef struct rg_index__builder rg_index__builder;

/* A builder for one snapshot.  Free it with rg_index__builder_free unless
 * rg_index__builder_finish took it. */
rg_index__builder *rg_index__builder_new(void);
void rg_index__builder_free(rg_index__builder *b);
/* Adds one unit (the row is copied); the shape of rg_store_index_scan's
 * callback, with the builder as arg. */
RG_WUR rg_rc rg_index__builder_add(const rg_index_row *row, void *builder);
/* Turns the builder into a snapshot with one reference (the caller's),
 * version as given.  The builder is freed whatever the outcome. */
RG_WUR rg_rc rg_index__builder_finish(rg_index__builder *b, int64_t version, rg_index **out);
/* The builder in one call: a snapshot of rows[0..n) with one reference. */
RG_WUR rg_rc rg_index__build(const rg_index_row *rows, size_t n, int64_t version, rg_index **out);
/* The exhaustive scorer behind rg_index_search_text's interface. */
RG_WUR rg_rc rg_index__search_text_exhaustive(const rg_index *ix, rg_str query, size_t k,
                                              const rg_index_filter *filter, rg_hit *out,
                                              size_t *n);

/* Where a registry reads versions and rows: the store, or a test's fake. */
typedef struct rg_index__source {
    rg_rc (*version)(void *ctx, const char *tenant_id, const char *dataset_id, int64_t *version);
    rg_rc (*scan)(void *ctx, const char *tenant_id, const char *dataset_id, int64_t *version,
                  rg_rc (*fn)(const rg_index_row *row, void *arg), void *arg);
    void *ctx;
    /* optional (NULL: every change rebuilds in full): the documents changed
     * since a version with their rows (rg_store_index_scan_changes), and the
     * trim of the log below a version no snapshot needs */
    rg_rc (*changes)(void *ctx, const char *tenant_id, const char *dataset_id, int64_t since,
                     int64_t *version, rg_rc (*changed)(const char *document_id, void *arg),
                     rg_rc (*fn)(const rg_index_row *row, void *arg), void *arg);
    rg_rc (*trim)(void *ctx, const char *tenant_id, const char *dataset_id, int64_t upto);
} rg_index__source;

/* A layer on over (a full or layered snapshot of fewer than
 * RG_INDEX_MAX_PARTS parts): the units of the documents source reports
 * changed since over->version are replaced in every part of over by their
 * current ones, the layer's own part.  One reference, the caller's.
 * RG_ENOTFOUND when the source cannot tell (build in full). */
RG_WUR rg_rc rg_index__build_layer(const rg_index__source *src, const char *tenant_id,
                                   const char *dataset_id, rg_index *over, rg_index **out);
/* Number of parts of ix (1 for a full snapshot). */
size_t rg_index__parts(const rg_index *ix);
/* The full snapshot at the bottom of ix (ix itself when full). */
rg_index *rg_index__base(rg_index *ix);
/* True when a layer has grown enough that a full rebuild should replace it:
 * its changed units exceed min_units (RG_INDEX_LAYER_MIN in the registry)
 * and 1/RG_INDEX_LAYER_SHARE of its base. */
bool rg_index__layer_too_big(const rg_index *ix, size_t min_units);
/* Sets the registry's min_units for rg_index__layer_too_big (tests). */
void rg_index__registry_layer_min(rg_index_registry *r, size_t min_units);
#define RG_INDEX_LAYER_MIN   2000
#define RG_INDEX_LAYER_SHARE 8
/* Makes a builder's BM25 weights use this average length (a layer's base's). */
void rg_index__builder_avgdl(rg_index__builder *b, double avgdl);

/* Builds the approximate index of each matrix of ix with at least min_rows
 * rows that has none, publishing each when done; gives up (RG_ECANCELED)
 * when *stop or ix->superseded becomes true.  The registry's background
 * thread runs it; tests call it directly. */
RG_WUR rg_rc rg_index__build_graphs(rg_index *ix, size_t min_rows, const atomic_bool *stop);

/* rg_index_registry_new over any source (copied; ctx borrowed). */
RG_WUR rg_rc rg_index__registry_new_source(const rg_index__source *src, rg_index_registry **out);
/* Builds started by the registry so far (for tests). */
uint64_t rg_index__registry_builds(rg_index_registry *r);

#endif
