/*
 * registry.c - the registry of embedding models behind embed.h.
 *
 * A fixed array of model pointers: the built-ins are in its static
 * initialiser (append new built-in engines - GloVe, GGUF BERT - there, after
 * the hash model, which stays first and is the default unless
 * rg_embed_set_default names another - GloVe when its table is found), and models
 * configured at run time (OpenAI-compatible endpoints...) are appended by
 * rg_embed_register (registry.h).  Slots are only ever appended and never
 * changed once published, so readers take no lock: a writer fills the next
 * slot under the mutex and then publishes the new count with a release store,
 * which readers load with acquire.  Lookup is a linear scan; the table holds
 * tens of models, not thousands.
 */
#include "embed/registry.h"

#include "embed/hash_embed.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const rg_embed_model *models[RG_EMBED_MAX_MODELS] = {
    &rg_hash_embed_model, /* the default: keep first */
};
static _Atomic size_t n_models = 1; /* number of leading non-NULL entries above */
static pthread_mutex_t register_lock = PTHREAD_MUTEX_INITIALIZER;
static const rg_embed_model *_Atomic default_model; /* NULL: the hash model */

size_t rg_embed_models(const rg_embed_model *const **out)
{
    size_t n = atomic_load_explicit(&n_models, memory_order_acquire);
    if (out)
        *out = models;
    return n;
}

/* Looks (provider, name) up among the first n models. */
static const rg_embed_model *find_in(size_t n, const char *provider, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(models[i]->provider, provider) == 0 && strcmp(models[i]->name, name) == 0)
            return models[i];
    return NULL;
}

const rg_embed_model *rg_embed_find(const char *provider, const char *name)
{
    if (!provider || !name)
        return NULL;
    return find_in(atomic_load_explicit(&n_models, memory_order_acquire), provider, name);
}

const rg_embed_model *rg_embed_default(void)
{
    const rg_embed_model *m = atomic_load_explicit(&default_model, memory_order_acquire);
    return m ? m : &rg_hash_embed_model;
}

void rg_embed_set_default(const rg_embed_model *m)
{
    atomic_store_explicit(&default_model, m, memory_order_release);
}

rg_rc rg_embed_register(const rg_embed_model *m)
{
    if (!m || !m->provider || !*m->provider || !m->name || !*m->name || !m->label || !m->embed ||
        m->dims <= 0 || m->context_size <= 0)
        return RG_EINVAL;
    rg_rc rc = RG_OK;
    pthread_mutex_lock(&register_lock);
    size_t n = atomic_load_explicit(&n_models, memory_order_relaxed);
    if (find_in(n, m->provider, m->name))
        rc = RG_ECONFLICT;
    else if (n == RG_EMBED_MAX_MODELS)
        rc = RG_ENOMEM;
    else {
        models[n] = m;
        atomic_store_explicit(&n_models, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&register_lock);
    return rc;
}

rg_rc rg_embed_fail(char *err, rg_rc rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, RG_EMBED_ERR_MAX, fmt, ap);
        va_end(ap);
    }
    return rc;
}

const char *rg_embed_cache_key(const rg_embed_model *m, char *out, size_t n)
{
    snprintf(out, n, "%s/%s@%s#%d", m->provider, m->name, m->revision ? m->revision : "", m->dims);
    return out;
}
