/*
 * extract_int.h - private to src/ingest/extract*.c: the in-memory parsers
 * behind rg_extract_file, the text helpers they share, and test-only knobs.
 *
 * Every parser appends UTF-8 text to a caller-owned rg_buf whose maximum is
 * the text limit, and on failure returns an rg_rc and writes a sentence into
 * why (always NUL-terminated when whylen > 0).  The bytes a parser reads are
 * borrowed for the duration of the call only.  The fuzz target and the unit
 * tests call these directly; nothing outside ingest/ should.
 */
#ifndef RG_INGEST_EXTRACT_INT_H
#define RG_INGEST_EXTRACT_INT_H

#include "core/buf.h"
#include "core/common.h"

#include <stdarg.h>

/* Below this many bytes an entry is never refused for its compression ratio. */
#define RG_EXTRACT_RATIO_GRACE ((size_t)1 << 20)

/* --- shared helpers (extract.c, extract_text.c) --------------------------------------------- */

/* Initialises libxml2 once per process (thread-safe; every libxml2 user
 * here calls it before parsing). */
void rg_extract_xml_init(void);
/* Writes a formatted reason into why[0..whylen) (truncated, NUL-terminated). */
void rg_extract_why(char *why, size_t whylen, const char *fmt, ...) RG_PRINTF(3, 4);
/* Turns the failure of an append to out (rc RG_ETOOBIG or RG_ENOMEM) into a
 * reason and returns rc. */
rg_rc rg_extract_out_fail(rg_rc rc, const rg_buf *out, char *why, size_t whylen);
/* Formats a byte count for a person ("256 MB", "1.5 MB", "900 bytes") into
 * dst (static size 32 is plenty); returns dst. */
const char *rg_extract_size(size_t n, char dst[32]);
/* True when the UTF-8 text holds a code point that is not white space
 * (Python's str.isspace()). */
bool rg_extract_has_text(const char *p, size_t n);
/* Returns p[0..n) without leading and trailing Unicode white space. */
void rg_extract_trim(const char **p, size_t *n);

/* Line-end and NUL normalisation that survives being fed in pieces: "\r\n"
 * and a lone "\r" become "\n", NUL bytes are dropped. */
typedef struct rg_extract_norm {
    bool last_cr;
} rg_extract_norm;
/* Appends p[0..n) to out through the normaliser. */
rg_rc rg_extract_norm_append(rg_extract_norm *st, rg_buf *out, const char *p, size_t n);
/* Appends p[0..n) to out with every byte that is not part of well-formed
 * UTF-8 replaced by U+FFFD. */
rg_rc rg_extract_utf8_repair_append(rg_buf *out, const char *p, size_t n);

/* Decodes text in any encoding to normalised UTF-8 and appends it to out:
 * a UTF-8/UTF-16/UTF-32 byte order mark decides and is dropped; valid UTF-8
 * passes; anything else goes through ICU's charset detector and a strict
 * fallback chain (see extract_text.c). */
RG_WUR rg_rc rg_extract_decode(const char *p, size_t n, rg_buf *out, char *why, size_t whylen);
/* Makes out's contents from byte `from` on well-formed, NUL-free UTF-8 with
 * "\n" line ends (what rg_extract_file promises, whatever a parser did). */
RG_WUR rg_rc rg_extract_finish(rg_buf *out, size_t from, char *why, size_t whylen);

/* --- in-memory parsers: the bytes of a whole file in, text appended to out ------------------- */

RG_WUR rg_rc rg_extract_text_mem(const char *p, size_t n, rg_buf *out, char *why, size_t whylen);
RG_WUR rg_rc rg_extract_md_mem(const char *p, size_t n, rg_buf *out, char *why, size_t whylen);
RG_WUR rg_rc rg_extract_html_mem(const char *p, size_t n, rg_buf *out, char *why, size_t whylen);
RG_WUR rg_rc rg_extract_csv_mem(const char *p, size_t n, rg_buf *out, char *why, size_t whylen);
RG_WUR rg_rc rg_extract_json_mem(const char *p, size_t n, rg_buf *out, char *why, size_t whylen);
/* The zip formats read from memory (fuzzing) or from a file (the server:
 * libzip then reads only the parts it needs). */
RG_WUR rg_rc rg_extract_docx_mem(const void *p, size_t n, rg_buf *out, char *why, size_t whylen);
RG_WUR rg_rc rg_extract_docx_file(const char *path, rg_buf *out, char *why, size_t whylen);
RG_WUR rg_rc rg_extract_xlsx_mem(const void *p, size_t n, rg_buf *out, char *why, size_t whylen);
RG_WUR rg_rc rg_extract_xlsx_file(const char *path, rg_buf *out, char *why, size_t whylen);
/* PDF goes through pdftotext in the sandbox, so only from a file. */
RG_WUR rg_rc rg_extract_pdf_file(const char *path, rg_buf *out, char *why, size_t whylen);

/* --- test-only knobs (not thread-safe: set them before extracting) -------------------------- */

/* Replaces the pdftotext found on the system by the program at abs_path
 * (NULL restores the lookup).  The string is borrowed until reset. */
void rg_extract_pdf_set_program(const char *abs_path);

#endif
