/*
 * test_embed_cache.c - the store's embedding cache: vectors written with an
 * indexing batch are found again by (model key, digest), misses stay misses,
 * another model key or dimension is a miss, the oldest entries go beyond the
 * limit, a limit of 0 turns the cache off, and entries survive a reopen.
 */
#include "harness.h"
#include "store_fixture.h"

#include <string.h>

enum { DIMS = 4 };

static void digest_of(int i, unsigned char d[32])
{
    memset(d, 0, 32);
    d[0] = (unsigned char)i;
    d[31] = 0xAB;
}

/* Indexes segment id with a vector of value v cached under (model, digest i). */
static void put(store_fx *f, const rg_job *job, const char *id, const char *model, int i, float v)
{
    static unsigned char digests[16][32];
    static float vecs[16][DIMS];
    digest_of(i, digests[i]);
    for (int d = 0; d < DIMS; d++)
        vecs[i][d] = v + (float)d;
    rg_segment_index it = fx_index_item(id);
    it.vector = vecs[i];
    it.dims = DIMS;
    it.cache_model = model;
    it.cache_digest = digests[i];
    CHECK_EQ_INT(rg_store_job_indexed(f->s, job, &it, 1), RG_OK);
}

/* True when digest i of model is cached with first component v. */
static bool cached(store_fx *f, const char *model, int dims, int i, float v)
{
    unsigned char d[32];
    float out[8] = {0};
    bool hit = false;
    digest_of(i, d);
    CHECK_EQ_INT(rg_store_embed_cache_get(f->s, model, dims, d, 1, out, &hit), RG_OK);
    return hit && out[0] == v && out[DIMS - 1] == v + DIMS - 1;
}

TEST(store_embed_cache_roundtrip_and_limit)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d;
    fx_doc_add(&f, &d, "cached", "b");
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
    char ids[6][RG_UUID_LEN + 1];
    fx_job_split(&f, &job, 6, ids);

    CHECK(!cached(&f, "m/a@#4", DIMS, 0, 1));
    put(&f, &job, ids[0], "m/a@#4", 0, 1);
    put(&f, &job, ids[1], "m/a@#4", 1, 2);
    CHECK(cached(&f, "m/a@#4", DIMS, 0, 1));
    CHECK(cached(&f, "m/a@#4", DIMS, 1, 2));
    CHECK(!cached(&f, "m/b@#4", DIMS, 0, 1)); /* another model */
    CHECK(!cached(&f, "m/a@#4", 3, 0, 1));    /* another dimension */
    CHECK(!cached(&f, "m/a@#4", DIMS, 2, 3)); /* never written */

    /* a batch: hits and misses side by side */
    unsigned char dd[3][32];
    float out[3][DIMS];
    bool hit[3];
    digest_of(1, dd[0]);
    digest_of(5, dd[1]);
    digest_of(0, dd[2]);
    CHECK_EQ_INT(rg_store_embed_cache_get(f.s, "m/a@#4", DIMS, dd[0], 3, out[0], hit), RG_OK);
    CHECK(hit[0] && !hit[1] && hit[2]);
    CHECK(out[0][0] == 2 && out[2][0] == 1);

    /* a limit of 2: the oldest entry goes when a third arrives */
    rg_store_embed_cache_limit(f.s, 2);
    put(&f, &job, ids[2], "m/a@#4", 2, 3);
    CHECK(!cached(&f, "m/a@#4", DIMS, 0, 1));
    CHECK(cached(&f, "m/a@#4", DIMS, 1, 2));
    CHECK(cached(&f, "m/a@#4", DIMS, 2, 3));
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM embed_cache"), 2);

    /* off: neither read nor written */
    rg_store_embed_cache_limit(f.s, 0);
    CHECK(!cached(&f, "m/a@#4", DIMS, 1, 2));
    put(&f, &job, ids[3], "m/a@#4", 3, 4);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM embed_cache"), 2);

    /* durable: still there after a reopen (default limit again) */
    CHECK(fx_reopen(&f));
    CHECK(cached(&f, "m/a@#4", DIMS, 2, 3));
    FX_CHECK_OK(&f);
    fx_close(&f);
}
