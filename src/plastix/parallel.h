/* plastix/parallel.h -- OpenMP loops over independent jobs (test-protocol
 * trial chunks, compare's (rule, seed) jobs, perceptual conditions,
 * natural-image networks): how many threads such a loop runs on.  Results
 * never depend on it; see doc/user-guide.md, "Threads". */
#ifndef PLASTIX_PARALLEL_H
#define PLASTIX_PARALLEL_H

#include <stddef.h>

/* The team for n_jobs independent jobs: `requested` threads, or OpenMP's
 * default when requested <= 0 (one without OpenMP), never more than there
 * are jobs, at least one. */
int plx_team_size(int requested, size_t n_jobs);

#endif
