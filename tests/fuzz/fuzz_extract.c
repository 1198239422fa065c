/*
 * fuzz_extract.c - libFuzzer target over the in-memory extractors: txt,
 * markdown, HTML, CSV, JSON, and docx/xlsx through libzip's buffer source.
 *
 * Build one binary per format with -DFUZZ_FORMAT=<n> (0 txt, 1 md, 2 html,
 * 3 csv, 4 json, 5 docx, 6 xlsx), or without it to let the first input byte
 * choose.  Example (from the repository root):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_FORMAT=5 -Isrc \
 *     $(pkg-config --cflags libxml-2.0 libzip jansson icu-uc icu-i18n) \
 *     tests/fuzz/fuzz_extract.c src/core/{alloc,buf,str,rc,clock,arena}.c \
 *     src/ingest/{clean,extract,extract_*,zipread,sandbox}.c \
 *     $(pkg-config --libs libxml-2.0 libzip jansson icu-uc icu-i18n) -lpthread -o fuzz_docx
 * Besides the sanitizers, every successful result must satisfy what
 * extract.h promises after rg_extract_finish: well-formed UTF-8, no NUL, no
 * CR, some text; and every failure must come with a reason.
 */
#include "core/buf.h"
#include "core/str.h"
#include "ingest/extract.h"
#include "ingest/extract_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef FUZZ_FORMAT
    int fmt = FUZZ_FORMAT;
#else
    if (size == 0)
        return 0;
    int fmt = data[0] % 7;
    data++;
    size--;
#endif
    const char *p = (const char *)data;
    rg_buf out;
    rg_buf_init(&out, OUT_MAX);
    char why[256];
    why[0] = '\0';
    rg_rc rc;
    switch (fmt) {
    case 0: rc = rg_extract_text_mem(p, size, &out, why, sizeof why); break;
    case 1: rc = rg_extract_md_mem(p, size, &out, why, sizeof why); break;
    case 2: rc = rg_extract_html_mem(p, size, &out, why, sizeof why); break;
    case 3: rc = rg_extract_csv_mem(p, size, &out, why, sizeof why); break;
    case 4: rc = rg_extract_json_mem(p, size, &out, why, sizeof why); break;
    case 5: rc = rg_extract_docx_mem(data, size, &out, why, sizeof why); break;
    default: rc = rg_extract_xlsx_mem(data, size, &out, why, sizeof why); break;
    }
    if (rc == RG_OK)
        rc = rg_extract_finish(&out, 0, why, sizeof why);
    if (rc == RG_OK) {
        if (!out.p || !rg_utf8_valid(out.p, out.len) || memchr(out.p, '\0', out.len) ||
            memchr(out.p, '\r', out.len) || !rg_extract_has_text(out.p, out.len))
            abort();
    } else if (why[0] == '\0') {
        abort(); /* a failure without a reason */
    }
    rg_buf_free(&out);
    return 0;
}
