/*
 * store.h - the storage interface.  Nothing above store/ writes SQL.
 *
 * The store is an opaque handle with an engine behind it (SQLite today,
 * PostgreSQL later, same functions).  Every function is safe to call from any
 * thread.  Reads use a connection of the calling thread; writes are
 * serialised.  A function that fills a struct with strings takes the arena
 * that will own them.  Rows of one tenant are invisible to every other: every
 * lookup of a tenant-owned row takes the tenant id.
 *
 * Committed means durable: a function that returned RG_OK has its effect on
 * disk, and survives kill -9 of the process.
 */
#ifndef RG_STORE_STORE_H
#define RG_STORE_STORE_H

#include "core/arena.h"
#include "core/common.h"
#include "domain/dataset.h"
#include "domain/tenant.h"

typedef struct rg_store rg_store;

/* Opens (creating if needed) the store in data_dir and migrates its schema.
 * On success *out is a new handle; close it with rg_store_close. */
RG_WUR rg_rc rg_store_open(const char *data_dir, rg_store **out);
/* Closes every connection of every thread.  No call may be in flight. */
void rg_store_close(rg_store *s);
/* Cheap liveness check of the calling thread's read connection. */
RG_WUR rg_rc rg_store_ping(rg_store *s);
/* Name of the engine ("sqlite"), static storage. */
const char *rg_store_engine(const rg_store *s);

/* --- tenants and keys --------------------------------------------------- */

/* Finds the tenant named name, creating it (with a new owner id) if absent. */
RG_WUR rg_rc rg_store_tenant_ensure(rg_store *s, const char *name, rg_tenant *out);
/* Stores a new key (k->tenant.id must exist).  RG_ECONFLICT on a hash clash. */
RG_WUR rg_rc rg_store_key_insert(rg_store *s, const rg_key *k);
/* Finds the key with this hash, filling its tenant.  RG_ENOTFOUND if none. */
RG_WUR rg_rc rg_store_key_find(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN], rg_key *out);
/* Lists every key, oldest first, into an array owned by arena. */
RG_WUR rg_rc rg_store_key_list(rg_store *s, rg_arena *arena, rg_key **out, size_t *n);
/* Deletes the key with this hash.  RG_ENOTFOUND if none. */
RG_WUR rg_rc rg_store_key_delete(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN]);
/* Number of keys in the store. */
RG_WUR rg_rc rg_store_key_count(rg_store *s, int64_t *n);

/* --- datasets ----------------------------------------------------------- */

typedef struct rg_dataset_query {
    const char *tenant_id;
    const char *keyword; /* nullable: case-insensitive substring of the name */
    const char *const *tag_ids; /* nullable: a dataset must carry every tag */
    size_t n_tag_ids;
    int64_t offset, limit;
} rg_dataset_query;

/* Inserts d (id, tenant, timestamps set by the caller).  RG_ENAMEDUP when the
 * tenant already has a dataset of that name. */
RG_WUR rg_rc rg_store_dataset_insert(rg_store *s, const rg_dataset *d);
/* Reads one dataset of the tenant into *out, strings owned by arena.
 * RG_ENOTFOUND when it does not exist in that tenant. */
RG_WUR rg_rc rg_store_dataset_get(rg_store *s, rg_arena *arena, const char *tenant_id,
                                  const char *id, rg_dataset *out);
/* Reads one page of the tenant's datasets, newest first, and the total count
 * of matches.  The array and its strings are owned by arena. */
RG_WUR rg_rc rg_store_dataset_list(rg_store *s, rg_arena *arena, const rg_dataset_query *q,
                                   rg_dataset **items, size_t *n, int64_t *total);
/* Replaces the stored fields of d (matched by tenant and id); counters are
 * not written.  RG_ENAMEDUP on a name clash, RG_ENOTFOUND if absent. */
RG_WUR rg_rc rg_store_dataset_update(rg_store *s, const rg_dataset *d);
/* Deletes the dataset and everything it owns.  RG_ENOTFOUND if absent. */
RG_WUR rg_rc rg_store_dataset_delete(rg_store *s, const char *tenant_id, const char *id);

#endif
