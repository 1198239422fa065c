/*
 * retrieve.c - POST /v1/datasets/{dataset_id}/retrieve (alias /hit-testing).
 *
 * Dify's semantics (shared/reference/dify-knowledge-api.md 8): the effective
 * retrieval model is the request's, else the dataset's, else semantic search
 * with top_k 4; economy datasets search by keywords.  Searches run on the
 * dataset's in-memory snapshot (index/), which the registry rebuilds whenever
 * the store's index version moved, so every committed change is visible.
 *   semantic_search   exact cosine similarity of the query embedding;
 *   full_text_search  BM25, scores divided by the best one (so in 0..1);
 *   hybrid_search     both, fused: vector_weight * cosine + keyword_weight *
 *                     normalised BM25 (weights must sum to 1); or, with the
 *                     ragd extension reranking_mode "reciprocal_rank_fusion",
 *                     by rank: sum of weight * (K + 1) / (K + rank) over the
 *                     two lists (K = 60; equal weights unless given), so the
 *                     unit first in both lists scores 1;
 *   keyword_search    BM25 over the same terms (economy datasets).
 * Hits on child chunks are grouped under their parent segment (the record's
 * score is its best child's).  With reranking_enable and a rerank model
 * (embed/rerank.h) the first candidates of the method (hybrid: the fused
 * list) are scored by that model in one call and reordered by its relevance
 * scores (see rerank() below).  score_threshold (>=) and top_k apply last.
 * The answer carries a Server-Timing header (embed;dur= the query embedding,
 * search;dur= the index searches and fusion, rerank;dur= the rerank call when
 * there is one, in milliseconds), so clients and benchmarks can tell model
 * time from search time.
 *
 * POST /retrieval (and /v1/retrieval) is Dify's *external knowledge API*, so
 * that a Dify instance can mount a ragd dataset as an external knowledge
 * base: its own request shape, {"records": [...]} answers and
 * {"error_code", "error_msg"} errors with Dify's numbers.
 */
#include "api/api.h"

#include "api/metadata_filter.h"
#include "api/retrieval_model.h"
#include "embed/embed.h"
#include "embed/rerank.h"
#include "index/index.h"
#include "core/alloc.h"
#include "core/clock.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RETRIEVE_CANDIDATES 4  /* candidates fetched per list: top_k times this */
#define RRF_K               60 /* reciprocal rank fusion's constant (Cormack et al. 2009) */
/* Hybrid weights when the retrieval model gives none.  Dify uses 0.7/0.3
 * ("semantic_first"); bench/retrieve (man pages, the default GloVe model,
 * BENCHMARKS.md) measured MRR@10 0.887 there against a flat best of
 * 0.915-0.916 for vector weights 0.0-0.4: 0.4/0.6 is the most semantic
 * weight on that plateau, kept for queries that share no word with the text. */
#define HYBRID_VECTOR_WEIGHT  0.4
#define HYBRID_KEYWORD_WEIGHT 0.6
/* Texts one rerank call is sent at most (a parent-child record counts one per
 * matched child): bounds the request whatever top_k is. */
#define RERANK_MAX_DOCS 256
/* Candidates a rerank sees at least, whatever top_k (a reranker reads 20
 * short texts in a few milliseconds; with top_k 1 it would otherwise see 4). */
#define RERANK_MIN_CANDIDATES 20

typedef enum { M_SEMANTIC, M_FULL_TEXT, M_HYBRID, M_KEYWORD } method;

typedef struct query_opts {
    method m;
    int64_t top_k;
    double threshold; /* -INFINITY when disabled */
    double vector_weight, keyword_weight;
    bool rrf;                      /* fuse hybrid lists by rank, not by score */
    const rg_rerank_model *rerank; /* reorders the candidates, or NULL */
    int64_t *timing;               /* [embed, search, rerank] microseconds, or NULL */
    json_t *filter;                /* metadata_filtering_conditions, borrowed */
    /* set by allowed_documents when the filter has conditions: the sorted ids
     * of the documents that satisfy it (arena); hits of others are dropped */
    bool filtered;
    const char **allowed;
    size_t n_allowed;
} query_opts;

typedef struct child_hit {
    const char *id;
    double score;
} child_hit;

typedef struct record {
    const char *segment_id, *document_id;
    double score;  /* the best child's when it has children, else its own */
    double direct; /* the best hit on the segment itself */
    child_hit *kids;
    size_t n_kids, cap_kids;
} record;

/* ---- the effective retrieval model ----------------------------------------- */

static method parse_method(const char *z)
{
    if (!z || strcmp(z, "semantic_search") == 0)
        return M_SEMANTIC;
    if (strcmp(z, "full_text_search") == 0)
        return M_FULL_TEXT;
    if (strcmp(z, "hybrid_search") == 0)
        return M_HYBRID;
    return M_KEYWORD;
}

static rg_rc read_weights(rg_req *req, rg_resp *resp, json_t *model, query_opts *o)
{
    json_t *w = json_object_get(model, "weights");
    json_t *vw = json_object_get(json_object_get(w, "vector_setting"), "vector_weight");
    json_t *kw = json_object_get(json_object_get(w, "keyword_setting"), "keyword_weight");
    json_t *mode = json_object_get(model, "reranking_mode");
    o->rrf = json_is_string(mode) && strcmp(json_string_value(mode), "reciprocal_rank_fusion") == 0;
    o->vector_weight = o->rrf ? 0.5 : HYBRID_VECTOR_WEIGHT;
    o->keyword_weight = o->rrf ? 0.5 : HYBRID_KEYWORD_WEIGHT;
    if (json_is_number(vw) && json_is_number(kw)) {
        o->vector_weight = json_number_value(vw);
        o->keyword_weight = json_number_value(kw);
        if (fabs(o->vector_weight + o->keyword_weight - 1.0) > 1e-6)
            return rg_resp_fail(resp, req, RG_EINVAL,
                                "retrieval_model.weights: vector_weight and keyword_weight must "
                                "sum to 1 (got %g and %g)",
                                o->vector_weight, o->keyword_weight);
    } else if (json_is_number(vw) || json_is_number(kw))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.weights: give both vector_weight and keyword_weight");
    return RG_OK;
}

/* The rerank model of a retrieval model that enables one (Dify 8.2: only with
 * reranking_enable, in reranking_mode reranking_model, the default).  Both
 * names empty: no rerank runner, as Dify.  Keyword search is never reranked
 * (Dify reranks only the vector, full-text and hybrid searches).  A named
 * model this server does not have (a stored retrieval_model of a model no
 * longer configured) is provider_not_initialize. */
static rg_rc rerank_model(rg_req *req, rg_resp *resp, json_t *model, query_opts *o)
{
    json_t *mode = json_object_get(model, "reranking_mode");
    if (!json_is_true(json_object_get(model, "reranking_enable")) || o->m == M_KEYWORD ||
        (json_is_string(mode) && strcmp(json_string_value(mode), "reranking_model") != 0))
        return RG_OK;
    json_t *rm = json_object_get(model, "reranking_model");
    const char *prov = json_string_value(json_object_get(rm, "reranking_provider_name"));
    const char *name = json_string_value(json_object_get(rm, "reranking_model_name"));
    if (!prov || !*prov || !name || !*name)
        return RG_OK;
    o->rerank = rg_rerank_find(prov, name);
    if (!o->rerank)
        return rg_resp_fail(resp, req, RG_EPROVIDER,
                            "Rerank model %s of provider %s is not available on this server.", name,
                            prov);
    return RG_OK;
}

static void json_release(void *p)
{
    json_decref(p);
}

static rg_rc effective_model(rg_req *req, rg_resp *resp, const rg_dataset *ds, query_opts *o)
{
    json_t *model = json_object_get(req->json, "retrieval_model");
    const char *checked;
    if (model && !json_is_null(model))
        RG_TRY(rg_retrieval_model_check(req, resp, model, &checked));
    else if (ds->retrieval_model) {
        model = json_loads(ds->retrieval_model, 0, NULL);
        rg_arena_on_free(req->arena, json_release, model);
    } else
        model = NULL;
    o->m = parse_method(json_string_value(json_object_get(model, "search_method")));
    json_t *k = json_object_get(model, "top_k");
    o->top_k = json_is_integer(k) ? json_integer_value(k) : 4;
    json_t *st = json_object_get(model, "score_threshold");
    /* no threshold unless enabled: the nearest chunks come back even when their
     * cosine is below 0 (a query of rare or unknown words) */
    o->threshold =
        json_is_true(json_object_get(model, "score_threshold_enabled")) && json_is_number(st)
            ? json_number_value(st)
            : -INFINITY;
    o->filter = json_object_get(model, "metadata_filtering_conditions");
    if (!ds->indexing_technique || strcmp(ds->indexing_technique, "high_quality") != 0)
        o->m = M_KEYWORD; /* economy datasets have no vectors (Dify 13.12) */
    RG_TRY(rerank_model(req, resp, model, o));
    return o->m == M_HYBRID ? read_weights(req, resp, model, o) : RG_OK;
}

/* Metadata filtering (Dify 8.3): compiles o->filter against the dataset's
 * fields and, when it has conditions, fills o->allowed with the documents of
 * the dataset whose metadata satisfy them.  RG_EINVAL with *why (arena) for a
 * filter that does not fit the fields (nothing written to resp). */
static rg_rc allowed_documents(rg_req *req, const rg_key *key, const rg_dataset *ds, query_opts *o,
                               const char **why)
{
    rg_meta_schema schema = {ds->metadata, ds->built_in_field_enabled, ds->author_name};
    rg_meta_filter *f;
    RG_TRY(rg_meta_filter_compile(req->arena, o->filter, &schema, &f, why));
    if (!f)
        return RG_OK;
    rg_doc_meta *docs;
    size_t n;
    RG_TRY(rg_store_document_metadata_all(rg_api_ctx(req)->store, req->arena, key->tenant.id,
                                          ds->id, &docs, &n));
    o->filtered = true;
    o->allowed = rg_arena_calloc(req->arena, n ? n : 1, sizeof *o->allowed);
    for (size_t i = 0; i < n; i++)
        if (rg_meta_filter_match(f, &docs[i]))
            o->allowed[o->n_allowed++] = docs[i].id;
    return RG_OK;
}

/* ---- search and fusion -------------------------------------------------------- */

static record *find_record(record *recs, size_t *n, const rg_hit *h)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(recs[i].segment_id, h->segment_id) == 0)
            return &recs[i];
    record *r = &recs[(*n)++];
    memset(r, 0, sizeof *r);
    r->segment_id = h->segment_id;
    r->document_id = h->document_id;
    r->score = r->direct = -INFINITY;
    return r;
}

static void add_child(rg_arena *a, record *r, const char *id, double score)
{
    for (size_t i = 0; i < r->n_kids; i++)
        if (strcmp(r->kids[i].id, id) == 0) {
            if (score > r->kids[i].score)
                r->kids[i].score = score;
            return;
        }
    if (r->n_kids == r->cap_kids) {
        size_t cap = r->cap_kids ? r->cap_kids * 2 : 4;
        child_hit *k = rg_arena_alloc(a, cap * sizeof *k);
        if (r->n_kids)
            memcpy(k, r->kids, r->n_kids * sizeof *k);
        r->kids = k;
        r->cap_kids = cap;
    }
    r->kids[r->n_kids++] = (child_hit){id, score};
}

/* Merges hits (already weighted) into records: a unit met twice adds its
 * weighted scores (hybrid); children are grouped under their parent. */
static void merge(rg_arena *a, record *recs, size_t *n, const rg_hit *hits, size_t nh,
                  double weight, double norm, double *unit_scores, uint32_t *unit_refs,
                  size_t *n_units)
{
    for (size_t i = 0; i < nh; i++) {
        const rg_hit *h = &hits[i];
        double s = weight * (norm > 0 ? h->score / norm : h->score);
        size_t u = 0; /* the unit, by its number in the snapshot */
        while (u < *n_units && unit_refs[u] != h->ref)
            u++;
        if (u == *n_units) {
            unit_refs[u] = h->ref;
            unit_scores[u] = 0;
            (*n_units)++;
        }
        unit_scores[u] += s;
        record *r = find_record(recs, n, h);
        if (h->child_id)
            add_child(a, r, h->child_id, unit_scores[u]);
        else if (unit_scores[u] > r->direct)
            r->direct = unit_scores[u];
    }
}

/* A parent-child record is scored by its best child (Dify 8.5); a parent's
 * own hit counts only when none of its children matched. */
static void settle_scores(record *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double best = recs[i].direct;
        if (recs[i].n_kids) {
            best = -INFINITY;
            for (size_t k = 0; k < recs[i].n_kids; k++)
                if (recs[i].kids[k].score > best)
                    best = recs[i].kids[k].score;
        }
        recs[i].score = best;
    }
}

static int by_score_desc(const void *x, const void *y)
{
    const record *a = x, *b = y;
    return (a->score < b->score) - (a->score > b->score);
}

static int kid_by_score_desc(const void *x, const void *y)
{
    const child_hit *a = x, *b = y;
    return (a->score < b->score) - (a->score > b->score);
}

/* Replaces a best-first list's scores by their reciprocal-rank value,
 * (K + 1) / (K + rank): 1 for the first hit. */
static void by_rank(rg_hit *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h[i].score = (double)(RRF_K + 1) / (double)(RRF_K + 1 + i);
}

/* Hits fetched from each list (and, when reranking, records reranked):
 * top_k x RETRIEVE_CANDIDATES, at least RERANK_MIN_CANDIDATES with a rerank. */
static size_t candidates(const query_opts *o)
{
    size_t want = (size_t)o->top_k * RETRIEVE_CANDIDATES;
    return o->rerank && want < RERANK_MIN_CANDIDATES ? RERANK_MIN_CANDIDATES : want;
}

/* ---- reranking ------------------------------------------------------------------ */

/* What one text sent to the rerank model stands for: a record's segment, or
 * one of its matched child chunks (kid < n_kids). */
typedef struct rerank_doc {
    record *r;
    size_t kid; /* SIZE_MAX: the segment itself */
} rerank_doc;

/* Keeps in r only the children found in the store, adding their contents to
 * docs/map; false when none fits under RERANK_MAX_DOCS. */
static bool child_docs(rg_req *req, record *r, rg_str *docs, rerank_doc *map, size_t *nd)
{
    rg_child_chunk *kids = NULL;
    size_t nk = 0, kept = 0, start = *nd;
    if (rg_store_child_chunk_list(rg_api_ctx(req)->store, req->arena, r->segment_id, &kids, &nk) !=
        RG_OK)
        return false;
    for (size_t i = 0; i < r->n_kids; i++)
        for (size_t j = 0; j < nk; j++)
            if (strcmp(kids[j].id, r->kids[i].id) == 0 && *nd < RERANK_MAX_DOCS) {
                r->kids[kept] = r->kids[i];
                docs[*nd] = rg_str_c(kids[j].content);
                map[(*nd)++] = (rerank_doc){r, kept++};
                break;
            }
    if (kept == 0 || (kept < r->n_kids && *nd == RERANK_MAX_DOCS)) {
        *nd = start; /* a record is sent whole or not at all */
        return false;
    }
    r->n_kids = kept;
    return true;
}

/* Collects the texts of the first records (those still in the store) into
 * docs/map and keeps only those records in recs[0..*n). */
static void rerank_docs(rg_req *req, record *recs, size_t *n, rg_str *docs, rerank_doc *map,
                        size_t *nd)
{
    const char *tenant = rg_api_principal(req)->key.tenant.id;
    size_t kept = 0;
    *nd = 0;
    for (size_t i = 0; i < *n && *nd < RERANK_MAX_DOCS; i++) {
        record *r = &recs[kept];
        *r = recs[i];
        rg_segment g;
        if (r->n_kids) {
            if (!child_docs(req, r, docs, map, nd))
                continue;
        } else if (rg_store_segment_get(rg_api_ctx(req)->store, req->arena, tenant, r->document_id,
                                        r->segment_id, &g) == RG_OK) {
            docs[*nd] = rg_str_c(g.content);
            map[(*nd)++] = (rerank_doc){r, SIZE_MAX};
        } else
            continue; /* deleted since the snapshot was taken */
        kept++;
    }
    *n = kept;
}

/* Dify's rerank step (8.4): the first candidates of the search (candidates()
 * records, at most RERANK_MAX_DOCS texts: a segment's
 * content, or each matched child chunk's for parent-child records, as Dify
 * reranks the child nodes it found) go to the rerank model in one call; its
 * relevance scores replace the search scores (a parent's is its best
 * child's) and the records are sorted again.  A failing model is
 * completion_request_error with its message. */
static rg_rc rerank(rg_req *req, rg_resp *resp, rg_str q, const query_opts *o, record *recs,
                    size_t *n)
{
    const rg_rerank_model *m = o->rerank;
    if (*n > candidates(o))
        *n = candidates(o);
    rg_str *docs = rg_arena_calloc(req->arena, RERANK_MAX_DOCS, sizeof *docs);
    rerank_doc *map = rg_arena_calloc(req->arena, RERANK_MAX_DOCS, sizeof *map);
    double *scores = rg_arena_calloc(req->arena, RERANK_MAX_DOCS, sizeof *scores);
    size_t nd;
    rerank_docs(req, recs, n, docs, map, &nd);
    char err[RG_RERANK_ERR_MAX] = "";
    rg_rc rc = nd ? m->rerank(m, q, docs, nd, scores, err) : RG_OK;
    if (rc == RG_ENOMEM || (rc != RG_OK && !*err))
        return rc;
    if (rc != RG_OK)
        return rg_resp_fail(resp, req, rc == RG_EINVAL ? RG_EINVAL : RG_EUPSTREAM,
                            "Rerank model %s/%s failed: %s", m->provider, m->name, err);
    for (size_t i = 0; i < nd; i++) {
        if (map[i].kid == SIZE_MAX)
            map[i].r->direct = scores[i];
        else
            map[i].r->kids[map[i].kid].score = scores[i];
    }
    settle_scores(recs, *n);
    if (*n > 1)
        qsort(recs, *n, sizeof *recs, by_score_desc);
    return RG_OK;
}

/* Dify's weighted score (8.4) over the union of both lists' candidates, each
 * with both of its scores: a unit only one list returned is scored by the
 * other method too (its cosine, or its BM25), not counted as 0 there.
 * vector_weight x max(cosine, 0) + keyword_weight x BM25 / the best BM25. */
static rg_rc fuse_weighted(rg_arena *a, const rg_index *ix, rg_str q, const float *vec, int dims,
                           const query_opts *o, const rg_hit *vh, size_t nv, const rg_hit *th,
                           size_t nt, rg_hit **out, size_t *n_out)
{
    rg_hit *all = rg_arena_alloc(a, (nv + nt + 1) * sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < nv; i++)
        all[n++] = vh[i];
    for (size_t i = 0; i < nt; i++) {
        size_t j = 0;
        while (j < nv && vh[j].ref != th[i].ref)
            j++;
        if (j == nv)
            all[n++] = th[i];
    }
    double *cos = rg_arena_alloc(a, (n + 1) * sizeof *cos);
    double *bm = rg_arena_alloc(a, (n + 1) * sizeof *bm);
    RG_TRY(rg_index_vector_scores(ix, vec, dims, all, n, cos));
    RG_TRY(rg_index_text_scores(ix, q, all, n, bm));
    double best = nt ? th[0].score : 0; /* the best BM25 of any unit */
    for (size_t i = 0; i < n; i++) {
        double c = isnan(cos[i]) || cos[i] < 0 ? 0 : cos[i];
        all[i].score = o->vector_weight * c + o->keyword_weight * (best > 0 ? bm[i] / best : 0);
    }
    *out = all;
    *n_out = n;
    return RG_OK;
}

static rg_rc embed_query(rg_req *req, rg_resp *resp, const rg_dataset *ds, rg_str q, float **vec,
                         int *dims)
{
    const rg_embed_model *m;
    RG_TRY(rg_api_embed_model(req, resp, ds, &m));
    if (q.n > (size_t)m->context_size * 4) /* the model reads context_size characters */
        q.n = (size_t)m->context_size * 4;
    *vec = rg_arena_alloc(req->arena, (size_t)m->dims * sizeof **vec);
    *dims = m->dims;
    return rg_api_embed(req, resp, m, q, *vec);
}

static rg_rc search(rg_req *req, rg_resp *resp, const rg_dataset *ds, rg_index *ix, rg_str q,
                    const query_opts *o, record **out, size_t *n_out)
{
    const size_t want = candidates(o);
    *n_out = 0;
    if (o->filtered && o->n_allowed == 0)
        return RG_OK;
    float *vec = NULL;
    int dims = 0;
    int64_t t0 = rg_mono_us();
    if (o->m == M_SEMANTIC || o->m == M_HYBRID)
        RG_TRY(embed_query(req, resp, ds, q, &vec, &dims));
    int64_t t1 = rg_mono_us();
    /* a metadata filter is applied inside both searches (index.h) */
    rg_index_filter *filter = NULL;
    if (o->filtered)
        RG_TRY(rg_index_filter_documents(ix, req->arena, o->allowed, o->n_allowed, &filter));
    rg_hit *vh = rg_arena_calloc(req->arena, want, sizeof *vh);
    rg_hit *th = rg_arena_calloc(req->arena, want, sizeof *th);
    size_t nv = 0, nt = 0;
    if (vec)
        RG_TRY(rg_index_search_vector(ix, vec, dims, want, filter, vh, &nv));
    if (o->m != M_SEMANTIC)
        RG_TRY(rg_index_search_text(ix, q, want, filter, th, &nt));
    size_t cap = nv + nt + 1;
    record *recs = rg_arena_calloc(req->arena, cap, sizeof *recs);
    double *us = rg_arena_calloc(req->arena, cap, sizeof *us);
    uint32_t *uid = rg_arena_calloc(req->arena, cap, sizeof *uid);
    size_t n = 0, nu = 0;
    double tnorm = nt ? th[0].score : 0; /* BM25 normalised by the best score */
    if (o->m == M_SEMANTIC)
        merge(req->arena, recs, &n, vh, nv, 1.0, 0, us, uid, &nu);
    else if (o->m == M_HYBRID && o->rrf) {
        by_rank(vh, nv);
        by_rank(th, nt);
        merge(req->arena, recs, &n, vh, nv, o->vector_weight, 0, us, uid, &nu);
        merge(req->arena, recs, &n, th, nt, o->keyword_weight, 0, us, uid, &nu);
    } else if (o->m == M_HYBRID) {
        size_t nh;
        rg_hit *fused;
        RG_TRY(fuse_weighted(req->arena, ix, q, vec, dims, o, vh, nv, th, nt, &fused, &nh));
        merge(req->arena, recs, &n, fused, nh, 1.0, 0, us, uid, &nu);
    } else
        merge(req->arena, recs, &n, th, nt, 1.0, tnorm, us, uid, &nu);
    settle_scores(recs, n);
    if (n > 1)
        qsort(recs, n, sizeof *recs, by_score_desc);
    int64_t t2 = rg_mono_us();
    if (o->rerank)
        RG_TRY(rerank(req, resp, q, o, recs, &n));
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < (size_t)o->top_k; i++)
        if (recs[i].score >= o->threshold)
            recs[kept++] = recs[i];
    *out = recs;
    *n_out = kept;
    if (o->timing) {
        o->timing[0] = vec ? t1 - t0 : 0;
        o->timing[1] = t2 - t1;
        o->timing[2] = o->rerank ? rg_mono_us() - t2 : 0;
    }
    return RG_OK;
}

/* ---- rendering ------------------------------------------------------------------ */

static void render_record(rg_req *req, rg_jsonw *w, const record *r, const rg_segment *g,
                          const rg_document *d)
{
    rg_jsonw_obj(w);
    rg_jsonw_key(w, "segment");
    rg_jsonw_obj(w);
    rg_api_segment_fields(w, g, false);
    rg_jsonw_key(w, "document");
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "id", d->id);
    rg_jsonw_kstr(w, "data_source_type", d->data_source_type);
    rg_jsonw_kstr(w, "name", d->name);
    rg_jsonw_kstr(w, "doc_type", d->doc_type);
    rg_jsonw_kraw(w, "doc_metadata", d->doc_metadata);
    rg_jsonw_obj_end(w);
    rg_jsonw_obj_end(w);
    rg_jsonw_key(w, "child_chunks");
    rg_jsonw_arr(w);
    if (r->n_kids) {
        rg_child_chunk *kids = NULL;
        size_t nk = 0;
        if (rg_store_child_chunk_list(rg_api_ctx(req)->store, req->arena, g->id, &kids, &nk) !=
            RG_OK)
            nk = 0;
        for (size_t i = 0; i < r->n_kids; i++)
            for (size_t j = 0; j < nk; j++)
                if (strcmp(kids[j].id, r->kids[i].id) == 0) {
                    rg_jsonw_obj(w);
                    rg_jsonw_kstr(w, "id", kids[j].id);
                    rg_jsonw_kstr(w, "content", kids[j].content);
                    rg_jsonw_kint(w, "position", kids[j].position);
                    rg_jsonw_kdouble(w, "score", r->kids[i].score);
                    rg_jsonw_obj_end(w);
                }
    }
    rg_jsonw_arr_end(w);
    rg_jsonw_kdouble(w, "score", r->score);
    rg_jsonw_knull(w, "tsne_position");
    rg_jsonw_key(w, "files");
    rg_jsonw_arr(w);
    rg_jsonw_arr_end(w);
    rg_jsonw_knull(w, "summary");
    rg_jsonw_obj_end(w);
}

rg_rc rg_api_retrieve(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_api *api = rg_api_ctx(req);
    json_t *jq = json_object_get(req->json, "query");
    if (!json_is_string(jq) ||
        rg_str_trim((rg_str){json_string_value(jq), json_string_length(jq)}).n == 0)
        return rg_resp_fail(resp, req, RG_EINVAL, "query: required, a non-empty string");
    rg_str q = {json_string_value(jq), json_string_length(jq)};
    int64_t timing[3] = {0, 0, 0};
    query_opts o = {.timing = timing};
    RG_TRY(effective_model(req, resp, p->dataset, &o));
    const char *why;
    rg_rc frc = allowed_documents(req, &p->key, p->dataset, &o, &why);
    if (frc == RG_EINVAL)
        return rg_resp_fail(resp, req, frc, "metadata_filtering_conditions: %s", why);
    RG_TRY(frc);
    record *recs = NULL;
    size_t n = 0;
    rg_index *ix = NULL; /* the records point into it: released after rendering */
    if (!o.filtered || o.n_allowed > 0) {
        RG_TRY(rg_index_acquire(api->index, p->key.tenant.id, p->dataset->id, &ix));
        rg_rc rc = search(req, resp, p->dataset, ix, q, &o, &recs, &n);
        if (rc != RG_OK) {
            rg_index_release(ix);
            return rc;
        }
    }
    resp->extra_header = "Server-Timing";
    resp->extra_value = rg_arena_printf(
        req->arena, "embed;dur=%.3f, search;dur=%.3f%s", (double)timing[0] / 1000,
        (double)timing[1] / 1000,
        o.rerank ? rg_arena_printf(req->arena, ", rerank;dur=%.3f", (double)timing[2] / 1000) : "");
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "query");
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "content");
    rg_jsonw_str(&w, q);
    rg_jsonw_obj_end(&w);
    rg_jsonw_key(&w, "records");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++) {
        rg_segment g;
        rg_document d;
        if (rg_store_segment_get(api->store, req->arena, p->key.tenant.id, recs[i].document_id,
                                 recs[i].segment_id, &g) != RG_OK ||
            rg_store_document_get(api->store, req->arena, p->key.tenant.id, p->dataset->id,
                                  recs[i].document_id, &d) != RG_OK)
            continue; /* deleted since the snapshot was taken */
        if (recs[i].n_kids > 1)
            qsort(recs[i].kids, recs[i].n_kids, sizeof *recs[i].kids, kid_by_score_desc);
        render_record(req, &w, &recs[i], &g, &d);
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_obj_end(&w);
    if (ix)
        rg_index_release(ix);
    return RG_OK;
}

/* ---- the external knowledge API ------------------------------------------------- */

static rg_rc external_error(rg_resp *resp, int status, int code, const char *msg)
{
    rg_jsonw w;
    rg_resp_json(resp, &w);
    resp->status = status;
    rg_jsonw_obj(&w);
    rg_jsonw_kint(&w, "error_code", code);
    rg_jsonw_kstr(&w, "error_msg", msg);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

/* Dify's checks of the key, answered in the external API's error format. */
static rg_rc external_auth(rg_req *req, rg_resp *resp, const char *dataset_id, rg_key *key,
                           rg_dataset *ds, bool *ok)
{
    rg_api *api = rg_api_ctx(req);
    const char *h = rg_req_header(req, "Authorization");
    const char *sp = h ? strchr(h, ' ') : NULL;
    *ok = false;
    if (!sp || !rg_str_ieq((rg_str){h, (size_t)(sp - h)}, RG_STR("bearer")))
        return external_error(resp, 403, 1001,
                              "Invalid Authorization header format. Expected 'Bearer <api-key>' "
                              "format.");
    rg_str token = rg_str_trim(rg_str_c(sp));
    unsigned char hash[RG_KEY_HASH_LEN];
    rg_api_key_hash(token, hash);
    rg_rc ds_rc;
    rg_rc rc = rg_store_auth(api->store, req->arena, hash, dataset_id, key, ds, &ds_rc);
    if (rc == RG_ENOTFOUND || token.n != RG_KEY_LEN)
        return external_error(resp, 403, 1002, "Authorization failed");
    RG_TRY(rc);
    if (dataset_id &&
        (ds_rc != RG_OK || (key->dataset_id[0] && strcmp(key->dataset_id, ds->id) != 0)))
        return external_error(resp, 404, 2001, "The knowledge does not exist");
    *ok = true;
    return RG_OK;
}

rg_rc rg_api_external_retrieval(rg_req *req, rg_resp *resp)
{
    if (!req->json) { /* Dify probes a new endpoint with an empty POST */
        rg_jsonw w;
        rg_resp_json(resp, &w);
        rg_jsonw_obj(&w);
        rg_jsonw_key(&w, "records");
        rg_jsonw_arr(&w);
        rg_jsonw_arr_end(&w);
        rg_jsonw_obj_end(&w);
        return RG_OK;
    }
    json_t *kid = json_object_get(req->json, "knowledge_id"),
           *jq = json_object_get(req->json, "query");
    const char *dataset_id = json_string_value(kid);
    if (!dataset_id || !rg_str_is_uuid(rg_str_c(dataset_id)))
        dataset_id = NULL;
    rg_key key;
    rg_dataset ds;
    bool ok;
    RG_TRY(external_auth(req, resp, dataset_id ? dataset_id : "", &key, &ds, &ok));
    if (!ok)
        return RG_OK;
    if (!dataset_id)
        return external_error(resp, 404, 2001, "The knowledge does not exist");
    if (!json_is_string(jq) || json_string_length(jq) == 0)
        return external_error(resp, 400, 400, "query: required, a non-empty string");
    json_t *set = json_object_get(req->json, "retrieval_setting");
    json_t *k = json_object_get(set, "top_k"), *st = json_object_get(set, "score_threshold");
    query_opts o = {.m = M_SEMANTIC,
                    .top_k = 4,
                    .vector_weight = HYBRID_VECTOR_WEIGHT,
                    .keyword_weight = HYBRID_KEYWORD_WEIGHT};
    if (json_is_integer(k))
        o.top_k = json_integer_value(k);
    if (o.top_k < 1 || o.top_k > RG_TOP_K_MAX)
        return external_error(resp, 400, 400, "retrieval_setting.top_k: 1 to 100");
    o.threshold = json_is_number(st) ? json_number_value(st) : -INFINITY;
    if (ds.retrieval_model) { /* the dataset's own search method */
        json_t *m = json_loads(ds.retrieval_model, 0, NULL);
        o.m = parse_method(json_string_value(json_object_get(m, "search_method")));
        json_decref(m);
    }
    if (!ds.indexing_technique || strcmp(ds.indexing_technique, "high_quality") != 0)
        o.m = M_KEYWORD;
    o.filter = json_object_get(req->json, "metadata_condition");
    rg_principal *p = rg_arena_calloc(req->arena, 1, sizeof *p);
    p->key = key;
    p->dataset = &ds;
    req->auth = p;
    rg_str q = {json_string_value(jq), json_string_length(jq)};
    const char *why;
    rg_rc frc = allowed_documents(req, &key, &ds, &o, &why);
    if (frc == RG_EINVAL)
        return external_error(resp, 400, 400, why);
    RG_TRY(frc);
    record *recs = NULL;
    size_t n = 0;
    rg_index *ix = NULL; /* the records point into it: released after rendering */
    if (!o.filtered || o.n_allowed > 0) {
        RG_TRY(rg_index_acquire(rg_api_ctx(req)->index, key.tenant.id, ds.id, &ix));
        rg_rc rc = search(req, resp, &ds, ix, q, &o, &recs, &n);
        if (rc != RG_OK) {
            rg_index_release(ix);
            if (rc == RG_EPROVIDER)
                return external_error(resp, 500, 500, resp->message ? resp->message : "no model");
            return rc;
        }
    }
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "records");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++) {
        rg_segment g;
        rg_document d;
        if (rg_store_segment_get(rg_api_ctx(req)->store, req->arena, key.tenant.id,
                                 recs[i].document_id, recs[i].segment_id, &g) != RG_OK ||
            rg_store_document_get(rg_api_ctx(req)->store, req->arena, key.tenant.id, ds.id,
                                  recs[i].document_id, &d) != RG_OK)
            continue;
        rg_jsonw_obj(&w);
        rg_jsonw_kstr(&w, "content", g.content);
        rg_jsonw_kdouble(&w, "score", recs[i].score);
        rg_jsonw_kstr(&w, "title", d.name);
        rg_jsonw_key(&w, "metadata");
        rg_jsonw_obj(&w);
        rg_jsonw_kstr(&w, "document_id", d.id);
        rg_jsonw_kstr(&w, "document_name", d.name);
        rg_jsonw_kstr(&w, "segment_id", g.id);
        rg_jsonw_kint(&w, "position", g.position);
        rg_jsonw_obj_end(&w);
        rg_jsonw_obj_end(&w);
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_obj_end(&w);
    if (ix)
        rg_index_release(ix);
    return RG_OK;
}
