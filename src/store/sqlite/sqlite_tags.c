/*
 * sqlite_tags.c - tags and their bindings to datasets, a dataset's custom
 * metadata fields, and the documents' metadata values.
 *
 * Tags belong to a tenant; a binding joins a tag to a dataset and goes with
 * either (ON DELETE CASCADE).  Metadata fields belong to a dataset; a
 * document's values are its doc_metadata JSON object {name: value}, so a
 * rename or a delete of a field rewrites, in the same transaction, every
 * document of the dataset that carries the key.  The rewrites go through
 * json_each rather than JSON paths, so any name is safe.
 */
#include "store/sqlite/sqlite_int.h"

#include "core/clock.h"

#include <string.h>

/* --- tags -------------------------------------------------------------------- */

#define TAG_COLS                                                                                   \
    "t.id, t.name, t.type, t.created_at,"                                                          \
    " (SELECT COUNT(*) FROM tag_bindings b WHERE b.tag_id = t.id)"

static const char SQL_TAG_INSERT[] =
    "INSERT INTO tags (id, tenant_id, name, type, created_at) VALUES (?1, ?2, ?3, 'knowledge', ?4)";
static const char SQL_TAG_LIST[] =
    "SELECT " TAG_COLS " FROM tags t WHERE t.tenant_id = ?1"
    " AND (?2 IS NULL OR t.name LIKE ?2 ESCAPE '\\') ORDER BY t.created_at DESC, t.rowid DESC";
static const char SQL_TAG_GET[] =
    "SELECT " TAG_COLS " FROM tags t WHERE t.id = ?1 AND t.tenant_id = ?2";
static const char SQL_TAG_RENAME[] = "UPDATE tags SET name = ?3 WHERE id = ?1 AND tenant_id = ?2";
static const char SQL_TAG_DELETE[] = "DELETE FROM tags WHERE id = ?1 AND tenant_id = ?2";
static const char SQL_DS_IN_TENANT[] = "SELECT 1 FROM datasets WHERE id = ?1 AND tenant_id = ?2";
/* an unknown tag, or one of another tenant, inserts nothing */
static const char SQL_TAG_BIND[] =
    "INSERT OR IGNORE INTO tag_bindings (tag_id, target_id, created_at)"
    " SELECT id, ?2, ?3 FROM tags WHERE id = ?1 AND tenant_id = ?4";
static const char SQL_TAG_UNBIND[] = "DELETE FROM tag_bindings WHERE tag_id = ?1 AND target_id = ?2"
                                     " AND tag_id IN (SELECT id FROM tags WHERE tenant_id = ?3)";

/* Reads a TAG_COLS row. */
static rg_rc row_tag(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item)
{
    rg_tag *t = item;
    RG_TRY(rg_sqlite_col_fixed(c, st, 0, t->id, sizeof t->id));
    RG_TRY(rg_sqlite_col_arena(c, a, st, 1, &t->name));
    RG_TRY(rg_sqlite_col_arena(c, a, st, 2, &t->type));
    t->created_at = sqlite3_column_int64(st, 3);
    t->binding_count = sqlite3_column_int64(st, 4);
    return RG_OK;
}

rg_rc rg_sqlite_tag_insert(rg_store *base, const char *tenant_id, const rg_tag *t)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = rg_sqlite_run(
        w, SQL_TAG_INSERT,
        SQV_ARGS(SQV_TEXT(t->id), SQV_TEXT(tenant_id), SQV_TEXT(t->name), SQV_INT(t->created_at)),
        NULL);
    /* (tenant_id, name) is the only UNIQUE constraint besides the key */
    return rg_sqlite_write_end(s, rc == RG_ECONFLICT ? RG_ENAMEDUP : rc);
}

rg_rc rg_sqlite_tag_list(rg_store *base, rg_arena *arena, const char *tenant_id,
                         const char *keyword, rg_tag **items, size_t *n)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    const char *pattern = NULL;
    if (keyword) {
        bool fits;
        RG_TRY(rg_sqlite_like_pattern(c, arena, keyword, &pattern, &fits));
        if (!fits)
            return RG_OK;
    }
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, SQL_TAG_LIST, SQV_ARGS(SQV_TEXT(tenant_id), SQV_TEXT(pattern)), &st));
    void *rows = NULL;
    rg_rc rc = rg_sqlite_collect(c, arena, st, sizeof(rg_tag), row_tag, &rows, n);
    rg_sqlite_stmt_done(c, st);
    *items = rows;
    return rc;
}

/* Reads one tag of the tenant on connection c.  RG_ENOTFOUND if absent. */
static rg_rc tag_get(rg_sqlite_conn *c, rg_arena *arena, const char *tenant_id, const char *id,
                     rg_tag *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, SQL_TAG_GET, SQV_ARGS(SQV_TEXT(id), SQV_TEXT(tenant_id)), &st));
    rg_rc rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        rc = row_tag(c, arena, st, out);
    } else
        rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(c, "tag get");
    rg_sqlite_stmt_done(c, st);
    return rc;
}

rg_rc rg_sqlite_tag_rename(rg_store *base, rg_arena *arena, const char *tenant_id, const char *id,
                           const char *name, rg_tag *out)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    int64_t changes = 0;
    rg_rc rc = rg_sqlite_run(w, SQL_TAG_RENAME,
                             SQV_ARGS(SQV_TEXT(id), SQV_TEXT(tenant_id), SQV_TEXT(name)), &changes);
    if (rc == RG_ECONFLICT)
        rc = RG_ENAMEDUP;
    else if (rc == RG_OK && changes == 0)
        rc = RG_ENOTFOUND;
    if (rc == RG_OK)
        rc = tag_get(w, arena, tenant_id, id, out);
    return rg_sqlite_write_end(s, rc);
}

rg_rc rg_sqlite_tag_delete(rg_store *base, const char *tenant_id, const char *id)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    int64_t changes = 0;
    rg_rc rc =
        rg_sqlite_run(w, SQL_TAG_DELETE, SQV_ARGS(SQV_TEXT(id), SQV_TEXT(tenant_id)), &changes);
    if (rc == RG_OK && changes == 0)
        rc = RG_ENOTFOUND;
    return rg_sqlite_write_end(s, rc);
}

/* RG_OK when the dataset is in the tenant, else RG_ENOTFOUND. */
static rg_rc dataset_in_tenant(rg_sqlite_conn *c, const char *tenant_id, const char *dataset_id)
{
    int64_t one;
    return rg_sqlite_int(c, SQL_DS_IN_TENANT, SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)),
                         &one);
}

rg_rc rg_sqlite_tag_bind(rg_store *base, const char *tenant_id, const char *const *tag_ids,
                         size_t n, const char *dataset_id, bool bind)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = dataset_in_tenant(w, tenant_id, dataset_id);
    int64_t now = rg_now_s();
    for (size_t i = 0; rc == RG_OK && i < n; i++)
        rc = bind ? rg_sqlite_run(w, SQL_TAG_BIND,
                                  SQV_ARGS(SQV_TEXT(tag_ids[i]), SQV_TEXT(dataset_id), SQV_INT(now),
                                           SQV_TEXT(tenant_id)),
                                  NULL)
                  : rg_sqlite_run(
                        w, SQL_TAG_UNBIND,
                        SQV_ARGS(SQV_TEXT(tag_ids[i]), SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)),
                        NULL);
    return rg_sqlite_write_end(s, rc);
}

/* --- metadata fields ---------------------------------------------------------------- */

static const char SQL_MD_INSERT[] =
    "INSERT INTO dataset_metadatas (id, dataset_id, tenant_id, name, type, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
#define MD_COLS                                                                                    \
    "m.id, m.dataset_id, m.name, m.type, m.created_at,"                                            \
    " (SELECT COUNT(*) FROM documents d WHERE d.dataset_id = m.dataset_id"                         \
    "  AND EXISTS (SELECT 1 FROM json_each(d.doc_metadata) e WHERE e.key = m.name))"
static const char SQL_MD_LIST[] = "SELECT " MD_COLS " FROM dataset_metadatas m"
                                  " WHERE m.dataset_id = ?1 AND m.tenant_id = ?2"
                                  " ORDER BY m.created_at, m.rowid";
static const char SQL_MD_GET[] = "SELECT " MD_COLS " FROM dataset_metadatas m"
                                 " WHERE m.id = ?1 AND m.dataset_id = ?2 AND m.tenant_id = ?3";
static const char SQL_MD_RENAME[] =
    "UPDATE dataset_metadatas SET name = ?4 WHERE id = ?1 AND dataset_id = ?2 AND tenant_id = ?3";
static const char SQL_MD_DELETE[] =
    "DELETE FROM dataset_metadatas WHERE id = ?1 AND dataset_id = ?2 AND tenant_id = ?3";
/* the documents' keys follow a rename (?2 old name, ?3 new name) ... */
static const char SQL_DOCS_RENAME_KEY[] =
    "UPDATE documents SET doc_metadata = (SELECT json_group_object("
    "  CASE WHEN e.key = ?2 THEN ?3 ELSE e.key END, e.value) FROM "
    "json_each(documents.doc_metadata) e)"
    " WHERE dataset_id = ?1"
    " AND EXISTS (SELECT 1 FROM json_each(documents.doc_metadata) e WHERE e.key = ?2)";
/* ... and a delete (?2 the name) */
static const char SQL_DOCS_DROP_KEY[] =
    "UPDATE documents SET doc_metadata = (SELECT json_group_object(e.key, e.value)"
    "  FROM json_each(documents.doc_metadata) e WHERE e.key <> ?2)"
    " WHERE dataset_id = ?1"
    " AND EXISTS (SELECT 1 FROM json_each(documents.doc_metadata) e WHERE e.key = ?2)";
static const char SQL_DS_BUILTIN[] =
    "UPDATE datasets SET built_in_field_enabled = ?3 WHERE id = ?1 AND tenant_id = ?2";
static const char SQL_DOC_META_SET[] = "UPDATE documents SET doc_metadata = json(?4)"
                                       " WHERE id = ?1 AND dataset_id = ?2 AND tenant_id = ?3";
static const char SQL_DOC_META_ALL[] =
    "SELECT id, name, created_by, data_source_type, created_at, updated_at, doc_metadata"
    " FROM documents WHERE dataset_id = ?1 AND tenant_id = ?2";

/* Reads an MD_COLS row. */
static rg_rc row_field(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item)
{
    rg_metadata_field *m = item;
    RG_TRY(rg_sqlite_col_fixed(c, st, 0, m->id, sizeof m->id));
    RG_TRY(rg_sqlite_col_fixed(c, st, 1, m->dataset_id, sizeof m->dataset_id));
    RG_TRY(rg_sqlite_col_arena(c, a, st, 2, &m->name));
    RG_TRY(rg_sqlite_col_arena(c, a, st, 3, &m->type));
    m->created_at = sqlite3_column_int64(st, 4);
    m->count = sqlite3_column_int64(st, 5);
    return RG_OK;
}

rg_rc rg_sqlite_metadata_insert(rg_store *base, const char *tenant_id, const rg_metadata_field *m)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = dataset_in_tenant(w, tenant_id, m->dataset_id);
    if (rc == RG_OK)
        rc = rg_sqlite_run(w, SQL_MD_INSERT,
                           SQV_ARGS(SQV_TEXT(m->id), SQV_TEXT(m->dataset_id), SQV_TEXT(tenant_id),
                                    SQV_TEXT(m->name), SQV_TEXT(m->type), SQV_INT(m->created_at)),
                           NULL);
    return rg_sqlite_write_end(s, rc == RG_ECONFLICT ? RG_ENAMEDUP : rc);
}

rg_rc rg_sqlite_metadata_list(rg_store *base, rg_arena *arena, const char *tenant_id,
                              const char *dataset_id, rg_metadata_field **items, size_t *n)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    sqlite3_stmt *st;
    RG_TRY(
        rg_sqlite_query(c, SQL_MD_LIST, SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)), &st));
    void *rows = NULL;
    rg_rc rc = rg_sqlite_collect(c, arena, st, sizeof(rg_metadata_field), row_field, &rows, n);
    rg_sqlite_stmt_done(c, st);
    *items = rows;
    return rc;
}

/* Reads one field on connection c into *out.  RG_ENOTFOUND if absent. */
static rg_rc field_get(rg_sqlite_conn *c, rg_arena *arena, const char *tenant_id,
                       const char *dataset_id, const char *id, rg_metadata_field *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, SQL_MD_GET,
                           SQV_ARGS(SQV_TEXT(id), SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)), &st));
    rg_rc rc;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        rc = row_field(c, arena, st, out);
    } else
        rc = r == SQLITE_DONE ? RG_ENOTFOUND : rg_sqlite_fail(c, "metadata get");
    rg_sqlite_stmt_done(c, st);
    return rc;
}

rg_rc rg_sqlite_metadata_rename(rg_store *base, rg_arena *arena, const char *tenant_id,
                                const char *dataset_id, const char *id, const char *name,
                                rg_metadata_field *out)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_metadata_field old;
    rg_rc rc = field_get(w, arena, tenant_id, dataset_id, id, &old);
    if (rc == RG_OK)
        rc = rg_sqlite_run(
            w, SQL_MD_RENAME,
            SQV_ARGS(SQV_TEXT(id), SQV_TEXT(dataset_id), SQV_TEXT(tenant_id), SQV_TEXT(name)),
            NULL);
    if (rc == RG_ECONFLICT)
        rc = RG_ENAMEDUP;
    if (rc == RG_OK && strcmp(old.name, name) != 0)
        rc =
            rg_sqlite_run(w, SQL_DOCS_RENAME_KEY,
                          SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(old.name), SQV_TEXT(name)), NULL);
    if (rc == RG_OK)
        rc = field_get(w, arena, tenant_id, dataset_id, id, out);
    return rg_sqlite_write_end(s, rc);
}

rg_rc rg_sqlite_metadata_delete(rg_store *base, const char *tenant_id, const char *dataset_id,
                                const char *id)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_arena *a = rg_arena_new(4096);
    if (!a)
        return rg_sqlite_write_end(s, RG_ENOMEM);
    rg_metadata_field old;
    rg_rc rc = field_get(w, a, tenant_id, dataset_id, id, &old);
    if (rc == RG_OK)
        rc = rg_sqlite_run(w, SQL_DOCS_DROP_KEY, SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(old.name)),
                           NULL);
    if (rc == RG_OK)
        rc = rg_sqlite_run(w, SQL_MD_DELETE,
                           SQV_ARGS(SQV_TEXT(id), SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)), NULL);
    rg_arena_free(a);
    return rg_sqlite_write_end(s, rc);
}

rg_rc rg_sqlite_metadata_builtin(rg_store *base, const char *tenant_id, const char *dataset_id,
                                 bool enabled)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    int64_t changes = 0;
    rg_rc rc = rg_sqlite_run(
        w, SQL_DS_BUILTIN,
        SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id), SQV_INT(enabled ? 1 : 0)), &changes);
    if (rc == RG_OK && changes == 0)
        rc = RG_ENOTFOUND;
    return rg_sqlite_write_end(s, rc);
}

rg_rc rg_sqlite_document_metadata_set(rg_store *base, const char *tenant_id, const char *dataset_id,
                                      const char *const *doc_ids, const char *const *values,
                                      size_t n, size_t *bad)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    rg_sqlite_conn *w;
    RG_TRY(rg_sqlite_write_begin(s, &w));
    rg_rc rc = RG_OK;
    for (size_t i = 0; rc == RG_OK && i < n; i++) {
        int64_t changes = 0;
        rc = rg_sqlite_run(w, SQL_DOC_META_SET,
                           SQV_ARGS(SQV_TEXT(doc_ids[i]), SQV_TEXT(dataset_id), SQV_TEXT(tenant_id),
                                    SQV_TEXT(values[i])),
                           &changes);
        if (rc == RG_OK && changes == 0) {
            *bad = i;
            rc = RG_ENOTFOUND;
        }
    }
    return rg_sqlite_write_end(s, rc);
}

/* Reads an SQL_DOC_META_ALL row. */
static rg_rc row_doc_meta(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, void *item)
{
    rg_doc_meta *d = item;
    RG_TRY(rg_sqlite_col_fixed(c, st, 0, d->id, sizeof d->id));
    RG_TRY(rg_sqlite_col_arena(c, a, st, 1, &d->name));
    RG_TRY(rg_sqlite_col_arena(c, a, st, 2, &d->created_by));
    RG_TRY(rg_sqlite_col_arena(c, a, st, 3, &d->data_source_type));
    d->created_at = sqlite3_column_int64(st, 4);
    d->updated_at = sqlite3_column_int64(st, 5);
    RG_TRY(rg_sqlite_col_arena(c, a, st, 6, &d->doc_metadata));
    return RG_OK;
}

rg_rc rg_sqlite_document_metadata_all(rg_store *base, rg_arena *arena, const char *tenant_id,
                                      const char *dataset_id, rg_doc_meta **items, size_t *n)
{
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(rg_sqlite_of(base), &c));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, SQL_DOC_META_ALL, SQV_ARGS(SQV_TEXT(dataset_id), SQV_TEXT(tenant_id)),
                           &st));
    void *rows = NULL;
    rg_rc rc = rg_sqlite_collect(c, arena, st, sizeof(rg_doc_meta), row_doc_meta, &rows, n);
    rg_sqlite_stmt_done(c, st);
    *items = rows;
    return rc;
}
