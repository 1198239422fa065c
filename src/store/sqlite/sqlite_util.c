/*
 * sqlite_util.c - the helpers every SQL file of the engine shares: the write
 * transaction, parameter binding from rg_sqv lists, column readers, error
 * mapping, arena arrays that grow, and LIKE patterns.
 *
 * A write is BEGIN IMMEDIATE on the one writer connection under the store's
 * write mutex, ended by rg_sqlite_write_end (commit on RG_OK, else rollback).
 * Statements are the connection's cached ones (keyed by their static SQL
 * text) and are always given back reset, so no read transaction outlives a
 * call.
 */
#include "store/sqlite/sqlite_int.h"

#include "core/log.h"

#include <string.h>

rg_sqlite_store *rg_sqlite_of(rg_store *s)
{
    return (rg_sqlite_store *)s;
}

rg_rc rg_sqlite_read_conn(rg_sqlite_store *s, rg_sqlite_conn **c)
{
    return rg_sqlite_reader(&s->readers, c);
}

rg_rc rg_sqlite_write_begin(rg_sqlite_store *s, rg_sqlite_conn **w)
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

rg_rc rg_sqlite_write_end(rg_sqlite_store *s, rg_rc rc)
{
    rc = rg_sqlite_tx_end(s->writer, rc);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

rg_rc rg_sqlite_step_error(rg_sqlite_conn *c, rg_rc on_unique, rg_rc on_pk, const char *what)
{
    switch (sqlite3_extended_errcode(c->db)) {
    case SQLITE_CONSTRAINT_UNIQUE: return on_unique;
    case SQLITE_CONSTRAINT_PRIMARYKEY: return on_pk;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_CHECK:
        rg_warn("store: %.120s rejected: %s", what, sqlite3_errmsg(c->db));
        return RG_EINVAL;
    default: return rg_sqlite_fail(c, what);
    }
}

int rg_sqlite_bind_z(sqlite3_stmt *st, int i, const char *z)
{
    return z ? sqlite3_bind_text(st, i, z, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int bind_one(sqlite3_stmt *st, int i, const rg_sqv *v)
{
    switch (v->kind) {
    case RG_SQV_NULL: return sqlite3_bind_null(st, i);
    case RG_SQV_TEXT: return rg_sqlite_bind_z(st, i, v->p);
    case RG_SQV_INT: return sqlite3_bind_int64(st, i, v->i);
    case RG_SQV_REAL: return sqlite3_bind_double(st, i, v->d);
    case RG_SQV_BLOB:
        if (!v->p)
            return sqlite3_bind_null(st, i);
        if (v->n > (size_t)INT32_MAX)
            return SQLITE_TOOBIG;
        return sqlite3_bind_blob(st, i, v->p, (int)v->n, SQLITE_STATIC);
    }
    return SQLITE_MISUSE;
}

rg_rc rg_sqlite_bind(rg_sqlite_conn *c, sqlite3_stmt *st, const rg_sqv *v, size_t n)
{
    RG_ASSERT(n == (size_t)sqlite3_bind_parameter_count(st)); /* the SQL and the list agree */
    for (size_t i = 0; i < n; i++)
        if (bind_one(st, (int)i + 1, &v[i]) != SQLITE_OK)
            return rg_sqlite_fail(c, "bind");
    return RG_OK;
}

rg_rc rg_sqlite_query(rg_sqlite_conn *c, const char *sql, const rg_sqv *v, size_t n,
                      sqlite3_stmt **out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, sql, &st));
    rg_rc rc = rg_sqlite_bind(c, st, v, n);
    if (rc != RG_OK) {
        rg_sqlite_stmt_done(c, st);
        return rc;
    }
    *out = st;
    return RG_OK;
}

rg_rc rg_sqlite_run(rg_sqlite_conn *c, const char *sql, const rg_sqv *v, size_t n, int64_t *changes)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, sql, v, n, &st));
    rg_rc rc = RG_OK;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (r != SQLITE_DONE)
        rc = rg_sqlite_step_error(c, RG_ECONFLICT, RG_ECONFLICT, sql);
    else if (changes)
        *changes = sqlite3_changes64(c->db);
    rg_sqlite_stmt_done(c, st);
    return rc;
}

rg_rc rg_sqlite_int(rg_sqlite_conn *c, const char *sql, const rg_sqv *v, size_t n, int64_t *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, sql, v, n, &st));
    rg_rc rc = RG_OK;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (r == SQLITE_DONE)
        rc = RG_ENOTFOUND;
    else
        rc = rg_sqlite_fail(c, sql);
    rg_sqlite_stmt_done(c, st);
    return rc;
}

rg_rc rg_sqlite_col_text(rg_sqlite_conn *c, sqlite3_stmt *st, int i, const char **z, size_t *n)
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

rg_rc rg_sqlite_col_fixed(rg_sqlite_conn *c, sqlite3_stmt *st, int i, char *buf, size_t cap)
{
    const char *z;
    size_t n;
    RG_TRY(rg_sqlite_col_text(c, st, i, &z, &n));
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

rg_rc rg_sqlite_col_arena(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, int i, const char **out)
{
    const char *z;
    size_t n;
    *out = NULL;
    RG_TRY(rg_sqlite_col_text(c, st, i, &z, &n));
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

int64_t rg_sqlite_col_opt(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

rg_rc rg_sqlite_arena_array(rg_arena *a, int64_t n, size_t sz, void **out)
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

/* Makes room for one more item, doubling the array (the old one stays in the arena). */
static rg_rc grow(rg_arena *a, size_t elem, void **items, size_t n, size_t *cap)
{
    if (n < *cap)
        return RG_OK;
    size_t ncap = *cap ? 2 * *cap : 16;
    void *p;
    RG_TRY(rg_sqlite_arena_array(a, (int64_t)ncap, elem, &p));
    if (n)
        memcpy(p, *items, n * elem);
    *items = p;
    *cap = ncap;
    return RG_OK;
}

rg_rc rg_sqlite_collect(rg_sqlite_conn *c, rg_arena *a, sqlite3_stmt *st, size_t elem,
                        rg_sqlite_row_fn fn, void **items, size_t *n)
{
    void *arr = NULL;
    size_t cnt = 0, cap = 0;
    rg_rc rc = RG_OK;
    for (;;) {
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE)
            break;
        if (r != SQLITE_ROW) {
            rc = rg_sqlite_fail(c, "read rows");
            break;
        }
        if ((rc = grow(a, elem, &arr, cnt, &cap)) != RG_OK)
            break;
        if ((rc = fn(c, a, st, (char *)arr + cnt * elem)) != RG_OK)
            break;
        cnt++;
    }
    *items = rc == RG_OK && cnt ? arr : NULL;
    *n = rc == RG_OK ? cnt : 0;
    return rc;
}

rg_rc rg_sqlite_like_pattern(rg_sqlite_conn *c, rg_arena *a, const char *kw, const char **out,
                             bool *fits)
{
    size_t n = strlen(kw);
    *out = NULL;
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
    *fits = o <= (size_t)sqlite3_limit(c->db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, -1);
    return RG_OK;
}
