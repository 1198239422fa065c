/*
 * tokenize.h - words out of text, for keywords and full-text terms.
 *
 * One tokenizer serves indexing and querying so that both see the same
 * terms.  Latin-script and other space-delimited text: runs of letters and
 * digits, ASCII lower-cased, English stop words dropped, tokens of one ASCII
 * character dropped.  Chinese, Japanese kana/kanji and Korean syllables, which
 * have no spaces: overlapping character bigrams (a lone character becomes a
 * unigram), the classic CJK analyzer, so Chinese text is searchable without a
 * dictionary.  (Issue 4 adds Unicode case folding, stemming and dictionary
 * segmentation behind this same interface.)
 */
#ifndef RG_TEXT_TOKENIZE_H
#define RG_TEXT_TOKENIZE_H

#include "core/arena.h"
#include "core/common.h"
#include "core/str.h"

#define RG_TOKEN_MAX_BYTES 64 /* longer words are cut (at a code point boundary) */

/* Calls fn(token, arg) for each token of valid UTF-8 text, in text order.
 * The token slice points into a scratch buffer valid only during the call. */
void rg_tokenize(rg_str text, void (*fn)(rg_str token, void *arg), void *arg);
/* True for an English stop word (ASCII lower case). */
bool rg_is_stopword(rg_str word);

#endif
