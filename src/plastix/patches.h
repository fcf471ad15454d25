/* plastix/patches.h -- random square patches of greyscale images for the
 * linear-net path, their per-pixel mean and covariance, cached on disk.
 *
 * A patch set is n patches of side P (d = P^2 pixels, row-major: pixel
 * (r, c) at index r P + c) cut at uniformly random positions of the images
 * (every valid position of every image equally likely), from the stream
 * (seed, 0, PLX_POP_DATA); synthetic images come from the streams (seed, i,
 * PLX_POP_SUB(PLX_POP_DATA, 2)).  Pixels are kept as the images' exact
 * integer sums (grey = value * scale).  The covariance is that of the
 * per-pixel centred patches, normalised by n (the MSE is a mean over
 * patches):  Sigma = (1/n) sum_p (x_p - mean)(x_p - mean)^T.
 *
 * The cache is one HDF5 file per key in a cache directory,
 * patches-<hash>.h5, holding the key text, the patches (uint16), the mean
 * and the covariance; the key covers the source (each file's path, size
 * and modification time, or the synthetic parameters), the downsampling,
 * the patch side, the count and the seed.  A second run with the same key
 * reads the file instead of recutting. */
#ifndef PLASTIX_PATCHES_H
#define PLASTIX_PATCHES_H

#include "plastix/protocol.h" /* plx_progress */
#include "plastix/rule.h"

#include <stddef.h>
#include <stdint.h>

typedef struct plx_patch_spec {
  int synthetic;              /* 0: photographs from `files`             */
  const char *const *files;   /* image paths (expanded, no globs)         */
  size_t n_files;
  unsigned downsample;        /* box filter of the photographs, 1..9      */
  size_t synth_images;        /* synthetic: number of images              */
  size_t synth_side;          /*            their side (power of two)     */
  double synth_alpha;         /*            amplitude spectrum |k|^-alpha */
  size_t side;                /* patch side P                             */
  size_t count;               /* number of patches n                      */
  uint64_t seed;
  const char *cache_dir;      /* NULL or "": no cache                     */
  /* out: index into files of the image that failed (or (size_t)-1), and
   * whether it failed because a patch does not fit into it */
  size_t failed_file;
  int failed_fit;
} plx_patch_spec;

typedef struct plx_patches {
  size_t n, side, d;
  uint16_t *x;        /* [n * d] patch p at x + p d; NULL when not asked for */
  double scale;       /* grey = x * scale                                    */
  double *mean;       /* [d] per-pixel mean grey                             */
  double *cov;        /* [d * d] covariance (symmetric, column-major)        */
  size_t n_images;    /* images the patches were cut from                    */
  double seconds;     /* wall time to cut (or read) and reduce               */
  int cache_hit;      /* 1: read from the cache                              */
  char cache_path[1100]; /* the cache file ("" without a cache)              */
  char cache_note[300];  /* "hit", "written", "disabled" or why not written   */
  char key[64];       /* hex hash of the key                                 */
} plx_patches;

/* Cut (or read from the cache) the patch set of `spec`.  need_patches = 0
 * keeps only mean and covariance in memory (full-batch training needs no
 * more).  A cache that cannot be written is not an error (cache_note
 * says why).  Errors naming an image set spec->failed_file. */
int plx_patches_make(plx_patches **out, plx_patch_spec *spec,
                     int need_patches, const plx_progress *prog,
                     plx_error *err);
void plx_patches_free(plx_patches *p);

/* Centred grey values of patches idx[0..m) into X (d x m, column-major). */
void plx_patches_centred(const plx_patches *p, const size_t *idx, size_t m,
                         double *X);

/* Covariance of patches idx[0..m) about the set's mean,
 * S = (1/m) sum (x - mean)(x - mean)^T (full symmetric d x d), using
 * `work` (d x chunk doubles) for chunks of `chunk` patches. */
void plx_patches_batch_cov(const plx_patches *p, const size_t *idx, size_t m,
                           double *S, double *work, size_t chunk);

/* $XDG_CACHE_HOME/plastix, else $HOME/.cache/plastix, else "" (no cache). */
void plx_patches_default_cache_dir(char *buf, size_t n);

#endif
