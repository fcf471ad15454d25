/* plastix/clock.h -- the one monotonic clock every timing in plastix reads
 * (run times in manifests and tables, progress lines and their ETA). */
#ifndef PLASTIX_CLOCK_H
#define PLASTIX_CLOCK_H

/* Seconds on CLOCK_MONOTONIC: only differences are meaningful. */
double plx_clock_seconds(void);

#endif
