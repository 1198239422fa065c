/*
 * bert.h - local BERT-family sentence encoders loaded from GGUF files.
 *
 * Accepted files: GGUF as llama.cpp's converter writes BERT-family encoders
 * (all-MiniLM-L6-v2, bge-small/base-en-v1.5, e5-small-v2...):
 * general.architecture "bert"; bert.embedding_length, feed_forward_length,
 * block_count, attention.head_count, context_length and
 * attention.layer_norm_epsilon; bert.pooling_type 1 (mean over the tokens)
 * or 2 (CLS; absent: mean); not causal; a WordPiece vocabulary
 * (tokenizer.ggml.tokens in llama.cpp's U+2581 "phantom space" form, special
 * ids from tokenizer.ggml.cls_token_id / seperator_token_id /
 * unknown_token_id, else looked up as "[CLS]", "[SEP]", "[UNK]"; lower-cased
 * when the vocabulary has no upper-case ASCII letter outside its bracketed
 * special tokens); the tensors token_embd, token_types, position_embd,
 * token_embd_norm and per layer attn_q/k/v, attn_output, attn_output_norm,
 * ffn_up, ffn_down, layer_output_norm (weights and biases) in F32, F16 or
 * Q8_0, each checked for presence, type and shape at start-up.  A file that
 * fails any check stops start-up with "PATH: what is wrong".
 *
 * Model: provider "ragd", name = the file's basename without ".gguf", dims =
 * the hidden size, context_size = 8 characters per token of the window
 * (informational: the window is counted in tokens - a text is cut after
 * context_length - 2 pieces, [SEP] kept last), revision = the first 16 hex
 * digits of the SHA-256 of the whole file (read once at start-up).  A text
 * with no WordPiece piece (empty, blanks) embeds as the zero vector.
 *
 * Memory: every weight is widened to float32 at load, ~4 bytes per parameter
 * (MiniLM-L6: 22.7 M parameters, 91 MB, whatever the file's type); the file
 * is unmapped after load.  One embed() call additionally allocates
 * min(its tokens, 2048) x (5 hidden + ffn) floats of scratch (at most 28 MB
 * for MiniLM; a 10-token query 140 KB), its longest sequence squared floats,
 * and context_length int32 per text.
 *
 * Threads: matrix products run on OpenBLAS with `threads` threads (0 = one
 * per online core), a process-wide setting.  embed() is thread-safe:
 * concurrent calls tokenize and pool in parallel, and run their forward
 * passes one batch (at most BERT_BATCH_TOKENS tokens) at a time under a
 * process-wide lock, so they interleave and never oversubscribe the cores.
 */
#ifndef RG_EMBED_BERT_H
#define RG_EMBED_BERT_H

#include "embed/embed.h"

/* Start-up: opens every GGUF file of the comma-separated list paths (empty:
 * none), registers each as a model of provider "ragd" named after its file
 * (basename without ".gguf"), forward passes on threads threads (0 = one per
 * core).  On failure err names the file and the reason and nothing of that
 * file stays allocated (models already registered stay). */
RG_WUR rg_rc rg_bert_start(const char *paths, int threads, char *err, size_t errlen);

/* A BERT model's hyper-parameters (for benchmarks and diagnostics). */
typedef struct rg_bert_shape {
    size_t hidden, ffn, layers, heads, ctx; /* ctx: the window, in tokens */
} rg_bert_shape;

/* Fills *out and returns true when m was registered by rg_bert_start;
 * false for any other model. */
bool rg_bert_shape_of(const rg_embed_model *m, rg_bert_shape *out);
/* Tokens the BERT model m feeds its encoder for text ([CLS] and [SEP]
 * included, at most the window); 0 when m is not a BERT model or on ENOMEM. */
size_t rg_bert_tokens(const rg_embed_model *m, rg_str text);

#endif
