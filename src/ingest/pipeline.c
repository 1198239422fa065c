/*
 * pipeline.c - the stages of one indexing job.
 *
 * prepare(): parsing (extract text from the upload), cleaning (Dify's
 * pre-processing rules), splitting (chunks, or parents and children), then
 * one transaction stores every segment with total_segments.  A job that
 * resumes a document already past splitting skips straight to indexing.
 * index_pending(): batches of segments not yet completed get their full-text
 * terms, keywords (economy) or vectors (high_quality) and are committed with
 * completed_segments; the store completes the document with the last batch.
 * Each job has its own arena, and each batch a smaller one.
 */
#include "ingest/pipeline.h"

#include "core/arena.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/log.h"
#include "embed/embed.h"
#include "ingest/clean.h"
#include "ingest/extract.h"
#include "ingest/keywords.h"
#include "ingest/process_rule.h"
#include "ingest/split.h"
#include "text/tokenize.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define JOB_ARENA   ((size_t)2 << 30)
#define BATCH_ARENA ((size_t)256 << 20)

typedef struct job_ctx {
    rg_store *s;
    const rg_job *job;
    rg_arena *a;
    rg_document doc;
    const atomic_bool *stop;
} job_ctx;

/* Records the failure (unless the document is gone) and returns RG_EINVAL. */
static rg_rc fail(job_ctx *j, const char *reason)
{
    rg_warn("document %s failed: %s", j->job->document_id, reason);
    rg_rc rc = rg_store_job_fail(j->s, j->job, reason);
    return rc == RG_ECANCELED ? RG_ECANCELED : RG_EINVAL;
}

static rg_rc extract(job_ctx *j, rg_buf *text)
{
    char why[512], path[1024];
    rg_doctype t;
    if (rg_doctype_from_ext(j->doc.upload.extension, &t) != RG_OK) {
        snprintf(why, sizeof why, "unsupported file type '.%s' (supported: %s)",
                 j->doc.upload.extension, rg_doctype_supported());
        return fail(j, why);
    }
    if (rg_store_upload_path(j->s, j->doc.upload.id, path, sizeof path) != RG_OK)
        return fail(j, "the uploaded file is missing from the data directory");
    why[0] = '\0';
    rg_rc rc = rg_extract_file(path, t, text, why, sizeof why);
    if (rc != RG_OK)
        return fail(j, why[0] ? why : "the file could not be read");
    return RG_OK;
}

typedef struct chunk_set {
    rg_segment *segs;
    size_t n;
    rg_child_chunk *kids;
    size_t n_kids;
    int64_t words;
} chunk_set;

/* Appends a segment for chunk (after Dify's post-processing); false if it
 * came out empty. */
static bool add_segment(job_ctx *j, chunk_set *cs, rg_str chunk)
{
    char hash[65];
    rg_sha256_hex2(chunk, RG_STR("None"), hash);
    rg_str clean = rg_clean_leading_symbols(chunk);
    if (clean.n == 0)
        return false;
    rg_segment *g = &cs->segs[cs->n++];
    memset(g, 0, sizeof *g);
    rg_uuid4(g->id);
    rg_uuid4(g->index_node_id);
    memcpy(g->index_node_hash, hash, sizeof hash);
    memcpy(g->document_id, j->doc.id, sizeof g->document_id);
    memcpy(g->dataset_id, j->doc.dataset_id, sizeof g->dataset_id);
    g->position = (int64_t)cs->n;
    g->content = rg_arena_strz(j->a, clean);
    g->word_count = (int64_t)rg_utf8_len(clean.p, clean.n);
    g->status = "waiting";
    g->created_by = j->doc.created_by;
    g->created_at = g->updated_at = rg_now_s();
    g->indexing_at = g->completed_at = g->stopped_at = g->disabled_at = -1;
    cs->words += g->word_count;
    return true;
}

/* Fills out (room for n) with the non-empty pieces of kids as child chunks
 * of parent_id, positions from 1; returns how many. */
static size_t fill_children(rg_arena *a, const char *parent_id, const rg_str *kids, size_t n,
                            rg_child_chunk *out)
{
    size_t made = 0;
    for (size_t i = 0; i < n; i++) {
        rg_str c = rg_str_trim(kids[i]);
        if (c.n == 0)
            continue;
        rg_child_chunk *k = &out[made++];
        memset(k, 0, sizeof *k);
        rg_uuid4(k->id);
        memcpy(k->segment_id, parent_id, sizeof k->segment_id);
        k->position = (int64_t)made;
        k->content = rg_arena_strz(a, c);
        k->word_count = (int64_t)rg_utf8_len(c.p, c.n);
        k->type = "automatic";
        k->created_at = k->updated_at = rg_now_s();
    }
    return made;
}

static void add_children(job_ctx *j, chunk_set *cs, const rg_segment *parent, const rg_str *kids,
                         size_t n)
{
    cs->n_kids += fill_children(j->a, parent->id, kids, n, &cs->kids[cs->n_kids]);
}

rg_rc rg_pipeline_children(rg_arena *a, const rg_process_rule *rule, const char *segment_id,
                           rg_str content, rg_child_chunk **out, size_t *n)
{
    rg_split_parent *parents;
    size_t np;
    *out = NULL;
    *n = 0;
    RG_TRY(rg_split_hierarchical(a, content, RG_SPLIT_FULL_DOC, NULL, &rule->subchunk, 0, &parents,
                                 &np));
    size_t total = 0;
    for (size_t i = 0; i < np; i++)
        total += parents[i].n_children;
    *out = rg_arena_calloc(a, total ? total : 1, sizeof **out);
    for (size_t i = 0; i < np; i++)
        *n += fill_children(a, segment_id, parents[i].children, parents[i].n_children, *out + *n);
    for (size_t i = 0; i < *n; i++)
        (*out)[i].position = (int64_t)i + 1;
    return RG_OK;
}

static rg_rc split(job_ctx *j, const rg_process_rule *rule, rg_str text, chunk_set *cs)
{
    rg_rc rc;
    memset(cs, 0, sizeof *cs);
    if (rule->mode == RG_RULE_HIERARCHICAL) {
        rg_split_parent *parents;
        size_t np, total_kids = 0;
        rc = rg_split_hierarchical(j->a, text, rule->parent_mode, &rule->segmentation,
                                   &rule->subchunk, 0, &parents, &np);
        if (rc != RG_OK)
            return rc;
        for (size_t i = 0; i < np; i++)
            total_kids += parents[i].n_children;
        cs->segs = rg_arena_calloc(j->a, np ? np : 1, sizeof *cs->segs);
        cs->kids = rg_arena_calloc(j->a, total_kids ? total_kids : 1, sizeof *cs->kids);
        for (size_t i = 0; i < np; i++)
            if (add_segment(j, cs, parents[i].text))
                add_children(j, cs, &cs->segs[cs->n - 1], parents[i].children,
                             parents[i].n_children);
        return RG_OK;
    }
    rg_str *chunks;
    size_t n;
    rc = rg_split_text(j->a, text, &rule->segmentation, 0, &chunks, &n);
    if (rc != RG_OK)
        return rc;
    cs->segs = rg_arena_calloc(j->a, n ? n : 1, sizeof *cs->segs);
    for (size_t i = 0; i < n; i++)
        add_segment(j, cs, chunks[i]);
    return RG_OK;
}

static void add_keywords(job_ctx *j, chunk_set *cs)
{
    rg_str *texts = rg_arena_alloc(j->a, (cs->n ? cs->n : 1) * sizeof *texts);
    const char **kw = rg_arena_alloc(j->a, (cs->n ? cs->n : 1) * sizeof *kw);
    for (size_t i = 0; i < cs->n; i++)
        texts[i] = rg_str_c(cs->segs[i].content);
    rg_keywords_extract(j->a, texts, cs->n, RG_KEYWORDS_PER_CHUNK, kw);
    for (size_t i = 0; i < cs->n; i++)
        cs->segs[i].keywords = kw[i];
}

static bool is_economy(const rg_document *d)
{
    return d->indexing_technique && strcmp(d->indexing_technique, "economy") == 0;
}

/* parsing -> cleaning -> splitting, ending with the segments stored. */
static rg_rc prepare(job_ctx *j)
{
    char why[512];
    RG_TRY(rg_store_job_stage(j->s, j->job, RG_DOC_PARSING));
    rg_buf raw;
    rg_buf_init(&raw, RG_EXTRACT_MAX_TEXT);
    rg_rc rc = extract(j, &raw);
    if (rc != RG_OK) {
        rg_buf_free(&raw);
        return rc;
    }
    rg_process_rule rule;
    rc = rg_store_job_stage(j->s, j->job, RG_DOC_CLEANING);
    if (rc == RG_OK &&
        rg_process_rule_load(j->a, j->doc.process_rule, &rule, why, sizeof why) != RG_OK)
        rc = fail(j, why);
    rg_buf clean;
    rg_buf_init(&clean, RG_EXTRACT_MAX_TEXT);
    if (rc == RG_OK) {
        bool full_doc = rule.mode == RG_RULE_HIERARCHICAL && rule.parent_mode == RG_SPLIT_FULL_DOC;
        if (full_doc) /* Dify does not clean full-doc parents */
            rc = rg_buf_append(&clean, raw.p, raw.len);
        else
            rc = rg_clean_text(rg_buf_str(&raw), rule.clean, rule.n_clean, &clean);
        if (rc != RG_OK)
            rc = fail(j, "the text could not be cleaned (is it larger than 64 MiB?)");
    }
    rg_buf_free(&raw);
    if (rc == RG_OK)
        rc = rg_store_job_stage(j->s, j->job, RG_DOC_SPLITTING);
    chunk_set cs;
    if (rc == RG_OK && (rc = split(j, &rule, rg_buf_str(&clean), &cs)) != RG_OK)
        rc = fail(j, rc == RG_ETOOBIG ? "the document splits into more than 1,000,000 chunks"
                                      : "the text could not be split");
    if (rc == RG_OK && cs.n == 0)
        rc = fail(j, "the document contains no text to index (empty after cleaning)");
    if (rc == RG_OK) {
        if (is_economy(&j->doc))
            add_keywords(j, &cs);
        rc = rg_store_job_segments(j->s, j->job, cs.segs, cs.n, cs.kids, cs.n_kids, cs.words);
    }
    rg_buf_free(&clean); /* segment contents were copied into the arena */
    return rc;
}

static bool is_hierarchical(const rg_document *d)
{
    return d->doc_form && strcmp(d->doc_form, "hierarchical_model") == 0;
}

/* Where a batch's vectors came from: per text, its digest and whether the
 * model computed it (then it goes into the cache with the batch). */
typedef struct embedded {
    unsigned char *digests; /* n * 32 bytes, NULL when the model is not cached */
    bool *hit;
    const char *key;
} embedded;

/* Embeds texts[0..n) into out (n * m->dims floats): vectors in the store's
 * embedding cache are taken from it, the others computed in one embed() call.
 * On failure err holds the model's explanation. */
static rg_rc embed_cached(job_ctx *j, rg_arena *a, const rg_embed_model *m, const rg_str *texts,
                          size_t n, float *out, embedded *e, char *err)
{
    memset(e, 0, sizeof *e);
    if (!m->cache)
        return m->embed(m, texts, n, out, err);
    char key[512];
    e->key = rg_arena_strdup(a, rg_embed_cache_key(m, key, sizeof key));
    e->digests = rg_arena_alloc(a, n * 32);
    e->hit = rg_arena_calloc(a, n, sizeof *e->hit);
    for (size_t i = 0; i < n; i++)
        rg_sha256(texts[i], e->digests + i * 32);
    if (rg_store_embed_cache_get(j->s, e->key, m->dims, e->digests, n, out, e->hit) != RG_OK) {
        rg_warn("pipeline: the embedding cache could not be read; embedding the batch");
        memset(e->hit, 0, n * sizeof *e->hit);
    }
    size_t dims = (size_t)m->dims, nm = 0;
    size_t *miss = rg_arena_alloc(a, n * sizeof *miss);
    rg_str *mt = rg_arena_alloc(a, n * sizeof *mt);
    for (size_t i = 0; i < n; i++)
        if (!e->hit[i]) {
            miss[nm] = i;
            mt[nm++] = texts[i];
        }
    if (nm == 0)
        return RG_OK;
    float *mv = rg_arena_alloc(a, nm * dims * sizeof *mv);
    RG_TRY(m->embed(m, mt, nm, mv, err));
    for (size_t k = 0; k < nm; k++)
        memcpy(out + miss[k] * dims, mv + k * dims, dims * sizeof *mv);
    return RG_OK;
}

/* Marks item i of a batch for the cache when its vector was computed. */
static void cache_item(const embedded *e, size_t i, rg_segment_index *it)
{
    if (e->digests && !e->hit[i]) {
        it->cache_model = e->key;
        it->cache_digest = e->digests + i * 32;
    }
}

/* Ends the job in error with the model's own explanation of a failed embed(). */
static rg_rc embed_failed(job_ctx *j, const rg_embed_model *m, rg_rc rc, const char *err)
{
    char why[RG_EMBED_ERR_MAX + 128];
    snprintf(why, sizeof why, "embedding model %s/%s failed: %s", m->provider, m->name,
             *err ? err : rg_rc_wire(rc)->message);
    return fail(j, why);
}

/* Parent-child documents are searched by their child chunks (Dify 7.5): the
 * children of a parent get their own terms and vectors, stored with it. */
static rg_rc index_children(job_ctx *j, rg_arena *a, const rg_embed_model *m,
                            rg_segment_index *parent)
{
    rg_child_chunk *kids;
    size_t n;
    RG_TRY(rg_store_child_chunk_list(j->s, a, parent->segment_id, &kids, &n));
    if (n == 0)
        return RG_OK;
    rg_segment_index *ci = rg_arena_calloc(a, n, sizeof *ci);
    rg_str *texts = rg_arena_alloc(a, n * sizeof *texts);
    for (size_t i = 0; i < n; i++) {
        texts[i] = rg_str_c(kids[i].content);
        ci[i].segment_id = kids[i].id;
        ci[i].terms = rg_keywords_terms(a, texts[i], &ci[i].terms_len, NULL);
    }
    if (m) {
        float *v = rg_arena_alloc(a, n * (size_t)m->dims * sizeof *v);
        char err[RG_EMBED_ERR_MAX] = "";
        embedded e;
        rg_rc rc = embed_cached(j, a, m, texts, n, v, &e, err);
        if (rc != RG_OK)
            return embed_failed(j, m, rc, err);
        for (size_t i = 0; i < n; i++) {
            ci[i].vector = v + i * (size_t)m->dims;
            ci[i].dims = m->dims;
            cache_item(&e, i, &ci[i]);
        }
    }
    parent->children = ci;
    parent->n_children = n;
    return RG_OK;
}

/* Indexes one batch of pending segments; *done is set when none were left. */
static rg_rc index_batch(job_ctx *j, const rg_embed_model *m, size_t batch, bool *done)
{
    rg_arena *a = rg_arena_new(BATCH_ARENA);
    rg_segment *segs;
    size_t n;
    rg_rc rc = rg_store_job_pending(j->s, a, j->job, batch, &segs, &n);
    *done = rc == RG_OK && n == 0;
    if (rc != RG_OK || n == 0) {
        rg_arena_free(a);
        return rc;
    }
    rg_segment_index *items = rg_arena_calloc(a, n, sizeof *items);
    float *vecs = NULL;
    embedded e = {0};
    if (m) {
        rg_str *texts = rg_arena_alloc(a, n * sizeof *texts);
        for (size_t i = 0; i < n; i++)
            texts[i] = rg_str_c(segs[i].content);
        vecs = rg_arena_alloc(a, n * (size_t)m->dims * sizeof *vecs);
        char err[RG_EMBED_ERR_MAX] = "";
        rc = embed_cached(j, a, m, texts, n, vecs, &e, err);
        if (rc != RG_OK) {
            rg_arena_free(a);
            return embed_failed(j, m, rc, err);
        }
    }
    for (size_t i = 0; i < n && rc == RG_OK; i++) {
        rg_segment_index *it = &items[i];
        it->segment_id = segs[i].id;
        int64_t tokens = 0;
        it->terms = rg_keywords_terms(a, rg_str_c(segs[i].content), &it->terms_len, &tokens);
        it->keywords = segs[i].keywords;
        if (m) { /* tokens is Dify's embedding-token count: 0 for economy */
            it->vector = vecs + i * (size_t)m->dims;
            it->dims = m->dims;
            it->tokens = tokens;
            cache_item(&e, i, it);
        }
        if (is_hierarchical(&j->doc))
            rc = index_children(j, a, m, it);
    }
    if (rc != RG_OK) {
        rg_arena_free(a);
        return rc;
    }
    rc = rg_store_job_indexed(j->s, j->job, items, n);
    rg_arena_free(a);
    return rc;
}

/* Sleeps up to ms, waking early when *stop is set. */
static void pause_ms(const atomic_bool *stop, int64_t ms)
{
    for (int64_t left = ms; left > 0 && !atomic_load(stop); left -= 50) {
        struct timespec ts = {0, (left < 50 ? left : 50) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static rg_rc index_pending(job_ctx *j, size_t batch, int64_t delay_ms)
{
    const rg_embed_model *m = NULL;
    if (!is_economy(&j->doc)) {
        const char *prov = j->doc.embedding_model_provider, *name = j->doc.embedding_model;
        m = (prov && name) ? rg_embed_find(prov, name) : rg_embed_default();
        if (!m) {
            char why[256];
            snprintf(why, sizeof why,
                     "embedding model %s/%s is not available on this server (provider not "
                     "initialized)",
                     prov ? prov : "?", name ? name : "?");
            return fail(j, why);
        }
    }
    for (;;) {
        if (delay_ms > 0)
            pause_ms(j->stop, delay_ms);
        if (atomic_load(j->stop))
            return RG_ECANCELED;
        bool done;
        RG_TRY(index_batch(j, m, batch, &done));
        if (done)
            return RG_OK;
    }
}

rg_rc rg_pipeline_run(rg_store *s, const rg_job *job, const rg_pipeline_opts *opt,
                      const atomic_bool *stop)
{
    job_ctx j = {.s = s, .job = job, .a = rg_arena_new(JOB_ARENA), .stop = stop};
    rg_rc rc = rg_store_job_document(s, j.a, job, &j.doc);
    if (rc == RG_OK && (j.doc.status < RG_DOC_INDEXING || j.doc.total_segments == 0))
        rc = prepare(&j);
    if (rc == RG_OK && !atomic_load(stop))
        rc = index_pending(&j, opt->batch ? opt->batch : RG_PIPELINE_BATCH, opt->delay_ms);
    if (atomic_load(stop) && (rc == RG_OK || rc == RG_ECANCELED)) {
        rg_arena_free(j.a);
        return RG_ECANCELED; /* left running: recovered at the next start */
    }
    bool paused = false;
    if (rc == RG_ECANCELED) { /* paused, deleted or taken over: which? */
        rg_document now;
        paused = rg_store_document_get(s, j.a, job->tenant_id, job->dataset_id, job->document_id,
                                       &now) == RG_OK &&
                 now.is_paused;
    } else if (rc != RG_OK && rc != RG_EINVAL) {
        (void)fail(&j, "internal error while indexing (see the server log)");
    }
    if (rg_store_job_finish(s, job, paused) != RG_OK)
        rg_warn("job %lld: could not be ended; it will be recovered", (long long)job->id);
    rg_arena_free(j.a);
    return RG_OK;
}
