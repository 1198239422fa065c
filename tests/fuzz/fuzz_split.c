/*
 * fuzz_split.c - libFuzzer target for the cleaner and the splitter.
 *
 * Any input that is valid UTF-8 is cleaned (the rule set picked from the
 * input's length) and then split, raw and cleaned, with automatic and custom
 * rules (one of them using the input's first character as its separator) and
 * hierarchically.  Every guarantee the headers promise is checked and a
 * violation aborts: chunks non-empty, at most max characters, valid UTF-8,
 * stripped, inside the text, in order, disjoint when overlap is 0, and no
 * non-white-space character lost except the custom separator itself.
 *
 *   clang-14 -fsanitize=fuzzer,address,undefined -Isrc src/core/[a-z]*.c \
 *     src/ingest/clean.c src/ingest/split.c tests/fuzz/fuzz_split.c \
 *     $(pkg-config --libs libsodium) -o /tmp/fuzz_split && /tmp/fuzz_split
 */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "ingest/clean.h"
#include "ingest/split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(x)                                                                                    \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "fuzz_split: %s:%d: %s\n", __FILE__, __LINE__, #x);                    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static size_t last_cp(rg_str s)
{
    size_t k = 1;
    while (k < s.n && ((unsigned char)s.p[s.n - k] & 0xC0) == 0x80)
        k++;
    return k;
}

static void check_chunk(rg_str text, rg_str c, size_t max)
{
    MUST(c.n > 0);
    MUST(c.p >= text.p && c.p + c.n <= text.p + text.n);
    MUST(rg_utf8_valid(c.p, c.n));
    MUST(rg_utf8_len(c.p, c.n) <= max);
    MUST(rg_clean_space_len(c.p, c.n) == 0);
    size_t k = last_cp(c);
    MUST(rg_clean_space_len(c.p + c.n - k, k) != k);
}

static void check_chunks(rg_str text, const rg_str *c, size_t n, const rg_split_rule *r)
{
    unsigned char *covered = rg_xcalloc(text.n + 1, 1);
    for (size_t i = 0; i < n; i++) {
        check_chunk(text, c[i], r->max_chars);
        if (i > 0) {
            MUST(c[i].p >= c[i - 1].p);
            if (r->overlap == 0)
                MUST(c[i].p >= c[i - 1].p + c[i - 1].n);
        }
        memset(covered + (c[i].p - text.p), 1, c[i].n);
    }
    if (r->mode == RG_SPLIT_CUSTOM && r->separator.n) { /* str.split() removes these */
        size_t sl = r->separator.n;
        for (size_t i = 0; i + sl <= text.n;) {
            if (memcmp(text.p + i, r->separator.p, sl) == 0) {
                memset(covered + i, 2, sl);
                i += sl;
            } else
                i++;
        }
    }
    for (size_t i = 0; i < text.n;) {
        size_t w = rg_clean_space_len(text.p + i, text.n - i);
        if (w) {
            i += w;
            continue;
        }
        MUST(covered[i]);
        i++;
    }
    rg_free(covered);
}

static void split_checked(rg_arena *a, rg_str text, const rg_split_rule *r)
{
    rg_str *c = NULL;
    size_t n = 0;
    rg_rc rc = rg_split_text(a, text, r, 0, &c, &n);
    MUST(rc == RG_OK);
    check_chunks(text, c, n, r);
}

static void tree_checked(rg_arena *a, rg_str text, rg_split_parent_mode mode,
                         const rg_split_rule *pr, const rg_split_rule *cr)
{
    rg_split_parent *p = NULL;
    size_t n = 0;
    MUST(rg_split_hierarchical(a, text, mode, pr, cr, 0, &p, &n) == RG_OK);
    for (size_t i = 0; i < n; i++) {
        check_chunk(text, p[i].text, mode == RG_SPLIT_FULL_DOC ? text.n + 1 : pr->max_chars);
        for (size_t j = 0; j < p[i].n_children; j++) {
            rg_str k = p[i].children[j];
            check_chunk(p[i].text, k, cr->max_chars);
            if (j > 0)
                MUST(k.p >= p[i].children[j - 1].p);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rg_str raw = {(const char *)data, size};
    if (size > (1u << 20) || !rg_utf8_valid(raw.p, raw.n))
        return 0;

    static const rg_clean_rule both[] = {RG_CLEAN_REMOVE_EXTRA_SPACES, RG_CLEAN_REMOVE_URLS_EMAILS};
    static const rg_clean_rule rev[] = {RG_CLEAN_REMOVE_URLS_EMAILS, RG_CLEAN_REMOVE_EXTRA_SPACES};
    const rg_clean_rule *sets[] = {NULL, both, both + 1, rev};
    const size_t counts[] = {0, 2, 1, 2};
    size_t k = size % 4;
    rg_buf clean;
    rg_buf_init(&clean, size);
    MUST(rg_clean_text(raw, sets[k], counts[k], &clean) == RG_OK);
    rg_str cleaned = rg_buf_str(&clean);
    MUST(cleaned.n <= size && rg_utf8_valid(cleaned.p, cleaned.n));
    for (size_t i = 0; i < cleaned.n; i++) {
        unsigned char c = (unsigned char)cleaned.p[i];
        MUST(c >= 0x20 || c == '\t' || c == '\n' || c == '\r');
        MUST(c != 0x7f);
    }

    /* the input's first character (if any) as a custom separator */
    rg_str first = RG_STR("\n");
    if (size) {
        unsigned c0 = data[0];
        first.p = raw.p;
        first.n = c0 < 0x80 ? 1 : c0 < 0xE0 ? 2 : c0 < 0xF0 ? 3 : 4;
    }
    const rg_split_rule rules[] = {
        rg_split_rule_automatic(),
        {RG_SPLIT_AUTOMATIC, RG_STR(""), 7, 3},
        {RG_SPLIT_AUTOMATIC, RG_STR(""), 1, 0},
        {RG_SPLIT_CUSTOM, RG_STR("\n"), 50, 0},
        {RG_SPLIT_CUSTOM, RG_STR("\n\n"), 20, 19},
        {RG_SPLIT_CUSTOM, first, 9, 4},
        {RG_SPLIT_CUSTOM, RG_STR(""), 3, 1},
        {RG_SPLIT_CUSTOM, RG_STR("。"), 60, 30},
    };
    rg_arena *a = rg_arena_new((size_t)1 << 30);
    for (size_t i = 0; i < RG_ARRAY_LEN(rules); i++) {
        split_checked(a, raw, &rules[i]);
        split_checked(a, cleaned, &rules[i]);
    }
    tree_checked(a, cleaned, RG_SPLIT_PARAGRAPH, &rules[4], &rules[5]);
    tree_checked(a, raw, RG_SPLIT_FULL_DOC, NULL, &rules[6]);
    rg_arena_free(a);
    rg_buf_free(&clean);
    return 0;
}
