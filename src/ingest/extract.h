/*
 * extract.h - from an uploaded file to UTF-8 text: the "parsing" stage.
 *
 * The file type is decided by the declared extension (as Dify does); binary
 * formats must also look like what they claim (a ".pdf" that is not a PDF is
 * refused with a reason).  Untrusted parsers that are not ours run in a child
 * process with CPU, memory, time and output limits (ingest/sandbox.c), and
 * archives are read with size and ratio caps, so that no input can crash,
 * hang or exhaust the server.  Every failure comes with a sentence a person
 * can act on ("PDF has no text layer (scanned image?)").
 */
#ifndef RG_INGEST_EXTRACT_H
#define RG_INGEST_EXTRACT_H

#include "core/buf.h"
#include "core/common.h"

typedef enum rg_doctype {
    RG_DOCTYPE_TXT,
    RG_DOCTYPE_MARKDOWN, /* md, markdown, mdx */
    RG_DOCTYPE_HTML,     /* html, htm */
    RG_DOCTYPE_PDF,
    RG_DOCTYPE_DOCX,
    RG_DOCTYPE_CSV,
    RG_DOCTYPE_XLSX,
    RG_DOCTYPE_JSON,
    RG_DOCTYPE_COUNT
} rg_doctype;

/* Named limits (documented in docs/CONFIG.md). */
#define RG_EXTRACT_MAX_TEXT      ((size_t)64 << 20)  /* bytes of extracted text */
#define RG_EXTRACT_MAX_UNZIPPED  ((size_t)256 << 20) /* bytes read out of a docx/xlsx */
#define RG_EXTRACT_MAX_ZIP_RATIO 200                 /* uncompressed/compressed per entry */
#define RG_EXTRACT_CHILD_CPU_S   60                  /* CPU seconds of a helper process */
#define RG_EXTRACT_CHILD_WALL_S  120                 /* wall seconds of a helper process */
#define RG_EXTRACT_CHILD_MEMORY  ((size_t)1 << 30)   /* address space of a helper process */

/* Maps a file extension (any case, without the dot) to a type.  RG_EFILETYPE
 * for anything ragd does not extract. */
RG_WUR rg_rc rg_doctype_from_ext(const char *ext, rg_doctype *out);
/* The MIME type ragd records for a type (static storage). */
const char *rg_doctype_mime(rg_doctype t);
/* A comma-separated list of the supported extensions (static storage). */
const char *rg_doctype_supported(void);

/* Extracts the text of the file at path as type t into out (its own max
 * applies as well as RG_EXTRACT_MAX_TEXT).  Output is valid UTF-8 with "\n"
 * line ends, NUL-free.  On failure returns an error (RG_EINVAL for a bad or
 * empty file, RG_ETOOBIG past a limit, RG_ETIMEOUT, RG_EIO) and writes the
 * reason for a person into why (always NUL-terminated).  Thread-safe. */
RG_WUR rg_rc rg_extract_file(const char *path, rg_doctype t, rg_buf *out, char *why, size_t whylen);

#endif
