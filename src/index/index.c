/*
 * index.c - snapshots and the registry that keeps one per dataset current.
 *
 * A snapshot is immutable once built: units (the ids of each searchable
 * segment or child chunk, as offsets into one pool of NUL-terminated
 * strings, a document id shared by its consecutive units), the BM25 postings
 * (bm25.c) and the vector matrices (vector.c).  It is built from the rows of
 * one rg_store_index_scan and carries that scan's index version.  Searches on
 * it need no lock.
 *
 * The registry maps "tenant/dataset" to an entry (a sorted array of pointers
 * under one mutex; entries do not move while a builder works unlocked)
 * holding the current snapshot.  rg_index_acquire reads the store's version
 * first, without the lock, then:
 *   - if the current snapshot has that version, it takes a reference;
 *   - otherwise one caller becomes the entry's builder: it marks the entry,
 *     drops the lock, scans and builds, then swaps the new snapshot in and
 *     wakes the others.  Callers that find a build running wait for it
 *     rather than build the same thing twice.  A caller must not settle for
 *     a snapshot older than the version it read (a client that committed an
 *     edit and then searches must see it), so after waiting it takes the new
 *     snapshot if its version is the one it read, or if that build started
 *     after the caller read its version (each build has a generation number;
 *     the caller notes the entry's generation when it first takes the lock,
 *     which is after its version read); otherwise it builds again.
 * References are atomic counts.  The registry holds one on its current
 * snapshot; a swapped-out snapshot lives until its last searcher releases
 * it.  A dataset the store no longer knows (RG_ENOTFOUND) loses its entry.
 * Every entry of a dataset that is searched stays in memory until the
 * registry is freed.
 *
 * Layers.  Rebuilding a dataset of 100k chunks for each edit costs a scan of
 * every row; instead the entry keeps its newest full snapshot as a base, and
 * a build after a change reads only the documents the store's change log
 * names since the current snapshot's version (rg_store_index_scan_changes):
 * the new snapshot is a layer on the current one - the parts of the current
 * snapshot with those documents' units marked dead, plus their units as they
 * are now in a small part of its own whose BM25 weights use the base's
 * average length; the IDF sums every part's statistics (units removed since
 * the base still count until compaction, a small drift).  Searches run on
 * every part and merge.  Layers stack up to RG_INDEX_MAX_PARTS parts (then
 * the next one holds every change since the base, on it); from FLATTEN_PARTS
 * parts the background thread merges them the same way and installs the
 * result unless something newer is current.  When the changes since the
 * base pass RG_INDEX_LAYER_MIN units and 1/RG_INDEX_LAYER_SHARE of it, the
 * background thread rebuilds the dataset in full and makes that the base
 * (and the current snapshot unless a newer layer exists), then trims the
 * change log to its version.  A source without a change log (or one trimmed
 * past the base) gets full builds every time.
 *
 * The background thread (started on first need) runs, in order: HNSW graphs
 * of new bases over --ann-min-vectors (a superseded base's is skipped or
 * stopped), compactions and log trims.
 */
#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "index/hnsw.h"
#include "index/index_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ID_POOL_MAX ((size_t)UINT32_MAX - 1)
#define STACK_HITS  128

/* --- shared helpers --------------------------------------------------------- */

static int best_first(const void *a, const void *b)
{
    const rg_index__scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->unit > y->unit) - (x->unit < y->unit);
}

void rg_index__topk_sort(rg_index__topk *h)
{
    qsort(h->e, h->n, sizeof *h->e, best_first);
}

/* --- building ------------------------------------------------------------- */

struct rg_index__builder {
    rg_index__unit *units;
    size_t n_units, units_cap;
    rg_buf ids;
    uint32_t last_doc; /* offset of the previous row's document id */
    rg_index__text_builder text;
    rg_index__vectors vec;
};

rg_index__builder *rg_index__builder_new(void)
{
    rg_index__builder *b = rg_xcalloc(1, sizeof *b);
    rg_buf_init(&b->ids, ID_POOL_MAX);
    b->last_doc = UINT32_MAX;
    rg_index__text_builder_init(&b->text);
    return b;
}

void rg_index__builder_free(rg_index__builder *b)
{
    if (!b)
        return;
    rg_free(b->units);
    rg_buf_free(&b->ids);
    rg_index__text_builder_free(&b->text);
    rg_index__vectors_free(&b->vec);
    rg_free(b);
}

void rg_index__builder_avgdl(rg_index__builder *b, double avgdl)
{
    b->text.avgdl = avgdl;
}

static rg_rc pool_add(rg_buf *pool, const char *z, uint32_t *off)
{
    size_t at = pool->len;
    RG_TRY(rg_buf_append(pool, z, strlen(z) + 1));
    *off = (uint32_t)at;
    return RG_OK;
}

rg_rc rg_index__builder_add(const rg_index_row *row, void *builder)
{
    rg_index__builder *b = builder;
    if (!row->segment_id || !row->document_id)
        return RG_EINVAL;
    if (b->n_units >= UINT32_MAX - 1)
        return RG_ENOMEM;
    RG_TRY(rg_index__reserve((void **)&b->units, &b->units_cap, b->n_units + 1, sizeof *b->units));
    uint32_t unit = (uint32_t)b->n_units;
    rg_index__unit *u = &b->units[unit];
    rg_rc rc = pool_add(&b->ids, row->segment_id, &u->seg);
    if (rc != RG_OK)
        return rc == RG_ETOOBIG ? RG_ENOMEM : rc;
    if (b->last_doc != UINT32_MAX && strcmp(b->ids.p + b->last_doc, row->document_id) == 0)
        u->doc = b->last_doc;
    else if ((rc = pool_add(&b->ids, row->document_id, &u->doc)) != RG_OK)
        return rc == RG_ETOOBIG ? RG_ENOMEM : rc;
    b->last_doc = u->doc;
    u->child = RG_INDEX_NO_CHILD;
    if (row->child_id && (rc = pool_add(&b->ids, row->child_id, &u->child)) != RG_OK)
        return rc == RG_ETOOBIG ? RG_ENOMEM : rc;
    RG_TRY(rg_index__text_add(&b->text, unit, row->terms, row->terms ? row->terms_len : 0));
    if (row->vector && row->dims > 0) {
        rc = rg_index__vectors_add(&b->vec, unit, row->vector, row->dims);
        if (rc == RG_EINVAL)
            rg_warn("index: segment %s has a %d-dimension vector; not searchable by vector",
                    row->segment_id, row->dims);
        else if (rc != RG_OK)
            return rc;
    }
    b->n_units++;
    return RG_OK;
}

static void snapshot_free(rg_index *ix)
{
    for (size_t i = 0; i < ix->n_below; i++) {
        rg_index_release(ix->below[i]);
        rg_free(ix->alive[i]);
    }
    rg_free(ix->below);
    rg_free(ix->alive);
    rg_free(ix->docs);
    rg_free(ix->units);
    rg_free(ix->ids);
    rg_index__text_free(&ix->text);
    rg_index__vectors_free(&ix->vec);
    rg_free(ix);
}

/* qsort_r (glibc's, _GNU_SOURCE) order of document ranges: id, then unit. */
static int docrange_by_id(const void *x, const void *y, void *pool)
{
    const rg_index__docrange *a = x, *b = y;
    const char *ids = pool;
    int c = strcmp(ids + a->doc, ids + b->doc);
    return c ? c : (a->first > b->first) - (a->first < b->first);
}

/* The document ranges of the snapshot's units, sorted by document id. */
static rg_rc doc_ranges(rg_index *ix)
{
    size_t n = 0;
    for (size_t u = 0; u < ix->n_units; u++)
        n += u == 0 || ix->units[u].doc != ix->units[u - 1].doc;
    ix->docs = rg_try_malloc((n ? n : 1) * sizeof *ix->docs);
    if (!ix->docs)
        return RG_ENOMEM;
    for (size_t u = 0; u < ix->n_units; u++) {
        if (u == 0 || ix->units[u].doc != ix->units[u - 1].doc)
            ix->docs[ix->n_docs++] = (rg_index__docrange){ix->units[u].doc, (uint32_t)u, 0};
        ix->docs[ix->n_docs - 1].n++;
    }
    qsort_r(ix->docs, ix->n_docs, sizeof *ix->docs, docrange_by_id, ix->ids);
    return RG_OK;
}

rg_rc rg_index__builder_finish(rg_index__builder *b, int64_t version, rg_index **out)
{
    rg_index *ix = rg_xcalloc(1, sizeof *ix);
    rg_rc rc = rg_index__text_finish(&b->text, &ix->text);
    if (rc != RG_OK) {
        rg_free(ix);
        rg_index__builder_free(b);
        return rc;
    }
    atomic_init(&ix->refs, 1);
    atomic_init(&ix->superseded, false);
    ix->version = version;
    ix->units = b->units;
    ix->n_units = b->n_units;
    ix->ids = rg_buf_take(&b->ids, &(size_t){0});
    ix->vec = b->vec;
    b->units = NULL;
    memset(&b->vec, 0, sizeof b->vec);
    rg_index__builder_free(b);
    rc = doc_ranges(ix);
    if (rc != RG_OK) {
        snapshot_free(ix);
        return rc;
    }
    *out = ix;
    return RG_OK;
}

rg_rc rg_index__build(const rg_index_row *rows, size_t n, int64_t version, rg_index **out)
{
    rg_index__builder *b = rg_index__builder_new();
    for (size_t i = 0; i < n; i++) {
        rg_rc rc = rg_index__builder_add(&rows[i], b);
        if (rc != RG_OK) {
            rg_index__builder_free(b);
            return rc;
        }
    }
    return rg_index__builder_finish(b, version, out);
}

/* --- snapshots ------------------------------------------------------------- */

void rg_index_release(rg_index *ix)
{
    if (ix && atomic_fetch_sub_explicit(&ix->refs, 1, memory_order_acq_rel) == 1)
        snapshot_free(ix);
}

static void snapshot_ref(rg_index *ix)
{
    atomic_fetch_add_explicit(&ix->refs, 1, memory_order_relaxed);
}

size_t rg_index_size(const rg_index *ix)
{
    return ix->n_units + ix->n_live;
}

/* Sorts the heap and turns its entries (units of part ix, which starts at
 * unit first of its snapshot) into hits. */
static void fill_hits(const rg_index *ix, uint32_t first, rg_index__topk *top, rg_hit *out,
                      size_t *n)
{
    rg_index__topk_sort(top);
    for (size_t i = 0; i < top->n; i++) {
        const rg_index__unit *u = &ix->units[top->e[i].unit];
        out[i] = (rg_hit){
            .segment_id = ix->ids + u->seg,
            .document_id = ix->ids + u->doc,
            .child_id = u->child == RG_INDEX_NO_CHILD ? NULL : ix->ids + u->child,
            .score = top->e[i].score,
            .ref = first + top->e[i].unit,
        };
    }
    *n = top->n;
}

/* Heap space for min(k, limit) entries: on the stack when small. */
static rg_rc topk_init(rg_index__topk *top, rg_index__scored *stack, size_t k, size_t limit)
{
    *top = (rg_index__topk){.k = k < limit ? k : limit, .e = stack};
    if (top->k > STACK_HITS && !(top->e = rg_try_malloc(top->k * sizeof *top->e)))
        return RG_ENOMEM;
    return RG_OK;
}

static void topk_done(rg_index__topk *top, const rg_index__scored *stack)
{
    if (top->e != stack)
        rg_free(top->e);
}

/* A filter over a snapshot's units: a bitmap per part (its live units only). */
struct rg_index_filter {
    const rg_index *ix;
    uint64_t *bits[RG_INDEX_MAX_PARTS];
    size_t units;
};

static int docrange_cmp_id(const rg_index *ix, const char *id, const rg_index__docrange *r)
{
    return strcmp(id, ix->ids + r->doc);
}

/* First docs[] entry whose id is >= id. */
static size_t docrange_lower(const rg_index *ix, const char *id)
{
    size_t lo = 0, hi = ix->n_docs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (docrange_cmp_id(ix, id, &ix->docs[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Calls fn(arg, unit) for every unit of document id in part ix. */
static void for_doc_units(const rg_index *ix, const char *id, void (*fn)(void *, uint32_t),
                          void *arg)
{
    for (size_t j = docrange_lower(ix, id);
         j < ix->n_docs && docrange_cmp_id(ix, id, &ix->docs[j]) == 0; j++)
        for (uint32_t u = ix->docs[j].first; u < ix->docs[j].first + ix->docs[j].n; u++)
            fn(arg, u);
}

typedef struct bit_set {
    uint64_t *bits;
    const uint64_t *mask; /* only units set here count (NULL: all) */
    size_t *count;
} bit_set;

static void set_unit(void *arg, uint32_t u)
{
    bit_set *b = arg;
    uint64_t bit = (uint64_t)1 << (u & 63);
    if ((b->bits[u >> 6] & bit) || (b->mask && !(b->mask[u >> 6] & bit)))
        return;
    b->bits[u >> 6] |= bit;
    ++*b->count;
}

/* One part of a snapshot to search: its units, the filter over them, the
 * statistics of all parts, and where its units start in the snapshot's
 * numbering (rg_hit.ref). */
typedef struct part {
    const rg_index *ix;
    const uint64_t *allow;
    const rg_index__stats *stats; /* NULL for a full snapshot's one part */
    uint32_t first;
} part;

/* The parts of ix (the parts below it, oldest first, then its own units)
 * under filter (nullable), with stats filled for them; returns how many. */
static size_t parts_of(const rg_index *ix, const rg_index_filter *filter, rg_index__stats *stats,
                       part out[RG_INDEX_MAX_PARTS])
{
    size_t n = 0;
    uint32_t first = 0;
    stats->n = 0;
    for (size_t i = 0; i <= ix->n_below; i++) {
        const rg_index *p = i < ix->n_below ? ix->below[i] : ix;
        const uint64_t *allow = i < ix->n_below ? ix->alive[i] : NULL;
        out[n++] = (part){p, filter ? filter->bits[i] : allow, ix->n_below ? stats : NULL, first};
        stats->t[stats->n++] = &p->text;
        first += (uint32_t)p->n_units;
    }
    return n;
}

size_t rg_index__parts(const rg_index *ix)
{
    return ix->n_below + 1;
}

rg_index *rg_index__base(rg_index *ix)
{
    return ix->n_below ? ix->below[0] : ix;
}

rg_rc rg_index_filter_documents(const rg_index *ix, rg_arena *a, const char *const *doc_ids,
                                size_t n, rg_index_filter **out)
{
    rg_index_filter *f = rg_arena_calloc(a, 1, sizeof *f);
    f->ix = ix;
    rg_index__stats stats;
    part ps[RG_INDEX_MAX_PARTS];
    size_t np = parts_of(ix, NULL, &stats, ps);
    for (size_t p = 0; p < np; p++) {
        f->bits[p] = rg_arena_calloc(a, ps[p].ix->n_units / 64 + 1, sizeof **f->bits);
        bit_set b = {f->bits[p], ps[p].allow, &f->units};
        for (size_t i = 0; i < n; i++)
            for_doc_units(ps[p].ix, doc_ids[i], set_unit, &b);
    }
    *out = f;
    return RG_OK;
}

size_t rg_index_filter_units(const rg_index_filter *f)
{
    return f->units;
}

/* The best k hits of the parts' lists (each best first) into out; ties go
 * to the older part. */
static void merge_hits(rg_hit *const *lists, const size_t *lens, size_t n_lists, size_t k,
                       rg_hit *out, size_t *n)
{
    size_t at[RG_INDEX_MAX_PARTS] = {0};
    *n = 0;
    while (*n < k) {
        size_t best = n_lists;
        for (size_t l = 0; l < n_lists; l++)
            if (at[l] < lens[l] &&
                (best == n_lists || lists[l][at[l]].score > lists[best][at[best]].score))
                best = l;
        if (best == n_lists)
            break;
        out[(*n)++] = lists[best][at[best]++];
    }
}

/* Searches the parts of ix with fn and merges their hits: a full snapshot's
 * one list is written to out directly. */
typedef rg_rc (*part_search_fn)(const part *p, const void *q, size_t k, rg_hit *out, size_t *n);

static rg_rc search_parts(const rg_index *ix, const rg_index_filter *filter, part_search_fn fn,
                          const void *q, size_t k, rg_hit *out, size_t *n)
{
    rg_index__stats stats;
    part ps[RG_INDEX_MAX_PARTS];
    size_t np = parts_of(ix, filter, &stats, ps);
    if (np == 1)
        return fn(&ps[0], q, k, out, n);
    rg_hit *lists[RG_INDEX_MAX_PARTS] = {NULL};
    size_t lens[RG_INDEX_MAX_PARTS] = {0};
    rg_rc rc = RG_OK;
    for (size_t i = 0; i < np && rc == RG_OK; i++) {
        lists[i] = rg_try_malloc(k * sizeof(rg_hit));
        rc = lists[i] ? fn(&ps[i], q, k, lists[i], &lens[i]) : RG_ENOMEM;
    }
    if (rc == RG_OK)
        merge_hits(lists, lens, np, k, out, n);
    for (size_t i = 0; i < np; i++)
        rg_free(lists[i]);
    return rc;
}

typedef struct text_query {
    rg_str query;
    bool exhaustive;
} text_query;

static rg_rc part_text(const part *p, const void *arg, size_t k, rg_hit *out, size_t *n)
{
    const text_query *q = arg;
    rg_index__scored stack[STACK_HITS];
    rg_index__topk top;
    RG_TRY(topk_init(&top, stack, k, p->ix->text.n_docs));
    top.allow = p->allow;
    rg_rc rc = rg_index__text_search(&p->ix->text, q->query, q->exhaustive, p->stats, &top);
    if (rc == RG_OK)
        fill_hits(p->ix, p->first, &top, out, n);
    topk_done(&top, stack);
    return rc;
}

static rg_rc search_text(const rg_index *ix, rg_str query, size_t k, const rg_index_filter *filter,
                         rg_hit *out, size_t *n, bool exhaustive)
{
    *n = 0;
    if ((k && !out) || (filter && filter->ix != ix))
        return RG_EINVAL;
    if (k == 0)
        return RG_OK;
    text_query q = {query, exhaustive};
    return search_parts(ix, filter, part_text, &q, k, out, n);
}

rg_rc rg_index_search_text(const rg_index *ix, rg_str query, size_t k,
                           const rg_index_filter *filter, rg_hit *out, size_t *n)
{
    return search_text(ix, query, k, filter, out, n, false);
}

rg_rc rg_index__search_text_exhaustive(const rg_index *ix, rg_str query, size_t k,
                                       const rg_index_filter *filter, rg_hit *out, size_t *n)
{
    return search_text(ix, query, k, filter, out, n, true);
}

typedef struct vector_query {
    const float *q;
    int dims;
} vector_query;

static rg_rc part_vector(const part *p, const void *arg, size_t k, rg_hit *out, size_t *n)
{
    const vector_query *vq = arg;
    *n = 0;
    const rg_index__matrix *m = rg_index__vectors_get(&p->ix->vec, vq->dims);
    if (!m)
        return RG_OK;
    rg_index__scored stack[STACK_HITS];
    rg_index__topk top;
    RG_TRY(topk_init(&top, stack, k, m->n));
    top.allow = p->allow;
    bool approximate = false;
    rg_rc rc = rg_index__vectors_search_graph(m, vq->q, &top, &approximate);
    if (rc == RG_OK && !approximate)
        rg_index__vectors_search(m, vq->q, &top);
    if (rc == RG_OK)
        fill_hits(p->ix, p->first, &top, out, n);
    topk_done(&top, stack);
    return rc;
}

rg_rc rg_index_search_vector(const rg_index *ix, const float *q, int dims, size_t k,
                             const rg_index_filter *filter, rg_hit *out, size_t *n)
{
    *n = 0;
    if ((k && !out) || !q || dims <= 0 || (filter && filter->ix != ix))
        return RG_EINVAL;
    if (k == 0)
        return RG_OK;
    vector_query vq = {q, dims};
    return search_parts(ix, filter, part_vector, &vq, k, out, n);
}

/* The part of ix that unit ref (rg_hit.ref) is in (its index in *which),
 * and the unit there. */
static part part_of_ref(const rg_index *ix, uint32_t ref, rg_index__stats *stats, size_t *which,
                        uint32_t *unit)
{
    part ps[RG_INDEX_MAX_PARTS];
    size_t np = parts_of(ix, NULL, stats, ps), p = np - 1;
    while (p > 0 && ref < ps[p].first)
        p--;
    *which = p;
    *unit = ref - ps[p].first;
    return ps[p];
}

/* The row of unit in m, or SIZE_MAX. */
static size_t row_of(const rg_index__matrix *m, uint32_t unit)
{
    if (m->dense)
        return unit < m->n ? unit : SIZE_MAX;
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->unit[mid] < unit)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->unit[lo] == unit ? lo : SIZE_MAX;
}

rg_rc rg_index_vector_scores(const rg_index *ix, const float *q, int dims, const rg_hit *hits,
                             size_t n, double *out)
{
    if (!q || dims <= 0 || (n && (!hits || !out)))
        return RG_EINVAL;
    for (size_t i = 0; i < n; i++) {
        uint32_t unit;
        size_t which;
        rg_index__stats stats;
        part p = part_of_ref(ix, hits[i].ref, &stats, &which, &unit);
        const rg_index__matrix *m = rg_index__vectors_get(&p.ix->vec, dims);
        size_t row = m ? row_of(m, unit) : SIZE_MAX;
        out[i] =
            row == SIZE_MAX ? NAN : rg_index__dot(q, m->data + row * (size_t)dims, (size_t)dims);
    }
    return RG_OK;
}

rg_rc rg_index_text_scores(const rg_index *ix, rg_str query, const rg_hit *hits, size_t n,
                           double *out)
{
    if (n && (!hits || !out))
        return RG_EINVAL;
    if (n == 0)
        return RG_OK;
    /* per part, the query prepared once for all of its candidates */
    uint32_t *units = rg_try_malloc(n * sizeof *units);
    size_t *at = rg_try_malloc(n * sizeof *at);
    double *scores = rg_try_malloc(n * sizeof *scores);
    rg_rc rc = units && at && scores ? RG_OK : RG_ENOMEM;
    rg_index__stats stats;
    part ps[RG_INDEX_MAX_PARTS];
    size_t np = parts_of(ix, NULL, &stats, ps);
    for (size_t pi = 0; pi < np && rc == RG_OK; pi++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t unit;
            size_t which;
            rg_index__stats unused;
            (void)part_of_ref(ix, hits[i].ref, &unused, &which, &unit);
            if (which == pi) {
                units[k] = unit;
                at[k++] = i;
            }
        }
        rc = rg_index__text_score(&ps[pi].ix->text, query, ps[pi].stats, units, k, scores);
        for (size_t j = 0; rc == RG_OK && j < k; j++)
            out[at[j]] = scores[j];
    }
    rg_free(units);
    rg_free(at);
    rg_free(scores);
    return rc;
}

/* --- layers: the documents changed since a snapshot, on top of it --------------- */

typedef struct layer_ctx {
    rg_index__builder *b;
    rg_index **below; /* the new layer's parts below it */
    uint64_t **alive;
    size_t n;
} layer_ctx;

static void clear_unit(void *alive, uint32_t u)
{
    ((uint64_t *)alive)[u >> 6] &= ~((uint64_t)1 << (u & 63));
}

static rg_rc layer_changed(const char *document_id, void *arg)
{
    layer_ctx *l = arg;
    for (size_t i = 0; i < l->n; i++)
        for_doc_units(l->below[i], document_id, clear_unit, l->alive[i]);
    return RG_OK;
}

static rg_rc layer_row(const rg_index_row *row, void *arg)
{
    return rg_index__builder_add(row, ((layer_ctx *)arg)->b);
}

static void layer_ctx_free(layer_ctx *l)
{
    for (size_t i = 0; i < l->n; i++)
        rg_free(l->alive[i]);
    rg_free(l->alive);
    rg_free(l->below);
    rg_index__builder_free(l->b);
}

/* The parts below a layer on over: over's own, then over itself, each with
 * a copy of its live bits (all of over's own units). */
static rg_rc layer_start(rg_index *over, layer_ctx *l)
{
    l->n = over->n_below + 1;
    l->below = rg_xcalloc(l->n, sizeof *l->below);
    l->alive = rg_xcalloc(l->n, sizeof *l->alive);
    for (size_t i = 0; i < l->n; i++) {
        rg_index *p = i < over->n_below ? over->below[i] : over;
        size_t words = p->n_units / 64 + 1;
        l->below[i] = p;
        if (!(l->alive[i] = rg_try_malloc(words * sizeof(uint64_t))))
            return RG_ENOMEM;
        if (i < over->n_below)
            memcpy(l->alive[i], over->alive[i], words * sizeof(uint64_t));
        else {
            memset(l->alive[i], 0xff, words * sizeof(uint64_t));
            l->alive[i][words - 1] = p->n_units % 64 ? ((uint64_t)1 << (p->n_units % 64)) - 1 : 0;
        }
    }
    return RG_OK;
}

rg_rc rg_index__build_layer(const rg_index__source *src, const char *tenant_id,
                            const char *dataset_id, rg_index *over, rg_index **out)
{
    if (!src->changes || over->n_below + 1 >= RG_INDEX_MAX_PARTS)
        return RG_ENOTFOUND;
    layer_ctx l = {.b = rg_index__builder_new()};
    rg_rc rc = layer_start(over, &l);
    if (rc == RG_OK) {
        rg_index__builder_avgdl(l.b, rg_index__base(over)->text.avgdl);
        int64_t version = 0;
        rc = src->changes(src->ctx, tenant_id, dataset_id, over->version, &version, layer_changed,
                          layer_row, &l);
        rg_index *ix = NULL;
        if (rc == RG_OK) {
            rc = rg_index__builder_finish(l.b, version, &ix);
            l.b = NULL; /* consumed either way */
        }
        if (rc == RG_OK) {
            ix->below = l.below;
            ix->alive = l.alive;
            ix->n_below = l.n;
            for (size_t i = 0; i < l.n; i++) {
                snapshot_ref(l.below[i]);
                for (size_t w = 0; w < l.below[i]->n_units / 64 + 1; w++)
                    ix->n_live += (size_t)__builtin_popcountll(l.alive[i][w]);
            }
            l.below = NULL;
            l.alive = NULL;
            l.n = 0;
            *out = ix;
        }
    }
    layer_ctx_free(&l);
    return rc;
}

bool rg_index__layer_too_big(const rg_index *ix, size_t min_units)
{
    if (!ix->n_below)
        return false;
    size_t below = 0;
    for (size_t i = 0; i < ix->n_below; i++)
        below += ix->below[i]->n_units;
    size_t base = ix->below[0]->n_units;
    /* units re-read since the base: every layer's own ones and the dead */
    size_t changed = (below - base) + ix->n_units + (below - ix->n_live);
    return changed > min_units && changed > base / RG_INDEX_LAYER_SHARE;
}

/* --- approximate indexes, built after the snapshot ---------------------------- */

#define GRAPH_CHECK_EVERY 256 /* rows added between looks at the stop flags */

/* Builds and publishes the graph of one matrix. */
static rg_rc build_graph(rg_index *ix, rg_index__matrix *m, const atomic_bool *stop)
{
    int64_t t0 = rg_mono_ms();
    rg_index__hnsw *g;
    RG_TRY(rg_index__hnsw_new(m->dims, NULL, &g));
    rg_rc rc = rg_index__hnsw_reserve(g, m->n);
    for (size_t r = 0; r < m->n && rc == RG_OK; r++) {
        if (r % GRAPH_CHECK_EVERY == 0 && (atomic_load(stop) || atomic_load(&ix->superseded)))
            rc = RG_ECANCELED;
        else
            rc = rg_index__hnsw_add(g, m->data, (uint32_t)r);
    }
    if (rc != RG_OK) {
        rg_index__hnsw_free(g);
        return rc;
    }
    atomic_store_explicit(&m->graph, g, memory_order_release);
    rg_info("index: approximate index over %zu vectors of %d dimensions built in %lld ms (%zu "
            "bytes of links)",
            m->n, m->dims, (long long)(rg_mono_ms() - t0), rg_index__hnsw_bytes(g));
    return RG_OK;
}

rg_rc rg_index__build_graphs(rg_index *ix, size_t min_rows, const atomic_bool *stop)
{
    for (size_t i = 0; i < ix->vec.n; i++) {
        rg_index__matrix *m = &ix->vec.m[i];
        if (m->n >= min_rows && m->n > 0 && !atomic_load(&m->graph))
            RG_TRY(build_graph(ix, m, stop));
    }
    return RG_OK;
}

/* True when some matrix of ix is big enough for a graph and has none. */
static bool wants_graphs(const rg_index *ix, size_t min_rows)
{
    for (size_t i = 0; min_rows && i < ix->vec.n; i++)
        if (ix->vec.m[i].n >= min_rows && !atomic_load(&ix->vec.m[i].graph))
            return true;
    return false;
}

/* --- the registry ------------------------------------------------------------ */

typedef struct entry {
    char *key; /* tenant_id "/" dataset_id */
    rg_index *cur;
    rg_index *base; /* the newest full snapshot: what layers are built over */
    uint64_t gen;   /* builds started */
    bool building;
    bool compacting; /* a full rebuild is queued or running */
    bool flattening; /* a merge of the layers is queued or running */
    int users;       /* callers between lookup and return: the entry must stay */
} entry;

/* Work for the background thread. */
typedef enum { JOB_GRAPHS, JOB_COMPACT, JOB_FLATTEN, JOB_TRIM } job_kind;
/* Parts of a layered snapshot from which the background thread merges its
 * layers into one (the changes since the base, on the base). */
#define FLATTEN_PARTS 4
typedef struct bg_job {
    job_kind kind;
    rg_index *ix; /* JOB_GRAPHS: a reference */
    char *key;    /* JOB_COMPACT, JOB_TRIM: the entry's key (owned) */
    int64_t upto; /* JOB_TRIM */
} bg_job;

struct rg_index_registry {
    rg_index__source src;
    pthread_mutex_t mu;
    pthread_cond_t built;
    entry **e; /* sorted by key */
    size_t n, cap;
    uint64_t builds;
    /* the background thread that builds approximate indexes: snapshots
     * queued with a reference each, under mu */
    size_t ann_min;   /* rows from which a matrix gets a graph; 0 never */
    size_t layer_min; /* changed units a layer may hold before compaction */
    pthread_t bg;
    bool bg_running;
    pthread_cond_t bg_wake;
    atomic_bool bg_stop;
    bg_job *queue;
    size_t qn, qcap;
};

static rg_rc build(rg_index_registry *r, const char *tenant_id, const char *dataset_id,
                   rg_index **out);
static size_t find_entry(const rg_index_registry *r, const char *key, bool *found);
static void queue_job(rg_index_registry *r, bg_job j);

/* Splits "tenant/dataset" (a copy in buf, 128 bytes) into its two ids. */
static bool split_key(const char *key, char buf[128], const char **tenant, const char **dataset)
{
    size_t n = strlen(key);
    char *slash = n < 128 ? memchr(key, '/', n) : NULL;
    if (!slash)
        return false;
    memcpy(buf, key, n + 1);
    buf[slash - key] = '\0';
    *tenant = buf;
    *dataset = buf + (slash - key) + 1;
    return true;
}

/* Makes full the entry's base (and its current snapshot unless that is
 * newer); under mu.  Takes the caller's reference to full; the replaced
 * snapshots go to *drop (up to 2) to be released outside the lock. */
static void set_base(rg_index_registry *r, entry *e, rg_index *full, rg_index **drop)
{
    drop[0] = drop[1] = NULL;
    if (e->base) {
        atomic_store(&e->base->superseded, true); /* its graph build, if any, stops */
        drop[0] = e->base;
    }
    e->base = full;
    if (!e->cur || e->cur->version <= full->version) {
        snapshot_ref(full);
        drop[1] = e->cur;
        e->cur = full;
    }
    if (wants_graphs(full, r->ann_min)) {
        snapshot_ref(full);
        queue_job(r, (bg_job){.kind = JOB_GRAPHS, .ix = full});
    }
    if (r->src.trim)
        queue_job(r, (bg_job){.kind = JOB_TRIM, .key = rg_xstrdup(e->key), .upto = full->version});
}

/* What a new layer goes on (under mu): the current snapshot while it is
 * layered on the entry's base (or is it) and has room for one more part;
 * else the base itself, so that one layer holds every change since it; NULL
 * when there is no base yet (a full build). */
static rg_index *layer_on(entry *e)
{
    if (!e->base)
        return NULL;
    if (e->cur && rg_index__base(e->cur) == e->base && rg_index__parts(e->cur) < RG_INDEX_MAX_PARTS)
        return e->cur;
    return e->base;
}

/* JOB_FLATTEN: the entry's layers merged into one over its base (the changes
 * since the base read again), installed unless something newer is current. */
static void flatten(rg_index_registry *r, const char *key)
{
    char buf[128];
    const char *tenant, *dataset;
    rg_index *base = NULL, *flat = NULL, *drop = NULL;
    pthread_mutex_lock(&r->mu);
    bool found;
    size_t i = find_entry(r, key, &found);
    if (found && r->e[i]->base) {
        base = r->e[i]->base;
        snapshot_ref(base);
    }
    pthread_mutex_unlock(&r->mu);
    rg_rc rc = base && split_key(key, buf, &tenant, &dataset)
                   ? rg_index__build_layer(&r->src, tenant, dataset, base, &flat)
                   : RG_ENOTFOUND;
    pthread_mutex_lock(&r->mu);
    i = find_entry(r, key, &found);
    if (found) {
        entry *e = r->e[i];
        e->flattening = false;
        if (rc == RG_OK && e->base == base && e->cur && e->cur->version <= flat->version) {
            drop = e->cur;
            e->cur = flat;
            flat = NULL;
        }
    }
    pthread_mutex_unlock(&r->mu);
    rg_index_release(flat);
    rg_index_release(drop);
    rg_index_release(base);
}

/* JOB_COMPACT: a full rebuild of a dataset whose layer grew, made its base. */
static void compact(rg_index_registry *r, const char *key)
{
    char buf[128];
    const char *tenant, *dataset;
    rg_index *full = NULL;
    rg_rc rc =
        split_key(key, buf, &tenant, &dataset) ? build(r, tenant, dataset, &full) : RG_EINVAL;
    rg_index *drop[2] = {NULL, NULL};
    pthread_mutex_lock(&r->mu);
    bool found;
    size_t i = find_entry(r, key, &found);
    if (found) {
        entry *e = r->e[i];
        e->compacting = false;
        if (rc == RG_OK && (!e->base || e->base->version < full->version)) {
            set_base(r, e, full, drop);
            full = NULL;
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (rc != RG_OK && rc != RG_ENOTFOUND)
        rg_warn("index: %s: compaction failed (%s); searches use the layered index", key,
                rg_rc_name(rc));
    rg_index_release(full);
    rg_index_release(drop[0]);
    rg_index_release(drop[1]);
}

/* JOB_TRIM: the change log up to a base's version is no longer needed. */
static void trim(rg_index_registry *r, const char *key, int64_t upto)
{
    char buf[128];
    const char *tenant, *dataset;
    if (!split_key(key, buf, &tenant, &dataset))
        return;
    rg_rc rc = r->src.trim(r->src.ctx, tenant, dataset, upto);
    if (rc != RG_OK && rc != RG_ENOTFOUND)
        rg_warn("index: %s: the change log could not be trimmed (%s)", key, rg_rc_name(rc));
}

static void job_free(bg_job *j)
{
    rg_index_release(j->ix);
    rg_free(j->key);
}

/* The background thread: graphs of new bases (skipping those a newer base
 * replaced), compactions and log trims, one at a time, in order. */
static void *bg_thread(void *arg)
{
    rg_index_registry *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->qn == 0 && !atomic_load(&r->bg_stop))
            pthread_cond_wait(&r->bg_wake, &r->mu);
        if (atomic_load(&r->bg_stop))
            break;
        bg_job j = r->queue[0]; /* in order: a superseded base's graph is skipped */
        memmove(&r->queue[0], &r->queue[1], --r->qn * sizeof *r->queue);
        size_t ann_min = r->ann_min;
        pthread_mutex_unlock(&r->mu);
        if (j.kind == JOB_GRAPHS && !atomic_load(&j.ix->superseded)) {
            rg_rc rc = rg_index__build_graphs(j.ix, ann_min, &r->bg_stop);
            if (rc != RG_OK && rc != RG_ECANCELED)
                rg_warn("index: an approximate index could not be built (%s); searches scan",
                        rg_rc_name(rc));
        } else if (j.kind == JOB_COMPACT)
            compact(r, j.key);
        else if (j.kind == JOB_FLATTEN)
            flatten(r, j.key);
        else if (j.kind == JOB_TRIM)
            trim(r, j.key, j.upto);
        job_free(&j);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Queues a job (under mu; its references and key pass to the queue),
 * starting the thread the first time; a job that cannot run is dropped. */
static void queue_job(rg_index_registry *r, bg_job j)
{
    if (!r->bg_running) {
        if (pthread_create(&r->bg, NULL, bg_thread, r) != 0) {
            rg_warn("index: no background thread; searches scan and layers grow");
            job_free(&j);
            return;
        }
        r->bg_running = true;
    }
    if (r->qn == r->qcap) {
        r->qcap = r->qcap ? 2 * r->qcap : 8;
        r->queue = rg_xrealloc(r->queue, r->qcap * sizeof *r->queue);
    }
    r->queue[r->qn++] = j;
    pthread_cond_signal(&r->bg_wake);
}

void rg_index__registry_layer_min(rg_index_registry *r, size_t min_units)
{
    pthread_mutex_lock(&r->mu);
    r->layer_min = min_units;
    pthread_mutex_unlock(&r->mu);
}

void rg_index_registry_ann(rg_index_registry *r, size_t min_rows)
{
    pthread_mutex_lock(&r->mu);
    r->ann_min = min_rows;
    pthread_mutex_unlock(&r->mu);
}

static rg_rc store_version(void *ctx, const char *tenant_id, const char *dataset_id, int64_t *v)
{
    return rg_store_index_version(ctx, tenant_id, dataset_id, v);
}

static rg_rc store_scan(void *ctx, const char *tenant_id, const char *dataset_id, int64_t *v,
                        rg_rc (*fn)(const rg_index_row *row, void *arg), void *arg)
{
    return rg_store_index_scan(ctx, tenant_id, dataset_id, v, fn, arg);
}

rg_rc rg_index__registry_new_source(const rg_index__source *src, rg_index_registry **out)
{
    rg_index_registry *r = rg_xcalloc(1, sizeof *r);
    r->src = *src;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        rg_free(r);
        return RG_EIO;
    }
    if (pthread_cond_init(&r->built, NULL) != 0) {
        pthread_mutex_destroy(&r->mu);
        rg_free(r);
        return RG_EIO;
    }
    if (pthread_cond_init(&r->bg_wake, NULL) != 0) {
        pthread_cond_destroy(&r->built);
        pthread_mutex_destroy(&r->mu);
        rg_free(r);
        return RG_EIO;
    }
    r->ann_min = RG_INDEX_ANN_MIN_DEFAULT;
    r->layer_min = RG_INDEX_LAYER_MIN;
    *out = r;
    return RG_OK;
}

static rg_rc store_changes(void *ctx, const char *tenant_id, const char *dataset_id, int64_t since,
                           int64_t *v, rg_rc (*changed)(const char *document_id, void *arg),
                           rg_rc (*fn)(const rg_index_row *row, void *arg), void *arg)
{
    return rg_store_index_scan_changes(ctx, tenant_id, dataset_id, since, v, changed, fn, arg);
}

static rg_rc store_trim(void *ctx, const char *tenant_id, const char *dataset_id, int64_t upto)
{
    return rg_store_index_log_trim(ctx, tenant_id, dataset_id, upto);
}

rg_rc rg_index_registry_new(rg_store *s, rg_index_registry **out)
{
    rg_index__source src = {store_version, store_scan, s, store_changes, store_trim};
    return rg_index__registry_new_source(&src, out);
}

void rg_index_registry_free(rg_index_registry *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->bg_stop, true);
    pthread_cond_signal(&r->bg_wake);
    pthread_mutex_unlock(&r->mu);
    if (r->bg_running)
        pthread_join(r->bg, NULL);
    while (r->qn)
        job_free(&r->queue[--r->qn]);
    rg_free(r->queue);
    pthread_cond_destroy(&r->bg_wake);
    for (size_t i = 0; i < r->n; i++) {
        entry *e = r->e[i];
        RG_ASSERT(!e->building && e->users == 0);
        rg_index_release(e->cur);
        rg_index_release(e->base);
        rg_free(e->key);
        rg_free(e);
    }
    rg_free(r->e);
    pthread_cond_destroy(&r->built);
    pthread_mutex_destroy(&r->mu);
    rg_free(r);
}

uint64_t rg_index__registry_builds(rg_index_registry *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t n = r->builds;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Index of key in r->e, or where it would go (*found false).  Under mu. */
static size_t find_entry(const rg_index_registry *r, const char *key, bool *found)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->e[mid]->key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Drops the entry of a dataset the store does not know, unless in use. */
static void forget(rg_index_registry *r, const char *key)
{
    rg_index *old = NULL, *old_base = NULL;
    pthread_mutex_lock(&r->mu);
    bool found;
    size_t i = find_entry(r, key, &found);
    if (found && !r->e[i]->building && r->e[i]->users == 0 && !r->e[i]->compacting) {
        entry *e = r->e[i];
        old = e->cur;
        old_base = e->base;
        if (old_base)
            atomic_store(&old_base->superseded, true);
        memmove(&r->e[i], &r->e[i + 1], (r->n - i - 1) * sizeof *r->e);
        r->n--;
        rg_free(e->key);
        rg_free(e);
    }
    pthread_mutex_unlock(&r->mu);
    rg_index_release(old);
    rg_index_release(old_base);
}

/* Scans the dataset into a new snapshot (one reference, the caller's). */
static rg_rc build(rg_index_registry *r, const char *tenant_id, const char *dataset_id,
                   rg_index **out)
{
    int64_t t0 = rg_mono_ms(), version = 0;
    rg_index__builder *b = rg_index__builder_new();
    rg_rc rc = r->src.scan(r->src.ctx, tenant_id, dataset_id, &version, rg_index__builder_add, b);
    if (rc != RG_OK) {
        rg_index__builder_free(b);
        return rc;
    }
    RG_TRY(rg_index__builder_finish(b, version, out));
    rg_debug("index: dataset %s version %lld: %zu units, %zu terms, built in %lld ms", dataset_id,
             (long long)version, (*out)->n_units, (*out)->text.n_terms,
             (long long)(rg_mono_ms() - t0));
    return RG_OK;
}

rg_rc rg_index_acquire(rg_index_registry *r, const char *tenant_id, const char *dataset_id,
                       rg_index **out)
{
    if (!tenant_id || !dataset_id)
        return RG_EINVAL;
    size_t tl = strlen(tenant_id), dl = strlen(dataset_id);
    char *key = rg_xmalloc(tl + dl + 2);
    memcpy(key, tenant_id, tl);
    key[tl] = '/';
    memcpy(key + tl + 1, dataset_id, dl + 1);

    int64_t v;
    rg_rc rc = r->src.version(r->src.ctx, tenant_id, dataset_id, &v);
    if (rc != RG_OK) {
        if (rc == RG_ENOTFOUND)
            forget(r, key);
        rg_free(key);
        return rc;
    }

    pthread_mutex_lock(&r->mu);
    bool found;
    size_t i = find_entry(r, key, &found);
    entry *e;
    if (found) {
        e = r->e[i];
        rg_free(key);
    } else {
        /* rg_x*: a failure here aborts, as for any small bookkeeping */
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 16;
            r->e = rg_xrealloc(r->e, r->cap * sizeof *r->e);
        }
        e = rg_xcalloc(1, sizeof *e);
        e->key = key;
        memmove(&r->e[i + 1], &r->e[i], (r->n - i) * sizeof *r->e);
        r->e[i] = e;
        r->n++;
    }
    e->users++;
    uint64_t my_gen = e->gen; /* builds numbered above this scanned after our version read */
    for (;;) {
        rg_index *ix = e->cur;
        if (ix && (ix->version == v || ix->gen > my_gen)) {
            snapshot_ref(ix);
            e->users--;
            pthread_mutex_unlock(&r->mu);
            *out = ix;
            return RG_OK;
        }
        if (!e->building)
            break;
        pthread_cond_wait(&r->built, &r->mu);
    }

    e->building = true;
    uint64_t gen = ++e->gen;
    r->builds++;
    rg_index *over = layer_on(e);
    if (over)
        snapshot_ref(over);
    pthread_mutex_unlock(&r->mu);

    /* the documents changed since the current snapshot, on top of it (or
     * since the base, on it, once the stack is full); else everything */
    rg_index *ix = NULL, *drop[3] = {NULL, NULL, NULL};
    rc = over ? rg_index__build_layer(&r->src, tenant_id, dataset_id, over, &ix) : RG_ENOTFOUND;
    bool layered = rc == RG_OK;
    if (rc == RG_ENOTFOUND)
        rc = build(r, tenant_id, dataset_id, &ix);
    drop[2] = over;

    pthread_mutex_lock(&r->mu);
    e->building = false;
    if (rc == RG_OK) {
        ix->gen = gen;
        snapshot_ref(ix); /* the caller's */
        *out = ix;
        if (layered) {
            drop[0] = e->cur;
            e->cur = ix; /* takes the build's reference */
            if (rg_index__layer_too_big(ix, r->layer_min) && !e->compacting) {
                e->compacting = true;
                queue_job(r, (bg_job){.kind = JOB_COMPACT, .key = rg_xstrdup(e->key)});
            } else if (rg_index__parts(ix) >= FLATTEN_PARTS && !e->flattening) {
                e->flattening = true;
                queue_job(r, (bg_job){.kind = JOB_FLATTEN, .key = rg_xstrdup(e->key)});
            }
        } else
            set_base(r, e, ix, drop);
    }
    e->users--;
    pthread_cond_broadcast(&r->built);
    pthread_mutex_unlock(&r->mu);
    for (size_t d = 0; d < 3; d++)
        rg_index_release(drop[d]);
    return rc;
}
