/*
 * sqlite_int.h - private to the SQLite engine (src/store/sqlite/).
 *
 * sqlite_conn.c: connections with their statement caches, transactions, error
 * logging and the registry of per-thread read connections.  sqlite_schema.c:
 * the numbered migrations.  sqlite_util.c: binding, column and transaction
 * helpers every SQL file shares.  sqlite_store.c: the engine handle, tenants,
 * keys, datasets and the rg_store_ops table.  sqlite_files.c: upload files and
 * the spool.  sqlite_docs.c: documents, segments, child chunks.  sqlite_jobs.c:
 * the job queue and the pipeline's job-owned writes.  sqlite_chunks.c: chunk
 * editing (the segments API) and the index-data writes it shares.
 * sqlite_index.c: what search reads (index version, index scan).
 * sqlite_check.c: the consistency check of the maintained counters.
 * sqlite_tags.c: tags, their bindings, metadata fields and document values.
 */
#ifndef RG_STORE_SQLITE_SQLITE_INT_H
#define RG_STORE_SQLITE_SQLITE_INT_H

#include "core/arena.h"
#include "core/common.h"
#include "store/store_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

typedef struct rg_sqlite_readers rg_sqlite_readers;

/* One cached prepared statement, keyed by the address of its static SQL text. */
typedef struct rg_sqlite_slot {
    const char *sql;
    sqlite3_stmt *st;
    bool busy; /* handed out by rg_sqlite_stmt and not yet given back */
} rg_sqlite_slot;

/* A connection used by one thread at a time (SQLITE_OPEN_NOMUTEX). */
typedef struct rg_sqlite_conn {
    sqlite3 *db;
    rg_sqlite_slot *slots;
    size_t n_slots, cap_slots;
    /* read connections only, guarded by the registry mutex in sqlite_conn.c */
    const rg_sqlite_readers *owner;
    pthread_t thread;
    struct rg_sqlite_conn *next;
} rg_sqlite_conn;

/* The read connections of one store: one per thread, created on first use. */
struct rg_sqlite_readers {
    pthread_key_t key;
    const char *path; /* borrowed from the store, outlives the readers */
};

/* Opens path.  A writer is read-write (creating the file) with journal_mode=WAL,
 * synchronous=FULL, foreign_keys=ON and busy_timeout=5000; a reader is read-only
 * with the same busy timeout.  RG_EIO (logged) on failure.  Close with
 * rg_sqlite_conn_close. */
RG_WUR rg_rc rg_sqlite_conn_open(const char *path, bool writer, rg_sqlite_conn **out);
/* Finalizes the cached statements and closes the connection.  NULL is fine. */
void rg_sqlite_conn_close(rg_sqlite_conn *c);
/* Logs what failed with sqlite3_errmsg and the extended code; returns RG_EIO. */
RG_WUR rg_rc rg_sqlite_fail(rg_sqlite_conn *c, const char *what);
/* Hands out the cached statement for sql (a static string: the pointer is the
 * key), preparing it on first use.  Give it back with rg_sqlite_stmt_done. */
RG_WUR rg_rc rg_sqlite_stmt(rg_sqlite_conn *c, const char *sql, sqlite3_stmt **out);
/* Resets st, clears its bindings and returns it to the cache. */
void rg_sqlite_stmt_done(rg_sqlite_conn *c, sqlite3_stmt *st);
/* Runs SQL text of one or more statements without caching (migrations). */
RG_WUR rg_rc rg_sqlite_exec(rg_sqlite_conn *c, const char *sql, const char *what);
/* Starts a transaction: BEGIN IMMEDIATE for writes, BEGIN (a read snapshot) otherwise. */
RG_WUR rg_rc rg_sqlite_tx_begin(rg_sqlite_conn *c, bool immediate);
/* Ends the transaction: COMMIT when rc is RG_OK, else ROLLBACK.  Returns rc, or
 * RG_EIO when the commit itself failed (the transaction is then rolled back). */
RG_WUR rg_rc rg_sqlite_tx_end(rg_sqlite_conn *c, rg_rc rc);

/* Prepares an empty set of read connections on path (borrowed). */
RG_WUR rg_rc rg_sqlite_readers_init(rg_sqlite_readers *r, const char *path);
/* Returns the calling thread's read connection, opening it on first use.  It is
 * closed when the thread exits or by rg_sqlite_readers_close, whichever is first. */
RG_WUR rg_rc rg_sqlite_reader(rg_sqlite_readers *r, rg_sqlite_conn **out);
/* Closes every read connection of r, of live and exited threads alike. */
void rg_sqlite_readers_close(rg_sqlite_readers *r);

/* Applies the migrations that PRAGMA user_version says are missing, each in its
 * own transaction.  RG_EIO if the file is newer than this program. */
RG_WUR rg_rc rg_sqlite_migrate(rg_sqlite_conn *w);

/* --- the engine handle (sqlite_store.c) ------------------------------------ */

typedef struct rg_sqlite_store {
    rg_store base; /* first: the rg_store * handed out points here */
    pthread_mutex_t write_mu;
    rg_sqlite_conn *writer; /* used only with write_mu held */
    rg_sqlite_readers readers;
    bool readers_ready;
    char *path;                      /* <data_dir>/ragd.db */
    char *uploads_dir;               /* <data_dir>/uploads: one file per upload, named by its id */
    char *spool_dir;                 /* <data_dir>/spool: callers' files before adoption */
    _Atomic int64_t embed_cache_max; /* entries the embedding cache keeps; 0 off */
} rg_sqlite_store;

/* --- helpers (sqlite_util.c) ------------------------------------------------ */

/* The engine handle behind a public handle. */
rg_sqlite_store *rg_sqlite_of(rg_store *s);
/* The calling thread's read connection. */
RG_WUR rg_rc rg_sqlite_read_conn(rg_sqlite_store *s, rg_sqlite_conn **c);
/* Takes the write lock and opens a write transaction (BEGIN IMMEDIATE). */
RG_WUR rg_rc rg_sqlite_write_begin(rg_sqlite_store *s, rg_sqlite_conn **w);
/* Commits (rc == RG_OK) or rolls back, then releases the write lock. */
RG_WUR rg_rc rg_sqlite_write_end(rg_sqlite_store *s, rg_rc rc);
/* Maps a failed step: UNIQUE and PRIMARY KEY violations become on_unique and
 * on_pk, FOREIGN KEY, NOT NULL and CHECK violations RG_EINVAL (logged as a
 * warning); anything else is logged and becomes RG_EIO. */
RG_WUR rg_rc rg_sqlite_step_error(rg_sqlite_conn *c, rg_rc on_unique, rg_rc on_pk,
                                  const char *what);

/* One bound parameter, built with the SQV_ macros below. */
typedef enum rg_sqv_kind {
    RG_SQV_NULL,
    RG_SQV_TEXT,
    RG_SQV_INT,
    RG_SQV_REAL,
    RG_SQV_BLOB
} rg_sqv_kind;
typedef struct rg_sqv {
    rg_sqv_kind kind;
    const void *p; /* text (NUL-terminated) or blob bytes; NULL binds NULL */
    size_t n;      /* blob length */
    int64_t i;
    double d;
} rg_sqv;

#define SQV_NULL       ((rg_sqv){.kind = RG_SQV_NULL})
#define SQV_TEXT(z)    ((rg_sqv){.kind = RG_SQV_TEXT, .p = (z)})
#define SQV_INT(v)     ((rg_sqv){.kind = RG_SQV_INT, .i = (v)})
#define SQV_REAL(v)    ((rg_sqv){.kind = RG_SQV_REAL, .d = (v)})
#define SQV_BLOB(b, l) ((rg_sqv){.kind = RG_SQV_BLOB, .p = (b), .n = (l)})
/* The parameter list of rg_sqlite_run and rg_sqlite_query: ?1, ?2, ... */
#define SQV_ARGS(...)                                                                              \
    (const rg_sqv[]){__VA_ARGS__}, sizeof((const rg_sqv[]){__VA_ARGS__}) / sizeof(rg_sqv)

/* Binds v[0..n) to ?1..?n of st. */
RG_WUR rg_rc rg_sqlite_bind(rg_sqlite_conn *c, sqlite3_stmt *st, const rg_sqv *v, size_t n);
/* Runs a statement that returns no rows (or whose rows are ignored) with the
 * given parameters; *changes (nullable) is sqlite3_changes.  Constraint
 * violations map as rg_sqlite_step_error with RG_ECONFLICT for both keys. */
RG_WUR rg_rc rg_sqlite_run(rg_sqlite_conn *c, const char *sql, const rg_sqv *v, size_t n,
                           int64_t *changes);
/* Hands out the cached statement for sql with its parameters bound; the caller
 * steps it and gives it back with rg_sqlite_stmt_done. */
RG_WUR rg_rc rg_sqlite_query(rg_sqlite_conn *c, const char *sql, const rg_sqv *v, size_t n,
                             sqlite3_stmt **out);
/* Runs a query of one integer column; *out is its first row, or RG_ENOTFOUND
 * when there is none (a NULL reads as 0). */
RG_WUR rg_rc rg_sqlite_int(rg_sqlite_conn *c, const char *sql, const rg_sqv *v, size_t n,
                           int64_t *out);

/* Binds text or NULL. */
int rg_sqlite_bind_z(sqlite3_stmt *st, int i, const char *z);
/* Points *z at column i's text (NULL for SQL NULL), valid until the next step. */
RG_WUR rg_rc rg_sqlite_col_text(rg_sqlite_conn *c, sqlite3_stmt *st, int i, const char **z,
                                size_t *n);
/* Copies column i into a fixed buffer of cap bytes ("" for NULL); RG_EIO if longer. */
RG_WUR rg_rc rg_sqlite_col_fixed(rg_sqlite_conn *c, sqlite3_stmt *st, int i, char *buf, size_t cap);
/* Copies column i into the arena (NULL stays NULL). */
RG_WUR rg_rc rg_sqlite_col_arena(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, int i,
                                 const char **out);
/* Column i as an integer, or -1 when it is NULL. */
int64_t rg_sqlite_col_opt(sqlite3_stmt *st, int i);
/* Allocates n zeroed elements of sz bytes from the arena; *out is NULL when n is 0. */
RG_WUR rg_rc rg_sqlite_arena_array(rg_arena *a, int64_t n, size_t sz, void **out);

/* Reads one result row into item (elem bytes, zeroed before the call). */
typedef rg_rc (*rg_sqlite_row_fn)(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item);
/* Steps st to its end, reading every row with fn into an arena array of
 * elem-byte items that grows as needed; *items is NULL when there are none.
 * Does not give st back. */
RG_WUR rg_rc rg_sqlite_collect(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, size_t elem,
                               rg_sqlite_row_fn fn, void **items, size_t *n);
/* Builds the LIKE pattern "%kw%" with \, % and _ escaped (ESCAPE '\'), in the
 * arena.  *fits is false when it is longer than SQLite accepts, in which case
 * it matches nothing (callers then return an empty result). */
RG_WUR rg_rc rg_sqlite_like_pattern(rg_sqlite_conn *c, rg_arena *a, const char *kw,
                                    const char **out, bool *fits);

/* --- upload files (sqlite_files.c) ------------------------------------------ */

/* Creates dir and any missing parents with mode 0700 (each new entry synced). */
RG_WUR rg_rc rg_sqlite_make_dirs(const char *dir);
/* Creates the uploads and spool directories and removes stale spool files. */
RG_WUR rg_rc rg_sqlite_files_open(rg_sqlite_store *s, const char *data_dir);
/* Removes an upload's file, if it is there (after the commit that dropped it). */
void rg_sqlite_upload_unlink(rg_sqlite_store *s, const char *upload_id);
rg_rc rg_sqlite_upload_adopt(rg_store *s, const char *upload_id, const char *spool_path);
rg_rc rg_sqlite_upload_path(rg_store *s, const char *upload_id, char *out, size_t outlen);
const char *rg_sqlite_spool_dir(const rg_store *s);

/* --- documents, segments, child chunks (sqlite_docs.c) ----------------------- */

rg_rc rg_sqlite_document_insert(rg_store *s, rg_document *d);
rg_rc rg_sqlite_document_replace(rg_store *s, rg_document *d);
rg_rc rg_sqlite_document_get(rg_store *s, rg_arena *arena, const char *tenant_id,
                             const char *dataset_id, const char *id, rg_document *out);
rg_rc rg_sqlite_document_list(rg_store *s, rg_arena *arena, const rg_document_query *q,
                              rg_document **items, size_t *n, int64_t *total);
rg_rc rg_sqlite_document_batch_status(rg_store *s, rg_arena *arena, const char *tenant_id,
                                      const char *dataset_id, const char *batch,
                                      rg_document **items, size_t *n);
rg_rc rg_sqlite_document_delete(rg_store *s, const char *tenant_id, const char *dataset_id,
                                const char *id);
rg_rc rg_sqlite_document_action(rg_store *s, rg_arena *arena, const char *tenant_id,
                                const char *dataset_id, rg_doc_action action,
                                const char *const *ids, size_t n, const char *user_id,
                                const char **why);
rg_rc rg_sqlite_segment_list(rg_store *s, rg_arena *arena, const char *tenant_id,
                             const char *document_id, const char *keyword, const char *status,
                             int64_t offset, int64_t limit, rg_segment **items, size_t *n,
                             int64_t *total);
rg_rc rg_sqlite_child_chunk_list(rg_store *s, rg_arena *arena, const char *segment_id,
                                 rg_child_chunk **items, size_t *n);
/* Reads the document row st is on (columns in the order of SQLITE_DOC_COLS). */
RG_WUR rg_rc rg_sqlite_row_document(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item);
/* Reads the segment row st is on (columns in the order of SQLITE_SEG_COLS). */
RG_WUR rg_rc rg_sqlite_row_segment(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item);
/* Queues a new job for a document, replacing its earlier jobs: a running one
 * is cancelled and the document's job token cleared, so its worker's next
 * write gets RG_ECANCELED. */
/* Inside a write transaction: rg_store_dataset_update_reindex's part. */
RG_WUR rg_rc rg_sqlite_dataset_reindex(rg_sqlite_conn *w, const char *tenant_id,
                                       const char *dataset_id);
RG_WUR rg_rc rg_sqlite_job_queue(rg_sqlite_conn *w, const char *tenant_id, const char *dataset_id,
                                 const char *document_id, int64_t now);

/* The select list and joins that rg_sqlite_row_document reads. */
#define SQLITE_DOC_COLS                                                                            \
    "d.id, d.tenant_id, d.dataset_id, d.position, d.batch, d.name, d.data_source_type,"            \
    " d.created_from, d.created_by, d.created_at, d.updated_at, d.doc_form, d.doc_language,"       \
    " d.indexing_technique, d.embedding_model, d.embedding_model_provider, d.process_rule_id,"     \
    " d.status, d.is_paused, d.processing_started_at, d.parsing_completed_at,"                     \
    " d.cleaning_completed_at, d.splitting_completed_at, d.completed_at, d.paused_at,"             \
    " d.stopped_at, d.disabled_at, d.archived_at, d.error, d.enabled, d.archived,"                 \
    " d.disabled_by, d.archived_by, d.word_count, d.tokens, d.indexing_latency,"                   \
    " d.total_segments, d.completed_segments, d.doc_type, d.doc_metadata,"                         \
    " CASE WHEN r.rules IS NULL THEN json_object('mode', r.mode)"                                  \
    " ELSE json_object('mode', r.mode, 'rules', json(r.rules)) END,"                               \
    " u.id, u.name, u.size, u.extension, u.mime_type, u.created_by, u.created_at_us, u.sha256"
#define SQLITE_DOC_FROM                                                                            \
    " FROM documents d JOIN process_rules r ON r.id = d.process_rule_id"                           \
    " JOIN upload_files u ON u.id = d.upload_id"
#define SQLITE_SEG_COLS                                                                            \
    "s.id, s.document_id, s.dataset_id, s.position, s.content, s.answer, s.word_count, s.tokens,"  \
    " s.keywords, s.index_node_id, s.index_node_hash, s.hit_count, s.enabled, s.disabled_at,"      \
    " s.disabled_by, s.status, s.created_by, s.created_at, s.updated_at, s.indexing_at,"           \
    " s.completed_at, s.stopped_at, s.updated_by, s.error"

/* --- the job queue and job-owned writes (sqlite_jobs.c) ---------------------- */

rg_rc rg_sqlite_jobs_recover(rg_store *s, int64_t *n);
rg_rc rg_sqlite_job_claim(rg_store *s, rg_job *out);
rg_rc rg_sqlite_job_finish(rg_store *s, const rg_job *job, bool paused);
rg_rc rg_sqlite_jobs_expire(rg_store *s, int64_t stall_s, const char *reason, int64_t *n);
rg_rc rg_sqlite_jobs_queued(rg_store *s, int64_t *n);
rg_rc rg_sqlite_job_document(rg_store *s, rg_arena *arena, const rg_job *job, rg_document *out);
rg_rc rg_sqlite_job_stage(rg_store *s, const rg_job *job, rg_doc_status to);
rg_rc rg_sqlite_job_segments(rg_store *s, const rg_job *job, const rg_segment *segs, size_t n,
                             const rg_child_chunk *children, size_t n_children, int64_t word_count);
rg_rc rg_sqlite_job_pending(rg_store *s, rg_arena *arena, const rg_job *job, size_t limit,
                            rg_segment **items, size_t *n);
rg_rc rg_sqlite_job_indexed(rg_store *s, const rg_job *job, const rg_segment_index *items,
                            size_t n);
rg_rc rg_sqlite_job_fail(rg_store *s, const rg_job *job, const char *reason);

/* --- chunk editing (sqlite_chunks.c) --------------------------------------------- */

rg_rc rg_sqlite_segment_get(rg_store *s, rg_arena *arena, const char *tenant_id,
                            const char *document_id, const char *segment_id, rg_segment *out);
rg_rc rg_sqlite_segments_add(rg_store *s, const char *tenant_id, const char *document_id,
                             rg_segment *segs, const rg_segment_index *idx, size_t n);
rg_rc rg_sqlite_segment_update(rg_store *s, const char *tenant_id, const rg_segment *seg,
                               const rg_segment_index *idx);
rg_rc rg_sqlite_segment_delete(rg_store *s, const char *tenant_id, const char *document_id,
                               const char *segment_id);
rg_rc rg_sqlite_child_chunk_add(rg_store *s, const char *tenant_id, rg_child_chunk *c,
                                const rg_segment_index *idx);
rg_rc rg_sqlite_segment_update_children(rg_store *s, const char *tenant_id, const rg_segment *seg,
                                        const rg_segment_index *idx, const rg_child_chunk *kids,
                                        const rg_segment_index *kid_idx, size_t n);
rg_rc rg_sqlite_child_chunk_update(rg_store *s, const char *tenant_id, const rg_child_chunk *c,
                                   const rg_segment_index *idx);
rg_rc rg_sqlite_child_chunk_delete(rg_store *s, const char *tenant_id, const char *segment_id,
                                   const char *child_id);
/* Writes (inserts or replaces) the index row of a segment of dataset_id:
 * idx's vector, dims and terms (its segment_id is not read). */
RG_WUR rg_rc rg_sqlite_segment_index_put(rg_sqlite_conn *w, const char *segment_id,
                                         const char *dataset_id, const rg_segment_index *idx);
/* Writes (inserts or replaces) the index row of a child chunk, its segment and
 * dataset copied from the chunk; RG_EINVAL when there is no such chunk under
 * parent_id.  Used by chunk edits and by the pipeline (job_indexed), inside
 * the write transaction that owns the document. */
/* The embedding cache (sqlite_embed_cache.c). */
void rg_sqlite_embed_cache_limit(rg_store *s, int64_t max_entries);
rg_rc rg_sqlite_embed_cache_get(rg_store *s, const char *model, int dims,
                                const unsigned char *digests, size_t n, float *out, bool *hit);
/* Inside a write transaction: caches it->vector when it->cache_model and
 * it->cache_digest are set and the cache is on, dropping the oldest entries
 * beyond the limit. */
RG_WUR rg_rc rg_sqlite_embed_cache_put(rg_sqlite_conn *w, rg_sqlite_store *s,
                                       const rg_segment_index *it);
RG_WUR rg_rc rg_sqlite_child_index_put(rg_sqlite_conn *w, const char *child_id,
                                       const char *parent_id, const rg_segment_index *idx);

/* --- tags and metadata fields (sqlite_tags.c) ------------------------------------ */

rg_rc rg_sqlite_tag_insert(rg_store *s, const char *tenant_id, const rg_tag *t);
rg_rc rg_sqlite_tag_list(rg_store *s, rg_arena *arena, const char *tenant_id, const char *keyword,
                         rg_tag **items, size_t *n);
rg_rc rg_sqlite_tag_rename(rg_store *s, rg_arena *arena, const char *tenant_id, const char *id,
                           const char *name, rg_tag *out);
rg_rc rg_sqlite_tag_delete(rg_store *s, const char *tenant_id, const char *id);
rg_rc rg_sqlite_tag_bind(rg_store *s, const char *tenant_id, const char *const *tag_ids, size_t n,
                         const char *dataset_id, bool bind);
rg_rc rg_sqlite_metadata_insert(rg_store *s, const char *tenant_id, const rg_metadata_field *m);
rg_rc rg_sqlite_metadata_list(rg_store *s, rg_arena *arena, const char *tenant_id,
                              const char *dataset_id, rg_metadata_field **items, size_t *n);
rg_rc rg_sqlite_metadata_rename(rg_store *s, rg_arena *arena, const char *tenant_id,
                                const char *dataset_id, const char *id, const char *name,
                                rg_metadata_field *out);
rg_rc rg_sqlite_metadata_delete(rg_store *s, const char *tenant_id, const char *dataset_id,
                                const char *id);
rg_rc rg_sqlite_metadata_builtin(rg_store *s, const char *tenant_id, const char *dataset_id,
                                 bool enabled);
rg_rc rg_sqlite_document_metadata_set(rg_store *s, const char *tenant_id, const char *dataset_id,
                                      const char *const *doc_ids, const char *const *values,
                                      size_t n, size_t *bad);
rg_rc rg_sqlite_document_metadata_all(rg_store *s, rg_arena *arena, const char *tenant_id,
                                      const char *dataset_id, rg_doc_meta **items, size_t *n);

/* --- what search reads (sqlite_index.c) ------------------------------------------- */

rg_rc rg_sqlite_index_version(rg_store *s, const char *tenant_id, const char *dataset_id,
                              int64_t *version);
rg_rc rg_sqlite_index_scan(rg_store *s, const char *tenant_id, const char *dataset_id,
                           int64_t *version, rg_rc (*fn)(const rg_index_row *row, void *arg),
                           void *arg);
/* The scan's SQL text (?1 dataset, ?2 tenant), for tests of its query plan. */
const char *rg_sqlite_index_scan_sql(void);
rg_rc rg_sqlite_index_scan_changes(rg_store *s, const char *tenant_id, const char *dataset_id,
                                   int64_t since, int64_t *version,
                                   rg_rc (*changed)(const char *document_id, void *arg),
                                   rg_rc (*fn)(const rg_index_row *row, void *arg), void *arg);
rg_rc rg_sqlite_index_log_trim(rg_store *s, const char *tenant_id, const char *dataset_id,
                               int64_t upto);

/* --- consistency (sqlite_check.c) --------------------------------------------- */

rg_rc rg_sqlite_check(rg_store *s, rg_arena *arena, const char **why);

#endif
