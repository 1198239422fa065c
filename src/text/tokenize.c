/*
 * tokenize.c - a small, dependency-free tokenizer (see tokenize.h).
 *
 * Decodes UTF-8 once, classifies each code point as CJK, letter/digit or
 * separator, and emits tokens without allocating: words are built in a stack
 * buffer, CJK bigrams are sliced from the source.  Input must be valid UTF-8.
 */
#include "text/tokenize.h"

#include <string.h>

static const char *const stopwords[] = {
    "a",      "about", "above",   "after",  "again",   "against", "all",     "am",    "an",
    "and",    "any",   "are",     "as",     "at",      "be",      "because", "been",  "before",
    "being",  "below", "between", "both",   "but",     "by",      "can",     "did",   "do",
    "does",   "doing", "down",    "during", "each",    "few",     "for",     "from",  "further",
    "had",    "has",   "have",    "having", "he",      "her",     "here",    "hers",  "him",
    "his",    "how",   "i",       "if",     "in",      "into",    "is",      "it",    "its",
    "itself", "just",  "me",      "more",   "most",    "my",      "no",      "nor",   "not",
    "now",    "of",    "off",     "on",     "once",    "only",    "or",      "other", "our",
    "ours",   "out",   "over",    "own",    "same",    "she",     "should",  "so",    "some",
    "such",   "than",  "that",    "the",    "their",   "theirs",  "them",    "then",  "there",
    "these",  "they",  "this",    "those",  "through", "to",      "too",     "under", "until",
    "up",     "very",  "was",     "we",     "were",    "what",    "when",    "where", "which",
    "while",  "who",   "whom",    "why",    "will",    "with",    "you",     "your",  "yours",
};

bool rg_is_stopword(rg_str w)
{
    size_t lo = 0, hi = RG_ARRAY_LEN(stopwords);
    while (lo < hi) { /* the table is sorted */
        size_t mid = (lo + hi) / 2;
        size_t n = strlen(stopwords[mid]);
        int c = memcmp(w.p, stopwords[mid], w.n < n ? w.n : n);
        if (c == 0)
            c = (w.n > n) - (w.n < n);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* Decodes one code point of valid UTF-8 at p; returns its length. */
static size_t utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if ((size_t)(end - p) < n)
        n = (size_t)(end - p);
    uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t i = 1; i < n; i++)
        v = (v << 6) | (p[i] & 0x3F);
    *cp = v;
    return n;
}

static bool is_cjk(uint32_t c)
{
    return (c >= 0x3040 && c <= 0x30FF) || /* kana */
           (c >= 0x3400 && c <= 0x4DBF) || /* CJK extension A */
           (c >= 0x4E00 && c <= 0x9FFF) || /* CJK unified */
           (c >= 0xAC00 && c <= 0xD7AF) || /* Hangul syllables */
           (c >= 0xF900 && c <= 0xFAFF) || /* compatibility ideographs */
           (c >= 0x20000 && c <= 0x2FFFF); /* supplementary ideographs */
}

static bool is_word_char(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    /* general punctuation, CJK symbols, full-width forms and other symbol blocks */
    if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
        (c >= 0xFF00 && c <= 0xFF20) || (c >= 0xFE30 && c <= 0xFE4F) || c == 0xA0 ||
        (c >= 0xA1 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x1F000 && c <= 0x1FAFF))
        return false;
    return true;
}

typedef struct {
    char buf[RG_TOKEN_MAX_BYTES];
    size_t n;
    bool ascii_only;
} word_acc;

static void flush_word(word_acc *w, void (*fn)(rg_str, void *), void *arg)
{
    rg_str t = {w->buf, w->n};
    if (w->n && !(w->ascii_only && (w->n < 2 || rg_is_stopword(t))))
        fn(t, arg);
    w->n = 0;
    w->ascii_only = true;
}

static void add_to_word(word_acc *w, const unsigned char *p, size_t len)
{
    if (w->n + len > sizeof w->buf)
        return; /* cut long words at a code point boundary */
    for (size_t i = 0; i < len; i++) {
        char c = (char)p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        w->buf[w->n++] = c;
    }
    if (len > 1)
        w->ascii_only = false;
}

void rg_tokenize(rg_str text, void (*fn)(rg_str token, void *arg), void *arg)
{
    const unsigned char *p = (const unsigned char *)text.p, *end = p + text.n;
    word_acc w = {.n = 0, .ascii_only = true};
    const unsigned char *prev_cjk = NULL; /* start of the previous CJK character */
    size_t prev_len = 0;
    bool emitted_pair = false;
    while (p < end) {
        uint32_t c;
        size_t len = utf8_decode(p, end, &c);
        if (is_cjk(c)) {
            flush_word(&w, fn, arg);
            if (prev_cjk) {
                fn((rg_str){(const char *)prev_cjk, prev_len + len}, arg);
                emitted_pair = true;
            }
            prev_cjk = p;
            prev_len = len;
        } else {
            if (prev_cjk && !emitted_pair)
                fn((rg_str){(const char *)prev_cjk, prev_len}, arg); /* a lone character */
            prev_cjk = NULL;
            emitted_pair = false;
            if (is_word_char(c))
                add_to_word(&w, p, len);
            else
                flush_word(&w, fn, arg);
        }
        p += len;
    }
    if (prev_cjk && !emitted_pair)
        fn((rg_str){(const char *)prev_cjk, prev_len}, arg);
    flush_word(&w, fn, arg);
}
