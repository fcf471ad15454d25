/* parallel.c -- the thread count of a loop over independent jobs
 * (plastix/parallel.h). */
#include "config.h"
#include "plastix/parallel.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int plx_team_size(int requested, size_t n_jobs)
{
  int nt = requested;
#ifdef _OPENMP
  if (nt <= 0)
    nt = omp_get_max_threads();
#else
  nt = 1;
#endif
  if (nt <= 0)
    nt = 1;
  if ((size_t)nt > n_jobs)
    nt = n_jobs ? (int)n_jobs : 1;
  return nt;
}
