/*
 * store_int.h - private to src/store/: the engine vtable behind store.h.
 *
 * An engine defines its own handle struct whose first member is a struct
 * rg_store, so that a pointer to either converts to the other.  store.c owns
 * the public functions and does nothing but check common arguments and call
 * through s->ops; every engine detail (SQL dialect, connections, files) stays
 * in the engine's folder.  Nothing outside src/store/ may include this file.
 */
#ifndef RG_STORE_STORE_INT_H
#define RG_STORE_STORE_INT_H

#include "store/store.h"

typedef struct rg_store_ops rg_store_ops;

/* The head of every engine handle. */
struct rg_store {
    const rg_store_ops *ops;
};

/* One entry per public function of store.h except rg_store_open, which picks
 * the engine.  The contracts are those of store.h; arguments have already been
 * checked by store.c where the check does not depend on the engine. */
struct rg_store_ops {
    /* Closes every connection of every thread and frees the handle. */
    void (*close)(rg_store *s);
    /* Runs a trivial query on the calling thread's read connection. */
    rg_rc (*ping)(rg_store *s);
    /* Returns the engine's name, static storage. */
    const char *(*engine)(const rg_store *s);
    /* Finds the tenant named name or creates it; name is 1..RG_TENANT_NAME_MAX bytes. */
    rg_rc (*tenant_ensure)(rg_store *s, const char *name, rg_tenant *out);
    /* Stores a new key; RG_ECONFLICT on a hash (or id) clash. */
    rg_rc (*key_insert)(rg_store *s, const rg_key *k);
    /* Finds a key and its tenant by hash in one indexed query; RG_ENOTFOUND if none. */
    rg_rc (*key_find)(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN], rg_key *out);
    /* Lists every key, oldest first, into an array allocated from arena. */
    rg_rc (*key_list)(rg_store *s, rg_arena *arena, rg_key **out, size_t *n);
    /* Deletes a key by hash; RG_ENOTFOUND if none. */
    rg_rc (*key_delete)(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN]);
    /* Counts the keys. */
    rg_rc (*key_count)(rg_store *s, int64_t *n);
    /* Inserts a dataset; RG_ENAMEDUP on a (tenant, name) clash. */
    rg_rc (*dataset_insert)(rg_store *s, const rg_dataset *d);
    /* Reads one dataset of a tenant, strings from arena; RG_ENOTFOUND if absent. */
    rg_rc (*dataset_get)(rg_store *s, rg_arena *arena, const char *tenant_id, const char *id,
                         rg_dataset *out);
    /* Reads one page and the total count from one consistent snapshot; q->offset and
     * q->limit are >= 0. */
    rg_rc (*dataset_list)(rg_store *s, rg_arena *arena, const rg_dataset_query *q,
                          rg_dataset **items, size_t *n, int64_t *total);
    /* Rewrites the mutable fields of a dataset; RG_ENAMEDUP, RG_ENOTFOUND. */
    rg_rc (*dataset_update)(rg_store *s, const rg_dataset *d);
    /* Deletes a dataset and what it owns; RG_ENOTFOUND if absent. */
    rg_rc (*dataset_delete)(rg_store *s, const char *tenant_id, const char *id);
};

/* The SQLite engine: opens (creating data_dir and <data_dir>/ragd.db if needed)
 * and migrates.  On success *out is a new handle, freed by its ops->close. */
RG_WUR rg_rc rg_sqlite_open(const char *data_dir, rg_store **out);

#endif
