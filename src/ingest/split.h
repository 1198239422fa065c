/*
 * split.h - Dify's recursive character splitter, as pure functions.
 *
 * Lengths are Unicode code points ("characters"), as in Dify 1.13+, even where
 * Dify's API calls them max_tokens.  Every chunk is a slice of the input text:
 * stripped of surrounding white space, never empty, never longer than the
 * rule's max_chars, never cut inside a UTF-8 sequence.  Chunks come out in
 * text order; consecutive chunks may overlap (chunk_overlap).  No I/O, no
 * globals: safe from any thread, with one arena per thread.
 *
 * Ownership, for every function below: output arrays are allocated in the
 * caller's arena and live until it is freed; the rg_str slices in them point
 * into the caller's input text (not into the arena), so the text must outlive
 * them and must not change while they are in use.
 */
#ifndef RG_INGEST_SPLIT_H
#define RG_INGEST_SPLIT_H

#include "core/arena.h"
#include "core/common.h"
#include "core/str.h"

/* Hard maximum of chunks one call may produce (parents plus children for the
 * hierarchical split); past it the call fails with RG_ETOOBIG. */
#define RG_SPLIT_MAX_CHUNKS 1000000
/* Dify's index-time bounds on a user rule's max_tokens, and the default upper
 * one (INDEXING_MAX_SEGMENTATION_TOKENS_LENGTH). */
#define RG_SPLIT_MIN_CHARS     50
#define RG_SPLIT_DEFAULT_LIMIT 4000
/* The largest max_chars the splitter accepts at all (a sanity bound). */
#define RG_SPLIT_HARD_MAX_CHARS 1000000
/* Dify's AUTOMATIC_RULES segmentation. */
#define RG_SPLIT_AUTO_MAX_CHARS 500
#define RG_SPLIT_AUTO_OVERLAP   50

typedef enum rg_split_mode {
    RG_SPLIT_AUTOMATIC = 0, /* EnhanceRecursiveCharacterTextSplitter */
    RG_SPLIT_CUSTOM = 1,    /* FixedRecursiveCharacterTextSplitter (custom, hierarchical) */
} rg_split_mode;

/* One segmentation rule.  The separator is borrowed, must be valid UTF-8 and
 * already unescaped (rg_split_unescape_separator); it is used by custom mode
 * only, and an empty one means "no fixed separator" (the whole text is one
 * piece).  overlap must be smaller than max_chars. */
typedef struct rg_split_rule {
    rg_split_mode mode;
    rg_str separator;
    size_t max_chars; /* Dify's max_tokens, in code points */
    size_t overlap;   /* Dify's chunk_overlap, in code points */
} rg_split_rule;

typedef enum rg_split_parent_mode {
    RG_SPLIT_PARAGRAPH = 0, /* parents split by the parent rule */
    RG_SPLIT_FULL_DOC = 1,  /* the whole text is the one parent */
} rg_split_parent_mode;

/* A parent chunk and its children (all slices of the input text). */
typedef struct rg_split_parent {
    rg_str text;
    const rg_str *children; /* n_children slices, in the caller's arena */
    size_t n_children;
} rg_split_parent;

/* Returns Dify's automatic rule by value: max 500 characters, overlap 50. */
rg_split_rule rg_split_rule_automatic(void);

/* Dify's index-time validation of a user's custom or hierarchical rule: the
 * separator is valid UTF-8, RG_SPLIT_MIN_CHARS <= max_chars <= limit (pass
 * RG_SPLIT_DEFAULT_LIMIT unless configured otherwise; at most
 * RG_SPLIT_HARD_MAX_CHARS) and overlap < max_chars.  RG_EINVAL otherwise.
 * Reads the rule only. */
RG_WUR rg_rc rg_split_rule_check(const rg_split_rule *rule, size_t limit);

/* Decodes the escapes a user types into a separator field: "\\n" (newline),
 * "\\t", "\\r", "\\\\" (one backslash) and "\\uXXXX" (a BMP code point other
 * than NUL or a surrogate); any other backslash is kept as it is.  `in` must be
 * valid UTF-8.  *out is a new NUL-terminated string in the arena; it is never
 * longer than `in`.  RG_EINVAL for invalid UTF-8 or a malformed "\\u". */
RG_WUR rg_rc rg_split_unescape_separator(rg_arena *a, rg_str in, rg_str *out);

/* Splits valid UTF-8 `text` by `rule`.  *chunks is an array of *n_chunks
 * slices into `text`, allocated in the arena (NULL when there are none).
 * max_chunks caps the count (0 or anything larger means RG_SPLIT_MAX_CHUNKS).
 * RG_EINVAL for invalid UTF-8 or a rule with max_chars outside
 * 1..RG_SPLIT_HARD_MAX_CHARS or overlap >= max_chars (apply
 * rg_split_rule_check first to get Dify's tighter bounds); RG_ETOOBIG past the
 * cap; RG_ENOMEM when memory or the arena runs out.  Outputs are untouched on
 * error. */
RG_WUR rg_rc rg_split_text(rg_arena *a, rg_str text, const rg_split_rule *rule, size_t max_chunks,
                           rg_str **chunks, size_t *n_chunks);

/* Parent-child ("hierarchical") split.  RG_SPLIT_PARAGRAPH splits `text` into
 * parents by parent_rule; RG_SPLIT_FULL_DOC makes the whole (stripped) text
 * the one parent and ignores parent_rule (may be NULL).  Each parent is then
 * split into children by child_rule.  As in Dify, a parent or child starting
 * with '.' or '。' loses that character (and is stripped again; dropped if
 * nothing is left).  *parents is an array of *n_parents in the arena, each
 * with its children array in the arena, all slices of `text`; parents plus
 * children are capped by max_chunks as in rg_split_text.  Errors as
 * rg_split_text; outputs are untouched on error. */
RG_WUR rg_rc rg_split_hierarchical(rg_arena *a, rg_str text, rg_split_parent_mode mode,
                                   const rg_split_rule *parent_rule,
                                   const rg_split_rule *child_rule, size_t max_chunks,
                                   rg_split_parent **parents, size_t *n_parents);

#endif
