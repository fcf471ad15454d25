/* progress.c -- a progress counter shared by the threads of a parallel
 * loop (plastix/progress.h). */
#include "config.h"
#include "plastix/progress.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void plx_progress_add(plx_progress_counter *pc, long n)
{
  long d;
#pragma omp atomic
  pc->done += n;
#pragma omp atomic read
  d = pc->done;
#ifdef _OPENMP
  if (omp_get_thread_num() != 0)
    return;
#endif
  if (pc->prog && pc->prog->fn && pc->total > 0)
    pc->prog->fn(pc->prog->ctx, pc->stage, (double)d / (double)pc->total);
}
