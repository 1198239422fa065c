/*
 * store.c - the public storage functions: pick an engine, then dispatch.
 *
 * Each rg_store_* function checks what every engine would check the same way
 * (argument ranges, string lengths) and calls through s->ops.  Nothing here
 * knows SQL or files: rg_store_open chooses the engine from the location
 * string (a directory means SQLite; a postgres:// URI is reserved for the
 * PostgreSQL engine, which will plug in behind the same rg_store_ops).
 */
#include "store/store_int.h"

#include "core/log.h"
#include "core/str.h"

#include <string.h>

static bool has_prefix(const char *z, const char *prefix)
{
    return strncmp(z, prefix, strlen(prefix)) == 0;
}

rg_rc rg_store_open(const char *data_dir, rg_store **out)
{
    RG_ASSERT(data_dir && out);
    *out = NULL;
    if (!*data_dir) {
        rg_error("store: empty data location");
        return RG_EINVAL;
    }
    if (has_prefix(data_dir, "postgres://") || has_prefix(data_dir, "postgresql://")) {
        rg_error("store: the PostgreSQL engine is not available in this build");
        return RG_EINVAL;
    }
    rg_rc rc = rg_sqlite_open(data_dir, out);
    RG_ASSERT(rc != RG_OK || (*out && (*out)->ops));
    return rc;
}

void rg_store_close(rg_store *s)
{
    if (s)
        s->ops->close(s);
}

rg_rc rg_store_ping(rg_store *s)
{
    return s->ops->ping(s);
}

const char *rg_store_engine(const rg_store *s)
{
    return s->ops->engine(s);
}

rg_rc rg_store_tenant_ensure(rg_store *s, const char *name, rg_tenant *out)
{
    RG_ASSERT(name && out);
    size_t len = strlen(name);
    if (len == 0 || len > RG_TENANT_NAME_MAX)
        return RG_EINVAL;
    return s->ops->tenant_ensure(s, name, out);
}

rg_rc rg_store_key_insert(rg_store *s, const rg_key *k)
{
    RG_ASSERT(k);
    return s->ops->key_insert(s, k);
}

rg_rc rg_store_auth(rg_store *s, rg_arena *arena, const unsigned char hash[RG_KEY_HASH_LEN],
                    const char *dataset_id, rg_key *key, rg_dataset *ds, rg_rc *ds_rc)
{
    *ds_rc = RG_ENOTFOUND;
    return s->ops->auth(s, arena, hash, dataset_id, key, ds, ds_rc);
}

rg_rc rg_store_key_find(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN], rg_key *out)
{
    RG_ASSERT(hash && out);
    return s->ops->key_find(s, hash, out);
}

rg_rc rg_store_key_list(rg_store *s, rg_arena *arena, rg_key **out, size_t *n)
{
    RG_ASSERT(arena && out && n);
    return s->ops->key_list(s, arena, out, n);
}

rg_rc rg_store_key_delete(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN])
{
    RG_ASSERT(hash);
    return s->ops->key_delete(s, hash);
}

rg_rc rg_store_key_count(rg_store *s, int64_t *n)
{
    RG_ASSERT(n);
    return s->ops->key_count(s, n);
}

rg_rc rg_store_dataset_insert(rg_store *s, const rg_dataset *d)
{
    RG_ASSERT(d);
    return s->ops->dataset_insert(s, d);
}

rg_rc rg_store_dataset_get(rg_store *s, rg_arena *arena, const char *tenant_id, const char *id,
                           rg_dataset *out)
{
    RG_ASSERT(arena && tenant_id && id && out);
    return s->ops->dataset_get(s, arena, tenant_id, id, out);
}

rg_rc rg_store_dataset_list(rg_store *s, rg_arena *arena, const rg_dataset_query *q,
                            rg_dataset **items, size_t *n, int64_t *total)
{
    RG_ASSERT(arena && q && q->tenant_id && items && n && total);
    RG_ASSERT(q->n_tag_ids == 0 || q->tag_ids);
    *items = NULL;
    *n = 0;
    *total = 0;
    if (q->offset < 0 || q->limit < 0)
        return RG_EINVAL;
    return s->ops->dataset_list(s, arena, q, items, n, total);
}

rg_rc rg_store_dataset_update(rg_store *s, const rg_dataset *d)
{
    RG_ASSERT(d);
    return s->ops->dataset_update(s, d, false);
}

rg_rc rg_store_dataset_update_reindex(rg_store *s, const rg_dataset *d)
{
    RG_ASSERT(d);
    return s->ops->dataset_update(s, d, true);
}

rg_rc rg_store_dataset_delete(rg_store *s, const char *tenant_id, const char *id)
{
    RG_ASSERT(tenant_id && id);
    return s->ops->dataset_delete(s, tenant_id, id);
}

/* --- tags and metadata fields ------------------------------------------------ */

rg_rc rg_store_tag_insert(rg_store *s, const char *tenant_id, const rg_tag *t)
{
    RG_ASSERT(tenant_id && t && t->name);
    return s->ops->tag_insert(s, tenant_id, t);
}

rg_rc rg_store_tag_list(rg_store *s, rg_arena *arena, const char *tenant_id, const char *keyword,
                        rg_tag **items, size_t *n)
{
    RG_ASSERT(arena && tenant_id && items && n);
    *items = NULL;
    *n = 0;
    return s->ops->tag_list(s, arena, tenant_id, keyword, items, n);
}

rg_rc rg_store_tag_rename(rg_store *s, rg_arena *arena, const char *tenant_id, const char *id,
                          const char *name, rg_tag *out)
{
    RG_ASSERT(arena && tenant_id && id && name && out);
    return s->ops->tag_rename(s, arena, tenant_id, id, name, out);
}

rg_rc rg_store_tag_delete(rg_store *s, const char *tenant_id, const char *id)
{
    RG_ASSERT(tenant_id && id);
    return s->ops->tag_delete(s, tenant_id, id);
}

rg_rc rg_store_tag_bind(rg_store *s, const char *tenant_id, const char *const *tag_ids, size_t n,
                        const char *dataset_id)
{
    RG_ASSERT(tenant_id && dataset_id && (n == 0 || tag_ids));
    return s->ops->tag_bind(s, tenant_id, tag_ids, n, dataset_id, true);
}

rg_rc rg_store_tag_unbind(rg_store *s, const char *tenant_id, const char *const *tag_ids, size_t n,
                          const char *dataset_id)
{
    RG_ASSERT(tenant_id && dataset_id && (n == 0 || tag_ids));
    return s->ops->tag_bind(s, tenant_id, tag_ids, n, dataset_id, false);
}

rg_rc rg_store_metadata_insert(rg_store *s, const char *tenant_id, const rg_metadata_field *m)
{
    RG_ASSERT(tenant_id && m && m->name && m->type);
    return s->ops->metadata_insert(s, tenant_id, m);
}

rg_rc rg_store_metadata_list(rg_store *s, rg_arena *arena, const char *tenant_id,
                             const char *dataset_id, rg_metadata_field **items, size_t *n)
{
    RG_ASSERT(arena && tenant_id && dataset_id && items && n);
    *items = NULL;
    *n = 0;
    return s->ops->metadata_list(s, arena, tenant_id, dataset_id, items, n);
}

rg_rc rg_store_metadata_rename(rg_store *s, rg_arena *arena, const char *tenant_id,
                               const char *dataset_id, const char *id, const char *name,
                               rg_metadata_field *out)
{
    RG_ASSERT(arena && tenant_id && dataset_id && id && name && out);
    return s->ops->metadata_rename(s, arena, tenant_id, dataset_id, id, name, out);
}

rg_rc rg_store_metadata_delete(rg_store *s, const char *tenant_id, const char *dataset_id,
                               const char *id)
{
    RG_ASSERT(tenant_id && dataset_id && id);
    return s->ops->metadata_delete(s, tenant_id, dataset_id, id);
}

rg_rc rg_store_metadata_builtin(rg_store *s, const char *tenant_id, const char *dataset_id,
                                bool enabled)
{
    RG_ASSERT(tenant_id && dataset_id);
    return s->ops->metadata_builtin(s, tenant_id, dataset_id, enabled);
}

rg_rc rg_store_document_metadata_set(rg_store *s, const char *tenant_id, const char *dataset_id,
                                     const char *const *doc_ids, const char *const *values,
                                     size_t n, size_t *bad)
{
    RG_ASSERT(tenant_id && dataset_id && bad && (n == 0 || (doc_ids && values)));
    *bad = 0;
    if (n == 0)
        return RG_OK;
    return s->ops->document_metadata_set(s, tenant_id, dataset_id, doc_ids, values, n, bad);
}

rg_rc rg_store_document_metadata_all(rg_store *s, rg_arena *arena, const char *tenant_id,
                                     const char *dataset_id, rg_doc_meta **items, size_t *n)
{
    RG_ASSERT(arena && tenant_id && dataset_id && items && n);
    *items = NULL;
    *n = 0;
    return s->ops->document_metadata_all(s, arena, tenant_id, dataset_id, items, n);
}

/* --- uploads ---------------------------------------------------------------- */

/* An upload id becomes a file name: only a UUID may, so it can never form another path. */
static bool upload_id_ok(const char *id)
{
    return rg_str_is_uuid(rg_str_c(id));
}

rg_rc rg_store_upload_adopt(rg_store *s, const char *upload_id, const char *spool_path)
{
    RG_ASSERT(upload_id && spool_path);
    if (!upload_id_ok(upload_id) || !*spool_path)
        return RG_EINVAL;
    return s->ops->upload_adopt(s, upload_id, spool_path);
}

rg_rc rg_store_upload_path(rg_store *s, const char *upload_id, char *out, size_t outlen)
{
    RG_ASSERT(upload_id && out && outlen > 0);
    out[0] = '\0';
    if (!upload_id_ok(upload_id))
        return RG_EINVAL;
    return s->ops->upload_path(s, upload_id, out, outlen);
}

const char *rg_store_spool_dir(const rg_store *s)
{
    return s->ops->spool_dir(s);
}

/* --- documents ---------------------------------------------------------------- */

/* What insert and replace need from d whatever the engine. */
static bool document_writable(const rg_document *d)
{
    return d->name && d->process_rule && d->doc_form && upload_id_ok(d->upload.id) &&
           d->upload.name;
}

rg_rc rg_store_document_insert(rg_store *s, rg_document *d)
{
    RG_ASSERT(d);
    if (!document_writable(d) || !d->created_by)
        return RG_EINVAL;
    return s->ops->document_insert(s, d);
}

rg_rc rg_store_document_replace(rg_store *s, rg_document *d)
{
    RG_ASSERT(d);
    if (!document_writable(d))
        return RG_EINVAL;
    return s->ops->document_replace(s, d);
}

rg_rc rg_store_document_get(rg_store *s, rg_arena *arena, const char *tenant_id,
                            const char *dataset_id, const char *id, rg_document *out)
{
    RG_ASSERT(arena && tenant_id && dataset_id && id && out);
    return s->ops->document_get(s, arena, tenant_id, dataset_id, id, out);
}

rg_rc rg_store_document_list(rg_store *s, rg_arena *arena, const rg_document_query *q,
                             rg_document **items, size_t *n, int64_t *total)
{
    RG_ASSERT(arena && q && q->tenant_id && q->dataset_id && items && n && total);
    *items = NULL;
    *n = 0;
    *total = 0;
    if (q->offset < 0 || q->limit < 0)
        return RG_EINVAL;
    return s->ops->document_list(s, arena, q, items, n, total);
}

rg_rc rg_store_document_batch_status(rg_store *s, rg_arena *arena, const char *tenant_id,
                                     const char *dataset_id, const char *batch, rg_document **items,
                                     size_t *n)
{
    RG_ASSERT(arena && tenant_id && dataset_id && batch && items && n);
    *items = NULL;
    *n = 0;
    return s->ops->document_batch_status(s, arena, tenant_id, dataset_id, batch, items, n);
}

rg_rc rg_store_document_delete(rg_store *s, const char *tenant_id, const char *dataset_id,
                               const char *id)
{
    RG_ASSERT(tenant_id && dataset_id && id);
    return s->ops->document_delete(s, tenant_id, dataset_id, id);
}

rg_rc rg_store_document_action(rg_store *s, rg_arena *arena, const char *tenant_id,
                               const char *dataset_id, rg_doc_action action, const char *const *ids,
                               size_t n, const char *user_id, const char **why)
{
    RG_ASSERT(arena && tenant_id && dataset_id && why && (n == 0 || ids));
    RG_ASSERT(action >= RG_DOC_ENABLE && action <= RG_DOC_RETRY);
    *why = NULL;
    if (n == 0)
        return RG_OK;
    for (size_t i = 0; i < n; i++)
        RG_ASSERT(ids[i]);
    return s->ops->document_action(s, arena, tenant_id, dataset_id, action, ids, n, user_id, why);
}

/* --- segments ------------------------------------------------------------------- */

rg_rc rg_store_segment_list(rg_store *s, rg_arena *arena, const char *tenant_id,
                            const char *document_id, const char *keyword, const char *status,
                            int64_t offset, int64_t limit, rg_segment **items, size_t *n,
                            int64_t *total)
{
    RG_ASSERT(arena && tenant_id && document_id && items && n && total);
    *items = NULL;
    *n = 0;
    *total = 0;
    if (offset < 0 || limit < 0)
        return RG_EINVAL;
    return s->ops->segment_list(s, arena, tenant_id, document_id, keyword, status, offset, limit,
                                items, n, total);
}

rg_rc rg_store_child_chunk_list(rg_store *s, rg_arena *arena, const char *segment_id,
                                rg_child_chunk **items, size_t *n)
{
    RG_ASSERT(arena && segment_id && items && n);
    *items = NULL;
    *n = 0;
    return s->ops->child_chunk_list(s, arena, segment_id, items, n);
}

/* --- jobs --------------------------------------------------------------------------- */

rg_rc rg_store_jobs_recover(rg_store *s, int64_t *n)
{
    RG_ASSERT(n);
    *n = 0;
    return s->ops->jobs_recover(s, n);
}

rg_rc rg_store_job_claim(rg_store *s, rg_job *out)
{
    RG_ASSERT(out);
    memset(out, 0, sizeof *out);
    return s->ops->job_claim(s, out);
}

rg_rc rg_store_job_finish(rg_store *s, const rg_job *job, bool paused)
{
    RG_ASSERT(job);
    return s->ops->job_finish(s, job, paused);
}

rg_rc rg_store_jobs_expire(rg_store *s, int64_t stall_s, const char *reason, int64_t *n)
{
    RG_ASSERT(reason && n);
    *n = 0;
    if (stall_s < 0)
        return RG_EINVAL;
    return s->ops->jobs_expire(s, stall_s, reason, n);
}

rg_rc rg_store_jobs_queued(rg_store *s, int64_t *n)
{
    RG_ASSERT(n);
    *n = 0;
    return s->ops->jobs_queued(s, n);
}

/* --- job-owned reads and writes: token 0 never owns anything ---------------------- */

rg_rc rg_store_job_document(rg_store *s, rg_arena *arena, const rg_job *job, rg_document *out)
{
    RG_ASSERT(arena && job && out);
    memset(out, 0, sizeof *out);
    if (job->token == 0)
        return RG_ECANCELED;
    return s->ops->job_document(s, arena, job, out);
}

rg_rc rg_store_job_stage(rg_store *s, const rg_job *job, rg_doc_status to)
{
    RG_ASSERT(job);
    if (job->token == 0)
        return RG_ECANCELED;
    if (to < RG_DOC_PARSING || to > RG_DOC_INDEXING)
        return RG_EINVAL; /* waiting, completed and error have functions of their own */
    return s->ops->job_stage(s, job, to);
}

rg_rc rg_store_job_segments(rg_store *s, const rg_job *job, const rg_segment *segs, size_t n,
                            const rg_child_chunk *children, size_t n_children, int64_t word_count)
{
    RG_ASSERT(job && (n == 0 || segs) && (n_children == 0 || children));
    if (job->token == 0)
        return RG_ECANCELED;
    if (n == 0 || word_count < 0)
        return RG_EINVAL; /* a document without segments is failed, never indexed */
    return s->ops->job_segments(s, job, segs, n, children, n_children, word_count);
}

rg_rc rg_store_job_pending(rg_store *s, rg_arena *arena, const rg_job *job, size_t limit,
                           rg_segment **items, size_t *n)
{
    RG_ASSERT(arena && job && items && n);
    *items = NULL;
    *n = 0;
    if (job->token == 0)
        return RG_ECANCELED;
    if (limit == 0 || limit > INT64_MAX)
        return RG_EINVAL;
    return s->ops->job_pending(s, arena, job, limit, items, n);
}

rg_rc rg_store_job_indexed(rg_store *s, const rg_job *job, const rg_segment_index *items, size_t n)
{
    RG_ASSERT(job && (n == 0 || items));
    if (job->token == 0)
        return RG_ECANCELED;
    for (size_t i = 0; i < n; i++) {
        const rg_segment_index *it = &items[i];
        if (!it->segment_id || it->dims < 0 || (it->vector && it->dims == 0) ||
            (it->terms_len > 0 && !it->terms) || it->tokens < 0)
            return RG_EINVAL;
    }
    return s->ops->job_indexed(s, job, items, n);
}

void rg_store_embed_cache_limit(rg_store *s, int64_t max_entries)
{
    s->ops->embed_cache_limit(s, max_entries < 0 ? 0 : max_entries);
}

rg_rc rg_store_embed_cache_get(rg_store *s, const char *model, int dims,
                               const unsigned char *digests, size_t n, float *out, bool *hit)
{
    RG_ASSERT(model && (n == 0 || (digests && out && hit)));
    if (dims <= 0)
        return RG_EINVAL;
    return s->ops->embed_cache_get(s, model, dims, digests, n, out, hit);
}

rg_rc rg_store_job_fail(rg_store *s, const rg_job *job, const char *reason)
{
    RG_ASSERT(job && reason);
    if (job->token == 0)
        return RG_ECANCELED;
    return s->ops->job_fail(s, job, reason);
}

/* --- chunk editing ---------------------------------------------------------------------- */

/* Index data as every engine stores it: a vector has dims > 0 floats, terms
 * with a length have bytes, counts are not negative.  segment_id is not
 * looked at (the row it goes with names the unit). */
static bool index_ok(const rg_segment_index *it)
{
    return !it || (it->dims >= 0 && (!it->vector || it->dims > 0) &&
                   (it->terms_len == 0 || it->terms) && it->tokens >= 0);
}

static bool segment_ok(const rg_segment *g)
{
    return g->id[0] && g->content && g->word_count >= 0 && g->tokens >= 0;
}

static bool child_ok(const rg_child_chunk *c)
{
    return c->id[0] && c->segment_id[0] && c->content && c->word_count >= 0;
}

rg_rc rg_store_segment_get(rg_store *s, rg_arena *arena, const char *tenant_id,
                           const char *document_id, const char *segment_id, rg_segment *out)
{
    RG_ASSERT(arena && tenant_id && document_id && segment_id && out);
    memset(out, 0, sizeof *out);
    return s->ops->segment_get(s, arena, tenant_id, document_id, segment_id, out);
}

rg_rc rg_store_segments_add(rg_store *s, const char *tenant_id, const char *document_id,
                            rg_segment *segs, const rg_segment_index *idx, size_t n)
{
    RG_ASSERT(tenant_id && document_id && (n == 0 || segs));
    if (n == 0)
        return RG_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!segment_ok(&segs[i]) || (idx && !index_ok(&idx[i])))
            return RG_EINVAL;
    return s->ops->segments_add(s, tenant_id, document_id, segs, idx, n);
}

rg_rc rg_store_segment_update(rg_store *s, const char *tenant_id, const rg_segment *seg,
                              const rg_segment_index *idx)
{
    RG_ASSERT(tenant_id && seg);
    if (!segment_ok(seg) || !seg->document_id[0] || !index_ok(idx))
        return RG_EINVAL;
    return s->ops->segment_update(s, tenant_id, seg, idx);
}

rg_rc rg_store_segment_update_children(rg_store *s, const char *tenant_id, const rg_segment *seg,
                                       const rg_segment_index *idx, const rg_child_chunk *kids,
                                       const rg_segment_index *kid_idx, size_t n)
{
    RG_ASSERT(tenant_id && seg && (n == 0 || kids));
    if (!segment_ok(seg) || !seg->document_id[0] || !index_ok(idx))
        return RG_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!kids[i].id[0] || !kids[i].content || strcmp(kids[i].segment_id, seg->id) != 0 ||
            (kid_idx && !index_ok(&kid_idx[i])))
            return RG_EINVAL;
    return s->ops->segment_update_children(s, tenant_id, seg, idx, kids, kid_idx, n);
}

rg_rc rg_store_segment_delete(rg_store *s, const char *tenant_id, const char *document_id,
                              const char *segment_id)
{
    RG_ASSERT(tenant_id && document_id && segment_id);
    return s->ops->segment_delete(s, tenant_id, document_id, segment_id);
}

rg_rc rg_store_child_chunk_add(rg_store *s, const char *tenant_id, rg_child_chunk *c,
                               const rg_segment_index *idx)
{
    RG_ASSERT(tenant_id && c);
    if (!child_ok(c) || !index_ok(idx))
        return RG_EINVAL;
    return s->ops->child_chunk_add(s, tenant_id, c, idx);
}

rg_rc rg_store_child_chunk_update(rg_store *s, const char *tenant_id, const rg_child_chunk *c,
                                  const rg_segment_index *idx)
{
    RG_ASSERT(tenant_id && c);
    if (!child_ok(c) || !index_ok(idx))
        return RG_EINVAL;
    return s->ops->child_chunk_update(s, tenant_id, c, idx);
}

rg_rc rg_store_child_chunk_delete(rg_store *s, const char *tenant_id, const char *segment_id,
                                  const char *child_id)
{
    RG_ASSERT(tenant_id && segment_id && child_id);
    return s->ops->child_chunk_delete(s, tenant_id, segment_id, child_id);
}

/* --- what search reads ------------------------------------------------------------------- */

rg_rc rg_store_index_version(rg_store *s, const char *tenant_id, const char *dataset_id,
                             int64_t *version)
{
    RG_ASSERT(tenant_id && dataset_id && version);
    *version = 0;
    return s->ops->index_version(s, tenant_id, dataset_id, version);
}

rg_rc rg_store_index_scan(rg_store *s, const char *tenant_id, const char *dataset_id,
                          int64_t *version, rg_rc (*fn)(const rg_index_row *row, void *arg),
                          void *arg)
{
    RG_ASSERT(tenant_id && dataset_id && version && fn);
    *version = 0;
    return s->ops->index_scan(s, tenant_id, dataset_id, version, fn, arg);
}

rg_rc rg_store_index_scan_changes(rg_store *s, const char *tenant_id, const char *dataset_id,
                                  int64_t since, int64_t *version,
                                  rg_rc (*changed)(const char *document_id, void *arg),
                                  rg_rc (*fn)(const rg_index_row *row, void *arg), void *arg)
{
    RG_ASSERT(tenant_id && dataset_id && version && changed && fn);
    *version = 0;
    return s->ops->index_scan_changes(s, tenant_id, dataset_id, since, version, changed, fn, arg);
}

rg_rc rg_store_index_log_trim(rg_store *s, const char *tenant_id, const char *dataset_id,
                              int64_t upto)
{
    RG_ASSERT(tenant_id && dataset_id);
    return s->ops->index_log_trim(s, tenant_id, dataset_id, upto);
}

/* --- consistency ---------------------------------------------------------------------- */

rg_rc rg_store_check(rg_store *s, rg_arena *arena, const char **why)
{
    RG_ASSERT(arena && why);
    *why = NULL;
    return s->ops->check(s, arena, why);
}
