/*
 * sqlite_embed_cache.c - the embedding cache on SQLite (store.h).
 *
 * One table (migration 5): embed_cache(id INTEGER PRIMARY KEY, model,
 * digest, vec, UNIQUE (model, digest)).  Reads are point lookups on the
 * unique index, one per text, on the calling thread's read connection.
 * Writes happen inside rg_store_job_indexed's transaction (no extra commit,
 * so no extra fsync): INSERT OR IGNORE, then the oldest entries - the
 * smallest ids, as ids only grow - beyond the limit are deleted by id range,
 * which walks the table's b-tree from its start and costs nothing when the
 * cache is under its limit.  A vector is stored as dims native floats; a row
 * whose size is not dims floats (a model key reused with another dimension)
 * is a miss.
 */
#include "store/sqlite/sqlite_int.h"

#include <string.h>

#define DIGEST_LEN 32

static const char SQL_CACHE_GET[] = "SELECT vec FROM embed_cache WHERE model = ?1 AND digest = ?2";
static const char SQL_CACHE_PUT[] =
    "INSERT OR IGNORE INTO embed_cache (model, digest, vec) VALUES (?1, ?2, ?3)";
static const char SQL_CACHE_TRIM[] =
    "DELETE FROM embed_cache WHERE id <= (SELECT max(id) FROM embed_cache) - ?1";

void rg_sqlite_embed_cache_limit(rg_store *base, int64_t max_entries)
{
    atomic_store(&rg_sqlite_of(base)->embed_cache_max, max_entries);
}

/* Looks one digest up; *hit when a vector of dims floats was copied to out. */
static rg_rc cache_get_one(rg_sqlite_conn *c, const char *model, int dims,
                           const unsigned char *digest, float *out, bool *hit)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_query(c, SQL_CACHE_GET,
                           SQV_ARGS(SQV_TEXT(model), SQV_BLOB(digest, DIGEST_LEN)), &st));
    rg_rc rc = RG_OK;
    int r = sqlite3_step(st);
    *hit = false;
    if (r == SQLITE_ROW) {
        const void *v = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (v && n == (size_t)dims * sizeof(float)) {
            memcpy(out, v, n);
            *hit = true;
        }
    } else if (r != SQLITE_DONE)
        rc = rg_sqlite_fail(c, "embedding cache get");
    rg_sqlite_stmt_done(c, st);
    return rc;
}

rg_rc rg_sqlite_embed_cache_get(rg_store *base, const char *model, int dims,
                                const unsigned char *digests, size_t n, float *out, bool *hit)
{
    rg_sqlite_store *s = rg_sqlite_of(base);
    memset(hit, 0, n * sizeof *hit);
    if (n == 0 || atomic_load(&s->embed_cache_max) == 0)
        return RG_OK;
    rg_sqlite_conn *c;
    RG_TRY(rg_sqlite_read_conn(s, &c));
    RG_TRY(rg_sqlite_tx_begin(c, false)); /* one snapshot for the batch */
    rg_rc rc = RG_OK;
    for (size_t i = 0; i < n && rc == RG_OK; i++)
        rc = cache_get_one(c, model, dims, digests + i * DIGEST_LEN, out + i * (size_t)dims,
                           &hit[i]);
    return rg_sqlite_tx_end(c, rc);
}

rg_rc rg_sqlite_embed_cache_put(rg_sqlite_conn *w, rg_sqlite_store *s, const rg_segment_index *it)
{
    int64_t max = atomic_load(&s->embed_cache_max);
    if (max == 0 || !it->cache_model || !it->cache_digest || !it->vector || it->dims <= 0)
        return RG_OK;
    int64_t added = 0;
    RG_TRY(rg_sqlite_run(w, SQL_CACHE_PUT,
                         SQV_ARGS(SQV_TEXT(it->cache_model), SQV_BLOB(it->cache_digest, DIGEST_LEN),
                                  SQV_BLOB(it->vector, (size_t)it->dims * sizeof(float))),
                         &added));
    if (added == 0)
        return RG_OK;
    return rg_sqlite_run(w, SQL_CACHE_TRIM, SQV_ARGS(SQV_INT(max)), NULL);
}
