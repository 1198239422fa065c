/*
 * sqlite_index.c - what search reads on SQLite: a dataset's index version
 * (datasets.index_version, kept by the triggers of migration 3) and the scan
 * of its searchable units.
 *
 * The scan is one statement in one read transaction that also reads the
 * version, stepped row by row into the callback: nothing is collected first.
 * It is a UNION ALL of two joins, each walking documents by
 * (dataset_id, position), their segments by (document_id, status, position),
 * then one primary-key lookup per unit: the first yields segments (with their
 * segment_index row, if any), the second child chunks of parent-child
 * documents with their child_index row.  SQLite merges the two on (document
 * position, segment position, segments before their children, child
 * position) without sorting, as each side already comes in that order from
 * its indexes (rowids break ties, so the order is total); each index row is
 * read once.  SQLite does not promise that a blob is aligned for float
 * (today it copies column values into malloc'd memory, so it is), so a
 * misaligned vector would be copied into a buffer the scan owns.  The
 * callback may call other store functions, but not rg_store_index_scan: the
 * scan's statement is in use until it returns.
 */
#include "store/sqlite/sqlite_int.h"

#include "core/alloc.h"
#include "core/log.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

static const char SQL_INDEX_VERSION[] =
    "SELECT index_version FROM datasets WHERE id = ?1 AND tenant_id = ?2";

/* A segment or document is searchable when it is completed and enabled (and,
 * for a document, not archived). */
#define SCAN_FROM " FROM documents d JOIN segments s ON s.document_id = d.id"
#define SCAN_WHERE                                                                                 \
    " WHERE d.dataset_id = ?1 AND d.tenant_id = ?2 AND d.status = 'completed' AND d.enabled"       \
    " AND NOT d.archived AND s.status = 'completed' AND s.enabled"
/* Result columns 0..6 are the merge key, 7.. the unit; where is SCAN_WHERE
 * or it and one document. */
#define SCAN_SQL(where)                                                                            \
    "SELECT d.position, d.rowid, s.position, s.rowid, 0, 0, 0,"                                    \
    " s.id, s.document_id, NULL, i.vector, i.dims, i.terms" SCAN_FROM                              \
    " LEFT JOIN segment_index i ON i.segment_id = s.id" where /* a parent segment counts when it   \
                                                                 has index data of its own */      \
    " AND (d.doc_form <> 'hierarchical_model' OR i.vector IS NOT NULL"                             \
    "  OR i.terms IS NOT NULL)"                                                                    \
    " UNION ALL"                                                                                   \
    " SELECT d.position, d.rowid, s.position, s.rowid, 1, c.position, c.rowid,"                    \
    " s.id, s.document_id, c.id, x.vector, x.dims, x.terms" SCAN_FROM                              \
    " JOIN child_chunks c ON c.segment_id = s.id JOIN child_index x ON x.child_id = c.id" where    \
    " AND d.doc_form = 'hierarchical_model'"                                                       \
    " ORDER BY 1, 2, 3, 4, 5, 6, 7"
static const char SQL_INDEX_SCAN[] = SCAN_SQL(SCAN_WHERE);
static const char SQL_INDEX_SCAN_DOC[] = SCAN_SQL(SCAN_WHERE " AND d.id = ?3");
static const char SQL_INDEX_LOG_FROM[] =
    "SELECT index_version, index_log_from FROM datasets WHERE id = ?1 AND tenant_id = ?2";
static const char SQL_INDEX_CHANGED[] =
    "SELECT DISTINCT document_id FROM index_log WHERE dataset_id = ?1 AND version > ?2";
static const char SQL_INDEX_TRIM[] =
    "DELETE FROM index_log WHERE dataset_id = ?1 AND version <= ?2";
static const char SQL_INDEX_TRIM_FROM[] =
    "UPDATE datasets SET index_log_from = max(index_log_from, ?3)"
    " WHERE id = ?1 AND tenant_id = ?2";

const char *rg_sqlite_index_scan_sql(void)
{
    return SQL_INDEX_SCAN;
}

enum { COL_SEGMENT = 7, COL_DOCUMENT, COL_CHILD, COL_VECTOR, COL_DIMS, COL_TERMS };

rg_rc rg_sqlite_index_version(rg_store *base, const char *tenant_id, const char *dataset_id,
                              int64_t *version)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    return rg_sqlite_int(c, SQL_INDEX_VERSION, SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)),
                         version);
}

typedef struct scan_state {
    rg_sqlite_conn *c;
    rg_rc (*fn)(const rg_index_row *row, void *arg);
    void *arg;
    float *aligned; /* for vectors that are not float-aligned in the page */
    size_t cap;     /* floats */
} scan_state;

/* Points row->vector at column COL_VECTOR's floats (copied if misaligned). */
static rg_rc read_vector(scan_state *sc, sqlite3_stmt *st, rg_index_row *row)
{
    const void *p = sqlite3_column_blob(st, COL_VECTOR);
    size_t bytes = (size_t)sqlite3_column_bytes(st, COL_VECTOR);
    int64_t dims = sqlite3_column_int64(st, COL_DIMS);
    row->vector = NULL;
    row->dims = 0;
    if (!p)
        return bytes ? rg_sqlite_fail(sc->c, "index scan: read vector") : RG_OK;
    if (dims <= 0 || dims > INT32_MAX || bytes != (size_t)dims * sizeof(float)) {
        rg_error("store: index row of %s holds %zu vector bytes for %lld dimensions",
                 (const char *)sqlite3_column_text(st, COL_SEGMENT), bytes, (long long)dims);
        return RG_EIO;
    }
    if ((uintptr_t)p % alignof(float) != 0) {
        if ((size_t)dims > sc->cap) {
            float *q = rg_try_realloc(sc->aligned, bytes);
            if (!q)
                return RG_ENOMEM;
            sc->aligned = q;
            sc->cap = (size_t)dims;
        }
        memcpy(sc->aligned, p, bytes);
        p = sc->aligned;
    }
    row->vector = p;
    row->dims = (int)dims;
    return RG_OK;
}

static rg_rc read_unit(scan_state *sc, sqlite3_stmt *st, rg_index_row *row)
{
    memset(row, 0, sizeof *row);
    row->segment_id = (const char *)sqlite3_column_text(st, COL_SEGMENT);
    row->document_id = (const char *)sqlite3_column_text(st, COL_DOCUMENT);
    row->child_id = (const char *)sqlite3_column_text(st, COL_CHILD);
    if (!row->segment_id || !row->document_id)
        return rg_sqlite_fail(sc->c, "index scan: read ids");
    RG_TRY(read_vector(sc, st, row));
    row->terms = sqlite3_column_blob(st, COL_TERMS);
    row->terms_len = (size_t)sqlite3_column_bytes(st, COL_TERMS);
    if (!row->terms && row->terms_len)
        return rg_sqlite_fail(sc->c, "index scan: read terms");
    return RG_OK;
}

/* Streams the rows of the whole dataset, or of one document (document_id
 * not NULL). */
static rg_rc scan_rows(scan_state *sc, const char *tenant_id, const char *dataset_id,
                       const char *document_id)
{
    sqlite3_stmt *st;
    if (document_id)
        RG_TRY(rg_sqlite_query(
            sc->c, SQL_INDEX_SCAN_DOC,
            SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id), SQV_TEXT(document_id)), &st));
    else
        RG_TRY(rg_sqlite_query(sc->c, SQL_INDEX_SCAN,
                               SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)), &st));
    rg_rc rc = RG_OK;
    int r = SQLITE_DONE;
    while (rc == RG_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        rg_index_row row;
        rc = read_unit(sc, st, &row);
        if (rc == RG_OK)
            rc = sc->fn(&row, sc->arg);
    }
    if (rc == RG_OK && r != SQLITE_DONE)
        rc = rg_sqlite_fail(sc->c, "index scan");
    rg_sqlite_stmt_done(sc->c, st);
    return rc;
}

rg_rc rg_sqlite_index_scan(rg_store *base, const char *tenant_id, const char *dataset_id,
                           int64_t *version, rg_rc (*fn)(const rg_index_row *row, void *arg),
                           void *arg)
{
    scan_state sc = {.fn = fn, .arg = arg};
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &sc.c));
    RG_TRY(rg_sqlite_tx_begin(sc.c, false)); /* the version and the rows from one snapshot */
    rg_rc rc = rg_sqlite_int(sc.c, SQL_INDEX_VERSION,
                             SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)), version);
    if (rc == RG_OK)
        rc = scan_rows(&sc, tenant_id, dataset_id, NULL);
    rc = rg_sqlite_tx_end(sc.c, rc);
    rg_free(sc.aligned);
    if (rc != RG_OK)
        *version = 0;
    return rc;
}

/* The changed documents after since, each followed by its rows. */
static rg_rc scan_changed(scan_state *sc, const char *tenant_id, const char *dataset_id,
                          int64_t since, rg_rc (*changed)(const char *document_id, void *arg))
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(sc->c, SQL_INDEX_CHANGED, SQV_ARGS(SQV_TEXT(dataset_id), SQV_INT(since)),
                           &st));
    rg_rc rc = RG_OK;
    int r = SQLITE_DONE;
    while (rc == RG_OK && (r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *doc = (const char *)sqlite3_column_text(st, 0);
        if (!doc) {
            rc = rg_sqlite_fail(sc->c, "index changes: read document id");
            break;
        }
        rc = changed(doc, sc->arg);
        if (rc == RG_OK) /* another cached statement: the two step side by side */
            rc = scan_rows(sc, tenant_id, dataset_id, doc);
    }
    if (rc == RG_OK && r != SQLITE_DONE)
        rc = rg_sqlite_fail(sc->c, "index changes");
    rg_sqlite_stmt_done(sc->c, st);
    return rc;
}

rg_rc rg_sqlite_index_scan_changes(rg_store *base, const char *tenant_id, const char *dataset_id,
                                   int64_t since, int64_t *version,
                                   rg_rc (*changed)(const char *document_id, void *arg),
                                   rg_rc (*fn)(const rg_index_row *row, void *arg), void *arg)
{
    scan_state sc = {.fn = fn, .arg = arg};
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &sc.c));
    RG_TRY(rg_sqlite_tx_begin(sc.c, false)); /* the version, the log and the rows: one snapshot */
    sqlite3_stmt *st;
    rg_rc rc = rg_sqlite_query(sc.c, SQL_INDEX_LOG_FROM,
                               SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)), &st);
    if (rc == RG_OK) {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            *version = sqlite3_column_int64(st, 0);
            if (since < sqlite3_column_int64(st, 1) || since > *version)
                rc = RG_ENOTFOUND; /* trimmed, or a version this store never had */
        } else
            rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(sc.c, "index log");
        rg_sqlite_stmt_done(sc.c, st);
    }
    if (rc == RG_OK)
        rc = scan_changed(&sc, tenant_id, dataset_id, since, changed);
    rc = rg_sqlite_tx_end(sc.c, rc);
    rg_free(sc.aligned);
    if (rc != RG_OK)
        *version = 0;
    return rc;
}

rg_rc rg_sqlite_index_log_trim(rg_store *base, const char *tenant_id, const char *dataset_id,
                               int64_t upto)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    int64_t changes = 0;
    rg_rc rc =
        rg_sqlite_run(w, SQL_INDEX_TRIM_FROM,
                      SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id), SQV_INT(upto)), &changes);
    if (rc == RG_OK && changes == 0)
        rc = RG_ENOTFOUND;
    if (rc == RG_OK)
        rc = rg_sqlite_run(w, SQL_INDEX_TRIM, SQV_ARGS(SQV_TEXT(dataset_id), SQV_INT(upto)), NULL);
    return rg_sqlite_write_end(s, rc);
}
