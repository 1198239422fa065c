/*
 * hash.h - SHA-256 where a hash is visible on the wire (Dify's
 * index_node_hash is sha256(text + "None") in hex).
 */
#ifndef RG_CORE_HASH_H
#define RG_CORE_HASH_H

#include "core/common.h"
#include "core/str.h"

/* Writes the lower-case hex SHA-256 of the concatenation a || b (b may be
 * the empty slice) and a NUL into out. */
void rg_sha256_hex2(rg_str a, rg_str b, char out[65]);
/* Writes the 32-byte SHA-256 of s into out. */
void rg_sha256(rg_str s, unsigned char out[32]);

#endif
