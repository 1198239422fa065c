/*
 * bm25.c - the full-text half of a snapshot: term dictionary, postings and
 * BM25 top-k with MaxScore pruning.
 *
 * Building.  Rows arrive in unit order with their stored term lists
 * ("term\ttf\n", ingest/keywords.h).  Each term is interned in an
 * open-addressing hash (term -> dense id) and every (term, unit, tf) is
 * appended to one flat array; a repeated term within a unit is merged.  At the
 * end a counting sort by term id lays the postings out contiguously (CSR),
 * still in unit order inside each term, and each posting keeps only
 * w = tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)) as a float: a snapshot
 * never changes, so the length normalisation is done once, here, and a query
 * touches no per-document array.  dl is the unit's token count (sum of tf);
 * N and avgdl count only units that have terms (Lucene's docCount).
 *
 * Scoring.  score(u) = sum over the distinct query terms t in u of
 * r(t) idf(t) w(t, u), idf = log(1 + (N - df + 0.5) / (df + 0.5)) (Lucene's
 * non-negative IDF), k1 1.2, b 0.75, r(t) the number of times the query has
 * t: query terms are deduplicated (one posting walk each) and a repeated one
 * weighs its count, as in Lucene, whose BooleanQuery rewrite merges repeated
 * SHOULD clauses by summing their boosts (FTS5 likewise scores every query
 * phrase).  This is the classic formula with (k1 + 1) in the numerator
 * (Lucene before 8, FTS5); Lucene 8+ drops it, which scales every score by
 * 1 / 2.2 and changes no ranking.  Lengths are exact (Lucene rounds them to
 * one byte).
 *
 * MaxScore (Turtle and Flood 1995), in windows as Lucene 9's
 * MaxScoreBulkScorer.  Each query term has an upper bound ub(t) = r(t)
 * idf(t) max w(t, .).  Terms are sorted by bound; once the heap holds k
 * results with worst score theta, the longest prefix of terms whose bounds
 * sum to at most theta is "non-essential": a unit that has only those terms
 * cannot enter the heap.  So candidates come from the essential lists only,
 * a window of unit ids at a time (64, doubling up to 4096, so that theta is
 * known early) starting at the smallest essential head: the essential postings of the window are
 * accumulated term at a time (a tight loop, no per-unit merge), then each touched unit, in unit
 * order, probes the non-essential lists by galloping search in decreasing bound order, and is
 * dropped as soon as its partial score plus the remaining bounds cannot beat theta.  The partition
 * is recomputed between windows. A query with a very common term and a rarer one thus walks the
 * rarer list and only probes the common one for the few units that could make it.
 *
 * Exactness.  Scores are computed in fixed point: each posting contributes
 * the integer floor(r idf w 2^32) + 1 (2^32 shrinks, for absurd queries, so
 * that any score stays below 2^53), so a unit's score is the same integer
 * whatever order its terms were added in, and it converts to a double
 * exactly.  Bounds are contributions of max w, hence never below a real
 * contribution (the conversion is monotone).  Ties are broken by unit id,
 * ascending; both scorers offer units in ascending order, so a unit that only
 * ties the heap's worst entry never displaces it (index_int.h, topk).  The
 * pruned and the exhaustive scorer therefore return the same units with the
 * same scores, which the unit test checks on random Zipf corpora.
 */
#include "core/alloc.h"
#include "core/log.h"
#include "index/index_int.h"
#include "text/tokenize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIXED_SCALE    0x1p32 /* score units per 1.0 (see "Exactness") */
#define MAX_TF         1000000000u
#define TERM_POOL_MAX  ((size_t)UINT32_MAX - 1)
#define MAX_TERM_BYTES 1024

struct rg_index__triple {
    uint32_t term, unit, tf;
};

static uint32_t hash_term(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return (uint32_t)(h ^ (h >> 32));
}

/* Finds the term; returns its id or UINT32_MAX, and the slot where it is or
 * would go in *slot. */
static uint32_t find_term(const rg_index__text *t, const char *p, size_t n, uint32_t h,
                          size_t *slot)
{
    if (!t->slots) {
        *slot = 0;
        return UINT32_MAX;
    }
    size_t i = h & t->slot_mask;
    for (;;) {
        uint32_t s = t->slots[i];
        if (s == 0) {
            *slot = i;
            return UINT32_MAX;
        }
        const rg_index__term *e = &t->terms[s - 1];
        if (e->hash == h && e->len == n && memcmp(t->pool + e->off, p, n) == 0) {
            *slot = i;
            return s - 1;
        }
        i = (i + 1) & t->slot_mask;
    }
}

void rg_index__text_builder_init(rg_index__text_builder *b)
{
    memset(b, 0, sizeof *b);
    rg_buf_init(&b->pool, TERM_POOL_MAX);
}

void rg_index__text_builder_free(rg_index__text_builder *b)
{
    rg_free(b->t.terms);
    rg_free(b->t.slots);
    rg_free(b->last_unit);
    rg_free(b->last_tr);
    rg_buf_free(&b->pool);
    rg_free(b->tr);
    rg_free(b->dl);
    memset(b, 0, sizeof *b);
}

/* Doubles the slot table (or makes the first one). */
static rg_rc grow_slots(rg_index__text_builder *b)
{
    size_t cap = b->t.slots ? (b->t.slot_mask + 1) * 2 : 1024;
    uint32_t *s = rg_try_malloc(cap * sizeof *s);
    if (!s)
        return RG_ENOMEM;
    memset(s, 0, cap * sizeof *s);
    for (size_t id = 0; id < b->t.n_terms; id++) {
        size_t i = b->t.terms[id].hash & (cap - 1);
        while (s[i])
            i = (i + 1) & (cap - 1);
        s[i] = (uint32_t)id + 1;
    }
    rg_free(b->t.slots);
    b->t.slots = s;
    b->t.slot_mask = cap - 1;
    return RG_OK;
}

/* The id of the term, interned if new. */
static rg_rc intern(rg_index__text_builder *b, const char *p, size_t n, uint32_t *id)
{
    uint32_t h = hash_term(p, n);
    size_t slot;
    b->t.pool = b->pool.p; /* find_term reads the pool through t */
    uint32_t found = find_term(&b->t, p, n, h, &slot);
    if (found != UINT32_MAX) {
        *id = found;
        return RG_OK;
    }
    if (b->t.n_terms >= UINT32_MAX - 1)
        return RG_ENOMEM;
    if (!b->t.slots || (b->t.n_terms + 1) * 2 > b->t.slot_mask + 1) {
        RG_TRY(grow_slots(b));
        find_term(&b->t, p, n, h, &slot);
    }
    size_t need = b->t.n_terms + 1, cap = b->terms_cap;
    RG_TRY(rg_index__reserve((void **)&b->t.terms, &cap, need, sizeof *b->t.terms));
    cap = b->terms_cap;
    RG_TRY(rg_index__reserve((void **)&b->last_unit, &cap, need, sizeof *b->last_unit));
    cap = b->terms_cap;
    RG_TRY(rg_index__reserve((void **)&b->last_tr, &cap, need, sizeof *b->last_tr));
    b->terms_cap = cap;
    size_t off = b->pool.len;
    RG_TRY(rg_buf_append(&b->pool, p, n));
    *id = (uint32_t)b->t.n_terms++;
    b->t.terms[*id] = (rg_index__term){.off = (uint32_t)off, .len = (uint32_t)n, .hash = h};
    b->last_unit[*id] = UINT32_MAX;
    b->t.slots[slot] = *id + 1;
    return RG_OK;
}

/* Parses "tf" digits; 0 when malformed.  Huge values are capped. */
static uint32_t parse_tf(const char *p, const char *end)
{
    uint64_t v = 0;
    if (p == end)
        return 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > MAX_TF)
            v = MAX_TF;
    }
    return (uint32_t)v;
}

rg_rc rg_index__text_add(rg_index__text_builder *b, uint32_t unit, const char *terms, size_t len)
{
    RG_ASSERT(unit == b->n_units);
    size_t cap = b->dl_cap;
    RG_TRY(rg_index__reserve((void **)&b->dl, &cap, (size_t)unit + 1, sizeof *b->dl));
    b->dl_cap = cap;
    uint64_t dl = 0;
    const char *p = terms, *end = terms ? terms + len : NULL;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *tab = memchr(p, '\t', (size_t)(line_end - p));
        uint32_t tf = tab ? parse_tf(tab + 1, line_end) : 0;
        size_t n = tab ? (size_t)(tab - p) : 0;
        p = nl ? nl + 1 : end;
        if (tf == 0 || n == 0 || n > MAX_TERM_BYTES)
            continue; /* a malformed line is skipped, not fatal */
        uint32_t id;
        RG_TRY(intern(b, tab - n, n, &id));
        if (b->last_unit[id] == unit) { /* the term twice in one list: merge */
            struct rg_index__triple *t = &b->tr[b->last_tr[id]];
            t->tf = t->tf > MAX_TF - tf ? MAX_TF : t->tf + tf;
        } else {
            cap = b->tr_cap;
            RG_TRY(rg_index__reserve((void **)&b->tr, &cap, b->n_tr + 1, sizeof *b->tr));
            b->tr_cap = cap;
            b->last_unit[id] = unit;
            b->last_tr[id] = b->n_tr;
            b->tr[b->n_tr++] = (struct rg_index__triple){id, unit, tf};
        }
        dl += tf;
    }
    b->dl[unit] = dl > UINT32_MAX ? UINT32_MAX : (uint32_t)dl;
    b->n_units++;
    return RG_OK;
}

rg_rc rg_index__text_finish(rg_index__text_builder *b, rg_index__text *out)
{
    rg_index__text *t = &b->t;
    rg_rc rc = RG_ENOMEM;
    memset(out, 0, sizeof *out);
    uint64_t sum_dl = 0;
    for (uint32_t u = 0; u < b->n_units; u++)
        if (b->dl[u]) {
            t->n_docs++;
            sum_dl += b->dl[u];
        }
    t->avgdl = b->avgdl > 0 ? b->avgdl : t->n_docs ? (double)sum_dl / (double)t->n_docs : 0;
    t->n_post = b->n_tr;
    if (b->n_tr) {
        t->p_unit = rg_try_malloc(b->n_tr * sizeof *t->p_unit);
        t->p_w = rg_try_malloc(b->n_tr * sizeof *t->p_w);
        if (!t->p_unit || !t->p_w)
            goto fail;
    }
    /* counting sort by term: df, then first posting of each term */
    for (size_t i = 0; i < t->n_terms; i++)
        t->terms[i].df = 0;
    for (size_t i = 0; i < b->n_tr; i++)
        t->terms[b->tr[i].term].df++;
    uint64_t at = 0;
    for (size_t i = 0; i < t->n_terms; i++) {
        rg_index__term *e = &t->terms[i];
        e->post = at;
        at += e->df;
        e->idf = log(1.0 + ((double)t->n_docs - e->df + 0.5) / (e->df + 0.5));
        e->max_w = 0;
        b->last_tr[i] = e->post; /* reused as the fill cursor */
    }
    const double k1 = RG_INDEX_BM25_K1, bb = RG_INDEX_BM25_B;
    for (size_t i = 0; i < b->n_tr; i++) {
        const struct rg_index__triple *r = &b->tr[i];
        double tf = r->tf, norm = k1 * (1.0 - bb + bb * (double)b->dl[r->unit] / t->avgdl);
        float w = (float)(tf * (k1 + 1.0) / (tf + norm));
        uint64_t j = b->last_tr[r->term]++;
        t->p_unit[j] = r->unit;
        t->p_w[j] = w;
        if (w > t->terms[r->term].max_w)
            t->terms[r->term].max_w = w;
    }
    if (t->n_terms < b->terms_cap) { /* give back the slack of the doubling */
        void *p = rg_try_realloc(t->terms, (t->n_terms ? t->n_terms : 1) * sizeof *t->terms);
        if (p)
            t->terms = p;
    }
    t->pool = rg_buf_take(&b->pool, &(size_t){0});
    *out = *t;
    memset(t, 0, sizeof *t);
    rc = RG_OK;
fail:
    rg_index__text_builder_free(b);
    return rc;
}

void rg_index__text_free(rg_index__text *t)
{
    rg_free(t->terms);
    rg_free(t->slots);
    rg_free(t->pool);
    rg_free(t->p_unit);
    rg_free(t->p_w);
    memset(t, 0, sizeof *t);
}

/* --- queries ------------------------------------------------------------- */

typedef struct {
    const rg_index__text *t;
    uint32_t *ids;
    size_t n, cap;
    bool oom;
} query_terms;

static void collect_term(rg_str tok, void *arg)
{
    query_terms *q = arg;
    size_t slot;
    uint32_t id = find_term(q->t, tok.p, tok.n, hash_term(tok.p, tok.n), &slot);
    if (id == UINT32_MAX || q->oom)
        return;
    if (rg_index__reserve((void **)&q->ids, &q->cap, q->n + 1, sizeof *q->ids) != RG_OK) {
        q->oom = true;
        return;
    }
    q->ids[q->n++] = id;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const uint32_t *unit;
    const float *w;
    size_t pos, len;
    double qs;   /* query weight (repeats x idf) x the fixed-point scale */
    float max_w; /* the term's largest w */
    int64_t ub;  /* the largest contribution, contrib(qs, max_w) */
} cursor;

/* A posting's contribution in fixed point: monotone in w, and at least 1. */
static inline int64_t contrib(double qs, float w)
{
    return (int64_t)(qs * (double)w) + 1;
}

/* First index >= lo of u[0..n) whose unit is >= target (n if none). */
static size_t gallop(const uint32_t *u, size_t lo, size_t n, uint32_t target)
{
    if (lo >= n || u[lo] >= target)
        return lo;
    size_t step = 1, hi = lo + 1;
    while (hi < n && u[hi] < target) { /* u[lo] < target throughout */
        lo = hi;
        step *= 2;
        hi = lo + step;
    }
    if (hi > n)
        hi = n;
    size_t a = lo + 1, z = hi; /* the answer is in [a, z] */
    while (a < z) {
        size_t mid = a + (z - a) / 2;
        if (u[mid] < target)
            a = mid + 1;
        else
            z = mid;
    }
    return a;
}

/* Term at a time over every posting: the reference the pruned search must
 * equal.  acc[u] > 0 marks a matched unit (every contribution is >= 1). */
static rg_rc search_exhaustive(const cursor *c, size_t m, double scale, rg_index__topk *top)
{
    uint32_t n_units = 0; /* one past the largest unit with a posting */
    for (size_t i = 0; i < m; i++)
        if (c[i].len && c[i].unit[c[i].len - 1] + 1 > n_units)
            n_units = c[i].unit[c[i].len - 1] + 1;
    int64_t *acc = rg_try_malloc((n_units ? n_units : 1) * sizeof *acc);
    if (!acc)
        return RG_ENOMEM;
    memset(acc, 0, n_units * sizeof *acc);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < c[i].len; j++)
            acc[c[i].unit[j]] += contrib(c[i].qs, c[i].w[j]);
        top->work += c[i].len;
    }
    for (uint32_t u = 0; u < n_units; u++)
        if (acc[u] > 0)
            rg_index__topk_offer(top, (double)acc[u] / scale, u);
    rg_free(acc);
    return RG_OK;
}

#define WINDOW 4096 /* units per MaxScore window: 32 KiB of accumulators */

typedef struct {
    cursor *c;       /* m cursors */
    size_t *order;   /* cursor indices by ub ascending */
    int64_t *prefix; /* prefix[j] = sum of ub over order[0..j] */
    int64_t acc[WINDOW];
    uint64_t bits[WINDOW / 64]; /* which acc[] the window touched */
} maxscore_scratch;

/* order[] by (ub, index) ascending; qsort_r is glibc's (_GNU_SOURCE). */
static int by_ub(const void *a, const void *b, void *arg)
{
    const cursor *c = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (c[i].ub != c[j].ub)
        return c[i].ub < c[j].ub ? -1 : 1;
    return (i > j) - (i < j);
}

static void search_maxscore(maxscore_scratch *s, size_t m, double scale, rg_index__topk *top)
{
    cursor *c = s->c;
    for (size_t j = 0; j < m; j++)
        s->order[j] = j;
    qsort_r(s->order, m, sizeof *s->order, by_ub, c);
    int64_t sum = 0;
    for (size_t j = 0; j < m; j++)
        s->prefix[j] = sum += c[s->order[j]].ub;
    memset(s->bits, 0, sizeof s->bits);
    size_t fe = 0;       /* order[0..fe) are non-essential */
    int64_t theta = -1;  /* the heap's worst score once full */
    uint32_t width = 64; /* windows grow: theta is known after the first few */
    for (;; width = width < WINDOW ? width * 2 : WINDOW) {
        /* the next window starts at the first unit of an essential list */
        uint32_t lo = UINT32_MAX;
        for (size_t j = fe; j < m; j++) {
            const cursor *e = &c[s->order[j]];
            if (e->pos < e->len && e->unit[e->pos] < lo)
                lo = e->unit[e->pos];
        }
        if (lo == UINT32_MAX)
            break;
        uint64_t hi = (uint64_t)lo + width;
        /* essential terms, term at a time into the window's accumulators */
        for (size_t j = fe; j < m; j++) {
            cursor *e = &c[s->order[j]];
            size_t p = e->pos;
            for (; p < e->len && e->unit[p] < hi; p++) {
                uint32_t x = e->unit[p] - lo;
                uint64_t bit = (uint64_t)1 << (x & 63);
                if (!(s->bits[x >> 6] & bit)) {
                    s->bits[x >> 6] |= bit;
                    s->acc[x] = 0;
                }
                s->acc[x] += contrib(e->qs, e->w[p]);
            }
            top->work += p - e->pos;
            e->pos = p;
        }
        /* then each touched unit, in unit order: the non-essential terms
         * by decreasing bound, stopping when the rest cannot lift it */
        int64_t rest = fe ? s->prefix[fe - 1] : 0;
        for (size_t word = 0; word < width / 64; word++) {
            uint64_t b = s->bits[word];
            s->bits[word] = 0;
            while (b) {
                uint32_t x = (uint32_t)(word * 64 + (size_t)__builtin_ctzll(b));
                b &= b - 1;
                uint32_t u = lo + x;
                if (!rg_index__allowed(top, u))
                    continue;
                int64_t score = s->acc[x];
                bool full = rg_index__topk_full(top);
                if (full && score + rest <= theta)
                    continue;
                size_t j = fe;
                while (j-- > 0) {
                    if (full && score + s->prefix[j] <= theta)
                        break;
                    cursor *e = &c[s->order[j]];
                    e->pos = gallop(e->unit, e->pos, e->len, u);
                    top->work++;
                    if (e->pos < e->len && e->unit[e->pos] == u)
                        score += contrib(e->qs, e->w[e->pos]);
                }
                if (j != (size_t)-1) /* pruned */
                    continue;
                rg_index__topk_offer(top, (double)score / scale, u);
                if (rg_index__topk_full(top))
                    theta = (int64_t)(top->e[0].score * scale);
            }
        }
        /* terms whose bounds, with all below them, cannot beat theta */
        if (rg_index__topk_full(top))
            while (fe < m && s->prefix[fe] <= theta)
                fe++;
    }
}

/* The term's IDF over the parts of stats (nullable: t alone). */
static double term_idf(const rg_index__text *t, const rg_index__term *e,
                       const rg_index__stats *stats)
{
    if (!stats)
        return e->idf;
    double df = 0, n = 0;
    const char *p = t->pool + e->off;
    for (size_t i = 0; i < stats->n; i++) {
        const rg_index__text *o = stats->t[i];
        size_t slot;
        uint32_t id = o == t ? (uint32_t)(e - t->terms) : find_term(o, p, e->len, e->hash, &slot);
        df += id == UINT32_MAX ? 0 : o->terms[id].df;
        n += (double)o->n_docs;
    }
    return log(1.0 + (n - df + 0.5) / (df + 0.5));
}

/* The query's cursors in fixed point: *s (NULL when no term of the query is
 * in t; the caller frees it), their number *m and the scale. */
static rg_rc prepare_query(const rg_index__text *t, rg_str query, const rg_index__stats *stats,
                           maxscore_scratch **out, size_t *m_out, double *scale_out)
{
    *out = NULL;
    *m_out = 0;
    if (t->n_terms == 0 || query.n == 0)
        return RG_OK;
    if (!rg_utf8_valid(query.p, query.n))
        return RG_EINVAL;
    query_terms q = {.t = t};
    rg_tokenize(query, collect_term, &q);
    if (q.oom) {
        rg_free(q.ids);
        return RG_ENOMEM;
    }
    if (q.n == 0)
        return RG_OK;
    /* distinct terms; a term given r times weighs r (Lucene merges repeated
     * SHOULD clauses by summing their boosts) */
    qsort(q.ids, q.n, sizeof *q.ids, cmp_u32);
    size_t m = 0;
    for (size_t i = 0; i < q.n; i++)
        m += i == 0 || q.ids[i - 1] != q.ids[i];
    size_t each = sizeof(cursor) + sizeof(size_t) + sizeof(int64_t);
    maxscore_scratch *s = rg_try_malloc(sizeof *s + m * each);
    if (!s) {
        rg_free(q.ids);
        return RG_ENOMEM;
    }
    s->c = (cursor *)(s + 1);
    s->prefix = (int64_t *)(s->c + m);
    s->order = (size_t *)(s->prefix + m);
    double total = 0; /* bound of any score, to choose the fixed-point scale */
    for (size_t i = 0, j = 0; i < m; i++) {
        const rg_index__term *e = &t->terms[q.ids[j]];
        double r = 0, idf = term_idf(t, e, stats);
        for (uint32_t id = q.ids[j]; j < q.n && q.ids[j] == id; j++)
            r++;
        s->c[i] = (cursor){t->p_unit + e->post, t->p_w + e->post, 0, e->df, r * idf, e->max_w, 0};
        total += r * idf * e->max_w + 1;
    }
    rg_free(q.ids);
    /* scores are integers (units of 1 / scale) so that the sum of a unit's
     * contributions is the same in any order; below 2^53 they are exact
     * as doubles too */
    double scale = FIXED_SCALE;
    while (total * scale > 0x1p52)
        scale /= 2;
    for (size_t i = 0; i < m; i++) {
        s->c[i].qs *= scale;
        s->c[i].ub = contrib(s->c[i].qs, s->c[i].max_w);
    }
    *out = s;
    *m_out = m;
    *scale_out = scale;
    return RG_OK;
}

rg_rc rg_index__text_search(const rg_index__text *t, rg_str query, bool exhaustive,
                            const rg_index__stats *stats, rg_index__topk *top)
{
    top->n = 0;
    top->work = 0;
    if (top->k == 0)
        return RG_OK;
    maxscore_scratch *s;
    size_t m;
    double scale = 1;
    RG_TRY(prepare_query(t, query, stats, &s, &m, &scale));
    if (!s)
        return RG_OK;
    rg_rc rc = RG_OK;
    if (exhaustive)
        rc = search_exhaustive(s->c, m, scale, top);
    else
        search_maxscore(s, m, scale, top);
    rg_free(s);
    return rc;
}

rg_rc rg_index__text_score(const rg_index__text *t, rg_str query, const rg_index__stats *stats,
                           const uint32_t *units, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = 0;
    maxscore_scratch *s;
    size_t m;
    double scale = 1;
    RG_TRY(prepare_query(t, query, stats, &s, &m, &scale));
    for (size_t i = 0; s && i < n; i++) {
        int64_t score = 0;
        for (size_t j = 0; j < m; j++) {
            const cursor *c = &s->c[j];
            size_t p = gallop(c->unit, 0, c->len, units[i]);
            if (p < c->len && c->unit[p] == units[i])
                score += contrib(c->qs, c->w[p]);
        }
        out[i] = (double)score / scale;
    }
    rg_free(s);
    return RG_OK;
}
