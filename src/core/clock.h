/*
 * clock.h - time as ragd uses it: Unix seconds for the wire (Dify timestamps
 * are integer seconds), monotonic milliseconds for timeouts and latencies.
 */
#ifndef RG_CORE_CLOCK_H
#define RG_CORE_CLOCK_H

#include "core/common.h"

/* Wall-clock Unix time in whole seconds. */
int64_t rg_now_s(void);
/* Wall-clock Unix time in microseconds. */
int64_t rg_now_us(void);
/* Monotonic milliseconds since an arbitrary origin. */
int64_t rg_mono_ms(void);
/* Monotonic microseconds since the same origin (latencies). */
int64_t rg_mono_us(void);

#endif
