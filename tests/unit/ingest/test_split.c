/*
 * test_split.c - the splitter: Dify's own examples (expected chunks computed
 * with Dify 1.14's Python splitter), the deliberate differences, and the
 * guarantees checked over generated text: no chunk over max characters,
 * valid UTF-8, stripped, non-empty, in order, nothing lost, overlap as Dify.
 */
#include "harness.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "ingest/clean.h"
#include "ingest/split.h"

#include <time.h>

/* ---- helpers ----------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

static rg_split_rule custom(const char *sep, size_t max, size_t overlap)
{
    return (rg_split_rule){RG_SPLIT_CUSTOM, rg_str_c(sep), max, overlap};
}

static rg_split_rule automatic(size_t max, size_t overlap)
{
    return (rg_split_rule){RG_SPLIT_AUTOMATIC, RG_STR(""), max, overlap};
}

/* Splits z and compares with the expected chunks (NULL-terminated list). */
static void expect_chunks(const char *z, rg_split_rule r, const char *const *want)
{
    rg_arena *a = rg_arena_new(1 << 24);
    rg_str *c = NULL;
    size_t n = 0, w = 0;
    CHECK_EQ_INT(rg_split_text(a, rg_str_c(z), &r, 0, &c, &n), RG_OK);
    while (want[w])
        w++;
    CHECK_EQ_INT(n, w);
    for (size_t i = 0; i < n && i < w; i++)
        CHECK_EQ_STR(rg_arena_strz(a, c[i]), want[i]);
    rg_arena_free(a);
}

static bool is_space_at(const char *p, size_t n)
{
    return rg_clean_space_len(p, n) != 0;
}

/* Byte length of the last code point of s (s non-empty, valid UTF-8). */
static size_t last_cp(rg_str s)
{
    size_t k = 1;
    while (k < s.n && ((unsigned char)s.p[s.n - k] & 0xC0) == 0x80)
        k++;
    return k;
}

/* The guarantees every split must keep.  `removed` is the custom separator
 * (deleted by the split), or NULL. */
static void check_chunks(rg_str text, const rg_str *c, size_t n, size_t max, size_t overlap,
                         const char *removed)
{
    unsigned char *covered = rg_xcalloc(text.n + 1, 1);
    for (size_t i = 0; i < n; i++) {
        CHECK(c[i].n > 0);
        CHECK(c[i].p >= text.p && c[i].p + c[i].n <= text.p + text.n);
        CHECK(rg_utf8_valid(c[i].p, c[i].n));
        CHECK(rg_utf8_len(c[i].p, c[i].n) <= max);
        CHECK(!is_space_at(c[i].p, c[i].n));
        size_t k = last_cp(c[i]);
        CHECK(!is_space_at(c[i].p + c[i].n - k, k));
        if (i > 0) {
            CHECK(c[i].p >= c[i - 1].p); /* in text order */
            if (overlap == 0)
                CHECK(c[i].p >= c[i - 1].p + c[i - 1].n); /* no overlap asked, none given */
        }
        memset(covered + (c[i].p - text.p), 1, c[i].n);
    }
    if (removed && *removed) { /* separator occurrences are deleted, as str.split does */
        size_t sl = strlen(removed);
        const char *pos = text.p, *end = text.p + text.n, *hit;
        while (pos < end && (hit = memmem(pos, (size_t)(end - pos), removed, sl)) != NULL) {
            memset(covered + (hit - text.p), 2, sl);
            pos = hit + sl;
        }
    }
    /* nothing but white space is lost */
    size_t lost = 0;
    for (size_t i = 0; i < text.n;) {
        size_t w = rg_clean_space_len(text.p + i, text.n - i);
        if (w) {
            i += w;
            continue;
        }
        if (!covered[i])
            lost++;
        i++;
    }
    CHECK_EQ_INT(lost, 0);
    rg_free(covered);
}

static void split_and_check(rg_str text, rg_split_rule r)
{
    rg_arena *a = rg_arena_new((size_t)1 << 30);
    rg_str *c = NULL;
    size_t n = 0;
    rg_rc rc = rg_split_text(a, text, &r, 0, &c, &n);
    CHECK_EQ_INT(rc, RG_OK);
    if (rc == RG_OK)
        check_chunks(text, c, n, r.max_chars, r.overlap,
                     r.mode == RG_SPLIT_CUSTOM ? rg_arena_strz(a, r.separator) : NULL);
    rg_arena_free(a);
}

static const char *const cjk_chars[] = {"中", "文", "字", "的", "是", "日", "本", "語", "한", "국",
                                        "。", "，", "的", "人", "大", "们", "来", "到", "了", "在"};

/* Text of about n bytes: 0 ASCII prose, 1 CJK with sentence ends, 2 CJK
 * without any separator, 3 mixed scripts and white space. */
static void gen_text(rg_buf *b, uint64_t *s, int kind, size_t n)
{
    static const char *const ascii_gaps[] = {" ",  " ",    " ",  " ",  " ", ". ",
                                             "\n", "\n\n", "  ", "\t", ", "};
    static const char *const mixed[] = {"word",   " ",  "é",  "😀",    "\u3000", "\n",
                                        "中文",   "。", "！", "？",   ". ",     "\n\n",
                                        "\u00a0", "x",  "ŝ",  "\r\n", "🇫🇷"};
    while (b->len < n) {
        if (kind == 0) {
            size_t w = 1 + rng_below(s, 12);
            for (size_t i = 0; i < w; i++)
                (void)rg_buf_putc(b, (char)('a' + rng_below(s, 26)));
            (void)rg_buf_puts(b, ascii_gaps[rng_below(s, RG_ARRAY_LEN(ascii_gaps))]);
        } else if (kind == 1) {
            size_t w = 5 + rng_below(s, 40);
            for (size_t i = 0; i < w; i++)
                (void)rg_buf_puts(b, cjk_chars[rng_below(s, 10)]);
            (void)rg_buf_puts(b, (const char *[]){"。", "！", "？"}[rng_below(s, 3)]);
        } else if (kind == 2) {
            (void)rg_buf_puts(b, cjk_chars[rng_below(s, 10)]);
        } else {
            (void)rg_buf_puts(b, mixed[rng_below(s, RG_ARRAY_LEN(mixed))]);
        }
    }
}

static const rg_split_rule *test_rules(size_t *n)
{
    static rg_split_rule r[12];
    r[0] = rg_split_rule_automatic();
    r[1] = automatic(50, 10);
    r[2] = automatic(1, 0);
    r[3] = custom("\n", 50, 0);
    r[4] = custom("\n\n", 100, 20);
    r[5] = custom(" ", 60, 59);
    r[6] = custom("。", 50, 25);
    r[7] = custom("", 77, 7);
    r[8] = custom("x", 50, 5);
    r[9] = custom("\n", 4000, 100);
    r[10] = automatic(2, 1);
    r[11] = custom("\n", 3, 0);
    *n = RG_ARRAY_LEN(r);
    return r;
}

/* ---- rules and validation ------------------------------------------------------ */

TEST(split_automatic_rule_is_difys)
{
    rg_split_rule r = rg_split_rule_automatic();
    CHECK_EQ_INT(r.mode, RG_SPLIT_AUTOMATIC);
    CHECK_EQ_INT(r.max_chars, 500);
    CHECK_EQ_INT(r.overlap, 50);
    CHECK_EQ_INT(rg_split_rule_check(&r, RG_SPLIT_DEFAULT_LIMIT), RG_OK);
}

TEST(split_rule_check_bounds)
{
    rg_split_rule r = custom("\n", 50, 0);
    CHECK_EQ_INT(rg_split_rule_check(&r, RG_SPLIT_DEFAULT_LIMIT), RG_OK);
    r.max_chars = 49;
    CHECK_EQ_INT(rg_split_rule_check(&r, RG_SPLIT_DEFAULT_LIMIT), RG_EINVAL);
    r.max_chars = 4000;
    CHECK_EQ_INT(rg_split_rule_check(&r, RG_SPLIT_DEFAULT_LIMIT), RG_OK);
    r.max_chars = 4001;
    CHECK_EQ_INT(rg_split_rule_check(&r, RG_SPLIT_DEFAULT_LIMIT), RG_EINVAL);
    CHECK_EQ_INT(rg_split_rule_check(&r, 8000), RG_OK); /* a raised limit */
    r.max_chars = 100;
    r.overlap = 99;
    CHECK_EQ_INT(rg_split_rule_check(&r, RG_SPLIT_DEFAULT_LIMIT), RG_OK);
    r.overlap = 100; /* Dify accepts overlap == max; we do not (difference 5) */
    CHECK_EQ_INT(rg_split_rule_check(&r, RG_SPLIT_DEFAULT_LIMIT), RG_EINVAL);
    r.overlap = 0;
    r.separator = RG_STR("\xff");
    CHECK_EQ_INT(rg_split_rule_check(&r, RG_SPLIT_DEFAULT_LIMIT), RG_EINVAL);
    r.mode = (rg_split_mode)7;
    r.separator = RG_STR("\n");
    CHECK_EQ_INT(rg_split_rule_check(&r, RG_SPLIT_DEFAULT_LIMIT), RG_EINVAL);
    CHECK_EQ_INT(rg_split_rule_check(NULL, RG_SPLIT_DEFAULT_LIMIT), RG_EINVAL);
}

TEST(split_rejects_bad_input)
{
    rg_arena *a = rg_arena_new(1 << 20);
    rg_str *c = (rg_str *)&c;
    size_t n = 12345;
    rg_split_rule r = automatic(10, 10);
    CHECK_EQ_INT(rg_split_text(a, RG_STR("abc"), &r, 0, &c, &n), RG_EINVAL);
    r = automatic(0, 0);
    CHECK_EQ_INT(rg_split_text(a, RG_STR("abc"), &r, 0, &c, &n), RG_EINVAL);
    r = automatic(RG_SPLIT_HARD_MAX_CHARS + 1, 0);
    CHECK_EQ_INT(rg_split_text(a, RG_STR("abc"), &r, 0, &c, &n), RG_EINVAL);
    r = automatic(10, 0);
    CHECK_EQ_INT(rg_split_text(a, RG_STR("ab\xc3"), &r, 0, &c, &n), RG_EINVAL); /* cut sequence */
    CHECK_EQ_INT(rg_split_text(a, RG_STR("\xed\xa0\x80"), &r, 0, &c, &n),
                 RG_EINVAL); /* surrogate */
    static const char *const bad[] = {"\xc3",
                                      "\xc0\xaf",
                                      "\xe0\x80\xaf",
                                      "\xf5\x80\x80\x80",
                                      "\x80",
                                      "\xed\xbf\xbf",
                                      "\xf4\x90\x80\x80",
                                      "\xe4\xb8"
                                      "a"};
    for (size_t i = 0; i < RG_ARRAY_LEN(bad); i++) /* at every offset of an 8-byte word */
        for (size_t pad = 0; pad < 17; pad++) {
            char t[64];
            memset(t, 'a', pad);
            size_t bl = strlen(bad[i]);
            memcpy(t + pad, bad[i], bl);
            memcpy(t + pad + bl, "tail text", 9);
            CHECK_EQ_INT(rg_split_text(a, (rg_str){t, pad + bl + (i % 2 ? 9 : 0)}, &r, 0, &c, &n),
                         RG_EINVAL);
        }
    r = custom("\x80", 10, 0); /* would match inside sequences */
    CHECK_EQ_INT(rg_split_text(a, RG_STR("é"), &r, 0, &c, &n), RG_EINVAL);
    CHECK(c == (rg_str *)&c && n == 12345); /* outputs untouched on error */
    r = automatic(10, 0);
    CHECK_EQ_INT(rg_split_text(a, RG_STR(""), &r, 0, &c, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK(c == NULL);
    CHECK_EQ_INT(rg_split_text(a, RG_STR(" \n\t\u3000 "), &r, 0, &c, &n), RG_OK);
    CHECK_EQ_INT(n, 0); /* white space only: nothing to index */
    rg_arena_free(a);
}

/* ---- separator unescape -------------------------------------------------------- */

static void expect_unescape(const char *in, const char *want)
{
    rg_arena *a = rg_arena_new(1 << 16);
    rg_str out = RG_STR_NULL;
    CHECK_EQ_INT(rg_split_unescape_separator(a, rg_str_c(in), &out), RG_OK);
    CHECK_EQ_INT(out.n, strlen(want));
    CHECK(out.p && memcmp(out.p, want, out.n) == 0 && out.p[out.n] == '\0');
    rg_arena_free(a);
}

TEST(split_unescape_separator)
{
    expect_unescape("\\n", "\n");
    expect_unescape("\\n\\n", "\n\n");
    expect_unescape("\n", "\n"); /* already a newline */
    expect_unescape("\\t", "\t");
    expect_unescape("\\r\\n", "\r\n");
    expect_unescape("\\\\", "\\");
    expect_unescape("\\\\n", "\\n"); /* an escaped backslash, then a plain n */
    expect_unescape("a\\nb", "a\nb");
    expect_unescape("\\u3002", "。");
    expect_unescape("\\u00e9\\u0041", "éA");
    expect_unescape("。", "。"); /* non-ASCII separators survive (difference 4) */
    expect_unescape("###", "###");
    expect_unescape("\\x", "\\x"); /* not an escape we decode */
    expect_unescape("end\\", "end\\");
    expect_unescape("", "");
    rg_arena *a = rg_arena_new(1 << 16);
    rg_str out = RG_STR("untouched");
    CHECK_EQ_INT(rg_split_unescape_separator(a, RG_STR("\\u12"), &out), RG_EINVAL);
    CHECK_EQ_INT(rg_split_unescape_separator(a, RG_STR("\\u12g4"), &out), RG_EINVAL);
    CHECK_EQ_INT(rg_split_unescape_separator(a, RG_STR("\\u0000"), &out), RG_EINVAL);
    CHECK_EQ_INT(rg_split_unescape_separator(a, RG_STR("\\ud800"), &out), RG_EINVAL);
    CHECK_EQ_INT(rg_split_unescape_separator(a, RG_STR("\xc3"), &out), RG_EINVAL);
    CHECK(rg_str_eqz(out, "untouched"));
    rg_arena_free(a);
}

/* ---- Dify's examples (tests/unit_tests/core/rag/splitter, fixtures) ------------- */

static const char *const dify_sample =
    "This is the first paragraph. It contains multiple sentences.\n\n"
    "This is the second paragraph. It also has several sentences.\n\n"
    "This is the third paragraph with more content.";

TEST(split_dify_sample_paragraphs)
{
    expect_chunks(
        dify_sample, automatic(100, 10),
        (const char *const[]){"This is the first paragraph. It contains multiple sentences.",
                              "This is the second paragraph. It also has several sentences.",
                              "This is the third paragraph with more content.", NULL});
    expect_chunks(
        dify_sample, automatic(60, 10),
        (const char *const[]){"This is the first paragraph.", "It contains multiple sentences.",
                              "This is the second paragraph.", "It also has several sentences.",
                              "This is the third paragraph with more content.", NULL});
    expect_chunks("Para1\n\nPara2\n\nPara3", automatic(50, 5),
                  (const char *const[]){"Para1\n\nPara2\n\nPara3", NULL});
}

TEST(split_dify_words_and_characters)
{
    expect_chunks(
        "word1 word2 word3 word4 word5 word6 word7 word8", automatic(15, 3),
        (const char *const[]){"word1 word2", "word3 word4", "word5 word6", "word7 word8", NULL});
    /* the character level: 10 per chunk, the last 2 carried over */
    expect_chunks("verylongwordthatcannotbesplit", automatic(10, 2),
                  (const char *const[]){"verylongwo", "wordthatca", "cannotbesp", "split", NULL});
    expect_chunks("This is English. 这是中文。日本語です。한국어입니다。", automatic(10, 0),
                  (const char *const[]){"This is", "English.", "这是中文。", "日本語です。",
                                        "한국어입니다。", NULL});
}

TEST(split_dify_sentences_overlap)
{
    /* long_text fixture: " ".join(f"Sentence number {i}." for i in range(100)) */
    rg_buf b;
    rg_buf_init(&b, 1 << 16);
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(rg_buf_printf(&b, "%sSentence number %d.", i ? " " : "", i), RG_OK);
    rg_arena *a = rg_arena_new(1 << 24);
    rg_str *c;
    size_t n;
    rg_split_rule r = automatic(100, 20);
    CHECK_EQ_INT(rg_split_text(a, rg_buf_str(&b), &r, 0, &c, &n), RG_OK);
    CHECK_EQ_INT(n, 25);
    const char *first = "Sentence number 0. Sentence number 1. Sentence number 2. "
                        "Sentence number 3. Sentence number 4.";
    /* the last sentence of a chunk (19 characters <= 20) opens the next */
    const char *second = "Sentence number 4. Sentence number 5. Sentence number 6. "
                         "Sentence number 7. Sentence number 8.";
    const char *last = "Sentence number 96. Sentence number 97. "
                       "Sentence number 98. Sentence number 99.";
    CHECK_EQ_STR(rg_arena_strz(a, c[0]), first);
    CHECK_EQ_STR(rg_arena_strz(a, c[1]), second);
    CHECK_EQ_STR(rg_arena_strz(a, c[24]), last);
    for (size_t i = 1; i < n; i++) {
        CHECK(c[i].p < c[i - 1].p + c[i - 1].n); /* overlap present */
        CHECK(rg_utf8_len(c[i].p, (size_t)(c[i - 1].p + c[i - 1].n - c[i].p)) <= 20);
    }
    rg_arena_free(a);
    rg_buf_free(&b);
}

TEST(split_long_word_character_level)
{
    /* one 10,000-character word: automatic packs 500 characters, 50 carried */
    char *w = rg_xmalloc(10001);
    memset(w, 'a', 10000);
    w[10000] = '\0';
    rg_arena *a = rg_arena_new(1 << 24);
    rg_str *c;
    size_t n;
    rg_split_rule r = rg_split_rule_automatic();
    CHECK_EQ_INT(rg_split_text(a, rg_str_c(w), &r, 0, &c, &n), RG_OK);
    CHECK_EQ_INT(n, 23);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(c[i].p - w, (ptrdiff_t)(450 * i));
        CHECK_EQ_INT(c[i].n, i + 1 < n ? 500 : 100);
    }
    /* custom mode: FixedRecursiveCharacterTextSplitter's own packing, same here */
    r = custom("\n", 500, 50);
    CHECK_EQ_INT(rg_split_text(a, rg_str_c(w), &r, 0, &c, &n), RG_OK);
    CHECK_EQ_INT(n, 23);
    CHECK_EQ_INT(c[22].n, 100);
    /* custom packing with overlap > max/2 carries fewer characters (as Dify) */
    r = custom("\n", 10, 6);
    CHECK_EQ_INT(rg_split_text(a, RG_STR("abcdefghijklmnopqrstuvwxyz"), &r, 0, &c, &n), RG_OK);
    CHECK_EQ_INT(n, 5);
    const char *want[] = {"abcdefghij", "efghijklmn", "lmnopqrstu", "pqrstuvwxy", "wxyz"};
    for (size_t i = 0; i < n && i < RG_ARRAY_LEN(want); i++)
        CHECK_EQ_STR(rg_arena_strz(a, c[i]), want[i]);
    rg_arena_free(a);
    rg_free(w);
}

TEST(split_drops_newline_piece)
{
    /* the trailing "\n" piece is dropped before merging, as in Dify; counted, it
     * would leave the overlap "bbbb" behind as a chunk of its own */
    expect_chunks("aaaa bbbb \n", automatic(10, 5), (const char *const[]){"aaaa bbbb", NULL});
    expect_chunks("aaaa bbbb \n", custom("\n\n", 10, 5), (const char *const[]){"aaaa bbbb", NULL});
}

/* ---- custom mode ---------------------------------------------------------------- */

TEST(split_custom_fixed_separator)
{
    /* pieces that fit are kept as they are (then stripped), empty ones dropped,
     * the separator itself is removed */
    expect_chunks("a\n\nb\n  c  \n", custom("\n", 50, 0),
                  (const char *const[]){"a", "b", "c", NULL});
    expect_chunks("one###two######three", custom("###", 50, 0),
                  (const char *const[]){"one", "two", "three", NULL});
    expect_chunks("para one\n\npara two", custom("", 50, 0),
                  (const char *const[]){"para one\n\npara two", NULL});
    /* custom separator "。" works (Dify's unicode_escape mangles it: difference 4) */
    expect_chunks("第一。第二。第三", custom("。", 50, 0),
                  (const char *const[]){"第一", "第二", "第三", NULL});
}

TEST(split_custom_keeps_spaces)
{
    /* an oversized line is split on " "; Dify <= 1.15 returns "linethreeisabit"
     * (difference 3) */
    expect_chunks("line one\nline two\nline three is a bit longer than the others\nfour",
                  custom("\n", 20, 5),
                  (const char *const[]){"line one", "line two", "line three is a bit",
                                        "bit longer than the", "the others", "four", NULL});
}

/* ---- CJK ---------------------------------------------------------------------- */

TEST(split_cjk_sentence_ends)
{
    /* ！ and ？ are separators after 。 (difference 1); Dify gives
     * "这是第一句。", "这是第二句！这是第三", "句？这是第四句。" */
    expect_chunks("这是第一句。这是第二句！这是第三句？这是第四句。", automatic(10, 0),
                  (const char *const[]){"这是第一句。", "这是第二句！", "这是第三句？",
                                        "这是第四句。", NULL});
    uint64_t s = 42;
    for (int round = 0; round < 20; round++) {
        rg_buf b;
        rg_buf_init(&b, 1 << 20);
        gen_text(&b, &s, 1, 9000 + 100 * (size_t)round);
        rg_arena *a = rg_arena_new(1 << 24);
        rg_str *c;
        size_t n;
        rg_split_rule r = round % 2 ? rg_split_rule_automatic() : custom("\n\n", 200, 30);
        CHECK_EQ_INT(rg_split_text(a, rg_buf_str(&b), &r, 0, &c, &n), RG_OK);
        CHECK(n >= 5);
        for (size_t i = 0; i < n; i++) {
            rg_str last = {c[i].p + c[i].n - 3, 3};
            /* every chunk ends a sentence and starts one */
            CHECK(rg_str_eqz(last, "。") || rg_str_eqz(last, "！") || rg_str_eqz(last, "？"));
            if (c[i].p > b.p) {
                rg_str prev = {c[i].p - 3, 3};
                CHECK(rg_str_eqz(prev, "。") || rg_str_eqz(prev, "！") || rg_str_eqz(prev, "？"));
            }
        }
        check_chunks(rg_buf_str(&b), c, n, r.max_chars, r.overlap, NULL);
        rg_arena_free(a);
        rg_buf_free(&b);
    }
}

TEST(split_char_level_keeps_newlines)
{
    /* no separator but single newlines: Dify drops them and glues the lines
     * (difference 2); here they stay, and the chunk is a slice of the text */
    rg_buf b;
    rg_buf_init(&b, 1 << 16);
    for (int i = 0; i < 40; i++)
        CHECK_EQ_INT(rg_buf_puts(&b, "中文字的是日本語한국\n"), RG_OK);
    rg_arena *a = rg_arena_new(1 << 20);
    rg_str *c;
    size_t n;
    rg_split_rule r = automatic(100, 0);
    CHECK_EQ_INT(rg_split_text(a, rg_buf_str(&b), &r, 0, &c, &n), RG_OK);
    CHECK_EQ_INT(n, 5);
    CHECK(memchr(c[0].p, '\n', c[0].n) != NULL);
    CHECK_EQ_INT(rg_utf8_len(c[0].p, c[0].n), 100);
    check_chunks(rg_buf_str(&b), c, n, 100, 0, NULL);
    rg_arena_free(a);
    rg_buf_free(&b);
}

/* ---- the guarantees over generated text ------------------------------------------ */

TEST(split_guarantees_generated_text)
{
    size_t n_rules;
    const rg_split_rule *rules = test_rules(&n_rules);
    uint64_t s = 0x9E3779B97F4A7C15u;
    for (int kind = 0; kind < 4; kind++) {
        for (int round = 0; round < 6; round++) {
            rg_buf b;
            rg_buf_init(&b, 1 << 20);
            gen_text(&b, &s, kind, 200 + rng_below(&s, 30000));
            for (size_t i = 0; i < n_rules; i++)
                split_and_check(rg_buf_str(&b), rules[i]);
            rg_buf_free(&b);
        }
    }
}

TEST(split_guarantees_single_long_word)
{
    size_t n_rules;
    const rg_split_rule *rules = test_rules(&n_rules);
    rg_buf b;
    rg_buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        CHECK_EQ_INT(rg_buf_putc(&b, (char)('a' + i % 26)), RG_OK);
    for (size_t i = 0; i < n_rules; i++)
        split_and_check(rg_buf_str(&b), rules[i]);
    rg_buf_reset(&b);
    for (int i = 0; i < 10000; i++) /* 4-byte code points: a cut would be visible */
        CHECK_EQ_INT(rg_buf_puts(&b, i % 3 ? "😀" : "ŝ"), RG_OK);
    for (size_t i = 0; i < n_rules; i++)
        split_and_check(rg_buf_str(&b), rules[i]);
    rg_buf_free(&b);
}

TEST(split_guarantees_random_bytes)
{
    /* arbitrary valid UTF-8 built from random code points, all separators likely */
    static const char *const atoms[] = {"\n", "\n\n", " ", ". ", "。", "！",     "？",     "a", "b",
                                        ".",  "\t",   "é", "中", "😀",  "\u3000", "\u2028", "\r"};
    size_t n_rules;
    const rg_split_rule *rules = test_rules(&n_rules);
    uint64_t s = 7;
    for (int round = 0; round < 200; round++) {
        rg_buf b;
        rg_buf_init(&b, 1 << 20);
        size_t len = rng_below(&s, 3000);
        while (b.len < len)
            (void)rg_buf_puts(&b, atoms[rng_below(&s, RG_ARRAY_LEN(atoms))]);
        split_and_check(rg_buf_str(&b), rules[rng_below(&s, n_rules)]);
        rg_buf_free(&b);
    }
}

TEST(split_white_space_runs_stay_linear)
{
    /* overlap near max means an emission per piece; emitting must not rescan
     * the window's white space (1 MB took 10 s under ASan before, 0.1 s now) */
    rg_buf b;
    rg_buf_init(&b, 1 << 21);
    while (b.len < 1024 * 1024)
        CHECK_EQ_INT(rg_buf_puts(&b, b.len % 100000 ? " " : "x "), RG_OK);
    rg_arena *a = rg_arena_new((size_t)1 << 30);
    rg_str *c;
    size_t n;
    rg_split_rule r = custom("\n", 1000, 999);
    clock_t t0 = clock();
    CHECK_EQ_INT(rg_split_text(a, rg_buf_str(&b), &r, 0, &c, &n), RG_OK);
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
    CHECK(n > 1000);
    for (size_t i = 0; i < n; i++)
        CHECK(c[i].n == 1 && c[i].p[0] == 'x'); /* every window holds one "x" */
    rg_arena_free(a);
    rg_buf_free(&b);
}

/* ---- limits --------------------------------------------------------------------- */

TEST(split_chunk_count_limit)
{
    rg_arena *a = rg_arena_new((size_t)1 << 30);
    rg_str *c = NULL;
    size_t n = 0;
    rg_split_rule r = custom("\n", 50, 0);
    CHECK_EQ_INT(rg_split_text(a, RG_STR("a\nb\nc\nd\ne"), &r, 3, &c, &n), RG_ETOOBIG);
    CHECK(c == NULL && n == 0);
    CHECK_EQ_INT(rg_split_text(a, RG_STR("a\nb\nc"), &r, 3, &c, &n), RG_OK);
    CHECK_EQ_INT(n, 3);
    /* the hard maximum itself: one chunk per character */
    size_t big = RG_SPLIT_MAX_CHUNKS + 1;
    char *t = rg_xmalloc(big);
    memset(t, 'z', big);
    r = automatic(1, 0);
    CHECK_EQ_INT(rg_split_text(a, (rg_str){t, big}, &r, 0, &c, &n), RG_ETOOBIG);
    CHECK_EQ_INT(rg_split_text(a, (rg_str){t, big - 1}, &r, 0, &c, &n), RG_OK);
    CHECK_EQ_INT(n, RG_SPLIT_MAX_CHUNKS);
    rg_free(t);
    rg_arena_free(a);
}

TEST(split_arena_limit_is_enomem)
{
    rg_arena *a = rg_arena_new(64); /* too small for the output array */
    rg_str *c;
    size_t n;
    rg_split_rule r = custom("\n", 50, 0);
    CHECK_EQ_INT(rg_split_text(a, RG_STR("a\nb\nc\nd\ne\nf"), &r, 0, &c, &n), RG_ENOMEM);
    rg_arena_free(a);
}

/* ---- hierarchical --------------------------------------------------------------- */

TEST(split_hierarchical_paragraph)
{
    const char *text = "First paragraph. It has two sentences.\n\n"
                       "  Second paragraph is here.\n\n\n\n"
                       ". Third starts with a stop.\n\n"
                       "。第四段。有两句。";
    rg_arena *a = rg_arena_new(1 << 20);
    rg_split_parent *p;
    size_t n;
    rg_split_rule pr = custom("\n\n", 200, 0), cr = custom(". ", 50, 0);
    CHECK_EQ_INT(rg_split_hierarchical(a, rg_str_c(text), RG_SPLIT_PARAGRAPH, &pr, &cr, 0, &p, &n),
                 RG_OK);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_STR(rg_arena_strz(a, p[0].text), "First paragraph. It has two sentences.");
    CHECK_EQ_INT(p[0].n_children, 2);
    CHECK_EQ_STR(rg_arena_strz(a, p[0].children[0]), "First paragraph");
    CHECK_EQ_STR(rg_arena_strz(a, p[0].children[1]), "It has two sentences.");
    CHECK_EQ_STR(rg_arena_strz(a, p[1].text), "Second paragraph is here.");
    CHECK_EQ_INT(p[1].n_children, 1);
    CHECK_EQ_STR(rg_arena_strz(a, p[2].text), "Third starts with a stop."); /* '.' dropped */
    CHECK_EQ_STR(rg_arena_strz(a, p[3].text), "第四段。有两句。");          /* '。' dropped */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p[i].n_children; j++) {
            rg_str k = p[i].children[j];
            CHECK(k.p >= p[i].text.p && k.p + k.n <= p[i].text.p + p[i].text.n);
        }
    rg_arena_free(a);
}

TEST(split_hierarchical_full_doc)
{
    const char *text = "\n  line one\nline two\n.dot line\n\nline four is longer than ten  \n";
    rg_arena *a = rg_arena_new(1 << 20);
    rg_split_parent *p;
    size_t n;
    rg_split_rule cr = custom("\n", 10, 0);
    CHECK_EQ_INT(rg_split_hierarchical(a, rg_str_c(text), RG_SPLIT_FULL_DOC, NULL, &cr, 0, &p, &n),
                 RG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(rg_arena_strz(a, p[0].text),
                 "line one\nline two\n.dot line\n\nline four is longer than ten");
    const char *want[] = {"line one", "line two", "dot line", "line four", "is longer", "than ten"};
    CHECK_EQ_INT(p[0].n_children, RG_ARRAY_LEN(want));
    for (size_t j = 0; j < p[0].n_children && j < RG_ARRAY_LEN(want); j++)
        CHECK_EQ_STR(rg_arena_strz(a, p[0].children[j]), want[j]);
    /* empty text: no parent */
    CHECK_EQ_INT(rg_split_hierarchical(a, RG_STR(" \n "), RG_SPLIT_FULL_DOC, NULL, &cr, 0, &p, &n),
                 RG_OK);
    CHECK_EQ_INT(n, 0);
    rg_arena_free(a);
}

TEST(split_hierarchical_guarantees_and_limits)
{
    uint64_t s = 99;
    rg_buf b;
    rg_buf_init(&b, 1 << 20);
    gen_text(&b, &s, 3, 40000);
    rg_arena *a = rg_arena_new((size_t)1 << 28);
    rg_split_parent *p;
    size_t n;
    rg_split_rule pr = custom("\n\n", 500, 0), cr = custom("\n", 50, 10);
    CHECK_EQ_INT(rg_split_hierarchical(a, rg_buf_str(&b), RG_SPLIT_PARAGRAPH, &pr, &cr, 0, &p, &n),
                 RG_OK);
    CHECK(n > 10);
    size_t total = n;
    for (size_t i = 0; i < n; i++) {
        CHECK(rg_utf8_len(p[i].text.p, p[i].text.n) <= 500);
        CHECK(rg_utf8_valid(p[i].text.p, p[i].text.n));
        for (size_t j = 0; j < p[i].n_children; j++) {
            rg_str k = p[i].children[j];
            CHECK(k.n > 0 && rg_utf8_len(k.p, k.n) <= 50 && rg_utf8_valid(k.p, k.n));
            CHECK(k.p >= p[i].text.p && k.p + k.n <= p[i].text.p + p[i].text.n);
        }
        total += p[i].n_children;
    }
    /* parents plus children count against max_chunks */
    rg_split_parent *q = NULL;
    size_t m = 0;
    CHECK_EQ_INT(
        rg_split_hierarchical(a, rg_buf_str(&b), RG_SPLIT_PARAGRAPH, &pr, &cr, total - 1, &q, &m),
        RG_ETOOBIG);
    CHECK(q == NULL && m == 0);
    CHECK_EQ_INT(
        rg_split_hierarchical(a, rg_buf_str(&b), RG_SPLIT_PARAGRAPH, &pr, &cr, total, &q, &m),
        RG_OK);
    CHECK_EQ_INT(m, n);
    /* bad arguments */
    CHECK_EQ_INT(rg_split_hierarchical(a, rg_buf_str(&b), RG_SPLIT_PARAGRAPH, NULL, &cr, 0, &q, &m),
                 RG_EINVAL);
    CHECK_EQ_INT(
        rg_split_hierarchical(a, rg_buf_str(&b), (rg_split_parent_mode)5, &pr, &cr, 0, &q, &m),
        RG_EINVAL);
    rg_arena_free(a);
    rg_buf_free(&b);
}
