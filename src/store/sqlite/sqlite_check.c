/*
 * sqlite_check.c - rg_store_check on SQLite: recomputes every counter the
 * store maintains from the rows themselves and describes the first
 * difference.
 *
 * Checked in one read snapshot, in this order: each dataset's document_count,
 * word_count and available_document_count; each document's total_segments,
 * completed_segments and word_count (the sum of its segments' word counts,
 * which the pipeline stores and chunk editing keeps), and that every segment
 * of a completed document is completed (it may have none left: chunk editing
 * can delete the last one, as Dify's); then that the ids copied into child
 * rows agree with their parents (a segment's dataset and tenant with its
 * document's, a child chunk's with its segment's, an index row's with its
 * unit's: the scan and the index-version triggers rely on them); then the
 * job bookkeeping: a non-zero job_token belongs to a running job of that
 * document, no document has more than one queued or running job, and a
 * document that waits or is in progress (and is not paused) has one.  Each
 * query reads the tables once through their indexes; this is for tests and
 * `ragd check`, not for every request.
 */
#include "store/sqlite/sqlite_int.h"

#include <stdio.h>

static const char SQL_CHECK_DATASETS[] =
    "SELECT id, document_count, n_docs, word_count, n_words, available_document_count, n_avail"
    " FROM (SELECT d.id, d.document_count, d.word_count, d.available_document_count,"
    "  (SELECT COUNT(*) FROM documents x WHERE x.dataset_id = d.id) AS n_docs,"
    "  (SELECT COALESCE(SUM(x.word_count), 0) FROM documents x WHERE x.dataset_id = d.id)"
    "    AS n_words,"
    "  (SELECT COUNT(*) FROM documents x WHERE x.dataset_id = d.id AND x.status = 'completed'"
    "    AND x.enabled AND NOT x.archived) AS n_avail"
    "  FROM datasets d)"
    " WHERE document_count <> n_docs OR word_count <> n_words OR available_document_count <> "
    "n_avail"
    " ORDER BY id LIMIT 1";
static const char SQL_CHECK_DOCUMENTS[] =
    "SELECT id, total_segments, n_total, completed_segments, n_done, word_count, n_words, status"
    " FROM (SELECT d.id, d.total_segments, d.completed_segments, d.status,"
    "  COALESCE(d.word_count, 0) AS word_count,"
    "  (SELECT COUNT(*) FROM segments s WHERE s.document_id = d.id) AS n_total,"
    "  (SELECT COUNT(*) FROM segments s WHERE s.document_id = d.id AND s.status = 'completed')"
    "    AS n_done,"
    "  (SELECT COALESCE(SUM(s.word_count), 0) FROM segments s WHERE s.document_id = d.id)"
    "    AS n_words"
    "  FROM documents d)"
    " WHERE total_segments <> n_total OR completed_segments <> n_done OR word_count <> n_words"
    "  OR (status = 'completed' AND n_done <> n_total)"
    " ORDER BY id LIMIT 1";
static const char SQL_CHECK_LINKS[] =
    "SELECT s.id, 'segment', 'its dataset or tenant is not its document''s' FROM segments s"
    " JOIN documents d ON d.id = s.document_id"
    " WHERE s.dataset_id <> d.dataset_id OR s.tenant_id <> d.tenant_id"
    " UNION ALL"
    " SELECT c.id, 'child chunk', 'its document or dataset is not its segment''s'"
    " FROM child_chunks c JOIN segments s ON s.id = c.segment_id"
    " WHERE c.document_id <> s.document_id OR c.dataset_id <> s.dataset_id"
    " UNION ALL"
    " SELECT i.segment_id, 'segment index row', 'its dataset is not its segment''s'"
    " FROM segment_index i JOIN segments s ON s.id = i.segment_id"
    " WHERE i.dataset_id <> s.dataset_id"
    " UNION ALL"
    " SELECT x.child_id, 'child index row', 'its segment or dataset is not its chunk''s'"
    " FROM child_index x JOIN child_chunks c ON c.id = x.child_id"
    " WHERE x.segment_id <> c.segment_id OR x.dataset_id <> c.dataset_id"
    " LIMIT 1";
static const char SQL_CHECK_JOBS[] =
    "SELECT d.id, 'its job_token belongs to no running job of it' FROM documents d"
    " WHERE d.job_token <> 0 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.document_id = d.id"
    "  AND j.token = d.job_token AND j.state = 'running')"
    " UNION ALL"
    " SELECT document_id, 'it has more than one queued or running job' FROM jobs"
    " WHERE state IN ('queued', 'running') GROUP BY document_id HAVING COUNT(*) > 1"
    " UNION ALL"
    " SELECT d.id, 'it is ' || d.status || ' but no job is queued or running for it'"
    " FROM documents d WHERE d.status IN ('waiting', 'parsing', 'cleaning', 'splitting',"
    "  'indexing') AND NOT d.is_paused AND NOT EXISTS (SELECT 1 FROM jobs j"
    "  WHERE j.document_id = d.id AND j.state IN ('queued', 'running'))"
    " LIMIT 1";

/* Describes the first of the (stored, recomputed) column pairs that differ. */
static const char *pair_diff(rg_arena *a, sqlite3_stmt *st, const char *what,
                             const char *const *names, int n_pairs)
{
    const char *id = (const char *)sqlite3_column_text(st, 0);
    for (int i = 0; i < n_pairs; i++) {
        int64_t stored = sqlite3_column_int64(st, 1 + 2 * i);
        int64_t actual = sqlite3_column_int64(st, 2 + 2 * i);
        if (stored != actual)
            return rg_arena_printf(a, "%s %s: %s is %lld but the rows say %lld", what,
                                   id ? id : "?", names[i], (long long)stored, (long long)actual);
    }
    return NULL;
}

/* Runs one check query; a row is a difference, which fmt turns into *why. */
static rg_rc check_one(rg_sqlite_conn *c, rg_arena *a, const char *sql,
                       const char *(*fmt)(rg_arena *a, sqlite3_stmt *st), const char **why)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, sql, &st));
    rg_rc rc = RG_OK;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *why = fmt(a, st);
        rc = RG_EIO;
    } else if (r != SQLITE_DONE)
        rc = rg_sqlite_fail(c, "check");
    rg_sqlite_stmt_done(c, st);
    return rc;
}

static const char *dataset_diff(rg_arena *a, sqlite3_stmt *st)
{
    static const char *const names[] = {"document_count", "word_count", "available_document_count"};
    return pair_diff(a, st, "dataset", names, 3);
}

static const char *document_diff(rg_arena *a, sqlite3_stmt *st)
{
    static const char *const names[] = {"total_segments", "completed_segments", "word_count"};
    const char *why = pair_diff(a, st, "document", names, 3);
    if (why)
        return why;
    return rg_arena_printf(a, "document %s: completed with %lld of %lld segments completed",
                           (const char *)sqlite3_column_text(st, 0),
                           (long long)sqlite3_column_int64(st, 4),
                           (long long)sqlite3_column_int64(st, 2));
}

static const char *link_diff(rg_arena *a, sqlite3_stmt *st)
{
    return rg_arena_printf(a, "%s %s: %s", (const char *)sqlite3_column_text(st, 1),
                           (const char *)sqlite3_column_text(st, 0),
                           (const char *)sqlite3_column_text(st, 2));
}

static const char *job_diff(rg_arena *a, sqlite3_stmt *st)
{
    return rg_arena_printf(a, "document %s: %s", (const char *)sqlite3_column_text(st, 0),
                           (const char *)sqlite3_column_text(st, 1));
}

static rg_rc check_all(rg_sqlite_conn *c, rg_arena *a, const char **why)
{
    RG_TRY(check_one(c, a, SQL_CHECK_DATASETS, dataset_diff, why));
    RG_TRY(check_one(c, a, SQL_CHECK_DOCUMENTS, document_diff, why));
    RG_TRY(check_one(c, a, SQL_CHECK_LINKS, link_diff, why));
    return check_one(c, a, SQL_CHECK_JOBS, job_diff, why);
}

rg_rc rg_sqlite_check(rg_store *base, rg_arena *arena, const char **why)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    RG_TRY(rg_sqlite_tx_begin(c, false));
    rg_rc rc = check_all(c, arena, why);
    if (rc == RG_EIO && !*why)
        *why = "the check itself failed (see the log)";
    return rg_sqlite_tx_end(c, rc);
}
