/* h5io.c -- HDF5 files: matrices, arrays, strings, attributes, listings.
 *
 * A thin layer over the HDF5 1.10 C API that keeps plastix conventions:
 * column-major matrices become [rows, cols] C-order datasets (transposed
 * on the way in and out), writers create intermediate groups (which track
 * creation order, so listings come back in the order things were written)
 * and replace existing datasets, and every failure becomes one plx_error
 * line naming the file and the dataset.  HDF5's own error printing is off;
 * the innermost entry of its error stack supplies the reason. */
#include "config.h"
#include "plastix/h5io.h"
#include "plastix/error.h"

#include <errno.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Datasets above this many bytes are chunked and compressed. */
#define PLX_H5_CONTIGUOUS_MAX ((size_t)64 * 1024)
/* Chunks are at most this many bytes (fits HDF5's default 1 MiB cache). */
#define PLX_H5_CHUNK_TARGET ((size_t)256 * 1024)
#define PLX_H5_GZIP_LEVEL 4u

struct plx_h5 {
  hid_t file;
  int writable;
  char *path;
};

/* ------------------------------------------------------------ utilities */

static char *dupstr(const char *s)
{
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* "a//b/c/" -> "/a/b/c"; "" and "/" -> "/".  malloc'd, NULL if no memory. */
static char *norm_path(const char *p)
{
  size_t n = strlen(p), i, k = 0;
  char *q = malloc(n + 2);
  if (!q)
    return NULL;
  for (i = 0; i < n; i++) {
    if (p[i] == '/') {
      if (k > 0 && q[k - 1] == '/')
        continue;
      q[k++] = '/';
    } else {
      if (k == 0)
        q[k++] = '/';
      q[k++] = p[i];
    }
  }
  if (k > 1 && q[k - 1] == '/')
    k--;
  if (k == 0)
    q[k++] = '/';
  q[k] = '\0';
  return q;
}

/* Reason for the last HDF5 failure, from the innermost error-stack entry
 * (the OS message when the stack carries one).  Call it right after the
 * failing HDF5 call: the next API call clears the stack. */
struct h5_reason {
  char buf[200];
  int have_os;
  int have_any;
};

static void copy_line(char *dst, size_t n, const char *src, size_t len)
{
  size_t i, k = 0;
  for (i = 0; i < len && src[i] && k + 1 < n; i++)
    dst[k++] = (src[i] == '\n' || src[i] == '\r') ? ' ' : src[i];
  while (k > 0 && dst[k - 1] == ' ')
    k--;
  dst[k] = '\0';
}

static herr_t reason_cb(unsigned n, const H5E_error2_t *e, void *data)
{
  struct h5_reason *r = data;
  static const char tag[] = "error message = '";
  const char *d = e && e->desc ? e->desc : "";
  const char *m = strstr(d, tag);
  (void)n;
  if (m && !r->have_os) {
    m += sizeof tag - 1;
    copy_line(r->buf, sizeof r->buf, m, strcspn(m, "'"));
    r->have_os = 1;
    r->have_any = 1;
  } else if (!r->have_any && d[0]) {
    copy_line(r->buf, sizeof r->buf, d, strcspn(d, "\n,"));
    r->have_any = 1;
  }
  return 0;
}

static void h5_reason(char *buf, size_t n, int saved_errno)
{
  struct h5_reason r;
  memset(&r, 0, sizeof r);
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, reason_cb, &r);
  if (r.have_any)
    snprintf(buf, n, "%s", r.buf);
  else if (saved_errno)
    snprintf(buf, n, "%s", strerror(saved_errno));
  else
    snprintf(buf, n, "HDF5 error");
}

static int bad_handle(plx_error *err)
{
  return plx_error_set(err, PLX_EINVAL, "HDF5: no file handle");
}

/* 1 if `p` (normalized) names an existing object, 0 if not. */
static int path_exists(hid_t file, char *p)
{
  char *s;
  if (strcmp(p, "/") == 0)
    return 1;
  /* every prefix must exist, or H5Lexists fails instead of saying no */
  for (s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
    htri_t e;
    if (s)
      *s = '\0';
    e = H5Lexists(file, p, H5P_DEFAULT);
    if (s)
      *s = '/';
    if (e <= 0)
      return 0;
    if (!s)
      break;
  }
  return H5Oexists_by_name(file, p, H5P_DEFAULT) > 0;
}

/* Type of the object at an existing path: H5I_GROUP, H5I_DATASET, ... */
static H5I_type_t object_type(hid_t file, const char *p)
{
  hid_t o = H5Oopen(file, p, H5P_DEFAULT);
  H5I_type_t t;
  if (o < 0)
    return H5I_BADID;
  t = H5Iget_type(o);
  H5Oclose(o);
  return t;
}

static hid_t group_plist(void)
{
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  if (gcpl >= 0) {
    H5Pset_link_creation_order(gcpl,
                               H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    /* no timestamps: the same run writes the same bytes */
    H5Pset_obj_track_times(gcpl, 0);
  }
  return gcpl;
}

/* Create the groups along normalized path `p` (all of it when `whole`,
 * else all but the last component). */
static int ensure_groups(plx_h5 *h, char *p, int whole, plx_error *err)
{
  char *s = p + 1;
  int rc = PLX_OK;
  hid_t gcpl;
  if (strcmp(p, "/") == 0)
    return PLX_OK;
  gcpl = group_plist();
  for (;;) {
    char *slash = strchr(s, '/');
    if (!slash && !whole)
      break;
    if (slash)
      *slash = '\0';
    if (H5Lexists(h->file, p, H5P_DEFAULT) > 0) {
      if (object_type(h->file, p) != H5I_GROUP)
        rc = plx_error_set(err, PLX_EINVAL, "%s: %s exists and is not a group",
                           h->path, p);
    } else {
      hid_t g = H5Gcreate2(h->file, p, H5P_DEFAULT, gcpl, H5P_DEFAULT);
      if (g < 0) {
        char why[256];
        h5_reason(why, sizeof why, errno);
        rc = plx_error_set(err, PLX_EIO, "%s: cannot create group %s: %s",
                           h->path, p, why);
      } else {
        H5Gclose(g);
      }
    }
    if (slash)
      *slash = '/';
    if (rc || !slash)
      break;
    s = slash + 1;
  }
  H5Pclose(gcpl);
  return rc;
}

static int check_writable(plx_h5 *h, const char *what, plx_error *err)
{
  if (!h->writable)
    return plx_error_set(err, PLX_EIO, "%s: opened read-only, cannot write %s",
                         h->path, what);
  return PLX_OK;
}

/* Normalized copy of a dataset path (not "/"). */
static int dataset_path(plx_h5 *h, const char *path, char **out,
                        plx_error *err)
{
  if (!path)
    return plx_error_set(err, PLX_EINVAL, "%s: no dataset path", h->path);
  *out = norm_path(path);
  if (!*out)
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", h->path);
  if (strcmp(*out, "/") == 0) {
    free(*out);
    *out = NULL;
    return plx_error_set(err, PLX_EINVAL,
                         "%s: \"%s\" is the root group, not a dataset",
                         h->path, path);
  }
  return PLX_OK;
}

/* Product of dims, or 0 with *overflow set when it does not fit. */
static size_t count_elements(int rank, const hsize_t *dims, size_t elsize,
                             int *overflow)
{
  size_t n = 1;
  int i;
  *overflow = 0;
  for (i = 0; i < rank; i++) {
    if (dims[i] != 0 && n > SIZE_MAX / elsize / dims[i]) {
      *overflow = 1;
      return 0;
    }
    n *= (size_t)dims[i];
  }
  return n;
}

/* ------------------------------------------------------------ open/close */

static int new_handle(plx_h5 **out, const char *path, hid_t file,
                      int writable, plx_error *err)
{
  plx_h5 *h = calloc(1, sizeof *h);
  if (h)
    h->path = dupstr(path);
  if (!h || !h->path) {
    free(h);
    H5Fclose(file);
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", path);
  }
  h->file = file;
  h->writable = writable;
  *out = h;
  return PLX_OK;
}

int plx_h5_create(plx_h5 **out, const char *path, plx_error *err)
{
  hid_t fcpl, file;
  if (!out || !path)
    return plx_error_set(err, PLX_EINVAL, "HDF5: no file name");
  *out = NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  fcpl = H5Pcreate(H5P_FILE_CREATE);
  /* the root group lists its members in creation order, like the others */
  H5Pset_link_creation_order(fcpl,
                             H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  H5Pset_obj_track_times(fcpl, 0);
  errno = 0;
  file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
  if (file < 0) {
    char why[256];
    h5_reason(why, sizeof why, errno);
    H5Pclose(fcpl);
    return plx_error_set(err, PLX_EIO, "%s: cannot create: %s", path, why);
  }
  H5Pclose(fcpl);
  return new_handle(out, path, file, 1, err);
}

int plx_h5_open(plx_h5 **out, const char *path, int writable,
                plx_error *err)
{
  FILE *f;
  hid_t file;
  if (!out || !path)
    return plx_error_set(err, PLX_EINVAL, "HDF5: no file name");
  *out = NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  /* the C library gives the clearest reason for missing/unreadable files */
  f = fopen(path, writable ? "r+b" : "rb");
  if (!f)
    return plx_error_set(err, PLX_EIO, "%s: cannot open: %s", path,
                         strerror(errno));
  fclose(f);
  if (H5Fis_hdf5(path) <= 0)
    return plx_error_set(err, PLX_EIO, "%s: cannot open: not an HDF5 file",
                         path);
  errno = 0;
  file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    char why[256];
    h5_reason(why, sizeof why, errno);
    return plx_error_set(err, PLX_EIO, "%s: cannot open: %s", path, why);
  }
  return new_handle(out, path, file, writable != 0, err);
}

void plx_h5_close(plx_h5 *h)
{
  if (!h)
    return;
  if (h->file >= 0)
    H5Fclose(h->file);
  free(h->path);
  free(h);
}

const char *plx_h5_path(const plx_h5 *h)
{
  return h ? h->path : NULL;
}

int plx_h5_exists(plx_h5 *h, const char *path)
{
  char *p;
  int e;
  if (!h || !path || !(p = norm_path(path)))
    return 0;
  e = path_exists(h->file, p);
  free(p);
  return e;
}

/* ---------------------------------------------------------------- writing */

/* Write `data` as a dataset of the given rank (0: scalar) at `path`,
 * replacing what is there.  `elsize` is the in-memory element size. */
static int write_data(plx_h5 *h, const char *path, hid_t memtype,
                      hid_t filetype, size_t elsize, const void *data,
                      int rank, const hsize_t *dims, plx_error *err)
{
  char *p = NULL;
  hid_t space = -1, dcpl = -1, ds = -1;
  size_t nel = 1;
  int rc, overflow = 0;
  char why[256];

  if ((rc = dataset_path(h, path, &p, err)))
    return rc;
  if ((rc = check_writable(h, p, err)))
    goto done;
  if (rank > 0) {
    nel = count_elements(rank, dims, elsize, &overflow);
    if (overflow) {
      rc = plx_error_set(err, PLX_EINVAL, "%s: %s: dimensions too large",
                         h->path, p);
      goto done;
    }
  }
  if (nel > 0 && !data) {
    rc = plx_error_set(err, PLX_EINVAL, "%s: %s: no data", h->path, p);
    goto done;
  }
  if ((rc = ensure_groups(h, p, 0, err)))
    goto done;
  if (path_exists(h->file, p)) {
    if (object_type(h->file, p) != H5I_DATASET) {
      rc = plx_error_set(err, PLX_EINVAL,
                         "%s: %s exists and is not a dataset", h->path, p);
      goto done;
    }
    if (H5Ldelete(h->file, p, H5P_DEFAULT) < 0) {
      h5_reason(why, sizeof why, 0);
      rc = plx_error_set(err, PLX_EIO, "%s: %s: cannot replace: %s", h->path,
                         p, why);
      goto done;
    }
  }
  space = rank > 0 ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (dcpl >= 0)
    H5Pset_obj_track_times(dcpl, 0); /* reproducible bytes */
  if (space < 0 || dcpl < 0) {
    rc = plx_error_set(err, PLX_ENOMEM, "%s: %s: cannot set up dataset",
                       h->path, p);
    goto done;
  }
  if (rank > 0 && nel * elsize > PLX_H5_CONTIGUOUS_MAX) {
    hsize_t chunk[PLX_H5_MAX_RANK];
    size_t bytes = nel * elsize;
    int i;
    for (i = 0; i < rank; i++)
      chunk[i] = dims[i];
    /* halve the longest chunk side until the chunk is small enough */
    while (bytes > PLX_H5_CHUNK_TARGET) {
      int k = 0;
      for (i = 1; i < rank; i++)
        if (chunk[i] > chunk[k])
          k = i;
      if (chunk[k] <= 1)
        break;
      bytes = bytes / (size_t)chunk[k];
      chunk[k] = (chunk[k] + 1) / 2;
      bytes *= (size_t)chunk[k];
    }
    H5Pset_chunk(dcpl, rank, chunk);
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
      H5Pset_shuffle(dcpl);
      H5Pset_deflate(dcpl, PLX_H5_GZIP_LEVEL);
    }
  }
  ds = H5Dcreate2(h->file, p, filetype, space, H5P_DEFAULT, dcpl,
                  H5P_DEFAULT);
  if (ds < 0) {
    h5_reason(why, sizeof why, 0);
    rc = plx_error_set(err, PLX_EIO, "%s: %s: cannot create dataset: %s",
                       h->path, p, why);
    goto done;
  }
  if (nel > 0 &&
      H5Dwrite(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    h5_reason(why, sizeof why, 0);
    rc = plx_error_set(err, PLX_EIO, "%s: %s: cannot write: %s", h->path, p,
                       why);
  }
done:
  if (ds >= 0)
    H5Dclose(ds);
  if (dcpl >= 0)
    H5Pclose(dcpl);
  if (space >= 0)
    H5Sclose(space);
  free(p);
  return rc;
}

static int array_dims(plx_h5 *h, const char *path, int rank,
                      const size_t *dims, hsize_t *hd, plx_error *err)
{
  int i;
  if (rank < 1 || rank > PLX_H5_MAX_RANK || !dims)
    return plx_error_set(err, PLX_EINVAL,
                         "%s: %s: rank must be 1..%d, got %d", h->path,
                         path ? path : "(null)", PLX_H5_MAX_RANK, rank);
  for (i = 0; i < rank; i++)
    hd[i] = (hsize_t)dims[i];
  return PLX_OK;
}

int plx_h5_write_array(plx_h5 *h, const char *path, const double *data,
                       int rank, const size_t *dims, plx_error *err)
{
  hsize_t hd[PLX_H5_MAX_RANK];
  int rc;
  if (!h)
    return bad_handle(err);
  if ((rc = array_dims(h, path, rank, dims, hd, err)))
    return rc;
  return write_data(h, path, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE,
                    sizeof *data, data, rank, hd, err);
}

int plx_h5_write_float_array(plx_h5 *h, const char *path, const float *data,
                             int rank, const size_t *dims, plx_error *err)
{
  hsize_t hd[PLX_H5_MAX_RANK];
  int rc;
  if (!h)
    return bad_handle(err);
  if ((rc = array_dims(h, path, rank, dims, hd, err)))
    return rc;
  return write_data(h, path, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, sizeof *data,
                    data, rank, hd, err);
}

int plx_h5_write_int_array(plx_h5 *h, const char *path, const long *data,
                           int rank, const size_t *dims, plx_error *err)
{
  hsize_t hd[PLX_H5_MAX_RANK];
  int rc;
  if (!h)
    return bad_handle(err);
  if ((rc = array_dims(h, path, rank, dims, hd, err)))
    return rc;
  return write_data(h, path, H5T_NATIVE_LONG, H5T_STD_I64LE, sizeof *data,
                    data, rank, hd, err);
}

int plx_h5_write_vector(plx_h5 *h, const char *path, const double *v,
                        size_t n, plx_error *err)
{
  return plx_h5_write_array(h, path, v, 1, &n, err);
}

int plx_h5_write_matrix(plx_h5 *h, const char *path, const double *a,
                        size_t rows, size_t cols, size_t ld, plx_error *err)
{
  hsize_t hd[2];
  double *t = NULL;
  size_t i, j;
  int rc;
  if (!h)
    return bad_handle(err);
  if (rows > 0 && cols > 0) {
    if (ld < rows)
      return plx_error_set(err, PLX_EINVAL,
                           "%s: %s: leading dimension %zu < rows %zu",
                           h->path, path ? path : "(null)", ld, rows);
    if (!a)
      return plx_error_set(err, PLX_EINVAL, "%s: %s: no data", h->path,
                           path ? path : "(null)");
    if (rows > SIZE_MAX / sizeof *t / cols)
      return plx_error_set(err, PLX_EINVAL, "%s: %s: dimensions too large",
                           h->path, path ? path : "(null)");
    t = malloc(rows * cols * sizeof *t);
    if (!t)
      return plx_error_set(err, PLX_ENOMEM, "%s: %s: out of memory",
                           h->path, path ? path : "(null)");
    for (j = 0; j < cols; j++)
      for (i = 0; i < rows; i++)
        t[i * cols + j] = a[i + j * ld];
  }
  hd[0] = rows;
  hd[1] = cols;
  rc = write_data(h, path, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, sizeof(double),
                  t, 2, hd, err);
  free(t);
  return rc;
}

static hid_t vlen_utf8_type(void)
{
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t >= 0) {
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
  }
  return t;
}

int plx_h5_write_string(plx_h5 *h, const char *path, const char *s,
                        plx_error *err)
{
  hid_t t;
  int rc;
  if (!h)
    return bad_handle(err);
  if (!s)
    s = "";
  t = vlen_utf8_type();
  rc = write_data(h, path, t, t, sizeof s, &s, 0, NULL, err);
  H5Tclose(t);
  return rc;
}

/* Open (creating groups when missing and writable) the object an
 * attribute goes on. */
static int attr_object(plx_h5 *h, const char *obj_path, int create,
                       hid_t *obj, char **p, plx_error *err)
{
  int rc;
  *obj = -1;
  *p = norm_path(obj_path ? obj_path : "/");
  if (!*p)
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", h->path);
  if (!path_exists(h->file, *p)) {
    if (!create)
      return plx_error_set(err, PLX_ENOTFOUND, "%s: %s: no such object",
                           h->path, *p);
    if ((rc = ensure_groups(h, *p, 1, err)))
      return rc;
  }
  *obj = H5Oopen(h->file, *p, H5P_DEFAULT);
  if (*obj < 0) {
    char why[256];
    h5_reason(why, sizeof why, 0);
    return plx_error_set(err, PLX_EIO, "%s: %s: cannot open: %s", h->path,
                         *p, why);
  }
  return PLX_OK;
}

static int write_attr(plx_h5 *h, const char *obj_path, const char *name,
                      hid_t type, const void *buf, plx_error *err)
{
  hid_t obj = -1, space = -1, attr = -1;
  char *p = NULL;
  char why[256];
  int rc;
  if (!h)
    return bad_handle(err);
  if (!name || !name[0])
    return plx_error_set(err, PLX_EINVAL, "%s: %s: no attribute name",
                         h->path, obj_path ? obj_path : "/");
  if ((rc = check_writable(h, name, err)))
    return rc;
  if ((rc = attr_object(h, obj_path, 1, &obj, &p, err)))
    goto done;
  if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) {
    h5_reason(why, sizeof why, 0);
    rc = plx_error_set(err, PLX_EIO, "%s: %s: cannot replace attribute %s: %s",
                       h->path, p, name, why);
    goto done;
  }
  space = H5Screate(H5S_SCALAR);
  attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0 || H5Awrite(attr, type, buf) < 0) {
    h5_reason(why, sizeof why, 0);
    rc = plx_error_set(err, PLX_EIO, "%s: %s: cannot write attribute %s: %s",
                       h->path, p, name, why);
  }
done:
  if (attr >= 0)
    H5Aclose(attr);
  if (space >= 0)
    H5Sclose(space);
  if (obj >= 0)
    H5Oclose(obj);
  free(p);
  return rc;
}

int plx_h5_attr_string(plx_h5 *h, const char *obj_path, const char *name,
                       const char *value, plx_error *err)
{
  hid_t t = vlen_utf8_type();
  int rc;
  if (!value)
    value = "";
  rc = write_attr(h, obj_path, name, t, &value, err);
  H5Tclose(t);
  return rc;
}

int plx_h5_attr_double(plx_h5 *h, const char *obj_path, const char *name,
                       double value, plx_error *err)
{
  return write_attr(h, obj_path, name, H5T_NATIVE_DOUBLE, &value, err);
}

/* ---------------------------------------------------------------- reading */

/* Open the dataset at `path`; *p receives its normalized path. */
static int open_dataset(plx_h5 *h, const char *path, hid_t *ds, char **p,
                        plx_error *err)
{
  *ds = -1;
  *p = NULL;
  if (!h)
    return bad_handle(err);
  if (!path)
    return plx_error_set(err, PLX_EINVAL, "%s: no dataset path", h->path);
  if (!(*p = norm_path(path)))
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", h->path);
  if (!path_exists(h->file, *p))
    return plx_error_set(err, PLX_ENOTFOUND, "%s: %s: no such dataset",
                         h->path, *p);
  *ds = H5Dopen2(h->file, *p, H5P_DEFAULT);
  if (*ds < 0)
    return plx_error_set(err, PLX_EINVAL, "%s: %s: not a dataset", h->path,
                         *p);
  return PLX_OK;
}

int plx_h5_read_array(plx_h5 *h, const char *path, double **out, int *rank,
                      size_t dims[PLX_H5_MAX_RANK], plx_error *err)
{
  hid_t ds = -1, space = -1, type = -1;
  hsize_t hd[PLX_H5_MAX_RANK];
  H5T_class_t cls;
  char *p = NULL;
  double *buf = NULL;
  size_t nel = 1;
  int rc, r, i, overflow;

  if (out)
    *out = NULL;
  if ((rc = open_dataset(h, path, &ds, &p, err)))
    goto done;
  type = H5Dget_type(ds);
  cls = H5Tget_class(type);
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    rc = plx_error_set(err, PLX_EINVAL, "%s: %s: not a numeric dataset",
                       h->path, p);
    goto done;
  }
  space = H5Dget_space(ds);
  r = H5Sget_simple_extent_ndims(space);
  if (r < 0 || r > PLX_H5_MAX_RANK) {
    rc = plx_error_set(err, PLX_EINVAL, "%s: %s: rank %d is above %d",
                       h->path, p, r, PLX_H5_MAX_RANK);
    goto done;
  }
  H5Sget_simple_extent_dims(space, hd, NULL);
  nel = count_elements(r, hd, sizeof *buf, &overflow);
  if (overflow || !(buf = malloc((nel ? nel : 1) * sizeof *buf))) {
    rc = plx_error_set(err, PLX_ENOMEM, "%s: %s: out of memory", h->path, p);
    goto done;
  }
  if (nel > 0 &&
      H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
    char why[256];
    h5_reason(why, sizeof why, 0);
    rc = plx_error_set(err, PLX_EIO, "%s: %s: cannot read: %s", h->path, p,
                       why);
    goto done;
  }
  if (rank)
    *rank = r;
  if (dims) {
    for (i = 0; i < PLX_H5_MAX_RANK; i++)
      dims[i] = i < r ? (size_t)hd[i] : 0;
  }
  if (out) {
    *out = buf;
    buf = NULL;
  }
done:
  free(buf);
  if (type >= 0)
    H5Tclose(type);
  if (space >= 0)
    H5Sclose(space);
  if (ds >= 0)
    H5Dclose(ds);
  free(p);
  return rc;
}

int plx_h5_read_matrix(plx_h5 *h, const char *path, double **out,
                       size_t *rows, size_t *cols, plx_error *err)
{
  size_t dims[PLX_H5_MAX_RANK], i, j, m, n;
  double *a = NULL, *t;
  int rank, rc;
  *out = NULL;
  if ((rc = plx_h5_read_array(h, path, &a, &rank, dims, err)))
    return rc;
  if (rank != 1 && rank != 2) {
    char *p = norm_path(path);
    free(a);
    rc = plx_error_set(err, PLX_EINVAL,
                       "%s: %s: expected a matrix (rank 1 or 2), got rank %d",
                       h->path, p ? p : path, rank);
    free(p);
    return rc;
  }
  m = dims[0];
  n = rank == 2 ? dims[1] : 1;
  if (rank == 2 && m > 1 && n > 1) {
    t = malloc(m * n * sizeof *t);
    if (!t) {
      free(a);
      return plx_error_set(err, PLX_ENOMEM, "%s: %s: out of memory", h->path,
                           path);
    }
    for (i = 0; i < m; i++)
      for (j = 0; j < n; j++)
        t[i + j * m] = a[i * n + j];
    free(a);
    a = t;
  }
  *out = a;
  if (rows)
    *rows = m;
  if (cols)
    *cols = n;
  return PLX_OK;
}

/* One string from a dataset (attr < 0) or an attribute (attr >= 0). */
static int read_string_obj(plx_h5 *h, const char *p, const char *what,
                           hid_t ds, hid_t attr, char **out, plx_error *err)
{
  hid_t type, space, mem = -1;
  hssize_t np;
  int rc = PLX_OK;
  herr_t st;
  type = attr >= 0 ? H5Aget_type(attr) : H5Dget_type(ds);
  space = attr >= 0 ? H5Aget_space(attr) : H5Dget_space(ds);
  if (H5Tget_class(type) != H5T_STRING) {
    rc = plx_error_set(err, PLX_EINVAL, "%s: %s%s: not a string", h->path, p,
                       what);
    goto done;
  }
  np = H5Sget_simple_extent_npoints(space);
  if (np != 1) {
    rc = plx_error_set(err, PLX_EINVAL,
                       "%s: %s%s: expected one string, got %lld", h->path, p,
                       what, (long long)np);
    goto done;
  }
  if (H5Tis_variable_str(type) > 0) {
    char *s = NULL;
    mem = H5Tcopy(H5T_C_S1);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));
    st = attr >= 0 ? H5Aread(attr, mem, &s)
                   : H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s);
    if (st >= 0) {
      *out = dupstr(s ? s : "");
      H5Dvlen_reclaim(mem, space, H5P_DEFAULT, &s);
    }
  } else {
    size_t n = H5Tget_size(type);
    char *s = calloc(n + 1, 1);
    mem = H5Tcopy(type);
    st = -1;
    if (s) {
      st = attr >= 0 ? H5Aread(attr, mem, s)
                     : H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, s);
      if (H5Tget_strpad(type) == H5T_STR_SPACEPAD)
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\0'))
          s[--n] = '\0';
    }
    *out = s;
  }
  if (st < 0) {
    char why[256];
    h5_reason(why, sizeof why, 0);
    free(*out);
    *out = NULL;
    rc = plx_error_set(err, PLX_EIO, "%s: %s%s: cannot read: %s", h->path, p,
                       what, why);
  } else if (!*out) {
    rc = plx_error_set(err, PLX_ENOMEM, "%s: %s%s: out of memory", h->path,
                       p, what);
  }
done:
  if (mem >= 0)
    H5Tclose(mem);
  H5Sclose(space);
  H5Tclose(type);
  return rc;
}

int plx_h5_read_string(plx_h5 *h, const char *path, char **out,
                       plx_error *err)
{
  hid_t ds;
  char *p;
  int rc;
  *out = NULL;
  if (!(rc = open_dataset(h, path, &ds, &p, err)))
    rc = read_string_obj(h, p, "", ds, -1, out, err);
  if (ds >= 0)
    H5Dclose(ds);
  free(p);
  return rc;
}

static int open_attr(plx_h5 *h, const char *obj_path, const char *name,
                     hid_t *obj, hid_t *attr, char **p, plx_error *err)
{
  int rc;
  *attr = -1;
  if (!h)
    return bad_handle(err);
  if ((rc = attr_object(h, obj_path, 0, obj, p, err)))
    return rc;
  if (!name || H5Aexists(*obj, name) <= 0)
    return plx_error_set(err, PLX_ENOTFOUND, "%s: %s: no attribute %s",
                         h->path, *p, name ? name : "(null)");
  *attr = H5Aopen(*obj, name, H5P_DEFAULT);
  if (*attr < 0)
    return plx_error_set(err, PLX_EIO, "%s: %s: cannot open attribute %s",
                         h->path, *p, name);
  return PLX_OK;
}

static void close_attr(hid_t obj, hid_t attr, char *p)
{
  if (attr >= 0)
    H5Aclose(attr);
  if (obj >= 0)
    H5Oclose(obj);
  free(p);
}

int plx_h5_read_attr_string(plx_h5 *h, const char *obj_path,
                            const char *name, char **out, plx_error *err)
{
  hid_t obj = -1, attr;
  char *p = NULL, what[300];
  int rc;
  *out = NULL;
  if (!(rc = open_attr(h, obj_path, name, &obj, &attr, &p, err))) {
    snprintf(what, sizeof what, " attribute %s", name);
    rc = read_string_obj(h, p, what, -1, attr, out, err);
  }
  close_attr(obj, attr, p);
  return rc;
}

int plx_h5_read_attr_double(plx_h5 *h, const char *obj_path,
                            const char *name, double *out, plx_error *err)
{
  hid_t obj = -1, attr, type, space;
  char *p = NULL;
  int rc;
  if ((rc = open_attr(h, obj_path, name, &obj, &attr, &p, err))) {
    close_attr(obj, attr, p);
    return rc;
  }
  type = H5Aget_type(attr);
  space = H5Aget_space(attr);
  if ((H5Tget_class(type) != H5T_INTEGER && H5Tget_class(type) != H5T_FLOAT) ||
      H5Sget_simple_extent_npoints(space) != 1)
    rc = plx_error_set(err, PLX_EINVAL,
                       "%s: %s: attribute %s is not a single number", h->path,
                       p, name);
  else if (H5Aread(attr, H5T_NATIVE_DOUBLE, out) < 0)
    rc = plx_error_set(err, PLX_EIO, "%s: %s: cannot read attribute %s",
                       h->path, p, name);
  H5Sclose(space);
  H5Tclose(type);
  close_attr(obj, attr, p);
  return rc;
}

/* ---------------------------------------------------------------- listing */

void plx_h5_free_list(char **names, size_t n)
{
  size_t i;
  if (!names)
    return;
  for (i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

int plx_h5_list(plx_h5 *h, const char *group_path, char ***names, size_t *n,
                plx_error *err)
{
  hid_t g = -1, gcpl;
  H5G_info_t info;
  H5_index_t idx = H5_INDEX_NAME;
  unsigned flags = 0;
  char *p = NULL, **v = NULL;
  size_t i, k = 0;
  int rc = PLX_OK;

  *names = NULL;
  *n = 0;
  if (!h)
    return bad_handle(err);
  if (!(p = norm_path(group_path ? group_path : "/")))
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", h->path);
  if (!path_exists(h->file, p)) {
    rc = plx_error_set(err, PLX_ENOTFOUND, "%s: %s: no such group", h->path,
                       p);
    goto done;
  }
  if (object_type(h->file, p) != H5I_GROUP ||
      (g = H5Gopen2(h->file, p, H5P_DEFAULT)) < 0) {
    rc = plx_error_set(err, PLX_EINVAL, "%s: %s: not a group", h->path, p);
    goto done;
  }
  if (H5Gget_info(g, &info) < 0) {
    rc = plx_error_set(err, PLX_EIO, "%s: %s: cannot read group", h->path, p);
    goto done;
  }
  gcpl = H5Gget_create_plist(g);
  if (gcpl >= 0) {
    if (H5Pget_link_creation_order(gcpl, &flags) >= 0 &&
        (flags & H5P_CRT_ORDER_INDEXED))
      idx = H5_INDEX_CRT_ORDER;
    H5Pclose(gcpl);
  }
  v = calloc(info.nlinks ? (size_t)info.nlinks : 1, sizeof *v);
  if (!v) {
    rc = plx_error_set(err, PLX_ENOMEM, "%s: %s: out of memory", h->path, p);
    goto done;
  }
  for (k = 0; k < (size_t)info.nlinks; k++) {
    ssize_t len = H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, k, NULL, 0,
                                     H5P_DEFAULT);
    if (len < 0 || !(v[k] = malloc((size_t)len + 1)) ||
        H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, k, v[k], (size_t)len + 1,
                           H5P_DEFAULT) < 0) {
      rc = plx_error_set(err, len < 0 ? PLX_EIO : PLX_ENOMEM,
                         "%s: %s: cannot list member %zu", h->path, p, k);
      k++;
      break;
    }
  }
done:
  if (rc) {
    for (i = 0; v && i < k; i++)
      free(v[i]);
    free(v);
  } else {
    *names = v;
    *n = k;
  }
  if (g >= 0)
    H5Gclose(g);
  free(p);
  return rc;
}

/* ---------------------------------------------------------------- version */

const char *plx_h5_version(void)
{
  static char buf[32];
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  snprintf(buf, sizeof buf, "%u.%u.%u", maj, min, rel);
  return buf;
}
