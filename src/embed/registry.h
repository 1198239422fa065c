/*
 * registry.h - adding embedding models to the registry of embed.h at run time.
 *
 * embed.h is the read side (rg_embed_models / rg_embed_find / rg_embed_default)
 * and lists only what exists; this header is the write side, for engines whose
 * models are known only once ragd is configured (an OpenAI-compatible service,
 * GGUF files found on disk, GloVe tables).  Models are appended, never removed
 * or replaced, so a pointer handed out by the registry stays valid forever.
 */
#ifndef RG_EMBED_REGISTRY_H
#define RG_EMBED_REGISTRY_H

#include "embed/embed.h"

/* Built-in plus registered models the registry can hold. */
#define RG_EMBED_MAX_MODELS 64

/* Appends m to the registry.  The registry keeps the pointer, not a copy: m
 * and the strings it points to must stay valid and unchanged for the rest of
 * the process (static storage, or an allocation that is never freed - an
 * engine that needs configuration embeds rg_embed_model as the first member
 * of its own struct and recovers it in embed()).  RG_EINVAL when m is NULL or
 * has a NULL/empty provider or name, a NULL label or embed, or dims or
 * context_size <= 0; RG_ECONFLICT when (provider, name) is already registered;
 * RG_ENOMEM when RG_EMBED_MAX_MODELS are registered.  Thread-safe, and safe
 * against concurrent readers of embed.h's functions. */
RG_WUR rg_rc rg_embed_register(const rg_embed_model *m);

/* Makes m (a registered model, or NULL for the built-in hash model) what
 * rg_embed_default returns from now on: the model of new high_quality datasets
 * that name none; existing datasets keep theirs.  Meant for start-up (GloVe
 * when its table is present); readers see the change atomically. */
void rg_embed_set_default(const rg_embed_model *m);

#endif
