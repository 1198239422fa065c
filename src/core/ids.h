/*
 * ids.h - identifiers: UUID v4 (as Dify), API key tokens and batch ids.
 * Randomness comes from libsodium's CSPRNG; rg_ids_init must run first.
 */
#ifndef RG_CORE_IDS_H
#define RG_CORE_IDS_H

#include "core/common.h"

#define RG_UUID_LEN  36
#define RG_BATCH_LEN 20

/* Initialises the random source; RG_EIO when the system has none. */
RG_WUR rg_rc rg_ids_init(void);
/* Writes a lower-case UUID v4 and its NUL into out. */
void rg_uuid4(char out[RG_UUID_LEN + 1]);
/* Writes n random characters of [A-Za-z0-9] and a NUL into out. */
void rg_random_alnum(char *out, size_t n);
/* Writes Dify's 20-digit batch id (UTC %Y%m%d%H%M%S + 6 random digits) and a NUL. */
void rg_batch_id(char out[RG_BATCH_LEN + 1]);

#endif
