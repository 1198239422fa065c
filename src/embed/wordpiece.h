/*
 * wordpiece.h - BERT's tokenizer: the basic pre-tokenizer (clean-up, CJK
 * characters apart, punctuation apart, optional lower-casing with accents
 * stripped) and WordPiece (greedy longest match first) over a vocabulary
 * as a GGUF file stores it.
 *
 * llama.cpp's converter stores BERT vocabularies in "phantom space" form:
 * a word-initial piece carries a leading U+2581 ("▁the"), a continuation
 * piece is bare ("ing" for "##ing"), and special tokens ("[CLS]") are kept
 * as they are.  The vocabulary is given as that form; plain "##" form
 * (vocab.txt) is accepted too (rg_wordpiece_opts.phantom false).
 *
 * Lower-casing: llama.cpp's GGUF has no key for it (its tokenizer always
 * lower-cases).  ragd's rule for a GGUF file: the bool "ragd.tokenizer.
 * lowercase" when present (tools/gguf-tiny-bert writes it); otherwise
 * lower-case unless rg_wordpiece_vocab_cased() finds the vocabulary cased,
 * which a converted uncased model (bert-base-uncased, MiniLM, BGE) is not and
 * a cased one (bert-base-cased: "\u2581The") is.
 */
#ifndef RG_EMBED_WORDPIECE_H
#define RG_EMBED_WORDPIECE_H

#include "core/common.h"
#include "core/str.h"

typedef struct rg_wordpiece rg_wordpiece;

typedef struct rg_wordpiece_opts {
    bool lowercase;        /* uncased models: lower-case and strip accents (NFD, drop Mn) */
    bool phantom;          /* vocabulary in llama.cpp's U+2581 form (else "##" form) */
    int32_t cls, sep, unk; /* token ids; -1: look up "[CLS]", "[SEP]", "[UNK]" */
} rg_wordpiece_opts;

/* Builds a tokenizer over vocab[0..n) (the strings are copied).  RG_EINVAL
 * with err set when a special token is missing or an id is out of range. */
RG_WUR rg_rc rg_wordpiece_new(const rg_str *vocab, size_t n, const rg_wordpiece_opts *o,
                              rg_wordpiece **out, char *err, size_t errlen);
/* Frees wp; NULL is fine. */
void rg_wordpiece_free(rg_wordpiece *wp);
/* True when some token other than a bracketed special ("[CLS]") holds an
 * ASCII capital letter: the vocabulary of a cased model.  vocab borrowed. */
bool rg_wordpiece_vocab_cased(const rg_str *vocab, size_t n);
/* Token ids of text into ids: [CLS], the pieces, [SEP]; at most max ids
 * (max >= 2; a smaller max gives 0), pieces past max - 2 dropped (the
 * model's window).  Returns the count.  Invalid UTF-8 bytes are skipped.
 * Thread-safe: wp is only read; about 9 KiB of stack. */
size_t rg_wordpiece_encode(const rg_wordpiece *wp, rg_str text, int32_t *ids, size_t max);

#endif
