/*
 * extract_md.c - Markdown (md, markdown, mdx) as Dify's MarkdownExtractor
 * cuts it: one section per heading, no Markdown parsing at all.
 *
 * Dify (core/rag/extractor/markdown_extractor.py, markdown_to_tups):
 *   - the text is split on "\n"; a line starting with "```" toggles a code
 *     fence and, like every line inside a fence, belongs to the body;
 *   - outside fences, a line matching ^#+\s (Python's \s: Unicode white
 *     space) starts a new section whose header is that line;
 *   - every other line is appended to the body with a "\n";
 *   - the header loses every '#' (all of them, "C# notes" -> "C notes") and
 *     is stripped; the body loses every <...> on one line (re.sub("<.*?>",
 *     "")) and is stripped;
 *   - each section becomes a document "\n\n" + header + "\n" + body, the
 *     text before the first heading a document of its body alone.
 * Here the documents are one text: sections are joined with a blank line,
 * each as "header\nbody" (the leading "\n\n" would only add blank lines).
 * Deliberate differences: an empty section (no header text, no body) is
 * left out instead of becoming an empty document, and a heading without a
 * body is just its header line (Dify keeps a trailing "\n" that the splitter
 * strips anyway).  Bytes are decoded like .txt first (BOM, charset, CR LF).
 * One pass over the text; the body of the current section is collected in a
 * scratch buffer with the tags already removed.
 */
#include "ingest/extract_int.h"

#include "ingest/clean.h"

#include <string.h>

typedef struct md_ctx {
    rg_buf *out;
    rg_buf body; /* body of the current section, tags removed */
    const char *head;
    size_t head_n;
    bool have_head, any;
} md_ctx;

/* Appends line[0..n) without its <...> spans (the shortest '<' ... '>'). */
static rg_rc append_untagged(rg_buf *b, const char *line, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *lt = memchr(line + i, '<', n - i);
        if (!lt)
            break;
        size_t at = (size_t)(lt - line);
        const char *gt = memchr(lt + 1, '>', n - at - 1);
        if (!gt) /* no '>' after this '<', so none after any later '<' either */
            break;
        RG_TRY(rg_buf_append(b, line + i, at - i));
        i = (size_t)(gt - line) + 1;
    }
    return rg_buf_append(b, line + i, n - i);
}

static rg_rc emit_section(md_ctx *c)
{
    const char *b = c->body.p ? c->body.p : "";
    size_t bn = c->body.len;
    rg_extract_trim(&b, &bn);
    rg_buf head;
    rg_buf_init(&head, c->out->max);
    rg_rc rc = RG_OK;
    const char *h = "";
    size_t hn = 0;
    if (c->have_head) {
        for (size_t i = 0; i < c->head_n && rc == RG_OK; i++)
            if (c->head[i] != '#')
                rc = rg_buf_putc(&head, c->head[i]);
        h = head.p ? head.p : "";
        hn = head.len;
        rg_extract_trim(&h, &hn);
    }
    if (rc == RG_OK && (hn || bn)) {
        if (c->any)
            rc = rg_buf_append(c->out, "\n\n", 2);
        if (rc == RG_OK && hn)
            rc = rg_buf_append(c->out, h, hn);
        if (rc == RG_OK && hn && bn)
            rc = rg_buf_putc(c->out, '\n');
        if (rc == RG_OK && bn)
            rc = rg_buf_append(c->out, b, bn);
        c->any = true;
    }
    rg_buf_free(&head);
    rg_buf_reset(&c->body);
    return rc;
}

/* ^#+\s on one line. */
static bool is_heading(const char *line, size_t n)
{
    size_t i = 0;
    while (i < n && line[i] == '#')
        i++;
    return i > 0 && i < n && rg_clean_space_len(line + i, n - i) > 0;
}

rg_rc rg_extract_md_mem(const char *p, size_t n, rg_buf *out, char *why, size_t whylen)
{
    if (n == 0) {
        rg_extract_why(why, whylen, "the file is empty");
        return RG_EINVAL;
    }
    rg_buf text;
    rg_buf_init(&text, out->max);
    rg_rc rc = rg_extract_decode(p, n, &text, why, whylen);
    if (rc != RG_OK) {
        rg_buf_free(&text);
        return rc;
    }
    md_ctx c = {.out = out};
    rg_buf_init(&c.body, out->max);
    size_t from = out->len;
    const char *s = text.p ? text.p : "", *end = s + text.len;
    bool fence = false;
    /* Python's split("\n"): the piece after the last "\n" counts, even empty. */
    for (const char *line = s; rc == RG_OK;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t ln = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (ln >= 3 && memcmp(line, "```", 3) == 0) {
            fence = !fence;
        } else if (!fence && is_heading(line, ln)) {
            rc = emit_section(&c);
            c.head = line;
            c.head_n = ln;
            c.have_head = true;
            goto next;
        }
        rc = append_untagged(&c.body, line, ln);
        if (rc == RG_OK)
            rc = rg_buf_putc(&c.body, '\n');
    next:
        if (!nl)
            break;
        line = nl + 1;
    }
    if (rc == RG_OK)
        rc = emit_section(&c);
    rg_buf_free(&c.body);
    rg_buf_free(&text);
    if (rc != RG_OK)
        return rg_extract_out_fail(rc, out, why, whylen);
    if (!rg_extract_has_text(out->p ? out->p + from : "", out->len - from)) {
        rg_extract_why(why, whylen, "the document contains no text");
        return RG_EINVAL;
    }
    return RG_OK;
}
