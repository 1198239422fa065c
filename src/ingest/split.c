/*
 * split.c - Dify's recursive character splitter (core/rag/splitter/) in C.
 *
 * Design: Dify builds lists of substrings and joins them again; here a chunk
 * is always a slice of the input, so the splitter only moves offsets.  Pieces
 * are produced one at a time by find() and fed to a streaming version of
 * TextSplitter._merge_splits whose window (the pieces of the chunk being
 * built) is a deque of spans; a piece too long to merge flushes the window and
 * is split again with the next separator.  Every level flushes its window
 * before it recurses, so one window serves all levels, working memory besides
 * the output array stays in proportion to one chunk (not to the text), and
 * the recursion is at most one level per separator deep.  Lengths are code
 * points (Dify 1.13+ counts len(str)); a piece's length is counted once, when
 * it is cut.
 *
 * Automatic mode = EnhanceRecursiveCharacterTextSplitter._split_text with
 * separators "\n\n", "。", "！", "？", ". ", " ", "" (keep_separator: each piece
 * ends with its separator; pieces "" and "\n" are dropped; pieces shorter than
 * max are merged, longer ones go one level down; "" = one code point each).
 * Custom mode = FixedRecursiveCharacterTextSplitter: split on the user's
 * separator (removed); a piece longer than max goes to recursive_split_text,
 * which picks the first separator of the same list present in it, merges the
 * short pieces and sends long ones to _split_text with the separators after
 * it; with no separator present it packs characters greedily, carrying the
 * characters that fell into the last `overlap` positions into the next chunk.
 * _merge_splits: append pieces while total <= max; on overflow emit the
 * window, then drop pieces from its front while total > overlap (or while the
 * next piece still would not fit), so consecutive chunks share whole pieces
 * totalling at most `overlap` characters.  Every chunk is stripped of Python
 * white space (str.strip) and dropped if empty, as Dify's _join_docs and its
 * index processors do.  Dify's later per-segment steps (remove_leading_symbols,
 * doc_hash) belong to segment creation, not here.
 *
 * Dify picks a level's separator with re.search(), so ". " (a regex) matches
 * any character before a space even when the text holds no literal ". ".  The
 * literal split then yields the whole text as one piece, which is either
 * merged as is or sent to the next level: the same chunks as skipping to the
 * next separator, which is what the literal search here does.
 *
 * Deliberate differences from Dify 1.14:
 *   1. "！" and "？" follow "。" in the separator list, so Chinese and Japanese
 *      text is cut at the end of exclamations and questions too, not only at
 *      "。" (Dify falls through to " " and then to single characters).
 *   2. At the character level "\n" is a character like any other.  Dify drops
 *      every "\n" piece there, which glues lines together inside a chunk
 *      ("ab\ncd" -> "abcd"); keeping it is also what lets every chunk be a
 *      slice of the input.
 *   3. Custom mode splits on " " like automatic mode (the space stays at the
 *      end of its piece).  Dify <= 1.15 splits with re.split(" +") and joins
 *      with "", deleting every space of an oversized paragraph (dify#39403;
 *      the upstream fix, PR #39498, re-inserts one space per run).
 *   4. Separators are unescaped for \n, \t, \r, \\ and \uXXXX only, and
 *      non-ASCII separators are kept; Dify's codecs.decode("unicode_escape")
 *      mangles them, so "。" as a custom separator never splits (dify#34341).
 *   5. overlap must be smaller than max_chars.  Dify accepts overlap == max and
 *      its character packing then makes chunks of max + 1 characters.
 *   6. Hierarchical: parents and children are stripped (Dify leaves custom-mode
 *      pieces that fit unstripped), the '.'/'。' rule looks at the stripped
 *      text, and children are split from the parent as returned.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "ingest/split.h"

#include "core/alloc.h"
#include "ingest/clean.h"

#include <string.h>

/* A piece of the input: byte offset, byte length, code points; and, once it
 * enters a merge window, [lo, hi) = the piece without surrounding white space
 * (lo == hi when it is all white space). */
typedef struct span {
    size_t off, nb, nc;
    size_t lo, hi;
} span;

/* Growable output array with a hard maximum count. */
typedef struct sink {
    rg_str *v;
    size_t n, cap, max;
} sink;

typedef struct splitter {
    const char *s; /* the whole input text */
    size_t size;   /* max characters per chunk */
    size_t overlap;
    span *win; /* merge window: consecutive pieces, win[head .. head+len) */
    size_t head, len, cap;
    size_t total;           /* characters in the window */
    bool has_text;          /* some piece in the window is not all white space */
    size_t first_t, last_t; /* then: the first and last such pieces (win indices) */
    sink *out;
} splitter;

static const rg_str level_seps[] = {RG_STR("\n\n"), RG_STR("。"), RG_STR("！"), RG_STR("？"),
                                    RG_STR(". "),   RG_STR(" "),  RG_STR("")};
#define N_LEVELS   RG_ARRAY_LEN(level_seps)
#define CHAR_LEVEL (N_LEVELS - 1)

/* ---- helpers ----------------------------------------------------------------- */

/* The hot loops (validating the input, counting the code points of every
 * piece) look at 8 bytes at a time: plain ASCII dominates most documents. */

#define ONES  0x0101010101010101u
#define HIGHS 0x8080808080808080u

static uint64_t load8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Code points in p[0..n) (valid UTF-8): bytes minus continuation bytes. */
static size_t count_chars(const char *p, size_t n)
{
    size_t cont = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = load8(p + i);
        uint64_t c = w & ~(w << 1) & HIGHS; /* 10xxxxxx: bit 7 set, bit 6 clear */
        cont += (size_t)(((c >> 7) * ONES) >> 56);
    }
    for (; i < n; i++)
        cont += ((unsigned char)p[i] & 0xC0) == 0x80;
    return n - cont;
}

/* rg_utf8_valid with an ASCII fast path: words of ASCII are skipped and each
 * run of other bytes is checked on its own (no valid sequence holds an ASCII
 * byte, so cutting at them never splits one). */
static bool text_valid(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n && (load8(p + i) & HIGHS) == 0) {
            i += 8;
        } else if (!((unsigned char)p[i] & 0x80)) {
            i++;
        } else {
            size_t j = i + 1;
            while (j < n && ((unsigned char)p[j] & 0x80))
                j++;
            if (!rg_utf8_valid(p + i, j - i))
                return false;
            i = j;
        }
    }
    return true;
}

/* Bytes of the code point starting at p (valid UTF-8), never more than n. */
static size_t cp_len(const char *p, size_t n)
{
    unsigned c = (unsigned char)p[0];
    size_t l = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return l <= n ? l : n;
}

/* p[0..n) without leading and trailing Python white space. */
static rg_str strip(const char *p, size_t n)
{
    const char *e = p + n;
    size_t w;
    while (p < e && (w = rg_clean_space_len(p, (size_t)(e - p))) != 0)
        p += w;
    while (e > p) {
        const char *q = e - 1;
        while (q > p && ((unsigned char)*q & 0xC0) == 0x80)
            q--;
        if (rg_clean_space_len(q, (size_t)(e - q)) != (size_t)(e - q))
            break;
        e = q;
    }
    return (rg_str){p, (size_t)(e - p)};
}

static size_t clamp_max_chunks(size_t max_chunks)
{
    return max_chunks == 0 || max_chunks > RG_SPLIT_MAX_CHUNKS ? RG_SPLIT_MAX_CHUNKS : max_chunks;
}

static rg_rc sink_push(sink *k, rg_str c)
{
    if (k->n >= k->max)
        return RG_ETOOBIG;
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 256;
        if (cap > k->max)
            cap = k->max;
        rg_str *v = rg_try_realloc(k->v, cap * sizeof *v);
        if (!v)
            return RG_ENOMEM;
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = c;
    return RG_OK;
}

/* Strips the slice s[off .. off+nb) and keeps it unless nothing is left. */
static rg_rc emit(splitter *sp, size_t off, size_t nb)
{
    rg_str c = strip(sp->s + off, nb);
    return c.n ? sink_push(sp->out, c) : RG_OK;
}

/* ---- _merge_splits, streaming ------------------------------------------------ */

/* The window keeps its first and last pieces with text so that emitting it is
 * O(1): stripping the joined pieces is taking [first.lo, last.hi).  Stripping
 * the slice instead would rescan leading white space on every emission, which
 * costs max_chars per chunk when overlap is near max_chars (1 s per 100 KB of
 * spaces). */
static rg_rc win_append(splitter *sp, span d)
{
    if (sp->head + sp->len == sp->cap) {
        if (sp->len <= sp->cap / 2 && sp->head > 0) { /* compact: amortised O(1) */
            memmove(sp->win, sp->win + sp->head, sp->len * sizeof *sp->win);
            sp->first_t -= sp->head;
            sp->last_t -= sp->head;
            sp->head = 0;
        } else {
            size_t cap = sp->cap ? sp->cap * 2 : 64;
            span *w = rg_try_realloc(sp->win, cap * sizeof *w);
            if (!w)
                return RG_ENOMEM;
            sp->win = w;
            sp->cap = cap;
        }
    }
    size_t at = sp->head + sp->len++;
    sp->win[at] = d;
    if (d.lo < d.hi) {
        if (!sp->has_text)
            sp->first_t = at;
        sp->last_t = at;
        sp->has_text = true;
    }
    return RG_OK;
}

static void win_pop(splitter *sp)
{
    size_t at = sp->head++;
    sp->total -= sp->win[at].nc;
    sp->len--;
    if (sp->has_text && sp->first_t == at) {
        if (sp->last_t == at) {
            sp->has_text = false;
        } else { /* the next piece with text: each gap is crossed once */
            size_t i = at + 1;
            while (sp->win[i].lo == sp->win[i].hi)
                i++;
            sp->first_t = i;
        }
    }
}

/* "".join(window).strip(), kept unless empty. */
static rg_rc emit_window(splitter *sp)
{
    if (!sp->has_text)
        return RG_OK;
    size_t lo = sp->win[sp->first_t].lo, hi = sp->win[sp->last_t].hi;
    return sink_push(sp->out, (rg_str){sp->s + lo, hi - lo});
}

/* One step of _merge_splits with an empty joiner (keep_separator=True). */
static rg_rc merge_push(splitter *sp, span d)
{
    if (sp->total + d.nc > sp->size && sp->len > 0) {
        RG_TRY(emit_window(sp));
        while (sp->len > 0 &&
               (sp->total > sp->overlap || (sp->total + d.nc > sp->size && sp->total > 0)))
            win_pop(sp);
        if (sp->len == 0)
            sp->head = 0;
    }
    rg_str t = strip(sp->s + d.off, d.nb);
    d.lo = (size_t)(t.p - sp->s);
    d.hi = d.lo + t.n;
    RG_TRY(win_append(sp, d));
    sp->total += d.nc;
    return RG_OK;
}

/* The end of _merge_splits: emit what is left and start afresh. */
static rg_rc merge_flush(splitter *sp)
{
    rg_rc rc = emit_window(sp);
    sp->head = sp->len = sp->total = 0;
    sp->has_text = false;
    return rc;
}

/* First occurrence of sep in p[0..n), or NULL.  Short separators (all of the
 * built-in ones) are found with memchr() on their first byte, which is
 * vectorised; longer ones with memmem() over a window that doubles from 256
 * bytes.  Either way a search costs what it scans: ASan's memmem interceptor
 * checks the whole haystack on every call, which made cutting a text into
 * pieces quadratic in sanitizer builds. */
static const char *find(const char *p, size_t n, const rg_str *sep)
{
    if (sep->n <= 4) { /* at most 3 extra bytes compared per candidate */
        const char *end = p + n;
        while ((size_t)(end - p) >= sep->n) {
            const char *q = memchr(p, sep->p[0], (size_t)(end - p) - (sep->n - 1));
            if (!q)
                return NULL;
            if (memcmp(q + 1, sep->p + 1, sep->n - 1) == 0)
                return q;
            p = q + 1;
        }
        return NULL;
    }
    size_t win = sep->n > 128 ? 2 * sep->n : 256;
    while (n >= sep->n) {
        size_t lim = n < win ? n : win;
        const char *hit = memmem(p, lim, sep->p, sep->n);
        if (hit || lim == n)
            return hit;
        size_t step = lim - (sep->n - 1); /* a match may straddle the window's end */
        p += step;
        n -= step;
        win *= 2;
    }
    return NULL;
}

/* ---- the levels -------------------------------------------------------------- */

/* First level >= lvl whose separator occurs in s[off .. off+nb) (CHAR_LEVEL if
 * none does); *hit is its first occurrence. */
static size_t pick_level(const splitter *sp, size_t off, size_t nb, size_t lvl, const char **hit)
{
    for (; lvl < CHAR_LEVEL; lvl++) {
        *hit = find(sp->s + off, nb, &level_seps[lvl]);
        if (*hit)
            return lvl;
    }
    *hit = NULL;
    return CHAR_LEVEL;
}

/* The next piece of s[pos .. end) at a separator level: up to and including
 * the next separator (`hit`, or searched for), else the rest. */
static span next_piece(const splitter *sp, size_t pos, size_t end, const rg_str *sep,
                       const char *hit)
{
    if (!hit)
        hit = find(sp->s + pos, end - pos, sep);
    size_t pend = hit ? (size_t)(hit - sp->s) + sep->n : end;
    return (span){.off = pos, .nb = pend - pos};
}

/* RecursiveCharacterTextSplitter._split_text(s[off .. off+nb), level_seps[lvl..]). */
static rg_rc split_level(splitter *sp, size_t off, size_t nb, size_t lvl)
{
    const char *hit;
    size_t level = pick_level(sp, off, nb, lvl, &hit);
    const rg_str *sep = &level_seps[level];
    size_t pos = off, end = off + nb;
    while (pos < end) {
        span d;
        if (level == CHAR_LEVEL) {
            d = (span){.off = pos, .nb = cp_len(sp->s + pos, end - pos), .nc = 1};
        } else {
            d = next_piece(sp, pos, end, sep, hit);
            hit = NULL;
            if (d.nb == 1 && sp->s[pos] == '\n') { /* a "\n" piece is dropped */
                pos += d.nb;
                continue;
            }
            d.nc = count_chars(sp->s + pos, d.nb);
        }
        pos += d.nb;
        if (d.nc < sp->size) {
            RG_TRY(merge_push(sp, d));
        } else {
            RG_TRY(merge_flush(sp));
            if (level == CHAR_LEVEL) /* no separator left: the piece as it is */
                RG_TRY(emit(sp, d.off, d.nb));
            else
                RG_TRY(split_level(sp, d.off, d.nb, level + 1));
        }
    }
    return merge_flush(sp);
}

/* The character packing of FixedRecursiveCharacterTextSplitter.recursive_split_text. */
static rg_rc pack_chars(splitter *sp, size_t off, size_t nb)
{
    size_t pos = off, end = off + nb, lim = sp->size - sp->overlap;
    size_t cur = off, cur_len = 0; /* the chunk being built starts at cur */
    size_t ov = off, ov_len = 0;   /* its characters past position lim */
    while (pos < end) {
        size_t w = cp_len(sp->s + pos, end - pos);
        if (cur_len + 1 <= lim) {
            cur_len++;
        } else if (cur_len + 1 <= sp->size) {
            if (ov_len == 0)
                ov = pos;
            ov_len++;
            cur_len++;
        } else {
            RG_TRY(emit(sp, cur, pos - cur));
            cur = ov_len ? ov : pos;
            cur_len = ov_len + 1;
            ov_len = 0;
        }
        pos += w;
    }
    return cur_len ? emit(sp, cur, end - cur) : RG_OK;
}

/* FixedRecursiveCharacterTextSplitter.recursive_split_text(s[off .. off+nb)). */
static rg_rc split_fixed_recursive(splitter *sp, size_t off, size_t nb)
{
    const char *hit;
    size_t level = pick_level(sp, off, nb, 0, &hit);
    if (level == CHAR_LEVEL)
        return pack_chars(sp, off, nb);
    const rg_str *sep = &level_seps[level];
    size_t pos = off, end = off + nb;
    while (pos < end) {
        span d = next_piece(sp, pos, end, sep, hit);
        hit = NULL;
        pos += d.nb;
        if (d.nb == 1 && sp->s[d.off] == '\n')
            continue;
        d.nc = count_chars(sp->s + d.off, d.nb);
        if (d.nc < sp->size) {
            RG_TRY(merge_push(sp, d));
        } else {
            RG_TRY(merge_flush(sp));
            RG_TRY(split_level(sp, d.off, d.nb, level + 1));
        }
    }
    return merge_flush(sp);
}

/* FixedRecursiveCharacterTextSplitter.split_text(s[off .. off+nb)). */
static rg_rc split_custom(splitter *sp, rg_str fixed, size_t off, size_t nb)
{
    size_t pos = off, end = off + nb;
    for (;;) {
        const char *hit = fixed.n ? find(sp->s + pos, end - pos, &fixed) : NULL;
        size_t pend = hit ? (size_t)(hit - sp->s) : end;
        if (count_chars(sp->s + pos, pend - pos) > sp->size)
            RG_TRY(split_fixed_recursive(sp, pos, pend - pos));
        else
            RG_TRY(emit(sp, pos, pend - pos));
        if (!hit)
            return RG_OK;
        pos = pend + fixed.n;
    }
}

/* ---- public ------------------------------------------------------------------ */

rg_split_rule rg_split_rule_automatic(void)
{
    return (rg_split_rule){RG_SPLIT_AUTOMATIC, RG_STR(""), RG_SPLIT_AUTO_MAX_CHARS,
                           RG_SPLIT_AUTO_OVERLAP};
}

static bool separator_ok(rg_str s)
{
    return s.n == 0 || (s.p && rg_utf8_valid(s.p, s.n));
}

/* What the splitter itself needs of a rule (looser than Dify's bounds). */
static rg_rc rule_usable(const rg_split_rule *r)
{
    if (!r || (r->mode != RG_SPLIT_AUTOMATIC && r->mode != RG_SPLIT_CUSTOM))
        return RG_EINVAL;
    if (r->max_chars < 1 || r->max_chars > RG_SPLIT_HARD_MAX_CHARS || r->overlap >= r->max_chars)
        return RG_EINVAL;
    return separator_ok(r->separator) ? RG_OK : RG_EINVAL;
}

rg_rc rg_split_rule_check(const rg_split_rule *rule, size_t limit)
{
    RG_TRY(rule_usable(rule));
    if (limit > RG_SPLIT_HARD_MAX_CHARS)
        limit = RG_SPLIT_HARD_MAX_CHARS;
    if (rule->max_chars < RG_SPLIT_MIN_CHARS || rule->max_chars > limit)
        return RG_EINVAL;
    return RG_OK;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

rg_rc rg_split_unescape_separator(rg_arena *a, rg_str in, rg_str *out)
{
    if ((in.n && !in.p) || !rg_utf8_valid(in.p, in.n))
        return RG_EINVAL;
    char *d = rg_arena_try_alloc(a, in.n + 1);
    if (!d)
        return RG_ENOMEM;
    size_t i = 0, j = 0;
    while (i < in.n) {
        char c = in.p[i];
        if (c != '\\' || i + 1 == in.n) {
            d[j++] = c;
            i++;
            continue;
        }
        char e = in.p[i + 1];
        if (e == 'n' || e == 't' || e == 'r' || e == '\\') {
            d[j++] = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : '\\';
            i += 2;
        } else if (e == 'u') {
            unsigned cp = 0;
            for (size_t k = 0; k < 4; k++) {
                int h = i + 2 + k < in.n ? hex_digit(in.p[i + 2 + k]) : -1;
                if (h < 0)
                    return RG_EINVAL;
                cp = cp * 16 + (unsigned)h;
            }
            if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
                return RG_EINVAL;
            if (cp < 0x80) {
                d[j++] = (char)cp;
            } else if (cp < 0x800) {
                d[j++] = (char)(0xC0 | (cp >> 6));
                d[j++] = (char)(0x80 | (cp & 0x3F));
            } else {
                d[j++] = (char)(0xE0 | (cp >> 12));
                d[j++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                d[j++] = (char)(0x80 | (cp & 0x3F));
            }
            i += 6;
        } else { /* not an escape we decode: keep the backslash */
            d[j++] = c;
            i++;
        }
    }
    d[j] = '\0';
    *out = (rg_str){d, j};
    return RG_OK;
}

static rg_rc run_rule(splitter *sp, const rg_split_rule *r, size_t off, size_t nb)
{
    sp->size = r->max_chars;
    sp->overlap = r->overlap;
    if (nb == 0)
        return RG_OK;
    if (r->mode == RG_SPLIT_AUTOMATIC)
        return split_level(sp, off, nb, 0);
    return split_custom(sp, r->separator, off, nb);
}

static bool text_ok(rg_str t)
{
    return t.n == 0 || (t.p && text_valid(t.p, t.n));
}

/* Copies n slices into the arena (NULL for none). */
static rg_rc to_arena(rg_arena *a, const rg_str *v, size_t n, rg_str **out)
{
    *out = NULL;
    if (n == 0)
        return RG_OK;
    rg_str *dst = rg_arena_try_alloc(a, n * sizeof *dst);
    if (!dst)
        return RG_ENOMEM;
    memcpy(dst, v, n * sizeof *dst);
    *out = dst;
    return RG_OK;
}

rg_rc rg_split_text(rg_arena *a, rg_str text, const rg_split_rule *rule, size_t max_chunks,
                    rg_str **chunks, size_t *n_chunks)
{
    RG_TRY(rule_usable(rule));
    if (!text_ok(text))
        return RG_EINVAL;
    sink k = {.max = clamp_max_chunks(max_chunks)};
    splitter sp = {.s = text.p, .out = &k};
    rg_rc rc = run_rule(&sp, rule, 0, text.n);
    rg_free(sp.win);
    rg_str *v = NULL;
    if (rc == RG_OK)
        rc = to_arena(a, k.v, k.n, &v);
    if (rc == RG_OK) {
        *chunks = v;
        *n_chunks = k.n;
    }
    rg_free(k.v);
    return rc;
}

/* Dify's ParentChildIndexProcessor: a chunk starting with '.' or '。' loses it. */
static rg_str drop_leading_stop(rg_str c)
{
    if (c.n >= 1 && c.p[0] == '.')
        return strip(c.p + 1, c.n - 1);
    if (c.n >= 3 && memcmp(c.p, "。", 3) == 0)
        return strip(c.p + 3, c.n - 3);
    return c;
}

/* Applies drop_leading_stop to k->v[from..n), dropping what becomes empty. */
static void apply_leading_stop(sink *k, size_t from)
{
    size_t j = from;
    for (size_t i = from; i < k->n; i++) {
        rg_str c = drop_leading_stop(k->v[i]);
        if (c.n)
            k->v[j++] = c;
    }
    k->n = j;
}

static rg_rc split_tree(rg_str text, rg_split_parent_mode mode, const rg_split_rule *parent_rule,
                        const rg_split_rule *child_rule, sink *parents, sink *children,
                        size_t **starts)
{
    splitter sp = {.s = text.p, .out = parents};
    rg_rc rc = RG_OK;
    if (mode == RG_SPLIT_PARAGRAPH) {
        rc = run_rule(&sp, parent_rule, 0, text.n);
        apply_leading_stop(parents, 0);
    } else {
        rg_str whole = strip(text.p, text.n);
        if (whole.n)
            rc = sink_push(parents, whole);
    }
    if (rc == RG_OK) {
        children->max = parents->max - parents->n;
        *starts = rg_try_malloc((parents->n + 1) * sizeof **starts);
        if (!*starts)
            rc = RG_ENOMEM;
    }
    sp.out = children;
    for (size_t i = 0; rc == RG_OK && i < parents->n; i++) {
        (*starts)[i] = children->n;
        rg_str p = parents->v[i];
        rc = run_rule(&sp, child_rule, (size_t)(p.p - text.p), p.n);
        apply_leading_stop(children, (*starts)[i]);
    }
    if (rc == RG_OK)
        (*starts)[parents->n] = children->n;
    rg_free(sp.win);
    return rc;
}

rg_rc rg_split_hierarchical(rg_arena *a, rg_str text, rg_split_parent_mode mode,
                            const rg_split_rule *parent_rule, const rg_split_rule *child_rule,
                            size_t max_chunks, rg_split_parent **parents, size_t *n_parents)
{
    if (mode != RG_SPLIT_PARAGRAPH && mode != RG_SPLIT_FULL_DOC)
        return RG_EINVAL;
    if (mode == RG_SPLIT_PARAGRAPH)
        RG_TRY(rule_usable(parent_rule));
    RG_TRY(rule_usable(child_rule));
    if (!text_ok(text))
        return RG_EINVAL;
    sink pk = {.max = clamp_max_chunks(max_chunks)}, ck = {0};
    size_t *starts = NULL;
    rg_rc rc = split_tree(text, mode, parent_rule, child_rule, &pk, &ck, &starts);
    rg_str *kids = NULL;
    rg_split_parent *out = NULL;
    if (rc == RG_OK)
        rc = to_arena(a, ck.v, ck.n, &kids);
    if (rc == RG_OK && pk.n) {
        out = rg_arena_try_alloc(a, pk.n * sizeof *out);
        if (!out)
            rc = RG_ENOMEM;
        for (size_t i = 0; rc == RG_OK && i < pk.n; i++) {
            out[i].text = pk.v[i];
            out[i].n_children = starts[i + 1] - starts[i];
            out[i].children = out[i].n_children ? kids + starts[i] : NULL;
        }
    }
    if (rc == RG_OK) {
        *parents = out;
        *n_parents = pk.n;
    }
    rg_free(starts);
    rg_free(pk.v);
    rg_free(ck.v);
    return rc;
}
