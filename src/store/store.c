/*
 * store.c - the public storage functions: pick an engine, then dispatch.
 *
 * Each rg_store_* function checks what every engine would check the same way
 * (argument ranges, string lengths) and calls through s->ops.  Nothing here
 * knows SQL or files: rg_store_open chooses the engine from the location
 * string (a directory means SQLite; a postgres:// URI is reserved for the
 * PostgreSQL engine, which will plug in behind the same rg_store_ops).
 */
#include "store/store_int.h"

#include "core/log.h"

#include <string.h>

static bool has_prefix(const char *z, const char *prefix)
{
    return strncmp(z, prefix, strlen(prefix)) == 0;
}

rg_rc rg_store_open(const char *data_dir, rg_store **out)
{
    RG_ASSERT(data_dir && out);
    *out = NULL;
    if (!*data_dir) {
        rg_error("store: empty data location");
        return RG_EINVAL;
    }
    if (has_prefix(data_dir, "postgres://") || has_prefix(data_dir, "postgresql://")) {
        rg_error("store: the PostgreSQL engine is not available in this build");
        return RG_EINVAL;
    }
    rg_rc rc = rg_sqlite_open(data_dir, out);
    RG_ASSERT(rc != RG_OK || (*out && (*out)->ops));
    return rc;
}

void rg_store_close(rg_store *s)
{
    if (s)
        s->ops->close(s);
}

rg_rc rg_store_ping(rg_store *s)
{
    return s->ops->ping(s);
}

const char *rg_store_engine(const rg_store *s)
{
    return s->ops->engine(s);
}

rg_rc rg_store_tenant_ensure(rg_store *s, const char *name, rg_tenant *out)
{
    RG_ASSERT(name && out);
    size_t len = strlen(name);
    if (len == 0 || len > RG_TENANT_NAME_MAX)
        return RG_EINVAL;
    return s->ops->tenant_ensure(s, name, out);
}

rg_rc rg_store_key_insert(rg_store *s, const rg_key *k)
{
    RG_ASSERT(k);
    return s->ops->key_insert(s, k);
}

rg_rc rg_store_key_find(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN], rg_key *out)
{
    RG_ASSERT(hash && out);
    return s->ops->key_find(s, hash, out);
}

rg_rc rg_store_key_list(rg_store *s, rg_arena *arena, rg_key **out, size_t *n)
{
    RG_ASSERT(arena && out && n);
    return s->ops->key_list(s, arena, out, n);
}

rg_rc rg_store_key_delete(rg_store *s, const unsigned char hash[RG_KEY_HASH_LEN])
{
    RG_ASSERT(hash);
    return s->ops->key_delete(s, hash);
}

rg_rc rg_store_key_count(rg_store *s, int64_t *n)
{
    RG_ASSERT(n);
    return s->ops->key_count(s, n);
}

rg_rc rg_store_dataset_insert(rg_store *s, const rg_dataset *d)
{
    RG_ASSERT(d);
    return s->ops->dataset_insert(s, d);
}

rg_rc rg_store_dataset_get(rg_store *s, rg_arena *arena, const char *tenant_id, const char *id,
                           rg_dataset *out)
{
    RG_ASSERT(arena && tenant_id && id && out);
    return s->ops->dataset_get(s, arena, tenant_id, id, out);
}

rg_rc rg_store_dataset_list(rg_store *s, rg_arena *arena, const rg_dataset_query *q,
                            rg_dataset **items, size_t *n, int64_t *total)
{
    RG_ASSERT(arena && q && q->tenant_id && items && n && total);
    RG_ASSERT(q->n_tag_ids == 0 || q->tag_ids);
    *items = NULL;
    *n = 0;
    *total = 0;
    if (q->offset < 0 || q->limit < 0)
        return RG_EINVAL;
    return s->ops->dataset_list(s, arena, q, items, n, total);
}

rg_rc rg_store_dataset_update(rg_store *s, const rg_dataset *d)
{
    RG_ASSERT(d);
    return s->ops->dataset_update(s, d);
}

rg_rc rg_store_dataset_delete(rg_store *s, const char *tenant_id, const char *id)
{
    RG_ASSERT(tenant_id && id);
    return s->ops->dataset_delete(s, tenant_id, id);
}
