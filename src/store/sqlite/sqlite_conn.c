/*
 * sqlite_conn.c - SQLite connections for the store: open, pragmas, statement
 * cache, transactions, and the per-thread read connections.
 *
 * Every connection is opened SQLITE_OPEN_NOMUTEX and used by one thread at a
 * time: the single writer under the store's mutex, each reader by the thread
 * that opened it.  Statements are prepared once per connection
 * (SQLITE_PREPARE_PERSISTENT) and cached in a small array keyed by the address
 * of their static SQL text; a statement is reset as soon as its caller is
 * done, so no read transaction stays open between calls.
 *
 * Read connections live in thread-specific data.  All of them, whatever store
 * they belong to, are also linked in one registry under one static mutex, so
 * that exactly one party closes each: the thread-exit destructor unlinks and
 * closes its own connection, and rg_sqlite_readers_close unlinks and closes
 * whatever is left.  The destructor only dereferences a connection after
 * finding it in the registry with its own thread id, so a destructor that
 * races with readers_close (which may have freed that connection) does
 * nothing.
 */
#include "store/sqlite/sqlite_int.h"

#include "core/alloc.h"
#include "core/log.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* How long a connection waits for a lock held by another process. */
#define BUSY_TIMEOUT_MS "5000"

static const char SQL_BEGIN[] = "BEGIN";
static const char SQL_BEGIN_IMMEDIATE[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

/* Every live read connection of every store. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static rg_sqlite_conn *registry;

rg_rc rg_sqlite_fail(rg_sqlite_conn *c, const char *what)
{
    rg_error("sqlite: %s: %s (code %d)", what, sqlite3_errmsg(c->db),
             sqlite3_extended_errcode(c->db));
    return RG_EIO;
}

/* Runs a PRAGMA and copies the first column of its first row (if any) into res. */
static rg_rc pragma(rg_sqlite_conn *c, const char *sql, char *res, size_t cap)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return rg_sqlite_fail(c, sql);
    rg_rc rc = RG_OK;
    if (res)
        res[0] = '\0';
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW && res) {
        const unsigned char *z = sqlite3_column_text(st, 0);
        snprintf(res, cap, "%s", z ? (const char *)z : "");
    } else if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = rg_sqlite_fail(c, sql);
    sqlite3_finalize(st);
    return rc;
}

static rg_rc configure(rg_sqlite_conn *c, bool writer)
{
    char v[32];
    RG_TRY(pragma(c, "PRAGMA busy_timeout=" BUSY_TIMEOUT_MS, NULL, 0));
    RG_TRY(pragma(c, "PRAGMA foreign_keys=ON", NULL, 0));
    if (!writer)
        return RG_OK;
    RG_TRY(pragma(c, "PRAGMA journal_mode=WAL", v, sizeof v));
    if (strcmp(v, "wal") != 0) {
        rg_error("sqlite: cannot enable WAL mode (journal_mode is '%s')", v);
        return RG_EIO;
    }
    RG_TRY(pragma(c, "PRAGMA synchronous=FULL", NULL, 0));
    RG_TRY(pragma(c, "PRAGMA foreign_keys", v, sizeof v));
    if (strcmp(v, "1") != 0) {
        rg_error("sqlite: foreign keys cannot be enabled");
        return RG_EIO;
    }
    return RG_OK;
}

rg_rc rg_sqlite_conn_open(const char *path, bool writer, rg_sqlite_conn **out)
{
    *out = NULL;
    int flags = SQLITE_OPEN_NOMUTEX |
                (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
    rg_sqlite_conn *c = rg_xcalloc(1, sizeof *c);
    int r = sqlite3_open_v2(path, &c->db, flags, NULL);
    if (r != SQLITE_OK) {
        if (c->db)
            rg_error("sqlite: cannot open %s: %s", path, sqlite3_errmsg(c->db));
        else
            rg_error("sqlite: cannot open %s: %s", path, sqlite3_errstr(r));
        rg_sqlite_conn_close(c);
        return RG_EIO;
    }
    rg_rc rc = configure(c, writer);
    if (rc != RG_OK) {
        rg_sqlite_conn_close(c);
        return rc;
    }
    *out = c;
    return RG_OK;
}

void rg_sqlite_conn_close(rg_sqlite_conn *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_slots; i++) {
        RG_ASSERT(!c->slots[i].busy);
        sqlite3_finalize(c->slots[i].st);
    }
    rg_free(c->slots);
    if (c->db && sqlite3_close(c->db) != SQLITE_OK) {
        /* Cannot happen with every statement finalized; do not leak the handle. */
        rg_error("sqlite: close: %s", sqlite3_errmsg(c->db));
        sqlite3_close_v2(c->db);
    }
    rg_free(c);
}

rg_rc rg_sqlite_stmt(rg_sqlite_conn *c, const char *sql, sqlite3_stmt **out)
{
    for (size_t i = 0; i < c->n_slots; i++) {
        if (c->slots[i].sql == sql) {
            RG_ASSERT(!c->slots[i].busy); /* one use at a time per connection */
            c->slots[i].busy = true;
            *out = c->slots[i].st;
            return RG_OK;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        rg_rc rc = rg_sqlite_fail(c, "prepare");
        rg_error("sqlite: statement was: %.200s", sql);
        return rc;
    }
    if (c->n_slots == c->cap_slots) {
        c->cap_slots = c->cap_slots ? 2 * c->cap_slots : 16;
        c->slots = rg_xrealloc(c->slots, c->cap_slots * sizeof *c->slots);
    }
    c->slots[c->n_slots++] = (rg_sqlite_slot){.sql = sql, .st = st, .busy = true};
    *out = st;
    return RG_OK;
}

void rg_sqlite_stmt_done(rg_sqlite_conn *c, sqlite3_stmt *st)
{
    for (size_t i = 0; i < c->n_slots; i++) {
        if (c->slots[i].st == st) {
            RG_ASSERT(c->slots[i].busy);
            /* reset reports the last step's error again; that was handled already */
            (void)sqlite3_reset(st);
            (void)sqlite3_clear_bindings(st);
            c->slots[i].busy = false;
            return;
        }
    }
    RG_ASSERT(!"statement not from this connection's cache");
}

rg_rc rg_sqlite_exec(rg_sqlite_conn *c, const char *sql, const char *what)
{
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return rg_sqlite_fail(c, what);
    return RG_OK;
}

/* Steps a cached statement that returns no rows. */
static rg_rc step_once(rg_sqlite_conn *c, const char *sql)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(c, sql, &st));
    rg_rc rc = RG_OK;
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = rg_sqlite_fail(c, sql);
    rg_sqlite_stmt_done(c, st);
    return rc;
}

rg_rc rg_sqlite_tx_begin(rg_sqlite_conn *c, bool immediate)
{
    return step_once(c, immediate ? SQL_BEGIN_IMMEDIATE : SQL_BEGIN);
}

rg_rc rg_sqlite_tx_end(rg_sqlite_conn *c, rg_rc rc)
{
    if (rc == RG_OK)
        rc = step_once(c, SQL_COMMIT);
    /* Some errors (I/O, full disk) already rolled back; ROLLBACK would then fail. */
    if (rc != RG_OK && !sqlite3_get_autocommit(c->db)) {
        if (step_once(c, SQL_ROLLBACK) != RG_OK)
            rg_error("sqlite: rollback failed; the connection may be unusable");
    }
    return rc;
}

/* --- per-thread read connections ----------------------------------------- */

/* Thread-exit destructor of a readers key: closes the thread's connection unless
 * rg_sqlite_readers_close got to it first. */
static void reader_thread_exit(void *v)
{
    rg_sqlite_conn *found = NULL;
    pthread_mutex_lock(&registry_mu);
    for (rg_sqlite_conn **pp = &registry; *pp; pp = &(*pp)->next) {
        /* compare addresses only: v may be a connection that was freed already */
        if ((uintptr_t)*pp == (uintptr_t)v && pthread_equal((*pp)->thread, pthread_self())) {
            found = *pp;
            *pp = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_mu);
    rg_sqlite_conn_close(found);
}

rg_rc rg_sqlite_readers_init(rg_sqlite_readers *r, const char *path)
{
    r->path = path;
    int e = pthread_key_create(&r->key, reader_thread_exit);
    if (e != 0) {
        rg_error("sqlite: pthread_key_create: %s", strerror(e));
        return RG_EIO;
    }
    return RG_OK;
}

rg_rc rg_sqlite_reader(rg_sqlite_readers *r, rg_sqlite_conn **out)
{
    rg_sqlite_conn *c = pthread_getspecific(r->key);
    if (c) {
        *out = c;
        return RG_OK;
    }
    RG_TRY(rg_sqlite_conn_open(r->path, false, &c));
    c->owner = r;
    c->thread = pthread_self();
    pthread_mutex_lock(&registry_mu);
    c->next = registry;
    registry = c;
    pthread_mutex_unlock(&registry_mu);
    int e = pthread_setspecific(r->key, c);
    if (e != 0) {
        rg_error("sqlite: pthread_setspecific: %s", strerror(e));
        pthread_mutex_lock(&registry_mu);
        for (rg_sqlite_conn **pp = &registry; *pp; pp = &(*pp)->next) {
            if (*pp == c) {
                *pp = c->next;
                break;
            }
        }
        pthread_mutex_unlock(&registry_mu);
        rg_sqlite_conn_close(c);
        return RG_ENOMEM;
    }
    *out = c;
    return RG_OK;
}

void rg_sqlite_readers_close(rg_sqlite_readers *r)
{
    rg_sqlite_conn *mine = NULL;
    pthread_mutex_lock(&registry_mu);
    /* After this no thread exit calls the destructor for r (one already running
     * finds nothing in the registry once the loop below has run). */
    pthread_key_delete(r->key);
    for (rg_sqlite_conn **pp = &registry; *pp;) {
        rg_sqlite_conn *c = *pp;
        if (c->owner == r) {
            *pp = c->next;
            c->next = mine;
            mine = c;
        } else
            pp = &c->next;
    }
    pthread_mutex_unlock(&registry_mu);
    while (mine) {
        rg_sqlite_conn *next = mine->next;
        rg_sqlite_conn_close(mine);
        mine = next;
    }
}
