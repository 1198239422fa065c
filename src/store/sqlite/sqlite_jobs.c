/*
 * sqlite_jobs.c - the durable indexing queue and the writes a job makes while
 * it owns its document.
 *
 * A document has at most one live job row (queued or running; a queued job
 * of a paused document waits as 'paused').  Claiming gives the job a fresh
 * random 62-bit token that the document records in job_token; every job-owned
 * read and write first matches (id, tenant, job_token, is_paused = 0) in its
 * own transaction and returns RG_ECANCELED, having written nothing, when the
 * document is gone, paused, or owned by another token (the watchdog, an
 * update, a retry and a delete all clear or change it).  Each write also
 * refreshes progress_at, the clock of the watchdog.
 *
 * Fairness: a claim takes, among the tenants with queued jobs, the one whose
 * last claim is oldest (never claimed counts as oldest, ties go to the oldest
 * job), then that tenant's oldest job.  The tenants are found by skip-scanning
 * the (state, tenant_id, id) index, one seek per tenant with queued work, so
 * a claim costs O(tenants * log jobs) and never scans a tenant's backlog.
 */
#include "store/sqlite/sqlite_int.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"

#include <sodium.h>
#include <string.h>

/* --- queueing (used by the document functions) --------------------------------- */

static const char SQL_JOBS_DROP[] =
    "DELETE FROM jobs WHERE document_id = ?1 AND state <> 'running'";
static const char SQL_JOBS_CANCEL[] =
    "UPDATE jobs SET state = 'cancelled' WHERE document_id = ?1 AND state = 'running'";
static const char SQL_DOC_DISOWN[] = "UPDATE documents SET job_token = 0 WHERE id = ?1";
static const char SQL_JOB_INSERT[] =
    "INSERT INTO jobs (tenant_id, dataset_id, document_id, state, created_at)"
    " VALUES (?1, ?2, ?3, 'queued', ?4)";

rg_rc rg_sqlite_job_queue(rg_sqlite_conn *w, const char *tenant_id, const char *dataset_id,
                          const char *document_id, int64_t now)
{
    RG_TRY(rg_sqlite_run(w, SQL_JOBS_DROP, SQV_ARGS(SQV_TEXT(document_id)), NULL));
    RG_TRY(rg_sqlite_run(w, SQL_JOBS_CANCEL, SQV_ARGS(SQV_TEXT(document_id)), NULL));
    RG_TRY(rg_sqlite_run(w, SQL_DOC_DISOWN, SQV_ARGS(SQV_TEXT(document_id)), NULL));
    return rg_sqlite_run(
        w, SQL_JOB_INSERT,
        SQV_ARGS(SQV_TEXT(tenant_id), SQV_TEXT(dataset_id), SQV_TEXT(document_id), SQV_INT(now)),
        NULL);
}

/* --- re-indexing a dataset (a new embedding model or technique) ---------------- */

static const char SQL_REINDEX_TAKE[] =
    "UPDATE documents SET indexing_technique = ds.indexing_technique,"
    " embedding_model = ds.embedding_model, embedding_model_provider = ds.embedding_model_provider"
    " FROM (SELECT indexing_technique, embedding_model, embedding_model_provider FROM datasets"
    "       WHERE id = ?1) AS ds"
    " WHERE documents.dataset_id = ?1 AND documents.tenant_id = ?2";
/* documents that are completed or on their way, and not paused: indexed again */
static const char SQL_REINDEX_DOCS[] =
    "SELECT id, status FROM documents WHERE dataset_id = ?1 AND tenant_id = ?2"
    " AND status <> 'error' AND NOT is_paused";
static const char SQL_REINDEX_SEGS[] =
    "UPDATE segments SET status = 'indexing' WHERE document_id = ?1 AND status = 'completed'";
static const char SQL_REINDEX_DOC[] =
    "UPDATE documents SET status = 'indexing', completed_segments = 0, completed_at = NULL,"
    " processing_started_at = ?2, processing_started_us = ?3, progress_at = ?2"
    " WHERE id = ?1";

/* Sends one document back to indexing (chunks kept) or, when it has not been
 * split yet, back to the queue; either way with a new job. */
static rg_rc reindex_doc(rg_sqlite_conn *w, const char *tenant_id, const char *dataset_id,
                         const char *id, bool split, int64_t now)
{
    if (split) {
        RG_TRY(rg_sqlite_run(w, SQL_REINDEX_SEGS, SQV_ARGS(SQV_TEXT(id)), NULL));
        RG_TRY(rg_sqlite_run(w, SQL_REINDEX_DOC,
                             SQV_ARGS(SQV_TEXT(id), SQV_INT(now), SQV_INT(rg_now_us())), NULL));
    }
    return rg_sqlite_job_queue(w, tenant_id, dataset_id, id, now);
}

typedef struct reindex_row {
    const char *id;
    bool split; /* indexing or completed: its chunks exist */
} reindex_row;

static rg_rc row_reindex(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item)
{
    reindex_row *r = item;
    const char *status;
    size_t len;
    RG_TRY(rg_sqlite_col_arena(c, a, st, 0, &r->id));
    RG_TRY(rg_sqlite_col_text(c, st, 1, &status, &len));
    r->split = strcmp(status, "indexing") == 0 || strcmp(status, "completed") == 0;
    return RG_OK;
}

#define REINDEX_ARENA ((size_t)256 << 20) /* ids of a dataset's documents */

rg_rc rg_sqlite_dataset_reindex(rg_sqlite_conn *w, const char *tenant_id, const char *dataset_id)
{
    RG_TRY(rg_sqlite_run(w, SQL_REINDEX_TAKE, SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)),
                         NULL));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(w, SQL_REINDEX_DOCS, SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)),
                           &st));
    rg_arena *a = rg_arena_new(REINDEX_ARENA);
    void *rows = NULL;
    size_t n = 0;
    rg_rc rc = rg_sqlite_collect(w, a, st, sizeof(reindex_row), row_reindex, &rows, &n);
    rg_sqlite_stmt_done(w, st);
    const reindex_row *docs = rows;
    int64_t now = rg_now_s();
    for (size_t i = 0; i < n && rc == RG_OK; i++)
        rc = reindex_doc(w, tenant_id, dataset_id, docs[i].id, docs[i].split, now);
    rg_arena_free(a);
    return rc;
}

/* --- claim ---------------------------------------------------------------------- */

static const char SQL_CLAIM_TENANT[] =
    "WITH RECURSIVE waiting(tenant_id) AS ("
    "  SELECT (SELECT tenant_id FROM jobs WHERE state = 'queued' ORDER BY tenant_id LIMIT 1)"
    "  UNION ALL"
    "  SELECT (SELECT j.tenant_id FROM jobs j WHERE j.state = 'queued'"
    "          AND j.tenant_id > w.tenant_id ORDER BY j.tenant_id LIMIT 1)"
    "  FROM waiting w WHERE w.tenant_id IS NOT NULL)"
    " SELECT w.tenant_id FROM waiting w LEFT JOIN tenant_claims c ON c.tenant_id = w.tenant_id"
    " WHERE w.tenant_id IS NOT NULL"
    " ORDER BY COALESCE(c.last_claim_at, -1),"
    "  (SELECT MIN(j.id) FROM jobs j WHERE j.state = 'queued' AND j.tenant_id = w.tenant_id)"
    " LIMIT 1";
static const char SQL_CLAIM_JOB[] = "SELECT id, dataset_id, document_id, attempts FROM jobs"
                                    " WHERE state = 'queued' AND tenant_id = ?1"
                                    " ORDER BY id LIMIT 1";
static const char SQL_CLAIM_MARK[] =
    "UPDATE jobs SET state = 'running', token = ?2, attempts = attempts + 1, claimed_at = ?3,"
    " progress_at = ?3 WHERE id = ?1";
static const char SQL_CLAIM_DOC[] =
    "UPDATE documents SET job_token = ?2, progress_at = ?3 WHERE id = ?1";
/* strictly increasing, so that two claims in the same microsecond still order */
static const char SQL_CLAIM_TURN[] =
    "INSERT INTO tenant_claims (tenant_id, last_claim_at)"
    " VALUES (?1, MAX(?2, (SELECT COALESCE(MAX(last_claim_at), 0) + 1 FROM tenant_claims)))"
    " ON CONFLICT (tenant_id) DO UPDATE SET last_claim_at = excluded.last_claim_at";

/* A random non-zero 62-bit token (0 means "no job" in documents.job_token). */
static int64_t new_token(void)
{
    uint64_t t = 0;
    while (t == 0) {
        randombytes_buf(&t, sizeof t);
        t &= ((uint64_t)1 << 62) - 1;
    }
    return (int64_t)t;
}

/* The tenant whose turn it is; RG_ENOTFOUND when nothing is queued. */
static rg_rc claim_tenant(rg_sqlite_conn *w, char tenant_id[RG_UUID_LEN + 1])
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(w, SQL_CLAIM_TENANT, &st));
    rg_rc rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        rc = rg_sqlite_col_fixed(w, st, 0, tenant_id, RG_UUID_LEN + 1);
    else
        rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(w, "claim: pick a tenant");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

/* The oldest queued job of the tenant into *out (without its token). */
static rg_rc claim_job(rg_sqlite_conn *w, const char *tenant_id, rg_job *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(w, SQL_CLAIM_JOB, SQV_ARGS(SQV_TEXT(tenant_id)), &st));
    rg_rc rc = RG_OK;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        rc = rg_sqlite_col_fixed(w, st, 1, out->dataset_id, sizeof out->dataset_id);
        if (rc == RG_OK)
            rc = rg_sqlite_col_fixed(w, st, 2, out->document_id, sizeof out->document_id);
        out->attempts = sqlite3_column_int(st, 3) + 1;
        memcpy(out->tenant_id, tenant_id, sizeof out->tenant_id);
    } else
        rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(w, "claim: pick a job");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

static rg_rc claim_mark(rg_sqlite_conn *w, const rg_job *job)
{
    int64_t now = rg_now_s();
    RG_TRY(rg_sqlite_run(w, SQL_CLAIM_MARK,
                         SQV_ARGS(SQV_INT(job->id), SQV_INT(job->token), SQV_INT(now)), NULL));
    RG_TRY(rg_sqlite_run(w, SQL_CLAIM_DOC,
                         SQV_ARGS(SQV_TEXT(job->document_id), SQV_INT(job->token), SQV_INT(now)),
                         NULL));
    return rg_sqlite_run(w, SQL_CLAIM_TURN,
                         SQV_ARGS(SQV_TEXT(job->tenant_id), SQV_INT(rg_now_us())), NULL);
}

rg_rc rg_sqlite_job_claim(rg_store *base, rg_job *out)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    char tenant_id[RG_UUID_LEN + 1];
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = claim_tenant(w, tenant_id);
    if (rc == RG_OK)
        rc = claim_job(w, tenant_id, out);
    if (rc == RG_OK) {
        out->token = new_token();
        rc = claim_mark(w, out);
    }
    rc = rg_sqlite_write_end(s, rc);
    if (rc != RG_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* --- recover, finish, expire, count ---------------------------------------------- */

static const char SQL_RECOVER_DOCS[] =
    "UPDATE documents SET job_token = 0"
    " WHERE id IN (SELECT document_id FROM jobs WHERE state = 'running')";
static const char SQL_RECOVER_PAUSED[] =
    "UPDATE jobs SET state = 'paused', token = 0 WHERE state = 'running' AND EXISTS"
    " (SELECT 1 FROM documents d WHERE d.id = jobs.document_id AND d.is_paused)";
static const char SQL_RECOVER_QUEUE[] =
    "UPDATE jobs SET state = 'queued', token = 0 WHERE state = 'running'";
static const char SQL_FINISH_STATE[] =
    "SELECT j.state = 'running', d.id IS NOT NULL, COALESCE(d.is_paused, 0),"
    " COALESCE(d.job_token = j.token, 0), d.status"
    " FROM jobs j LEFT JOIN documents d ON d.id = j.document_id WHERE j.id = ?1 AND j.token = ?2";
static const char SQL_FINISH_JOB[] =
    "UPDATE jobs SET state = ?2, token = CASE WHEN ?2 = 'queued' THEN 0 ELSE token END,"
    " progress_at = ?3 WHERE id = ?1";
static const char SQL_FINISH_DOC[] =
    "UPDATE documents SET job_token = 0 WHERE id = ?1 AND job_token = ?2";
static const char SQL_STALLED[] =
    "SELECT d.id, d.job_token FROM jobs j"
    " JOIN documents d ON d.id = j.document_id AND d.job_token = j.token"
    " WHERE j.state = 'running' AND d.progress_at < ?1"
    " AND d.status IN ('waiting', 'parsing', 'cleaning', 'splitting', 'indexing')";
static const char SQL_EXPIRE_DOC[] =
    "UPDATE documents SET status = 'error', error = ?3, stopped_at = ?4, job_token = 0"
    " WHERE id = ?1 AND job_token = ?2";
static const char SQL_EXPIRE_JOB[] = "UPDATE jobs SET state = 'done', progress_at = ?3"
                                     " WHERE document_id = ?1 AND token = ?2 AND state = 'running'";
static const char SQL_QUEUED[] = "SELECT COUNT(*) FROM jobs WHERE state = 'queued'";

rg_rc rg_sqlite_jobs_recover(rg_store *base, int64_t *n)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    /* the tokens of the previous process own nothing any more */
    rg_rc rc = rg_sqlite_run(w, SQL_RECOVER_DOCS, NULL, 0, NULL);
    if (rc == RG_OK)
        rc = rg_sqlite_run(w, SQL_RECOVER_PAUSED, NULL, 0, NULL);
    if (rc == RG_OK)
        rc = rg_sqlite_run(w, SQL_RECOVER_QUEUE, NULL, 0, n);
    rc = rg_sqlite_write_end(s, rc);
    if (rc != RG_OK)
        *n = 0;
    return rc;
}

/* What finish needs to know about a job and its document. */
typedef struct finish_state {
    bool running, doc_exists, doc_paused, doc_owned;
    rg_doc_status status;
} finish_state;

static rg_rc finish_state_read(rg_sqlite_conn *w, const rg_job *job, finish_state *f)
{
    sqlite3_stmt *st;
    RG_TRY(
        rg_sqlite_query(w, SQL_FINISH_STATE, SQV_ARGS(SQV_INT(job->id), SQV_INT(job->token)), &st));
    memset(f, 0, sizeof *f);
    rg_rc rc = RG_OK;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        f->running = sqlite3_column_int(st, 0) != 0;
        f->doc_exists = sqlite3_column_int(st, 1) != 0;
        f->doc_paused = sqlite3_column_int(st, 2) != 0;
        f->doc_owned = sqlite3_column_int(st, 3) != 0;
        const unsigned char *z = sqlite3_column_text(st, 4);
        if (!z || rg_doc_status_parse((const char *)z, &f->status) != RG_OK)
            f->status = RG_DOC_ERROR;
    } else if (r != SQLITE_DONE)
        rc = rg_sqlite_fail(w, "finish: job state");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

/* The state a running job ends in. */
static const char *finish_to(const rg_job *job, const finish_state *f, bool paused)
{
    if (f->doc_paused)
        return paused ? "paused" : "done"; /* either way, resume queues a new job */
    if (paused && f->doc_owned)
        return "queued"; /* resumed before the worker noticed the pause: run again */
    if (f->doc_owned && f->status <= RG_DOC_INDEXING)
        rg_warn("store: job %lld ended with document %s still %s", (long long)job->id,
                job->document_id, rg_doc_status_name(f->status));
    return "done";
}

rg_rc rg_sqlite_job_finish(rg_store *base, const rg_job *job, bool paused)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    finish_state f;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = finish_state_read(w, job, &f);
    /* a job cancelled, expired or deleted meanwhile has nothing left to end */
    if (rc == RG_OK && f.running) {
        const char *to = finish_to(job, &f, paused);
        rc = rg_sqlite_run(w, SQL_FINISH_JOB,
                           SQV_ARGS(SQV_INT(job->id), SQV_TEXT(to), SQV_INT(rg_now_s())), NULL);
        if (rc == RG_OK && f.doc_exists)
            rc = rg_sqlite_run(w, SQL_FINISH_DOC,
                               SQV_ARGS(SQV_TEXT(job->document_id), SQV_INT(job->token)), NULL);
    }
    return rg_sqlite_write_end(s, rc);
}

typedef struct stalled {
    char id[RG_UUID_LEN + 1];
    int64_t token;
} stalled;

/* Appends the row st is on to *v (n entries, room for *cap). */
static rg_rc stalled_add(rg_sqlite_conn *w, sqlite3_stmt *st, stalled **v, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        size_t ncap = *cap ? 2 * *cap : 8;
        stalled *p = rg_try_realloc(*v, ncap * sizeof *p);
        if (!p)
            return RG_ENOMEM;
        *v = p;
        *cap = ncap;
    }
    (*v)[*n].token = sqlite3_column_int64(st, 1);
    RG_TRY(rg_sqlite_col_fixed(w, st, 0, (*v)[*n].id, sizeof(*v)[*n].id));
    (*n)++;
    return RG_OK;
}

/* Reads the documents whose running job has not written since cutoff. */
static rg_rc stalled_read(rg_sqlite_conn *w, int64_t cutoff, stalled **v, size_t *n)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(w, SQL_STALLED, SQV_ARGS(SQV_INT(cutoff)), &st));
    size_t cap = 0;
    rg_rc rc = RG_OK;
    int r = SQLITE_DONE;
    while (rc == RG_OK && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = stalled_add(w, st, v, n, &cap);
    if (rc == RG_OK && r != SQLITE_DONE)
        rc = rg_sqlite_fail(w, "watchdog");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

static rg_rc expire_one(rg_sqlite_conn *w, const stalled *x, const char *reason, int64_t now)
{
    RG_TRY(rg_sqlite_run(
        w, SQL_EXPIRE_DOC,
        SQV_ARGS(SQV_TEXT(x->id), SQV_INT(x->token), SQV_TEXT(reason), SQV_INT(now)), NULL));
    return rg_sqlite_run(w, SQL_EXPIRE_JOB,
                         SQV_ARGS(SQV_TEXT(x->id), SQV_INT(x->token), SQV_INT(now)), NULL);
}

rg_rc rg_sqlite_jobs_expire(rg_store *base, int64_t stall_s, const char *reason, int64_t *n)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    int64_t now = rg_now_s();
    stalled *v = NULL;
    size_t nv = 0;
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = stalled_read(w, now - stall_s, &v, &nv);
    for (size_t i = 0; rc == RG_OK && i < nv; i++)
        rc = expire_one(w, &v[i], reason, now);
    rc = rg_sqlite_write_end(s, rc);
    rg_free(v);
    *n = rc == RG_OK ? (int64_t)nv : 0;
    return rc;
}

rg_rc rg_sqlite_jobs_queued(rg_store *base, int64_t *n)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    return rg_sqlite_int(c, SQL_QUEUED, NULL, 0, n);
}

/* --- job-owned reads and writes ------------------------------------------------------ */

/* The document as its owning job sees it. */
typedef struct owned {
    rg_doc_status status;
    int64_t total_segments, completed_segments;
} owned;

static const char SQL_OWNED[] =
    "SELECT status, total_segments, completed_segments FROM documents"
    " WHERE id = ?1 AND tenant_id = ?2 AND job_token = ?3 AND NOT is_paused";
static const char SQL_JOB_TOUCH[] = "UPDATE jobs SET progress_at = ?2 WHERE id = ?1";
static const char SQL_JOB_DOC[] =
    "SELECT " SQLITE_DOC_COLS SQLITE_DOC_FROM
    " WHERE d.id = ?1 AND d.tenant_id = ?2 AND d.job_token = ?3 AND NOT d.is_paused";
static const char SQL_STAGE[] =
    "UPDATE documents SET status = ?2, progress_at = ?3,"
    " processing_started_at = COALESCE(processing_started_at, ?3),"
    " processing_started_us = COALESCE(processing_started_us, ?4),"
    " parsing_completed_at = CASE WHEN ?5 = 2 THEN ?3"
    "   WHEN ?5 > 2 THEN COALESCE(parsing_completed_at, ?3) ELSE parsing_completed_at END,"
    " cleaning_completed_at = CASE WHEN ?5 = 3 THEN ?3"
    "   WHEN ?5 > 3 THEN COALESCE(cleaning_completed_at, ?3) ELSE cleaning_completed_at END,"
    " splitting_completed_at = CASE WHEN ?5 > 3 THEN COALESCE(splitting_completed_at, ?3)"
    "   ELSE splitting_completed_at END"
    " WHERE id = ?1";
static const char SQL_DOC_TOUCH[] = "UPDATE documents SET progress_at = ?2 WHERE id = ?1";
static const char SQL_SEGS_DROP[] = "DELETE FROM segments WHERE document_id = ?1";
static const char SQL_SEG_INSERT[] =
    "INSERT INTO segments (id, tenant_id, dataset_id, document_id, position, content, answer,"
    " word_count, tokens, keywords, index_node_id, index_node_hash, status, enabled, created_by,"
    " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
    " 'waiting', 0, ?13, ?14, ?15)";
/* the parent must be a segment of this document */
static const char SQL_CHILD_INSERT[] =
    "INSERT INTO child_chunks (id, segment_id, document_id, dataset_id, position, content,"
    " word_count, type, created_at, updated_at)"
    " SELECT ?1, s.id, s.document_id, s.dataset_id, ?3, ?4, ?5, COALESCE(?6, 'automatic'),"
    " ?7, ?8 FROM segments s WHERE s.id = ?2 AND s.document_id = ?9";
static const char SQL_SEGS_STORED[] =
    "UPDATE documents SET status = 'indexing', total_segments = ?2, completed_segments = 0,"
    " word_count = ?3, tokens = NULL, progress_at = ?4,"
    " processing_started_at = COALESCE(processing_started_at, ?4),"
    " processing_started_us = COALESCE(processing_started_us, ?5),"
    " parsing_completed_at = COALESCE(parsing_completed_at, ?4),"
    " cleaning_completed_at = COALESCE(cleaning_completed_at, ?4),"
    " splitting_completed_at = ?4 WHERE id = ?1";
static const char SQL_PENDING[] = "SELECT " SQLITE_SEG_COLS " FROM segments s"
                                  " WHERE s.document_id = ?1 AND s.status <> 'completed'"
                                  " ORDER BY s.position LIMIT ?2";
/* the index row is written whatever the segment's status (idempotent) */
static const char SQL_INDEX_PUT[] =
    "INSERT OR REPLACE INTO segment_index (segment_id, dataset_id, vector, dims, terms)"
    " SELECT s.id, s.dataset_id, ?2, ?3, ?4 FROM segments s"
    " WHERE s.id = ?1 AND s.document_id = ?5";
static const char SQL_SEG_DONE[] =
    "UPDATE segments SET status = 'completed', enabled = disabled_at IS NULL, completed_at = ?2,"
    " indexing_at = COALESCE(indexing_at, ?2), keywords = COALESCE(?3, keywords), tokens = ?4,"
    " updated_at = ?2 WHERE id = ?1 AND status <> 'completed'";
static const char SQL_DOC_PROGRESS[] =
    "UPDATE documents SET completed_segments = completed_segments + ?2, progress_at = ?3,"
    " status = CASE WHEN status IN ('waiting', 'parsing', 'cleaning', 'splitting')"
    "   THEN 'indexing' ELSE status END WHERE id = ?1";
static const char SQL_DOC_COMPLETE[] =
    "UPDATE documents SET status = 'completed', completed_at = ?2, error = NULL,"
    " tokens = (SELECT COALESCE(SUM(tokens), 0) FROM segments WHERE document_id = ?1),"
    " indexing_latency = (?3 - processing_started_us) / 1e6 WHERE id = ?1";
static const char SQL_DOC_FAIL[] =
    "UPDATE documents SET status = 'error', error = ?2, stopped_at = ?3, progress_at = ?3,"
    " job_token = 0 WHERE id = ?1";

/* Checks that the job still owns its live, unpaused document; RG_ECANCELED if not. */
static rg_rc owned_doc(rg_sqlite_conn *c, const rg_job *job, owned *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(
        c, SQL_OWNED,
        SQV_ARGS(SQV_TEXT(job->document_id), SQV_TEXT(job->tenant_id), SQV_INT(job->token)), &st));
    rg_rc rc = RG_OK;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        const unsigned char *z = sqlite3_column_text(st, 0);
        if (!z || rg_doc_status_parse((const char *)z, &out->status) != RG_OK)
            rc = rg_sqlite_fail(c, "document status");
        out->total_segments = sqlite3_column_int64(st, 1);
        out->completed_segments = sqlite3_column_int64(st, 2);
    } else
        rc = r == SQLITE_DONE ? RG_ECANCELED : rg_sqlite_fail(c, "job ownership");
    rg_sqlite_stmt_done(c, st);
    return rc;
}

static rg_rc job_touch(rg_sqlite_conn *w, const rg_job *job, int64_t now)
{
    return rg_sqlite_run(w, SQL_JOB_TOUCH, SQV_ARGS(SQV_INT(job->id), SQV_INT(now)), NULL);
}

rg_rc rg_sqlite_job_document(rg_store *base, rg_arena *arena, const rg_job *job, rg_document *out)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(
        c, SQL_JOB_DOC,
        SQV_ARGS(SQV_TEXT(job->document_id), SQV_TEXT(job->tenant_id), SQV_INT(job->token)), &st));
    rg_rc rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        rc = rg_sqlite_row_document(c, arena, st, out);
    else
        rc = r == SQLITE_DONE ? RG_ECANCELED : rg_sqlite_fail(c, "job document");
    rg_sqlite_stmt_done(c, st);
    if (rc != RG_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* Whether stage() moves the status (true), only records progress (false: a
 * restarted job going through stages the document already passed), or
 * refuses (RG_EINVAL). */
static rg_rc stage_moves(const owned *o, rg_doc_status to, bool *moves)
{
    if (o->status == RG_DOC_COMPLETED || o->status == RG_DOC_ERROR)
        return RG_EINVAL;
    if (to == RG_DOC_INDEXING && o->total_segments == 0)
        return RG_EINVAL; /* only job_segments brings a document to indexing */
    *moves = to > o->status;
    return *moves && !rg_doc_status_can_move(o->status, to) ? RG_EINVAL : RG_OK;
}

static rg_rc stage_write(rg_sqlite_conn *w, const rg_job *job, rg_doc_status to)
{
    owned o;
    bool moves = false;
    int64_t now = rg_now_s();
    RG_TRY(owned_doc(w, job, &o));
    RG_TRY(stage_moves(&o, to, &moves));
    if (moves)
        RG_TRY(rg_sqlite_run(w, SQL_STAGE,
                             SQV_ARGS(SQV_TEXT(job->document_id), SQV_TEXT(rg_doc_status_name(to)),
                                      SQV_INT(now), SQV_INT(rg_now_us()), SQV_INT((int64_t)to)),
                             NULL));
    else
        RG_TRY(rg_sqlite_run(w, SQL_DOC_TOUCH, SQV_ARGS(SQV_TEXT(job->document_id), SQV_INT(now)),
                             NULL));
    return job_touch(w, job, now);
}

rg_rc rg_sqlite_job_stage(rg_store *base, const rg_job *job, rg_doc_status to)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    return rg_sqlite_write_end(s, stage_write(w, job, to));
}

static const char *nonempty(const char *z)
{
    return z && *z ? z : NULL;
}

static rg_rc segment_insert(rg_sqlite_conn *w, const rg_job *job, const rg_segment *g,
                            int64_t position, int64_t now)
{
    return rg_sqlite_run(w, SQL_SEG_INSERT,
                         SQV_ARGS(SQV_TEXT(g->id), SQV_TEXT(job->tenant_id),
                                  SQV_TEXT(job->dataset_id), SQV_TEXT(job->document_id),
                                  SQV_INT(position), SQV_TEXT(g->content), SQV_TEXT(g->answer),
                                  SQV_INT(g->word_count), SQV_INT(g->tokens), SQV_TEXT(g->keywords),
                                  SQV_TEXT(nonempty(g->index_node_id)),
                                  SQV_TEXT(nonempty(g->index_node_hash)), SQV_TEXT(g->created_by),
                                  SQV_INT(g->created_at > 0 ? g->created_at : now),
                                  SQV_INT(g->updated_at > 0 ? g->updated_at : now)),
                         NULL);
}

static rg_rc child_insert(rg_sqlite_conn *w, const rg_job *job, const rg_child_chunk *k,
                          int64_t now)
{
    int64_t changes = 0;
    RG_TRY(rg_sqlite_run(w, SQL_CHILD_INSERT,
                         SQV_ARGS(SQV_TEXT(k->id), SQV_TEXT(k->segment_id), SQV_INT(k->position),
                                  SQV_TEXT(k->content), SQV_INT(k->word_count), SQV_TEXT(k->type),
                                  SQV_INT(k->created_at > 0 ? k->created_at : now),
                                  SQV_INT(k->updated_at > 0 ? k->updated_at : now),
                                  SQV_TEXT(job->document_id)),
                         &changes));
    if (changes == 0) {
        rg_warn("store: child chunk %s names %s, not a segment of document %s", k->id,
                k->segment_id, job->document_id);
        return RG_EINVAL;
    }
    return RG_OK;
}

typedef struct seg_batch {
    const rg_segment *segs;
    size_t n;
    const rg_child_chunk *children;
    size_t n_children;
    int64_t word_count;
} seg_batch;

static rg_rc segments_write(rg_sqlite_conn *w, const rg_job *job, const seg_batch *b)
{
    owned o;
    int64_t now = rg_now_s();
    RG_TRY(owned_doc(w, job, &o));
    if (o.status != RG_DOC_INDEXING && !rg_doc_status_can_move(o.status, RG_DOC_INDEXING))
        return RG_EINVAL;
    /* a job that splits again replaces what an earlier run stored */
    RG_TRY(rg_sqlite_run(w, SQL_SEGS_DROP, SQV_ARGS(SQV_TEXT(job->document_id)), NULL));
    for (size_t i = 0; i < b->n; i++)
        RG_TRY(segment_insert(w, job, &b->segs[i], (int64_t)i + 1, now));
    for (size_t i = 0; i < b->n_children; i++)
        RG_TRY(child_insert(w, job, &b->children[i], now));
    RG_TRY(rg_sqlite_run(w, SQL_SEGS_STORED,
                         SQV_ARGS(SQV_TEXT(job->document_id), SQV_INT((int64_t)b->n),
                                  SQV_INT(b->word_count), SQV_INT(now), SQV_INT(rg_now_us())),
                         NULL));
    return job_touch(w, job, now);
}

rg_rc rg_sqlite_job_segments(rg_store *base, const rg_job *job, const rg_segment *segs, size_t n,
                             const rg_child_chunk *children, size_t n_children, int64_t word_count)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    seg_batch b = {segs, n, children, n_children, word_count};
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    return rg_sqlite_write_end(s, segments_write(w, job, &b));
}

static rg_rc pending_read(rg_sqlite_conn *c, rg_arena *arena, const rg_job *job, size_t limit,
                          rg_segment **items, size_t *n)
{
    owned o;
    RG_TRY(owned_doc(c, job, &o));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, SQL_PENDING,
                           SQV_ARGS(SQV_TEXT(job->document_id), SQV_INT((int64_t)limit)), &st));
    void *rows = NULL;
    rg_rc rc = rg_sqlite_collect(c, arena, st, sizeof(rg_segment), rg_sqlite_row_segment, &rows, n);
    rg_sqlite_stmt_done(c, st);
    *items = rows;
    return rc;
}

rg_rc rg_sqlite_job_pending(rg_store *base, rg_arena *arena, const rg_job *job, size_t limit,
                            rg_segment **items, size_t *n)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    RG_TRY(rg_sqlite_tx_begin(c, false)); /* ownership and rows from one snapshot */
    rg_rc rc = pending_read(c, arena, job, limit, items, n);
    rc = rg_sqlite_tx_end(c, rc);
    if (rc != RG_OK) {
        *items = NULL;
        *n = 0;
    }
    return rc;
}

/* Stores one segment's index data and completes it; *moved is 1 when the
 * segment was not completed before. */
static rg_rc index_one(rg_sqlite_conn *w, rg_sqlite_store *s, const rg_job *job,
                       const rg_segment_index *it, int64_t now, int64_t *moved)
{
    int64_t changes = 0;
    size_t vbytes = it->vector ? (size_t)it->dims * sizeof(float) : 0;
    RG_TRY(rg_sqlite_run(w, SQL_INDEX_PUT,
                         SQV_ARGS(SQV_TEXT(it->segment_id), SQV_BLOB(it->vector, vbytes),
                                  SQV_INT(it->vector ? it->dims : 0),
                                  SQV_BLOB(it->terms, it->terms_len), SQV_TEXT(job->document_id)),
                         &changes));
    if (changes == 0) {
        rg_warn("store: segment %s is not a segment of document %s", it->segment_id,
                job->document_id);
        return RG_EINVAL;
    }
    RG_TRY(rg_sqlite_embed_cache_put(w, s, it));
    for (size_t i = 0; i < it->n_children; i++) {
        RG_TRY(rg_sqlite_child_index_put(w, it->children[i].segment_id, it->segment_id,
                                         &it->children[i]));
        RG_TRY(rg_sqlite_embed_cache_put(w, s, &it->children[i]));
    }
    return rg_sqlite_run(w, SQL_SEG_DONE,
                         SQV_ARGS(SQV_TEXT(it->segment_id), SQV_INT(now), SQV_TEXT(it->keywords),
                                  SQV_INT(it->tokens)),
                         moved);
}

typedef struct index_batch {
    rg_sqlite_store *s;
    const rg_segment_index *items;
    size_t n;
} index_batch;

static rg_rc indexed_write(rg_sqlite_conn *w, const rg_job *job, const index_batch *b)
{
    owned o;
    int64_t now = rg_now_s(), moved = 0;
    RG_TRY(owned_doc(w, job, &o));
    if (o.total_segments == 0)
        return RG_EINVAL; /* a document without segments never completes */
    for (size_t i = 0; i < b->n; i++) {
        int64_t one = 0;
        RG_TRY(index_one(w, b->s, job, &b->items[i], now, &one));
        moved += one;
    }
    RG_TRY(rg_sqlite_run(w, SQL_DOC_PROGRESS,
                         SQV_ARGS(SQV_TEXT(job->document_id), SQV_INT(moved), SQV_INT(now)), NULL));
    if (o.status != RG_DOC_COMPLETED && o.completed_segments + moved == o.total_segments)
        RG_TRY(rg_sqlite_run(
            w, SQL_DOC_COMPLETE,
            SQV_ARGS(SQV_TEXT(job->document_id), SQV_INT(now), SQV_INT(rg_now_us())), NULL));
    return job_touch(w, job, now);
}

rg_rc rg_sqlite_job_indexed(rg_store *base, const rg_job *job, const rg_segment_index *items,
                            size_t n)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    index_batch b = {s, items, n};
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    return rg_sqlite_write_end(s, indexed_write(w, job, &b));
}

static rg_rc fail_write(rg_sqlite_conn *w, const rg_job *job, const char *reason)
{
    owned o;
    int64_t now = rg_now_s();
    RG_TRY(owned_doc(w, job, &o));
    if (!rg_doc_status_can_move(o.status, RG_DOC_ERROR))
        return RG_EINVAL; /* completed stays completed */
    RG_TRY(rg_sqlite_run(w, SQL_DOC_FAIL,
                         SQV_ARGS(SQV_TEXT(job->document_id), SQV_TEXT(reason), SQV_INT(now)),
                         NULL));
    return job_touch(w, job, now);
}

rg_rc rg_sqlite_job_fail(rg_store *base, const rg_job *job, const char *reason)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    return rg_sqlite_write_end(s, fail_write(w, job, reason));
}
