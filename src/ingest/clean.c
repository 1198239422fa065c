/*
 * clean.c - Dify's CleanProcessor (core/rag/cleaner/clean_processor.py) in C.
 *
 * Design: the Python original is a chain of re.sub() calls; here every step is
 * one left-to-right pass over the text that copies unchanged runs with a single
 * append and only looks closer at the few bytes that can start a match.  Each
 * pass only deletes or shortens, so a pass never writes more than it reads;
 * passes ping-pong between two scratch buffers sized to the input and the last
 * one appends to the caller's buffer.  The regular expressions are matched by
 * hand with the same leftmost, greedy semantics as Python's `re` (each matcher
 * below says why its shortcut gives the same match).  Searches that could go
 * quadratic (a link's "](" or ")" far ahead) go through monotone caches: the
 * scan position only moves forward, so "the next ']' at or after here" can be
 * remembered instead of searched again.  Pure functions: no globals, no I/O.
 *
 * Steps, in Dify's order:
 *   always   "<|" -> "<", then "|>" -> ">", then delete U+0000-U+0008, U+000B,
 *            U+000C, U+000E-U+001F, U+007F and U+FFFE (one pass: the deletions
 *            come after the replacements, so "<\x01|" stays "<|" as in Dify);
 *   remove_extra_spaces   "\n{3,}" -> "\n\n" and a run of 2+ characters from
 *            [\t\f\r \u00a0\u1680\u180e\u2000-\u200a\u202f\u205f\u3000] -> " ";
 *   remove_urls_emails    delete e-mails [a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+
 *            (a pass of its own, before links are looked at, as in Dify), then
 *            keep Markdown links \[([^\]]*)\]\((https?://[^)]+)\) and images
 *            !\[.*?\]\((https?://[^)]+)\) and delete every other https?://\S+.
 *
 * Deliberate differences from Dify 1.14 (documented intent, not its accidents):
 *   1. U+00EF 'ï', U+00BF '¿' and U+00BE '¾' are kept.  Dify's character class
 *      [\x00-\x08...\xEF\xBF\xBE] was meant to remove the UTF-8 bytes of U+FFFE
 *      but, applied to decoded text, deletes these three letters ("naïve" ->
 *      "nave"); upstream has since fixed it the same way.  U+FFFE is removed.
 *   2. Links and images are protected without placeholders.  Dify swaps them for
 *      "__MARKDOWN_PLACEHOLDER_<n>__" and back, so (a) a document that already
 *      contains such text has it replaced by a link, and (b) a bare URL written
 *      right against a link ("see http://a[x](http://b)") swallows the
 *      placeholder and the link is lost.  Here a bare URL stops where a link or
 *      image starts, and the text is never rewritten.
 *   3. Images matched only by the image pattern (their alt text contains ']')
 *      keep their alt text; Dify restores them as "![image](url)".  Where an
 *      image and a link nest, the construct that starts first is kept verbatim.
 *   CR LF is not touched: Dify's TextExtractor turns "\r\n" and "\r" into "\n"
 *   while reading .txt files, so that is the extractor's job, not the cleaner's.
 */
#include "ingest/clean.h"

#include <string.h>

typedef const unsigned char *bytes;

static rg_rc flush(rg_buf *dst, bytes s, size_t from, size_t to)
{
    return to > from ? rg_buf_append(dst, s + from, to - from) : RG_OK;
}

size_t rg_clean_space_len(const char *p, size_t n)
{
    bytes u = (bytes)p;
    if (n == 0)
        return 0;
    unsigned c = u[0];
    if (c < 0x80)
        return ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) ? 1 : 0;
    if (c == 0xC2)
        return (n >= 2 && (u[1] == 0x85 || u[1] == 0xA0)) ? 2 : 0;
    if (n < 3)
        return 0;
    if (c == 0xE1) /* U+1680 */
        return (u[1] == 0x9A && u[2] == 0x80) ? 3 : 0;
    if (c == 0xE2) {
        if (u[1] == 0x80) /* U+2000-U+200A, U+2028, U+2029, U+202F */
            return ((u[2] >= 0x80 && u[2] <= 0x8A) || u[2] == 0xA8 || u[2] == 0xA9 || u[2] == 0xAF)
                       ? 3
                       : 0;
        return (u[1] == 0x81 && u[2] == 0x9F) ? 3 : 0; /* U+205F */
    }
    if (c == 0xE3) /* U+3000 */
        return (u[1] == 0x80 && u[2] == 0x80) ? 3 : 0;
    return 0;
}

/* ---- always: invalid symbols ------------------------------------------------ */

#define ONES  0x0101010101010101u
#define HIGHS 0x8080808080808080u

/* True when none of the 8 bytes at p is below 0x20, at or above 0x7F, '<' or
 * '|': nothing there for pass_base to look at (the usual bit tricks; a false
 * alarm only costs the slow path). */
static bool base_boring(bytes p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    uint64_t lt = (w - ONES * 0x20) & ~w;
    uint64_t ge = (w + ONES) | w;
    uint64_t lts = w ^ (ONES * '<'), bar = w ^ (ONES * '|');
    uint64_t eq = ((lts - ONES) & ~lts) | ((bar - ONES) & ~bar);
    return ((lt | ge | eq) & HIGHS) == 0;
}

static rg_rc pass_base(rg_str in, rg_buf *dst)
{
    bytes s = (bytes)in.p;
    size_t n = in.n, run = 0, i = 0;
    while (i < n) {
        if (i + 8 <= n && base_boring(s + i)) {
            i += 8;
            continue;
        }
        unsigned c = s[i];
        if (!(c < 0x20 || c == 0x7F || c == '<' || c == '|' || c == 0xEF)) {
            i++;
            continue;
        }
        if (c == '\t' || c == '\n' || c == '\r') {
            i++;
        } else if (c == '<') {
            if (i + 1 < n && s[i + 1] == '|') { /* keep '<', drop '|' */
                RG_TRY(flush(dst, s, run, i + 1));
                run = i + 2;
                i += 2;
            } else
                i++;
        } else if (c == '|') {
            if (i + 1 < n && s[i + 1] == '>') { /* drop '|', keep '>' */
                RG_TRY(flush(dst, s, run, i));
                run = i + 1;
                i += 2;
            } else
                i++;
        } else if (c == 0xEF) {
            if (i + 2 < n && s[i + 1] == 0xBF && s[i + 2] == 0xBE) { /* U+FFFE */
                RG_TRY(flush(dst, s, run, i));
                run = i + 3;
                i += 3;
            } else
                i++;
        } else { /* a control character */
            RG_TRY(flush(dst, s, run, i));
            run = ++i;
        }
    }
    return flush(dst, s, run, n);
}

/* ---- remove_extra_spaces ---------------------------------------------------- */

/* Length of a character of Dify's extra-space class at u[0], or 0. */
static size_t hspace_len(bytes u, size_t n)
{
    unsigned c = u[0];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f')
        return 1;
    if (c == 0xC2) /* U+00A0 */
        return (n >= 2 && u[1] == 0xA0) ? 2 : 0;
    if (n < 3)
        return 0;
    if (c == 0xE1) /* U+1680, U+180E */
        return ((u[1] == 0x9A && u[2] == 0x80) || (u[1] == 0xA0 && u[2] == 0x8E)) ? 3 : 0;
    if (c == 0xE2) /* U+2000-U+200A, U+202F, U+205F */
        return ((u[1] == 0x80 && ((u[2] >= 0x80 && u[2] <= 0x8A) || u[2] == 0xAF)) ||
                (u[1] == 0x81 && u[2] == 0x9F))
                   ? 3
                   : 0;
    if (c == 0xE3) /* U+3000 */
        return (u[1] == 0x80 && u[2] == 0x80) ? 3 : 0;
    return 0;
}

/* The two re.sub() calls touch disjoint character classes ('\n' is not in the
 * space class), so doing both in one pass gives the same text. */
static rg_rc pass_spaces(rg_str in, rg_buf *dst)
{
    bytes s = (bytes)in.p;
    size_t n = in.n, run = 0, i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c > ' ' && c < 0xC2) { /* the usual case: nothing to do */
            i++;
            continue;
        }
        if (c == ' ' && (i + 1 == n || (s[i + 1] > ' ' && s[i + 1] < 0xC2))) {
            i++; /* a single space between words */
            continue;
        }
        if (c == '\n') {
            size_t j = i;
            while (j < n && s[j] == '\n')
                j++;
            if (j - i >= 3) {
                RG_TRY(flush(dst, s, run, i + 2));
                run = j;
            }
            i = j;
            continue;
        }
        size_t w = (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c >= 0xC2)
                       ? hspace_len(s + i, n - i)
                       : 0;
        if (!w) {
            i++;
            continue;
        }
        size_t j = i + w, count = 1;
        while (j < n && (w = hspace_len(s + j, n - j)) != 0) {
            j += w;
            count++;
        }
        if (count >= 2) {
            RG_TRY(flush(dst, s, run, i));
            RG_TRY(rg_buf_putc(dst, ' '));
            run = j;
        }
        i = j;
    }
    return flush(dst, s, run, n);
}

/* ---- remove_urls_emails: e-mails -------------------------------------------- */

static bool is_alnum(unsigned c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool email_local(unsigned c)
{
    return is_alnum(c) || c == '_' || c == '.' || c == '+' || c == '-';
}

/* Matches [a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+ after the '@' at s[at]; returns the end
 * or 0.  The first class excludes '.', so only its longest run can be followed
 * by the '\.'; the last class is greedy and always takes its longest run. */
static size_t email_domain_end(bytes s, size_t n, size_t at)
{
    size_t j = at + 1;
    while (j < n && (is_alnum(s[j]) || s[j] == '-'))
        j++;
    if (j == at + 1 || j >= n || s[j] != '.')
        return 0;
    size_t k = j + 1;
    while (k < n && (is_alnum(s[k]) || s[k] == '-' || s[k] == '.'))
        k++;
    return k > j + 1 ? k : 0;
}

/* The local part's class excludes '@', so a match starting anywhere in a run of
 * local characters needs that run to end at '@': every start in the run
 * succeeds or fails together, and the leftmost one is the run's start. */
static rg_rc pass_emails(rg_str in, rg_buf *dst)
{
    bytes s = (bytes)in.p;
    size_t n = in.n, run = 0, i = 0;
    while (i < n) {
        if (!email_local(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && email_local(s[j]))
            j++;
        size_t e = (j < n && s[j] == '@') ? email_domain_end(s, n, j) : 0;
        if (e) {
            RG_TRY(flush(dst, s, run, i));
            run = i = e;
        } else
            i = j;
    }
    return flush(dst, s, run, n);
}

/* ---- remove_urls_emails: URLs, links and images ----------------------------- */

#define UNKNOWN SIZE_MAX

/* Scan state.  Each cache holds "the first such byte at or after the last
 * position asked about" (n when there is none); positions asked about only grow,
 * so a cached answer at or after the new position is still the right one. */
typedef struct url_scan {
    bytes s;
    size_t n;
    size_t link_close;    /* next ']' for links */
    size_t link_paren;    /* next ')' for links */
    size_t img_paren;     /* next ')' for images */
    size_t newline;       /* next '\n' */
    size_t img_close;     /* next ']' that can end an image */
    size_t img_close_end; /* end of that image (after its ')') */
} url_scan;

static size_t next_byte(const url_scan *u, size_t from, unsigned char ch, size_t *cache)
{
    if (*cache != UNKNOWN && *cache >= from)
        return *cache;
    const void *p = from < u->n ? memchr(u->s + from, ch, u->n - from) : NULL;
    *cache = p ? (size_t)((bytes)p - u->s) : u->n;
    return *cache;
}

/* Length of "http://" or "https://" at s[at], or 0.  When "https://" is not
 * followed by a match, "http" + "s://" cannot match either, so this is exact. */
static size_t scheme_len(const url_scan *u, size_t at)
{
    size_t left = u->n - at;
    if (left >= 7 && memcmp(u->s + at, "http://", 7) == 0)
        return 7;
    if (left >= 8 && memcmp(u->s + at, "https://", 8) == 0)
        return 8;
    return 0;
}

/* End of the Markdown link \[([^\]]*)\]\((https?://[^)]+)\) whose '[' is at s[i],
 * or 0.  [^\]]* can only stop at the first ']' and [^)]+ at the first ')'. */
static size_t link_end(url_scan *u, size_t i)
{
    size_t k = next_byte(u, i + 1, ']', &u->link_close);
    if (k + 1 >= u->n || u->s[k + 1] != '(')
        return 0;
    size_t sl = scheme_len(u, k + 2);
    if (!sl)
        return 0;
    size_t p = k + 2 + sl, r = next_byte(u, p, ')', &u->link_paren);
    return (r < u->n && r > p) ? r + 1 : 0;
}

/* First ']' at or after `from` that is followed by "(http(s)://", one or more
 * bytes and a ')'; records where that image would end.  n when there is none. */
static size_t image_close(url_scan *u, size_t from)
{
    if (u->img_close != UNKNOWN && u->img_close >= from)
        return u->img_close;
    size_t q = from;
    for (;;) {
        const void *hit = q < u->n ? memchr(u->s + q, ']', u->n - q) : NULL;
        if (!hit)
            break;
        q = (size_t)((bytes)hit - u->s);
        size_t sl = (q + 1 < u->n && u->s[q + 1] == '(') ? scheme_len(u, q + 2) : 0;
        if (sl) {
            size_t p = q + 2 + sl, r = next_byte(u, p, ')', &u->img_paren);
            if (r >= u->n) /* no ')' anywhere ahead: no later ']' can do either */
                break;
            if (r > p) {
                u->img_close = q;
                u->img_close_end = r + 1;
                return q;
            }
        }
        q++;
    }
    u->img_close = u->n;
    return u->n;
}

/* End of the image !\[.*?\]\((https?://[^)]+)\) whose '!' is at s[i], or 0.  The
 * lazy .*? takes the first ']' that lets the rest match, and may not cross a
 * newline. */
static size_t image_end(url_scan *u, size_t i)
{
    size_t q = image_close(u, i + 2);
    if (q >= u->n || next_byte(u, i + 2, '\n', &u->newline) < q)
        return 0;
    return u->img_close_end;
}

/* End of the link or image that starts at s[i], or 0.  Dify protects links
 * before images, so "![alt](url)" is kept through its link part. */
static size_t protected_end(url_scan *u, size_t i)
{
    if (u->s[i] == '[')
        return link_end(u, i);
    if (u->s[i] == '!' && i + 1 < u->n && u->s[i + 1] == '[') {
        size_t e = link_end(u, i + 1);
        return e ? e : image_end(u, i);
    }
    return 0;
}

/* End of the bare URL https?://\S+ at s[i], or 0.  It also stops where a
 * protected link or image starts (deliberate difference 2). */
static size_t url_end(url_scan *u, size_t i)
{
    size_t sl = scheme_len(u, i);
    if (!sl)
        return 0;
    size_t j = i + sl;
    while (j < u->n) {
        unsigned c = u->s[j];
        if (c == '[' || c == '!') {
            if (protected_end(u, j))
                break;
        } else if (rg_clean_space_len((const char *)u->s + j, u->n - j))
            break;
        j++; /* byte steps are safe: no continuation byte starts a space or a link */
    }
    return j > i + sl ? j : 0;
}

static rg_rc pass_urls(rg_str in, rg_buf *dst)
{
    url_scan u = {(bytes)in.p, in.n, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, 0};
    bytes s = u.s;
    size_t n = in.n, run = 0, i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 'h') {
            size_t e = url_end(&u, i);
            if (e) {
                RG_TRY(flush(dst, s, run, i));
                run = i = e;
            } else
                i++;
        } else if (c == '[' || c == '!') {
            size_t e = protected_end(&u, i);
            i = e ? e : i + 1;
        } else
            i++;
    }
    return flush(dst, s, run, n);
}

/* ---- driver ----------------------------------------------------------------- */

typedef rg_rc (*pass_fn)(rg_str in, rg_buf *dst);

typedef struct pass_chain {
    rg_str cur;   /* the text the next pass reads */
    size_t step;  /* passes done */
    size_t total; /* passes to do */
    rg_buf tmp[2];
    rg_buf *out;
} pass_chain;

/* Runs one pass: into a scratch buffer (never the one `cur` points into), or,
 * for the last pass, onto the caller's buffer. */
static rg_rc chain_run(pass_chain *c, pass_fn fn)
{
    rg_buf *dst = c->step + 1 == c->total ? c->out : &c->tmp[c->step % 2];
    if (dst != c->out)
        rg_buf_reset(dst);
    RG_TRY(fn(c->cur, dst));
    if (dst != c->out)
        c->cur = rg_buf_str(dst);
    c->step++;
    return RG_OK;
}

rg_rc rg_clean_text(rg_str in, const rg_clean_rule *rules, size_t n_rules, rg_buf *out)
{
    size_t total = 1;
    for (size_t i = 0; i < n_rules; i++) {
        if (rules[i] == RG_CLEAN_REMOVE_EXTRA_SPACES)
            total += 1;
        else if (rules[i] == RG_CLEAN_REMOVE_URLS_EMAILS)
            total += 2;
        else
            return RG_EINVAL;
    }
    pass_chain c = {.cur = in, .total = total, .out = out};
    rg_buf_init(&c.tmp[0], in.n); /* no pass makes its text longer */
    rg_buf_init(&c.tmp[1], in.n);
    rg_rc rc = chain_run(&c, pass_base);
    for (size_t i = 0; i < n_rules && rc == RG_OK; i++) {
        if (rules[i] == RG_CLEAN_REMOVE_EXTRA_SPACES)
            rc = chain_run(&c, pass_spaces);
        else {
            rc = chain_run(&c, pass_emails);
            if (rc == RG_OK)
                rc = chain_run(&c, pass_urls);
        }
    }
    rg_buf_free(&c.tmp[0]);
    rg_buf_free(&c.tmp[1]);
    return rc;
}

/* ---- chunk post-processing ---------------------------------------------------- */

static bool is_leading_symbol(uint32_t c)
{
    static const char ascii[] = "\"#$%&'()*+,./:;<=>?@^_`~";
    if (c < 0x80)
        return c && strchr(ascii, (int)c) != NULL;
    return (c >= 0x2000 && c <= 0x2025) || (c >= 0x2027 && c <= 0x206F) ||
           (c >= 0x2E00 && c <= 0x2E7F) || (c >= 0x3000 && c <= 0x300F) ||
           (c >= 0x3012 && c <= 0x303F);
}

rg_str rg_clean_leading_symbols(rg_str s)
{
    if (rg_str_starts(s, "[") && memchr(s.p, ']', s.n))
        return rg_str_trim(s);
    while (s.n) {
        const unsigned char *p = (const unsigned char *)s.p;
        uint32_t c = p[0];
        size_t len = 1;
        if (c >= 0xE0 && c < 0xF0 && s.n >= 3) {
            c = ((c & 0x0F) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
            len = 3;
        }
        if (!is_leading_symbol(c))
            break;
        s.p += len;
        s.n -= len;
    }
    return rg_str_trim(s);
}
