/*
 * test_wordpiece.c - BERT's tokenizer on a small vocabulary with encodings
 * worked out by hand from HuggingFace BertTokenizer's rules: whole words,
 * continuation pieces, punctuation and CJK split apart, accents stripped and
 * case folded for uncased models only, [UNK] for a word with no complete
 * split and for one over 100 characters, control and format characters
 * dropped, white space of every kind, invalid UTF-8 skipped, truncation
 * keeping [SEP] last, and the same ids from the vocabulary in llama.cpp's
 * phantom-space form as in "##" form.
 */
#include "harness.h"
#include "core/alloc.h"
#include "embed/wordpiece.h"

#include <stdlib.h>

/* "##" form; the id of a token is its index. */
static const char *const v_hash[] = {
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "quick",
    "brown",
    "fox",
    "un",
    "##aff",
    "##able",
    ",",
    ".",
    "!",
    "'",
    "s",
    "##s",
    "cafe",
    "\xe4\xb8\xad",
    "\xe5\x9b\xbd",
    "run",
    "##ning",
    "a",
    "##a",
    "The",
    "caf",
    "##\xc3\xa9",
    "i",
};
enum {
    PAD,
    UNK,
    CLS,
    SEP,
    MASK,
    THE,
    QUICK,
    BROWN,
    FOX,
    UN,
    AFF,
    ABLE,
    COMMA,
    DOT,
    BANG,
    APOS,
    S,
    CONT_S,
    CAFE,
    ZHONG,
    GUO,
    RUN,
    NING,
    A,
    CONT_A,
    THE_CASED,
    CAF,
    CONT_E_ACUTE,
    I_,
    NV
};

static rg_str vocab[NV];
static char *phantom_store[NV];
static rg_str phantom[NV];

static void make_vocabs(void)
{
    for (int i = 0; i < NV; i++) {
        const char *t = v_hash[i];
        vocab[i] = rg_str_c(t);
        char buf[64];
        if (t[0] == '[')
            snprintf(buf, sizeof buf, "%s", t);
        else if (t[0] == '#' && t[1] == '#')
            snprintf(buf, sizeof buf, "%s", t + 2);
        else
            snprintf(buf, sizeof buf, "\xe2\x96\x81%s", t);
        phantom_store[i] = rg_xstrdup(buf);
        phantom[i] = rg_str_c(phantom_store[i]);
    }
}

static void free_vocabs(void)
{
    for (int i = 0; i < NV; i++)
        rg_free(phantom_store[i]);
}

static rg_wordpiece *make(bool ph, bool lower)
{
    rg_wordpiece_opts o = {.lowercase = lower, .phantom = ph, .cls = -1, .sep = -1, .unk = -1};
    rg_wordpiece *wp = NULL;
    char err[128];
    if (rg_wordpiece_new(ph ? phantom : vocab, NV, &o, &wp, err, sizeof err) != RG_OK)
        return NULL;
    return wp;
}

/* Encodes text (n bytes; -1: strlen) and compares with want[0..nw) which
 * excludes [CLS] and [SEP]. */
static void expect(int line, const rg_wordpiece *wp, const char *text, int n, size_t max,
                   const int *want, size_t nw)
{
    int32_t ids[512];
    size_t got =
        rg_wordpiece_encode(wp, (rg_str){text, n < 0 ? strlen(text) : (size_t)n}, ids, max);
    bool ok = got == nw + 2 && ids[0] == CLS && ids[got - 1] == SEP;
    for (size_t i = 0; ok && i < nw; i++)
        ok = ids[1 + i] == want[i];
    if (!ok) {
        char m[512];
        int k = snprintf(m, sizeof m, "line %d: \"%.40s\" gave", line, text);
        for (size_t i = 0; i < got && k < 400; i++)
            k += snprintf(m + k, sizeof m - (size_t)k, " %d", (int)ids[i]);
        rg_test_fail(__FILE__, __LINE__, m);
    }
}

#define EXPECT(wp, text, ...)                                                                      \
    do {                                                                                           \
        static const int w_[] = {__VA_ARGS__};                                                     \
        expect(__LINE__, wp, text, -1, 512, w_, RG_ARRAY_LEN(w_));                                 \
    } while (0)
#define EXPECT_NONE(wp, text) expect(__LINE__, wp, text, -1, 512, NULL, 0)

static void common_cases(const rg_wordpiece *wp)
{
    EXPECT(wp, "the quick brown fox.", THE, QUICK, BROWN, FOX, DOT);
    EXPECT(wp, "unaffable", UN, AFF, ABLE);
    EXPECT(wp, "running!", RUN, NING, BANG);
    EXPECT(wp, "fox's", FOX, APOS, S);
    EXPECT(wp, "foxs", FOX, CONT_S);
    EXPECT(wp, "foxes", UNK); /* fox + nothing for "es": the whole word */
    EXPECT(wp, "zzz the", UNK, THE);
    EXPECT(wp, ",,.", COMMA, COMMA, DOT);
    EXPECT(wp, "fox\xe2\x80\x94the", FOX, UNK, THE);    /* U+2014 (Pd) is punctuation */
    EXPECT(wp, "fox\xc2\xbfthe", FOX, UNK, THE);        /* U+00BF (Po) */
    EXPECT(wp, "\xe4\xb8\xad\xe5\x9b\xbd", ZHONG, GUO); /* CJK characters apart */
    EXPECT(wp,
           "the\xe4\xb8\xad"
           "fox",
           THE, ZHONG, FOX);
    EXPECT(wp, "  the\t\tfox\r\n", THE, FOX);
    EXPECT(wp,
           "the\xc2\xa0"
           "fox",
           THE, FOX); /* NBSP (Zs) */
    EXPECT(wp,
           "the\xe3\x80\x80"
           "fox",
           THE, FOX); /* ideographic space */
    EXPECT(wp,
           "the\xe2\x80\xa8"
           "fox",
           THE, FOX);                              /* line separator (Zl) */
    EXPECT(wp, "fo\x01x", FOX);                    /* control dropped */
    EXPECT(wp, "fo\xe2\x80\x8bx", FOX);            /* U+200B (Cf) dropped */
    EXPECT(wp, "fo\xef\xbf\xbdx", FOX);            /* U+FFFD dropped */
    EXPECT(wp, "fo\xee\x80\x80x", FOX);            /* private use dropped */
    EXPECT(wp, "fo\xffx", FOX);                    /* invalid byte skipped */
    EXPECT(wp, "the \xc3\x28 fox", THE, UNK, FOX); /* C3 skipped, "(" is punctuation */
    EXPECT(wp, "the \xed\xa0\x80 fox", THE, FOX);  /* a UTF-8 surrogate is invalid */
    EXPECT(wp, "the \xe4\xb8", THE);               /* truncated sequence at the end */
    EXPECT_NONE(wp, "");
    EXPECT_NONE(wp, " \t\n\x01");
    int32_t ids[4];
    CHECK(rg_wordpiece_encode(wp, RG_STR("the"), ids, 1) == 0);
    CHECK(rg_wordpiece_encode(wp, RG_STR("the"), ids, 2) == 2 && ids[0] == CLS && ids[1] == SEP);
    CHECK(rg_wordpiece_encode(wp, RG_STR("the fox the fox"), ids, 4) == 4);
    CHECK(ids[0] == CLS && ids[1] == THE && ids[2] == FOX && ids[3] == SEP);
    int32_t big[8];
    CHECK(rg_wordpiece_encode(wp, RG_STR("unaffable fox"), big, 4) == 4);
    CHECK(big[1] == UN && big[2] == AFF && big[3] == SEP); /* cut inside a word */
}

static void long_words(const rg_wordpiece *wp, bool lower)
{
    char text[2048];
    memset(text, lower ? 'A' : 'a', 100);
    text[100] = 0;
    int32_t ids[512];
    size_t n = rg_wordpiece_encode(wp, rg_str_c(text), ids, 512);
    CHECK(n == 102 && ids[1] == A && ids[2] == CONT_A && ids[100] == CONT_A && ids[101] == SEP);
    memset(text, 'a', 101);
    text[101] = 0;
    EXPECT(wp, text, UNK);
    memset(text, 'a', 1500); /* longer than a transformation segment */
    memcpy(text + 1500, " fox.", 6);
    EXPECT(wp, text, UNK, FOX, DOT);
    memset(text, 'a', 150);
    memcpy(text + 150, ".a", 3); /* punctuation ends the long word */
    EXPECT(wp, text, UNK, DOT, A);
}

TEST(wordpiece_uncased_both_forms)
{
    make_vocabs();
    for (int ph = 0; ph < 2; ph++) {
        rg_wordpiece *wp = make(ph, true);
        CHECK(wp != NULL);
        if (!wp)
            continue;
        common_cases(wp);
        long_words(wp, true);
        EXPECT(wp, "The QUICK Brown", THE, QUICK, BROWN);
        EXPECT(wp, "Caf\xc3\xa9", CAFE);    /* é -> e */
        EXPECT(wp, "CAFE\xcc\x81", CAFE);   /* E + combining acute */
        EXPECT(wp, "\xc4\xb0", I_);         /* İ -> i + U+0307 -> i */
        EXPECT(wp, "[CLS]", UNK, UNK, UNK); /* not special in text */
        rg_wordpiece_free(wp);
    }
    free_vocabs();
}

TEST(wordpiece_cased_both_forms)
{
    make_vocabs();
    for (int ph = 0; ph < 2; ph++) {
        rg_wordpiece *wp = make(ph, false);
        CHECK(wp != NULL);
        if (!wp)
            continue;
        common_cases(wp);
        long_words(wp, false);
        EXPECT(wp, "The the THE", THE_CASED, THE, UNK);
        EXPECT(wp, "caf\xc3\xa9", CAF, CONT_E_ACUTE); /* accents kept */
        EXPECT(wp, "cafe", CAFE);
        rg_wordpiece_free(wp);
    }
    free_vocabs();
}

TEST(wordpiece_specials_and_errors)
{
    make_vocabs();
    rg_wordpiece_opts o = {.lowercase = true, .phantom = false, .cls = 5, .sep = 6, .unk = 7};
    rg_wordpiece *wp = NULL;
    char err[128] = "";
    CHECK(rg_wordpiece_new(vocab, NV, &o, &wp, err, sizeof err) == RG_OK);
    int32_t ids[8];
    CHECK(rg_wordpiece_encode(wp, RG_STR("zzz"), ids, 8) == 3);
    CHECK(ids[0] == 5 && ids[1] == 7 && ids[2] == 6);
    rg_wordpiece_free(wp);
    o.cls = NV;
    CHECK(rg_wordpiece_new(vocab, NV, &o, &wp, err, sizeof err) == RG_EINVAL && !wp);
    CHECK(strstr(err, "outside") != NULL);
    o.cls = -1;
    CHECK(rg_wordpiece_new(vocab + 5, NV - 5, &o, &wp, err, sizeof err) == RG_EINVAL);
    CHECK(strstr(err, "[CLS]") != NULL);
    CHECK(rg_wordpiece_new(vocab, 0, &o, &wp, err, sizeof err) == RG_EINVAL);
    rg_wordpiece_free(NULL);

    CHECK(!rg_wordpiece_vocab_cased(vocab, 5)); /* specials only */
    CHECK(!rg_wordpiece_vocab_cased(vocab, THE_CASED));
    CHECK(rg_wordpiece_vocab_cased(vocab, NV));
    CHECK(!rg_wordpiece_vocab_cased(phantom, THE_CASED));
    CHECK(rg_wordpiece_vocab_cased(phantom, NV));
    free_vocabs();
}

TEST(wordpiece_duplicate_keys_keep_lowest_id)
{
    rg_str v[] = {RG_STR("[CLS]"), RG_STR("[SEP]"), RG_STR("[UNK]"), RG_STR("x"),
                  RG_STR("x"),     RG_STR("##x"),   RG_STR(""),      RG_STR("##")};
    rg_wordpiece_opts o = {.lowercase = false, .phantom = false, .cls = -1, .sep = -1, .unk = -1};
    rg_wordpiece *wp = NULL;
    char err[128];
    CHECK(rg_wordpiece_new(v, RG_ARRAY_LEN(v), &o, &wp, err, sizeof err) == RG_OK);
    int32_t ids[8];
    /* "xx": x ##x (ids 3, 5); "##" is two punctuation words "#", neither known */
    CHECK(rg_wordpiece_encode(wp, RG_STR("xx ##"), ids, 8) == 6);
    CHECK(ids[1] == 3 && ids[2] == 5 && ids[3] == 2 && ids[4] == 2 && ids[5] == 1);
    rg_wordpiece_free(wp);
}
