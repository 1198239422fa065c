/*
 * extract_text.c - plain text in any encoding to normalised UTF-8 (Dify's
 * TextExtractor), and the decoding step every text-family format shares.
 *
 * Dify reads a .txt with Python's text mode: UTF-8, and on a decode error
 * again with an auto-detected encoding; universal newlines turn "\r\n" and
 * "\r" into "\n".  Here, in this order:
 *   1. a byte order mark decides: EF BB BF is UTF-8, FF FE 00 00 / 00 00 FE FF
 *      UTF-32LE/BE, FF FE / FE FF UTF-16LE/BE; the mark is dropped (Python
 *      would keep a UTF-8 one as U+FEFF); malformed units become U+FFFD;
 *   2. bytes that are well-formed UTF-8 pass unchanged;
 *   3. otherwise ICU's charset detector (ucsdet, the same statistical
 *      recognisers as Mozilla's) ranks candidates on the first 64 KB; each one
 *      with confidence >= 10 is tried in rank order with a *strict* converter
 *      (the first byte it cannot map rejects it) over the whole text.  UTF-16
 *      and UTF-32 without a mark are only believed at confidence >= 60: on
 *      short text ICU offers them at 10-20 for anything, and any even number
 *      of bytes "decodes" as UTF-16;
 *   4. if no candidate survives (typically a few bytes of text, too little
 *      for statistics), the fixed chain GB18030 -> Shift_JIS -> windows-1252
 *      is tried strictly, and ISO-8859-1, which maps every byte, ends it.
 * ICU rather than iconv: iconv can only convert, and a chain of strict
 * iconv attempts alone decodes most Latin-1 text as GB18030 ("R\xe9union" is
 * a valid GB18030 sequence), which ICU's frequency statistics avoid.
 * Then "\r\n" / "\r" become "\n" and NUL bytes are dropped (streaming, so a
 * "\r" at the end of one converted piece and "\n" at the start of the next
 * still make one line end).
 */
#include "ingest/extract_int.h"

#include "core/str.h"

#include <string.h>
#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>

#define DETECT_SAMPLE  65536
#define MIN_CONFIDENCE 10
#define MIN_UTF_NO_BOM 60

rg_rc rg_extract_norm_append(rg_extract_norm *st, rg_buf *out, const char *p, size_t n)
{
    size_t run = 0; /* start of the pending run of ordinary bytes */
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c != '\0' && c != '\r' && c != '\n') {
            st->last_cr = false;
            continue;
        }
        if (i > run)
            RG_TRY(rg_buf_append(out, p + run, i - run));
        run = i + 1;
        if (c == '\r') {
            RG_TRY(rg_buf_putc(out, '\n'));
            st->last_cr = true;
        } else if (c == '\n') {
            if (!st->last_cr)
                RG_TRY(rg_buf_putc(out, '\n'));
            st->last_cr = false;
        }
        /* NUL: dropped; it does not end a "\r\n" pair. */
    }
    if (n > run) {
        RG_TRY(rg_buf_append(out, p + run, n - run));
    }
    return RG_OK;
}

rg_rc rg_extract_utf8_repair_append(rg_buf *out, const char *p, size_t n)
{
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (len <= n - i && rg_utf8_valid(p + i, len)) {
            i += len;
            continue;
        }
        if (i > run)
            RG_TRY(rg_buf_append(out, p + run, i - run));
        RG_TRY(rg_buf_append(out, "\xEF\xBF\xBD", 3));
        i++;
        run = i;
    }
    if (n > run)
        RG_TRY(rg_buf_append(out, p + run, n - run));
    return RG_OK;
}

/* Converts p[0..n) from charset to normalised UTF-8 appended to out.  strict:
 * the first unmappable or malformed byte fails with RG_EINVAL (out is then
 * truncated back); otherwise such bytes become U+FFFD. */
static rg_rc convert(const char *charset, const char *p, size_t n, bool strict, rg_buf *out)
{
    UErrorCode e = U_ZERO_ERROR;
    UConverter *src = ucnv_open(charset, &e);
    if (U_FAILURE(e))
        return RG_EINVAL;
    UConverter *u8 = ucnv_open("UTF-8", &e);
    if (U_FAILURE(e)) {
        ucnv_close(src);
        return RG_EINVAL;
    }
    if (strict)
        ucnv_setToUCallBack(src, UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &e);
    size_t mark = out->len;
    rg_extract_norm norm = {false};
    rg_rc rc = RG_OK;
    UChar pivot[4096], *ps = pivot, *pt = pivot;
    char chunk[16384];
    const char *s = p, *limit = p + n;
    UBool reset = true;
    while (rc == RG_OK) {
        char *t = chunk;
        e = U_ZERO_ERROR;
        ucnv_convertEx(u8, src, &t, chunk + sizeof chunk, &s, limit, pivot, &ps, &pt,
                       pivot + RG_ARRAY_LEN(pivot), reset, true, &e);
        reset = false;
        rc = rg_extract_norm_append(&norm, out, chunk, (size_t)(t - chunk));
        if (e == U_BUFFER_OVERFLOW_ERROR)
            continue;
        if (U_FAILURE(e) && rc == RG_OK)
            rc = RG_EINVAL;
        break;
    }
    ucnv_close(u8);
    ucnv_close(src);
    if (rc == RG_EINVAL && out->len >= mark) {
        out->len = mark;
        if (out->p)
            out->p[mark] = '\0';
    }
    return rc;
}

static bool is_utf16_32(const char *name)
{
    return strncmp(name, "UTF-16", 6) == 0 || strncmp(name, "UTF-32", 6) == 0;
}

/* Tries ICU's candidates, best first.  RG_EINVAL when none converts. */
static rg_rc detect_and_convert(const char *p, size_t n, rg_buf *out)
{
    UErrorCode e = U_ZERO_ERROR;
    UCharsetDetector *d = ucsdet_open(&e);
    if (U_FAILURE(e))
        return RG_EINVAL;
    ucsdet_setText(d, p, (int32_t)(n < DETECT_SAMPLE ? n : DETECT_SAMPLE), &e);
    int32_t count = 0;
    const UCharsetMatch **m = U_SUCCESS(e) ? ucsdet_detectAll(d, &count, &e) : NULL;
    rg_rc rc = RG_EINVAL;
    for (int32_t i = 0; U_SUCCESS(e) && m && i < count && rc == RG_EINVAL; i++) {
        UErrorCode e2 = U_ZERO_ERROR;
        const char *name = ucsdet_getName(m[i], &e2);
        int32_t conf = ucsdet_getConfidence(m[i], &e2);
        if (U_FAILURE(e2) || !name || strcmp(name, "UTF-8") == 0 || conf < MIN_CONFIDENCE)
            continue;
        if (is_utf16_32(name) && conf < MIN_UTF_NO_BOM)
            continue;
        rc = convert(name, p, n, true, out);
    }
    ucsdet_close(d);
    return rc;
}

rg_rc rg_extract_decode(const char *p, size_t n, rg_buf *out, char *why, size_t whylen)
{
    static const struct {
        const char *bom;
        size_t len;
        const char *name;
    } boms[] = {
        /* UTF-32LE before UTF-16LE: FF FE 00 00 starts with FF FE. */
        {"\xFF\xFE\x00\x00", 4, "UTF-32LE"},
        {"\x00\x00\xFE\xFF", 4, "UTF-32BE"},
        {"\xFF\xFE", 2, "UTF-16LE"},
        {"\xFE\xFF", 2, "UTF-16BE"},
    };
    const char *used = "UTF-8";
    rg_rc rc = RG_EINVAL;
    rg_extract_norm norm = {false};
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
        if (rg_utf8_valid(p, n)) {
            rc = rg_extract_norm_append(&norm, out, p, n);
        } else { /* declared UTF-8: repair, then normalise */
            rg_buf tmp;
            rg_buf_init(&tmp, out->max);
            rc = rg_extract_utf8_repair_append(&tmp, p, n);
            if (rc == RG_OK)
                rc = rg_extract_norm_append(&norm, out, tmp.p, tmp.len);
            rg_buf_free(&tmp);
        }
        goto done;
    }
    for (size_t i = 0; i < RG_ARRAY_LEN(boms); i++) {
        if (n >= boms[i].len && memcmp(p, boms[i].bom, boms[i].len) == 0) {
            used = boms[i].name;
            rc = convert(used, p + boms[i].len, n - boms[i].len, false, out);
            if (rc == RG_EINVAL) { /* the converter failed to open: cannot happen */
                rg_extract_why(why, whylen, "cannot convert the text from %s", used);
                return RG_EIO;
            }
            goto done;
        }
    }
    if (rg_utf8_valid(p, n)) {
        rc = rg_extract_norm_append(&norm, out, p, n);
        goto done;
    }
    rc = detect_and_convert(p, n, out);
    if (rc == RG_EINVAL) {
        static const char *const chain[] = {"GB18030", "Shift_JIS", "windows-1252"};
        for (size_t i = 0; i < RG_ARRAY_LEN(chain) && rc == RG_EINVAL; i++) {
            used = chain[i];
            rc = convert(used, p, n, true, out);
        }
        if (rc == RG_EINVAL) {
            used = "ISO-8859-1";
            rc = convert(used, p, n, false, out);
        }
    }
    if (rc == RG_EINVAL) {
        rg_extract_why(why, whylen, "the text encoding could not be determined");
        return RG_EINVAL;
    }
done:
    if (rc != RG_OK)
        return rg_extract_out_fail(rc, out, why, whylen);
    return RG_OK;
}

rg_rc rg_extract_text_mem(const char *p, size_t n, rg_buf *out, char *why, size_t whylen)
{
    if (n == 0) {
        rg_extract_why(why, whylen, "the file is empty");
        return RG_EINVAL;
    }
    size_t from = out->len;
    RG_TRY(rg_extract_decode(p, n, out, why, whylen));
    if (!rg_extract_has_text(out->p ? out->p + from : "", out->len - from)) {
        rg_extract_why(why, whylen, "the document contains no text");
        return RG_EINVAL;
    }
    return RG_OK;
}
