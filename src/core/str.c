/*
 * str.c - slices, UTF-8 validation and strict number parsing.
 *
 * The UTF-8 validator follows RFC 3629 table 3-7: it rejects overlong forms,
 * surrogates and code points above U+10FFFF, so text that passes can be
 * written into JSON and SQLite without surprises.  Number parsing accepts
 * only a whole decimal string with an optional sign: no white space, no
 * trailing bytes, no silent wrap-around.
 */
#include "core/str.h"

#include <string.h>

rg_str rg_str_c(const char *z)
{
    return z ? (rg_str){z, strlen(z)} : RG_STR_NULL;
}

bool rg_str_eq(rg_str a, rg_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool rg_str_eqz(rg_str s, const char *z)
{
    return rg_str_eq(s, rg_str_c(z));
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

bool rg_str_ieq(rg_str a, rg_str b)
{
    if (a.n != b.n)
        return false;
    for (size_t i = 0; i < a.n; i++)
        if (ascii_lower(a.p[i]) != ascii_lower(b.p[i]))
            return false;
    return true;
}

bool rg_str_starts(rg_str s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

rg_str rg_str_trim(rg_str s)
{
    while (s.n && is_space(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_space(s.p[s.n - 1]))
        s.n--;
    return s;
}

bool rg_utf8_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p, *e = s + n;
    while (s < e) {
        unsigned c = *s;
        if (c < 0x80) {
            s++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return false;
        if ((size_t)(e - s) < len || s[1] < lo || s[1] > hi)
            return false;
        for (size_t i = 2; i < len; i++)
            if ((s[i] & 0xC0) != 0x80)
                return false;
        s += len;
    }
    return true;
}

size_t rg_utf8_len(const char *p, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80)
            count++;
    return count;
}

rg_rc rg_str_to_i64(rg_str s, int64_t min, int64_t max, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (s.n && (s.p[0] == '-' || s.p[0] == '+')) {
        neg = s.p[0] == '-';
        i = 1;
    }
    if (i == s.n || s.n - i > 19)
        return RG_EINVAL;
    uint64_t v = 0;
    for (; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return RG_EINVAL;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return RG_EINVAL;
    int64_t r = neg ? (int64_t)(0 - v) : (int64_t)v;
    if (r < min || r > max)
        return RG_EINVAL;
    *out = r;
    return RG_OK;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool rg_str_is_uuid(rg_str s)
{
    if (s.n != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s.p[i] != '-')
                return false;
        } else if (!is_hex(s.p[i]))
            return false;
    }
    return true;
}

rg_rc rg_str_to_bool(rg_str s, bool *out)
{
    if (rg_str_ieq(s, RG_STR("true")) || rg_str_eqz(s, "1"))
        *out = true;
    else if (rg_str_ieq(s, RG_STR("false")) || rg_str_eqz(s, "0"))
        *out = false;
    else
        return RG_EINVAL;
    return RG_OK;
}
