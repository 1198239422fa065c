/*
 * store.h - the storage interface.  Nothing above store/ writes SQL.
 *
 * The store is an opaque handle with an engine behind it (SQLite today,
 * PostgreSQL later, same functions).  Every function is safe to call from any
 * thread.  Reads use a connection of the calling thread; writes are
 * serialised.  A function that fills a struct with strings takes the arena
 * that will own them.  Rows of one tenant are invisible to every other: every
 * lookup of a tenant-owned row takes the tenant id.
 *
 * Committed means durable: a function that returned RG_OK has its effect on
 * disk, and survives kill -9 of the process.
 */
#ifndef RG_STORE_STORE_H
#define RG_STORE_STORE_H

#include "core/arena.h"
#include "core/common.h"
#include "domain/dataset.h"
#include "domain/document.h"
#include "domain/tenant.h"

typedef struct rg_store rg_store;

/* Opens (creating if needed) the store in data_dir and migrates its schema.
 * On success *out is a new handle; close it with rg_store_close. */
RG_WUR rg_rc rg_store_open(const char *data_dir, rg_store **out);
/* Closes every connection of every thread.  No call may be in flight. */
void rg_store_close(rg_store *s);
/* Cheap liveness check of the calling thread's read connection. */
RG_WUR rg_rc rg_store_ping(rg_store *s);
/* Name of the engine ("sqlite"), static storage. */
const char *rg_store_engine(const rg_store *s);

/* --- tenants and keys --------------------------------------------------- */

/* Finds the tenant named name, creating it (with a new owner id) if absent. */
RG_WUR rg_rc rg_store_tenant_ensure(rg_store *s, const char *name, rg_tenant *out);
/* Stores a new key (k->tenant.id must exist).  RG_ECONFLICT on a hash clash. */
RG_WUR rg_rc rg_store_key_insert(rg_store *s, const rg_key *k);
/* Finds the key with this hash, filling its tenant.  RG_ENOTFOUND if none. */
RG_WUR rg_rc rg_store_key_find(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN], rg_key *out);
/* Authenticates in one read: finds the key with this hash (RG_ENOTFOUND if
 * none) and, when dataset_id is not NULL, reads that dataset of the key's
 * tenant into *ds (strings in arena), setting *ds_rc to RG_OK or RG_ENOTFOUND.
 * The same as rg_store_key_find then rg_store_dataset_get, from one snapshot
 * and at the cost of one read transaction (this runs on every request). */
RG_WUR rg_rc rg_store_auth(rg_store *s, rg_arena *arena, const unsigned char hash[RG_KEY_HASH_LEN],
                           const char *dataset_id, rg_key *key, rg_dataset *ds, rg_rc *ds_rc);
/* Lists every key, oldest first, into an array owned by arena. */
RG_WUR rg_rc rg_store_key_list(rg_store *s, rg_arena *arena, rg_key **out, size_t *n);
/* Deletes the key with this hash.  RG_ENOTFOUND if none. */
RG_WUR rg_rc rg_store_key_delete(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN]);
/* Number of keys in the store. */
RG_WUR rg_rc rg_store_key_count(rg_store *s, int64_t *n);

/* --- datasets ----------------------------------------------------------- */

typedef struct rg_dataset_query {
    const char *tenant_id;
    const char *keyword;        /* nullable: case-insensitive substring of the name */
    const char *const *tag_ids; /* nullable: a dataset must carry every tag */
    size_t n_tag_ids;
    int64_t offset, limit;
} rg_dataset_query;

/* Inserts d (id, tenant, timestamps set by the caller).  RG_ENAMEDUP when the
 * tenant already has a dataset of that name. */
RG_WUR rg_rc rg_store_dataset_insert(rg_store *s, const rg_dataset *d);
/* Reads one dataset of the tenant into *out, strings owned by arena.
 * RG_ENOTFOUND when it does not exist in that tenant. */
RG_WUR rg_rc rg_store_dataset_get(rg_store *s, rg_arena *arena, const char *tenant_id,
                                  const char *id, rg_dataset *out);
/* Reads one page of the tenant's datasets, newest first, and the total count
 * of matches.  The array and its strings are owned by arena. */
RG_WUR rg_rc rg_store_dataset_list(rg_store *s, rg_arena *arena, const rg_dataset_query *q,
                                   rg_dataset **items, size_t *n, int64_t *total);
/* Replaces the stored fields of d (matched by tenant and id); counters are
 * not written.  RG_ENAMEDUP on a name clash, RG_ENOTFOUND if absent. */
RG_WUR rg_rc rg_store_dataset_update(rg_store *s, const rg_dataset *d);
/* rg_store_dataset_update, and in the same transaction every document of the
 * dataset takes the dataset's indexing technique and embedding model and is
 * indexed again through the normal pipeline (for a changed model or
 * technique): documents that were completed or on their way go back to
 * status indexing (their chunks kept, re-embedded; completed_segments from 0;
 * not searchable until done), those in progress restart with a new job; a
 * paused or failed document takes the new model when resumed or retried. */
RG_WUR rg_rc rg_store_dataset_update_reindex(rg_store *s, const rg_dataset *d);
/* Deletes the dataset and everything it owns.  RG_ENOTFOUND if absent. */
RG_WUR rg_rc rg_store_dataset_delete(rg_store *s, const char *tenant_id, const char *id);

/* --- uploads: the original bytes of every document ----------------------- */

/* Moves the finished file at spool_path (same file system, written by the
 * caller) into the store's upload area under upload_id, durably (fsync of the
 * file and the directory).  The spool file is gone on success.  RG_EINVAL
 * unless upload_id is a UUID; RG_ECONFLICT if that upload exists already. */
RG_WUR rg_rc rg_store_upload_adopt(rg_store *s, const char *upload_id, const char *spool_path);
/* Writes the path of an upload's bytes into out (for reading only); RG_EINVAL
 * unless upload_id is a UUID and the path fits. */
RG_WUR rg_rc rg_store_upload_path(rg_store *s, const char *upload_id, char *out, size_t outlen);
/* A directory on the store's file system where callers may create spool
 * files that rg_store_upload_adopt can rename into place (owned by the handle).
 * Files left there for an hour are removed when a store is opened. */
const char *rg_store_spool_dir(const rg_store *s);

/* --- documents ------------------------------------------------------------ */

typedef struct rg_document_query {
    const char *tenant_id, *dataset_id;
    const char *keyword; /* nullable: case-insensitive substring of the name */
    const char *status;  /* nullable: a display_status to filter on */
    int64_t offset, limit;
} rg_document_query;

/* Inserts a new document (d->upload already adopted, d->status waiting) with
 * its upload row and a queued indexing job, in one transaction.  The store
 * assigns d->position (max + 1 in the dataset) and the process rule id, and
 * sets the dataset's doc_form, data_source_type and indexing_technique when
 * they are still unset; the dataset's counters follow.  RG_ENOTFOUND when the
 * dataset is gone. */
RG_WUR rg_rc rg_store_document_insert(rg_store *s, rg_document *d);
/* Replaces a document's content (update-by-text / -file): new upload, name,
 * process rule, doc_form, doc_language and batch (kept when d->batch is
 * empty) from d; status back to waiting with every stage timestamp, error,
 * counter, pause and segment cleared; a new job queued; an earlier job of the
 * document is cancelled.  The old upload's row and file go unless d keeps the
 * same upload id.  RG_ENOTFOUND when absent. */
RG_WUR rg_rc rg_store_document_replace(rg_store *s, rg_document *d);
/* Reads one document (all fields, including its upload) into *out. */
RG_WUR rg_rc rg_store_document_get(rg_store *s, rg_arena *arena, const char *tenant_id,
                                   const char *dataset_id, const char *id, rg_document *out);
/* One page of a dataset's documents (position descending, as Dify) and the total.
 * status filters as Dify's display_status (case-insensitive, "active" and
 * "enabled" mean "available", an unknown one is ignored). */
RG_WUR rg_rc rg_store_document_list(rg_store *s, rg_arena *arena, const rg_document_query *q,
                                    rg_document **items, size_t *n, int64_t *total);
/* The indexing status of every document of a batch: one query, whatever the
 * batch size; only id, status, is_paused, the stage timestamps, error and the
 * two counters are filled.  *n == 0 when the batch does not exist. */
RG_WUR rg_rc rg_store_document_batch_status(rg_store *s, rg_arena *arena, const char *tenant_id,
                                            const char *dataset_id, const char *batch,
                                            rg_document **items, size_t *n);
/* Deletes a document with its segments, child chunks, index data and job,
 * and its upload (the file is removed after the commit).  A worker busy on it
 * sees RG_ECANCELED at its next write.  RG_ENOTFOUND when absent. */
RG_WUR rg_rc rg_store_document_delete(rg_store *s, const char *tenant_id, const char *dataset_id,
                                      const char *id);

typedef enum rg_doc_action {
    RG_DOC_ENABLE,
    RG_DOC_DISABLE,
    RG_DOC_ARCHIVE,
    RG_DOC_UN_ARCHIVE,
    RG_DOC_PAUSE,
    RG_DOC_RESUME,
    RG_DOC_RETRY,
} rg_doc_action;

/* Applies action to each listed document of the dataset, all or nothing.
 * Rules: enable/disable/archive/un_archive as Dify's batch_update_document_status
 * (disable on a document that is not completed: RG_EACTION with "Document:
 * <name> is not completed."); pause only while waiting..indexing and not
 * paused (a queued job then waits, a running one gets RG_ECANCELED); resume
 * only when paused (queues a job unless one is queued or running); retry only
 * in error (clears error, stopped_at and pause, status waiting, queues a job;
 * completed segments are kept).  On refusal *why points at an arena message
 * naming the document.  RG_ENOTFOUND (with *why) for an id not in the
 * dataset.  n == 0 is a no-op. */
RG_WUR rg_rc rg_store_document_action(rg_store *s, rg_arena *arena, const char *tenant_id,
                                      const char *dataset_id, rg_doc_action action,
                                      const char *const *ids, size_t n, const char *user_id,
                                      const char **why);

/* --- segments --------------------------------------------------------------- */

/* One page of a document's segments (position ascending) and the total;
 * keyword (nullable) is a substring of the content; status (nullable) is one
 * status or several separated by commas ("error,completed"). */
RG_WUR rg_rc rg_store_segment_list(rg_store *s, rg_arena *arena, const char *tenant_id,
                                   const char *document_id, const char *keyword, const char *status,
                                   int64_t offset, int64_t limit, rg_segment **items, size_t *n,
                                   int64_t *total);
/* The child chunks of a segment, position ascending. */
RG_WUR rg_rc rg_store_child_chunk_list(rg_store *s, rg_arena *arena, const char *segment_id,
                                       rg_child_chunk **items, size_t *n);

/* --- the indexing job queue -------------------------------------------------- */

typedef struct rg_job {
    int64_t id;
    int64_t token; /* proves ownership of the document while the job runs */
    int attempts;
    char tenant_id[RG_UUID_LEN + 1];
    char dataset_id[RG_UUID_LEN + 1];
    char document_id[RG_UUID_LEN + 1];
} rg_job;

/* Puts every job left running by a previous process back in the queue (call
 * once at start, before workers run).  *n is how many. */
RG_WUR rg_rc rg_store_jobs_recover(rg_store *s, int64_t *n);
/* Claims the next queued job, fairly: the tenant whose last claim is oldest
 * goes first, then that tenant's oldest job.  Marks it running with a new
 * token that the document records.  RG_ENOTFOUND when the queue is empty. */
RG_WUR rg_rc rg_store_job_claim(rg_store *s, rg_job *out);
/* Ends a job.  done: finished or failed (the document says which); paused:
 * the document was paused and waits for resume (if it was resumed meanwhile,
 * the job goes back to the queue).  A job cancelled, expired or deleted
 * meanwhile has nothing to end: RG_OK. */
RG_WUR rg_rc rg_store_job_finish(rg_store *s, const rg_job *job, bool paused);
/* Marks documents whose running job has made no progress (no job-owned
 * write, nor the claim) for stall_s seconds as error with reason (the
 * watchdog), takes the job's ownership away and ends the job; *n is how many. */
RG_WUR rg_rc rg_store_jobs_expire(rg_store *s, int64_t stall_s, const char *reason, int64_t *n);
/* Number of queued jobs (for wake-ups and tests). */
RG_WUR rg_rc rg_store_jobs_queued(rg_store *s, int64_t *n);

/* --- pipeline writes: each checks the job still owns a live, unpaused
 * document and returns RG_ECANCELED (writing nothing) otherwise ------------- */

/* Reads the document the job works on (with its process rule and upload). */
RG_WUR rg_rc rg_store_job_document(rg_store *s, rg_arena *arena, const rg_job *job,
                                   rg_document *out);
/* Moves the document to status to (parsing..indexing), setting the timestamp
 * that goes with the move: parsing sets processing_started_at (first time
 * only), cleaning sets parsing_completed_at, splitting sets
 * cleaning_completed_at (a skipped stage's, if unset).  A stage the document
 * has already reached is not repeated (a restarted job): only progress is
 * recorded.  Indexing needs stored segments.  Also refreshes the progress
 * time the watchdog reads. */
RG_WUR rg_rc rg_store_job_stage(rg_store *s, const rg_job *job, rg_doc_status to);
/* Stores the segments (status waiting, positions 1..n) and their child chunks
 * in one transaction, replacing any the document had; sets total_segments,
 * word_count, splitting_completed_at and status indexing.  segs[i].id etc. are
 * filled by the caller; every child's segment_id names one of segs.  n == 0:
 * RG_EINVAL (a document without segments is failed, never indexed). */
RG_WUR rg_rc rg_store_job_segments(rg_store *s, const rg_job *job, const rg_segment *segs, size_t n,
                                   const rg_child_chunk *children, size_t n_children,
                                   int64_t word_count);
/* Up to limit segments of the job's document not yet completed, by position. */
RG_WUR rg_rc rg_store_job_pending(rg_store *s, rg_arena *arena, const rg_job *job, size_t limit,
                                  rg_segment **items, size_t *n);

/* What indexing produced for one segment. */
typedef struct rg_segment_index {
    const char *segment_id;
    const float *vector; /* nullable (economy); dims floats */
    int dims;
    const char *keywords; /* JSON array text, nullable */
    const void *terms;    /* opaque full-text data, nullable */
    size_t terms_len;
    int64_t tokens;
    /* parent-child documents: the index data of this segment's child chunks,
     * each entry's segment_id naming the child chunk (job_indexed only) */
    const struct rg_segment_index *children;
    size_t n_children;
    /* job_indexed only: when both are set, vector is also written to the
     * embedding cache under (cache_model, cache_digest: SHA-256 of the text) */
    const char *cache_model;
    const unsigned char *cache_digest;
} rg_segment_index;

/* Durably stores a batch of indexed segments, marks them completed (enabled),
 * and raises completed_segments, in one transaction (a segment already
 * completed is not counted again).  When the last segment is done the
 * document becomes completed (completed_at, tokens, indexing_latency) and the
 * dataset's counters follow.  RG_EINVAL for a segment not of the document,
 * or a document without segments. */
RG_WUR rg_rc rg_store_job_indexed(rg_store *s, const rg_job *job, const rg_segment_index *items,
                                  size_t n);
/* Ends the document in error with reason (stopped_at now) unless it is gone. */
RG_WUR rg_rc rg_store_job_fail(rg_store *s, const rg_job *job, const char *reason);

/* --- the embedding cache ------------------------------------------------------
 * Vectors keyed by (model key, SHA-256 of the text), so that re-indexing
 * unchanged text, or the same text in another dataset, costs no model call.
 * Entries are written by rg_store_job_indexed (rg_segment_index.cache_*) in
 * the batch's own transaction; the oldest are dropped beyond the limit. */

/* Most entries kept by default (RAGD_EMBED_CACHE). */
#define RG_EMBED_CACHE_DEFAULT 500000

/* Sets the most entries the cache keeps (0: it is neither read nor written).
 * Call before serving. */
void rg_store_embed_cache_limit(rg_store *s, int64_t max_entries);
/* For each of the n digests (32 bytes each) of texts embedded by model (a key
 * naming the model and its revision) with dims dimensions: when cached, copies
 * the vector to out + i * dims and sets hit[i]; else hit[i] is false. */
RG_WUR rg_rc rg_store_embed_cache_get(rg_store *s, const char *model, int dims,
                                      const unsigned char *digests, size_t n, float *out,
                                      bool *hit);

/* --- chunk editing (the segments API) ----------------------------------------
 * Each call is one transaction that keeps every counter right (document
 * word_count, total/completed segments, dataset counters) and bumps the
 * dataset's index version.  Index data (vector, terms) is written with the
 * row, so an edit is searchable as soon as the call returns. */

/* Reads one segment of the tenant's document.  RG_ENOTFOUND if absent. */
RG_WUR rg_rc rg_store_segment_get(rg_store *s, rg_arena *arena, const char *tenant_id,
                                  const char *document_id, const char *segment_id, rg_segment *out);
/* Appends n segments (ids, content, answer, keywords, word_count, tokens,
 * index_node_id/hash, created_by filled by the caller) after the document's
 * last position, status completed and enabled, with their index data idx[i]
 * (segment_id fields are ignored).  Positions are written back into segs. */
RG_WUR rg_rc rg_store_segments_add(rg_store *s, const char *tenant_id, const char *document_id,
                                   rg_segment *segs, const rg_segment_index *idx, size_t n);
/* Rewrites content, answer, keywords, word_count, tokens, index_node_hash,
 * enabled (disabled_at/by), updated_at/by of seg (matched by tenant, document
 * and id), and its index data when idx is not NULL.  RG_ENOTFOUND if absent. */
RG_WUR rg_rc rg_store_segment_update(rg_store *s, const char *tenant_id, const rg_segment *seg,
                                     const rg_segment_index *idx);
/* Deletes a segment with its child chunks and index data. */
RG_WUR rg_rc rg_store_segment_delete(rg_store *s, const char *tenant_id, const char *document_id,
                                     const char *segment_id);
/* Adds a child chunk (type customized) at the end of its segment, with its
 * index data (vector/terms of the child; may be NULL).  Position written back. */
RG_WUR rg_rc rg_store_child_chunk_add(rg_store *s, const char *tenant_id, rg_child_chunk *c,
                                      const rg_segment_index *idx);
/* rg_store_segment_update, and in the same transaction the segment's child
 * chunks are replaced by kids[0..n) (positions and type as given; their
 * index data kid_idx[i], nullable) - regenerate_child_chunks. */
RG_WUR rg_rc rg_store_segment_update_children(rg_store *s, const char *tenant_id,
                                              const rg_segment *seg, const rg_segment_index *idx,
                                              const rg_child_chunk *kids,
                                              const rg_segment_index *kid_idx, size_t n);
/* Rewrites a child chunk's content, word_count, type, updated_at and index data. */
RG_WUR rg_rc rg_store_child_chunk_update(rg_store *s, const char *tenant_id,
                                         const rg_child_chunk *c, const rg_segment_index *idx);
/* Deletes a child chunk.  RG_ENOTFOUND if absent. */
RG_WUR rg_rc rg_store_child_chunk_delete(rg_store *s, const char *tenant_id, const char *segment_id,
                                         const char *child_id);

/* --- tags: workspace-level labels bound to datasets (type "knowledge") --- */

typedef struct rg_tag {
    char id[RG_UUID_LEN + 1];
    const char *name;
    const char *type; /* "knowledge" */
    int64_t binding_count;
    int64_t created_at;
} rg_tag;

/* Inserts t (id, name, created_at set by the caller; type "knowledge") in the
 * tenant.  RG_ENAMEDUP when the tenant has a tag of that name. */
RG_WUR rg_rc rg_store_tag_insert(rg_store *s, const char *tenant_id, const rg_tag *t);
/* Every tag of the tenant with its binding count, newest first; keyword
 * (nullable) is a case-insensitive substring of the name.  Arena-owned. */
RG_WUR rg_rc rg_store_tag_list(rg_store *s, rg_arena *arena, const char *tenant_id,
                               const char *keyword, rg_tag **items, size_t *n);
/* Renames a tag of the tenant and reads it back into *out (arena strings).
 * RG_ENOTFOUND if absent, RG_ENAMEDUP on a name clash. */
RG_WUR rg_rc rg_store_tag_rename(rg_store *s, rg_arena *arena, const char *tenant_id,
                                 const char *id, const char *name, rg_tag *out);
/* Deletes a tag of the tenant with its bindings.  RG_ENOTFOUND if absent. */
RG_WUR rg_rc rg_store_tag_delete(rg_store *s, const char *tenant_id, const char *id);
/* Binds the listed tags to a dataset of the tenant; tags of another tenant or
 * unknown ones are ignored, existing bindings kept.  RG_ENOTFOUND when the
 * dataset is not in the tenant. */
RG_WUR rg_rc rg_store_tag_bind(rg_store *s, const char *tenant_id, const char *const *tag_ids,
                               size_t n, const char *dataset_id);
/* Removes the bindings of the listed tags (of the tenant) from a dataset of
 * the tenant; absent bindings are ignored.  RG_ENOTFOUND for such a dataset. */
RG_WUR rg_rc rg_store_tag_unbind(rg_store *s, const char *tenant_id, const char *const *tag_ids,
                                 size_t n, const char *dataset_id);

/* --- custom metadata fields of a dataset ------------------------------------
 * A document's values are its doc_metadata JSON object {name: value} (Dify's
 * shape): a rename or delete of a field rewrites the documents carrying it in
 * the same transaction. */

typedef struct rg_metadata_field {
    char id[RG_UUID_LEN + 1];
    char dataset_id[RG_UUID_LEN + 1];
    const char *name;
    const char *type; /* string | number | time */
    int64_t created_at;
    int64_t count; /* documents carrying a value (list only) */
} rg_metadata_field;

/* Inserts m in a dataset of the tenant.  RG_ENAMEDUP on a name clash,
 * RG_ENOTFOUND when the dataset is not in the tenant. */
RG_WUR rg_rc rg_store_metadata_insert(rg_store *s, const char *tenant_id,
                                      const rg_metadata_field *m);
/* The dataset's fields, oldest first, each with its document count. */
RG_WUR rg_rc rg_store_metadata_list(rg_store *s, rg_arena *arena, const char *tenant_id,
                                    const char *dataset_id, rg_metadata_field **items, size_t *n);
/* Renames a field (and the key in every document of the dataset carrying it)
 * and reads it back into *out.  RG_ENOTFOUND, RG_ENAMEDUP. */
RG_WUR rg_rc rg_store_metadata_rename(rg_store *s, rg_arena *arena, const char *tenant_id,
                                      const char *dataset_id, const char *id, const char *name,
                                      rg_metadata_field *out);
/* Deletes a field and its value from every document.  RG_ENOTFOUND if absent. */
RG_WUR rg_rc rg_store_metadata_delete(rg_store *s, const char *tenant_id, const char *dataset_id,
                                      const char *id);
/* Sets the dataset's built_in_field_enabled.  RG_ENOTFOUND if absent. */
RG_WUR rg_rc rg_store_metadata_builtin(rg_store *s, const char *tenant_id, const char *dataset_id,
                                       bool enabled);
/* Replaces the doc_metadata of each listed document of the dataset (values[i]
 * is a JSON object text {name: value}, validated by the caller), all or
 * nothing.  RG_ENOTFOUND (*bad = i) for a document not in the dataset. */
RG_WUR rg_rc rg_store_document_metadata_set(rg_store *s, const char *tenant_id,
                                            const char *dataset_id, const char *const *doc_ids,
                                            const char *const *values, size_t n, size_t *bad);

/* What metadata filtering reads of one document. */
typedef struct rg_doc_meta {
    char id[RG_UUID_LEN + 1];
    const char *name, *created_by, *data_source_type;
    int64_t created_at, updated_at;
    const char *doc_metadata; /* JSON object text, nullable */
} rg_doc_meta;

/* The metadata of every document of the dataset, from one snapshot. */
RG_WUR rg_rc rg_store_document_metadata_all(rg_store *s, rg_arena *arena, const char *tenant_id,
                                            const char *dataset_id, rg_doc_meta **items, size_t *n);

/* --- what search reads ----------------------------------------------------------- */

/* The dataset's index version: a number that changes in the same transaction
 * as anything that changes what search may return (segments indexed, edited
 * or deleted; documents enabled, disabled, archived, deleted, completed). */
RG_WUR rg_rc rg_store_index_version(rg_store *s, const char *tenant_id, const char *dataset_id,
                                    int64_t *version);

/* One searchable unit: a segment, or a child chunk of a parent-child document
 * (child_id set, segment_id its parent).  Pointers are valid during the
 * callback only. */
typedef struct rg_index_row {
    const char *segment_id, *document_id, *child_id;
    const float *vector; /* NULL when none (economy) */
    int dims;
    const char *terms; /* "term\ttf\n" lines (ingest/keywords.h), may be NULL */
    size_t terms_len;
} rg_index_row;

/* Calls fn for every searchable unit of the dataset (segment completed and
 * enabled, document completed, enabled and not archived), from one snapshot,
 * and returns that snapshot's index version in *version.  fn returning an
 * error stops the scan with that error. */
RG_WUR rg_rc rg_store_index_scan(rg_store *s, const char *tenant_id, const char *dataset_id,
                                 int64_t *version, rg_rc (*fn)(const rg_index_row *row, void *arg),
                                 void *arg);

/* What changed since an index version, from one snapshot: for each document
 * whose searchable units changed after version since (deleted or disabled
 * ones included), changed(document_id) and then fn for each of its
 * searchable units now (none for a document that is gone or unsearchable);
 * *version is the snapshot's version.  RG_ENOTFOUND, calling nothing, when
 * the change log no longer reaches back to since (rg_store_index_log_trim):
 * the caller scans the whole dataset instead. */
RG_WUR rg_rc rg_store_index_scan_changes(rg_store *s, const char *tenant_id, const char *dataset_id,
                                         int64_t since, int64_t *version,
                                         rg_rc (*changed)(const char *document_id, void *arg),
                                         rg_rc (*fn)(const rg_index_row *row, void *arg),
                                         void *arg);
/* Forgets the dataset's change log up to version upto (no in-memory index
 * is older): rg_store_index_scan_changes since an older version then answers
 * RG_ENOTFOUND. */
RG_WUR rg_rc rg_store_index_log_trim(rg_store *s, const char *tenant_id, const char *dataset_id,
                                     int64_t upto);

/* --- consistency ------------------------------------------------------------- */

/* Recomputes every maintained counter from the rows and compares (for tests
 * and `ragd check`).  RG_OK when all agree; otherwise RG_EIO and a description
 * of the first difference in why (arena). */
RG_WUR rg_rc rg_store_check(rg_store *s, rg_arena *arena, const char **why);

#endif
