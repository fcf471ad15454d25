/* clock.c -- the monotonic clock behind every timing in plastix (see
 * plastix/clock.h). */
#include "config.h"
#include "plastix/clock.h"

#include <time.h>

double plx_clock_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
