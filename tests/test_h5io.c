/* test_h5io.c -- HDF5 round trips: column-major matrices land on disk as
 * row-major [rows, cols] datasets (checked with the raw HDF5 API and with
 * h5dump), large arrays are chunked and compressed, datasets are replaced,
 * groups nest and list in creation order, attributes and strings survive,
 * and every failure is a coded one-line message naming file and dataset. */
#include "config.h"
#include "plastix/error.h"
#include "plastix/h5io.h"

#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP "test_h5io_tmp.h5"
#define TMP2 "test_h5io_tmp2.h5"
#define TXT "test_h5io_tmp.txt"

static plx_h5 *create_tmp(const char *path)
{
  plx_h5 *h = NULL;
  plx_error err = {0, ""};
  int rc = plx_h5_create(&h, path, &err);
  ck_assert_msg(rc == PLX_OK, "%s", err.msg);
  ck_assert_ptr_nonnull(h);
  return h;
}

START_TEST(test_matrix_layout)
{
  enum { R = 3, C = 5, LD = 4 };
  double a[LD * C], *m = NULL, *arr = NULL, raw[R * C];
  size_t rows = 0, cols = 0, dims[PLX_H5_MAX_RANK];
  int rank = 0, i, j;
  plx_error err = {0, ""};
  plx_h5 *h = create_tmp(TMP);
  hid_t f, ds, sp;
  hsize_t hd[2];

  for (j = 0; j < C; j++)
    for (i = 0; i < LD; i++)
      a[i + j * LD] = i < R ? 10.0 * i + j + 0.25 : NAN; /* padding rows */
  ck_assert_int_eq(plx_h5_write_matrix(h, "m", a, R, C, LD, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_read_matrix(h, "/m", &m, &rows, &cols, &err),
                   PLX_OK);
  ck_assert_uint_eq(rows, R);
  ck_assert_uint_eq(cols, C);
  for (j = 0; j < C; j++)
    for (i = 0; i < R; i++)
      ck_assert_double_eq(m[i + j * R], a[i + j * LD]);
  /* the stored dataset is [rows, cols] in C order */
  ck_assert_int_eq(plx_h5_read_array(h, "m", &arr, &rank, dims, &err), PLX_OK);
  ck_assert_int_eq(rank, 2);
  ck_assert_uint_eq(dims[0], R);
  ck_assert_uint_eq(dims[1], C);
  ck_assert_uint_eq(dims[2], 0);
  for (i = 0; i < R; i++)
    for (j = 0; j < C; j++)
      ck_assert_double_eq(arr[i * C + j], a[i + j * LD]);
  free(m);
  free(arr);
  plx_h5_close(h);

  /* ... also for the plain HDF5 library, i.e. what h5py would see */
  f = H5Fopen(TMP, H5F_ACC_RDONLY, H5P_DEFAULT);
  ck_assert(f >= 0);
  ds = H5Dopen2(f, "/m", H5P_DEFAULT);
  sp = H5Dget_space(ds);
  ck_assert_int_eq(H5Sget_simple_extent_dims(sp, hd, NULL), 2);
  ck_assert_uint_eq(hd[0], R);
  ck_assert_uint_eq(hd[1], C);
  ck_assert(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                    raw) >= 0);
  for (i = 0; i < R; i++)
    for (j = 0; j < C; j++)
      ck_assert_double_eq(raw[i * C + j], a[i + j * LD]);
  H5Sclose(sp);
  H5Dclose(ds);
  H5Fclose(f);

  /* ... and for h5dump: first row printed first */
  if (access("/usr/bin/h5dump", X_OK) == 0) {
    char line[512], all[4096] = "";
    FILE *p = popen("/usr/bin/h5dump -y -w 0 -d /m " TMP, "r");
    ck_assert_ptr_nonnull(p);
    while (fgets(line, sizeof line, p))
      if (strlen(all) + strlen(line) < sizeof all)
        strcat(all, line);
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_msg(strstr(all, "( 3, 5 )"), "%s", all);
    ck_assert_msg(strstr(all, "0.25, 1.25, 2.25, 3.25, 4.25,"), "%s", all);
    ck_assert_msg(strstr(all, "20.25, 21.25, 22.25, 23.25, 24.25"), "%s",
                  all);
  }

  /* a vector reads back as an n x 1 matrix */
  ck_assert_int_eq(plx_h5_open(&h, TMP, 1, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_vector(h, "v", a, 4, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_read_matrix(h, "v", &m, &rows, &cols, &err),
                   PLX_OK);
  ck_assert_uint_eq(rows, 4);
  ck_assert_uint_eq(cols, 1);
  ck_assert_double_eq(m[1], a[1]);
  free(m);
  /* empty matrices are fine */
  ck_assert_int_eq(plx_h5_write_matrix(h, "e", NULL, 0, 7, 0, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_read_matrix(h, "e", &m, &rows, &cols, &err),
                   PLX_OK);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(rows, 0);
  ck_assert_uint_eq(cols, 7);
  free(m);
  plx_h5_close(h);
  unlink(TMP);
}
END_TEST

START_TEST(test_large_compressed)
{
  enum { R = 300, C = 400 };
  size_t dims[3] = {R, C, 0}, d3[3] = {7, 11, 13}, got[PLX_H5_MAX_RANK];
  double *a = malloc(sizeof *a * R * C), *b = NULL;
  float *fa = malloc(sizeof *fa * R * C);
  long *ia = malloc(sizeof *ia * R * C);
  int rank, k;
  struct stat st;
  plx_error err = {0, ""};
  plx_h5 *h = create_tmp(TMP);

  for (k = 0; k < R * C; k++) {
    a[k] = (k % 97) * 0.5 - 3.0;
    fa[k] = (float)(k % 13) / 4.0f;
    ia[k] = (long)k * 100000L - 7;
  }
  ck_assert_int_eq(plx_h5_write_array(h, "big", a, 2, dims, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_float_array(h, "f", fa, 2, dims, &err),
                   PLX_OK);
  ck_assert_int_eq(plx_h5_write_int_array(h, "i", ia, 2, dims, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_array(h, "cube", a, 3, d3, &err), PLX_OK);
  plx_h5_close(h);

  /* 960 kB of doubles + 480 kB floats + 960 kB longs, compressed */
  ck_assert_int_eq(stat(TMP, &st), 0);
  ck_assert_int_lt(st.st_size, 600000);

  ck_assert_int_eq(plx_h5_open(&h, TMP, 0, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_read_array(h, "big", &b, &rank, got, &err), PLX_OK);
  ck_assert_int_eq(rank, 2);
  ck_assert_uint_eq(got[0], R);
  ck_assert_uint_eq(got[1], C);
  ck_assert_int_eq(memcmp(a, b, sizeof *a * R * C), 0);
  free(b);
  ck_assert_int_eq(plx_h5_read_array(h, "f", &b, &rank, got, &err), PLX_OK);
  for (k = 0; k < R * C; k++)
    ck_assert_double_eq(b[k], (double)fa[k]);
  free(b);
  ck_assert_int_eq(plx_h5_read_array(h, "i", &b, &rank, got, &err), PLX_OK);
  for (k = 0; k < R * C; k++)
    ck_assert_double_eq(b[k], (double)ia[k]);
  free(b);
  ck_assert_int_eq(plx_h5_read_array(h, "cube", &b, &rank, got, &err),
                   PLX_OK);
  ck_assert_int_eq(rank, 3);
  ck_assert_uint_eq(got[2], 13);
  ck_assert_double_eq(b[7 * 11 * 13 - 1], a[7 * 11 * 13 - 1]);
  free(b);
  plx_h5_close(h);

  /* the big dataset is chunked with shuffle + deflate */
  if (access("/usr/bin/h5dump", X_OK) == 0) {
    char line[512];
    int deflate = 0, shuffle = 0, chunked = 0;
    FILE *p = popen("/usr/bin/h5dump -p -H -d /big " TMP, "r");
    ck_assert_ptr_nonnull(p);
    while (fgets(line, sizeof line, p)) {
      deflate |= strstr(line, "COMPRESSION DEFLATE { LEVEL 4 }") != NULL;
      shuffle |= strstr(line, "SHUFFLE") != NULL;
      chunked |= strstr(line, "CHUNKED") != NULL;
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert(deflate && shuffle && chunked);
  }
  free(a);
  free(fa);
  free(ia);
  unlink(TMP);
}
END_TEST

START_TEST(test_overwrite_groups_list)
{
  double v[6] = {1, 2, 3, 4, 5, 6}, *m = NULL;
  size_t rows, cols, n = 0;
  char **names = NULL;
  plx_error err = {0, ""};
  plx_h5 *h = create_tmp(TMP);

  ck_assert_int_eq(plx_h5_write_vector(h, "x", v, 6, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_matrix(h, "x", v, 2, 2, 3, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_read_matrix(h, "x", &m, &rows, &cols, &err),
                   PLX_OK);
  ck_assert_uint_eq(rows, 2);
  ck_assert_uint_eq(cols, 2);
  ck_assert_double_eq(m[0], 1);
  ck_assert_double_eq(m[1], 2);
  ck_assert_double_eq(m[2], 4);
  ck_assert_double_eq(m[3], 5);
  free(m);

  /* nested paths create their groups */
  ck_assert_int_eq(plx_h5_write_vector(h, "run/trial/w", v, 3, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_vector(h, "/run//trial/b/", v, 2, &err),
                   PLX_OK);
  ck_assert_int_eq(plx_h5_write_vector(h, "run/trial/a", v, 1, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_vector(h, "run/zz", v, 1, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_vector(h, "a_after", v, 1, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_exists(h, "/"), 1);
  ck_assert_int_eq(plx_h5_exists(h, "run"), 1);
  ck_assert_int_eq(plx_h5_exists(h, "/run/trial"), 1);
  ck_assert_int_eq(plx_h5_exists(h, "run/trial/w"), 1);
  ck_assert_int_eq(plx_h5_exists(h, "run/trial/nope"), 0);
  ck_assert_int_eq(plx_h5_exists(h, "nope/trial/w"), 0);
  ck_assert_int_eq(plx_h5_exists(h, "run/trial/w/below"), 0);
  ck_assert_int_eq(plx_h5_exists(NULL, "run"), 0);

  /* creation order, not name order */
  ck_assert_int_eq(plx_h5_list(h, "run/trial", &names, &n, &err), PLX_OK);
  ck_assert_uint_eq(n, 3);
  ck_assert_str_eq(names[0], "w");
  ck_assert_str_eq(names[1], "b");
  ck_assert_str_eq(names[2], "a");
  plx_h5_free_list(names, n);
  ck_assert_int_eq(plx_h5_list(h, "/", &names, &n, &err), PLX_OK);
  ck_assert_uint_eq(n, 3);
  ck_assert_str_eq(names[0], "x");
  ck_assert_str_eq(names[1], "run");
  ck_assert_str_eq(names[2], "a_after");
  plx_h5_free_list(names, n);
  plx_h5_free_list(NULL, 0);
  plx_h5_close(h);

  /* a group made elsewhere without creation order lists by name */
  {
    hid_t f = H5Fcreate(TMP2, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g;
    ck_assert(f >= 0);
    g = H5Gcreate2(f, "b", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    g = H5Gcreate2(f, "a", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(f);
    ck_assert_int_eq(plx_h5_open(&h, TMP2, 0, &err), PLX_OK);
    ck_assert_int_eq(plx_h5_list(h, "/", &names, &n, &err), PLX_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(names[0], "a");
    ck_assert_str_eq(names[1], "b");
    plx_h5_free_list(names, n);
    plx_h5_close(h);
    unlink(TMP2);
  }
  unlink(TMP);
}
END_TEST

START_TEST(test_strings_attributes)
{
  const char *text = "h\xc3\xa9llo, \"w\xc3\xb6rld\"\nline 2 \xe2\x9c\x93";
  char *s = NULL;
  double x = 0, v[2] = {1, 2};
  plx_error err = {0, ""};
  plx_h5 *h = create_tmp(TMP);

  ck_assert_int_eq(plx_h5_write_string(h, "meta/config", "old", &err),
                   PLX_OK);
  ck_assert_int_eq(plx_h5_write_string(h, "meta/config", text, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_string(h, "meta/empty", "", &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_vector(h, "data/v", v, 2, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_attr_string(h, "/", "plastix", "0.1", &err),
                   PLX_OK);
  ck_assert_int_eq(plx_h5_attr_string(h, "/", "plastix", "0.2", &err),
                   PLX_OK);
  ck_assert_int_eq(plx_h5_attr_double(h, "/", "dt", 0.01, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_attr_double(h, "runs/r1", "seed", 42, &err),
                   PLX_OK);
  ck_assert_int_eq(plx_h5_attr_string(h, "data/v", "units", "mV", &err),
                   PLX_OK);
  ck_assert_int_eq(plx_h5_exists(h, "runs/r1"), 1);
  plx_h5_close(h);

  ck_assert_int_eq(plx_h5_open(&h, TMP, 0, &err), PLX_OK);
  ck_assert_str_eq(plx_h5_path(h), TMP);
  ck_assert_int_eq(plx_h5_read_string(h, "meta/config", &s, &err), PLX_OK);
  ck_assert_str_eq(s, text);
  free(s);
  ck_assert_int_eq(plx_h5_read_string(h, "meta/empty", &s, &err), PLX_OK);
  ck_assert_str_eq(s, "");
  free(s);
  ck_assert_int_eq(plx_h5_read_attr_string(h, "/", "plastix", &s, &err),
                   PLX_OK);
  ck_assert_str_eq(s, "0.2");
  free(s);
  ck_assert_int_eq(plx_h5_read_attr_string(h, "data/v", "units", &s, &err),
                   PLX_OK);
  ck_assert_str_eq(s, "mV");
  free(s);
  ck_assert_int_eq(plx_h5_read_attr_double(h, "", "dt", &x, &err), PLX_OK);
  ck_assert_double_eq(x, 0.01);
  ck_assert_int_eq(plx_h5_read_attr_double(h, "runs/r1", "seed", &x, &err),
                   PLX_OK);
  ck_assert_double_eq(x, 42);
  plx_h5_close(h);

  /* fixed-length strings written by other tools read as well */
  {
    hid_t f = H5Fopen(TMP, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), ds;
    H5Tset_size(t, 8);
    H5Tset_strpad(t, H5T_STR_SPACEPAD);
    ds = H5Dcreate2(f, "fixed", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, "abc     ") >= 0);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(t);
    H5Fclose(f);
  }
  ck_assert_int_eq(plx_h5_open(&h, TMP, 0, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_read_string(h, "fixed", &s, &err), PLX_OK);
  ck_assert_str_eq(s, "abc");
  free(s);
  plx_h5_close(h);
  unlink(TMP);
}
END_TEST

#define ASSERT_ERR(call, want_code, ...)                                    \
  do {                                                                      \
    const char *want_[] = {__VA_ARGS__};                                    \
    size_t k_;                                                              \
    plx_error_clear(&err);                                                  \
    ck_assert_int_eq((call), (want_code));                                  \
    ck_assert_int_eq(err.code, (want_code));                                \
    ck_assert_ptr_null(strchr(err.msg, '\n'));                              \
    for (k_ = 0; k_ < sizeof want_ / sizeof *want_; k_++)                   \
      ck_assert_msg(strstr(err.msg, want_[k_]), "'%s' lacks '%s'", err.msg, \
                    want_[k_]);                                             \
  } while (0)

START_TEST(test_errors)
{
  double v[8] = {0}, *d = NULL;
  size_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, rows, cols, n;
  char *s = NULL, **names = NULL;
  int rank;
  plx_error err = {0, ""};
  plx_h5 *h = NULL;
  FILE *f;

  unlink("no_such_file.h5");
  ASSERT_ERR(plx_h5_open(&h, "no_such_file.h5", 0, &err), PLX_EIO,
             "no_such_file.h5", "No such file");
  ck_assert_ptr_null(h);
  ASSERT_ERR(plx_h5_create(&h, "/no/such/dir/x.h5", &err), PLX_EIO,
             "/no/such/dir/x.h5", "cannot create", "No such file");
  ck_assert_ptr_null(h);
  f = fopen(TXT, "w");
  fputs("not hdf5\n", f);
  fclose(f);
  ASSERT_ERR(plx_h5_open(&h, TXT, 0, &err), PLX_EIO, TXT, "not an HDF5");
  unlink(TXT);
  plx_h5_close(NULL);

  h = create_tmp(TMP);
  ck_assert_int_eq(plx_h5_write_array(h, "cube", v, 3, dims, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_vector(h, "g/v", v, 2, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_write_string(h, "s", "text", &err), PLX_OK);
  ASSERT_ERR(plx_h5_read_matrix(h, "g/missing", &d, &rows, &cols, &err),
             PLX_ENOTFOUND, TMP, "/g/missing");
  ck_assert_ptr_null(d);
  ASSERT_ERR(plx_h5_read_array(h, "nope/deeper", &d, &rank, dims, &err),
             PLX_ENOTFOUND, TMP, "/nope/deeper");
  ASSERT_ERR(plx_h5_read_string(h, "missing", &s, &err), PLX_ENOTFOUND, TMP,
             "/missing");
  ASSERT_ERR(plx_h5_read_matrix(h, "cube", &d, &rows, &cols, &err),
             PLX_EINVAL, TMP, "/cube", "rank 3");
  ASSERT_ERR(plx_h5_read_matrix(h, "g", &d, &rows, &cols, &err), PLX_EINVAL,
             TMP, "/g", "not a dataset");
  ASSERT_ERR(plx_h5_read_string(h, "g/v", &s, &err), PLX_EINVAL, "/g/v",
             "not a string");
  ASSERT_ERR(plx_h5_read_array(h, "s", &d, &rank, dims, &err), PLX_EINVAL,
             "/s", "not a numeric");
  ASSERT_ERR(plx_h5_write_array(h, "r0", v, 0, dims, &err), PLX_EINVAL,
             "r0", "rank");
  ASSERT_ERR(plx_h5_write_array(h, "r9", v, 9, dims, &err), PLX_EINVAL,
             "rank");
  ASSERT_ERR(plx_h5_write_matrix(h, "ld", v, 3, 2, 2, &err), PLX_EINVAL,
             "ld", "leading dimension");
  ASSERT_ERR(plx_h5_write_vector(h, "g", v, 2, &err), PLX_EINVAL, "/g",
             "not a dataset");
  ASSERT_ERR(plx_h5_write_vector(h, "s/below", v, 2, &err), PLX_EINVAL,
             "/s", "not a group");
  ASSERT_ERR(plx_h5_write_vector(h, "/", v, 2, &err), PLX_EINVAL, "root");
  ASSERT_ERR(plx_h5_list(h, "g/v", &names, &n, &err), PLX_EINVAL, "/g/v",
             "not a group");
  ASSERT_ERR(plx_h5_list(h, "h", &names, &n, &err), PLX_ENOTFOUND, "/h");
  ck_assert_ptr_null(names);
  ASSERT_ERR(plx_h5_read_attr_string(h, "g", "nope", &s, &err),
             PLX_ENOTFOUND, TMP, "/g", "nope");
  ck_assert_int_eq(plx_h5_attr_string(h, "g", "n", "x", &err), PLX_OK);
  ASSERT_ERR(plx_h5_read_attr_double(h, "g", "n", v, &err), PLX_EINVAL,
             "/g", "n");
  ASSERT_ERR(plx_h5_write_vector(NULL, "x", v, 2, &err), PLX_EINVAL,
             "no file");
  plx_h5_close(h);

  /* read-only handles refuse writes; attributes on missing objects */
  ck_assert_int_eq(plx_h5_open(&h, TMP, 0, &err), PLX_OK);
  ASSERT_ERR(plx_h5_write_vector(h, "w", v, 2, &err), PLX_EIO, TMP, "/w",
             "read-only");
  ASSERT_ERR(plx_h5_attr_double(h, "/", "a", 1.0, &err), PLX_EIO, TMP,
             "read-only");
  ASSERT_ERR(plx_h5_read_attr_double(h, "x/y", "a", v, &err), PLX_ENOTFOUND,
             TMP, "/x/y");
  plx_h5_close(h);

  /* an unwritable file: permissions (unless running as root) */
  if (geteuid() != 0) {
    chmod(TMP, 0444);
    ASSERT_ERR(plx_h5_open(&h, TMP, 1, &err), PLX_EIO, TMP,
               "Permission denied");
    chmod(TMP, 0644);
  }
  unlink(TMP);
}
END_TEST

START_TEST(test_version)
{
  const char *v = plx_h5_version();
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", H5_VERS_MAJOR, H5_VERS_MINOR,
           H5_VERS_RELEASE);
  ck_assert_str_eq(v, want);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("h5io");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int nf;
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_matrix_layout);
  tcase_add_test(tc, test_large_compressed);
  tcase_add_test(tc, test_overwrite_groups_list);
  tcase_add_test(tc, test_strings_attributes);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_version);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
