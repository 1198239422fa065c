/*
 * sqlite_chunks.c - chunk editing on SQLite (the segments API): read one
 * segment, append segments to a completed document, rewrite or delete one,
 * and add, rewrite or delete a child chunk, each with its index data.
 *
 * Every write is one BEGIN IMMEDIATE transaction that first finds its row by
 * tenant (RG_ENOTFOUND when another tenant owns it or it does not exist),
 * then writes the rows, their index data (segment_index, child_index) and the
 * document's own counters: word_count is the sum of its segments' word
 * counts, total_segments their number, completed_segments the completed ones.
 * The dataset's word_count follows the document through the triggers of
 * migration 2, its index_version through those of migration 3.  Child chunks
 * count toward nothing (as Dify: a parent's word count is its own content's).
 *
 * Details a caller may rely on: keywords left NULL take the index data's
 * (what indexing found); an empty index_node_hash keeps the stored one; a
 * segment disabled without disabled_at gets now; index data passed as NULL
 * keeps what is stored; positions are never renumbered (a deleted chunk
 * leaves a gap, an added one goes after the last).
 */
#include "store/sqlite/sqlite_int.h"

#include "core/clock.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

/* --- index data ----------------------------------------------------------------- */

static const char SQL_SEG_INDEX_PUT[] =
    "INSERT OR REPLACE INTO segment_index (segment_id, dataset_id, vector, dims, terms)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_CHILD_INDEX_PUT[] =
    "INSERT OR REPLACE INTO child_index (child_id, segment_id, dataset_id, vector, dims, terms)"
    " SELECT c.id, c.segment_id, c.dataset_id, ?2, ?3, ?4 FROM child_chunks c"
    " WHERE c.id = ?1 AND c.segment_id = ?5";

static size_t vector_bytes(const rg_segment_index *idx)
{
    return idx->vector ? (size_t)idx->dims * sizeof(float) : 0;
}

rg_rc rg_sqlite_segment_index_put(rg_sqlite_conn *w, const char *segment_id, const char *dataset_id,
                                  const rg_segment_index *idx)
{
    return rg_sqlite_run(w, SQL_SEG_INDEX_PUT,
                         SQV_ARGS(SQV_TEXT(segment_id), SQV_TEXT(dataset_id),
                                  SQV_BLOB(idx->vector, vector_bytes(idx)),
                                  SQV_INT(idx->vector ? idx->dims : 0),
                                  SQV_BLOB(idx->terms, idx->terms_len)),
                         NULL);
}

rg_rc rg_sqlite_child_index_put(rg_sqlite_conn *w, const char *child_id, const char *parent_id,
                                const rg_segment_index *idx)
{
    int64_t changes = 0;
    RG_TRY(rg_sqlite_run(w, SQL_CHILD_INDEX_PUT,
                         SQV_ARGS(SQV_TEXT(child_id), SQV_BLOB(idx->vector, vector_bytes(idx)),
                                  SQV_INT(idx->vector ? idx->dims : 0),
                                  SQV_BLOB(idx->terms, idx->terms_len), SQV_TEXT(parent_id)),
                         &changes));
    return changes ? RG_OK : RG_EINVAL; /* no such child of that parent */
}

/* --- one segment ------------------------------------------------------------------ */

static const char SQL_SEG_GET[] = "SELECT " SQLITE_SEG_COLS " FROM segments s"
                                  " WHERE s.id = ?1 AND s.document_id = ?2 AND s.tenant_id = ?3";

rg_rc rg_sqlite_segment_get(rg_store *base, rg_arena *arena, const char *tenant_id,
                            const char *document_id, const char *segment_id, rg_segment *out)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(
        c, SQL_SEG_GET, SQV_ARGS(SQV_TEXT(segment_id), SQV_TEXT(document_id), SQV_TEXT(tenant_id)),
        &st));
    rg_rc rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        rc = rg_sqlite_row_segment(c, arena, st, out);
    else
        rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(c, "segment get");
    rg_sqlite_stmt_done(c, st);
    if (rc != RG_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* --- append ---------------------------------------------------------------------------- */

static const char SQL_ADD_DOC[] =
    "SELECT dataset_id, status = 'completed',"
    " (SELECT COALESCE(MAX(position), 0) FROM segments WHERE document_id = ?1)"
    " FROM documents WHERE id = ?1 AND tenant_id = ?2";
static const char SQL_ADD_SEG[] =
    "INSERT INTO segments (id, tenant_id, dataset_id, document_id, position, content, answer,"
    " word_count, tokens, keywords, index_node_id, index_node_hash, status, enabled,"
    " created_by, created_at, updated_at, indexing_at, completed_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'completed', 1, ?13, ?14, ?15,"
    " ?16, ?16)";
static const char SQL_ADD_DOC_COUNTS[] =
    "UPDATE documents SET word_count = COALESCE(word_count, 0) + ?2,"
    " total_segments = total_segments + ?3, completed_segments = completed_segments + ?3"
    " WHERE id = ?1";

/* The document segments are appended to. */
typedef struct add_target {
    char dataset_id[RG_UUID_LEN + 1];
    bool completed;
    int64_t last_position;
} add_target;

static rg_rc add_target_read(rg_sqlite_conn *w, const char *tenant_id, const char *document_id,
                             add_target *t)
{
    sqlite3_stmt *st;
    RG_TRY(
        rg_sqlite_query(w, SQL_ADD_DOC, SQV_ARGS(SQV_TEXT(document_id), SQV_TEXT(tenant_id)), &st));
    rg_rc rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        rc = rg_sqlite_col_fixed(w, st, 0, t->dataset_id, sizeof t->dataset_id);
        t->completed = sqlite3_column_int(st, 1) != 0;
        t->last_position = sqlite3_column_int64(st, 2);
    } else
        rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(w, "segments add: document");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

static const char *nonempty(const char *z)
{
    return z && *z ? z : NULL;
}

static int64_t default_time(int64_t t, int64_t now)
{
    return t > 0 ? t : now;
}

/* The keywords to store: the caller's, else what indexing found. */
static const char *keywords_of(const rg_segment *g, const rg_segment_index *idx)
{
    return g->keywords ? g->keywords : idx ? idx->keywords : NULL;
}

static rg_rc add_one(rg_sqlite_conn *w, const char *tenant_id, const char *document_id,
                     const add_target *t, const rg_segment *g, const rg_segment_index *idx,
                     int64_t position, int64_t now)
{
    RG_TRY(
        rg_sqlite_run(w, SQL_ADD_SEG,
                      SQV_ARGS(SQV_TEXT(g->id), SQV_TEXT(tenant_id), SQV_TEXT(t->dataset_id),
                               SQV_TEXT(document_id), SQV_INT(position), SQV_TEXT(g->content),
                               SQV_TEXT(g->answer), SQV_INT(g->word_count), SQV_INT(g->tokens),
                               SQV_TEXT(keywords_of(g, idx)), SQV_TEXT(nonempty(g->index_node_id)),
                               SQV_TEXT(nonempty(g->index_node_hash)), SQV_TEXT(g->created_by),
                               SQV_INT(default_time(g->created_at, now)),
                               SQV_INT(default_time(g->updated_at, now)), SQV_INT(now)),
                      NULL));
    return idx ? rg_sqlite_segment_index_put(w, g->id, t->dataset_id, idx) : RG_OK;
}

typedef struct add_batch {
    const char *tenant_id, *document_id;
    const rg_segment *segs;
    const rg_segment_index *idx;
    size_t n;
    int64_t now;
} add_batch;

static rg_rc add_write(rg_sqlite_conn *w, const add_batch *b, add_target *t)
{
    RG_TRY(add_target_read(w, b->tenant_id, b->document_id, t));
    if (!t->completed)
        return RG_EINVAL; /* the API refuses first, with Dify's message */
    int64_t words = 0;
    for (size_t i = 0; i < b->n; i++) {
        RG_TRY(add_one(w, b->tenant_id, b->document_id, t, &b->segs[i], b->idx ? &b->idx[i] : NULL,
                       t->last_position + (int64_t)i + 1, b->now));
        words += b->segs[i].word_count;
    }
    return rg_sqlite_run(w, SQL_ADD_DOC_COUNTS,
                         SQV_ARGS(SQV_TEXT(b->document_id), SQV_INT(words), SQV_INT((int64_t)b->n)),
                         NULL);
}

/* The stored fields of an appended segment, written back into g. */
static void added(rg_segment *g, const add_target *t, const char *document_id,
                  const rg_segment_index *idx, int64_t position, int64_t now)
{
    memcpy(g->dataset_id, t->dataset_id, sizeof g->dataset_id);
    if (g->document_id != document_id)
        snprintf(g->document_id, sizeof g->document_id, "%s", document_id);
    g->position = position;
    g->keywords = keywords_of(g, idx);
    g->enabled = true;
    g->disabled_at = g->stopped_at = -1;
    g->disabled_by = g->error = NULL;
    g->status = "completed";
    g->created_at = default_time(g->created_at, now);
    g->updated_at = default_time(g->updated_at, now);
    g->indexing_at = g->completed_at = now;
}

rg_rc rg_sqlite_segments_add(rg_store *base, const char *tenant_id, const char *document_id,
                             rg_segment *segs, const rg_segment_index *idx, size_t n)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    add_batch b = {tenant_id, document_id, segs, idx, n, rg_now_s()};
    add_target t;
    memset(&t, 0, sizeof t);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = rg_sqlite_write_end(s, add_write(w, &b, &t));
    if (rc != RG_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        added(&segs[i], &t, document_id, idx ? &idx[i] : NULL, t.last_position + (int64_t)i + 1,
              b.now);
    return RG_OK;
}

/* --- rewrite and delete ------------------------------------------------------------------ */

static const char SQL_SEG_OLD[] =
    "SELECT dataset_id, word_count, status = 'completed' FROM segments"
    " WHERE id = ?1 AND document_id = ?2 AND tenant_id = ?3";
static const char SQL_SEG_UPDATE[] =
    "UPDATE segments SET content = ?2, answer = ?3, keywords = ?4, word_count = ?5, tokens = ?6,"
    " index_node_hash = COALESCE(?7, index_node_hash), enabled = ?8, disabled_at = ?9,"
    " disabled_by = ?10, updated_at = ?11, updated_by = ?12 WHERE id = ?1";
static const char SQL_DOC_WORDS[] =
    "UPDATE documents SET word_count = COALESCE(word_count, 0) + ?2 WHERE id = ?1";
static const char SQL_SEG_DELETE[] = "DELETE FROM segments WHERE id = ?1";
static const char SQL_DEL_DOC_COUNTS[] =
    "UPDATE documents SET word_count = COALESCE(word_count, 0) - ?2,"
    " total_segments = total_segments - 1, completed_segments = completed_segments - ?3"
    " WHERE id = ?1";

/* A segment as stored before a rewrite or delete. */
typedef struct seg_old {
    char dataset_id[RG_UUID_LEN + 1];
    int64_t word_count;
    bool completed;
} seg_old;

static rg_rc seg_old_read(rg_sqlite_conn *w, const char *tenant_id, const char *document_id,
                          const char *segment_id, seg_old *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(
        w, SQL_SEG_OLD, SQV_ARGS(SQV_TEXT(segment_id), SQV_TEXT(document_id), SQV_TEXT(tenant_id)),
        &st));
    rg_rc rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        rc = rg_sqlite_col_fixed(w, st, 0, out->dataset_id, sizeof out->dataset_id);
        out->word_count = sqlite3_column_int64(st, 1);
        out->completed = sqlite3_column_int(st, 2) != 0;
    } else
        rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(w, "segment lookup");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

static rg_rc update_write(rg_sqlite_conn *w, const char *tenant_id, const rg_segment *g,
                          const rg_segment_index *idx, int64_t now)
{
    seg_old old;
    RG_TRY(seg_old_read(w, tenant_id, g->document_id, g->id, &old));
    bool off = !g->enabled;
    RG_TRY(rg_sqlite_run(
        w, SQL_SEG_UPDATE,
        SQV_ARGS(SQV_TEXT(g->id), SQV_TEXT(g->content), SQV_TEXT(g->answer),
                 SQV_TEXT(keywords_of(g, idx)), SQV_INT(g->word_count), SQV_INT(g->tokens),
                 SQV_TEXT(nonempty(g->index_node_hash)), SQV_INT(off ? 0 : 1),
                 off ? SQV_INT(g->disabled_at >= 0 ? g->disabled_at : now) : SQV_NULL,
                 SQV_TEXT(off ? g->disabled_by : NULL), SQV_INT(default_time(g->updated_at, now)),
                 SQV_TEXT(g->updated_by)),
        NULL));
    if (g->word_count != old.word_count)
        RG_TRY(rg_sqlite_run(
            w, SQL_DOC_WORDS,
            SQV_ARGS(SQV_TEXT(g->document_id), SQV_INT(g->word_count - old.word_count)), NULL));
    return idx ? rg_sqlite_segment_index_put(w, g->id, old.dataset_id, idx) : RG_OK;
}

rg_rc rg_sqlite_segment_update(rg_store *base, const char *tenant_id, const rg_segment *seg,
                               const rg_segment_index *idx)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    return rg_sqlite_write_end(s, update_write(w, tenant_id, seg, idx, rg_now_s()));
}

static const char SQL_CHILDREN_DROP[] = "DELETE FROM child_chunks WHERE segment_id = ?1";
static const char SQL_CHILD_PUT[] =
    "INSERT INTO child_chunks (id, segment_id, document_id, dataset_id, position, content,"
    " word_count, type, created_at, updated_at)"
    " SELECT ?1, s.id, s.document_id, s.dataset_id, ?3, ?4, ?5, ?6, ?7, ?7"
    " FROM segments s WHERE s.id = ?2";

rg_rc rg_sqlite_segment_update_children(rg_store *base, const char *tenant_id,
                                        const rg_segment *seg, const rg_segment_index *idx,
                                        const rg_child_chunk *kids, const rg_segment_index *kid_idx,
                                        size_t n)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    int64_t now = rg_now_s();
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = update_write(w, tenant_id, seg, idx, now);
    if (rc == RG_OK) /* their index rows cascade */
        rc = rg_sqlite_run(w, SQL_CHILDREN_DROP, SQV_ARGS(SQV_TEXT(seg->id)), NULL);
    for (size_t i = 0; i < n && rc == RG_OK; i++) {
        const rg_child_chunk *k = &kids[i];
        rc = rg_sqlite_run(w, SQL_CHILD_PUT,
                           SQV_ARGS(SQV_TEXT(k->id), SQV_TEXT(seg->id), SQV_INT(k->position),
                                    SQV_TEXT(k->content), SQV_INT(k->word_count),
                                    SQV_TEXT(k->type ? k->type : "automatic"),
                                    SQV_INT(default_time(k->created_at, now))),
                           NULL);
        if (rc == RG_OK && kid_idx)
            rc = rg_sqlite_child_index_put(w, k->id, seg->id, &kid_idx[i]);
    }
    return rg_sqlite_write_end(s, rc);
}

static rg_rc delete_write(rg_sqlite_conn *w, const char *tenant_id, const char *document_id,
                          const char *segment_id)
{
    seg_old old;
    RG_TRY(seg_old_read(w, tenant_id, document_id, segment_id, &old));
    /* child chunks, their index rows and the segment's index row cascade */
    RG_TRY(rg_sqlite_run(w, SQL_SEG_DELETE, SQV_ARGS(SQV_TEXT(segment_id)), NULL));
    return rg_sqlite_run(
        w, SQL_DEL_DOC_COUNTS,
        SQV_ARGS(SQV_TEXT(document_id), SQV_INT(old.word_count), SQV_INT(old.completed ? 1 : 0)),
        NULL);
}

rg_rc rg_sqlite_segment_delete(rg_store *base, const char *tenant_id, const char *document_id,
                               const char *segment_id)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    return rg_sqlite_write_end(s, delete_write(w, tenant_id, document_id, segment_id));
}

/* --- child chunks ------------------------------------------------------------------------- */

/* the parent must be a segment of the tenant; the chunk goes after its last sibling */
static const char SQL_CHILD_ADD[] =
    "INSERT INTO child_chunks (id, segment_id, document_id, dataset_id, position, content,"
    " word_count, type, created_at, updated_at)"
    " SELECT ?1, s.id, s.document_id, s.dataset_id,"
    " (SELECT COALESCE(MAX(k.position), 0) + 1 FROM child_chunks k WHERE k.segment_id = s.id),"
    " ?3, ?4, 'customized', ?5, ?6 FROM segments s WHERE s.id = ?2 AND s.tenant_id = ?7"
    " RETURNING position";
#define CHILD_OF_TENANT                                                                            \
    " WHERE id = ?1 AND segment_id = ?2"                                                           \
    " AND EXISTS (SELECT 1 FROM segments s WHERE s.id = ?2 AND s.tenant_id = ?3)"
static const char SQL_CHILD_UPDATE[] = "UPDATE child_chunks SET content = ?4, word_count = ?5, "
                                       "type = ?6, updated_at = ?7" CHILD_OF_TENANT;
static const char SQL_CHILD_DELETE[] = "DELETE FROM child_chunks" CHILD_OF_TENANT;

static rg_rc child_add_write(rg_sqlite_conn *w, const char *tenant_id, const rg_child_chunk *c,
                             const rg_segment_index *idx, int64_t now, int64_t *position)
{
    sqlite3_stmt *st;
    RG_TRY(
        rg_sqlite_query(w, SQL_CHILD_ADD,
                        SQV_ARGS(SQV_TEXT(c->id), SQV_TEXT(c->segment_id), SQV_TEXT(c->content),
                                 SQV_INT(c->word_count), SQV_INT(default_time(c->created_at, now)),
                                 SQV_INT(default_time(c->updated_at, now)), SQV_TEXT(tenant_id)),
                        &st));
    rg_rc rc = RG_OK;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *position = sqlite3_column_int64(st, 0);
    else if (r == SQLITE_DONE)
        rc = RG_ENOTFOUND; /* no such segment in this tenant */
    else
        rc = rg_sqlite_step_error(w, RG_ECONFLICT, RG_ECONFLICT, "child chunk add");
    rg_sqlite_stmt_done(w, st);
    if (rc == RG_OK && idx)
        rc = rg_sqlite_child_index_put(w, c->id, c->segment_id, idx);
    return rc;
}

rg_rc rg_sqlite_child_chunk_add(rg_store *base, const char *tenant_id, rg_child_chunk *c,
                                const rg_segment_index *idx)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    int64_t now = rg_now_s(), position = 0;
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = rg_sqlite_write_end(s, child_add_write(w, tenant_id, c, idx, now, &position));
    if (rc != RG_OK)
        return rc;
    c->position = position;
    c->type = "customized";
    c->created_at = default_time(c->created_at, now);
    c->updated_at = default_time(c->updated_at, now);
    return RG_OK;
}

static rg_rc child_update_write(rg_sqlite_conn *w, const char *tenant_id, const rg_child_chunk *c,
                                const rg_segment_index *idx, int64_t now)
{
    int64_t changes = 0;
    RG_TRY(rg_sqlite_run(w, SQL_CHILD_UPDATE,
                         SQV_ARGS(SQV_TEXT(c->id), SQV_TEXT(c->segment_id), SQV_TEXT(tenant_id),
                                  SQV_TEXT(c->content), SQV_INT(c->word_count),
                                  SQV_TEXT(c->type ? c->type : "customized"),
                                  SQV_INT(default_time(c->updated_at, now))),
                         &changes));
    if (changes == 0)
        return RG_ENOTFOUND;
    return idx ? rg_sqlite_child_index_put(w, c->id, c->segment_id, idx) : RG_OK;
}

rg_rc rg_sqlite_child_chunk_update(rg_store *base, const char *tenant_id, const rg_child_chunk *c,
                                   const rg_segment_index *idx)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    return rg_sqlite_write_end(s, child_update_write(w, tenant_id, c, idx, rg_now_s()));
}

rg_rc rg_sqlite_child_chunk_delete(rg_store *base, const char *tenant_id, const char *segment_id,
                                   const char *child_id)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    int64_t changes = 0;
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    /* its index row cascades */
    rg_rc rc = rg_sqlite_run(
        w, SQL_CHILD_DELETE,
        SQV_ARGS(SQV_TEXT(child_id), SQV_TEXT(segment_id), SQV_TEXT(tenant_id)), &changes);
    if (rc == RG_OK && changes == 0)
        rc = RG_ENOTFOUND;
    return rg_sqlite_write_end(s, rc);
}
