/* plastix/h5io.h -- numeric arrays, strings and attributes in HDF5 files.
 *
 * Matrices in plastix are column-major doubles (a[i + j*ld] is row i,
 * column j).  On disk they are HDF5 datasets of shape [rows, cols] in C
 * order, so h5py, MATLAB and h5dump show the same matrix: the writers and
 * readers transpose.  General arrays (plx_h5_write_array & co.) are stored
 * as given, in C order.  Paths are "a/b/c" or "/a/b/c"; writers create the
 * intermediate groups and replace an existing dataset at the same path.
 * Datasets larger than 64 KiB are chunked and gzip-compressed (level 4,
 * with shuffle).  Every failure is a one-line message naming the file and
 * the dataset; HDF5's own error printing is switched off on open. */
#ifndef PLASTIX_H5IO_H
#define PLASTIX_H5IO_H

#include "plastix/rule.h"
#include <stddef.h>

typedef struct plx_h5 plx_h5;

/* Largest rank of a dataset plastix reads or writes. */
#define PLX_H5_MAX_RANK 8

/* Create (or truncate) `path` for writing. */
int plx_h5_create(plx_h5 **out, const char *path, plx_error *err);
/* Open an existing file, read-only unless `writable`. */
int plx_h5_open(plx_h5 **out, const char *path, int writable,
                plx_error *err);
/* Flush and close; NULL is a no-op. */
void plx_h5_close(plx_h5 *h);
/* The path the file was opened with. */
const char *plx_h5_path(const plx_h5 *h);

/* 1 if a dataset or group exists at `path` ("/" always exists), else 0. */
int plx_h5_exists(plx_h5 *h, const char *path);

/* Column-major rows x cols matrix with leading dimension ld >= rows;
 * stored as a [rows, cols] dataset. */
int plx_h5_write_matrix(plx_h5 *h, const char *path, const double *a,
                        size_t rows, size_t cols, size_t ld, plx_error *err);
int plx_h5_write_vector(plx_h5 *h, const char *path, const double *v,
                        size_t n, plx_error *err);
/* C-order arrays of rank 1..PLX_H5_MAX_RANK. */
int plx_h5_write_array(plx_h5 *h, const char *path, const double *data,
                       int rank, const size_t *dims, plx_error *err);
int plx_h5_write_float_array(plx_h5 *h, const char *path, const float *data,
                             int rank, const size_t *dims, plx_error *err);
int plx_h5_write_int_array(plx_h5 *h, const char *path, const long *data,
                           int rank, const size_t *dims, plx_error *err);
/* Scalar variable-length UTF-8 string dataset. */
int plx_h5_write_string(plx_h5 *h, const char *path, const char *s,
                        plx_error *err);

/* Attributes on the group or dataset at `obj_path` ("/" is the root; a
 * missing object is created as a group).  An existing attribute of the same
 * name is replaced.  Strings are scalar variable-length UTF-8. */
int plx_h5_attr_string(plx_h5 *h, const char *obj_path, const char *name,
                       const char *value, plx_error *err);
int plx_h5_attr_double(plx_h5 *h, const char *obj_path, const char *name,
                       double value, plx_error *err);
/* Read them back (*out malloc'd for strings; any numeric attribute with one
 * element converts to double). */
int plx_h5_read_attr_string(plx_h5 *h, const char *obj_path,
                            const char *name, char **out, plx_error *err);
int plx_h5_read_attr_double(plx_h5 *h, const char *obj_path,
                            const char *name, double *out, plx_error *err);

/* Readers allocate *out with malloc (never NULL on success, even for empty
 * datasets); the caller frees it.  Any numeric type converts to double. */
/* Column-major, ld = rows; a rank-1 dataset reads as n x 1. */
int plx_h5_read_matrix(plx_h5 *h, const char *path, double **out,
                       size_t *rows, size_t *cols, plx_error *err);
/* C order as stored; a scalar dataset reads as rank 0 with one element. */
int plx_h5_read_array(plx_h5 *h, const char *path, double **out, int *rank,
                      size_t dims[PLX_H5_MAX_RANK], plx_error *err);
/* Scalar (or one-element) string dataset, fixed or variable length. */
int plx_h5_read_string(plx_h5 *h, const char *path, char **out,
                       plx_error *err);

/* Names of the members of a group: in creation order when the group tracks
 * it (every group plastix creates does), else in name order.  *names is a
 * malloc'd array of *n malloc'd strings; free with plx_h5_free_list. */
int plx_h5_list(plx_h5 *h, const char *group_path, char ***names, size_t *n,
                plx_error *err);
void plx_h5_free_list(char **names, size_t n);

/* Version of the HDF5 library in use, e.g. "1.10.8", for manifests. */
const char *plx_h5_version(void);

#endif
