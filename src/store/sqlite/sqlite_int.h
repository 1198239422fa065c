/*
 * sqlite_int.h - private to the SQLite engine (src/store/sqlite/).
 *
 * sqlite_conn.c: connections with their statement caches, transactions, error
 * logging and the registry of per-thread read connections.  sqlite_schema.c:
 * the numbered migrations.  sqlite_store.c: the engine handle and the
 * rg_store_ops built on the two.
 */
#ifndef RG_STORE_SQLITE_SQLITE_INT_H
#define RG_STORE_SQLITE_SQLITE_INT_H

#include "core/common.h"

#include <pthread.h>
#include <sqlite3.h>

typedef struct rg_sqlite_readers rg_sqlite_readers;

/* One cached prepared statement, keyed by the address of its static SQL text. */
typedef struct rg_sqlite_slot {
    const char *sql;
    sqlite3_stmt *st;
    bool busy; /* handed out by rg_sqlite_stmt and not yet given back */
} rg_sqlite_slot;

/* A connection used by one thread at a time (SQLITE_OPEN_NOMUTEX). */
typedef struct rg_sqlite_conn {
    sqlite3 *db;
    rg_sqlite_slot *slots;
    size_t n_slots, cap_slots;
    /* read connections only, guarded by the registry mutex in sqlite_conn.c */
    const rg_sqlite_readers *owner;
    pthread_t thread;
    struct rg_sqlite_conn *next;
} rg_sqlite_conn;

/* The read connections of one store: one per thread, created on first use. */
struct rg_sqlite_readers {
    pthread_key_t key;
    const char *path; /* borrowed from the store, outlives the readers */
};

/* Opens path.  A writer is read-write (creating the file) with journal_mode=WAL,
 * synchronous=FULL, foreign_keys=ON and busy_timeout=5000; a reader is read-only
 * with the same busy timeout.  RG_EIO (logged) on failure.  Close with
 * rg_sqlite_conn_close. */
RG_WUR rg_rc rg_sqlite_conn_open(const char *path, bool writer, rg_sqlite_conn **out);
/* Finalizes the cached statements and closes the connection.  NULL is fine. */
void rg_sqlite_conn_close(rg_sqlite_conn *c);
/* Logs what failed with sqlite3_errmsg and the extended code; returns RG_EIO. */
RG_WUR rg_rc rg_sqlite_fail(rg_sqlite_conn *c, const char *what);
/* Hands out the cached statement for sql (a static string: the pointer is the
 * key), preparing it on first use.  Give it back with rg_sqlite_stmt_done. */
RG_WUR rg_rc rg_sqlite_stmt(rg_sqlite_conn *c, const char *sql, sqlite3_stmt **out);
/* Resets st, clears its bindings and returns it to the cache. */
void rg_sqlite_stmt_done(rg_sqlite_conn *c, sqlite3_stmt *st);
/* Runs SQL text of one or more statements without caching (migrations). */
RG_WUR rg_rc rg_sqlite_exec(rg_sqlite_conn *c, const char *sql, const char *what);
/* Starts a transaction: BEGIN IMMEDIATE for writes, BEGIN (a read snapshot) otherwise. */
RG_WUR rg_rc rg_sqlite_tx_begin(rg_sqlite_conn *c, bool immediate);
/* Ends the transaction: COMMIT when rc is RG_OK, else ROLLBACK.  Returns rc, or
 * RG_EIO when the commit itself failed (the transaction is then rolled back). */
RG_WUR rg_rc rg_sqlite_tx_end(rg_sqlite_conn *c, rg_rc rc);

/* Prepares an empty set of read connections on path (borrowed). */
RG_WUR rg_rc rg_sqlite_readers_init(rg_sqlite_readers *r, const char *path);
/* Returns the calling thread's read connection, opening it on first use.  It is
 * closed when the thread exits or by rg_sqlite_readers_close, whichever is first. */
RG_WUR rg_rc rg_sqlite_reader(rg_sqlite_readers *r, rg_sqlite_conn **out);
/* Closes every read connection of r, of live and exited threads alike. */
void rg_sqlite_readers_close(rg_sqlite_readers *r);

/* Applies the migrations that PRAGMA user_version says are missing, each in its
 * own transaction.  RG_EIO if the file is newer than this program. */
RG_WUR rg_rc rg_sqlite_migrate(rg_sqlite_conn *w);

#endif
