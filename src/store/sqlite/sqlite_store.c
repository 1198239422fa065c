/*
 * sqlite_store.c - the SQLite engine behind store.h: <data_dir>/ragd.db.
 *
 * One write connection, guarded by write_mu, runs every write inside
 * BEGIN IMMEDIATE ... COMMIT (rolled back on any error); WAL with
 * synchronous=FULL makes a returned RG_OK durable.  Reads run on the calling
 * thread's read-only connection (sqlite_conn.c), and never block the writer;
 * a read of several statements (a page and its total) runs in one read
 * transaction so that both come from the same snapshot.  All SQL is static
 * text with bound parameters.  Constraint violations the contract names
 * become their rg_rc; anything else unexpected is logged and becomes RG_EIO.
 *
 * The dataset columns are listed once, in ds_fields: parameter ?N of the
 * INSERT and UPDATE and result column N-1 of the SELECTs are field N-1.
 * Documents, jobs, files and the check live in the other sqlite_*.c files;
 * the ops table at the end of this one gathers them.
 */
#include "store/sqlite/sqlite_int.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/str.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define DB_FILE            "ragd.db"
#define SQLITE_MIN_VERSION 3038000

typedef rg_sqlite_store sqlite_store;

static sqlite_store *from_base(rg_store *s)
{
    return rg_sqlite_of(s);
}

/* --- transactions and columns ------------------------------------------------ */

static rg_rc reader(sqlite_store *s, rg_sqlite_conn **c)
{
    return rg_sqlite_read_conn(s, c);
}

static rg_rc write_begin(sqlite_store *s, rg_sqlite_conn **w)
{
    return rg_sqlite_write_begin(s, w);
}

static rg_rc write_end(sqlite_store *s, rg_rc rc)
{
    return rg_sqlite_write_end(s, rc);
}

/* Runs a one-column, one-row integer query (a COUNT) with optional text params. */
/* Runs a COUNT query binding ?1, ?2 and ?5 (those it has) to p1, p2, p5. */
static rg_rc count_query5(rg_sqlite_conn *c, const char *sql, const char *p1, const char *p2,
                          const char *p5, int64_t *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, sql, &st));
    rg_rc rc = RG_OK;
    int n = sqlite3_bind_parameter_count(st);
    if ((n >= 1 && rg_sqlite_bind_z(st, 1, p1) != SQLITE_OK) ||
        (n >= 2 && rg_sqlite_bind_z(st, 2, p2) != SQLITE_OK) ||
        (n >= 5 && rg_sqlite_bind_z(st, 5, p5) != SQLITE_OK))
        rc = rg_sqlite_fail(c, "bind");
    else if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = rg_sqlite_fail(c, "count");
    rg_sqlite_stmt_done(c, st);
    return rc;
}

static rg_rc count_query(rg_sqlite_conn *c, const char *sql, const char *p1, const char *p2,
                         int64_t *out)
{
    return count_query5(c, sql, p1, p2, NULL, out);
}

/* --- lifecycle ----------------------------------------------------------------- */

static void sqlite_close(rg_store *base)
{
    sqlite_store *s = from_base(base);
    if (s->readers_ready)
        rg_sqlite_readers_close(&s->readers);
    if (s->writer) {
        /* closed last, so that its close checkpoints the WAL into the database */
        if (rg_sqlite_exec(s->writer, "PRAGMA optimize", "optimize") != RG_OK)
            rg_warn("store: PRAGMA optimize failed (harmless)");
        rg_sqlite_conn_close(s->writer);
    }
    pthread_mutex_destroy(&s->write_mu);
    rg_free(s->path);
    rg_free(s->uploads_dir);
    rg_free(s->spool_dir);
    rg_free(s);
}

static rg_rc sqlite_ping(rg_store *base)
{
    static const char sql[] = "SELECT 1";
    rg_sqlite_conn *c;
    RG_TRY(reader(from_base(base), &c));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, sql, &st));
    rg_rc rc = sqlite3_step(st) == SQLITE_ROW ? RG_OK : rg_sqlite_fail(c, "ping");
    rg_sqlite_stmt_done(c, st);
    return rc;
}

static const char *sqlite_engine(const rg_store *s)
{
    RG_UNUSED(s);
    return "sqlite";
}

/* --- tenants ------------------------------------------------------------------- */

static const char SQL_TENANT_BY_NAME[] = "SELECT id, owner_id, name FROM tenants WHERE name = ?1";
static const char SQL_TENANT_INSERT[] =
    "INSERT INTO tenants (id, owner_id, name, created_at) VALUES (?1, ?2, ?3, ?4)";

/* Reads the tenant named name on c; RG_ENOTFOUND if there is none. */
static rg_rc tenant_by_name(rg_sqlite_conn *c, const char *name, rg_tenant *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, SQL_TENANT_BY_NAME, &st));
    rg_rc rc;
    if (rg_sqlite_bind_z(st, 1, name) != SQLITE_OK)
        rc = rg_sqlite_fail(c, "bind");
    else {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            rc = rg_sqlite_col_fixed(c, st, 0, out->id, sizeof out->id);
            if (rc == RG_OK)
                rc = rg_sqlite_col_fixed(c, st, 1, out->owner_id, sizeof out->owner_id);
            if (rc == RG_OK)
                rc = rg_sqlite_col_fixed(c, st, 2, out->name, sizeof out->name);
        } else if (r == SQLITE_DONE)
            rc = RG_ENOTFOUND;
        else
            rc = rg_sqlite_fail(c, "tenant lookup");
    }
    rg_sqlite_stmt_done(c, st);
    return rc;
}

static rg_rc tenant_insert(rg_sqlite_conn *w, const char *name, rg_tenant *out)
{
    rg_uuid4(out->id);
    rg_uuid4(out->owner_id);
    snprintf(out->name, sizeof out->name, "%s", name); /* length checked by store.c */
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(w, SQL_TENANT_INSERT, &st));
    rg_rc rc = RG_OK;
    if (rg_sqlite_bind_z(st, 1, out->id) != SQLITE_OK ||
        rg_sqlite_bind_z(st, 2, out->owner_id) != SQLITE_OK ||
        rg_sqlite_bind_z(st, 3, out->name) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, rg_now_s()) != SQLITE_OK)
        rc = rg_sqlite_fail(w, "bind");
    else if (sqlite3_step(st) != SQLITE_DONE)
        rc = rg_sqlite_step_error(w, RG_ECONFLICT, RG_ECONFLICT, "tenant insert");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

static rg_rc sqlite_tenant_ensure(rg_store *base, const char *name, rg_tenant *out)
{
    sqlite_store *s = from_base(base);
    rg_sqlite_conn *c;
    memset(out, 0, sizeof *out);
    /* the common case, an existing tenant, does not touch the write lock */
    RG_TRY(reader(s, &c));
    rg_rc rc = tenant_by_name(c, name, out);
    if (rc != RG_ENOTFOUND)
        return rc;
    RG_TRY(write_begin(s, &c));
    rc = tenant_by_name(c, name, out); /* another thread or process may have made it */
    if (rc == RG_ENOTFOUND)
        rc = tenant_insert(c, name, out);
    rc = write_end(s, rc);
    if (rc != RG_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* --- API keys ------------------------------------------------------------------ */

#define KEY_COLS "k.id, k.hash, k.shown, k.dataset_id, k.created_at, t.id, t.owner_id, t.name"
#define KEY_FROM " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"

static const char SQL_KEY_FIND[] = "SELECT " KEY_COLS KEY_FROM " WHERE k.hash = ?1";
static const char SQL_KEY_LIST[] = "SELECT " KEY_COLS KEY_FROM " ORDER BY k.created_at, k.rowid";
static const char SQL_KEY_COUNT[] = "SELECT COUNT(*) FROM api_keys";
static const char SQL_KEY_INSERT[] = "INSERT INTO api_keys"
                                     " (id, hash, shown, tenant_id, dataset_id, created_at)"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_KEY_DELETE[] = "DELETE FROM api_keys WHERE hash = ?1";

static rg_rc row_to_key(rg_sqlite_conn *c, sqlite3_stmt *st, rg_key *k)
{
    memset(k, 0, sizeof *k);
    RG_TRY(rg_sqlite_col_fixed(c, st, 0, k->id, sizeof k->id));
    const void *h = sqlite3_column_blob(st, 1);
    if (!h || sqlite3_column_bytes(st, 1) != RG_KEY_HASH_LEN) {
        rg_error("store: api key %s has a malformed hash", k->id);
        return RG_EIO;
    }
    memcpy(k->hash, h, RG_KEY_HASH_LEN);
    RG_TRY(rg_sqlite_col_fixed(c, st, 2, k->shown, sizeof k->shown));
    RG_TRY(rg_sqlite_col_fixed(c, st, 3, k->dataset_id, sizeof k->dataset_id));
    k->created_at = sqlite3_column_int64(st, 4);
    RG_TRY(rg_sqlite_col_fixed(c, st, 5, k->tenant.id, sizeof k->tenant.id));
    RG_TRY(rg_sqlite_col_fixed(c, st, 6, k->tenant.owner_id, sizeof k->tenant.owner_id));
    return rg_sqlite_col_fixed(c, st, 7, k->tenant.name, sizeof k->tenant.name);
}

static rg_rc sqlite_key_insert(rg_store *base, const rg_key *k)
{
    sqlite_store *s = from_base(base);
    rg_sqlite_conn *w;
    RG_TRY(write_begin(s, &w));
    sqlite3_stmt *st;
    rg_rc rc = rg_sqlite_stmt(w, SQL_KEY_INSERT, &st);
    if (rc != RG_OK)
        return write_end(s, rc);
    if (rg_sqlite_bind_z(st, 1, k->id) != SQLITE_OK ||
        sqlite3_bind_blob(st, 2, k->hash, RG_KEY_HASH_LEN, SQLITE_STATIC) != SQLITE_OK ||
        rg_sqlite_bind_z(st, 3, k->shown) != SQLITE_OK ||
        rg_sqlite_bind_z(st, 4, k->tenant.id) != SQLITE_OK ||
        rg_sqlite_bind_z(st, 5, k->dataset_id[0] ? k->dataset_id : NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 6, k->created_at) != SQLITE_OK)
        rc = rg_sqlite_fail(w, "bind");
    else if (sqlite3_step(st) != SQLITE_DONE)
        rc = rg_sqlite_step_error(w, RG_ECONFLICT, RG_ECONFLICT, "key insert");
    rg_sqlite_stmt_done(w, st);
    return write_end(s, rc);
}

static rg_rc sqlite_key_find(rg_store *base, const unsigned char hash[RG_KEY_HASH_LEN], rg_key *out)
{
    rg_sqlite_conn *c;
    RG_TRY(reader(from_base(base), &c));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, SQL_KEY_FIND, &st));
    rg_rc rc;
    if (sqlite3_bind_blob(st, 1, hash, RG_KEY_HASH_LEN, SQLITE_STATIC) != SQLITE_OK)
        rc = rg_sqlite_fail(c, "bind");
    else {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
            rc = row_to_key(c, st, out);
        else if (r == SQLITE_DONE)
            rc = RG_ENOTFOUND;
        else
            rc = rg_sqlite_fail(c, "key find");
    }
    rg_sqlite_stmt_done(c, st);
    return rc;
}

/* Reads every key into keys[0..cap) (cap counted in the same snapshot). */
static rg_rc key_rows(rg_sqlite_conn *c, rg_key *keys, size_t cap, size_t *n)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, SQL_KEY_LIST, &st));
    rg_rc rc = RG_OK;
    while (rc == RG_OK && *n < cap) {
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE)
            break;
        if (r != SQLITE_ROW)
            rc = rg_sqlite_fail(c, "key list");
        else if ((rc = row_to_key(c, st, &keys[*n])) == RG_OK)
            (*n)++;
    }
    rg_sqlite_stmt_done(c, st);
    return rc;
}

static rg_rc sqlite_key_list(rg_store *base, rg_arena *arena, rg_key **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    rg_sqlite_conn *c;
    RG_TRY(reader(from_base(base), &c));
    RG_TRY(rg_sqlite_tx_begin(c, false));
    int64_t total = 0;
    void *keys = NULL;
    rg_rc rc = count_query(c, SQL_KEY_COUNT, NULL, NULL, &total);
    if (rc == RG_OK)
        rc = rg_sqlite_arena_array(arena, total, sizeof(rg_key), &keys);
    if (rc == RG_OK && keys)
        rc = key_rows(c, keys, (size_t)total, n);
    rc = rg_sqlite_tx_end(c, rc);
    if (rc == RG_OK)
        *out = keys;
    else
        *n = 0;
    return rc;
}

static rg_rc sqlite_key_delete(rg_store *base, const unsigned char hash[RG_KEY_HASH_LEN])
{
    sqlite_store *s = from_base(base);
    rg_sqlite_conn *w;
    RG_TRY(write_begin(s, &w));
    sqlite3_stmt *st;
    rg_rc rc = rg_sqlite_stmt(w, SQL_KEY_DELETE, &st);
    if (rc != RG_OK)
        return write_end(s, rc);
    if (sqlite3_bind_blob(st, 1, hash, RG_KEY_HASH_LEN, SQLITE_STATIC) != SQLITE_OK)
        rc = rg_sqlite_fail(w, "bind");
    else if (sqlite3_step(st) != SQLITE_DONE)
        rc = rg_sqlite_fail(w, "key delete");
    else if (sqlite3_changes(w->db) == 0)
        rc = RG_ENOTFOUND;
    rg_sqlite_stmt_done(w, st);
    return write_end(s, rc);
}

static rg_rc sqlite_key_count(rg_store *base, int64_t *n)
{
    rg_sqlite_conn *c;
    *n = 0;
    RG_TRY(reader(from_base(base), &c));
    return count_query(c, SQL_KEY_COUNT, NULL, NULL, n);
}

/* --- datasets ------------------------------------------------------------------ */

enum ds_kind { DS_UUID, DS_TEXT, DS_INT, DS_BOOL };

#define DS_FIELD(kind, field)                                                                      \
    {                                                                                              \
        kind, offsetof(rg_dataset, field)                                                          \
    }

/* Field i is parameter ?i+1 of SQL_DS_INSERT / SQL_DS_UPDATE and column i of DS_COLS. */
static const struct ds_field {
    enum ds_kind kind;
    size_t off;
} ds_fields[] = {
    DS_FIELD(DS_UUID, id),
    DS_FIELD(DS_UUID, tenant_id),
    DS_FIELD(DS_TEXT, name),
    DS_FIELD(DS_TEXT, description),
    DS_FIELD(DS_TEXT, provider),
    DS_FIELD(DS_TEXT, permission),
    DS_FIELD(DS_TEXT, data_source_type),
    DS_FIELD(DS_TEXT, indexing_technique),
    DS_FIELD(DS_TEXT, created_by),
    DS_FIELD(DS_INT, created_at),
    DS_FIELD(DS_TEXT, updated_by),
    DS_FIELD(DS_INT, updated_at),
    DS_FIELD(DS_TEXT, embedding_model),
    DS_FIELD(DS_TEXT, embedding_model_provider),
    DS_FIELD(DS_TEXT, retrieval_model),
    DS_FIELD(DS_TEXT, summary_index_setting),
    DS_FIELD(DS_TEXT, icon_info),
    DS_FIELD(DS_TEXT, doc_form),
    DS_FIELD(DS_TEXT, external_knowledge_id),
    DS_FIELD(DS_TEXT, external_knowledge_api_id),
    DS_FIELD(DS_TEXT, external_retrieval_model),
    DS_FIELD(DS_TEXT, partial_member_list),
    DS_FIELD(DS_BOOL, built_in_field_enabled),
    DS_FIELD(DS_BOOL, enable_api),
    DS_FIELD(DS_BOOL, is_multimodal),
    /* read only from here: the store maintains them */
    DS_FIELD(DS_INT, document_count),
    DS_FIELD(DS_INT, word_count),
    DS_FIELD(DS_INT, available_document_count),
    DS_FIELD(DS_TEXT, author_name),
    DS_FIELD(DS_TEXT, tags),
    DS_FIELD(DS_TEXT, metadata),
};

#define DS_N_WRITTEN 25 /* ds_fields[0..25) are parameters ?1..?25 */

#define DS_COLS                                                                                    \
    "d.id, d.tenant_id, d.name, d.description, d.provider, d.permission, d.data_source_type,"      \
    " d.indexing_technique, d.created_by, d.created_at, d.updated_by, d.updated_at,"               \
    " d.embedding_model, d.embedding_model_provider, d.retrieval_model,"                           \
    " d.summary_index_setting, d.icon_info, d.doc_form, d.external_knowledge_id,"                  \
    " d.external_knowledge_api_id, d.external_retrieval_model, d.partial_member_list,"             \
    " d.built_in_field_enabled, d.enable_api, d.is_multimodal, d.document_count, d.word_count,"    \
    " d.available_document_count, t.name,"                                                         \
    " (SELECT json_group_array(json_object('id', tg.id, 'name', tg.name, 'type', tg.type))"        \
    "  FROM (SELECT tg.id, tg.name, tg.type FROM tag_bindings b JOIN tags tg ON tg.id = b.tag_id"  \
    "  WHERE b.target_id = d.id ORDER BY tg.created_at, tg.rowid) tg),"                            \
    " (SELECT json_group_array(json_object('id', m.id, 'name', m.name, 'type', m.type))"           \
    "  FROM (SELECT id, name, type FROM dataset_metadatas WHERE dataset_id = d.id"                 \
    "  ORDER BY created_at, rowid) m)"
#define DS_FROM " FROM datasets d JOIN tenants t ON t.id = d.tenant_id"
/* ?5: a JSON array of tag ids (NULL: no tag filter); a dataset must carry them all */
#define DS_MATCH                                                                                   \
    "d.tenant_id = ?1 AND (?2 IS NULL OR d.name LIKE ?2 ESCAPE '\\')"                              \
    " AND (?5 IS NULL OR (SELECT COUNT(*) FROM tag_bindings b JOIN tags tg ON tg.id = b.tag_id"    \
    "  WHERE b.target_id = d.id AND tg.tenant_id = d.tenant_id"                                    \
    "  AND tg.id IN (SELECT value FROM json_each(?5)))"                                            \
    "  = (SELECT COUNT(DISTINCT value) FROM json_each(?5)))"

static const char SQL_DS_GET[] = "SELECT " DS_COLS DS_FROM " WHERE d.tenant_id = ?1 AND d.id = ?2";
static const char SQL_DS_COUNT[] = "SELECT COUNT(*) FROM datasets d WHERE " DS_MATCH;
static const char SQL_DS_PAGE[] = "SELECT " DS_COLS DS_FROM " WHERE " DS_MATCH
                                  " ORDER BY d.created_at DESC, d.rowid DESC LIMIT ?3 OFFSET ?4";
static const char SQL_DS_INSERT[] =
    "INSERT INTO datasets (id, tenant_id, name, description, provider, permission,"
    " data_source_type, indexing_technique, created_by, created_at, updated_by, updated_at,"
    " embedding_model, embedding_model_provider, retrieval_model, summary_index_setting,"
    " icon_info, doc_form, external_knowledge_id, external_knowledge_api_id,"
    " external_retrieval_model, partial_member_list, built_in_field_enabled, enable_api,"
    " is_multimodal) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
    " ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)";
/* id and tenant are the key; created_by/created_at (?9, ?10) never change */
static const char SQL_DS_UPDATE[] =
    "UPDATE datasets SET name = ?3, description = ?4, provider = ?5, permission = ?6,"
    " data_source_type = ?7, indexing_technique = ?8, updated_by = ?11, updated_at = ?12,"
    " embedding_model = ?13, embedding_model_provider = ?14, retrieval_model = ?15,"
    " summary_index_setting = ?16, icon_info = ?17, doc_form = ?18,"
    " external_knowledge_id = ?19, external_knowledge_api_id = ?20,"
    " external_retrieval_model = ?21, partial_member_list = ?22,"
    " built_in_field_enabled = ?23, enable_api = ?24, is_multimodal = ?25"
    " WHERE id = ?1 AND tenant_id = ?2";
static const char SQL_DS_DELETE[] = "DELETE FROM datasets WHERE id = ?1 AND tenant_id = ?2";

_Static_assert(RG_ARRAY_LEN(ds_fields) == DS_N_WRITTEN + 6, "ds_fields and DS_COLS disagree");

static rg_rc bind_dataset(rg_sqlite_conn *c, sqlite3_stmt *st, const rg_dataset *d)
{
    for (int i = 0; i < DS_N_WRITTEN; i++) {
        const char *p = (const char *)d + ds_fields[i].off;
        int r = SQLITE_OK;
        switch (ds_fields[i].kind) {
        case DS_UUID: r = rg_sqlite_bind_z(st, i + 1, p); break;
        case DS_TEXT: r = rg_sqlite_bind_z(st, i + 1, *(const char *const *)p); break;
        case DS_INT: r = sqlite3_bind_int64(st, i + 1, *(const int64_t *)p); break;
        case DS_BOOL: r = sqlite3_bind_int(st, i + 1, *(const bool *)p ? 1 : 0); break;
        }
        if (r != SQLITE_OK)
            return rg_sqlite_fail(c, "bind");
    }
    return RG_OK;
}

static rg_rc row_to_dataset(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, rg_dataset *d)
{
    memset(d, 0, sizeof *d);
    for (int i = 0; i < (int)RG_ARRAY_LEN(ds_fields); i++) {
        char *p = (char *)d + ds_fields[i].off;
        switch (ds_fields[i].kind) {
        case DS_UUID: RG_TRY(rg_sqlite_col_fixed(c, st, i, p, RG_UUID_LEN + 1)); break;
        case DS_TEXT: RG_TRY(rg_sqlite_col_arena(c, a, st, i, (const char **)(void *)p)); break;
        case DS_INT: *(int64_t *)(void *)p = sqlite3_column_int64(st, i); break;
        case DS_BOOL: *(bool *)p = sqlite3_column_int(st, i) != 0; break;
        }
    }
    return RG_OK;
}

static rg_rc sqlite_dataset_insert(rg_store *base, const rg_dataset *d)
{
    sqlite_store *s = from_base(base);
    rg_sqlite_conn *w;
    RG_TRY(write_begin(s, &w));
    sqlite3_stmt *st;
    rg_rc rc = rg_sqlite_stmt(w, SQL_DS_INSERT, &st);
    if (rc != RG_OK)
        return write_end(s, rc);
    rc = bind_dataset(w, st, d);
    /* (tenant_id, name) is the only UNIQUE constraint of datasets besides its key */
    if (rc == RG_OK && sqlite3_step(st) != SQLITE_DONE)
        rc = rg_sqlite_step_error(w, RG_ENAMEDUP, RG_ECONFLICT, "dataset insert");
    rg_sqlite_stmt_done(w, st);
    return write_end(s, rc);
}

static rg_rc sqlite_dataset_get(rg_store *base, rg_arena *arena, const char *tenant_id,
                                const char *id, rg_dataset *out)
{
    rg_sqlite_conn *c;
    RG_TRY(reader(from_base(base), &c));
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, SQL_DS_GET, &st));
    rg_rc rc;
    if (rg_sqlite_bind_z(st, 1, tenant_id) != SQLITE_OK || rg_sqlite_bind_z(st, 2, id) != SQLITE_OK)
        rc = rg_sqlite_fail(c, "bind");
    else {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW)
            rc = row_to_dataset(c, arena, st, out);
        else if (r == SQLITE_DONE)
            rc = RG_ENOTFOUND;
        else
            rc = rg_sqlite_fail(c, "dataset get");
    }
    rg_sqlite_stmt_done(c, st);
    return rc;
}

/* Reads up to cap rows of the page into items. */
static rg_rc dataset_rows(rg_sqlite_conn *c, rg_arena *arena, const rg_dataset_query *q,
                          const char *pattern, const char *tags, rg_dataset *items, size_t cap,
                          size_t *n)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, SQL_DS_PAGE, &st));
    rg_rc rc = RG_OK;
    if (rg_sqlite_bind_z(st, 1, q->tenant_id) != SQLITE_OK ||
        rg_sqlite_bind_z(st, 2, pattern) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, (sqlite3_int64)cap) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, q->offset) != SQLITE_OK ||
        rg_sqlite_bind_z(st, 5, tags) != SQLITE_OK)
        rc = rg_sqlite_fail(c, "bind");
    while (rc == RG_OK && *n < cap) {
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE)
            break;
        if (r != SQLITE_ROW)
            rc = rg_sqlite_fail(c, "dataset list");
        else if ((rc = row_to_dataset(c, arena, st, &items[*n])) == RG_OK)
            (*n)++;
    }
    rg_sqlite_stmt_done(c, st);
    return rc;
}

/* Writes ids as a JSON array of strings into the arena; *all_ids is false
 * (and *out NULL) when one of them is not a UUID (so it needs no escaping). */
static rg_rc tag_ids_json(rg_arena *a, const char *const *ids, size_t n, const char **out,
                          bool *all_ids)
{
    *out = NULL;
    *all_ids = false;
    for (size_t i = 0; i < n; i++)
        if (!ids[i] || !rg_str_is_uuid(rg_str_c(ids[i])))
            return RG_OK;
    if (n > (SIZE_MAX - 3) / (RG_UUID_LEN + 3))
        return RG_ENOMEM;
    char *p = rg_arena_try_alloc(a, n * (RG_UUID_LEN + 3) + 3);
    if (!p)
        return RG_ENOMEM;
    size_t o = 0;
    p[o++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            p[o++] = ',';
        p[o++] = '"';
        memcpy(p + o, ids[i], RG_UUID_LEN);
        o += RG_UUID_LEN;
        p[o++] = '"';
    }
    p[o++] = ']';
    p[o] = '\0';
    *out = p;
    *all_ids = true;
    return RG_OK;
}

static rg_rc sqlite_dataset_list(rg_store *base, rg_arena *arena, const rg_dataset_query *q,
                                 rg_dataset **items, size_t *n, int64_t *total)
{
    const char *tags = NULL;
    if (q->n_tag_ids > 0) {
        bool all_ids;
        RG_TRY(tag_ids_json(arena, q->tag_ids, q->n_tag_ids, &tags, &all_ids));
        if (!all_ids) /* a tag id that is no UUID is carried by no dataset */
            return RG_OK;
    }
    rg_sqlite_conn *c;
    RG_TRY(reader(from_base(base), &c));
    const char *pattern = NULL;
    if (q->keyword) {
        bool fits;
        RG_TRY(rg_sqlite_like_pattern(c, arena, q->keyword, &pattern, &fits));
        /* Longer than SQLite accepts for LIKE (50000 bytes): far longer than any
         * name (40 characters), so it is a substring of none. */
        if (!fits)
            return RG_OK;
    }
    RG_TRY(rg_sqlite_tx_begin(c, false)); /* one snapshot for the count and the page */
    int64_t count = 0, page = 0;
    void *rows = NULL;
    rg_rc rc = count_query5(c, SQL_DS_COUNT, q->tenant_id, pattern, tags, &count);
    if (rc == RG_OK && q->offset < count) {
        page = count - q->offset < q->limit ? count - q->offset : q->limit;
        rc = rg_sqlite_arena_array(arena, page, sizeof(rg_dataset), &rows);
    }
    if (rc == RG_OK && rows)
        rc = dataset_rows(c, arena, q, pattern, tags, rows, (size_t)page, n);
    rc = rg_sqlite_tx_end(c, rc);
    if (rc != RG_OK) {
        *n = 0;
        return rc;
    }
    *items = rows;
    *total = count;
    return RG_OK;
}

static rg_rc sqlite_dataset_update(rg_store *base, const rg_dataset *d, bool reindex)
{
    sqlite_store *s = from_base(base);
    rg_sqlite_conn *w;
    RG_TRY(write_begin(s, &w));
    sqlite3_stmt *st;
    rg_rc rc = rg_sqlite_stmt(w, SQL_DS_UPDATE, &st);
    if (rc != RG_OK)
        return write_end(s, rc);
    rc = bind_dataset(w, st, d);
    if (rc == RG_OK) {
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = rg_sqlite_step_error(w, RG_ENAMEDUP, RG_ECONFLICT, "dataset update");
        else if (sqlite3_changes(w->db) == 0)
            rc = RG_ENOTFOUND;
    }
    rg_sqlite_stmt_done(w, st);
    if (rc == RG_OK && reindex)
        rc = rg_sqlite_dataset_reindex(w, d->tenant_id, d->id);
    return write_end(s, rc);
}

static const char SQL_DS_UPLOADS[] =
    "SELECT upload_id FROM documents WHERE dataset_id = ?1 AND tenant_id = ?2";

typedef struct upload_ids {
    char (*ids)[RG_UUID_LEN + 1];
    size_t n, cap;
} upload_ids;

static rg_rc upload_ids_add(upload_ids *u, sqlite3_stmt *st, rg_sqlite_conn *c)
{
    if (u->n == u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 64;
        void *p = rg_try_realloc(u->ids, cap * sizeof *u->ids);
        if (!p)
            return RG_ENOMEM;
        u->ids = p;
        u->cap = cap;
    }
    RG_TRY(rg_sqlite_col_fixed(c, st, 0, u->ids[u->n], sizeof u->ids[u->n]));
    u->n++;
    return RG_OK;
}

/* Reads the upload ids of a dataset's documents: their files go after the commit. */
static rg_rc dataset_uploads(rg_sqlite_conn *w, const char *tenant_id, const char *id,
                             upload_ids *u)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(w, SQL_DS_UPLOADS, SQV_ARGS(SQV_TEXT(id), SQV_TEXT(tenant_id)), &st));
    rg_rc rc = RG_OK;
    int r = SQLITE_DONE;
    while (rc == RG_OK && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = upload_ids_add(u, st, w);
    if (rc == RG_OK && r != SQLITE_DONE)
        rc = rg_sqlite_fail(w, "dataset uploads");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

static rg_rc sqlite_dataset_delete(rg_store *base, const char *tenant_id, const char *id)
{
    sqlite_store *s = from_base(base);
    rg_sqlite_conn *w;
    upload_ids u = {0};
    RG_TRY(write_begin(s, &w));
    /* documents, segments, child chunks, index data, jobs, process rules and
     * upload rows go with the dataset (ON DELETE CASCADE and a trigger) */
    int64_t changes = 0;
    rg_rc rc = dataset_uploads(w, tenant_id, id, &u);
    if (rc == RG_OK)
        rc = rg_sqlite_run(w, SQL_DS_DELETE, SQV_ARGS(SQV_TEXT(id), SQV_TEXT(tenant_id)), &changes);
    if (rc == RG_OK && changes == 0)
        rc = RG_ENOTFOUND;
    rc = write_end(s, rc);
    for (size_t i = 0; rc == RG_OK && i < u.n; i++)
        rg_sqlite_upload_unlink(s, u.ids[i]);
    rg_free(u.ids);
    return rc;
}

/* --- open ------------------------------------------------------------------------ */

/* rg_store_auth: the two lookups inside one deferred read transaction, so
 * the WAL read lock is taken and released once per request. */
static rg_rc sqlite_auth(rg_store *base, rg_arena *arena, const unsigned char hash[RG_KEY_HASH_LEN],
                         const char *dataset_id, rg_key *key, rg_dataset *ds, rg_rc *ds_rc)
{
    rg_sqlite_conn *c;
    RG_TRY(reader(from_base(base), &c));
    RG_TRY(rg_sqlite_tx_begin(c, false));
    rg_rc rc = sqlite_key_find(base, hash, key);
    if (rc == RG_OK && dataset_id) {
        *ds_rc = sqlite_dataset_get(base, arena, key->tenant.id, dataset_id, ds);
        if (*ds_rc != RG_OK && *ds_rc != RG_ENOTFOUND)
            rc = *ds_rc;
    }
    rg_rc end = rg_sqlite_tx_end(c, RG_OK);
    return rc != RG_OK ? rc : end;
}

static const rg_store_ops sqlite_ops = {
    .close = sqlite_close,
    .ping = sqlite_ping,
    .engine = sqlite_engine,
    .tenant_ensure = sqlite_tenant_ensure,
    .key_insert = sqlite_key_insert,
    .key_find = sqlite_key_find,
    .auth = sqlite_auth,
    .key_list = sqlite_key_list,
    .key_delete = sqlite_key_delete,
    .key_count = sqlite_key_count,
    .dataset_insert = sqlite_dataset_insert,
    .dataset_get = sqlite_dataset_get,
    .dataset_list = sqlite_dataset_list,
    .dataset_update = sqlite_dataset_update,
    .dataset_delete = sqlite_dataset_delete,
    .upload_adopt = rg_sqlite_upload_adopt,
    .upload_path = rg_sqlite_upload_path,
    .spool_dir = rg_sqlite_spool_dir,
    .document_insert = rg_sqlite_document_insert,
    .document_replace = rg_sqlite_document_replace,
    .document_get = rg_sqlite_document_get,
    .document_list = rg_sqlite_document_list,
    .document_batch_status = rg_sqlite_document_batch_status,
    .document_delete = rg_sqlite_document_delete,
    .document_action = rg_sqlite_document_action,
    .segment_list = rg_sqlite_segment_list,
    .child_chunk_list = rg_sqlite_child_chunk_list,
    .jobs_recover = rg_sqlite_jobs_recover,
    .job_claim = rg_sqlite_job_claim,
    .job_finish = rg_sqlite_job_finish,
    .jobs_expire = rg_sqlite_jobs_expire,
    .jobs_queued = rg_sqlite_jobs_queued,
    .job_document = rg_sqlite_job_document,
    .job_stage = rg_sqlite_job_stage,
    .job_segments = rg_sqlite_job_segments,
    .job_pending = rg_sqlite_job_pending,
    .job_indexed = rg_sqlite_job_indexed,
    .embed_cache_limit = rg_sqlite_embed_cache_limit,
    .embed_cache_get = rg_sqlite_embed_cache_get,
    .job_fail = rg_sqlite_job_fail,
    .segment_get = rg_sqlite_segment_get,
    .segments_add = rg_sqlite_segments_add,
    .segment_update = rg_sqlite_segment_update,
    .segment_delete = rg_sqlite_segment_delete,
    .child_chunk_add = rg_sqlite_child_chunk_add,
    .child_chunk_update = rg_sqlite_child_chunk_update,
    .segment_update_children = rg_sqlite_segment_update_children,
    .child_chunk_delete = rg_sqlite_child_chunk_delete,
    .tag_insert = rg_sqlite_tag_insert,
    .tag_list = rg_sqlite_tag_list,
    .tag_rename = rg_sqlite_tag_rename,
    .tag_delete = rg_sqlite_tag_delete,
    .tag_bind = rg_sqlite_tag_bind,
    .metadata_insert = rg_sqlite_metadata_insert,
    .metadata_list = rg_sqlite_metadata_list,
    .metadata_rename = rg_sqlite_metadata_rename,
    .metadata_delete = rg_sqlite_metadata_delete,
    .metadata_builtin = rg_sqlite_metadata_builtin,
    .document_metadata_set = rg_sqlite_document_metadata_set,
    .document_metadata_all = rg_sqlite_document_metadata_all,
    .index_version = rg_sqlite_index_version,
    .index_scan = rg_sqlite_index_scan,
    .index_scan_changes = rg_sqlite_index_scan_changes,
    .index_log_trim = rg_sqlite_index_log_trim,
    .check = rg_sqlite_check,
};

rg_rc rg_sqlite_open(const char *data_dir, rg_store **out)
{
    *out = NULL;
    if (!sqlite3_threadsafe()) {
        rg_error("store: this SQLite library was built without thread support");
        return RG_EIO;
    }
    if (sqlite3_libversion_number() < SQLITE_MIN_VERSION) {
        rg_error("store: SQLite %s is too old; ragd needs 3.38 or later (JSON ->, RETURNING)",
                 sqlite3_libversion());
        return RG_EIO;
    }
    RG_TRY(rg_sqlite_make_dirs(data_dir));
    sqlite_store *s = rg_xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
    atomic_init(&s->embed_cache_max, RG_EMBED_CACHE_DEFAULT);
    /* "./" keeps a relative directory named like "file:..." from being read as a URI */
    const char *lead = data_dir[0] == '/' ? "" : "./";
    size_t len = strlen(lead) + strlen(data_dir) + sizeof "/" DB_FILE;
    s->path = rg_xmalloc(len);
    snprintf(s->path, len, "%s%s/%s", lead, data_dir, DB_FILE);
    int e = pthread_mutex_init(&s->write_mu, NULL);
    RG_ASSERT(e == 0); /* glibc's default mutex init cannot fail */
    rg_rc rc = rg_sqlite_readers_init(&s->readers, s->path);
    if (rc == RG_OK) {
        s->readers_ready = true;
        rc = rg_sqlite_conn_open(s->path, true, &s->writer);
    }
    if (rc == RG_OK)
        rc = rg_sqlite_migrate(s->writer);
    if (rc == RG_OK)
        rc = rg_sqlite_files_open(s, data_dir);
    if (rc != RG_OK) {
        sqlite_close(&s->base);
        return rc;
    }
    rg_debug("store: opened %s", s->path);
    *out = &s->base;
    return RG_OK;
}
