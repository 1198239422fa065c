/*
 * hash.c - SHA-256 through libsodium, streamed over two slices so callers
 * need not concatenate.
 */
#include "core/hash.h"

#include <sodium.h>

void rg_sha256_hex2(rg_str a, rg_str b, char out[65])
{
    crypto_hash_sha256_state st;
    unsigned char h[32];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)a.p, a.n);
    crypto_hash_sha256_update(&st, (const unsigned char *)b.p, b.n);
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, 65, h, sizeof h);
}

void rg_sha256(rg_str s, unsigned char out[32])
{
    crypto_hash_sha256(out, (const unsigned char *)s.p, s.n);
}
