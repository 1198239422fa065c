/*
 * clean.h - Dify's text pre-processing (CleanProcessor) as a pure function.
 *
 * Every document is cleaned before it is split: invalid symbols are always
 * removed, then the enabled pre-processing rules run in the order the
 * process rule lists them.  The functions here do no I/O, touch no global
 * state and are safe to call from any number of threads at once.
 */
#ifndef RG_INGEST_CLEAN_H
#define RG_INGEST_CLEAN_H

#include "core/buf.h"
#include "core/common.h"
#include "core/str.h"

/* A pre-processing rule of a Dify process rule (`pre_processing_rules[].id`).
 * `remove_stopwords` is accepted by Dify but does nothing, so it has no value
 * here: the caller simply leaves it out. */
typedef enum rg_clean_rule {
    RG_CLEAN_REMOVE_EXTRA_SPACES = 1, /* "remove_extra_spaces" */
    RG_CLEAN_REMOVE_URLS_EMAILS = 2,  /* "remove_urls_emails" */
} rg_clean_rule;

/* Cleans the UTF-8 text `in` and appends the result to `out`, which the caller
 * owns (initialised with its own maximum) and frees.  Always: "<|" becomes
 * "<", "|>" becomes ">", and U+0000-U+0008, U+000B, U+000C, U+000E-U+001F,
 * U+007F and U+FFFE are deleted.  Then rules[0..n_rules) are applied in that
 * order (n_rules may be 0 and rules NULL).  The cleaned text is never longer
 * than `in`, and is valid UTF-8 when `in` is.  `in` is only read and may be
 * freed once the call returns.  Returns RG_EINVAL for an unknown rule (out
 * untouched), RG_ETOOBIG when the result does not fit under out's maximum,
 * RG_ENOMEM when memory runs out; after an error the bytes appended to out
 * are unspecified and out is marked failed. */
RG_WUR rg_rc rg_clean_text(rg_str in, const rg_clean_rule *rules, size_t n_rules, rg_buf *out);

/* Returns the byte length (1-3) of the white-space code point that starts at
 * p[0], or 0 when p[0..n) does not start with one.  White space is Python's
 * str.isspace(), which is what Dify's `\s`, `\S` and strip() use: U+0009-U+000D,
 * U+001C-U+0020, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F and U+3000.  Reads at most n bytes; nothing is retained. */
size_t rg_clean_space_len(const char *p, size_t n);

/* Dify's remove_leading_symbols followed by strip() (shared/reference 7.4),
 * applied to each chunk after its hash is taken: a leading run of the listed
 * ASCII punctuation and of U+2000-U+206F (but U+2026), U+2E00-U+2E7F,
 * U+3000-U+300F and U+3012-U+303F is removed, unless the chunk starts with a
 * Markdown link.  Returns a slice of s (borrowed, like s). */
rg_str rg_clean_leading_symbols(rg_str s);

#endif
