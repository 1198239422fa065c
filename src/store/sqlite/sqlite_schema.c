/*
 * sqlite_schema.c - the SQLite schema as numbered migrations.
 *
 * migrations[i] takes a database from PRAGMA user_version i to i + 1.  Open
 * applies the missing ones in order, each in its own BEGIN IMMEDIATE
 * transaction that also sets user_version, so a crash leaves the file at a
 * whole version and the next open resumes.  The version is re-read inside the
 * transaction, so two processes opening the same file cannot both apply one.
 * Migrations are append-only: never edit one that has shipped; add the next
 * (documents, segments, jobs, tags...) at the end of the array.  A migration
 * that must rebuild a table has to be written knowing foreign_keys is ON.
 */
#include "store/sqlite/sqlite_int.h"

#include "core/log.h"

#include <stdio.h>

/* 1: tenants, their API keys, datasets. */
static const char MIGRATION_1[] =
    "CREATE TABLE tenants ("
    "  id TEXT PRIMARY KEY,"
    "  owner_id TEXT NOT NULL,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE api_keys ("
    "  id TEXT PRIMARY KEY,"
    "  hash BLOB NOT NULL UNIQUE,"
    "  shown TEXT NOT NULL,"
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  dataset_id TEXT," /* NULL: every dataset of the tenant */
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE datasets ("
    "  id TEXT PRIMARY KEY,"
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  name TEXT NOT NULL,"
    "  description TEXT,"
    "  provider TEXT NOT NULL,"
    "  permission TEXT NOT NULL,"
    "  data_source_type TEXT,"
    "  indexing_technique TEXT,"
    "  created_by TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_by TEXT,"
    "  updated_at INTEGER NOT NULL,"
    "  embedding_model TEXT,"
    "  embedding_model_provider TEXT,"
    "  retrieval_model TEXT,"       /* JSON */
    "  summary_index_setting TEXT," /* JSON */
    "  icon_info TEXT,"             /* JSON */
    "  doc_form TEXT,"
    "  external_knowledge_id TEXT,"
    "  external_knowledge_api_id TEXT,"
    "  external_retrieval_model TEXT," /* JSON */
    "  partial_member_list TEXT,"      /* JSON array */
    "  built_in_field_enabled INTEGER NOT NULL DEFAULT 0,"
    "  enable_api INTEGER NOT NULL DEFAULT 1,"
    "  is_multimodal INTEGER NOT NULL DEFAULT 0,"
    "  document_count INTEGER NOT NULL DEFAULT 0,"
    "  word_count INTEGER NOT NULL DEFAULT 0,"
    "  available_document_count INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (tenant_id, name)"
    ");"
    "CREATE INDEX datasets_tenant_created ON datasets (tenant_id, created_at);";

static const char *const migrations[] = {
    MIGRATION_1,
};

static const char SQL_USER_VERSION[] = "PRAGMA user_version";

static rg_rc user_version(rg_sqlite_conn *w, int *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(w, SQL_USER_VERSION, &st));
    rg_rc rc = RG_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    else
        rc = rg_sqlite_fail(w, "read user_version");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

/* Applies migration index i (to version i + 1) unless it is already there. */
static rg_rc apply(rg_sqlite_conn *w, int i)
{
    char what[64], bump[64];
    snprintf(what, sizeof what, "migration %d", i + 1);
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", i + 1);
    RG_TRY(rg_sqlite_tx_begin(w, true));
    int v = 0;
    rg_rc rc = user_version(w, &v);
    if (rc == RG_OK && v <= i) {
        rc = rg_sqlite_exec(w, migrations[i], what);
        if (rc == RG_OK)
            rc = rg_sqlite_exec(w, bump, what);
    }
    rc = rg_sqlite_tx_end(w, rc);
    if (rc == RG_OK && v <= i)
        rg_info("store: applied schema migration %d", i + 1);
    return rc;
}

rg_rc rg_sqlite_migrate(rg_sqlite_conn *w)
{
    const int n = (int)RG_ARRAY_LEN(migrations);
    int v = 0;
    RG_TRY(user_version(w, &v));
    if (v < 0 || v > n) {
        rg_error("store: the database is at schema version %d but this ragd knows 0..%d;"
                 " refusing to open it",
                 v, n);
        return RG_EIO;
    }
    for (int i = v; i < n; i++)
        RG_TRY(apply(w, i));
    return RG_OK;
}
