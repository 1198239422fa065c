/*
 * ids.c - ids from the CSPRNG.  UUIDs are built from 16 random bytes with the
 * version and variant bits set (RFC 9562 section 5.4), which is what
 * libuuid's uuid_generate_random does, without a second dependency.
 */
#include "core/ids.h"

#include <sodium.h>
#include <stdio.h>
#include <time.h>

rg_rc rg_ids_init(void)
{
    return sodium_init() < 0 ? RG_EIO : RG_OK;
}

void rg_uuid4(char out[RG_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void rg_random_alnum(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < n; i++)
        out[i] = set[randombytes_uniform(sizeof set - 1)];
    out[n] = '\0';
}

void rg_batch_id(char out[RG_BATCH_LEN + 1])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(out, RG_BATCH_LEN + 1, "%Y%m%d%H%M%S", &tm);
    for (; n < RG_BATCH_LEN; n++)
        out[n] = (char)('0' + randombytes_uniform(10));
    out[RG_BATCH_LEN] = '\0';
}
