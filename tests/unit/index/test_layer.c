/*
 * test_layer.c - layered snapshots: a base and the documents changed since.
 *
 * A fake source holds a dataset in memory (documents of units with terms
 * and vectors), a version and a change log.  After random edits (documents
 * added, rewritten, deleted), the registry's snapshot - a layer over the
 * first full build - must answer like a full build of the dataset as it is:
 * the same units for vector search (exact in both), the same set of units
 * matching a full-text query (scores may differ slightly: the layer's BM25
 * statistics still count documents removed since its base), document
 * filters over both parts, and the size.  Also: a source whose log does not
 * reach back makes a full build; a layer that grew past its share is
 * replaced by a full rebuild in the background; the log is trimmed to the
 * base's version.
 */
#include "harness.h"

#include "core/arena.h"
#include "index/index_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { L_DOCS = 60, L_MAXU = 6, L_DIMS = 8, L_LOG = 4096 };

typedef struct l_doc {
    bool live;
    int n;   /* units */
    int gen; /* rewrites: changes the content */
    float v[L_MAXU][L_DIMS];
    char terms[L_MAXU][64];
} l_doc;

typedef struct l_entry {
    int64_t v;
    int doc;
} l_entry;

typedef struct l_src {
    pthread_mutex_t mu;
    l_doc d[L_DOCS];
    int64_t version;
    l_entry log[L_LOG];
    size_t n_log;
    int64_t log_from; /* the log is complete above this version */
    int changes_calls, trims;
    int64_t trimmed_to;
    uint64_t rng;
} l_src;

static double l_rand(l_src *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (double)(s->rng >> 11) / 9007199254740992.0;
}

static void l_fill(l_src *s, int d)
{
    l_doc *x = &s->d[d];
    x->live = true;
    x->gen++;
    x->n = 1 + (int)(l_rand(s) * L_MAXU) % L_MAXU;
    for (int u = 0; u < x->n; u++) {
        double norm = 0;
        for (int i = 0; i < L_DIMS; i++) {
            x->v[u][i] = (float)(l_rand(s) * 2 - 1);
            norm += (double)x->v[u][i] * x->v[u][i];
        }
        for (int i = 0; i < L_DIMS; i++)
            x->v[u][i] = (float)(x->v[u][i] / sqrt(norm));
        snprintf(x->terms[u], sizeof x->terms[u], "w%d\t%d\nall\t1\ng%d\t1\n",
                 (int)(l_rand(s) * 20), 1 + (int)(l_rand(s) * 3), x->gen);
    }
}

/* One edit of document d, logged at a new version. */
static void l_change(l_src *s, int d, bool del)
{
    pthread_mutex_lock(&s->mu);
    if (del)
        s->d[d].live = false;
    else
        l_fill(s, d);
    s->version++;
    if (s->n_log < L_LOG)
        s->log[s->n_log++] = (l_entry){s->version, d};
    pthread_mutex_unlock(&s->mu);
}

static rg_rc l_version(void *ctx, const char *t, const char *ds, int64_t *v)
{
    (void)t, (void)ds;
    l_src *s = ctx;
    pthread_mutex_lock(&s->mu);
    *v = s->version;
    pthread_mutex_unlock(&s->mu);
    return RG_OK;
}

/* The rows of document d (under mu). */
static rg_rc l_rows(l_src *s, int d, rg_rc (*fn)(const rg_index_row *, void *), void *arg)
{
    char seg[32], doc[32];
    snprintf(doc, sizeof doc, "doc%02d", d);
    for (int u = 0; s->d[d].live && u < s->d[d].n; u++) {
        snprintf(seg, sizeof seg, "doc%02d-u%d-g%d", d, u, s->d[d].gen);
        rg_index_row row = {
            seg, doc, NULL, s->d[d].v[u], L_DIMS, s->d[d].terms[u], strlen(s->d[d].terms[u])};
        RG_TRY(fn(&row, arg));
    }
    return RG_OK;
}

static rg_rc l_scan(void *ctx, const char *t, const char *ds, int64_t *v,
                    rg_rc (*fn)(const rg_index_row *, void *), void *arg)
{
    (void)t, (void)ds;
    l_src *s = ctx;
    rg_rc rc = RG_OK;
    pthread_mutex_lock(&s->mu);
    *v = s->version;
    for (int d = 0; d < L_DOCS && rc == RG_OK; d++)
        rc = l_rows(s, d, fn, arg);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static rg_rc l_changes(void *ctx, const char *t, const char *ds, int64_t since, int64_t *v,
                       rg_rc (*changed)(const char *, void *),
                       rg_rc (*fn)(const rg_index_row *, void *), void *arg)
{
    (void)t, (void)ds;
    l_src *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->changes_calls++;
    if (since < s->log_from) {
        pthread_mutex_unlock(&s->mu);
        return RG_ENOTFOUND;
    }
    *v = s->version;
    bool seen[L_DOCS] = {false};
    rg_rc rc = RG_OK;
    for (size_t i = 0; i < s->n_log && rc == RG_OK; i++) {
        int d = s->log[i].doc;
        if (s->log[i].v <= since || seen[d])
            continue;
        seen[d] = true;
        char doc[32];
        snprintf(doc, sizeof doc, "doc%02d", d);
        rc = changed(doc, arg);
        if (rc == RG_OK)
            rc = l_rows(s, d, fn, arg);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static rg_rc l_trim(void *ctx, const char *t, const char *ds, int64_t upto)
{
    (void)t, (void)ds;
    l_src *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->trims++;
    s->trimmed_to = upto;
    pthread_mutex_unlock(&s->mu);
    return RG_OK;
}

/* Sorted segment ids of a hit list, joined (for comparing sets). */
static int cmp_hit_id(const void *a, const void *b)
{
    return strcmp(((const rg_hit *)a)->segment_id, ((const rg_hit *)b)->segment_id);
}

static bool same_set(rg_hit *a, size_t na, rg_hit *b, size_t nb)
{
    if (na != nb)
        return false;
    qsort(a, na, sizeof *a, cmp_hit_id);
    qsort(b, nb, sizeof *b, cmp_hit_id);
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].segment_id, b[i].segment_id) != 0)
            return false;
    return true;
}

/* The layered snapshot answers like a full build of the same rows. */
static void compare(rg_index *got, l_src *s)
{
    rg_index__builder *b = rg_index__builder_new();
    int64_t v;
    CHECK_EQ_INT(l_scan(s, "t", "ds", &v, rg_index__builder_add, b), RG_OK);
    rg_index *want = NULL;
    CHECK_EQ_INT(rg_index__builder_finish(b, v, &want), RG_OK);
    if (!want)
        return;
    CHECK_EQ_INT(rg_index_size(got), rg_index_size(want));
    static rg_hit g[L_DOCS * L_MAXU], w[L_DOCS * L_MAXU];
    size_t ng, nw, all = L_DOCS * L_MAXU;
    const char *queries[] = {"all", "w3", "w7 w11", "g2", "nothing"};
    for (size_t q = 0; q < RG_ARRAY_LEN(queries); q++) {
        CHECK_EQ_INT(rg_index_search_text(got, rg_str_c(queries[q]), all, NULL, g, &ng), RG_OK);
        CHECK_EQ_INT(rg_index_search_text(want, rg_str_c(queries[q]), all, NULL, w, &nw), RG_OK);
        CHECK(same_set(g, ng, w, nw));
    }
    /* every unit's own scores, asked for by its hit, equal the searches' */
    static double sc[L_DOCS * L_MAXU];
    CHECK_EQ_INT(rg_index_search_text(got, rg_str_c("w3 all"), all, NULL, g, &ng), RG_OK);
    CHECK_EQ_INT(rg_index_text_scores(got, rg_str_c("w3 all"), g, ng, sc), RG_OK);
    for (size_t i = 0; i < ng; i++)
        CHECK(sc[i] == g[i].score);
    CHECK_EQ_INT(rg_index_text_scores(got, rg_str_c("zzz"), g, ng, sc), RG_OK);
    for (size_t i = 0; i < ng; i++)
        CHECK(sc[i] == 0); /* no term of the query is in the dataset */
    float qv[L_DIMS];
    for (int i = 0; i < L_DIMS; i++)
        qv[i] = (float)cos(i * 0.9);
    CHECK_EQ_INT(rg_index_search_vector(got, qv, L_DIMS, all, NULL, g, &ng), RG_OK);
    CHECK_EQ_INT(ng, rg_index_size(got));
    CHECK_EQ_INT(rg_index_vector_scores(got, qv, L_DIMS, g, ng, sc), RG_OK);
    for (size_t i = 0; i < ng; i++)
        CHECK(fabs(sc[i] - g[i].score) < 1e-6);
    CHECK_EQ_INT(rg_index_vector_scores(got, qv, L_DIMS - 1, g, 1, sc), RG_OK);
    CHECK(isnan(sc[0])); /* no vector of that dimension */
    for (int t = 0; t < 5; t++) {
        for (int i = 0; i < L_DIMS; i++)
            qv[i] = (float)sin(t * 3.1 + i);
        CHECK_EQ_INT(rg_index_search_vector(got, qv, L_DIMS, 7, NULL, g, &ng), RG_OK);
        CHECK_EQ_INT(rg_index_search_vector(want, qv, L_DIMS, 7, NULL, w, &nw), RG_OK);
        CHECK_EQ_INT(ng, nw);
        for (size_t i = 0; i < ng && i < nw; i++)
            CHECK(strcmp(g[i].segment_id, w[i].segment_id) == 0 &&
                  fabs(g[i].score - w[i].score) < 1e-6);
    }
    /* a filter of a few documents, changed and unchanged ones */
    rg_arena *a = rg_arena_new(1 << 20);
    const char *ids[] = {"doc03", "doc10", "doc17", "doc41", "doc59"};
    rg_index_filter *fg, *fw;
    CHECK_EQ_INT(rg_index_filter_documents(got, a, ids, 5, &fg), RG_OK);
    CHECK_EQ_INT(rg_index_filter_documents(want, a, ids, 5, &fw), RG_OK);
    CHECK_EQ_INT(rg_index_filter_units(fg), rg_index_filter_units(fw));
    CHECK_EQ_INT(rg_index_search_text(got, rg_str_c("all"), all, fg, g, &ng), RG_OK);
    CHECK_EQ_INT(rg_index_search_text(want, rg_str_c("all"), all, fw, w, &nw), RG_OK);
    CHECK(same_set(g, ng, w, nw));
    CHECK_EQ_INT(rg_index_search_vector(got, qv, L_DIMS, all, fg, g, &ng), RG_OK);
    CHECK_EQ_INT(rg_index_search_vector(want, qv, L_DIMS, all, fw, w, &nw), RG_OK);
    CHECK(same_set(g, ng, w, nw));
    rg_arena_free(a);
    rg_index_release(want);
}

static rg_index_registry *l_registry(l_src *s)
{
    rg_index__source src = {
        .version = l_version, .scan = l_scan, .ctx = s, .changes = l_changes, .trim = l_trim};
    rg_index_registry *r = NULL;
    CHECK_EQ_INT(rg_index__registry_new_source(&src, &r), RG_OK);
    return r;
}

static void l_init(l_src *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->rng = 0x9E3779B97F4A7C15ull;
    for (int d = 0; d < L_DOCS; d++)
        if (d % 4 != 3)
            l_fill(s, d);
    s->version = 1;
}

TEST(index_layer_answers_like_a_full_build)
{
    static l_src s;
    l_init(&s);
    rg_index_registry *r = l_registry(&s);
    if (!r)
        return;
    rg_index *ix = NULL;
    size_t max_parts = 0;
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &ix), RG_OK);
    CHECK(ix && rg_index__parts(ix) == 1); /* the first build is full */
    rg_index_release(ix);
    for (int round = 0; round < 12; round++) {
        for (int k = 0; k < 3; k++) {
            int d = (int)(l_rand(&s) * L_DOCS);
            l_change(&s, d, l_rand(&s) < 0.3);
        }
        CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &ix), RG_OK);
        if (!ix)
            break;
        /* small changes: layers stacked on the snapshot before, up to the
         * most parts (then one layer of all changes since the base), merged
         * by the background thread from FLATTEN_PARTS parts on */
        CHECK(rg_index__parts(ix) >= 2 && rg_index__parts(ix) <= RG_INDEX_MAX_PARTS);
        max_parts = rg_index__parts(ix) > max_parts ? rg_index__parts(ix) : max_parts;
        CHECK_EQ_INT(ix->version, s.version);
        compare(ix, &s);
        rg_index_release(ix);
    }
    CHECK(s.changes_calls >= 12);
    CHECK(max_parts >= 3); /* layers were stacked, not rebuilt from the base each time */
    rg_index_registry_free(r);
    pthread_mutex_destroy(&s.mu);
}

TEST(index_layer_falls_back_and_compacts)
{
    static l_src s;
    l_init(&s);
    rg_index_registry *r = l_registry(&s);
    if (!r)
        return;
    rg_index *ix = NULL;
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &ix), RG_OK);
    rg_index_release(ix);
    /* the log no longer reaches back: a full build */
    l_change(&s, 5, false);
    s.log_from = s.version;
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &ix), RG_OK);
    CHECK(ix && rg_index__parts(ix) == 1);
    if (ix)
        compare(ix, &s);
    rg_index_release(ix);
    s.log_from = 0;
    /* the trim of the log follows each full build, in the background */
    for (int i = 0; i < 500 && s.trims < 2; i++)
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    CHECK(s.trims >= 2 && s.trimmed_to == s.version);

    /* a small change: a layer, not too big */
    l_change(&s, 7, false);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &ix), RG_OK);
    CHECK(ix && rg_index__parts(ix) > 1 && !rg_index__layer_too_big(ix, RG_INDEX_LAYER_MIN));
    rg_index_release(ix);
    /* past the share of the base (a low bar for this small dataset): the
     * background thread replaces the layer by a full build */
    rg_index__registry_layer_min(r, 5);
    for (int d = 20; d < 40; d++)
        l_change(&s, d, d % 5 == 0);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &ix), RG_OK);
    CHECK(ix && rg_index__parts(ix) > 1 && rg_index__layer_too_big(ix, 5));
    if (ix)
        compare(ix, &s);
    rg_index_release(ix);
    bool full = false;
    for (int i = 0; i < 500 && !full; i++) {
        CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &ix), RG_OK);
        full = ix && rg_index__parts(ix) == 1 && ix->version == s.version;
        if (full)
            compare(ix, &s);
        rg_index_release(ix);
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    CHECK(full);
    /* and the next change layers over the new base */
    l_change(&s, 2, false);
    CHECK_EQ_INT(rg_index_acquire(r, "t", "ds", &ix), RG_OK);
    CHECK(ix && rg_index__parts(ix) == 2 && rg_index__base(ix)->version == s.version - 1);
    if (ix)
        compare(ix, &s);
    rg_index_release(ix);
    rg_index_registry_free(r);
    pthread_mutex_destroy(&s.mu);
}
