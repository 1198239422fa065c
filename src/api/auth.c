/*
 * auth.c - API keys on every /v1 route, checked in Dify's order
 * (shared/reference/dify-knowledge-api.md 2.2):
 *   1. "Authorization" present and containing a space, else 401
 *      "Authorization header must be provided and start with 'Bearer'";
 *   2. scheme "Bearer" (any case), else 401 "Authorization scheme must be 'Bearer'";
 *   3. the key known, else 401 "Access token is invalid";
 *   4. for routes under /v1/datasets/{dataset_id}: the dataset exists in the
 *      key's tenant, else 404 "Dataset not found."; a key bound to one dataset
 *      gets 403 anywhere else (a ragd extension Dify users have asked for).
 * Keys are stored as BLAKE2b-256 hashes; the lookup is by hash and the final
 * comparison constant-time, so neither the key nor its prefix leaks.
 */
#include "api/api.h"

#include "core/log.h"

#include <sodium.h>
#include <string.h>

void rg_api_key_hash(rg_str key, unsigned char out[RG_KEY_HASH_LEN])
{
    static const unsigned char ctx[crypto_generichash_KEYBYTES] = "ragd api key v1";
    crypto_generichash(out, RG_KEY_HASH_LEN, (const unsigned char *)key.p, key.n, ctx, sizeof ctx);
}

static bool route_has_dataset(const rg_req *req)
{
    return req->n_params > 0 && strncmp(req->route->pattern, "/v1/datasets/{uuid}", 19) == 0;
}

rg_rc rg_api_authenticate(rg_req *req, rg_resp *resp)
{
    rg_api *api = req->app;
    const char *h = rg_req_header(req, "Authorization");
    const char *sp = h ? strpbrk(h, " \t") : NULL;
    if (!sp)
        return rg_resp_fail(resp, req, RG_EUNAUTH,
                            "Authorization header must be provided and start with 'Bearer'");
    if (!rg_str_ieq((rg_str){h, (size_t)(sp - h)}, RG_STR("bearer")))
        return rg_resp_fail(resp, req, RG_EUNAUTH, "Authorization scheme must be 'Bearer'");
    rg_str token = rg_str_trim(rg_str_c(sp));
    if (token.n != RG_KEY_LEN || !rg_str_starts(token, RG_KEY_PREFIX))
        return rg_resp_fail(resp, req, RG_EUNAUTH, "Access token is invalid");

    rg_principal *p = rg_arena_calloc(req->arena, 1, sizeof *p);
    unsigned char hash[RG_KEY_HASH_LEN];
    rg_api_key_hash(token, hash);
    const char *dataset_id = route_has_dataset(req) ? rg_req_param(req, 0) : NULL;
    rg_dataset *ds = dataset_id ? rg_arena_calloc(req->arena, 1, sizeof *ds) : NULL;
    rg_rc ds_rc;
    rg_rc rc = rg_store_auth(api->store, req->arena, hash, dataset_id, &p->key, ds, &ds_rc);
    if (rc == RG_ENOTFOUND || (rc == RG_OK && sodium_memcmp(hash, p->key.hash, sizeof hash) != 0))
        return rg_resp_fail(resp, req, RG_EUNAUTH, "Access token is invalid");
    if (rc != RG_OK)
        return rc;
    req->auth = p;
    if (!dataset_id)
        return RG_OK;
    if (ds_rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, RG_ENOTFOUND, "Dataset not found.");
    p->dataset = ds;
    if (p->key.dataset_id[0] && strcmp(p->key.dataset_id, p->dataset->id) != 0)
        return rg_resp_fail(resp, req, RG_EFORBIDDEN, "This API key is bound to another dataset.");
    if (!p->dataset->enable_api)
        return rg_resp_fail(resp, req, RG_EFORBIDDEN, "Dataset api access is not enabled.");
    return RG_OK;
}
