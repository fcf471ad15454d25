/* test_linear.c -- tests of the linear-net path (issue 4): JPEG/PNG reading
 * and box filtering, folder/glob expansion, deterministic and cached patch
 * sets, the PCA, the exact scalar recursions of gradient descent from
 * starts aligned with the principal components (single free matrix,
 * balanced deep nets, the symmetric Q^T Q variant, supervised targets),
 * gradient flow against its closed forms, the minibatch step against
 * explicit backpropagation, the output-noise term's distribution, the
 * grating derivative against finite differences, the reduced-scale
 * configs (components learned in order of variance, sharper with depth)
 * and one-line bad-input errors. */
#include "config.h"
#include "plastix/error.h"
#include "plastix/grating.h"
#include "plastix/h5io.h"
#include "plastix/images.h"
#include "plastix/linear.h"
#include "plastix/linearnet.h"
#include "plastix/patches.h"
#include "plastix/pca.h"

#include <cblas.h>
#include <check.h>
#include <float.h>
#include <ftw.h>
#include <jpeglib.h>
#include <lapacke.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);

/* ---------------------------------------------------------- helpers */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
  (void)st, (void)flag, (void)f;
  return remove(p);
}

static void rm_rf(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void make_tmp(char *buf, size_t n)
{
  snprintf(buf, n, "/tmp/plx-linear-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(buf));
}

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static void write_png_rgb(const char *path, const unsigned char *rgb, unsigned w,
                          unsigned h)
{
  png_image pi;
  memset(&pi, 0, sizeof pi);
  pi.version = PNG_IMAGE_VERSION;
  pi.width = w;
  pi.height = h;
  pi.format = PNG_FORMAT_RGB;
  ck_assert_int_ne(png_image_write_to_file(&pi, path, 0, rgb, 0, NULL), 0);
}

static void write_jpeg(const char *path, const unsigned char *px, unsigned w,
                       unsigned h, int comps, int quality)
{
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  FILE *f = fopen(path, "wb");
  unsigned y;
  ck_assert_ptr_nonnull(f);
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = w;
  c.image_height = h;
  c.input_components = comps;
  c.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  for (y = 0; y < h; y++) {
    JSAMPROW row = (JSAMPROW)(px + (size_t)y * w * (unsigned)comps);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  fclose(f);
}

/* A small synthetic patch set (no cache): 8 images of 128^2, 1/f^1.2. */
static plx_patches *small_set(size_t side, size_t count, uint64_t seed, int need)
{
  plx_patch_spec sp;
  plx_patches *p;
  plx_error err;
  memset(&sp, 0, sizeof sp);
  sp.synthetic = 1;
  sp.synth_images = 8;
  sp.synth_side = 128;
  sp.synth_alpha = 1.2;
  sp.side = side;
  sp.count = count;
  sp.seed = seed;
  if (plx_patches_make(&p, &sp, need, NULL, &err))
    ck_abort_msg("patches: %s", err.msg);
  return p;
}

static double max_abs_diff(const double *a, const double *b, size_t n)
{
  double m = 0;
  size_t i;
  for (i = 0; i < n; i++)
    if (fabs(a[i] - b[i]) > m)
      m = fabs(a[i] - b[i]);
  return m;
}

/* B = U^T W U (d x d). */
static void rotate(const double *U, const double *W, size_t d, double *tmp, double *B)
{
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0, W,
              (int)d, U, (int)d, 0.0, tmp, (int)d);
  cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)d, 1.0, U,
              (int)d, tmp, (int)d, 0.0, B, (int)d);
}

static double max_offdiag(const double *B, size_t d)
{
  double m = 0;
  size_t i, j;
  for (j = 0; j < d; j++)
    for (i = 0; i < d; i++)
      if (i != j && fabs(B[i + j * d]) > m)
        m = fabs(B[i + j * d]);
  return m;
}

/* -------------------------------------------------- images and files */

START_TEST(test_png_exact_and_boxfilter)
{
  char dir[64], path[128];
  unsigned char rgb[6 * 4 * 3];
  plx_image im;
  plx_error err;
  size_t x, y, i;
  make_tmp(dir, sizeof dir);
  for (i = 0; i < sizeof rgb; i++)
    rgb[i] = (unsigned char)((i * 37 + 11) % 256);
  snprintf(path, sizeof path, "%s/a.png", dir);
  write_png_rgb(path, rgb, 6, 4);
  /* downsample 1: each pixel is R + G + B exactly, grey = sum / 765 */
  ck_assert_int_eq(plx_image_read(&im, path, 1, &err), PLX_OK);
  ck_assert_uint_eq(im.w, 6);
  ck_assert_uint_eq(im.h, 4);
  ck_assert_double_eq(im.scale, 1.0 / 765.0);
  for (y = 0; y < 4; y++)
    for (x = 0; x < 6; x++) {
      const unsigned char *p = rgb + (y * 6 + x) * 3;
      ck_assert_uint_eq(im.sum[y * 6 + x], (unsigned)p[0] + p[1] + p[2]);
    }
  plx_image_release(&im);
  /* downsample 2: 3 x 2 blocks, sums over 2 x 2 pixels, scale 1/(765 4) */
  ck_assert_int_eq(plx_image_read(&im, path, 2, &err), PLX_OK);
  ck_assert_uint_eq(im.w, 3);
  ck_assert_uint_eq(im.h, 2);
  ck_assert_double_eq(im.scale, 1.0 / (765.0 * 4.0));
  for (y = 0; y < 2; y++)
    for (x = 0; x < 3; x++) {
      unsigned s = 0, a, b;
      for (a = 0; a < 2; a++)
        for (b = 0; b < 2; b++) {
          const unsigned char *p = rgb + ((2 * y + a) * 6 + 2 * x + b) * 3;
          s += (unsigned)p[0] + p[1] + p[2];
        }
      ck_assert_uint_eq(im.sum[y * 3 + x], s);
    }
  plx_image_release(&im);
  /* downsample 4: a 6 x 4 image holds one block (the partial one dropped) */
  ck_assert_int_eq(plx_image_read(&im, path, 4, &err), PLX_OK);
  ck_assert_uint_eq(im.w, 1);
  ck_assert_uint_eq(im.h, 1);
  plx_image_release(&im);
  /* downsample 5: not one block fits in the height */
  ck_assert_int_eq(plx_image_read(&im, path, 5, &err), PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "smaller than one 5x5 downsampling block"), "%s", err.msg);
  plx_image_release(&im);
  rm_rf(dir);
}
END_TEST

START_TEST(test_jpeg_colour_and_grey)
{
  char dir[64], path[128];
  unsigned char rgb[16 * 16 * 3], grey[16 * 16];
  plx_image im;
  plx_error err;
  size_t i;
  make_tmp(dir, sizeof dir);
  /* flat colours survive JPEG up to the colour conversion's rounding:
   * |grey - (R+G+B)/765| <= 3 levels / 255 per channel is loose for flat
   * blocks, whose DCT has only a DC term */
  for (i = 0; i < 16 * 16; i++) {
    rgb[3 * i] = 200;
    rgb[3 * i + 1] = 100;
    rgb[3 * i + 2] = 50;
    grey[i] = 77;
  }
  snprintf(path, sizeof path, "%s/c.jpg", dir);
  write_jpeg(path, rgb, 16, 16, 3, 100);
  ck_assert_int_eq(plx_image_read(&im, path, 1, &err), PLX_OK);
  ck_assert_uint_eq(im.w, 16);
  for (i = 0; i < 256; i++)
    ck_assert_msg(fabs(im.sum[i] * im.scale - 350.0 / 765.0) <= 3.0 / 255.0,
                  "pixel %zu grey %g", i, im.sum[i] * im.scale);
  plx_image_release(&im);
  /* a greyscale JPEG counts its one channel three times */
  snprintf(path, sizeof path, "%s/g.JPEG", dir);
  write_jpeg(path, grey, 16, 16, 1, 100);
  ck_assert_int_eq(plx_image_read(&im, path, 2, &err), PLX_OK);
  ck_assert_uint_eq(im.w, 8);
  for (i = 0; i < 64; i++)
    ck_assert_uint_eq(im.sum[i], 4u * 3u * 77u);
  plx_image_release(&im);
  /* a truncated JPEG: an error naming the file, nothing printed */
  {
    FILE *f = fopen(path, "rb");
    unsigned char buf[200];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/broken.jpg", dir);
    f = fopen(path, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    ck_assert_int_eq(plx_image_read(&im, path, 1, &err), PLX_EINVAL);
    ck_assert_msg(strstr(err.msg, "broken.jpg: unreadable JPEG") != NULL, "%s", err.msg);
  }
  snprintf(path, sizeof path, "%s/text.png", dir);
  write_text(path, "not an image\n");
  ck_assert_int_eq(plx_image_read(&im, path, 1, &err), PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "text.png: not a JPEG or PNG image") != NULL, "%s", err.msg);
  snprintf(path, sizeof path, "%s/none.png", dir);
  ck_assert_int_eq(plx_image_read(&im, path, 1, &err), PLX_ENOTFOUND);
  ck_assert_msg(strstr(err.msg, "none.png: cannot open image: No such file") != NULL, "%s",
                err.msg);
  rm_rf(dir);
}
END_TEST

START_TEST(test_expand_folders_and_globs)
{
  char dir[64], path[160], empty[96];
  unsigned char rgb[12] = {0};
  char **list = NULL;
  size_t n = 0;
  plx_error err;
  make_tmp(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/b.png", dir);
  write_png_rgb(path, rgb, 2, 2);
  snprintf(path, sizeof path, "%s/a.PNG", dir);
  write_png_rgb(path, rgb, 2, 2);
  snprintf(path, sizeof path, "%s/notes.txt", dir);
  write_text(path, "x");
  ck_assert_int_eq(plx_images_expand(dir, &list, &n, &err), PLX_OK);
  ck_assert_uint_eq(n, 2);
  ck_assert_msg(strstr(list[0], "/a.PNG") && strstr(list[1], "/b.png"), "%s %s", list[0],
                list[1]);
  snprintf(path, sizeof path, "%s/*.png", dir);
  ck_assert_int_eq(plx_images_expand(path, &list, &n, &err), PLX_OK);
  ck_assert_uint_eq(n, 3);
  ck_assert_ptr_nonnull(strstr(list[2], "/b.png"));
  snprintf(path, sizeof path, "%s/*.gif", dir);
  ck_assert_int_eq(plx_images_expand(path, &list, &n, &err), PLX_ENOTFOUND);
  ck_assert_msg(strstr(err.msg, "no file matches") != NULL, "%s", err.msg);
  ck_assert_int_eq(plx_images_expand("/nonexistent/x.jpg", &list, &n, &err), PLX_ENOTFOUND);
  snprintf(empty, sizeof empty, "%s/empty", dir);
  mkdir(empty, 0700);
  ck_assert_int_eq(plx_images_expand(empty, &list, &n, &err), PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "no JPEG or PNG images") != NULL, "%s", err.msg);
  ck_assert_uint_eq(n, 3);
  plx_images_free_list(list, n);
  rm_rf(dir);
}
END_TEST

/* ------------------------------------------------------------ patches */

START_TEST(test_patches_mean_cov_deterministic_cached)
{
  char dir[64];
  plx_patch_spec sp;
  plx_patches *a, *b, *c;
  plx_error err;
  const size_t P = 6, d = 36, n = 3000;
  double *mean, *cov, *x;
  size_t k, i, j;
  make_tmp(dir, sizeof dir);
  memset(&sp, 0, sizeof sp);
  sp.synthetic = 1;
  sp.synth_images = 3;
  sp.synth_side = 64;
  sp.synth_alpha = 1.0;
  sp.side = P;
  sp.count = n;
  sp.seed = 11;
  sp.cache_dir = dir;
  ck_assert_int_eq(plx_patches_make(&a, &sp, 1, NULL, &err), PLX_OK);
  ck_assert_int_eq(a->cache_hit, 0);
  ck_assert_str_eq(a->cache_note, "written");
  /* mean and covariance against a direct two-pass computation */
  mean = calloc(d, sizeof *mean);
  cov = calloc(d * d, sizeof *cov);
  x = malloc(d * sizeof *x);
  for (k = 0; k < n; k++)
    for (i = 0; i < d; i++)
      mean[i] += a->x[k * d + i] * a->scale / (double)n;
  for (k = 0; k < n; k++) {
    for (i = 0; i < d; i++)
      x[i] = a->x[k * d + i] * a->scale - mean[i];
    for (j = 0; j < d; j++)
      for (i = 0; i < d; i++)
        cov[i + j * d] += x[i] * x[j] / (double)n;
  }
  /* two summation orders of n terms of size <= 1: n eps apart at most */
  ck_assert_double_le(max_abs_diff(mean, a->mean, d), (double)n * DBL_EPSILON);
  ck_assert_double_le(max_abs_diff(cov, a->cov, d * d), (double)n * DBL_EPSILON);
  for (j = 0; j < d; j++) /* exactly symmetric */
    for (i = 0; i < d; i++)
      ck_assert(a->cov[i + j * d] == a->cov[j + i * d]);
  /* the second run reads the cache: identical patches, mean, covariance */
  ck_assert_int_eq(plx_patches_make(&b, &sp, 1, NULL, &err), PLX_OK);
  ck_assert_int_eq(b->cache_hit, 1);
  ck_assert_str_eq(b->cache_path, a->cache_path);
  ck_assert_int_eq(memcmp(a->x, b->x, n * d * sizeof *a->x), 0);
  ck_assert_int_eq(memcmp(a->cov, b->cov, d * d * sizeof *a->cov), 0);
  ck_assert_int_eq(memcmp(a->mean, b->mean, d * sizeof *a->mean), 0);
  plx_patches_free(b);
  /* without the patches (full batch) */
  ck_assert_int_eq(plx_patches_make(&b, &sp, 0, NULL, &err), PLX_OK);
  ck_assert_int_eq(b->cache_hit, 1);
  ck_assert_ptr_null(b->x);
  ck_assert_int_eq(memcmp(a->cov, b->cov, d * d * sizeof *a->cov), 0);
  plx_patches_free(b);
  /* recut without a cache: the same seed gives the same patches */
  sp.cache_dir = NULL;
  ck_assert_int_eq(plx_patches_make(&b, &sp, 1, NULL, &err), PLX_OK);
  ck_assert_int_eq(b->cache_hit, 0);
  ck_assert_str_eq(b->cache_note, "disabled");
  ck_assert_int_eq(memcmp(a->x, b->x, n * d * sizeof *a->x), 0);
  plx_patches_free(b);
  /* another seed is another key and other patches */
  sp.cache_dir = dir;
  sp.seed = 12;
  ck_assert_int_eq(plx_patches_make(&c, &sp, 1, NULL, &err), PLX_OK);
  ck_assert_int_eq(c->cache_hit, 0);
  ck_assert_str_ne(c->key, a->key);
  ck_assert_int_ne(memcmp(a->x, c->x, n * d * sizeof *a->x), 0);
  /* the batch covariance of all patches (any order) is the covariance */
  {
    size_t *idx = malloc(n * sizeof *idx);
    double *S = malloc(d * d * sizeof *S), *work = malloc(d * 100 * sizeof *work);
    for (k = 0; k < n; k++)
      idx[k] = n - 1 - k;
    plx_patches_batch_cov(c, idx, n, S, work, 100);
    ck_assert_double_le(max_abs_diff(S, c->cov, d * d), (double)n * DBL_EPSILON);
    free(idx);
    free(S);
    free(work);
  }
  plx_patches_free(a);
  plx_patches_free(c);
  free(mean);
  free(cov);
  free(x);
  rm_rf(dir);
}
END_TEST

START_TEST(test_pca_known_spectrum)
{
  const size_t d = 24;
  double *A = malloc(d * d * sizeof *A), tau[24], lam[24], *S = calloc(d * d, sizeof *S);
  plx_rng *r = plx_rng_alloc(5, 0, PLX_POP_INIT);
  plx_pca *p;
  plx_error err;
  size_t i, j, k;
  /* a random orthogonal U (QR of a Gaussian matrix) and a power law */
  plx_rng_normal_fill(r, A, d * d, 1.0);
  ck_assert_int_eq(LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (int)d, (int)d, A, (int)d, tau), 0);
  ck_assert_int_eq(LAPACKE_dorgqr(LAPACK_COL_MAJOR, (int)d, (int)d, (int)d, A, (int)d, tau), 0);
  for (k = 0; k < d; k++)
    lam[k] = 2.0 * pow((double)(k + 1), -1.5);
  for (k = 0; k < d; k++)
    for (j = 0; j < d; j++)
      for (i = 0; i < d; i++)
        S[i + j * d] += lam[k] * A[i + k * d] * A[j + k * d];
  ck_assert_int_eq(plx_pca_compute(&p, S, d, &err), PLX_OK);
  for (k = 0; k < d; k++) {
    double dotp = 0, big = 0;
    /* backward-stable eigensolver: |lambda_k - computed| <= O(d eps ||S||) */
    ck_assert_double_le(fabs(p->values[k] - lam[k]), 10.0 * d * DBL_EPSILON * lam[0]);
    for (i = 0; i < d; i++) {
      dotp += p->vectors[i + k * d] * A[i + k * d];
      if (fabs(p->vectors[i + k * d]) > fabs(big))
        big = p->vectors[i + k * d];
    }
    /* the eigenvalues are well separated (gap >= 0.007): vectors agree
     * up to sign to O(d eps ||S|| / gap) */
    ck_assert_double_le(fabs(fabs(dotp) - 1.0), 1e-10);
    ck_assert(big > 0); /* sign convention */
  }
  ck_assert_double_le(fabs(plx_pca_powerlaw(p, 1, d, NULL) + 1.5), 1e-9);
  plx_pca_free(p);
  plx_rng_free(r);
  free(A);
  free(S);
}
END_TEST

/* ------------------------------------------ exact recursions (spec) */

typedef struct aligned_case {
  size_t layers;
  int symmetric, supervised;
  double eta;
  int steps;
} aligned_case;

static const aligned_case aligned_cases[] = {
    {1, 0, 0, 10.0, 400}, /* single free matrix                    */
    {1, 0, 1, 10.0, 400}, /* supervised: sigma -> t / lambda        */
    {2, 0, 0, 10.0, 400}, /* balanced two-layer net                 */
    {3, 0, 0, 10.0, 400}, /* balanced three-layer net               */
    {2, 0, 1, 10.0, 400}, /* supervised two-layer net               */
    {1, 1, 0, 5.0, 400},  /* the reference "1-layer": W = A^T A     */
};

/* With every factor U diag(a) U^T and S U = U Lambda, the gradient stays
 * diagonal in the basis U, and per component (c = 2/d, target m):
 *   plain product:  a' = a - eta c lambda a^(N-1) (a^N - m),   sigma = a^N
 *   W = Q^T Q:      a' = a - 2 eta c lambda a^(2N-1) (a^(2N) - m),
 *                   sigma = a^(2N)
 * (N = 1: sigma_k = m - (m - sigma_0)(1 - eta c lambda)^k exactly). */
START_TEST(test_aligned_recursions)
{
  const aligned_case *tc = &aligned_cases[_i];
  plx_patches *ps = small_set(8, 4096, 3, 0);
  const size_t d = ps->d, N = tc->layers;
  const double cst = 2.0 / (double)d;
  plx_pca *pca;
  plx_error err;
  plx_linear *m = plx_linear_new(d, N, tc->symmetric);
  double *a = malloc(d * sizeof *a), *sig0 = malloc(d * sizeof *sig0);
  double *tgt = malloc(d * sizeof *tgt), *M = NULL;
  double *tmp = malloc(d * d * sizeof *tmp), *B = malloc(d * d * sizeof *B);
  const double e = tc->symmetric ? 2.0 * (double)N : (double)N;
  double worst = 0, worst_off = 0, moved = 0;
  size_t k, i, j;
  int t;
  ck_assert_ptr_nonnull(m);
  ck_assert_int_eq(plx_pca_compute(&pca, ps->cov, d, &err), PLX_OK);
  for (k = 0; k < d; k++) {
    /* different starts per component, so W is no multiple of I */
    sig0[k] = 0.002 * (double)(1 + k % 5);
    a[k] = pow(sig0[k], 1.0 / e);
    tgt[k] = tc->supervised ? pow((double)(k + 1), -0.5) : 1.0;
  }
  if (tc->supervised) { /* M = U diag(m) U^T: t_k = m_k lambda_k */
    M = calloc(d * d, sizeof *M);
    for (k = 0; k < d; k++)
      for (j = 0; j < d; j++)
        for (i = 0; i < d; i++)
          M[i + j * d] += tgt[k] * pca->vectors[i + k * d] * pca->vectors[j + k * d];
  }
  plx_linear_init_aligned(m, pca->vectors, a);
  for (t = 1; t <= tc->steps; t++) {
    plx_linear_step(m, ps->cov, M, NULL, tc->eta, NULL);
    for (k = 0; k < d; k++) {
      const double g = tc->eta * cst * pca->values[k];
      if (tc->symmetric)
        a[k] -= 2.0 * g * pow(a[k], 2.0 * (double)N - 1.0) * (pow(a[k], 2.0 * (double)N) - tgt[k]);
      else
        a[k] -= g * pow(a[k], (double)N - 1.0) * (pow(a[k], (double)N) - tgt[k]);
    }
    if (t % 50 == 0) {
      rotate(pca->vectors, m->prod, d, tmp, B);
      for (k = 0; k < d; k++) {
        double sig = pow(a[k], e), diff = fabs(B[k + k * d] - sig);
        if (N == 1 && !tc->symmetric) /* the closed form, too */
          diff = fmax(diff, fabs(B[k + k * d] - (tgt[k] - (tgt[k] - sig0[k]) *
                                                pow(1.0 - tc->eta * cst * pca->values[k], t))));
        if (diff > worst)
          worst = diff;
        if (fabs(sig - sig0[k]) > moved)
          moved = fabs(sig - sig0[k]);
      }
      if (max_offdiag(B, d) > worst_off)
        worst_off = max_offdiag(B, d);
    }
  }
  fprintf(stderr, "aligned case %d (N = %zu%s%s): max |diag - recursion| %.3g, "
          "max |offdiag| %.3g, largest move %.3f\n", _i, N, tc->symmetric ? ", Q^T Q" : "",
          tc->supervised ? ", supervised" : "", worst, worst_off, moved);
  /* The components moved by O(1), so the comparison is not vacuous. */
  ck_assert_double_ge(moved, 0.5);
  /* Rounding: each step commits O(d eps) relative errors in W (GEMMs of
   * length d) and in the PCA's residual S U - U Lambda; the recursion
   * contracts for N = 1 and amplifies a perturbation at most by the
   * growth sigma_end / sigma_0 <= 1 / 0.002 for deep nets.  d eps = 1.4e-14
   * times 500 times 400 steps is 3e-9: the full matrix simulation must
   * follow the scalar recursion that closely (float precision is 6e-8). */
  ck_assert_msg(worst <= 3e-9, "diag deviates by %g", worst);
  ck_assert_msg(worst_off <= 3e-9, "off-diagonal part of U^T W U reaches %g", worst_off);
  free(M);
  free(a);
  free(sig0);
  free(tgt);
  free(tmp);
  free(B);
  plx_linear_free(m);
  plx_pca_free(pca);
  plx_patches_free(ps);
}
END_TEST

/* Supervised fixed point: sigma_k -> t_k / lambda_k = m_k.  Long run on a
 * few well-conditioned components. */
START_TEST(test_supervised_fixed_point)
{
  const size_t d = 16;
  double *A = malloc(d * d * sizeof *A), tau[16], lam[16], mk[16];
  double *S = calloc(d * d, sizeof *S), *M = calloc(d * d, sizeof *M);
  double *tmp = malloc(d * d * sizeof *tmp), *B = malloc(d * d * sizeof *B), a[16];
  plx_rng *r = plx_rng_alloc(9, 0, PLX_POP_INIT);
  plx_linear *m = plx_linear_new(d, 2, 0);
  size_t i, j, k;
  int t;
  plx_rng_normal_fill(r, A, d * d, 1.0);
  LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (int)d, (int)d, A, (int)d, tau);
  LAPACKE_dorgqr(LAPACK_COL_MAJOR, (int)d, (int)d, (int)d, A, (int)d, tau);
  for (k = 0; k < d; k++) {
    lam[k] = 1.0 + 0.1 * (double)k; /* every component learns fast */
    mk[k] = 0.3 + 0.05 * (double)k;  /* t_k = m_k lambda_k */
    a[k] = 0.1;
  }
  for (k = 0; k < d; k++)
    for (j = 0; j < d; j++)
      for (i = 0; i < d; i++) {
        S[i + j * d] += lam[k] * A[i + k * d] * A[j + k * d];
        M[i + j * d] += mk[k] * A[i + k * d] * A[j + k * d];
      }
  plx_linear_init_aligned(m, A, a);
  /* eta = 0.5, c = 1/8: near the fixed point a^2 = m the recursion
   * a' = a - eta c lambda a (a^2 - m) contracts by 1 - 2 eta c lambda m,
   * between 1 - 0.33 and 1 - 0.0375 per step; the growth from 0.01 takes
   * ~ ln(30) / 0.0375 ~ 90 steps; 2000 steps leave (1 - 0.0375)^1900 ~
   * 1e-32, far below rounding */
  for (t = 0; t < 2000; t++)
    plx_linear_step(m, S, M, NULL, 0.5, NULL);
  rotate(A, m->prod, d, tmp, B);
  for (k = 0; k < d; k++)
    ck_assert_msg(fabs(B[k + k * d] - mk[k]) <= 1e-12, "PC %zu: %g vs t/lambda = %g", k,
                  B[k + k * d], mk[k]);
  ck_assert_double_le(max_offdiag(B, d), 1e-12);
  plx_linear_free(m);
  plx_rng_free(r);
  free(A);
  free(S);
  free(M);
  free(tmp);
  free(B);
}
END_TEST

/* ---------------------------------------------------- gradient flow */

/* Closed forms of da/dtau = lambda a^(N-1) (1 - a^N), sigma = a^N:
 * N = 1: sigma = 1 - (1 - s0) e^(-lambda tau)
 * N = 2: sigma = 1 / (1 + (1/s0 - 1) e^(-2 lambda tau))   (logistic)
 * N = 3: G(a) - G(a0) = lambda tau with
 *        G(a) = -1/a - ln(1-a)/3 + ln(a^2+a+1)/6 - atan((2a+1)/sqrt 3)/sqrt 3 */
static double G3(double a)
{
  return -1.0 / a - log(1.0 - a) / 3.0 + log(a * a + a + 1.0) / 6.0 -
         atan((2.0 * a + 1.0) / sqrt(3.0)) / sqrt(3.0);
}

/* sigma(tau) from sigma(0) = s0 for N layers, lt = lambda tau. */
static double flow_sigma(size_t N, double s0, double lt)
{
  if (N == 1)
    return 1.0 - (1.0 - s0) * exp(-lt);
  if (N == 2)
    return 1.0 / (1.0 + (1.0 / s0 - 1.0) * exp(-2.0 * lt));
  {
    const double x0 = cbrt(s0), target = G3(x0) + lt;
    double lo = x0, hi = 1.0;
    int it;
    for (it = 0; it < 200; it++) { /* G3 increases on (0, 1) */
      double mid = 0.5 * (lo + hi);
      if (G3(mid) < target)
        lo = mid;
      else
        hi = mid;
    }
    return pow(0.5 * (lo + hi), 3.0);
  }
}

START_TEST(test_gradient_flow_closed_forms)
{
  const size_t N = (size_t)_i + 1, d = 12;
  const double cst = 2.0 / (double)d, a0 = N == 3 ? 0.2 : 0.1;
  double *A = malloc(d * d * sizeof *A), tau[12], lam[12], a[12];
  double *S = calloc(d * d, sizeof *S), *tmp = malloc(d * d * sizeof *tmp);
  double *B = malloc(d * d * sizeof *B);
  plx_rng *r = plx_rng_alloc(17, 0, PLX_POP_INIT);
  plx_linear *m = plx_linear_new(d, N, 0);
  /* tau-step h = eta c; lambda_1 h = 1e-4 */
  const double h = 1e-4, eta = h / cst, T = N == 3 ? 12.0 : 6.0;
  const long steps = (long)(T / h + 0.5);
  size_t i, j, k;
  long t;
  plx_rng_normal_fill(r, A, d * d, 1.0);
  LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (int)d, (int)d, A, (int)d, tau);
  LAPACKE_dorgqr(LAPACK_COL_MAJOR, (int)d, (int)d, (int)d, A, (int)d, tau);
  for (k = 0; k < d; k++) {
    lam[k] = pow((double)(k + 1), -1.2);
    a[k] = pow(a0, 1.0 / (double)N); /* the product starts at a0 */
  }
  for (k = 0; k < d; k++)
    for (j = 0; j < d; j++)
      for (i = 0; i < d; i++)
        S[i + j * d] += lam[k] * A[i + k * d] * A[j + k * d];
  plx_linear_init_aligned(m, A, a);
  for (t = 0; t < steps; t++)
    plx_linear_step(m, S, NULL, NULL, eta, NULL);
  rotate(A, m->prod, d, tmp, B);
  for (k = 0; k < 4; k++) {
    /* Euler's global error for x' = g(x) on [x0, 1] (x = the factor's
     * value, g(x) = lambda x^(N-1)(1 - x^N)):
     *   |e(T)| <= h M2 / (2 mu) (e^(mu T) - 1), or h M2 T / 2 if mu <= 0,
     * mu = max g'(x), M2 = max |g'(x) g(x)| over the path; the product's
     * error is at most N times the factor's (x <= 1).  Plus rounding:
     * steps d eps. */
    const double x0 = pow(a0, 1.0 / (double)N);
    double mu = -INFINITY, M2 = 0, bound, sim, exact;
    int q;
    for (q = 0; q <= 100000; q++) {
      double x = x0 + (1.0 - x0) * q / 100000.0;
      double g = lam[k] * pow(x, (double)N - 1) * (1 - pow(x, (double)N));
      double gp = lam[k] * ((double)(N - 1) * pow(x, (double)N - 2) * (1 - pow(x, (double)N)) -
                            (double)N * pow(x, 2.0 * (double)N - 2));
      if (N == 1)
        gp = -lam[k];
      mu = fmax(mu, gp);
      M2 = fmax(M2, fabs(gp * g));
    }
    bound = mu > 0 ? h * M2 / (2 * mu) * expm1(mu * T) : h * M2 * T / 2;
    bound = (double)N * bound + (double)steps * (double)d * DBL_EPSILON;
    sim = B[k + k * d];
    exact = flow_sigma(N, a0, lam[k] * T);
    fprintf(stderr, "flow N = %zu PC %zu: sigma(T) %.8f closed form %.8f |diff| %.3g "
            "Euler bound %.3g\n", N, k + 1, sim, exact, fabs(sim - exact), bound);
    /* the flow carried the component far from its start */
    ck_assert_double_ge(exact - a0, 0.2);
    ck_assert_msg(fabs(sim - exact) <= bound, "N = %zu, PC %zu: simulated %.10f, closed "
                  "form %.10f, |diff| %.3g > Euler bound %.3g", N, k + 1, sim, exact,
                  fabs(sim - exact), bound);
  }
  plx_linear_free(m);
  plx_rng_free(r);
  free(A);
  free(S);
  free(tmp);
  free(B);
}
END_TEST

/* ------------------------------------------ minibatch step, noise term */

/* The reference code's SGD step backpropagates the batch loss
 * (1/(B d)) ||X - W2 W1 X||_F^2; the step through the batch covariance
 * must be the same update. */
START_TEST(test_minibatch_step_is_backprop)
{
  plx_patches *ps = small_set(5, 600, 21, 1);
  const size_t d = ps->d, Bn = 77;
  size_t idx[77], i;
  double *X = malloc(d * Bn * sizeof *X), *S = malloc(d * d * sizeof *S);
  double *work = malloc(d * 32 * sizeof *work), *H = malloc(d * Bn * sizeof *H);
  double *Y = malloc(d * Bn * sizeof *Y), *W1 = malloc(d * d * sizeof *W1);
  double *W2 = malloc(d * d * sizeof *W2), *E = malloc(d * Bn * sizeof *E);
  const double eta = 0.7;
  plx_linear *m = plx_linear_new(d, 2, 0);
  plx_rng *r = plx_rng_alloc(1, 0, PLX_POP_INIT);
  for (i = 0; i < Bn; i++)
    idx[i] = (i * 7 + 3) % ps->n;
  plx_linear_init_uniform(m, 0.5, r);
  memcpy(W1, m->w[0], d * d * sizeof *W1);
  memcpy(W2, m->w[1], d * d * sizeof *W2);
  plx_patches_batch_cov(ps, idx, Bn, S, work, 32);
  plx_linear_step(m, S, NULL, NULL, eta, NULL);
  /* explicit backprop */
  plx_patches_centred(ps, idx, Bn, X);
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)Bn, (int)d, 1.0, W1,
              (int)d, X, (int)d, 0.0, H, (int)d);
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)Bn, (int)d, 1.0, W2,
              (int)d, H, (int)d, 0.0, Y, (int)d);
  for (i = 0; i < d * Bn; i++)
    E[i] = 2.0 / (double)(Bn * d) * (Y[i] - X[i]); /* dL/dY */
  {
    double *g2 = malloc(d * d * sizeof *g2), *g1 = malloc(d * d * sizeof *g1);
    double *dH = malloc(d * Bn * sizeof *dH);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)d, (int)d, (int)Bn, 1.0, E,
                (int)d, H, (int)d, 0.0, g2, (int)d);
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)d, (int)Bn, (int)d, 1.0, W2,
                (int)d, E, (int)d, 0.0, dH, (int)d);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)d, (int)d, (int)Bn, 1.0, dH,
                (int)d, X, (int)d, 0.0, g1, (int)d);
    for (i = 0; i < d * d; i++) {
      W1[i] -= eta * g1[i];
      W2[i] -= eta * g2[i];
    }
    /* entries O(1), sums of B d terms: agreement to ~ B d eps */
    ck_assert_double_le(max_abs_diff(W1, m->w[0], d * d), 1e-12);
    ck_assert_double_le(max_abs_diff(W2, m->w[1], d * d), 1e-12);
    free(g1);
    free(g2);
    free(dH);
  }
  plx_linear_free(m);
  plx_rng_free(r);
  plx_patches_free(ps);
  free(X);
  free(S);
  free(work);
  free(H);
  free(Y);
  free(W1);
  free(W2);
  free(E);
}
END_TEST

/* The output-noise term (2/(B d)) sum_b n_b x_b^T has rows ~ N(0,
 * (4 sd^2 / (B d^2)) S); plx_linear_noise_grad draws it as
 * (2 sd / (d sqrt B)) Z F^T with F F^T = S. */
START_TEST(test_noise_term_distribution)
{
  const size_t d = 6, draws = 20000;
  double S[36], F[36], z[36], out[36], w[6], C[36] = {0}, A[36];
  const double sd = 0.3, Bn = 50.0, scale = 4.0 * sd * sd / (Bn * (double)(d * d));
  plx_rng *r = plx_rng_alloc(3, 0, PLX_POP_NETWORK);
  size_t i, j, k, q;
  double worst = 0;
  plx_rng_normal_fill(r, A, 36, 1.0);
  for (j = 0; j < d; j++) /* S = A A^T / d + 0.1 I */
    for (i = 0; i < d; i++) {
      double s = 0;
      for (k = 0; k < d; k++)
        s += A[i + k * d] * A[j + k * d];
      S[i + j * d] = s / (double)d + (i == j ? 0.1 : 0.0);
    }
  ck_assert_int_eq(plx_linear_sqrt(S, d, F, w), PLX_OK);
  for (q = 0; q < draws; q++) {
    plx_linear_noise_grad(d, F, sd, Bn, r, z, out);
    for (k = 0; k < d; k++) /* pool the d independent rows */
      for (j = 0; j < d; j++)
        for (i = 0; i < d; i++)
          C[i + j * d] += out[k + i * d] * out[k + j * d] / (double)(draws * d);
  }
  /* an entry of a sample covariance of n = draws d Gaussian vectors has sd
   * sqrt((S_ii S_jj + S_ij^2) / n) * scale: allow 5 of those */
  for (j = 0; j < d; j++)
    for (i = 0; i < d; i++) {
      double se = scale * sqrt((S[i + i * d] * S[j + j * d] + S[i + j * d] * S[i + j * d]) /
                               (double)(draws * d));
      double dev = fabs(C[i + j * d] - scale * S[i + j * d]) / se;
      if (dev > worst)
        worst = dev;
    }
  ck_assert_msg(worst < 5.0, "noise covariance off by %.2f standard errors", worst);
  /* a singular S falls back to the eigendecomposition: F F^T = S still */
  for (i = 0; i < 36; i++)
    S[i] = (double)((i % 6) + 1) * (double)((i / 6) + 1); /* rank one */
  ck_assert_int_eq(plx_linear_sqrt(S, d, F, w), PLX_OK);
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, 6, 6, 6, 1.0, F, 6, F, 6, 0.0, C, 6);
  ck_assert_double_le(max_abs_diff(C, S, 36), 1e-12 * 36.0);
  plx_rng_free(r);
}
END_TEST

/* ------------------------------------------------------------ gratings */

START_TEST(test_grating_derivative)
{
  const size_t P = 8, d = 64, nph = 16;
  plx_grating g;
  double *W = malloc(d * d * sizeof *W), *wc = malloc(d * P * sizeof *wc), G[64];
  double s1[64], s2[64], ds[64], y[64], y2[64];
  double Wf = 0;
  plx_rng *r = plx_rng_alloc(2, 0, PLX_POP_INIT);
  size_t i, j, q;
  const double fs[] = {0.3, 1.0, 2.5, 4.0, 6.5};
  plx_rng_normal_fill(r, W, d * d, 0.2);
  for (i = 0; i < d * d; i++)
    Wf += W[i] * W[i];
  Wf = sqrt(Wf);
  plx_grating_init(&g, P, nph, M_PI);
  plx_grating_gram(&g, W, d, wc, G);
  for (q = 0; q < sizeof fs / sizeof fs[0]; q++) {
    const double f = fs[q], h = 1e-4;
    double Dgram = plx_grating_sensitivity(&g, G, f), Ddirect = 0, Dfd = 0, bound = 0;
    for (j = 0; j < nph; j++) {
      double phi = M_PI * (double)j / (double)(nph - 1), n1 = 0, n2 = 0, ne;
      plx_grating_dstimulus(&g, f, phi, ds);
      cblas_dgemv(CblasColMajor, CblasNoTrans, 64, 64, 1.0, W, 64, ds, 1, 0.0, y, 1);
      plx_grating_stimulus(&g, f + h, phi, s1);
      plx_grating_stimulus(&g, f - h, phi, s2);
      for (i = 0; i < d; i++)
        s1[i] = (s1[i] - s2[i]) / (2 * h);
      cblas_dgemv(CblasColMajor, CblasNoTrans, 64, 64, 1.0, W, 64, s1, 1, 0.0, y2, 1);
      for (i = 0; i < d; i++) {
        n1 += y[i] * y[i];
        n2 += y2[i] * y2[i];
      }
      Ddirect += n1 / (double)nph;
      Dfd += n2 / (double)nph;
      /* central differences: per pixel |error| <= h^2/6 max|d3s/df3| =
       * h^2/6 * 0.5 x^3 <= h^2 pi^3 / 12, plus rounding 2 eps / (2h) per
       * pixel; ||W e|| <= ||W||_F ||e||; D error <= 2||Wds|| ||We|| + ||We||^2 */
      ne = Wf * sqrt((double)d) * (h * h * M_PI * M_PI * M_PI / 12.0 + DBL_EPSILON / h);
      bound += (2.0 * sqrt(n1) * ne + ne * ne) / (double)nph;
    }
    /* the Gram route and the per-phase sum are the same sum reordered */
    ck_assert_double_le(fabs(Dgram - Ddirect), 1e-12 * Ddirect);
    ck_assert_msg(fabs(Dfd - Ddirect) <= bound, "f = %g: FD %.12g exact %.12g bound %g", f,
                  Dfd, Ddirect, bound);
  }
  /* the stimulus is the documented grating: column c, x_c = pi c / 7 */
  plx_grating_stimulus(&g, 2.0, 0.4, s1);
  for (i = 0; i < P; i++)
    for (j = 0; j < P; j++)
      ck_assert_double_eq_tol(s1[i * P + j], 0.5 * sin(2.0 * M_PI * (double)j / 7.0 + 0.4) + 0.5,
                              1e-15);
  /* acuity of W = alpha I: D = alpha^2 D_I; independent scan */
  {
    double *Wid = calloc(d * d, sizeof *Wid), acu, expect = 0;
    const double alpha = 0.8, cut = 0.25;
    long k;
    for (i = 0; i < d; i++)
      Wid[i + i * d] = alpha;
    plx_grating_gram(&g, Wid, d, wc, G);
    acu = plx_grating_acuity(&g, G, 0.5, 7.0, 0.01, cut);
    for (k = 0; k <= 650; k++) {
      double f = 0.5 + 0.01 * (double)k, D = 0;
      for (j = 0; j < nph; j++) {
        double phi = M_PI * (double)j / (double)(nph - 1);
        plx_grating_dstimulus(&g, f, phi, ds);
        for (i = 0; i < d; i++)
          D += alpha * alpha * ds[i] * ds[i] / (double)nph;
      }
      if (1.0 / sqrt(D) >= cut)
        break;
      expect = f;
    }
    ck_assert_double_eq_tol(acu, expect, 1e-9);
    ck_assert_double_gt(acu, 0.5);
    free(Wid);
  }
  plx_rng_free(r);
  free(W);
  free(wc);
}
END_TEST

/* ------------------------------------------- reduced-scale configs */

typedef struct curves {
  size_t rows, K;
  double *epoch, *diag, *var;
} curves;

static void run_reduced(const char *cfg, const char *tmp, const char *name, curves *cv,
                        const char *const *extra, size_t n_extra)
{
  plx_linearnet_opts o;
  plx_error err;
  char out[256], cache[256], path[300];
  const char *ov[8];
  plx_h5 *h;
  int rank;
  size_t dims[PLX_H5_MAX_RANK], i;
  snprintf(out, sizeof out, "%s/%s", tmp, name);
  snprintf(cache, sizeof cache, "data.cache_dir=\"%s/cache\"", tmp);
  ov[0] = cache;
  for (i = 0; i < n_extra; i++)
    ov[1 + i] = extra[i];
  memset(&o, 0, sizeof o);
  if (cfg[0] == '/')
    snprintf(path, sizeof path, "%s", cfg);
  else
    snprintf(path, sizeof path, "%s/configs/%s", PLX_SRCDIR, cfg);
  o.config = path;
  o.out = out;
  o.overrides = ov;
  o.n_overrides = 1 + n_extra;
  if (plx_linearnet_run(&o, &err))
    ck_abort_msg("%s: %s", cfg, err.msg);
  snprintf(path, sizeof path, "%s/results.h5", out);
  ck_assert_int_eq(plx_h5_open(&h, path, 0, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_read_array(h, "probes/pc_diag", &cv->diag, &rank, dims, &err), PLX_OK);
  cv->rows = dims[0];
  cv->K = dims[1];
  ck_assert_int_eq(plx_h5_read_array(h, "train/epoch", &cv->epoch, &rank, dims, &err), PLX_OK);
  ck_assert_int_eq(plx_h5_read_array(h, "probes/pc_variance", &cv->var, &rank, dims, &err),
                   PLX_OK);
  plx_h5_close(h);
}

static void curves_free(curves *c)
{
  free(c->epoch);
  free(c->diag);
  free(c->var);
}

/* Epoch where PC k first reaches level p (linear interpolation between
 * probe rows); -1 if never. */
static double crossing(const curves *c, size_t k, double p)
{
  size_t i;
  for (i = 1; i < c->rows; i++) {
    double y0 = c->diag[(i - 1) * c->K + k], y1 = c->diag[i * c->K + k];
    if (y0 < p && y1 >= p)
      return c->epoch[i - 1] + (p - y0) / (y1 - y0) * (c->epoch[i] - c->epoch[i - 1]);
    if (i == 1 && y0 >= p)
      return c->epoch[0];
  }
  return -1;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median over learned components (those crossing 0.1, 0.5 and 0.9, PC 1
 * excluded: it is learned within a few epochs) of (t90 - t10) / t50, and
 * a check that the half-times follow the variances. */
static double width_and_order(const curves *c, const char *what, size_t *learned)
{
  double w[64], t50[64];
  size_t k, j, n = 0;
  for (k = 0; k < c->K && k < 64; k++)
    t50[k] = crossing(c, k, 0.5);
  for (k = 1; k < c->K && k < 64; k++) {
    double a = crossing(c, k, 0.1), b = t50[k], e = crossing(c, k, 0.9);
    if (a > 0 && b > 0 && e > 0)
      w[n++] = (e - a) / b;
  }
  /* Ordering.  For every pair whose variances differ by more than 25 %,
   * the larger one is half-learned first.  Half-times scale as 1/lambda
   * times a factor set by the start u^T W0 u (ln(1/s0) for deep nets);
   * the random start spreads that factor by ~ +-12 % (ln of a factor ~2
   * spread out of ln(1/s0) ~ 8), within the 25 % margin. */
  for (k = 0; k < c->K && k < 64; k++)
    for (j = k + 1; j < c->K && j < 64; j++) {
      if (c->var[k] < 1.25 * c->var[j] || t50[k] < 0)
        continue;
      ck_assert_msg(t50[j] < 0 || t50[k] < t50[j],
                    "%s: PC %zu (variance %g) half-learned at epoch %g, after PC %zu "
                    "(variance %g) at %g", what, k + 1, c->var[k], t50[k], j + 1, c->var[j],
                    t50[j]);
    }
  *learned = n;
  qsort(w, n, sizeof *w, cmp_double);
  return n ? (n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2])) : NAN;
}

START_TEST(test_reduced_order_and_depth)
{
  char tmp[64];
  curves c1, c2, c3;
  double w1, w2, w3;
  size_t n1, n2, n3, k, i;
  make_tmp(tmp, sizeof tmp);
  run_reduced("linear_1layer_reduced.cfg", tmp, "l1", &c1, NULL, 0);
  run_reduced("linear_2layer_reduced.cfg", tmp, "l2", &c2, NULL, 0);
  run_reduced("linear_3layer_reduced.cfg", tmp, "l3", &c3, NULL, 0);
  w1 = width_and_order(&c1, "1 layer", &n1);
  w2 = width_and_order(&c2, "2 layers", &n2);
  w3 = width_and_order(&c3, "3 layers", &n3);
  fprintf(stderr, "reduced: median (t90 - t10)/t50 = %.3f (1 layer, %zu PCs), %.3f (2, %zu), "
          "%.3f (3, %zu)\n", w1, n1, w2, n2, w3, n3);
  /* enough components learned for the medians to mean something */
  ck_assert_uint_ge(n1, 8);
  ck_assert_uint_ge(n2, 8);
  ck_assert_uint_ge(n3, 6);
  /* A single free matrix is linear in W: W_t - I = (W_0 - I)(I - eta c
   * S)^t, so u^T W u = 1 - (1 - u^T W_0 u)(1 - eta c lambda)^t exactly,
   * whatever the start: (t90 - t10)/t50 = (ln 10 - ln(10/9)) / ln 2 =
   * 3.170 up to the start (|u^T W0 u| < 0.01 shifts it by < 2 %) and
   * the interpolation between epochs (< 2 % for t50 >= 12 epochs). */
  ck_assert_msg(fabs(w1 - 3.170) < 0.04 * 3.170, "1-layer width %g", w1);
  /* sigmoidal and sharper with depth: the logistic from s0 has width
   * ln 81 / ln((1 - s0)/s0) <= 0.96 for s0 <= 0.01, and three layers
   * sharpen further */
  ck_assert_msg(w2 < 0.96 && w2 < w1 / 3.0, "2-layer width %g (1 layer %g)", w2, w1);
  ck_assert_msg(w3 < w2, "3-layer width %g not below 2-layer %g", w3, w2);
  /* the exact exponential, checked on the rows of the 1-layer run:
   * eta = 10, c = 2/64, 4 steps per epoch */
  for (k = 0; k < c1.K; k++) {
    const double g = 1.0 - 10.0 * (2.0 / 64.0) * c1.var[k];
    for (i = 0; i < c1.rows; i += 37) {
      double pred = 1.0 - (1.0 - c1.diag[k]) * pow(g, 4.0 * c1.epoch[i]);
      ck_assert_msg(fabs(c1.diag[i * c1.K + k] - pred) < 1e-9, "PC %zu epoch %g: %g vs %g",
                    k + 1, c1.epoch[i], c1.diag[i * c1.K + k], pred);
    }
  }
  curves_free(&c1);
  curves_free(&c2);
  curves_free(&c3);
  rm_rf(tmp);
}
END_TEST

/* The same config and seed give the same bits whatever OpenBLAS's thread
 * count: OpenBLAS splits a product's sums differently over 1 and 2 threads,
 * so the library runs it single-threaded (plastix/blas_threads.h) and
 * gives the caller's count back.  256-dimensional patches, so the products
 * (patch covariance 256 x 256 x 16384, full-batch steps 256^3) are large
 * enough for OpenBLAS to thread them. */
START_TEST(test_blas_thread_count)
{
  static const char *const ov[] = {"data.patch=16", "train.epochs=6", "probes.snapshot_every=3"};
  char tmp[64];
  curves a, b;
  make_tmp(tmp, sizeof tmp);
  openblas_set_num_threads(2);
  run_reduced("linear_2layer_reduced.cfg", tmp, "threads2", &a, ov, 3);
  ck_assert_int_eq(openblas_get_num_threads(), 2);
  openblas_set_num_threads(1);
  run_reduced("linear_2layer_reduced.cfg", tmp, "threads1", &b, ov, 3);
  ck_assert_int_eq(openblas_get_num_threads(), 1);
  ck_assert_uint_eq(a.rows, b.rows);
  ck_assert_uint_eq(a.K, b.K);
  ck_assert(memcmp(a.diag, b.diag, a.rows * a.K * sizeof *a.diag) == 0);
  ck_assert(memcmp(a.var, b.var, a.K * sizeof *a.var) == 0);
  curves_free(&a);
  curves_free(&b);
  rm_rf(tmp);
}
END_TEST

/* SGD with one batch of all patches is a full-batch step. */
START_TEST(test_sgd_one_batch_is_full_batch)
{
  char tmp[64];
  curves a, b;
  const char *sgd[] = {"rule.method=\"sgd\"", "rule.batch=16384", "train.epochs=60"};
  const char *full[] = {"rule.batch=16384", "train.epochs=60"};
  make_tmp(tmp, sizeof tmp);
  run_reduced("linear_2layer_reduced.cfg", tmp, "sgd", &a, sgd, 3);
  run_reduced("linear_2layer_reduced.cfg", tmp, "full", &b, full, 2);
  ck_assert_uint_eq(a.rows, b.rows);
  /* the same sums in another order (covariance by chunks of 512) */
  ck_assert_double_le(max_abs_diff(a.diag, b.diag, a.rows * a.K), 1e-10);
  curves_free(&a);
  curves_free(&b);
  rm_rf(tmp);
}
END_TEST

/* Read a dataset of a run directory's results.h5 (C order). */
static double *read_result(const char *dir, const char *name, size_t *n0, size_t *n1)
{
  char path[300];
  plx_h5 *h;
  plx_error err;
  double *v;
  int rank;
  size_t dims[PLX_H5_MAX_RANK];
  snprintf(path, sizeof path, "%s/results.h5", dir);
  ck_assert_int_eq(plx_h5_open(&h, path, 0, &err), PLX_OK);
  if (plx_h5_read_array(h, name, &v, &rank, dims, &err))
    ck_abort_msg("%s", err.msg);
  *n0 = dims[0];
  *n1 = rank > 1 ? dims[1] : 1;
  plx_h5_close(h);
  return v;
}

/* Run a config given as text (reduced synthetic data; `model` and
 * `tail` spliced in) into tmp/name. */
static void run_text(const char *tmp, const char *name, const char *model,
                     const char *tail, curves *cv, const char *const *ov, size_t nov)
{
  char cfg[256], text[2048];
  snprintf(cfg, sizeof cfg, "%s/%s.cfg", tmp, name);
  snprintf(text, sizeof text,
           "experiment = { name = \"%s\"; seed = 4; };\n"
           "data = { source = \"synthetic\"; synthetic = { images = 16; side = 256; alpha = 1.2; };\n"
           "         patch = 8; patches = 16384; };\n"
           "model = { type = \"linear_deep\"; %s };\n"
           "rule = { method = \"full_batch\"; eta = 10.0; batch = 4096; };\n"
           "probes = { pcs = 20; freq = [0.5, 6.0]; freq_points = 12; acuity_range = [0.5, 7.0];\n"
           "           cutoff = 0.3; fit_range = [4, 40]; };\n"
           "output = { figures = []; };\n%s\n",
           name, model, tail);
  write_text(cfg, text);
  run_reduced(cfg, tmp, name, cv, ov, nov);
}

/* The driver's other choices: supervised targets (pc_gains exactly, the
 * blur map), the paper's and the aligned initialisation, probe spacing,
 * and SGD with output noise reproducible from the seed. */
START_TEST(test_driver_variants)
{
  char tmp[64], dir[128];
  curves c;
  size_t n0, n1, i, j, k;
  double *v, *w;
  make_tmp(tmp, sizeof tmp);
  {
    /* supervised, M = U diag(k^-0.5) U^T, one free matrix: W_t - M =
     * (W_0 - M)(I - eta c S)^t, so u^T W u = m + (u^T W_0 u - m)(1 - eta c
     * lambda)^(4 epochs) exactly */
    const char *ov[] = {"task.type=\"supervised\"", "task.target=\"pc_gains\"",
                        "task.gain_exponent=0.5", "train.epochs=120"};
    run_reduced("linear_1layer_reduced.cfg", tmp, "sup", &c, ov, 4);
    for (k = 0; k < c.K; k++) {
      const double mk = pow((double)(k + 1), -0.5), g = 1.0 - 10.0 * (2.0 / 64.0) * c.var[k];
      for (i = 0; i < c.rows; i += 13) {
        double pred = mk + (c.diag[k] - mk) * pow(g, 4.0 * c.epoch[i]);
        ck_assert_msg(fabs(c.diag[i * c.K + k] - pred) < 1e-9, "PC %zu epoch %g: %g vs %g",
                      k + 1, c.epoch[i], c.diag[i * c.K + k], pred);
      }
    }
    /* PC 2 reached its target t/lambda = m = 2^-0.5 */
    ck_assert_double_le(fabs(c.diag[(c.rows - 1) * c.K + 1] - pow(2.0, -0.5)), 1e-3);
    curves_free(&c);
  }
  {
    /* the blur target: rows are normalised Gaussian weights over the patch */
    const char *ov[] = {"task.type=\"supervised\"", "task.target=\"blur\"",
                        "task.blur_sigma=1.5", "train.epochs=2"};
    run_reduced("linear_1layer_reduced.cfg", tmp, "blur", &c, ov, 4);
    curves_free(&c);
    snprintf(dir, sizeof dir, "%s/blur", tmp);
    v = read_result(dir, "task/target_map", &n0, &n1);
    ck_assert_uint_eq(n0, 64);
    for (i = 0; i < 64; i++) {
      double sum = 0, tot = 0;
      for (j = 0; j < 64; j++) {
        double dr = (double)(i / 8) - (double)(j / 8), dc = (double)(i % 8) - (double)(j % 8);
        tot += exp(-(dr * dr + dc * dc) / (2.0 * 1.5 * 1.5));
        sum += v[i * 64 + j]; /* [rows, cols] in C order: row i */
      }
      ck_assert_double_le(fabs(sum - 1.0), 1e-12);
      j = (i + 1) % 64;
      {
        double dr = (double)(i / 8) - (double)(j / 8), dc = (double)(i % 8) - (double)(j % 8);
        ck_assert_double_le(fabs(v[i * 64 + j] - exp(-(dr * dr + dc * dc) / 4.5) / tot), 1e-15);
      }
    }
    free(v);
  }
  {
    /* the paper's init: U(-1/(100 sqrt d), +) = U(-0.00125, 0.00125) for d = 64;
     * the largest of 4096 draws is within 0.8 of the bound with probability
     * 1 - 0.8^4096 */
    double big = 0;
    run_text(tmp, "paper", "init = \"paper\";", "train = { epochs = 1; };", &c, NULL, 0);
    curves_free(&c);
    snprintf(dir, sizeof dir, "%s/paper", tmp);
    v = read_result(dir, "weights/initial/W", &n0, &n1);
    for (i = 0; i < 64 * 64; i++)
      big = fmax(big, fabs(v[i]));
    ck_assert_double_le(big, 0.00125);
    ck_assert_double_ge(big, 0.8 * 0.00125);
    free(v);
  }
  {
    /* aligned init: u^T W u = init_sigma on every PC at epoch 0; probes
     * every 7 epochs and after the last */
    const char *ov[] = {"probes.every=7"};
    run_text(tmp, "aligned", "layers = 2; init = \"aligned\"; init_sigma = 0.01;",
             "train = { epochs = 20; };", &c, ov, 1);
    ck_assert_uint_eq(c.rows, 4);
    ck_assert_double_eq(c.epoch[1], 7.0);
    ck_assert_double_eq(c.epoch[3], 20.0);
    for (k = 0; k < c.K; k++)
      ck_assert_double_le(fabs(c.diag[k] - 0.01), 1e-14);
    curves_free(&c);
  }
  {
    /* SGD with output noise: the same seed gives the same run, another
     * seed another one */
    const char *ov[] = {"rule.method=\"sgd\"", "rule.output_noise=0.1", "train.epochs=5"};
    const char *ov2[] = {"rule.method=\"sgd\"", "rule.output_noise=0.1", "train.epochs=5",
                         "experiment.seed=5"};
    curves c2, c3;
    run_reduced("linear_1layer_reduced.cfg", tmp, "n1", &c, ov, 3);
    run_reduced("linear_1layer_reduced.cfg", tmp, "n2", &c2, ov, 3);
    run_reduced("linear_1layer_reduced.cfg", tmp, "n3", &c3, ov2, 4);
    ck_assert_int_eq(memcmp(c.diag, c2.diag, c.rows * c.K * sizeof *c.diag), 0);
    ck_assert_int_ne(memcmp(c.diag, c3.diag, c.rows * c.K * sizeof *c.diag), 0);
    snprintf(dir, sizeof dir, "%s/n1", tmp);
    w = read_result(dir, "train/loss", &n0, &n1);
    ck_assert_double_lt(w[n0 - 1], w[0]); /* it learns */
    free(w);
    curves_free(&c);
    curves_free(&c2);
    curves_free(&c3);
  }
  rm_rf(tmp);
}
END_TEST

/* Natural photographs (the 12 of mate-backgrounds' nature/, when
 * installed), by a glob: a two-layer net learns their components in order
 * of variance. */
START_TEST(test_real_photographs_small)
{
  char tmp[64];
  curves c;
  size_t n;
  if (access("/usr/share/backgrounds/mate/nature/Aqua.jpg", R_OK) != 0) {
    fprintf(stderr, "test_real_photographs_small: skipped (mate-backgrounds not installed)\n");
    return;
  }
  make_tmp(tmp, sizeof tmp);
  {
    char cfg[300];
    FILE *f;
    snprintf(cfg, sizeof cfg, "%s/photos.cfg", tmp);
    f = fopen(cfg, "w");
    fprintf(f, "experiment = { name = \"p\"; seed = 3; };\n"
               "data = { files = [\"/usr/share/backgrounds/mate/nature/*.jpg\"]; patch = 8;\n"
               "         patches = 8192; downsample = 8; cache = false; };\n"
               "model = { type = \"linear_deep\"; layers = 2; init_scale = 0.02; };\n"
               "rule = { method = \"full_batch\"; eta = 10.0; batch = 2048; };\n"
               "train = { epochs = 600; };\n"
               "probes = { pcs = 20; freq = [0.5, 6.0]; freq_points = 6; "
               "acuity_range = [0.5, 7.0]; cutoff = 0.3; fit_range = [4, 40]; };\n"
               "output = { figures = []; };\n");
    fclose(f);
    {
      plx_linearnet_opts o;
      plx_error err;
      char out[128], path[200];
      plx_h5 *h;
      int rank;
      size_t dims[PLX_H5_MAX_RANK];
      memset(&o, 0, sizeof o);
      snprintf(out, sizeof out, "%s/run", tmp);
      o.config = cfg;
      o.out = out;
      if (plx_linearnet_run(&o, &err))
        ck_abort_msg("%s", err.msg);
      snprintf(path, sizeof path, "%s/results.h5", out);
      ck_assert_int_eq(plx_h5_open(&h, path, 0, &err), PLX_OK);
      ck_assert_int_eq(plx_h5_read_array(h, "probes/pc_diag", &c.diag, &rank, dims, &err), 0);
      c.rows = dims[0];
      c.K = dims[1];
      ck_assert_int_eq(plx_h5_read_array(h, "train/epoch", &c.epoch, &rank, dims, &err), 0);
      ck_assert_int_eq(plx_h5_read_array(h, "probes/pc_variance", &c.var, &rank, dims, &err), 0);
      plx_h5_close(h);
    }
  }
  width_and_order(&c, "photographs, 2 layers", &n);
  ck_assert_uint_ge(n, 5);
  curves_free(&c);
  rm_rf(tmp);
}
END_TEST

/* ---------------------------------------------------------- bad input */

static const char *const base_cfg =
    "experiment = { name = \"bad\"; };\n"
    "model = { type = \"linear_deep\"; };\n";

/* `pattern` with every "@D" replaced by dir. */
static void subst(char *out, size_t n, const char *pattern, const char *dir)
{
  size_t k = 0, dl = strlen(dir);
  for (; *pattern && k + 1 < n; pattern++) {
    if (pattern[0] == '@' && pattern[1] == 'D' && k + dl + 1 < n) {
      memcpy(out + k, dir, dl);
      k += dl;
      pattern++;
    } else {
      out[k++] = *pattern;
    }
  }
  out[k] = '\0';
}

static int bad_run(const char *tail, const char *dir, plx_error *err, int run)
{
  char path[200], text[2048];
  snprintf(path, sizeof path, "%s/bad.cfg", dir);
  snprintf(text, sizeof text, "%s%s\n", base_cfg, tail);
  write_text(path, text);
  if (run) {
    plx_linearnet_opts o;
    char out[200];
    memset(&o, 0, sizeof o);
    snprintf(out, sizeof out, "%s/run", dir);
    o.config = path;
    o.out = out;
    return plx_linearnet_run(&o, err);
  }
  return plx_linearnet_check(path, NULL, 0, NULL, 0, err);
}

START_TEST(test_bad_inputs)
{
  char dir[64], tail[1024], path[200], needle[600];
  plx_error err;
  int rc;
  unsigned char rgb[20 * 20 * 3];
  struct stat st;
  size_t i;
  /* the config text starts at line 3 (two lines of base_cfg) */
  static const struct {
    const char *tail; /* @D: the temp dir */
    int run;
    const char *needle;
  } cases[] = {
      {"data = { folder = \"/nonexistent/photos\"; };", 0,
       "bad.cfg:3: data.folder: cannot open folder '/nonexistent/photos': No such file or directory"},
      {"data = { folder = \"@D/empty\"; };", 0,
       "bad.cfg:3: data.folder: no JPEG or PNG images (*.jpg, *.jpeg, *.png) in folder '@D/empty'"},
      {"data = { files = [\"@D/imgs/small.png\", \"@D/imgs/none.jpg\"]; };", 0,
       "bad.cfg:3: data.files[1]: cannot open '@D/imgs/none.jpg': No such file or directory"},
      {"data = { files = [\"@D/imgs/*.gif\"]; };", 0,
       "bad.cfg:3: data.files[0]: no file matches '@D/imgs/*.gif'"},
      {"data = { files = []; };", 0, "bad.cfg:3: data.files: empty list"},
      {"data = { patch = 1; };", 0,
       "bad.cfg:3: data.patch: expected an integer >= 2 and <= 64, got 1"},
      {"data = { patch = 100; };", 0,
       "bad.cfg:3: data.patch: expected an integer >= 2 and <= 64, got 100"},
      {"data = { patch = 32.0; };", 0, "bad.cfg:3: data.patch: expected an integer, got 32"},
      {"data = { files = [\"@D/imgs/small.png\"]; downsample = 1; patch = 32; };", 1,
       "bad.cfg:3: data.patch: @D/imgs/small.png: 20x20 pixels (after 1x downsampling) "
       "cannot hold a 32x32 patch"},
      {"data = { files = [\"@D/imgs/fake.jpg\"]; patch = 4; };\nprobes = { pcs = 4; };", 1,
       "bad.cfg:3: data.files[0]: @D/imgs/fake.jpg: not a JPEG or PNG image"},
      {"data = { folder = \"@D/imgs\"; downsample = 1; patch = 4; };\nprobes = { pcs = 4; };", 1,
       "bad.cfg:3: data.folder: @D/imgs/fake.jpg: not a JPEG or PNG image"},
      {"data = { source = \"synthetic\"; files = [\"x.png\"]; };", 0,
       "bad.cfg:3: data.files: only used by data.source = \"photos\""},
      {"data = { source = \"synthetic\"; patch = 8; synthetic = { side = 100; }; };", 0,
       "bad.cfg:3: data.synthetic.side: expected a power of two, got 100"},
      {"data = { source = \"synthetic\"; patch = 8; patches = 100; };\nrule = { batch = 200; };", 0,
       "bad.cfg:4: rule.batch: 200 is larger than data.patches (100)"},
      {"data = { source = \"synthetic\"; patch = 4; };\nprobes = { pcs = 17; };", 0,
       "bad.cfg:4: probes.pcs: 17 components asked for, but 4x4 patches have only 16"},
      {"data = { source = \"synthetic\"; pach = 8; };", 0,
       "bad.cfg:3: data.pach: unknown key (did you mean 'patch'?"},
      {"task = { target = \"blur\"; };", 0,
       "bad.cfg:3: task.target: only used by task.type = \"supervised\""},
      {"rule = { method = \"sgd\"; };\ntrain = { steps_per_epoch = 3; };", 0,
       "bad.cfg:4: train.steps_per_epoch: only used by rule.method = \"full_batch\""},
      {"rule = { name = \"trifactor\"; };", 0,
       "bad.cfg:3: rule.name: expected one of: gradient; got \"trifactor\""},
      {"probes = { freq = [3.0, 1.0]; };", 0,
       "bad.cfg:3: probes.freq: expected [lo, hi] with lo < hi"},
  };
  make_tmp(dir, sizeof dir);
  memset(rgb, 90, sizeof rgb);
  snprintf(path, sizeof path, "%s/imgs", dir);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/imgs/small.png", dir);
  write_png_rgb(path, rgb, 20, 20);
  snprintf(path, sizeof path, "%s/imgs/fake.jpg", dir);
  write_text(path, "GIF89a, not a jpeg");
  snprintf(path, sizeof path, "%s/empty", dir);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/empty/readme.txt", dir);
  write_text(path, "no images here");
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    subst(tail, sizeof tail, cases[i].tail, dir);
    subst(needle, sizeof needle, cases[i].needle, dir);
    rc = bad_run(tail, dir, &err, cases[i].run);
    ck_assert_msg(rc != PLX_OK, "case %zu accepted", i);
    ck_assert_int_eq(plx_exit_status(rc), PLX_EXIT_BADINPUT);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "case %zu: '%s' lacks '%s'", i, err.msg,
                  needle);
    ck_assert_ptr_null(strchr(err.msg, '\n'));
    /* a failed run leaves no directory behind */
    snprintf(path, sizeof path, "%s/run", dir);
    ck_assert_int_ne(stat(path, &st), 0);
  }
  /* the model type is required and checked */
  snprintf(path, sizeof path, "%s/t.cfg", dir);
  write_text(path, "model = { type = \"linear_dep\"; };\n");
  rc = plx_linearnet_check(path, NULL, 0, NULL, 0, &err);
  ck_assert_int_eq(plx_exit_status(rc), PLX_EXIT_BADINPUT);
  ck_assert_msg(strstr(err.msg, "t.cfg:1: model.type: expected one of: linear_deep; got "
                                "\"linear_dep\"") != NULL, "%s", err.msg);
  ck_assert_int_eq(plx_linearnet_wants(path, NULL, 0), 0);
  {
    const char *ov[] = {"model.type=\"linear_deep\""};
    ck_assert_int_eq(plx_linearnet_wants(path, ov, 1), 1);
  }
  rm_rf(dir);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("linear");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int nf;
  openblas_set_num_threads(1);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_png_exact_and_boxfilter);
  tcase_add_test(tc, test_jpeg_colour_and_grey);
  tcase_add_test(tc, test_expand_folders_and_globs);
  tcase_add_test(tc, test_patches_mean_cov_deterministic_cached);
  tcase_add_test(tc, test_pca_known_spectrum);
  tcase_add_loop_test(tc, test_aligned_recursions, 0,
                      (int)(sizeof aligned_cases / sizeof aligned_cases[0]));
  tcase_add_test(tc, test_supervised_fixed_point);
  tcase_add_loop_test(tc, test_gradient_flow_closed_forms, 0, 3);
  tcase_add_test(tc, test_minibatch_step_is_backprop);
  tcase_add_test(tc, test_noise_term_distribution);
  tcase_add_test(tc, test_grating_derivative);
  tcase_add_test(tc, test_reduced_order_and_depth);
  tcase_add_test(tc, test_blas_thread_count);
  tcase_add_test(tc, test_sgd_one_batch_is_full_batch);
  tcase_add_test(tc, test_driver_variants);
  tcase_add_test(tc, test_real_photographs_small);
  tcase_add_test(tc, test_bad_inputs);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
