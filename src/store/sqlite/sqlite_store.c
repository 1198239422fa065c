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
 */
#include "store/sqlite/sqlite_int.h"
#include "store/store_int.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_FILE "ragd.db"

typedef struct sqlite_store {
    rg_store base; /* first: the rg_store * handed out points here */
    pthread_mutex_t write_mu;
    rg_sqlite_conn *writer; /* used only with write_mu held */
    rg_sqlite_readers readers;
    bool readers_ready;
    char *path;
} sqlite_store;

static sqlite_store *from_base(rg_store *s)
{
    return (sqlite_store *)s;
}

/* --- files ------------------------------------------------------------------ */

/* fsyncs the directory that holds path, so that a new entry in it is durable. */
static void sync_parent(const char *path)
{
    char *dir = rg_xstrdup(path);
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash == dir)
        d = "/";
    else if (slash) {
        *slash = '\0';
        d = dir;
    }
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rg_warn("store: cannot sync directory %s: %s", d, strerror(errno));
    if (fd >= 0)
        close(fd);
    rg_free(dir);
}

/* Creates dir and any missing parents with mode 0700. */
static rg_rc make_dirs(const char *dir)
{
    char *p = rg_xstrdup(dir);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    rg_rc rc = RG_OK;
    for (char *q = p + 1;; q++) {
        if (*q != '/' && *q != '\0')
            continue;
        char saved = *q;
        *q = '\0';
        if (mkdir(p, 0700) == 0)
            sync_parent(p);
        else if (errno != EEXIST) {
            rg_error("store: cannot create directory %s: %s", p, strerror(errno));
            rc = RG_EIO;
        }
        *q = saved;
        if (saved == '\0' || rc != RG_OK)
            break;
    }
    struct stat sb;
    if (rc == RG_OK && (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        rg_error("store: %s is not a directory", p);
        rc = RG_EIO;
    }
    rg_free(p);
    return rc;
}

/* --- transactions and columns ------------------------------------------------ */

static rg_rc reader(sqlite_store *s, rg_sqlite_conn **c)
{
    return rg_sqlite_reader(&s->readers, c);
}

/* Takes the write lock and opens a write transaction on the writer. */
static rg_rc write_begin(sqlite_store *s, rg_sqlite_conn **w)
{
    pthread_mutex_lock(&s->write_mu);
    rg_rc rc = rg_sqlite_tx_begin(s->writer, true);
    if (rc != RG_OK) {
        pthread_mutex_unlock(&s->write_mu);
        return rc;
    }
    *w = s->writer;
    return RG_OK;
}

/* Commits (rc == RG_OK) or rolls back, then releases the write lock. */
static rg_rc write_end(sqlite_store *s, rg_rc rc)
{
    rc = rg_sqlite_tx_end(s->writer, rc);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

/* Maps a failed step: the constraint violations a caller can cause become rcs,
 * anything else is logged and becomes RG_EIO. */
static rg_rc step_error(rg_sqlite_conn *c, rg_rc on_unique, rg_rc on_pk, const char *what)
{
    switch (sqlite3_extended_errcode(c->db)) {
    case SQLITE_CONSTRAINT_UNIQUE: return on_unique;
    case SQLITE_CONSTRAINT_PRIMARYKEY: return on_pk;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_NOTNULL:
        rg_warn("store: %s rejected: %s", what, sqlite3_errmsg(c->db));
        return RG_EINVAL;
    default: return rg_sqlite_fail(c, what);
    }
}

static int bind_z(sqlite3_stmt *st, int i, const char *z)
{
    return z ? sqlite3_bind_text(st, i, z, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Points *z at column i's text (NULL for SQL NULL), valid until the next step. */
static rg_rc col_text(rg_sqlite_conn *c, sqlite3_stmt *st, int i, const char **z, size_t *n)
{
    *z = NULL;
    *n = 0;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return RG_OK;
    *z = (const char *)sqlite3_column_text(st, i);
    if (!*z)
        return rg_sqlite_fail(c, "read column");
    *n = (size_t)sqlite3_column_bytes(st, i);
    return RG_OK;
}

/* Copies column i into a fixed buffer of cap bytes ("" for NULL). */
static rg_rc col_fixed(rg_sqlite_conn *c, sqlite3_stmt *st, int i, char *buf, size_t cap)
{
    const char *z;
    size_t n;
    RG_TRY(col_text(c, st, i, &z, &n));
    if (n >= cap) {
        rg_error("store: column %s holds %zu bytes, at most %zu expected",
                 sqlite3_column_name(st, i), n, cap - 1);
        return RG_EIO;
    }
    if (n)
        memcpy(buf, z, n);
    buf[n] = '\0';
    return RG_OK;
}

/* Copies column i into the arena (NULL stays NULL). */
static rg_rc col_arena(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, int i, const char **out)
{
    const char *z;
    size_t n;
    *out = NULL;
    RG_TRY(col_text(c, st, i, &z, &n));
    if (!z)
        return RG_OK;
    char *p = rg_arena_try_alloc(a, n + 1);
    if (!p)
        return RG_ENOMEM;
    memcpy(p, z, n);
    p[n] = '\0';
    *out = p;
    return RG_OK;
}

/* Allocates n elements of sz bytes from the arena; *out is NULL when n is 0. */
static rg_rc arena_array(rg_arena *a, int64_t n, size_t sz, void **out)
{
    *out = NULL;
    if (n <= 0)
        return RG_OK;
    if ((uint64_t)n > SIZE_MAX / sz)
        return RG_ENOMEM;
    *out = rg_arena_try_alloc(a, (size_t)n * sz);
    if (!*out)
        return RG_ENOMEM;
    memset(*out, 0, (size_t)n * sz);
    return RG_OK;
}

/* Runs a one-column, one-row integer query (a COUNT) with optional text params. */
static rg_rc count_query(rg_sqlite_conn *c, const char *sql, const char *p1, const char *p2,
                         int64_t *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, sql, &st));
    rg_rc rc = RG_OK;
    int n = sqlite3_bind_parameter_count(st);
    if ((n >= 1 && bind_z(st, 1, p1) != SQLITE_OK) || (n >= 2 && bind_z(st, 2, p2) != SQLITE_OK))
        rc = rg_sqlite_fail(c, "bind");
    else if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = rg_sqlite_fail(c, "count");
    rg_sqlite_stmt_done(c, st);
    return rc;
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
    if (bind_z(st, 1, name) != SQLITE_OK)
        rc = rg_sqlite_fail(c, "bind");
    else {
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            rc = col_fixed(c, st, 0, out->id, sizeof out->id);
            if (rc == RG_OK)
                rc = col_fixed(c, st, 1, out->owner_id, sizeof out->owner_id);
            if (rc == RG_OK)
                rc = col_fixed(c, st, 2, out->name, sizeof out->name);
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
    if (bind_z(st, 1, out->id) != SQLITE_OK || bind_z(st, 2, out->owner_id) != SQLITE_OK ||
        bind_z(st, 3, out->name) != SQLITE_OK || sqlite3_bind_int64(st, 4, rg_now_s()) != SQLITE_OK)
        rc = rg_sqlite_fail(w, "bind");
    else if (sqlite3_step(st) != SQLITE_DONE)
        rc = step_error(w, RG_ECONFLICT, RG_ECONFLICT, "tenant insert");
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
    RG_TRY(col_fixed(c, st, 0, k->id, sizeof k->id));
    const void *h = sqlite3_column_blob(st, 1);
    if (!h || sqlite3_column_bytes(st, 1) != RG_KEY_HASH_LEN) {
        rg_error("store: api key %s has a malformed hash", k->id);
        return RG_EIO;
    }
    memcpy(k->hash, h, RG_KEY_HASH_LEN);
    RG_TRY(col_fixed(c, st, 2, k->shown, sizeof k->shown));
    RG_TRY(col_fixed(c, st, 3, k->dataset_id, sizeof k->dataset_id));
    k->created_at = sqlite3_column_int64(st, 4);
    RG_TRY(col_fixed(c, st, 5, k->tenant.id, sizeof k->tenant.id));
    RG_TRY(col_fixed(c, st, 6, k->tenant.owner_id, sizeof k->tenant.owner_id));
    return col_fixed(c, st, 7, k->tenant.name, sizeof k->tenant.name);
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
    if (bind_z(st, 1, k->id) != SQLITE_OK ||
        sqlite3_bind_blob(st, 2, k->hash, RG_KEY_HASH_LEN, SQLITE_STATIC) != SQLITE_OK ||
        bind_z(st, 3, k->shown) != SQLITE_OK || bind_z(st, 4, k->tenant.id) != SQLITE_OK ||
        bind_z(st, 5, k->dataset_id[0] ? k->dataset_id : NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 6, k->created_at) != SQLITE_OK)
        rc = rg_sqlite_fail(w, "bind");
    else if (sqlite3_step(st) != SQLITE_DONE)
        rc = step_error(w, RG_ECONFLICT, RG_ECONFLICT, "key insert");
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
        rc = arena_array(arena, total, sizeof(rg_key), &keys);
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
};

#define DS_N_WRITTEN 25 /* ds_fields[0..25) are parameters ?1..?25 */

#define DS_COLS                                                                                    \
    "d.id, d.tenant_id, d.name, d.description, d.provider, d.permission, d.data_source_type,"      \
    " d.indexing_technique, d.created_by, d.created_at, d.updated_by, d.updated_at,"               \
    " d.embedding_model, d.embedding_model_provider, d.retrieval_model,"                           \
    " d.summary_index_setting, d.icon_info, d.doc_form, d.external_knowledge_id,"                  \
    " d.external_knowledge_api_id, d.external_retrieval_model, d.partial_member_list,"             \
    " d.built_in_field_enabled, d.enable_api, d.is_multimodal, d.document_count, d.word_count,"    \
    " d.available_document_count, t.name"
#define DS_FROM  " FROM datasets d JOIN tenants t ON t.id = d.tenant_id"
#define DS_MATCH "d.tenant_id = ?1 AND (?2 IS NULL OR d.name LIKE ?2 ESCAPE '\\')"

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

_Static_assert(RG_ARRAY_LEN(ds_fields) == DS_N_WRITTEN + 4, "ds_fields and DS_COLS disagree");

static rg_rc bind_dataset(rg_sqlite_conn *c, sqlite3_stmt *st, const rg_dataset *d)
{
    for (int i = 0; i < DS_N_WRITTEN; i++) {
        const char *p = (const char *)d + ds_fields[i].off;
        int r = SQLITE_OK;
        switch (ds_fields[i].kind) {
        case DS_UUID: r = bind_z(st, i + 1, p); break;
        case DS_TEXT: r = bind_z(st, i + 1, *(const char *const *)p); break;
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
        case DS_UUID: RG_TRY(col_fixed(c, st, i, p, RG_UUID_LEN + 1)); break;
        case DS_TEXT: RG_TRY(col_arena(c, a, st, i, (const char **)(void *)p)); break;
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
        rc = step_error(w, RG_ENAMEDUP, RG_ECONFLICT, "dataset insert");
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
    if (bind_z(st, 1, tenant_id) != SQLITE_OK || bind_z(st, 2, id) != SQLITE_OK)
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

/* Builds the LIKE pattern "%kw%" with \, % and _ escaped, in the arena. */
static rg_rc like_pattern(rg_arena *a, const char *kw, const char **out)
{
    size_t n = strlen(kw);
    if (n > (SIZE_MAX - 3) / 2)
        return RG_ENOMEM;
    char *p = rg_arena_try_alloc(a, 2 * n + 3);
    if (!p)
        return RG_ENOMEM;
    size_t o = 0;
    p[o++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (kw[i] == '\\' || kw[i] == '%' || kw[i] == '_')
            p[o++] = '\\';
        p[o++] = kw[i];
    }
    p[o++] = '%';
    p[o] = '\0';
    *out = p;
    return RG_OK;
}

/* Reads up to cap rows of the page into items. */
static rg_rc dataset_rows(rg_sqlite_conn *c, rg_arena *arena, const rg_dataset_query *q,
                          const char *pattern, rg_dataset *items, size_t cap, size_t *n)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, SQL_DS_PAGE, &st));
    rg_rc rc = RG_OK;
    if (bind_z(st, 1, q->tenant_id) != SQLITE_OK || bind_z(st, 2, pattern) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, (sqlite3_int64)cap) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, q->offset) != SQLITE_OK)
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

static rg_rc sqlite_dataset_list(rg_store *base, rg_arena *arena, const rg_dataset_query *q,
                                 rg_dataset **items, size_t *n, int64_t *total)
{
    /* There is no tags table yet, so no dataset carries a tag and a tag filter
     * matches nothing.  The tags migration will replace this with a join. */
    if (q->n_tag_ids > 0)
        return RG_OK;
    rg_sqlite_conn *c;
    RG_TRY(reader(from_base(base), &c));
    const char *pattern = NULL;
    if (q->keyword) {
        RG_TRY(like_pattern(arena, q->keyword, &pattern));
        /* Longer than SQLite accepts for LIKE (50000 bytes): far longer than any
         * name (40 characters), so it is a substring of none. */
        if (strlen(pattern) > (size_t)sqlite3_limit(c->db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, -1))
            return RG_OK;
    }
    RG_TRY(rg_sqlite_tx_begin(c, false)); /* one snapshot for the count and the page */
    int64_t count = 0, page = 0;
    void *rows = NULL;
    rg_rc rc = count_query(c, SQL_DS_COUNT, q->tenant_id, pattern, &count);
    if (rc == RG_OK && q->offset < count) {
        page = count - q->offset < q->limit ? count - q->offset : q->limit;
        rc = arena_array(arena, page, sizeof(rg_dataset), &rows);
    }
    if (rc == RG_OK && rows)
        rc = dataset_rows(c, arena, q, pattern, rows, (size_t)page, n);
    rc = rg_sqlite_tx_end(c, rc);
    if (rc != RG_OK) {
        *n = 0;
        return rc;
    }
    *items = rows;
    *total = count;
    return RG_OK;
}

static rg_rc sqlite_dataset_update(rg_store *base, const rg_dataset *d)
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
            rc = step_error(w, RG_ENAMEDUP, RG_ECONFLICT, "dataset update");
        else if (sqlite3_changes(w->db) == 0)
            rc = RG_ENOTFOUND;
    }
    rg_sqlite_stmt_done(w, st);
    return write_end(s, rc);
}

static rg_rc sqlite_dataset_delete(rg_store *base, const char *tenant_id, const char *id)
{
    sqlite_store *s = from_base(base);
    rg_sqlite_conn *w;
    RG_TRY(write_begin(s, &w));
    sqlite3_stmt *st;
    /* Documents, segments and the rest will be deleted here, in this transaction. */
    rg_rc rc = rg_sqlite_stmt(w, SQL_DS_DELETE, &st);
    if (rc != RG_OK)
        return write_end(s, rc);
    if (bind_z(st, 1, id) != SQLITE_OK || bind_z(st, 2, tenant_id) != SQLITE_OK)
        rc = rg_sqlite_fail(w, "bind");
    else if (sqlite3_step(st) != SQLITE_DONE)
        rc = rg_sqlite_fail(w, "dataset delete");
    else if (sqlite3_changes(w->db) == 0)
        rc = RG_ENOTFOUND;
    rg_sqlite_stmt_done(w, st);
    return write_end(s, rc);
}

/* --- open ------------------------------------------------------------------------ */

static const rg_store_ops sqlite_ops = {
    .close = sqlite_close,
    .ping = sqlite_ping,
    .engine = sqlite_engine,
    .tenant_ensure = sqlite_tenant_ensure,
    .key_insert = sqlite_key_insert,
    .key_find = sqlite_key_find,
    .key_list = sqlite_key_list,
    .key_delete = sqlite_key_delete,
    .key_count = sqlite_key_count,
    .dataset_insert = sqlite_dataset_insert,
    .dataset_get = sqlite_dataset_get,
    .dataset_list = sqlite_dataset_list,
    .dataset_update = sqlite_dataset_update,
    .dataset_delete = sqlite_dataset_delete,
};

rg_rc rg_sqlite_open(const char *data_dir, rg_store **out)
{
    *out = NULL;
    if (!sqlite3_threadsafe()) {
        rg_error("store: this SQLite library was built without thread support");
        return RG_EIO;
    }
    RG_TRY(make_dirs(data_dir));
    sqlite_store *s = rg_xcalloc(1, sizeof *s);
    s->base.ops = &sqlite_ops;
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
    if (rc != RG_OK) {
        sqlite_close(&s->base);
        return rc;
    }
    rg_debug("store: opened %s", s->path);
    *out = &s->base;
    return RG_OK;
}
