/*
 * tenant.h - workspaces ("tenants") and the API keys that act for them.
 *
 * A key belongs to exactly one tenant and acts as that tenant's owner account
 * (as Dify's dataset keys do).  A key may also be bound to one dataset, in
 * which case it may touch nothing else.  Keys are never stored in clear: the
 * store keeps a BLAKE2b-256 hash and a short display prefix.
 */
#ifndef RG_DOMAIN_TENANT_H
#define RG_DOMAIN_TENANT_H

#include "core/common.h"
#include "core/ids.h"

#define RG_TENANT_NAME_MAX 64
#define RG_KEY_HASH_LEN    32
#define RG_KEY_PREFIX      "dataset-"
#define RG_KEY_RANDOM_LEN  24
#define RG_KEY_LEN         (sizeof(RG_KEY_PREFIX) - 1 + RG_KEY_RANDOM_LEN)
#define RG_KEY_SHOWN_LEN   12 /* "dataset-" and four characters, for `ragd key list` */

typedef struct rg_tenant {
    char id[RG_UUID_LEN + 1];
    char owner_id[RG_UUID_LEN + 1]; /* the account that API calls act as */
    char name[RG_TENANT_NAME_MAX + 1];
} rg_tenant;

typedef struct rg_key {
    char id[RG_UUID_LEN + 1];
    unsigned char hash[RG_KEY_HASH_LEN];
    char shown[RG_KEY_SHOWN_LEN + 1];
    char dataset_id[RG_UUID_LEN + 1]; /* empty: every dataset of the tenant */
    int64_t created_at;
    rg_tenant tenant;
} rg_key;

#endif
