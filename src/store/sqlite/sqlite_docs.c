/*
 * sqlite_docs.c - documents, their segments and child chunks on SQLite:
 * insert, replace, read, list, batch status, delete and the batch actions
 * (enable, disable, archive, un_archive, pause, resume, retry).
 *
 * Every write is one BEGIN IMMEDIATE transaction.  The dataset counters follow
 * documents through the triggers of migration 2; a document's own counters
 * (total_segments, completed_segments) are written by the statements that
 * change its segments.  Upload files are removed only after the commit that
 * dropped their row.  The document columns are listed once, in doc_fields,
 * in the order of SQLITE_DOC_COLS (sqlite_int.h); the upload's columns follow.
 */
#include "store/sqlite/sqlite_int.h"

#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* --- reading rows ------------------------------------------------------------- */

enum doc_kind { DK_FIXED, DK_TEXT, DK_INT, DK_OPT, DK_BOOL, DK_STATUS, DK_REAL };

#define DOC_FIELD(kind, field)                                                                     \
    {                                                                                              \
        kind, offsetof(rg_document, field), sizeof(((rg_document *)0)->field)                      \
    }

/* Field i is result column i of SQLITE_DOC_COLS. */
static const struct doc_field {
    enum doc_kind kind;
    size_t off, size;
} doc_fields[] = {
    DOC_FIELD(DK_FIXED, id),
    DOC_FIELD(DK_FIXED, tenant_id),
    DOC_FIELD(DK_FIXED, dataset_id),
    DOC_FIELD(DK_INT, position),
    DOC_FIELD(DK_FIXED, batch),
    DOC_FIELD(DK_TEXT, name),
    DOC_FIELD(DK_TEXT, data_source_type),
    DOC_FIELD(DK_TEXT, created_from),
    DOC_FIELD(DK_TEXT, created_by),
    DOC_FIELD(DK_INT, created_at),
    DOC_FIELD(DK_INT, updated_at),
    DOC_FIELD(DK_TEXT, doc_form),
    DOC_FIELD(DK_TEXT, doc_language),
    DOC_FIELD(DK_TEXT, indexing_technique),
    DOC_FIELD(DK_TEXT, embedding_model),
    DOC_FIELD(DK_TEXT, embedding_model_provider),
    DOC_FIELD(DK_FIXED, process_rule_id),
    DOC_FIELD(DK_STATUS, status),
    DOC_FIELD(DK_BOOL, is_paused),
    DOC_FIELD(DK_OPT, processing_started_at),
    DOC_FIELD(DK_OPT, parsing_completed_at),
    DOC_FIELD(DK_OPT, cleaning_completed_at),
    DOC_FIELD(DK_OPT, splitting_completed_at),
    DOC_FIELD(DK_OPT, completed_at),
    DOC_FIELD(DK_OPT, paused_at),
    DOC_FIELD(DK_OPT, stopped_at),
    DOC_FIELD(DK_OPT, disabled_at),
    DOC_FIELD(DK_OPT, archived_at),
    DOC_FIELD(DK_TEXT, error),
    DOC_FIELD(DK_BOOL, enabled),
    DOC_FIELD(DK_BOOL, archived),
    DOC_FIELD(DK_TEXT, disabled_by),
    DOC_FIELD(DK_TEXT, archived_by),
    DOC_FIELD(DK_OPT, word_count),
    DOC_FIELD(DK_OPT, tokens),
    DOC_FIELD(DK_REAL, indexing_latency),
    DOC_FIELD(DK_INT, total_segments),
    DOC_FIELD(DK_INT, completed_segments),
    DOC_FIELD(DK_TEXT, doc_type),
    DOC_FIELD(DK_TEXT, doc_metadata),
    DOC_FIELD(DK_TEXT, process_rule),
};

#define DOC_N_FIELDS  ((int)RG_ARRAY_LEN(doc_fields))
#define UPLOAD_N_COLS 8 /* u.id ... u.sha256 after the document's columns */

static rg_rc col_status(rg_sqlite_conn *c, sqlite3_stmt *st, int i, rg_doc_status *out)
{
    const char *z;
    size_t n;
    RG_TRY(rg_sqlite_col_text(c, st, i, &z, &n));
    if (!z || rg_doc_status_parse(z, out) != RG_OK) {
        rg_error("store: unknown document status '%s'", z ? z : "(null)");
        return RG_EIO;
    }
    return RG_OK;
}

static rg_rc read_field(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, int i, rg_document *d)
{
    const struct doc_field *f = &doc_fields[i];
    char *p = (char *)d + f->off;
    switch (f->kind) {
    case DK_FIXED: return rg_sqlite_col_fixed(c, st, i, p, f->size);
    case DK_TEXT: return rg_sqlite_col_arena(c, a, st, i, (const char **)(void *)p);
    case DK_INT: *(int64_t *)(void *)p = sqlite3_column_int64(st, i); return RG_OK;
    case DK_OPT: *(int64_t *)(void *)p = rg_sqlite_col_opt(st, i); return RG_OK;
    case DK_BOOL: *(bool *)p = sqlite3_column_int(st, i) != 0; return RG_OK;
    case DK_STATUS: return col_status(c, st, i, (rg_doc_status *)(void *)p);
    case DK_REAL:
        *(double *)(void *)p =
            sqlite3_column_type(st, i) == SQLITE_NULL ? -1.0 : sqlite3_column_double(st, i);
        return RG_OK;
    }
    return RG_EIO;
}

static rg_rc read_upload(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, int i, rg_upload *u)
{
    RG_TRY(rg_sqlite_col_fixed(c, st, i, u->id, sizeof u->id));
    RG_TRY(rg_sqlite_col_arena(c, a, st, i + 1, &u->name));
    u->size = sqlite3_column_int64(st, i + 2);
    RG_TRY(rg_sqlite_col_arena(c, a, st, i + 3, &u->extension));
    RG_TRY(rg_sqlite_col_arena(c, a, st, i + 4, &u->mime_type));
    RG_TRY(rg_sqlite_col_arena(c, a, st, i + 5, &u->created_by));
    u->created_at_us = sqlite3_column_int64(st, i + 6);
    const void *h = sqlite3_column_blob(st, i + 7);
    if (h && sqlite3_column_bytes(st, i + 7) == (int)sizeof u->sha256)
        memcpy(u->sha256, h, sizeof u->sha256);
    return RG_OK;
}

rg_rc rg_sqlite_row_document(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item)
{
    rg_document *d = item;
    RG_ASSERT(sqlite3_column_count(st) == DOC_N_FIELDS + UPLOAD_N_COLS);
    memset(d, 0, sizeof *d);
    for (int i = 0; i < DOC_N_FIELDS; i++)
        RG_TRY(read_field(c, a, st, i, d));
    return read_upload(c, a, st, DOC_N_FIELDS, &d->upload);
}

rg_rc rg_sqlite_row_segment(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item)
{
    rg_segment *g = item;
    memset(g, 0, sizeof *g);
    RG_TRY(rg_sqlite_col_fixed(c, st, 0, g->id, sizeof g->id));
    RG_TRY(rg_sqlite_col_fixed(c, st, 1, g->document_id, sizeof g->document_id));
    RG_TRY(rg_sqlite_col_fixed(c, st, 2, g->dataset_id, sizeof g->dataset_id));
    g->position = sqlite3_column_int64(st, 3);
    RG_TRY(rg_sqlite_col_arena(c, a, st, 4, &g->content));
    RG_TRY(rg_sqlite_col_arena(c, a, st, 5, &g->answer));
    g->word_count = sqlite3_column_int64(st, 6);
    g->tokens = sqlite3_column_int64(st, 7);
    RG_TRY(rg_sqlite_col_arena(c, a, st, 8, &g->keywords));
    RG_TRY(rg_sqlite_col_fixed(c, st, 9, g->index_node_id, sizeof g->index_node_id));
    RG_TRY(rg_sqlite_col_fixed(c, st, 10, g->index_node_hash, sizeof g->index_node_hash));
    g->hit_count = sqlite3_column_int64(st, 11);
    g->enabled = sqlite3_column_int(st, 12) != 0;
    g->disabled_at = rg_sqlite_col_opt(st, 13);
    RG_TRY(rg_sqlite_col_arena(c, a, st, 14, &g->disabled_by));
    RG_TRY(rg_sqlite_col_arena(c, a, st, 15, &g->status));
    RG_TRY(rg_sqlite_col_arena(c, a, st, 16, &g->created_by));
    g->created_at = sqlite3_column_int64(st, 17);
    g->updated_at = sqlite3_column_int64(st, 18);
    g->indexing_at = rg_sqlite_col_opt(st, 19);
    g->completed_at = rg_sqlite_col_opt(st, 20);
    g->stopped_at = rg_sqlite_col_opt(st, 21);
    RG_TRY(rg_sqlite_col_arena(c, a, st, 22, &g->updated_by));
    return rg_sqlite_col_arena(c, a, st, 23, &g->error);
}

static rg_rc row_child_chunk(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item)
{
    rg_child_chunk *k = item;
    RG_TRY(rg_sqlite_col_fixed(c, st, 0, k->id, sizeof k->id));
    RG_TRY(rg_sqlite_col_fixed(c, st, 1, k->segment_id, sizeof k->segment_id));
    k->position = sqlite3_column_int64(st, 2);
    RG_TRY(rg_sqlite_col_arena(c, a, st, 3, &k->content));
    k->word_count = sqlite3_column_int64(st, 4);
    RG_TRY(rg_sqlite_col_arena(c, a, st, 5, &k->type));
    k->created_at = sqlite3_column_int64(st, 6);
    k->updated_at = sqlite3_column_int64(st, 7);
    return RG_OK;
}

/* --- insert and replace ------------------------------------------------------------ */

/* The dataset takes its first document's doc_form, source and technique (and,
 * when the technique is high_quality, its embedding model); no change means no
 * such dataset.  In SET, the columns are their values before the update. */
static const char SQL_DATASET_FIRST_DOC[] =
    "UPDATE datasets SET doc_form = COALESCE(doc_form, ?3),"
    " data_source_type = COALESCE(data_source_type, ?4),"
    " indexing_technique = COALESCE(indexing_technique, ?5),"
    " embedding_model = CASE WHEN embedding_model IS NULL"
    "   AND COALESCE(indexing_technique, ?5) = 'high_quality' THEN ?6 ELSE embedding_model END,"
    " embedding_model_provider = CASE WHEN embedding_model_provider IS NULL"
    "   AND COALESCE(indexing_technique, ?5) = 'high_quality' THEN ?7"
    "   ELSE embedding_model_provider END"
    " WHERE id = ?1 AND tenant_id = ?2";
static const char SQL_UPLOAD_INSERT[] =
    "INSERT INTO upload_files (id, tenant_id, name, size, extension, mime_type, created_by,"
    " created_at_us, sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_UPLOAD_DELETE[] = "DELETE FROM upload_files WHERE id = ?1";
/* {"mode": ..., "rules": ...} is split into its two parts; invalid JSON or
 * anything but an object inserts nothing, and a missing mode fails NOT NULL */
static const char SQL_RULE_INSERT[] =
    "INSERT INTO process_rules (id, dataset_id, mode, rules, created_by, created_at)"
    " SELECT ?1, ?2, ?3 ->> '$.mode', ?3 -> '$.rules', ?4, ?5"
    " WHERE CASE WHEN json_valid(?3) THEN json_type(?3) = 'object' ELSE 0 END";
static const char SQL_DOC_INSERT[] =
    "INSERT INTO documents (id, tenant_id, dataset_id, position, batch, name, data_source_type,"
    " created_from, created_by, created_at, updated_at, doc_form, doc_language,"
    " indexing_technique, embedding_model, embedding_model_provider, process_rule_id,"
    " upload_id, doc_type, doc_metadata)"
    " VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(position), 0) + 1 FROM documents"
    "   WHERE dataset_id = ?3), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
    " ?17, ?18, ?19) RETURNING position";
static const char SQL_DOC_CURRENT[] = "SELECT upload_id, position FROM documents"
                                      " WHERE id = ?1 AND dataset_id = ?2 AND tenant_id = ?3";
static const char SQL_SEGMENTS_DELETE[] = "DELETE FROM segments WHERE document_id = ?1";
static const char SQL_DOC_REPLACE[] =
    "UPDATE documents SET upload_id = ?2, name = ?3, process_rule_id = ?4,"
    " batch = COALESCE(?5, batch), doc_form = ?6, doc_language = ?7, updated_at = ?8,"
    " status = 'waiting', is_paused = 0, paused_by = NULL, paused_at = NULL,"
    " processing_started_at = NULL, processing_started_us = NULL, parsing_completed_at = NULL,"
    " cleaning_completed_at = NULL, splitting_completed_at = NULL, completed_at = NULL,"
    " stopped_at = NULL, error = NULL, word_count = NULL, tokens = NULL,"
    " indexing_latency = NULL, total_segments = 0, completed_segments = 0, job_token = 0,"
    " progress_at = NULL WHERE id = ?1";

static const char *default_str(const char *z, const char *dflt)
{
    return z ? z : dflt;
}

static int64_t default_time(int64_t t, int64_t now)
{
    return t > 0 ? t : now;
}

static rg_rc dataset_first_doc(rg_sqlite_conn *w, const rg_document *d)
{
    int64_t changes = 0;
    RG_TRY(rg_sqlite_run(w, SQL_DATASET_FIRST_DOC,
                         SQV_ARGS(SQV_TEXT(d->dataset_id), SQV_TEXT(d->tenant_id),
                                  SQV_TEXT(d->doc_form),
                                  SQV_TEXT(default_str(d->data_source_type, "upload_file")),
                                  SQV_TEXT(d->indexing_technique), SQV_TEXT(d->embedding_model),
                                  SQV_TEXT(d->embedding_model_provider)),
                         &changes));
    return changes ? RG_OK : RG_ENOTFOUND;
}

static rg_rc upload_insert(rg_sqlite_conn *w, const char *tenant_id, const rg_upload *u)
{
    static const unsigned char zero[32];
    bool hashed = memcmp(u->sha256, zero, sizeof zero) != 0;
    return rg_sqlite_run(w, SQL_UPLOAD_INSERT,
                         SQV_ARGS(SQV_TEXT(u->id), SQV_TEXT(tenant_id), SQV_TEXT(u->name),
                                  SQV_INT(u->size), SQV_TEXT(u->extension), SQV_TEXT(u->mime_type),
                                  SQV_TEXT(u->created_by), SQV_INT(u->created_at_us),
                                  SQV_BLOB(hashed ? u->sha256 : NULL, sizeof u->sha256)),
                         NULL);
}

static rg_rc rule_insert(rg_sqlite_conn *w, const rg_document *d, int64_t now)
{
    int64_t changes = 0;
    RG_TRY(rg_sqlite_run(w, SQL_RULE_INSERT,
                         SQV_ARGS(SQV_TEXT(d->process_rule_id), SQV_TEXT(d->dataset_id),
                                  SQV_TEXT(d->process_rule), SQV_TEXT(d->created_by), SQV_INT(now)),
                         &changes));
    if (changes == 0) {
        rg_warn("store: document %s: the process rule is not a JSON object", d->id);
        return RG_EINVAL;
    }
    return RG_OK;
}

static rg_rc doc_insert(rg_sqlite_conn *w, const rg_document *d, int64_t now, int64_t *position)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(
        w, SQL_DOC_INSERT,
        SQV_ARGS(
            SQV_TEXT(d->id), SQV_TEXT(d->tenant_id), SQV_TEXT(d->dataset_id), SQV_TEXT(d->batch),
            SQV_TEXT(d->name), SQV_TEXT(default_str(d->data_source_type, "upload_file")),
            SQV_TEXT(default_str(d->created_from, "api")), SQV_TEXT(d->created_by),
            SQV_INT(default_time(d->created_at, now)), SQV_INT(default_time(d->updated_at, now)),
            SQV_TEXT(d->doc_form), SQV_TEXT(d->doc_language), SQV_TEXT(d->indexing_technique),
            SQV_TEXT(d->embedding_model), SQV_TEXT(d->embedding_model_provider),
            SQV_TEXT(d->process_rule_id), SQV_TEXT(d->upload.id), SQV_TEXT(d->doc_type),
            SQV_TEXT(d->doc_metadata)),
        &st));
    rg_rc rc = RG_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *position = sqlite3_column_int64(st, 0);
    else
        rc = rg_sqlite_step_error(w, RG_ECONFLICT, RG_ECONFLICT, "document insert");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

/* The lifecycle fields of a document that waits for its first job, as stored. */
static void reset_lifecycle(rg_document *d)
{
    d->status = RG_DOC_WAITING;
    d->is_paused = false;
    d->processing_started_at = d->parsing_completed_at = d->cleaning_completed_at = -1;
    d->splitting_completed_at = d->completed_at = d->paused_at = d->stopped_at = -1;
    d->error = NULL;
    d->word_count = d->tokens = -1;
    d->indexing_latency = -1;
    d->total_segments = d->completed_segments = 0;
}

rg_rc rg_sqlite_document_insert(rg_store *base, rg_document *d)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    int64_t now = rg_now_s(), position = 0;
    rg_uuid4(d->process_rule_id);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = dataset_first_doc(w, d);
    if (rc == RG_OK)
        rc = upload_insert(w, d->tenant_id, &d->upload);
    if (rc == RG_OK)
        rc = rule_insert(w, d, now);
    if (rc == RG_OK)
        rc = doc_insert(w, d, now, &position);
    if (rc == RG_OK)
        rc = rg_sqlite_job_queue(w, d->tenant_id, d->dataset_id, d->id, now);
    rc = rg_sqlite_write_end(s, rc);
    if (rc != RG_OK)
        return rc;
    d->position = position;
    d->data_source_type = default_str(d->data_source_type, "upload_file");
    d->created_from = default_str(d->created_from, "api");
    d->created_at = default_time(d->created_at, now);
    d->updated_at = default_time(d->updated_at, now);
    reset_lifecycle(d);
    d->enabled = true;
    d->archived = false;
    d->disabled_at = d->archived_at = -1;
    d->disabled_by = d->archived_by = NULL;
    return RG_OK;
}

/* Reads the upload id and position of a document of the dataset; RG_ENOTFOUND. */
static rg_rc doc_current(rg_sqlite_conn *w, const char *tenant_id, const char *dataset_id,
                         const char *id, char upload_id[RG_UUID_LEN + 1], int64_t *position)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(w, SQL_DOC_CURRENT,
                           SQV_ARGS(SQV_TEXT(id), SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)), &st));
    rg_rc rc = RG_OK;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        rc = rg_sqlite_col_fixed(w, st, 0, upload_id, RG_UUID_LEN + 1);
        *position = sqlite3_column_int64(st, 1);
    } else
        rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(w, "document lookup");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

static rg_rc doc_replace_row(rg_sqlite_conn *w, const rg_document *d, int64_t now)
{
    return rg_sqlite_run(w, SQL_DOC_REPLACE,
                         SQV_ARGS(SQV_TEXT(d->id), SQV_TEXT(d->upload.id), SQV_TEXT(d->name),
                                  SQV_TEXT(d->process_rule_id),
                                  SQV_TEXT(d->batch[0] ? d->batch : NULL), SQV_TEXT(d->doc_form),
                                  SQV_TEXT(d->doc_language),
                                  SQV_INT(default_time(d->updated_at, now))),
                         NULL);
}

/* Everything of replace that happens inside the transaction. */
static rg_rc replace_rows(rg_sqlite_conn *w, const rg_document *d, const char *old_upload,
                          int64_t now)
{
    bool new_upload = strcmp(old_upload, d->upload.id) != 0;
    if (new_upload)
        RG_TRY(upload_insert(w, d->tenant_id, &d->upload));
    RG_TRY(rule_insert(w, d, now));
    RG_TRY(rg_sqlite_run(w, SQL_SEGMENTS_DELETE, SQV_ARGS(SQV_TEXT(d->id)), NULL));
    RG_TRY(doc_replace_row(w, d, now));
    if (new_upload)
        RG_TRY(rg_sqlite_run(w, SQL_UPLOAD_DELETE, SQV_ARGS(SQV_TEXT(old_upload)), NULL));
    return rg_sqlite_job_queue(w, d->tenant_id, d->dataset_id, d->id, now);
}

rg_rc rg_sqlite_document_replace(rg_store *base, rg_document *d)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    int64_t now = rg_now_s(), position = 0;
    char old_upload[RG_UUID_LEN + 1] = "";
    rg_uuid4(d->process_rule_id);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = doc_current(w, d->tenant_id, d->dataset_id, d->id, old_upload, &position);
    if (rc == RG_OK)
        rc = replace_rows(w, d, old_upload, now);
    rc = rg_sqlite_write_end(s, rc);
    if (rc != RG_OK)
        return rc;
    if (strcmp(old_upload, d->upload.id) != 0)
        rg_sqlite_upload_unlink(s, old_upload);
    d->position = position;
    d->updated_at = default_time(d->updated_at, now);
    reset_lifecycle(d);
    return RG_OK;
}

/* --- reads -------------------------------------------------------------------------- */

static const char SQL_DOC_GET[] = "SELECT " SQLITE_DOC_COLS SQLITE_DOC_FROM
                                  " WHERE d.id = ?1 AND d.dataset_id = ?2 AND d.tenant_id = ?3";

/* Dify's display-status filters (4.2.5); ?4 is a name from display_filter(). */
#define DOC_MATCH                                                                                  \
    " WHERE d.dataset_id = ?2 AND d.tenant_id = ?1"                                                \
    " AND (?3 IS NULL OR d.name LIKE ?3 ESCAPE '\\')"                                              \
    " AND (?4 IS NULL"                                                                             \
    "  OR (?4 = 'queuing' AND d.status = 'waiting')"                                               \
    "  OR (?4 = 'indexing' AND d.status IN ('parsing', 'cleaning', 'splitting', 'indexing')"       \
    "      AND NOT d.is_paused)"                                                                   \
    "  OR (?4 = 'paused' AND d.status IN ('parsing', 'cleaning', 'splitting', 'indexing')"         \
    "      AND d.is_paused)"                                                                       \
    "  OR (?4 = 'error' AND d.status = 'error')"                                                   \
    "  OR (?4 = 'available' AND d.status = 'completed' AND NOT d.archived AND d.enabled)"          \
    "  OR (?4 = 'disabled' AND d.status = 'completed' AND NOT d.archived AND NOT d.enabled)"       \
    "  OR (?4 = 'archived' AND d.status = 'completed' AND d.archived))"

static const char SQL_DOC_COUNT[] = "SELECT COUNT(*) FROM documents d" DOC_MATCH;
static const char SQL_DOC_PAGE[] = "SELECT " SQLITE_DOC_COLS SQLITE_DOC_FROM DOC_MATCH
                                   " ORDER BY d.position DESC, d.created_at DESC"
                                   " LIMIT ?5 OFFSET ?6";
static const char SQL_DOC_BATCH[] =
    "SELECT id, status, is_paused, processing_started_at, parsing_completed_at,"
    " cleaning_completed_at, splitting_completed_at, completed_at, paused_at, stopped_at,"
    " error, completed_segments, total_segments FROM documents"
    " WHERE dataset_id = ?1 AND batch = ?2 AND tenant_id = ?3"
    " ORDER BY rowid"; /* creation order, straight from the (dataset_id, batch) index */

rg_rc rg_sqlite_document_get(rg_store *base, rg_arena *arena, const char *tenant_id,
                             const char *dataset_id, const char *id, rg_document *out)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, SQL_DOC_GET,
                           SQV_ARGS(SQV_TEXT(id), SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)), &st));
    rg_rc rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        rc = rg_sqlite_row_document(c, arena, st, out);
    else
        rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(c, "document get");
    rg_sqlite_stmt_done(c, st);
    return rc;
}

/* The canonical name of a display_status filter (case-insensitive, with Dify's
 * aliases), or NULL for none or an unknown one, which Dify ignores. */
static const char *display_filter(const char *status)
{
    static const char *const names[] = {"queuing",   "indexing", "paused",  "error",
                                        "available", "disabled", "archived"};
    if (!status)
        return NULL;
    if (strcasecmp(status, "active") == 0 || strcasecmp(status, "enabled") == 0)
        return "available";
    for (size_t i = 0; i < RG_ARRAY_LEN(names); i++)
        if (strcasecmp(status, names[i]) == 0)
            return names[i];
    return NULL;
}

static rg_rc document_page(rg_sqlite_conn *c, rg_arena *arena, const rg_document_query *q,
                           const char *pattern, const char *filter, rg_document **items, size_t *n,
                           int64_t *total)
{
    RG_TRY(rg_sqlite_int(c, SQL_DOC_COUNT,
                         SQV_ARGS(SQV_TEXT(q->tenant_id), SQV_TEXT(q->dataset_id),
                                  SQV_TEXT(pattern), SQV_TEXT(filter)),
                         total));
    if (q->offset >= *total || q->limit == 0)
        return RG_OK;
    sqlite3_stmt *st;
    RG_TRY(
        rg_sqlite_query(c, SQL_DOC_PAGE,
                        SQV_ARGS(SQV_TEXT(q->tenant_id), SQV_TEXT(q->dataset_id), SQV_TEXT(pattern),
                                 SQV_TEXT(filter), SQV_INT(q->limit), SQV_INT(q->offset)),
                        &st));
    void *rows = NULL;
    rg_rc rc =
        rg_sqlite_collect(c, arena, st, sizeof(rg_document), rg_sqlite_row_document, &rows, n);
    rg_sqlite_stmt_done(c, st);
    *items = rows;
    return rc;
}

rg_rc rg_sqlite_document_list(rg_store *base, rg_arena *arena, const rg_document_query *q,
                              rg_document **items, size_t *n, int64_t *total)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    const char *pattern = NULL;
    if (q->keyword) {
        bool fits;
        RG_TRY(rg_sqlite_like_pattern(c, arena, q->keyword, &pattern, &fits));
        if (!fits)
            return RG_OK; /* longer than any name can be */
    }
    RG_TRY(rg_sqlite_tx_begin(c, false)); /* one snapshot for the count and the page */
    rg_rc rc = document_page(c, arena, q, pattern, display_filter(q->status), items, n, total);
    rc = rg_sqlite_tx_end(c, rc);
    if (rc != RG_OK) {
        *items = NULL;
        *n = 0;
        *total = 0;
    }
    return rc;
}

static rg_rc row_batch_status(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item)
{
    rg_document *d = item;
    memset(d, 0, sizeof *d);
    RG_TRY(rg_sqlite_col_fixed(c, st, 0, d->id, sizeof d->id));
    RG_TRY(col_status(c, st, 1, &d->status));
    d->is_paused = sqlite3_column_int(st, 2) != 0;
    d->processing_started_at = rg_sqlite_col_opt(st, 3);
    d->parsing_completed_at = rg_sqlite_col_opt(st, 4);
    d->cleaning_completed_at = rg_sqlite_col_opt(st, 5);
    d->splitting_completed_at = rg_sqlite_col_opt(st, 6);
    d->completed_at = rg_sqlite_col_opt(st, 7);
    d->paused_at = rg_sqlite_col_opt(st, 8);
    d->stopped_at = rg_sqlite_col_opt(st, 9);
    RG_TRY(rg_sqlite_col_arena(c, a, st, 10, &d->error));
    d->completed_segments = sqlite3_column_int64(st, 11);
    d->total_segments = sqlite3_column_int64(st, 12);
    /* the fields this query does not read are unset, not zero */
    d->disabled_at = d->archived_at = d->word_count = d->tokens = -1;
    d->indexing_latency = -1;
    return RG_OK;
}

rg_rc rg_sqlite_document_batch_status(rg_store *base, rg_arena *arena, const char *tenant_id,
                                      const char *dataset_id, const char *batch,
                                      rg_document **items, size_t *n)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, SQL_DOC_BATCH,
                           SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(batch), SQV_TEXT(tenant_id)),
                           &st));
    void *rows = NULL;
    rg_rc rc = rg_sqlite_collect(c, arena, st, sizeof(rg_document), row_batch_status, &rows, n);
    rg_sqlite_stmt_done(c, st);
    *items = rows;
    return rc;
}

/* --- delete -------------------------------------------------------------------------- */

static const char SQL_DOC_DELETE[] = "DELETE FROM documents WHERE id = ?1";

rg_rc rg_sqlite_document_delete(rg_store *base, const char *tenant_id, const char *dataset_id,
                                const char *id)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    char upload[RG_UUID_LEN + 1] = "";
    int64_t position;
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    /* segments, child chunks, index rows and jobs cascade; the trigger drops the
     * upload row and the dataset's counters */
    rg_rc rc = doc_current(w, tenant_id, dataset_id, id, upload, &position);
    if (rc == RG_OK)
        rc = rg_sqlite_run(w, SQL_DOC_DELETE, SQV_ARGS(SQV_TEXT(id)), NULL);
    rc = rg_sqlite_write_end(s, rc);
    if (rc == RG_OK)
        rg_sqlite_upload_unlink(s, upload);
    return rc;
}

/* --- actions ------------------------------------------------------------------------- */

/* What the rules of an action look at. */
typedef struct doc_state {
    const char *id, *name;
    rg_doc_status status;
    bool is_paused, enabled, archived, has_completed_at;
    bool has_job; /* a queued or running job */
} doc_state;

static const char SQL_DOC_STATE[] =
    "SELECT d.name, d.status, d.is_paused, d.enabled, d.archived, d.completed_at IS NOT NULL,"
    " EXISTS (SELECT 1 FROM jobs j WHERE j.document_id = d.id"
    "   AND j.state IN ('queued', 'running'))"
    " FROM documents d WHERE d.id = ?1 AND d.dataset_id = ?2 AND d.tenant_id = ?3";

static const char SQL_ACT_ENABLE[] = "UPDATE documents SET enabled = 1, disabled_at = NULL,"
                                     " disabled_by = NULL, updated_at = ?2 WHERE id = ?1";
static const char SQL_ACT_DISABLE[] = "UPDATE documents SET enabled = 0, disabled_at = ?2,"
                                      " disabled_by = ?3, updated_at = ?2 WHERE id = ?1";
static const char SQL_ACT_ARCHIVE[] = "UPDATE documents SET archived = 1, archived_at = ?2,"
                                      " archived_by = ?3, updated_at = ?2 WHERE id = ?1";
static const char SQL_ACT_UN_ARCHIVE[] = "UPDATE documents SET archived = 0, archived_at = NULL,"
                                         " archived_by = NULL, updated_at = ?2 WHERE id = ?1";
static const char SQL_ACT_PAUSE[] =
    "UPDATE documents SET is_paused = 1, paused_at = ?2, paused_by = ?3 WHERE id = ?1";
/* a job still in the queue waits for resume instead of being claimed */
static const char SQL_ACT_PAUSE_JOB[] =
    "UPDATE jobs SET state = 'paused' WHERE document_id = ?1 AND state = 'queued'";
static const char SQL_ACT_RESUME[] =
    "UPDATE documents SET is_paused = 0, paused_at = NULL, paused_by = NULL WHERE id = ?1";
static const char SQL_ACT_RETRY[] =
    "UPDATE documents SET status = 'waiting', error = NULL, stopped_at = NULL, is_paused = 0,"
    " paused_at = NULL, paused_by = NULL WHERE id = ?1";

static rg_rc doc_state_read(rg_sqlite_conn *w, rg_arena *a, const char *tenant_id,
                            const char *dataset_id, const char *id, doc_state *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(w, SQL_DOC_STATE,
                           SQV_ARGS(SQV_TEXT(id), SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)), &st));
    memset(out, 0, sizeof *out);
    out->id = id;
    rg_rc rc = RG_OK;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        rc = rg_sqlite_col_arena(w, a, st, 0, &out->name);
        if (rc == RG_OK)
            rc = col_status(w, st, 1, &out->status);
        out->is_paused = sqlite3_column_int(st, 2) != 0;
        out->enabled = sqlite3_column_int(st, 3) != 0;
        out->archived = sqlite3_column_int(st, 4) != 0;
        out->has_completed_at = sqlite3_column_int(st, 5) != 0;
        out->has_job = sqlite3_column_int(st, 6) != 0;
    } else
        rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(w, "document state");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

static bool in_progress(rg_doc_status st)
{
    return st >= RG_DOC_WAITING && st <= RG_DOC_INDEXING;
}

/* Why action may not apply to the document (Dify's words, in the arena), or
 * NULL when it may. */
static const char *refusal(rg_arena *a, const doc_state *d, rg_doc_action action)
{
    switch (action) {
    case RG_DOC_DISABLE:
        if (!d->has_completed_at || d->status != RG_DOC_COMPLETED)
            return rg_arena_printf(a, "Document: %s is not completed.", d->name);
        return NULL;
    case RG_DOC_PAUSE:
        if (!in_progress(d->status))
            return rg_arena_printf(a, "Document: %s is not in indexing state.", d->name);
        if (d->is_paused)
            return rg_arena_printf(a, "Document: %s is already paused.", d->name);
        return NULL;
    case RG_DOC_RESUME:
        if (!d->is_paused)
            return rg_arena_printf(a, "Document: %s is not in paused state.", d->name);
        return NULL;
    case RG_DOC_RETRY:
        if (d->status != RG_DOC_ERROR)
            return rg_arena_printf(a, "Document: %s is not in error state.", d->name);
        return NULL;
    case RG_DOC_ENABLE:
    case RG_DOC_ARCHIVE:
    case RG_DOC_UN_ARCHIVE: return NULL;
    }
    return "Invalid action.";
}

/* Applies an action that refusal() let through; a no-op (enable an enabled
 * document...) writes nothing, as Dify. */
static rg_rc apply(rg_sqlite_conn *w, const doc_state *d, rg_doc_action action,
                   const char *tenant_id, const char *dataset_id, const char *user, int64_t now)
{
    switch (action) {
    case RG_DOC_ENABLE:
        if (d->enabled)
            return RG_OK;
        return rg_sqlite_run(w, SQL_ACT_ENABLE, SQV_ARGS(SQV_TEXT(d->id), SQV_INT(now)), NULL);
    case RG_DOC_DISABLE:
        if (!d->enabled)
            return RG_OK;
        return rg_sqlite_run(w, SQL_ACT_DISABLE,
                             SQV_ARGS(SQV_TEXT(d->id), SQV_INT(now), SQV_TEXT(user)), NULL);
    case RG_DOC_ARCHIVE:
        if (d->archived)
            return RG_OK;
        return rg_sqlite_run(w, SQL_ACT_ARCHIVE,
                             SQV_ARGS(SQV_TEXT(d->id), SQV_INT(now), SQV_TEXT(user)), NULL);
    case RG_DOC_UN_ARCHIVE:
        if (!d->archived)
            return RG_OK;
        return rg_sqlite_run(w, SQL_ACT_UN_ARCHIVE, SQV_ARGS(SQV_TEXT(d->id), SQV_INT(now)), NULL);
    case RG_DOC_PAUSE:
        RG_TRY(rg_sqlite_run(w, SQL_ACT_PAUSE,
                             SQV_ARGS(SQV_TEXT(d->id), SQV_INT(now), SQV_TEXT(user)), NULL));
        return rg_sqlite_run(w, SQL_ACT_PAUSE_JOB, SQV_ARGS(SQV_TEXT(d->id)), NULL);
    case RG_DOC_RESUME:
        RG_TRY(rg_sqlite_run(w, SQL_ACT_RESUME, SQV_ARGS(SQV_TEXT(d->id)), NULL));
        if (d->has_job) /* a running worker simply carries on */
            return RG_OK;
        return rg_sqlite_job_queue(w, tenant_id, dataset_id, d->id, now);
    case RG_DOC_RETRY:
        RG_TRY(rg_sqlite_run(w, SQL_ACT_RETRY, SQV_ARGS(SQV_TEXT(d->id)), NULL));
        return rg_sqlite_job_queue(w, tenant_id, dataset_id, d->id, now);
    }
    return RG_EINVAL;
}

/* Reads and checks every document first; *why names the first refusal. */
static rg_rc validate_all(rg_sqlite_conn *w, rg_arena *a, const char *tenant_id,
                          const char *dataset_id, rg_doc_action action, const char *const *ids,
                          size_t n, doc_state *states, const char **why)
{
    for (size_t i = 0; i < n; i++) {
        rg_rc rc = doc_state_read(w, a, tenant_id, dataset_id, ids[i], &states[i]);
        if (rc == RG_ENOTFOUND)
            *why = rg_arena_printf(a, "Document %s not found.", ids[i]);
        if (rc != RG_OK)
            return rc;
        if ((*why = refusal(a, &states[i], action)) != NULL)
            return RG_EACTION;
    }
    return RG_OK;
}

rg_rc rg_sqlite_document_action(rg_store *base, rg_arena *arena, const char *tenant_id,
                                const char *dataset_id, rg_doc_action action,
                                const char *const *ids, size_t n, const char *user_id,
                                const char **why)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    void *mem;
    RG_TRY(rg_sqlite_arena_array(arena, (int64_t)n, sizeof(doc_state), &mem));
    doc_state *states = mem;
    int64_t now = rg_now_s();
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = validate_all(w, arena, tenant_id, dataset_id, action, ids, n, states, why);
    for (size_t i = 0; rc == RG_OK && i < n; i++)
        rc = apply(w, &states[i], action, tenant_id, dataset_id, user_id, now);
    return rg_sqlite_write_end(s, rc);
}

/* --- segments and child chunks ---------------------------------------------------- */

#define SEG_MATCH                                                                                  \
    " FROM segments s WHERE s.document_id = ?2 AND s.tenant_id = ?1"                               \
    " AND (?3 IS NULL OR s.content LIKE ?3 ESCAPE '\\')"                                           \
    " AND (?4 IS NULL OR instr(',' || ?4 || ',', ',' || s.status || ',') > 0)"

static const char SQL_SEG_COUNT[] = "SELECT COUNT(*)" SEG_MATCH;
static const char SQL_SEG_PAGE[] =
    "SELECT " SQLITE_SEG_COLS SEG_MATCH " ORDER BY s.position LIMIT ?5 OFFSET ?6";
static const char SQL_CHILD_LIST[] =
    "SELECT id, segment_id, position, content, word_count, type, created_at, updated_at"
    " FROM child_chunks WHERE segment_id = ?1 ORDER BY position";

typedef struct seg_query {
    const char *tenant_id, *document_id, *pattern, *status;
    int64_t offset, limit;
} seg_query;

static rg_rc segment_page(rg_sqlite_conn *c, rg_arena *arena, const seg_query *q,
                          rg_segment **items, size_t *n, int64_t *total)
{
    RG_TRY(rg_sqlite_int(c, SQL_SEG_COUNT,
                         SQV_ARGS(SQV_TEXT(q->tenant_id), SQV_TEXT(q->document_id),
                                  SQV_TEXT(q->pattern), SQV_TEXT(q->status)),
                         total));
    if (q->offset >= *total || q->limit == 0)
        return RG_OK;
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, SQL_SEG_PAGE,
                           SQV_ARGS(SQV_TEXT(q->tenant_id), SQV_TEXT(q->document_id),
                                    SQV_TEXT(q->pattern), SQV_TEXT(q->status), SQV_INT(q->limit),
                                    SQV_INT(q->offset)),
                           &st));
    void *rows = NULL;
    rg_rc rc = rg_sqlite_collect(c, arena, st, sizeof(rg_segment), rg_sqlite_row_segment, &rows, n);
    rg_sqlite_stmt_done(c, st);
    *items = rows;
    return rc;
}

rg_rc rg_sqlite_segment_list(rg_store *base, rg_arena *arena, const char *tenant_id,
                             const char *document_id, const char *keyword, const char *status,
                             int64_t offset, int64_t limit, rg_segment **items, size_t *n,
                             int64_t *total)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    seg_query q = {.tenant_id = tenant_id,
                   .document_id = document_id,
                   .status = status,
                   .offset = offset,
                   .limit = limit};
    if (keyword) {
        bool fits;
        RG_TRY(rg_sqlite_like_pattern(c, arena, keyword, &q.pattern, &fits));
        if (!fits)
            return RG_OK;
    }
    RG_TRY(rg_sqlite_tx_begin(c, false));
    rg_rc rc = segment_page(c, arena, &q, items, n, total);
    rc = rg_sqlite_tx_end(c, rc);
    if (rc != RG_OK) {
        *items = NULL;
        *n = 0;
        *total = 0;
    }
    return rc;
}

rg_rc rg_sqlite_child_chunk_list(rg_store *base, rg_arena *arena, const char *segment_id,
                                 rg_child_chunk **items, size_t *n)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, SQL_CHILD_LIST, SQV_ARGS(SQV_TEXT(segment_id)), &st));
    void *rows = NULL;
    rg_rc rc = rg_sqlite_collect(c, arena, st, sizeof(rg_child_chunk), row_child_chunk, &rows, n);
    rg_sqlite_stmt_done(c, st);
    *items = rows;
    return rc;
}
