/*
 * bert.h - local BERT-family sentence encoders loaded from GGUF files.
 * (Being written: see the brief of the GGUF/BERT work.)
 */
#ifndef RG_EMBED_BERT_H
#define RG_EMBED_BERT_H

#include "embed/embed.h"

/* Start-up: opens every GGUF file of the comma-separated list paths (empty:
 * none), registers each as a model of provider "ragd" named after its file
 * (basename without ".gguf"), forward passes on threads threads (0 = one per
 * core).  On failure err names the file and the reason. */
RG_WUR rg_rc rg_bert_start(const char *paths, int threads, char *err, size_t errlen);

#endif
