/*
 * wordpiece.c - BERT's tokenizer (HuggingFace BertTokenizer: BasicTokenizer
 * then WordpieceTokenizer) over a vocabulary in GGUF "phantom space" or
 * vocab.txt "##" form.
 *
 * The text is one stream of code points (invalid UTF-8 bytes skipped) that
 * goes through three stages without a buffer the size of the text:
 *  1. clean-up: NUL, U+FFFD and every C* (control, format, unassigned,
 *     private use) character dropped, except that tab, CR and LF are white
 *     space; white space (those, space, Zs, and Zl/Zp which Python's split()
 *     also splits on) ends a token; a CJK ideograph (BERT's ranges) is a
 *     token of its own;
 *  2. uncased models: each token is lower-cased (ICU full case mapping, root
 *     locale, as Python's str.lower()), decomposed (NFD) and stripped of Mn
 *     marks.  Tokens are transformed in segments of WP_SEG UTF-16 units; a
 *     token longer than that is cut, which can only change a word that is
 *     over WP_MAX_WORD characters anyway (and so [UNK]);
 *  3. punctuation (ASCII 33-47, 58-64, 91-96, 123-126 and Unicode P*) is a
 *     word of its own; every word of at most WP_MAX_WORD code points is
 *     split greedily, longest vocabulary piece first ("##" pieces after the
 *     first); a longer word, or one with no complete split, is one [UNK].
 * Words go out as ids until max - 2 are out, then [SEP]; the scan stops
 * there.  This is also what the fast (Rust) BertTokenizer does; the Python
 * one additionally NFC-normalises the text first, which only a cased model
 * fed decomposed text would notice.  Text that looks like "[CLS]" is not special: it is split like
 * any text (as llama.cpp does).
 *
 * The vocabulary is copied into one byte block and indexed by an open-
 * addressing hash table keyed by (continuation?, bytes): a phantom-form
 * token "\u2581the" is the word-initial "the", a bare token is a
 * continuation; in "##" form "##ing" is the continuation "ing" and anything
 * else word-initial.  When two tokens map to the same key the lower id wins.
 * Everything is read-only after rg_wordpiece_new, so encode is thread-safe.
 */
#include "embed/wordpiece.h"
#include "core/alloc.h"

#include <stdio.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#define WP_MAX_WORD  100 /* code points per word; longer is [UNK] (HF max_input_chars_per_word) */
#define WP_SEG       256 /* UTF-16 units of a token lower-cased and decomposed at once */
#define WP_LOWER_CAP (WP_SEG * 3)       /* full lower-casing grows text at most 3x */
#define WP_NFD_CAP   (WP_LOWER_CAP * 4) /* canonical decomposition grows text at most 4x */
#define WP_MAX_VOCAB (1u << 24)         /* largest vocabulary accepted */
#define WP_MAX_TOKEN 1024               /* longest vocabulary string kept, bytes */
#define WP_MAX_TEXT  INT32_MAX      /* bytes of text read (ICU's index type); the rest ignored */
#define WP_PHANTOM   "\xe2\x96\x81" /* U+2581, llama.cpp's word-start mark */

typedef struct wp_slot {
    uint32_t off; /* into bytes */
    uint16_t len; /* bytes */
    uint8_t cont; /* 1 continuation piece, 0 word-initial */
    uint8_t used;
    int32_t id;
} wp_slot;

struct rg_wordpiece {
    char *bytes;
    wp_slot *slots;
    size_t mask;    /* slot count - 1 (a power of two) */
    size_t max_key; /* longest key, bytes: no longer piece is tried */
    bool lowercase;
    int32_t cls, sep, unk;
};

static uint64_t hash_key(const char *p, size_t n, unsigned cont)
{
    uint64_t h = 0xcbf29ce484222325u ^ cont;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3u;
    return h ^ h >> 29;
}

static int32_t lookup(const rg_wordpiece *wp, const char *p, size_t n, unsigned cont)
{
    for (size_t i = hash_key(p, n, cont) & wp->mask;; i = (i + 1) & wp->mask) {
        const wp_slot *s = &wp->slots[i];
        if (!s->used)
            return -1;
        if (s->cont == cont && s->len == n && memcmp(wp->bytes + s->off, p, n) == 0)
            return s->id;
    }
}

/* The (continuation?, key) a vocabulary string stands for; false to skip it. */
static bool vocab_key(rg_str t, bool phantom, rg_str *key, unsigned *cont)
{
    *key = t, *cont = 0;
    if (phantom) {
        if (rg_str_starts(t, WP_PHANTOM))
            *key = (rg_str){t.p + 3, t.n - 3};
        else
            *cont = 1;
    } else if (t.n > 2 && rg_str_starts(t, "##")) {
        *key = (rg_str){t.p + 2, t.n - 2}, *cont = 1;
    }
    return key->n > 0 && key->n <= WP_MAX_TOKEN;
}

static void insert(rg_wordpiece *wp, size_t *used, rg_str key, unsigned cont, int32_t id)
{
    if (lookup(wp, key.p, key.n, cont) >= 0)
        return; /* the lower id stays */
    size_t i = hash_key(key.p, key.n, cont) & wp->mask;
    while (wp->slots[i].used)
        i = (i + 1) & wp->mask;
    memcpy(wp->bytes + *used, key.p, key.n);
    wp->slots[i] = (wp_slot){
        .off = (uint32_t)*used, .len = (uint16_t)key.n, .cont = (uint8_t)cont, .used = 1, .id = id};
    *used += key.n;
    if (key.n > wp->max_key)
        wp->max_key = key.n;
}

static rg_rc special(const rg_str *vocab, size_t n, int32_t given, const char *name, int32_t *out,
                     char *err, size_t errlen)
{
    if (given >= 0 && (size_t)given < n) {
        *out = given;
        return RG_OK;
    }
    if (given < 0)
        for (size_t i = 0; i < n; i++)
            if (rg_str_eqz(vocab[i], name)) {
                *out = (int32_t)i;
                return RG_OK;
            }
    if (err && errlen) {
        if (given >= 0)
            snprintf(err, errlen, "tokenizer: %s id %d is outside the vocabulary of %zu", name,
                     (int)given, n);
        else
            snprintf(err, errlen, "tokenizer: the vocabulary has no %s token", name);
    }
    return RG_EINVAL;
}

rg_rc rg_wordpiece_new(const rg_str *vocab, size_t n, const rg_wordpiece_opts *o,
                       rg_wordpiece **out, char *err, size_t errlen)
{
    *out = NULL;
    if (n == 0 || n > WP_MAX_VOCAB) {
        if (err && errlen)
            snprintf(err, errlen, "tokenizer: a vocabulary of %zu tokens (1 to %u)", n,
                     WP_MAX_VOCAB);
        return RG_EINVAL;
    }
    int32_t cls, sep, unk;
    RG_TRY(special(vocab, n, o->cls, "[CLS]", &cls, err, errlen));
    RG_TRY(special(vocab, n, o->sep, "[SEP]", &sep, err, errlen));
    RG_TRY(special(vocab, n, o->unk, "[UNK]", &unk, err, errlen));
    size_t total = 0, slots = 16;
    for (size_t i = 0; i < n; i++)
        total += vocab[i].n < WP_MAX_TOKEN ? vocab[i].n : WP_MAX_TOKEN;
    while (slots < 2 * n)
        slots *= 2;
    if (total > UINT32_MAX) {
        if (err && errlen)
            snprintf(err, errlen, "tokenizer: vocabulary of %zu bytes is too large", total);
        return RG_EINVAL;
    }
    rg_wordpiece *wp = rg_xcalloc(1, sizeof *wp);
    wp->bytes = rg_try_malloc(total + 1);
    wp->slots = rg_try_malloc(slots * sizeof *wp->slots);
    if (!wp->bytes || !wp->slots) {
        rg_wordpiece_free(wp);
        if (err && errlen)
            snprintf(err, errlen, "tokenizer: out of memory for %zu tokens", n);
        return RG_ENOMEM;
    }
    memset(wp->slots, 0, slots * sizeof *wp->slots);
    wp->mask = slots - 1;
    wp->lowercase = o->lowercase;
    wp->cls = cls, wp->sep = sep, wp->unk = unk;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        rg_str key;
        unsigned cont;
        if (vocab_key(vocab[i], o->phantom, &key, &cont))
            insert(wp, &used, key, cont, (int32_t)i);
    }
    *out = wp;
    return RG_OK;
}

void rg_wordpiece_free(rg_wordpiece *wp)
{
    if (!wp)
        return;
    rg_free(wp->bytes);
    rg_free(wp->slots);
    rg_free(wp);
}

bool rg_wordpiece_vocab_cased(const rg_str *vocab, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rg_str t = vocab[i];
        if (t.n >= 2 && t.p[0] == '[' && t.p[t.n - 1] == ']')
            continue;
        for (size_t k = 0; k < t.n; k++)
            if (t.p[k] >= 'A' && t.p[k] <= 'Z')
                return true;
    }
    return false;
}

/* ---- encoding ----------------------------------------------------------- */

/* Per-call state: the word being built and the ids written so far. */
typedef struct wp_run {
    const rg_wordpiece *wp;
    int32_t *ids;
    size_t n, limit; /* ids written (after [CLS]); pieces allowed */
    char word[WP_MAX_WORD * 4];
    size_t wlen, wchars;
    bool too_long;
    UChar seg[WP_SEG + 2]; /* stage-2 input of an uncased model */
    int32_t seglen;
} wp_run;

static bool full(const wp_run *r)
{
    return r->n >= r->limit;
}

static void emit(wp_run *r, int32_t id)
{
    if (!full(r))
        r->ids[1 + r->n++] = id;
}

/* Greedy longest-match-first over the word; [UNK] when no full split. */
static void word_end(wp_run *r)
{
    if (r->wchars == 0 && !r->too_long)
        return;
    int32_t pieces[WP_MAX_WORD];
    size_t np = 0, start = 0;
    bool ok = !r->too_long;
    while (ok && start < r->wlen) {
        size_t end = r->wlen - start > r->wp->max_key ? start + r->wp->max_key : r->wlen;
        int32_t id = -1;
        for (; end > start; end--) {
            if (end < r->wlen && ((unsigned char)r->word[end] & 0xC0) == 0x80)
                continue; /* not a code point boundary */
            id = lookup(r->wp, r->word + start, end - start, start > 0);
            if (id >= 0)
                break;
        }
        if (id < 0)
            ok = false;
        else
            pieces[np++] = id, start = end;
    }
    if (!ok)
        emit(r, r->wp->unk);
    for (size_t i = 0; ok && i < np; i++)
        emit(r, pieces[i]);
    r->wlen = r->wchars = 0;
    r->too_long = false;
}

static bool is_punct(UChar32 c)
{
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
        (c >= 123 && c <= 126))
        return true;
    return (U_GET_GC_MASK(c) & U_GC_P_MASK) != 0;
}

/* Stage 3: one code point of a cleaned, transformed token. */
static void stage3(wp_run *r, UChar32 c)
{
    if (is_punct(c)) {
        word_end(r);
        if (c < 0x80) {
            r->word[0] = (char)c, r->wlen = 1, r->wchars = 1;
        } else {
            UBool err = false;
            int32_t k = 0;
            U8_APPEND((uint8_t *)r->word, k, (int32_t)sizeof r->word, c, err);
            r->wlen = err ? 0 : (size_t)k, r->wchars = err ? 0 : 1;
        }
        word_end(r);
        return;
    }
    if (r->too_long || r->wchars == WP_MAX_WORD) {
        r->too_long = true;
        return;
    }
    UBool err = false;
    int32_t k = (int32_t)r->wlen;
    U8_APPEND((uint8_t *)r->word, k, (int32_t)sizeof r->word, c, err);
    if (!err)
        r->wlen = (size_t)k, r->wchars++;
}

/* Stage 2 for uncased models: lower-case, NFD, drop Mn, then stage 3. */
static void flush_seg(wp_run *r)
{
    if (r->seglen == 0)
        return;
    UChar low[WP_LOWER_CAP], nfd[WP_NFD_CAP];
    UErrorCode e = U_ZERO_ERROR;
    int32_t nl = u_strToLower(low, WP_LOWER_CAP, r->seg, r->seglen, "", &e);
    const UNormalizer2 *n2 = U_SUCCESS(e) ? unorm2_getNFDInstance(&e) : NULL;
    int32_t nn = U_SUCCESS(e) ? unorm2_normalize(n2, low, nl, nfd, WP_NFD_CAP, &e) : 0;
    const UChar *src = U_SUCCESS(e) ? nfd : r->seg; /* cannot happen: the caps are bounds */
    int32_t len = U_SUCCESS(e) ? nn : r->seglen;
    for (int32_t i = 0; i < len;) {
        UChar32 c;
        U16_NEXT(src, i, len, c);
        if (u_charType(c) != U_NON_SPACING_MARK)
            stage3(r, c);
    }
    r->seglen = 0;
}

static void stage2(wp_run *r, UChar32 c)
{
    if (!r->wp->lowercase) {
        stage3(r, c);
        return;
    }
    if (r->seglen > WP_SEG - 2)
        flush_seg(r);
    U16_APPEND_UNSAFE(r->seg, r->seglen, c);
}

static void token_end(wp_run *r)
{
    flush_seg(r);
    word_end(r);
}

static bool is_cjk(UChar32 c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Stage 1: one code point of the text. */
static void stage1(wp_run *r, UChar32 c)
{
    if (c == '\t' || c == '\n' || c == '\r' || c == ' ') {
        token_end(r);
        return;
    }
    int8_t t = u_charType(c);
    if (c == 0 || c == 0xFFFD || t == U_CONTROL_CHAR || t == U_FORMAT_CHAR || t == U_UNASSIGNED ||
        t == U_PRIVATE_USE_CHAR || t == U_SURROGATE)
        return;
    if (t == U_SPACE_SEPARATOR || t == U_LINE_SEPARATOR || t == U_PARAGRAPH_SEPARATOR) {
        token_end(r);
        return;
    }
    if (is_cjk(c)) {
        token_end(r);
        stage2(r, c);
        token_end(r);
        return;
    }
    stage2(r, c);
}

size_t rg_wordpiece_encode(const rg_wordpiece *wp, rg_str text, int32_t *ids, size_t max)
{
    if (max < 2)
        return 0;
    wp_run run = {.wp = wp, .ids = ids, .limit = max - 2}, *r = &run;
    ids[0] = wp->cls;
    const uint8_t *s = (const uint8_t *)text.p;
    int32_t len = text.n > WP_MAX_TEXT ? WP_MAX_TEXT : (int32_t)text.n;
    for (int32_t i = 0; i < len && !full(r);) {
        UChar32 c;
        U8_NEXT(s, i, len, c);
        if (c >= 0)
            stage1(r, c);
    }
    token_end(r);
    size_t n = 1 + r->n;
    ids[n++] = wp->sep;
    return n;
}
