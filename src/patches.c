/* patches.c -- random patches of greyscale images (photographs or
 * synthetic power-law images), their per-pixel mean and covariance (BLAS
 * dsyrk over centred chunks), and the HDF5 cache that lets a second run
 * skip the cutting. */
#include "config.h"
#include "plastix/patches.h"
#include "plastix/clock.h"
#include "plastix/error.h"
#include "plastix/images.h"
#include "plastix/rng.h"

#include <cblas.h>
#include <errno.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COV_CHUNK 512
#define CACHE_FORMAT "plastix-patches 1"

static void progress(const plx_progress *prog, const char *stage, double frac)
{
  if (prog && prog->fn)
    prog->fn(prog->ctx, stage, frac);
}

void plx_patches_free(plx_patches *p)
{
  if (!p)
    return;
  free(p->x);
  free(p->mean);
  free(p->cov);
  free(p);
}

void plx_patches_default_cache_dir(char *buf, size_t n)
{
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  if (xdg && xdg[0] == '/')
    snprintf(buf, n, "%s/plastix", xdg);
  else if (home && home[0])
    snprintf(buf, n, "%s/.cache/plastix", home);
  else if (n)
    buf[0] = '\0';
}

/* ----------------------------------------------------------- the key */

typedef struct sbuf {
  char *s;
  size_t n, cap;
} sbuf;

static int sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int sb_printf(sbuf *b, const char *fmt, ...)
{
  va_list ap;
  int k;
  for (;;) {
    size_t room = b->cap - b->n;
    va_start(ap, fmt);
    k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? room : 0, fmt, ap);
    va_end(ap);
    if (k < 0)
      return PLX_EINVAL;
    if (b->s && (size_t)k < room) {
      b->n += (size_t)k;
      return PLX_OK;
    }
    {
      size_t nc = b->cap ? 2 * b->cap : 1024;
      char *ns;
      while (nc < b->n + (size_t)k + 1)
        nc *= 2;
      ns = realloc(b->s, nc);
      if (!ns)
        return PLX_ENOMEM;
      b->s = ns;
      b->cap = nc;
    }
  }
}

static uint64_t fnv1a(const char *s)
{
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

static int make_key(const plx_patch_spec *sp, sbuf *b)
{
  size_t i;
  int rc = sb_printf(b, "%s\nside=%zu\ncount=%zu\nseed=%llu\n", CACHE_FORMAT,
                     sp->side, sp->count, (unsigned long long)sp->seed);
  if (rc)
    return rc;
  if (sp->synthetic)
    return sb_printf(b, "source=synthetic\nimages=%zu\nimage_side=%zu\nalpha=%.17g\n",
                     sp->synth_images, sp->synth_side, sp->synth_alpha);
  if ((rc = sb_printf(b, "source=photos\ndownsample=%u\n", sp->downsample)))
    return rc;
  for (i = 0; i < sp->n_files; i++) {
    struct stat st;
    long long size = -1, mtime = -1;
    if (stat(sp->files[i], &st) == 0) {
      size = (long long)st.st_size;
      mtime = (long long)st.st_mtime;
    }
    if ((rc = sb_printf(b, "file=%s|%lld|%lld\n", sp->files[i], size, mtime)))
      return rc;
  }
  return PLX_OK;
}

/* ------------------------------------------------------------ cutting */

static int load_images(plx_patch_spec *sp, plx_image *im, size_t ni,
                       const plx_progress *prog, plx_error *err)
{
  size_t i;
  int rc;
  for (i = 0; i < ni; i++) {
    if (sp->synthetic) {
      plx_rng *r = plx_rng_alloc(sp->seed, i, PLX_POP_SUB(PLX_POP_DATA, 2));
      if (!r)
        return plx_error_set(err, PLX_ENOMEM, "out of memory");
      rc = plx_image_synthetic(&im[i], sp->synth_side, sp->synth_alpha, r, err);
      plx_rng_free(r);
    } else {
      rc = plx_image_read(&im[i], sp->files[i], sp->downsample, err);
    }
    if (rc) {
      sp->failed_file = sp->synthetic ? (size_t)-1 : i;
      return rc;
    }
    if (im[i].w < sp->side || im[i].h < sp->side) {
      sp->failed_fit = 1;
      if (!sp->synthetic)
        sp->failed_file = i;
      if (sp->synthetic)
        return plx_error_set(err, PLX_EINVAL,
                             "synthetic images of %zux%zu pixels cannot hold a "
                             "%zux%zu patch", im[i].w, im[i].h, sp->side, sp->side);
      return plx_error_set(err, PLX_EINVAL,
                           "%s: %zux%zu pixels (after %ux downsampling) cannot "
                           "hold a %zux%zu patch", sp->files[i], im[i].w, im[i].h,
                           sp->downsample, sp->side, sp->side);
    }
    progress(prog, "images", (double)(i + 1) / (double)ni);
  }
  return PLX_OK;
}

static int cut(plx_patches *p, plx_patch_spec *sp, const plx_progress *prog,
               plx_error *err)
{
  size_t ni = sp->synthetic ? sp->synth_images : sp->n_files, i, k;
  const size_t P = sp->side;
  plx_image *im = calloc(ni ? ni : 1, sizeof *im);
  uint64_t *cum = calloc(ni + 1, sizeof *cum);
  plx_rng *r = plx_rng_alloc(sp->seed, 0, PLX_POP_DATA);
  int rc = PLX_OK;
  if (!im || !cum || !r) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  if (ni == 0) {
    rc = plx_error_set(err, PLX_EINVAL, "no images to cut patches from");
    goto done;
  }
  if ((rc = load_images(sp, im, ni, prog, err)))
    goto done;
  for (i = 0; i < ni; i++)
    cum[i + 1] = cum[i] + (uint64_t)(im[i].w - P + 1) * (uint64_t)(im[i].h - P + 1);
  p->scale = im[0].scale;
  p->n_images = ni;
  for (k = 0; k < p->n; k++) {
    uint64_t pos = plx_rng_below(r, cum[ni]);
    size_t lo = 0, hi = ni, x0, y0, rr, vw;
    uint16_t *dst = p->x + k * p->d;
    while (hi - lo > 1) { /* cum[lo] <= pos < cum[hi] */
      size_t mid = (lo + hi) / 2;
      if (cum[mid] <= pos)
        lo = mid;
      else
        hi = mid;
    }
    pos -= cum[lo];
    vw = im[lo].w - P + 1;
    y0 = (size_t)(pos / vw);
    x0 = (size_t)(pos % vw);
    for (rr = 0; rr < P; rr++)
      memcpy(dst + rr * P, im[lo].sum + (y0 + rr) * im[lo].w + x0, P * sizeof *dst);
    if ((k & 4095) == 4095)
      progress(prog, "patches", (double)(k + 1) / (double)p->n);
  }
  progress(prog, "patches", 1.0);
done:
  if (im)
    for (i = 0; i < ni; i++)
      plx_image_release(&im[i]);
  free(im);
  free(cum);
  plx_rng_free(r);
  return rc;
}

/* --------------------------------------------------- mean, covariance */

/* Patches idx[first + j] (or first + j without idx), j < m, centred. */
static void centred_range(const plx_patches *p, const size_t *idx,
                          size_t first, size_t m, double *X)
{
  size_t j, i;
  const size_t d = p->d;
  for (j = 0; j < m; j++) {
    const uint16_t *src = p->x + (idx ? idx[first + j] : first + j) * d;
    double *dst = X + j * d;
    for (i = 0; i < d; i++)
      dst[i] = (double)src[i] * p->scale - p->mean[i];
  }
}

void plx_patches_centred(const plx_patches *p, const size_t *idx, size_t m,
                         double *X)
{
  centred_range(p, idx, 0, m, X);
}

static void symmetrise(double *S, size_t d, double f)
{
  size_t i, j;
  for (j = 0; j < d; j++) {
    for (i = 0; i < j; i++) {
      S[i + j * d] *= f;
      S[j + i * d] = S[i + j * d];
    }
    S[j + j * d] *= f;
  }
}

void plx_patches_batch_cov(const plx_patches *p, const size_t *idx, size_t m,
                           double *S, double *work, size_t chunk)
{
  size_t j0;
  const size_t d = p->d;
  memset(S, 0, d * d * sizeof *S);
  for (j0 = 0; j0 < m; j0 += chunk) {
    size_t mm = m - j0 < chunk ? m - j0 : chunk;
    centred_range(p, idx, j0, mm, work);
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)d, (int)mm, 1.0,
                work, (int)d, 1.0, S, (int)d);
  }
  symmetrise(S, d, m ? 1.0 / (double)m : 0.0);
}

static int reduce(plx_patches *p, const plx_progress *prog, plx_error *err)
{
  const size_t d = p->d, n = p->n;
  uint64_t *acc = calloc(d, sizeof *acc);
  double *work = malloc(d * COV_CHUNK * sizeof *work);
  size_t i, k, j0;
  if (!acc || !work) {
    free(acc);
    free(work);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (k = 0; k < n; k++) /* exact integer sums */
    for (i = 0; i < d; i++)
      acc[i] += p->x[k * d + i];
  for (i = 0; i < d; i++)
    p->mean[i] = (double)acc[i] / (double)n * p->scale;
  memset(p->cov, 0, d * d * sizeof *p->cov);
  for (j0 = 0; j0 < n; j0 += COV_CHUNK) {
    size_t mm = n - j0 < COV_CHUNK ? n - j0 : COV_CHUNK;
    centred_range(p, NULL, j0, mm, work);
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, (int)d, (int)mm, 1.0,
                work, (int)d, 1.0, p->cov, (int)d);
    if (((j0 / COV_CHUNK) & 7) == 7)
      progress(prog, "covariance", (double)(j0 + mm) / (double)n);
  }
  symmetrise(p->cov, d, 1.0 / (double)n);
  progress(prog, "covariance", 1.0);
  free(acc);
  free(work);
  return PLX_OK;
}

/* -------------------------------------------------------------- cache */

static int attr_string(hid_t obj, const char *name, const char *value)
{
  hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = -1;
  int ok = t >= 0 && sp >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
           H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
           (a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
           H5Awrite(a, t, &value) >= 0;
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  return ok ? 0 : -1;
}

static char *read_attr_string(hid_t obj, const char *name)
{
  hid_t a, t, mt;
  char *v = NULL, *copy = NULL;
  if (H5Aexists(obj, name) <= 0 || (a = H5Aopen(obj, name, H5P_DEFAULT)) < 0)
    return NULL;
  t = H5Aget_type(a);
  mt = H5Tcopy(H5T_C_S1);
  H5Tset_size(mt, H5T_VARIABLE);
  H5Tset_cset(mt, H5T_CSET_UTF8);
  if (t >= 0 && H5Tis_variable_str(t) > 0 && H5Aread(a, mt, &v) >= 0 && v) {
    copy = malloc(strlen(v) + 1);
    if (copy)
      strcpy(copy, v);
    H5free_memory(v);
  }
  H5Tclose(mt);
  if (t >= 0)
    H5Tclose(t);
  H5Aclose(a);
  return copy;
}

static int attr_double(hid_t obj, const char *name, double v)
{
  hid_t sp = H5Screate(H5S_SCALAR), a = -1;
  int ok = sp >= 0 &&
           (a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
           H5Awrite(a, H5T_NATIVE_DOUBLE, &v) >= 0;
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  return ok ? 0 : -1;
}

static int read_attr_double(hid_t obj, const char *name, double *v)
{
  hid_t a;
  int ok;
  if (H5Aexists(obj, name) <= 0 || (a = H5Aopen(obj, name, H5P_DEFAULT)) < 0)
    return -1;
  ok = H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0;
  H5Aclose(a);
  return ok ? 0 : -1;
}

static int write_ds(hid_t f, const char *name, hid_t ftype, hid_t mtype,
                    int rank, const hsize_t *dims, const hsize_t *chunk,
                    const void *data)
{
  hid_t sp = H5Screate_simple(rank, dims, NULL), pl = H5Pcreate(H5P_DATASET_CREATE), ds = -1;
  int ok = sp >= 0 && pl >= 0;
  if (ok && chunk)
    ok = H5Pset_chunk(pl, rank, chunk) >= 0 && H5Pset_shuffle(pl) >= 0 &&
         H5Pset_deflate(pl, 1) >= 0;
  ok = ok && (ds = H5Dcreate2(f, name, ftype, sp, H5P_DEFAULT, pl, H5P_DEFAULT)) >= 0 &&
       H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
  if (ds >= 0) H5Dclose(ds);
  if (pl >= 0) H5Pclose(pl);
  if (sp >= 0) H5Sclose(sp);
  return ok ? 0 : -1;
}

/* Read dataset `name` of exactly `count` elements into buf. */
static int read_ds(hid_t f, const char *name, hid_t mtype, size_t count,
                   void *buf)
{
  hid_t ds, sp;
  hssize_t np;
  int ok;
  if (H5Lexists(f, name, H5P_DEFAULT) <= 0 || (ds = H5Dopen2(f, name, H5P_DEFAULT)) < 0)
    return -1;
  sp = H5Dget_space(ds);
  np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  ok = np == (hssize_t)count &&
       H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(ds);
  return ok ? 0 : -1;
}

/* 1 when the cache file holds this key and was read; 0 otherwise. */
static int cache_read(plx_patches *p, const char *path, const char *key,
                      int need_patches)
{
  hid_t f;
  char *stored;
  double scale = 0, nimg = 0;
  int ok;
  if (access(path, R_OK) != 0)
    return 0;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0)
    return 0;
  stored = read_attr_string(f, "key");
  ok = stored && strcmp(stored, key) == 0 &&
       read_attr_double(f, "scale", &scale) == 0 &&
       read_attr_double(f, "images", &nimg) == 0 &&
       read_ds(f, "mean", H5T_NATIVE_DOUBLE, p->d, p->mean) == 0 &&
       read_ds(f, "covariance", H5T_NATIVE_DOUBLE, p->d * p->d, p->cov) == 0 &&
       (!need_patches ||
        read_ds(f, "patches", H5T_NATIVE_UINT16, p->n * p->d, p->x) == 0);
  free(stored);
  H5Fclose(f);
  if (ok) {
    p->scale = scale;
    p->n_images = (size_t)nimg;
  }
  return ok;
}

static void cache_write(plx_patches *p, const char *dir, const char *path,
                        const char *key)
{
  char tmp[1200];
  hid_t f;
  hsize_t dims[2], chunk[2];
  int ok;
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    /* one level of parents ($HOME/.cache may not exist yet) */
    char parent[1100];
    char *slash;
    snprintf(parent, sizeof parent, "%s", dir);
    slash = strrchr(parent, '/');
    if (slash && slash != parent) {
      *slash = '\0';
      mkdir(parent, 0777);
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
      snprintf(p->cache_note, sizeof p->cache_note,
               "not written: cannot create %s: %s", dir, strerror(errno));
      return;
    }
  }
  snprintf(tmp, sizeof tmp, "%s.partial-%ld", path, (long)getpid());
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) {
    snprintf(p->cache_note, sizeof p->cache_note, "not written: cannot create %s", tmp);
    return;
  }
  dims[0] = p->n;
  dims[1] = p->d;
  chunk[0] = p->n < 64 ? p->n : 64;
  chunk[1] = p->d;
  ok = attr_string(f, "key", key) == 0 && attr_double(f, "scale", p->scale) == 0 &&
       attr_double(f, "images", (double)p->n_images) == 0 &&
       write_ds(f, "mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims + 1, NULL, p->mean) == 0;
  dims[0] = p->d;
  ok = ok && write_ds(f, "covariance", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, NULL,
                      p->cov) == 0;
  dims[0] = p->n;
  ok = ok && write_ds(f, "patches", H5T_STD_U16LE, H5T_NATIVE_UINT16, 2, dims, chunk,
                      p->x) == 0;
  ok = H5Fclose(f) >= 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    snprintf(p->cache_note, sizeof p->cache_note, "not written: cannot write %s", tmp);
    unlink(tmp);
    return;
  }
  snprintf(p->cache_note, sizeof p->cache_note, "written");
}

/* --------------------------------------------------------------- make */

int plx_patches_make(plx_patches **out, plx_patch_spec *sp, int need_patches,
                     const plx_progress *prog, plx_error *err)
{
  plx_patches *p;
  sbuf key = {NULL, 0, 0};
  const int caching = sp->cache_dir && sp->cache_dir[0];
  double t0 = plx_clock_seconds();
  int rc;
  *out = NULL;
  sp->failed_file = (size_t)-1;
  sp->failed_fit = 0;
  if (sp->side < 2 || sp->count < 2)
    return plx_error_set(err, PLX_EINVAL, "patches need a side >= 2 and a count >= 2");
  p = calloc(1, sizeof *p);
  if (!p)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  p->n = sp->count;
  p->side = sp->side;
  p->d = sp->side * sp->side;
  p->mean = malloc(p->d * sizeof *p->mean);
  p->cov = malloc(p->d * p->d * sizeof *p->cov);
  /* the patches themselves are needed to cut, and to write a cache */
  p->x = malloc(p->n * p->d * sizeof *p->x);
  if (!p->mean || !p->cov || !p->x || make_key(sp, &key)) {
    free(key.s);
    plx_patches_free(p);
    return plx_error_set(err, PLX_ENOMEM, "out of memory for %zu patches of %zux%zu",
                         sp->count, sp->side, sp->side);
  }
  snprintf(p->key, sizeof p->key, "%016llx", (unsigned long long)fnv1a(key.s));
  if (caching) {
    snprintf(p->cache_path, sizeof p->cache_path, "%s/patches-%s.h5", sp->cache_dir, p->key);
    if (cache_read(p, p->cache_path, key.s, need_patches)) {
      p->cache_hit = 1;
      snprintf(p->cache_note, sizeof p->cache_note, "hit");
      if (!need_patches) {
        free(p->x);
        p->x = NULL;
      }
      free(key.s);
      p->seconds = plx_clock_seconds() - t0;
      *out = p;
      return PLX_OK;
    }
  } else {
    snprintf(p->cache_note, sizeof p->cache_note, "disabled");
  }
  if ((rc = cut(p, sp, prog, err)) || (rc = reduce(p, prog, err))) {
    free(key.s);
    plx_patches_free(p);
    return rc;
  }
  if (caching)
    cache_write(p, sp->cache_dir, p->cache_path, key.s);
  free(key.s);
  if (!need_patches) {
    free(p->x);
    p->x = NULL;
  }
  p->seconds = plx_clock_seconds() - t0;
  *out = p;
  return PLX_OK;
}
