/*
 * glove.h - ragd's built-in GloVe sentence embedder over a memory-mapped
 * word-vector table (the "RGGLOVE1" file that tools/glove-convert writes).
 *
 * A table is opened read-only with mmap, validated completely before use (a
 * truncated or hostile file is refused with a message, never read out of
 * bounds) and becomes one rg_embed_model of provider "ragd" named
 * "ragd-glove-<dims>d".  The sentence vector is the smooth-inverse-frequency
 * average of Arora et al. (2017) with the file's common component removed;
 * glove.c documents the tokenizer and the weights.
 */
#ifndef RG_EMBED_GLOVE_H
#define RG_EMBED_GLOVE_H

#include "embed/embed.h"

typedef struct rg_glove rg_glove;

/* Maps and validates the table at path.  On success *out owns the mapping
 * (rg_glove_close); on failure *out is NULL, err holds a one-line reason and
 * the result is RG_EIO (cannot open or map), RG_EINVAL (not a valid table) or
 * RG_ENOMEM (no memory for the in-memory word table). */
RG_WUR rg_rc rg_glove_open(const char *path, rg_glove **out, char *err, size_t errlen);
/* Unmaps and frees g (NULL is fine).  Never for a table that was registered. */
void rg_glove_close(rg_glove *g);
/* The model of g, valid as long as g; its embed() is thread-safe. */
const rg_embed_model *rg_glove_model(const rg_glove *g);
/* The id (frequency rank) of the word of n bytes at w, exactly as stored
 * (lower case), or -1 when it is not in the table. */
long rg_glove_lookup(const rg_glove *g, const char *w, size_t n);

/* Start-up: finds the table (RAGD_GLOVE_PATH when set - the empty string
 * turns GloVe off - else models/glove-100d.bin next to the executable, then
 * ../models/ next to it, then ./build/models/), opens it, registers its model
 * and makes it the default for new high_quality datasets.  Logs what it did;
 * returns the model, or NULL when no usable table was found (ragd then keeps
 * the hash embedder as the default).  Call once, before serving. */
const rg_embed_model *rg_glove_start(void);

#endif
