/*
 * zipread.h - reading XML parts out of an OOXML (docx, xlsx) zip archive,
 * with the caps that make zip bombs harmless.
 *
 * An rg_zip is one open archive (from a file or from memory).  Parts are
 * streamed into a libxml2 xmlTextReader; every inflated byte is counted as
 * it is read, because a zip's size fields are only claims:
 *   - the archive may not inflate to more than max_total bytes in all
 *     (RG_EXTRACT_MAX_UNZIPPED);
 *   - an entry may not inflate to more than max_ratio times its compressed
 *     size (RG_EXTRACT_MAX_ZIP_RATIO) once past RG_EXTRACT_RATIO_GRACE bytes;
 *   - an entry may not inflate past the size its header declares.
 * Declared sizes are checked before reading too, so an honest bomb is
 * refused without inflating a byte.  Every failure has a reason:
 * "file is not a valid DOCX: ..." for a damaged or foreign file, "archive
 * expands beyond the limit: ..." for the caps.  XML is parsed with NONET and
 * without entity substitution or DTD loading, and a part with a DTD is
 * refused (OOXML forbids them), so entity expansion cannot be abused.
 * An rg_zip belongs to one thread at a time.
 */
#ifndef RG_INGEST_ZIPREAD_H
#define RG_INGEST_ZIPREAD_H

#include "core/common.h"

#include <libxml/xmlreader.h>

typedef struct rg_zip rg_zip;

/* Opens the archive at path.  kind ("DOCX", "XLSX") names the format in
 * reasons.  On success *out is the caller's, to be closed with rg_zip_close.
 * RG_EINVAL with a reason when the file is not a usable zip archive. */
RG_WUR rg_rc rg_zip_open_file(const char *path, const char *kind, rg_zip **out, char *why,
                              size_t whylen);
/* As rg_zip_open_file over the n bytes at p, which are borrowed until
 * rg_zip_close. */
RG_WUR rg_rc rg_zip_open_mem(const void *p, size_t n, const char *kind, rg_zip **out, char *why,
                             size_t whylen);
/* Closes the archive; NULL is fine. */
void rg_zip_close(rg_zip *z);
/* True when the archive has an entry with this name (ASCII case ignored, as
 * OPC part names are case-insensitive). */
bool rg_zip_has(rg_zip *z, const char *name);

/* Called for every node the reader reaches; returns RG_OK to go on, or an
 * error (having written its own reason) to stop. */
typedef rg_rc (*rg_zip_xml_fn)(void *ctx, xmlTextReaderPtr r);

/* Streams the XML part `name` through fn.  RG_EINVAL with a reason when the
 * part is missing ("... is missing"), not readable or not well-formed XML;
 * RG_ETOOBIG "archive expands beyond the limit: ..." past a cap; fn's own
 * result if it stops.  The reader is valid only during fn. */
RG_WUR rg_rc rg_zip_parse_xml(rg_zip *z, const char *name, rg_zip_xml_fn fn, void *ctx, char *why,
                              size_t whylen);

/* Test-only: replaces the caps (0 restores the default of each).  Not
 * thread-safe; set before extracting. */
void rg_zip_set_limits(size_t max_total, unsigned max_ratio);

/* Helpers for fn: the element's local name equals `name` (the namespace
 * prefix is ignored) / an attribute by local name, as a copy the caller
 * frees with xmlFree (NULL when absent). */
bool rg_zip_is(xmlTextReaderPtr r, const char *name);
xmlChar *rg_zip_attr(xmlTextReaderPtr r, const char *local_name);

#endif
