/* blas_threads.c -- OpenBLAS pinned to one thread while library entry
 * points run, and the caller's thread count restored afterwards (see
 * plastix/blas_threads.h for why). */
#include "config.h"
#include "plastix/blas_threads.h"

#include <pthread.h>

/* OpenBLAS's own controls (in its cblas.h, which is not the one every
 * system puts first on the include path) */
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int depth;       /* entries not yet left */
static int saved = 1;   /* the caller's thread count before the first entry */

void plx_blas_serial_enter(void)
{
  pthread_mutex_lock(&lock);
  if (depth++ == 0) {
    saved = openblas_get_num_threads();
    if (saved != 1)
      openblas_set_num_threads(1);
  }
  pthread_mutex_unlock(&lock);
}

void plx_blas_serial_leave(void)
{
  pthread_mutex_lock(&lock);
  if (depth > 0 && --depth == 0 && saved != 1)
    openblas_set_num_threads(saved);
  pthread_mutex_unlock(&lock);
}
