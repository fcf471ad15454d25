/* stream.c -- STREAM-like triad a[i] = b[i] + s c[i] on one core: the
 * memory bandwidth that bounds a plastix step once its weights and running
 * averages no longer fit in cache (bench/README.md, "Bandwidth bound").
 *
 *   stream [--mb MB] [--reps R]
 *
 * MB is the size of each of the three arrays (default 64: 192 MB in all,
 * far beyond any L3).  Prints the best of R repetitions in GB/s (10^9 B/s)
 * counted the STREAM way, 24 bytes per element (two reads, one write; the
 * write-allocate read a cache does on top is not counted), as
 *   RESULT stream mb=... bytes=... best_s=... gbs=...            */
#include "machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void triad(size_t n, double *restrict a, const double *restrict b,
                  const double *restrict c, double s)
{
  size_t i;
  for (i = 0; i < n; i++)
    a[i] = b[i] + s * c[i];
}

int main(int argc, char **argv)
{
  double mb = 64.0, best = 1e300, check = 0;
  int reps = 10, r, i;
  size_t n, k;
  double *a, *b, *c;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--mb") == 0 && i + 1 < argc)
      mb = atof(argv[++i]);
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
      reps = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: stream [--mb MB-per-array] [--reps R]\n");
      return 2;
    }
  }
  if (mb <= 0 || reps < 1) {
    fprintf(stderr, "stream: --mb must be > 0 and --reps >= 1\n");
    return 2;
  }
  n = (size_t)(mb * 1048576.0 / sizeof(double));
  if (n < 1024)
    n = 1024;
  a = aligned_alloc(64, ((n * sizeof(double) + 63) / 64) * 64);
  b = aligned_alloc(64, ((n * sizeof(double) + 63) / 64) * 64);
  c = aligned_alloc(64, ((n * sizeof(double) + 63) / 64) * 64);
  if (!a || !b || !c) {
    fprintf(stderr, "stream: out of memory (%g MB per array)\n", mb);
    return 1;
  }
  for (k = 0; k < n; k++) { /* touch every page before timing */
    a[k] = 0.0;
    b[k] = 1.0 + (double)(k & 7);
    c[k] = 0.5;
  }
  bench_print_machine(stdout, "stream");
  for (r = 0; r < reps; r++) {
    double t0 = now_s(), t;
    triad(n, a, b, c, 3.0 + r);
    t = now_s() - t0;
    check += a[n / 2];
    if (t < best)
      best = t;
  }
  printf("RESULT stream mb=%g bytes=%zu best_s=%.6f gbs=%.3f check=%g\n", mb,
         3 * n * sizeof(double), best, 3.0 * (double)n * sizeof(double) / best / 1e9,
         check);
  free(a);
  free(b);
  free(c);
  return 0;
}
