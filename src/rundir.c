/* rundir.c -- run directories that appear only when complete, and the
 * environment block of their manifests. */
#include "config.h"
#include "plastix/rundir.h"
#include "plastix/error.h"

#include <cblas.h>
#include <cairo.h>
#include <errno.h>
#include <limits.h>
#include <gsl/gsl_version.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* OpenBLAS exposes its build configuration string. */
extern char *openblas_get_config(void);

struct plx_rundir {
  char final[2048];
  char tmp[2100];
  plx_h5 *h5;
  unsigned formats;
};

static int mkdir_p(const char *path)
{
  char buf[4096], *p;
  snprintf(buf, sizeof buf, "%s", path);
  for (p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
      *p = '/';
    }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST)
    return -1;
  return 0;
}

static int remove_tree(const char *path)
{
  DIR *d = opendir(path);
  struct dirent *e;
  if (!d)
    return remove(path);
  while ((e = readdir(d)) != NULL) {
    char sub[4096];
    struct stat sb;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
    if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
      remove_tree(sub);
    else
      remove(sub);
  }
  closedir(d);
  return rmdir(path);
}

int plx_rundir_not_input(const char *out, const char *const *inputs, size_t n, plx_error *err)
{
  char ro[PATH_MAX], ri[PATH_MAX];
  size_t i, len;
  if (!out || !realpath(out, ro))
    return PLX_OK; /* a new directory */
  len = strlen(ro);
  for (i = 0; i < n; i++)
    if (inputs[i] && inputs[i][0] && realpath(inputs[i], ri) && !strncmp(ri, ro, len) &&
        (ri[len] == '\0' || ri[len] == '/' || (len == 1 && ro[0] == '/')))
      return plx_error_set(err, PLX_EINVAL, "-o %s would replace %s, which this command "
                           "reads; choose another output directory", out, inputs[i]);
  return PLX_OK;
}

int plx_rundir_distinct(const char *const *runs, size_t n, plx_error *err)
{
  char a[PATH_MAX], b[PATH_MAX];
  size_t i, j;
  for (i = 0; i < n; i++) {
    if (!realpath(runs[i], a))
      continue; /* the reader names a missing run */
    for (j = i + 1; j < n; j++)
      if (realpath(runs[j], b) && !strcmp(a, b))
        return plx_error_set(err, PLX_EINVAL, "%s and %s are the same run directory: a "
                             "report over runs counts each run once", runs[i], runs[j]);
  }
  return PLX_OK;
}

int plx_rundir_open(plx_rundir **out, const char *path, unsigned fig_formats,
                    plx_error *err)
{
  plx_rundir *rd;
  struct stat sb;
  char sub[4200];
  int rc;
  *out = NULL;
  if (stat(path, &sb) == 0) {
    char man[4200];
    if (!S_ISDIR(sb.st_mode))
      return plx_error_set(err, PLX_EINVAL,
                           "%s: output path exists and is not a directory", path);
    snprintf(man, sizeof man, "%s/manifest.json", path);
    if (access(man, F_OK) != 0) {
      DIR *d = opendir(path);
      struct dirent *e;
      int empty = 1;
      while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
          empty = 0;
      if (d)
        closedir(d);
      if (!empty)
        return plx_error_set(err, PLX_EINVAL,
                             "%s: output directory exists and is not a plastix "
                             "run directory (no manifest.json); choose another -o",
                             path);
    }
  }
  rd = calloc(1, sizeof *rd);
  if (!rd)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  snprintf(rd->final, sizeof rd->final, "%s", path);
  snprintf(rd->tmp, sizeof rd->tmp, "%s.partial-%ld", path, (long)getpid());
  rd->formats = fig_formats;
  remove_tree(rd->tmp);
  if (mkdir_p(rd->tmp) != 0) {
    rc = plx_error_set(err, PLX_EIO, "%s: cannot create directory: %s", rd->tmp,
                       strerror(errno));
    free(rd);
    return rc;
  }
  snprintf(sub, sizeof sub, "%s/tables", rd->tmp);
  mkdir(sub, 0777);
  if (fig_formats) {
    snprintf(sub, sizeof sub, "%s/figures", rd->tmp);
    mkdir(sub, 0777);
  }
  snprintf(sub, sizeof sub, "%s/results.h5", rd->tmp);
  if ((rc = plx_h5_create(&rd->h5, sub, err))) {
    remove_tree(rd->tmp);
    free(rd);
    return rc;
  }
  *out = rd;
  return PLX_OK;
}

const char *plx_rundir_file(plx_rundir *rd, const char *rel, char *buf, size_t n)
{
  snprintf(buf, n, "%s/%s", rd->tmp, rel);
  return buf;
}

plx_h5 *plx_rundir_h5(plx_rundir *rd) { return rd->h5; }
unsigned plx_rundir_formats(const plx_rundir *rd) { return rd->formats; }
const char *plx_rundir_path(const plx_rundir *rd) { return rd->final; }

int plx_rundir_table(plx_rundir *rd, const char *name, const plx_table *t,
                     plx_error *err)
{
  char p[4400];
  snprintf(p, sizeof p, "%s/tables/%s.csv", rd->tmp, name);
  return plx_table_write_csv(t, p, err);
}

int plx_rundir_figure(plx_rundir *rd, const char *name, plx_figure *fig,
                      plx_error *err)
{
  char p[4400];
  if (!rd->formats)
    return PLX_OK;
  snprintf(p, sizeof p, "%s/figures/%s", rd->tmp, name);
  return plx_figure_save(fig, p, rd->formats, err);
}

int plx_rundir_copy(plx_rundir *rd, const char *src, const char *rel,
                    plx_error *err)
{
  char dst[4400], buf[65536];
  FILE *in, *out;
  size_t n;
  snprintf(dst, sizeof dst, "%s/%s", rd->tmp, rel);
  in = fopen(src, "rb");
  if (!in)
    return plx_error_set(err, PLX_EIO, "%s: cannot read: %s", src, strerror(errno));
  out = fopen(dst, "wb");
  if (!out) {
    fclose(in);
    return plx_error_set(err, PLX_EIO, "%s: cannot write: %s", dst, strerror(errno));
  }
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n) {
      fclose(in);
      fclose(out);
      return plx_error_set(err, PLX_EIO, "%s: write failed", dst);
    }
  fclose(in);
  if (fclose(out) != 0)
    return plx_error_set(err, PLX_EIO, "%s: write failed", dst);
  return PLX_OK;
}

int plx_rundir_commit(plx_rundir *rd, void (*body)(plx_jw *w, void *ctx),
                      void *ctx, plx_error *err)
{
  char man[4400], old[4200];
  FILE *f;
  plx_jw *w;
  struct stat sb;
  int rc = PLX_OK;
  plx_h5_close(rd->h5);
  rd->h5 = NULL;
  snprintf(man, sizeof man, "%s/manifest.json", rd->tmp);
  f = fopen(man, "w");
  if (!f) {
    rc = plx_error_set(err, PLX_EIO, "%s: cannot write: %s", man, strerror(errno));
    plx_rundir_abort(rd);
    return rc;
  }
  w = plx_jw_new(f);
  plx_jw_object_begin(w, NULL);
  if (body)
    body(w, ctx);
  plx_jw_bool(w, "complete", 1);
  plx_jw_object_end(w);
  plx_jw_free(w);
  fputc('\n', f);
  if (fclose(f) != 0) {
    rc = plx_error_set(err, PLX_EIO, "%s: write failed", man);
    plx_rundir_abort(rd);
    return rc;
  }
  /* swap into place: an older run at the same path goes only now */
  if (stat(rd->final, &sb) == 0) {
    snprintf(old, sizeof old, "%s.old-%ld", rd->final, (long)getpid());
    if (rename(rd->final, old) != 0) {
      rc = plx_error_set(err, PLX_EIO, "%s: cannot replace: %s", rd->final,
                         strerror(errno));
      plx_rundir_abort(rd);
      return rc;
    }
    if (rename(rd->tmp, rd->final) != 0) {
      rc = plx_error_set(err, PLX_EIO, "%s: cannot rename: %s", rd->tmp,
                         strerror(errno));
      rename(old, rd->final);
      plx_rundir_abort(rd);
      return rc;
    }
    remove_tree(old);
  } else if (rename(rd->tmp, rd->final) != 0) {
    rc = plx_error_set(err, PLX_EIO, "%s: cannot rename: %s", rd->tmp,
                       strerror(errno));
    plx_rundir_abort(rd);
    return rc;
  }
  free(rd);
  return PLX_OK;
}

void plx_rundir_abort(plx_rundir *rd)
{
  if (!rd)
    return;
  plx_h5_close(rd->h5);
  remove_tree(rd->tmp);
  free(rd);
}

static void cpu_model(char *buf, size_t n)
{
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[512];
  snprintf(buf, n, "unknown");
  if (!f)
    return;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "model name", 10) == 0) {
      char *c = strchr(line, ':');
      if (c) {
        c++;
        while (*c == ' ')
          c++;
        c[strcspn(c, "\n")] = '\0';
        snprintf(buf, n, "%s", c);
      }
      break;
    }
  fclose(f);
}

void plx_manifest_invocation(plx_jw *w, const char *command, const char *config,
                             const char *const *overrides, size_t n_overrides)
{
  size_t i;
  plx_jw_string(w, "command", command);
  plx_jw_string(w, "config", config);
  plx_jw_array_begin(w, "overrides");
  for (i = 0; i < n_overrides; i++)
    plx_jw_string(w, NULL, overrides[i]);
  plx_jw_array_end(w);
}

void plx_manifest_environment(plx_jw *w)
{
  struct utsname u;
  char cpu[256], ver[64];
  time_t now = time(NULL);
  char when[64];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  plx_jw_string(w, "plastix_version", PACKAGE_VERSION);
  plx_jw_string(w, "date", when);
  plx_jw_object_begin(w, "libraries");
  plx_jw_string(w, "gsl", GSL_VERSION);
  plx_jw_string(w, "openblas", openblas_get_config());
  snprintf(ver, sizeof ver, "%d.%d.%d", LIBCONFIG_VER_MAJOR, LIBCONFIG_VER_MINOR,
           LIBCONFIG_VER_REVISION);
  plx_jw_string(w, "libconfig", ver);
  plx_jw_string(w, "hdf5", plx_h5_version());
  plx_jw_string(w, "cairo", cairo_version_string());
#ifdef _OPENMP
  plx_jw_int(w, "openmp", _OPENMP);
#endif
  plx_jw_string(w, "compiler", "gcc " __VERSION__);
  plx_jw_object_end(w);
  plx_jw_object_begin(w, "host");
  if (uname(&u) == 0) {
    plx_jw_string(w, "system", u.sysname);
    plx_jw_string(w, "release", u.release);
    plx_jw_string(w, "machine", u.machine);
    plx_jw_string(w, "hostname", u.nodename);
  }
  cpu_model(cpu, sizeof cpu);
  plx_jw_string(w, "cpu", cpu);
  plx_jw_int(w, "cores", sysconf(_SC_NPROCESSORS_ONLN));
  plx_jw_object_end(w);
}

void plx_manifest_total_and_environment(plx_jw *w, double seconds)
{
  plx_jw_object_begin(w, "timings_seconds");
  plx_jw_number(w, "total", seconds);
  plx_jw_object_end(w);
  plx_manifest_environment(w);
}

unsigned plx_rundir_figure_formats(const plx_params *output)
{
  config_setting_t *fs = plx_params_setting(output, "figures");
  unsigned f = PLX_FIG_PNG;
  int i, n;
  if (!fs)
    return f;
  n = config_setting_length(fs);
  f = 0;
  for (i = 0; i < n; i++)
    f |= strcmp(config_setting_get_string(config_setting_get_elem(fs, (unsigned)i)), "svg") == 0
             ? PLX_FIG_SVG : PLX_FIG_PNG;
  return f;
}
