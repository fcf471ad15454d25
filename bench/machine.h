/* machine.h -- the machine a benchmark ran on, printed by every bench
 * program: CPU model, online cores, load average, the BLAS library loaded
 * into this process and its thread setting, the compiler. */
#ifndef PLX_BENCH_MACHINE_H
#define PLX_BENCH_MACHINE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* dladdr */
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void bench_cpu_model(char *buf, size_t n)
{
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  snprintf(buf, n, "unknown");
  if (!f)
    return;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model name", 10) == 0) {
      char *c = strchr(line, ':');
      if (c) {
        c++;
        while (*c == ' ' || *c == '\t')
          c++;
        c[strcspn(c, "\n")] = '\0';
        snprintf(buf, n, "%s", c);
      }
      break;
    }
  }
  fclose(f);
}

/* Shared objects mapped into this process whose name mentions "blas". */
static void bench_blas_loaded(char *buf, size_t n)
{
  FILE *f = fopen("/proc/self/maps", "r");
  char line[1024];
  size_t k = 0;
  buf[0] = '\0';
  if (!f) {
    snprintf(buf, n, "unknown");
    return;
  }
  while (fgets(line, sizeof line, f)) {
    char *p = strchr(line, '/');
    if (!p || !strstr(p, "blas"))
      continue;
    p[strcspn(p, "\n")] = '\0';
    if (strstr(buf, p))
      continue;
    k += (size_t)snprintf(buf + k, k < n ? n - k : 0, "%s%s", k ? ", " : "", p);
  }
  fclose(f);
  if (!buf[0])
    snprintf(buf, n, "none mapped");
}

/* The library the process-wide symbol `name` (e.g. cblas_dgemm) resolves
 * to: what libplastix's BLAS calls actually run, whatever else is mapped. */
static const char *bench_provider(const char *name)
{
  Dl_info info;
  void *sym = dlsym(RTLD_DEFAULT, name);
  if (!sym)
    return "(not loaded)";
  if (!dladdr(sym, &info) || !info.dli_fname)
    return "(unknown)";
  return info.dli_fname;
}

static void bench_print_machine(FILE *out, const char *who)
{
  char cpu[256], blas[1024];
  double la[3] = {0, 0, 0};
  const char *obt = getenv("OPENBLAS_NUM_THREADS");
  const char *omp = getenv("OMP_NUM_THREADS");
  bench_cpu_model(cpu, sizeof cpu);
  bench_blas_loaded(blas, sizeof blas);
  if (getloadavg(la, 3) < 0)
    la[0] = la[1] = la[2] = -1;
  fprintf(out, "# %s: machine: cpu=\"%s\" cores=%ld load=%.2f,%.2f,%.2f\n", who,
          cpu, sysconf(_SC_NPROCESSORS_ONLN), la[0], la[1], la[2]);
  fprintf(out, "# %s: blas mapped=%s OPENBLAS_NUM_THREADS=%s OMP_NUM_THREADS=%s\n",
          who, blas, obt ? obt : "(unset)", omp ? omp : "(unset)");
  fprintf(out, "# %s: blas in use: cblas_dgemm from %s, cblas_dgemv from %s\n", who,
          bench_provider("cblas_dgemm"), bench_provider("cblas_dgemv"));
#if defined(__GNUC__) && !defined(__clang__)
  fprintf(out, "# %s: compiler=gcc %d.%d.%d\n", who, __GNUC__, __GNUC_MINOR__,
          __GNUC_PATCHLEVEL__);
#endif
}

#endif
