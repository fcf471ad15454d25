/* plastix/progress.h -- the progress callback of long runs (the CLI draws
 * it as a line with ETA) and a counter that lets the threads of a parallel
 * loop share one progress line. */
#ifndef PLASTIX_PROGRESS_H
#define PLASTIX_PROGRESS_H

typedef struct plx_progress {
  /* called from the main thread only; frac in [0, 1] */
  void (*fn)(void *ctx, const char *stage, double frac);
  void *ctx;
} plx_progress;

/* Work done by the threads of an OpenMP loop, out of `total` units, shown
 * as one stage: every thread adds what it finished, the main thread
 * (thread 0 of the team) alone calls prog, so the callback need not be
 * thread-safe.  prog NULL or without fn: counted, not shown. */
typedef struct plx_progress_counter {
  const plx_progress *prog;
  const char *stage;
  long done, total;
} plx_progress_counter;

/* Add n finished units (from any thread) and, on the main thread, report
 * done / total. */
void plx_progress_add(plx_progress_counter *pc, long n);

#endif
