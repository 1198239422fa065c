/*
 * store_int.h - private to src/store/: the engine vtable behind store.h.
 *
 * An engine defines its own handle struct whose first member is a struct
 * rg_store, so that a pointer to either converts to the other.  store.c owns
 * the public functions and does nothing but check common arguments and call
 * through s->ops; every engine detail (SQL dialect, connections, files) stays
 * in the engine's folder.  Nothing outside src/store/ may include this file.
 */
#ifndef RG_STORE_STORE_INT_H
#define RG_STORE_STORE_INT_H

#include "store/store.h"

typedef struct rg_store_ops rg_store_ops;

/* The head of every engine handle. */
struct rg_store {
    const rg_store_ops *ops;
};

/* One entry per public function of store.h except rg_store_open, which picks
 * the engine.  The contracts are those of store.h; arguments have already been
 * checked by store.c where the check does not depend on the engine. */
struct rg_store_ops {
    /* Closes every connection of every thread and frees the handle. */
    void (*close)(rg_store *s);
    /* Runs a trivial query on the calling thread's read connection. */
    rg_rc (*ping)(rg_store *s);
    /* Returns the engine's name, static storage. */
    const char *(*engine)(const rg_store *s);
    /* Finds the tenant named name or creates it; name is 1..RG_TENANT_NAME_MAX bytes. */
    rg_rc (*tenant_ensure)(rg_store *s, const char *name, rg_tenant *out);
    /* Stores a new key; RG_ECONFLICT on a hash (or id) clash. */
    rg_rc (*key_insert)(rg_store *s, const rg_key *k);
    /* Finds a key and its tenant by hash in one indexed query; RG_ENOTFOUND if none. */
    rg_rc (*key_find)(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN], rg_key *out);
    /* Key and optional dataset from one read transaction (see rg_store_auth). */
    rg_rc (*auth)(rg_store *s, rg_arena *arena, const unsigned char hash[RG_KEY_HASH_LEN],
                  const char *dataset_id, rg_key *key, rg_dataset *ds, rg_rc *ds_rc);
    /* Lists every key, oldest first, into an array allocated from arena. */
    rg_rc (*key_list)(rg_store *s, rg_arena *arena, rg_key **out, size_t *n);
    /* Deletes a key by hash; RG_ENOTFOUND if none. */
    rg_rc (*key_delete)(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN]);
    /* Counts the keys. */
    rg_rc (*key_count)(rg_store *s, int64_t *n);
    /* Inserts a dataset; RG_ENAMEDUP on a (tenant, name) clash. */
    rg_rc (*dataset_insert)(rg_store *s, const rg_dataset *d);
    /* Reads one dataset of a tenant, strings from arena; RG_ENOTFOUND if absent. */
    rg_rc (*dataset_get)(rg_store *s, rg_arena *arena, const char *tenant_id, const char *id,
                         rg_dataset *out);
    /* Reads one page and the total count from one consistent snapshot; q->offset and
     * q->limit are >= 0. */
    rg_rc (*dataset_list)(rg_store *s, rg_arena *arena, const rg_dataset_query *q,
                          rg_dataset **items, size_t *n, int64_t *total);
    /* Rewrites the mutable fields of a dataset; RG_ENAMEDUP, RG_ENOTFOUND. */
    rg_rc (*dataset_update)(rg_store *s, const rg_dataset *d, bool reindex);
    /* Deletes a dataset and what it owns (documents and their files included);
     * RG_ENOTFOUND if absent. */
    rg_rc (*dataset_delete)(rg_store *s, const char *tenant_id, const char *id);

    /* Moves a spool file into the upload area, durably; upload_id is a UUID. */
    rg_rc (*upload_adopt)(rg_store *s, const char *upload_id, const char *spool_path);
    /* Writes the path of an upload's file; upload_id is a UUID. */
    rg_rc (*upload_path)(rg_store *s, const char *upload_id, char *out, size_t outlen);
    /* The spool directory, owned by the handle. */
    const char *(*spool_dir)(const rg_store *s);

    /* Inserts a document with its upload row, process rule and queued job. */
    rg_rc (*document_insert)(rg_store *s, rg_document *d);
    /* Replaces a document's content and queues it again. */
    rg_rc (*document_replace)(rg_store *s, rg_document *d);
    /* Reads one document of a tenant's dataset. */
    rg_rc (*document_get)(rg_store *s, rg_arena *arena, const char *tenant_id,
                          const char *dataset_id, const char *id, rg_document *out);
    /* One page and the total from one snapshot; offset and limit are >= 0. */
    rg_rc (*document_list)(rg_store *s, rg_arena *arena, const rg_document_query *q,
                           rg_document **items, size_t *n, int64_t *total);
    /* The status fields of a batch's documents, in one query. */
    rg_rc (*document_batch_status)(rg_store *s, rg_arena *arena, const char *tenant_id,
                                   const char *dataset_id, const char *batch, rg_document **items,
                                   size_t *n);
    /* Deletes a document and everything it owns; its file after the commit. */
    rg_rc (*document_delete)(rg_store *s, const char *tenant_id, const char *dataset_id,
                             const char *id);
    /* Validates action on every document, then applies it to all in one transaction;
     * n >= 1 and why is not NULL. */
    rg_rc (*document_action)(rg_store *s, rg_arena *arena, const char *tenant_id,
                             const char *dataset_id, rg_doc_action action, const char *const *ids,
                             size_t n, const char *user_id, const char **why);
    /* One page of a document's segments; offset and limit are >= 0. */
    rg_rc (*segment_list)(rg_store *s, rg_arena *arena, const char *tenant_id,
                          const char *document_id, const char *keyword, const char *status,
                          int64_t offset, int64_t limit, rg_segment **items, size_t *n,
                          int64_t *total);
    /* The child chunks of a segment. */
    rg_rc (*child_chunk_list)(rg_store *s, rg_arena *arena, const char *segment_id,
                              rg_child_chunk **items, size_t *n);

    /* Running jobs back to queued (start-up). */
    rg_rc (*jobs_recover)(rg_store *s, int64_t *n);
    /* Claims the next job fairly; RG_ENOTFOUND when none is queued. */
    rg_rc (*job_claim)(rg_store *s, rg_job *out);
    /* Ends a running job as done or paused. */
    rg_rc (*job_finish)(rg_store *s, const rg_job *job, bool paused);
    /* The watchdog; stall_s >= 0. */
    rg_rc (*jobs_expire)(rg_store *s, int64_t stall_s, const char *reason, int64_t *n);
    /* Counts the queued jobs. */
    rg_rc (*jobs_queued)(rg_store *s, int64_t *n);
    /* The job-owned reads and writes; job->token is not 0. */
    rg_rc (*job_document)(rg_store *s, rg_arena *arena, const rg_job *job, rg_document *out);
    rg_rc (*job_stage)(rg_store *s, const rg_job *job, rg_doc_status to);
    /* n >= 1. */
    rg_rc (*job_segments)(rg_store *s, const rg_job *job, const rg_segment *segs, size_t n,
                          const rg_child_chunk *children, size_t n_children, int64_t word_count);
    /* limit >= 1. */
    rg_rc (*job_pending)(rg_store *s, rg_arena *arena, const rg_job *job, size_t limit,
                         rg_segment **items, size_t *n);
    rg_rc (*job_indexed)(rg_store *s, const rg_job *job, const rg_segment_index *items, size_t n);
    void (*embed_cache_limit)(rg_store *s, int64_t max_entries);
    rg_rc (*embed_cache_get)(rg_store *s, const char *model, int dims, const unsigned char *digests,
                             size_t n, float *out, bool *hit);
    rg_rc (*job_fail)(rg_store *s, const rg_job *job, const char *reason);

    /* Chunk editing; arguments are checked (n >= 1, contents set, index data
     * well formed).  Every row is matched by tenant: RG_ENOTFOUND otherwise. */
    rg_rc (*segment_get)(rg_store *s, rg_arena *arena, const char *tenant_id,
                         const char *document_id, const char *segment_id, rg_segment *out);
    rg_rc (*segments_add)(rg_store *s, const char *tenant_id, const char *document_id,
                          rg_segment *segs, const rg_segment_index *idx, size_t n);
    rg_rc (*segment_update)(rg_store *s, const char *tenant_id, const rg_segment *seg,
                            const rg_segment_index *idx);
    rg_rc (*segment_delete)(rg_store *s, const char *tenant_id, const char *document_id,
                            const char *segment_id);
    rg_rc (*child_chunk_add)(rg_store *s, const char *tenant_id, rg_child_chunk *c,
                             const rg_segment_index *idx);
    rg_rc (*segment_update_children)(rg_store *s, const char *tenant_id, const rg_segment *seg,
                                     const rg_segment_index *idx, const rg_child_chunk *kids,
                                     const rg_segment_index *kid_idx, size_t n);
    rg_rc (*child_chunk_update)(rg_store *s, const char *tenant_id, const rg_child_chunk *c,
                                const rg_segment_index *idx);
    rg_rc (*child_chunk_delete)(rg_store *s, const char *tenant_id, const char *segment_id,
                                const char *child_id);

    /* Tags and metadata fields (store.h); strings checked non-NULL, n >= 1. */
    rg_rc (*tag_insert)(rg_store *s, const char *tenant_id, const rg_tag *t);
    rg_rc (*tag_list)(rg_store *s, rg_arena *arena, const char *tenant_id, const char *keyword,
                      rg_tag **items, size_t *n);
    rg_rc (*tag_rename)(rg_store *s, rg_arena *arena, const char *tenant_id, const char *id,
                        const char *name, rg_tag *out);
    rg_rc (*tag_delete)(rg_store *s, const char *tenant_id, const char *id);
    rg_rc (*tag_bind)(rg_store *s, const char *tenant_id, const char *const *tag_ids, size_t n,
                      const char *dataset_id, bool bind);
    rg_rc (*metadata_insert)(rg_store *s, const char *tenant_id, const rg_metadata_field *m);
    rg_rc (*metadata_list)(rg_store *s, rg_arena *arena, const char *tenant_id,
                           const char *dataset_id, rg_metadata_field **items, size_t *n);
    rg_rc (*metadata_rename)(rg_store *s, rg_arena *arena, const char *tenant_id,
                             const char *dataset_id, const char *id, const char *name,
                             rg_metadata_field *out);
    rg_rc (*metadata_delete)(rg_store *s, const char *tenant_id, const char *dataset_id,
                             const char *id);
    rg_rc (*metadata_builtin)(rg_store *s, const char *tenant_id, const char *dataset_id,
                              bool enabled);
    rg_rc (*document_metadata_set)(rg_store *s, const char *tenant_id, const char *dataset_id,
                                   const char *const *doc_ids, const char *const *values, size_t n,
                                   size_t *bad);
    rg_rc (*document_metadata_all)(rg_store *s, rg_arena *arena, const char *tenant_id,
                                   const char *dataset_id, rg_doc_meta **items, size_t *n);

    /* The dataset's index version in one indexed read. */
    rg_rc (*index_version)(rg_store *s, const char *tenant_id, const char *dataset_id,
                           int64_t *version);
    /* Streams the searchable units from one read snapshot; *version is 0 on entry. */
    rg_rc (*index_scan)(rg_store *s, const char *tenant_id, const char *dataset_id,
                        int64_t *version, rg_rc (*fn)(const rg_index_row *row, void *arg),
                        void *arg);

    rg_rc (*index_scan_changes)(rg_store *s, const char *tenant_id, const char *dataset_id,
                                int64_t since, int64_t *version,
                                rg_rc (*changed)(const char *document_id, void *arg),
                                rg_rc (*fn)(const rg_index_row *row, void *arg), void *arg);
    rg_rc (*index_log_trim)(rg_store *s, const char *tenant_id, const char *dataset_id,
                            int64_t upto);

    /* Recomputes the maintained counters and compares. */
    rg_rc (*check)(rg_store *s, rg_arena *arena, const char **why);
};

/* The SQLite engine: opens (creating data_dir and <data_dir>/ragd.db if needed)
 * and migrates.  On success *out is a new handle, freed by its ops->close. */
RG_WUR rg_rc rg_sqlite_open(const char *data_dir, rg_store **out);

#endif
