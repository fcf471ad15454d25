/* plastix/compare.h -- the comparison plastix exists for: the same prior,
 * circuit and seeds for each learning rule, every (rule, seed) trained and
 * probed independently, then per rule mean +- s.e.m. over seeds of the
 * preferred-stimulus density, population rate, learning curve, test error
 * by angle, sensitivity and Fisher information, and an efficient-coding
 * scorecard (how closely sqrt(FI) and the preferred-stimulus density
 * follow the stimulus density). */
#ifndef PLASTIX_COMPARE_H
#define PLASTIX_COMPARE_H

#include "plastix/protocol.h"
#include "plastix/rundir.h"

typedef struct plx_compare_opts {
  const char *config;
  const char *const *overrides;
  size_t n_overrides;
  const char *rules;   /* comma-separated subset of the config's rules, or NULL */
  long seeds;          /* 0: compare.seeds of the config                       */
  int threads;         /* (rule, seed) jobs run in parallel; <= 0: OpenMP's default */
  const char *out;     /* run directory (NULL: runs/<name>-compare)            */
  const plx_progress *prog;
  const char *command_line; /* for the manifest                                 */
  /* While the run directory is being written, *watch holds its handle (so
   * a signal handler can plx_rundir_abort it); NULL otherwise.  Optional. */
  plx_rundir *volatile *watch;
  char out_used[1200];      /* receives the run directory's path              */
} plx_compare_opts;

/* Run the comparison and write its run directory.  Results do not depend on
 * `threads`: jobs are independent and merged in (rule, seed) order. */
int plx_compare_run(plx_compare_opts *o, plx_error *err);

#endif
