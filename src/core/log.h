/*
 * log.h - leveled logging to stderr, one line per event, safe from any thread.
 * Secrets (API keys, provider keys) are never passed to these functions.
 */
#ifndef RG_CORE_LOG_H
#define RG_CORE_LOG_H

#include "core/common.h"

typedef enum { RG_LOG_DEBUG, RG_LOG_INFO, RG_LOG_WARN, RG_LOG_ERROR, RG_LOG_OFF } rg_log_level;

/* Sets the lowest level that is printed (default RG_LOG_INFO). */
void rg_log_set_level(rg_log_level lvl);
/* Parses "debug", "info", "warn" or "error"; RG_EINVAL otherwise. */
RG_WUR rg_rc rg_log_parse_level(const char *z, rg_log_level *out);
/* Prints one line: UTC time, level, message. */
void rg_log(rg_log_level lvl, const char *fmt, ...) RG_PRINTF(2, 3);

#define rg_debug(...) rg_log(RG_LOG_DEBUG, __VA_ARGS__)
#define rg_info(...)  rg_log(RG_LOG_INFO, __VA_ARGS__)
#define rg_warn(...)  rg_log(RG_LOG_WARN, __VA_ARGS__)
#define rg_error(...) rg_log(RG_LOG_ERROR, __VA_ARGS__)

#endif
