/*
 * openai.h - embedding models served by an OpenAI-compatible HTTP service
 * (OpenAI, Azure-style gateways, Ollama, vLLM, text-embeddings-inference,
 * LocalAI, Xinference...), registered under Dify's provider name
 * "openai_api_compatible".
 *
 * Configuration (src/core/config.h, --embed-openai-*): a base URL, an
 * optional Bearer key, the models as "name[:dims],...", texts per request,
 * requests in flight, a timeout and a retry count.
 *
 * Start-up.  The URL must be http:// or https:// with a host and no user
 * info, query or fragment; trailing slashes are dropped; a path that does not
 * end in /v1 is accepted with a warning (Gemini's /v1beta/openai, Zhipu's
 * /v4).  Each listed model becomes an rg_embed_model (name = label = the
 * service's model name; revision = the base URL, so the embedding cache never
 * mixes two services' vectors; context_size = OA_CONTEXT_CHARS code points).
 * The part after the last colon of a list entry is the dimension count only
 * when it is all digits, so Ollama tags stay in the name.  A model listed
 * without dimensions is probed once (the text "ragd", one attempt, at most
 * 10 s); when that fails start-up fails and the message says to give
 * NAME:DIMENSIONS.  Model and service structs are allocated once and never
 * freed (the registry keeps pointers to them).
 *
 * embed().  Texts longer than OA_CONTEXT_CHARS code points are cut at a
 * character boundary; empty texts are not sent (their row is the zero vector
 * - OpenAI refuses empty input); invalid UTF-8 fails with RG_EINVAL.  The rest
 * goes in requests of --embed-openai-batch texts:
 *     POST {url}/embeddings  {"model":NAME,"input":[...],"encoding_format":"float"}
 * with Content-Type: application/json and, when a key is set,
 * Authorization: Bearer KEY.  The response {"data":[{"embedding":[...],
 * "index":i},...]} is placed by "index" when present (else by position);
 * every text must get exactly one row of exactly dims finite numbers, else the
 * error names the problem ("the service returned 7 dimensions, the model is
 * configured with 8", "returned 3 embeddings for 4 texts", "malformed JSON").
 * Each row is L2-normalised here whatever the service did (zero stays zero).
 *
 * HTTP (libcurl, through the client shared with the rerank models, remote.h,
 * with the --embed-openai-* settings).  One connection per embed() call, so
 * no handle is shared between threads and the batches of one call reuse its
 * connection.  CURLOPT_NOSIGNAL; connect timeout min(10 s, timeout),
 * total timeout --embed-openai-timeout per attempt; http/https only; no
 * redirect is followed (a 3xx fails with the Location, so the key is never
 * sent to another host); the response body is limited to OA_MAX_RESPONSE
 * (64 MiB) decoded bytes by the write callback.  Requests in flight in the
 * whole process are bounded by a counting semaphore (--embed-openai-inflight);
 * a slot is held only while a request runs, not during backoff.
 *
 * Retries.  HTTP 429, any 5xx, a timeout and connection failures are retried
 * up to --embed-openai-retries times.  The delay honours Retry-After (delta
 * seconds or an HTTP-date, cut to 120 s); otherwise it is full jitter:
 * uniform in [0, min(30 s, 0.5 s * 2^retry)].  Each retry is logged at warn
 * level with the model, the status or curl's reason and the delay.  Other 4xx
 * answers, malformed or mismatched responses and a body over the limit fail
 * at once.  The final error is always RG_EUPSTREAM (so that callers answer
 * Dify's completion_request_error / end the document in error uniformly, a
 * timeout included) with one line carrying the HTTP status and the service's
 * own message, e.g. "HTTP 429 after 5 retries: Rate limit reached", or
 * "the request to URL timed out (60 s) after 5 retries".
 *
 * Secrets.  The key is only ever in the Authorization header; CURLOPT_VERBOSE
 * is never set, no log line or error shows headers, and any occurrence of the
 * key in a service's message is replaced by "***".
 *
 * Thread-safety: embed() may be called concurrently from any thread; it
 * shares only the read-only service settings and the semaphore.
 */
#ifndef RG_EMBED_OPENAI_H
#define RG_EMBED_OPENAI_H

#include "core/config.h"
#include "embed/embed.h"

/* Start-up (once, before any thread calls embed): registers each model of
 * c->openai_models (provider "openai_api_compatible") when c->openai_url is
 * set, probing those listed without dimensions.  Nothing configured: RG_OK.
 * On failure err (errlen bytes) names the setting and the reason: RG_EINVAL
 * for a bad URL or models list (or models without a URL), RG_EUPSTREAM when a
 * probe failed. c is borrowed; what is registered is never freed. */
RG_WUR rg_rc rg_openai_start(const rg_config *c, char *err, size_t errlen);

#endif
