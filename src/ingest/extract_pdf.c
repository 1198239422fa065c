/*
 * extract_pdf.c - PDF text through poppler's pdftotext in the sandbox.
 *
 * Why a child process: PDF parsers are a classic crash surface, poppler is
 * GPL, and a child can be bounded (CPU, memory, wall time, output) and
 * killed.  The command is
 *     /usr/bin/pdftotext -enc UTF-8 -eol unix <file> -
 * in poppler's default reading-order mode, not -layout: -layout pads columns
 * with runs of spaces to reproduce the page geometry, which is noise for
 * chunking and embedding; reading order is also what pypdfium2 (Dify's
 * PdfExtractor) returns, roughly.  Page breaks are kept (no -nopgbrk): the
 * output is split on "\f", each page is stripped, empty pages are dropped,
 * and pages are joined with a blank line (Dify makes one document per page).
 *
 * Reasons: a file without "%PDF-" in its first 1024 bytes (where readers
 * look for it) is refused before anything runs; a pdftotext failure is
 * reported with the last error line it printed, shortened ("Syntax Error
 * (123): " prefixes removed), "Incorrect password" as an encrypted PDF; no
 * text at all is "PDF has no text layer (scanned image?)".  The program is
 * looked up at each use in fixed directories (a missing poppler-utils says
 * how to install it), so installing it later needs no restart.
 */
#include "ingest/extract.h"

#include "ingest/extract_int.h"
#include "ingest/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *pdf_program; /* test knob */

void rg_extract_pdf_set_program(const char *abs_path)
{
    pdf_program = abs_path;
}

/* Looks for "%PDF-" in the first KB. */
static rg_rc check_header(const char *path, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rg_extract_why(why, whylen, "the file cannot be opened: %s", strerror(errno));
        return RG_EIO;
    }
    char head[1024];
    size_t n = 0;
    while (n < sizeof head) {
        ssize_t got = read(fd, head + n, sizeof head - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    for (size_t i = 0; i + 5 <= n; i++)
        if (memcmp(head + i, "%PDF-", 5) == 0)
            return RG_OK;
    rg_extract_why(why, whylen, "file is not a valid PDF: it has no %%PDF- header");
    return RG_EINVAL;
}

/* The reason pdftotext gave: its last error line, without the "Syntax Error
 * (offset): " kind of prefix, at most ~200 bytes.  Empty when there is none. */
static void tool_reason(const char *err, char *dst, size_t dstlen)
{
    dst[0] = '\0';
    const char *best = NULL;
    size_t best_n = 0;
    for (const char *line = err; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        const char *e = memmem(line, n, "Error", 5);
        if (e) {
            best = line;
            best_n = n;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    if (!best)
        return;
    const char *colon = memmem(best, best_n, ": ", 2);
    if (colon) {
        best_n -= (size_t)(colon + 2 - best);
        best = colon + 2;
    }
    /* poppler writes a newline inside a message as "<0a>" */
    while (best_n >= 4 && memcmp(best + best_n - 4, "<0a>", 4) == 0)
        best_n -= 4;
    if (best_n > 200)
        best_n = 200;
    snprintf(dst, dstlen, "%.*s", (int)best_n, best);
}

/* Appends the pages of raw (split on \f, stripped, empty ones dropped) to
 * out, joined with a blank line. */
static rg_rc join_pages(const char *raw, size_t n, rg_buf *out)
{
    bool any = false;
    const char *end = raw + n;
    for (const char *page = raw; page <= end;) {
        const char *ff = memchr(page, '\f', (size_t)(end - page));
        const char *stop = ff ? ff : end;
        const char *p = page;
        size_t len = (size_t)(stop - page);
        rg_extract_trim(&p, &len);
        if (len) {
            if (any)
                RG_TRY(rg_buf_append(out, "\n\n", 2));
            RG_TRY(rg_buf_append(out, p, len));
            any = true;
        }
        if (!ff)
            break;
        page = ff + 1;
    }
    return RG_OK;
}

rg_rc rg_extract_pdf_file(const char *path, rg_buf *out, char *why, size_t whylen)
{
    RG_TRY(check_header(path, why, whylen));
    char prog[256];
    if (pdf_program) {
        snprintf(prog, sizeof prog, "%s", pdf_program);
        if (access(prog, X_OK) != 0) {
            rg_extract_why(why, whylen,
                           "pdftotext is not installed (apt-get install poppler-utils)");
            return RG_EIO;
        }
    } else {
        RG_TRY(rg_sandbox_find("pdftotext", "apt-get install poppler-utils", prog, sizeof prog, why,
                               whylen));
    }
    /* An argument starting with '-' would be taken for an option. */
    char arg[4096];
    int an = snprintf(arg, sizeof arg, "%s%s", path[0] == '-' ? "./" : "", path);
    if (an < 0 || (size_t)an >= sizeof arg) {
        rg_extract_why(why, whylen, "the file path is too long");
        return RG_EIO;
    }
    const char *argv[] = {"pdftotext", "-enc", "UTF-8", "-eol", "unix", arg, "-", NULL};
    size_t room = out->max - out->len;
    rg_sandbox_limits lim = {
        .cpu_s = RG_EXTRACT_CHILD_CPU_S,
        .wall_ms = RG_EXTRACT_CHILD_WALL_S * 1000u,
        .memory = RG_EXTRACT_CHILD_MEMORY,
        .fsize = 0,
        .nofile = 64,
        /* page breaks and page margins are stripped afterwards: some slack */
        .max_stdout = room + room / 8 + 4096,
    };
    rg_buf raw;
    rg_buf_init(&raw, lim.max_stdout);
    rg_sandbox_result res;
    char sz[32];
    rg_rc rc = rg_sandbox_run(prog, argv, &lim, &raw, &res, why, whylen);
    if (rc == RG_ETIMEOUT) {
        rg_extract_why(why, whylen, "PDF text extraction did not finish within %d s",
                       RG_EXTRACT_CHILD_WALL_S);
    } else if (rc == RG_ETOOBIG) {
        rg_extract_why(why, whylen, "the extracted text is larger than the limit of %s",
                       rg_extract_size(out->max, sz));
    } else if (rc == RG_OK) {
        char reason[256];
        tool_reason(res.err, reason, sizeof reason);
        if (!res.exited && (res.signal == SIGXCPU || res.signal == SIGKILL)) {
            rg_extract_why(why, whylen, "PDF text extraction used more than %d s of CPU time",
                           RG_EXTRACT_CHILD_CPU_S);
            rc = RG_ETIMEOUT;
        } else if (!res.exited) {
            rg_extract_why(why, whylen,
                           "file is not a valid PDF: the PDF reader crashed or ran out of "
                           "memory (signal %d)",
                           res.signal);
            rc = RG_EINVAL;
        } else if (strstr(res.err, "Incorrect password")) {
            rg_extract_why(why, whylen, "the PDF is encrypted (password protected)");
            rc = RG_EINVAL;
        } else if (res.code != 0) {
            if (reason[0])
                rg_extract_why(why, whylen, "file is not a valid PDF: %s", reason);
            else
                rg_extract_why(why, whylen, "file is not a valid PDF: pdftotext failed (status %d)",
                               res.code);
            rc = RG_EINVAL;
        } else {
            size_t from = out->len;
            rc = join_pages(raw.p ? raw.p : "", raw.len, out);
            if (rc != RG_OK)
                rc = rg_extract_out_fail(rc, out, why, whylen);
            else if (!rg_extract_has_text(out->p ? out->p + from : "", out->len - from)) {
                if (reason[0])
                    rg_extract_why(why, whylen, "file is not a valid PDF: %s", reason);
                else
                    rg_extract_why(why, whylen, "PDF has no text layer (scanned image?)");
                rc = RG_EINVAL;
            }
        }
    }
    rg_buf_free(&raw);
    return rc;
}
