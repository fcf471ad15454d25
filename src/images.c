/* images.c -- greyscale images for the linear-net path: JPEG (libjpeg) and
 * PNG (libpng's simplified API) photographs averaged over R, G, B and
 * box-filtered into exact integer sums, folder and glob expansion, and
 * synthetic Gaussian images with a power-law spectrum (GSL FFT). */
#include "config.h"
#include "plastix/images.h"
#include "plastix/error.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <gsl/gsl_fft_complex.h>
#include <jpeglib.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const plx_images_default_photos[] = {
    "/usr/share/backgrounds/mate/nature/Aqua.jpg",
    "/usr/share/backgrounds/mate/nature/Blinds.jpg",
    "/usr/share/backgrounds/mate/nature/Dune.jpg",
    "/usr/share/backgrounds/mate/nature/FreshFlower.jpg",
    "/usr/share/backgrounds/mate/nature/Garden.jpg",
    "/usr/share/backgrounds/mate/nature/GreenMeadow.jpg",
    "/usr/share/backgrounds/mate/nature/LadyBird.jpg",
    "/usr/share/backgrounds/mate/nature/RainDrops.jpg",
    "/usr/share/backgrounds/mate/nature/Storm.jpg",
    "/usr/share/backgrounds/mate/nature/TwoWings.jpg",
    "/usr/share/backgrounds/mate/nature/Wood.jpg",
    "/usr/share/backgrounds/mate/nature/YellowFlower.jpg",
    "/usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg",
    "/usr/share/backgrounds/Dragonfly_by_Bolly.jpg",
    "/usr/share/backgrounds/Picture_0B_by_freespace.jpg",
    "/usr/share/backgrounds/Picture_1A_by_freespace.jpg",
    "/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg",
    "/usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg",
    "/usr/share/backgrounds/free_by_Peter_Nerlich.jpg",
    "/usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg",
    "/usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg",
    "/usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg",
    "/usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg",
    "/usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg",
    "/usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg",
    NULL};

void plx_image_release(plx_image *img)
{
  if (!img)
    return;
  free(img->sum);
  memset(img, 0, sizeof *img);
}

/* ------------------------------------------------------------ helpers */

/* Output image for a w0 x h0 source box-filtered by k. */
static int alloc_out(plx_image *img, size_t w0, size_t h0, unsigned k,
                     const char *path, plx_error *err)
{
  img->w = w0 / k;
  img->h = h0 / k;
  img->scale = 1.0 / (765.0 * (double)k * (double)k);
  if (img->w == 0 || img->h == 0)
    return plx_error_set(err, PLX_EINVAL,
                         "%s: image of %zux%zu pixels is smaller than one "
                         "%ux%u downsampling block", path, w0, h0, k, k);
  img->sum = calloc(img->w * img->h, sizeof *img->sum);
  if (!img->sum)
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory for %zux%zu pixels",
                         path, img->w, img->h);
  return PLX_OK;
}

/* Add one source row (RGB or grey, `comps` bytes per pixel) into the
 * output row y0 / k. */
static void add_row(plx_image *img, const unsigned char *row, size_t y0,
                    unsigned k, int comps)
{
  size_t y = y0 / k, x;
  uint16_t *out;
  if (y >= img->h)
    return;
  out = img->sum + y * img->w;
  for (x = 0; x < img->w * k; x++) {
    const unsigned char *p = row + x * (size_t)comps;
    unsigned v = comps == 1 ? 3u * p[0] : (unsigned)p[0] + p[1] + p[2];
    out[x / k] = (uint16_t)(out[x / k] + v);
  }
}

/* ------------------------------------------------------------- JPEG */

typedef struct jpeg_err {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_fail(j_common_ptr c)
{
  jpeg_err *e = (jpeg_err *)c->err;
  (*c->err->format_message)(c, e->msg);
  longjmp(e->jump, 1);
}

static void jpeg_quiet(j_common_ptr c) { (void)c; }

static int read_jpeg(plx_image *img, FILE *f, const char *path, unsigned k,
                     plx_error *err)
{
  struct jpeg_decompress_struct cinfo;
  jpeg_err je;
  unsigned char *volatile row = NULL; /* freed after a longjmp */
  int rc;
  memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&je.mgr);
  je.mgr.error_exit = jpeg_fail;
  je.mgr.output_message = jpeg_quiet;
  je.msg[0] = '\0';
  if (setjmp(je.jump)) {
    free((void *)row);
    jpeg_destroy_decompress(&cinfo);
    plx_image_release(img);
    return plx_error_set(err, PLX_EINVAL, "%s: unreadable JPEG: %s", path, je.msg);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, f);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.num_components == 1)
    cinfo.out_color_space = JCS_GRAYSCALE;
  else if (cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB)
    cinfo.out_color_space = JCS_RGB;
  else {
    jpeg_destroy_decompress(&cinfo);
    return plx_error_set(err, PLX_EINVAL,
                         "%s: unsupported JPEG colour space (CMYK/YCCK); "
                         "convert it to RGB", path);
  }
  jpeg_start_decompress(&cinfo);
  rc = alloc_out(img, cinfo.output_width, cinfo.output_height, k, path, err);
  if (rc == PLX_OK) {
    row = malloc((size_t)cinfo.output_width * (size_t)cinfo.output_components);
    if (!row)
      rc = plx_error_set(err, PLX_ENOMEM, "%s: out of memory", path);
  }
  if (rc != PLX_OK) {
    jpeg_destroy_decompress(&cinfo);
    plx_image_release(img);
    return rc;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rp = row;
    size_t y = cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &rp, 1);
    add_row(img, row, y, k, cinfo.output_components);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  free((void *)row);
  return PLX_OK;
}

/* -------------------------------------------------------------- PNG */

static int read_png(plx_image *img, const char *path, unsigned k,
                    plx_error *err)
{
  png_image pi;
  unsigned char *buf;
  size_t y, stride;
  int rc;
  memset(&pi, 0, sizeof pi);
  pi.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&pi, path))
    return plx_error_set(err, PLX_EINVAL, "%s: unreadable PNG: %s", path, pi.message);
  pi.format = PNG_FORMAT_RGB; /* 16-bit and palette images come out 8-bit sRGB */
  stride = PNG_IMAGE_ROW_STRIDE(pi);
  buf = malloc(PNG_IMAGE_BUFFER_SIZE(pi, stride));
  if (!buf) {
    png_image_free(&pi);
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", path);
  }
  if (!png_image_finish_read(&pi, NULL, buf, (png_int_32)stride, NULL)) {
    rc = plx_error_set(err, PLX_EINVAL, "%s: unreadable PNG: %s", path, pi.message);
    png_image_free(&pi);
    free(buf);
    return rc;
  }
  if ((rc = alloc_out(img, pi.width, pi.height, k, path, err))) {
    free(buf);
    return rc;
  }
  for (y = 0; y < pi.height; y++)
    add_row(img, buf + y * stride, y, k, 3);
  free(buf);
  return PLX_OK;
}

int plx_image_read(plx_image *img, const char *path, unsigned downsample,
                   plx_error *err)
{
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  unsigned char head[8];
  size_t got;
  FILE *f;
  int rc;
  memset(img, 0, sizeof *img);
  if (downsample < 1 || downsample > PLX_IMAGE_MAX_DOWNSAMPLE)
    return plx_error_set(err, PLX_EINVAL, "%s: downsampling factor %u outside 1..%u",
                         path, downsample, PLX_IMAGE_MAX_DOWNSAMPLE);
  f = fopen(path, "rb");
  if (!f)
    return plx_error_set(err, PLX_ENOTFOUND, "%s: cannot open image: %s", path,
                         strerror(errno));
  got = fread(head, 1, sizeof head, f);
  if (got >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) {
    rewind(f);
    rc = read_jpeg(img, f, path, downsample, err);
    fclose(f);
    return rc;
  }
  fclose(f);
  if (got == sizeof head && memcmp(head, png_sig, sizeof head) == 0)
    return read_png(img, path, downsample, err);
  return plx_error_set(err, PLX_EINVAL, "%s: not a JPEG or PNG image", path);
}

/* -------------------------------------------------------- synthetic */

static int is_pow2(size_t n) { return n && !(n & (n - 1)); }

int plx_image_synthetic(plx_image *img, size_t side, double alpha,
                        plx_rng *rng, plx_error *err)
{
  double *z, sd = 0.0;
  size_t i, j, n;
  memset(img, 0, sizeof *img);
  if (!is_pow2(side) || side < 8 || side > 8192)
    return plx_error_set(err, PLX_EINVAL,
                         "synthetic image side %zu is not a power of two in 8..8192", side);
  if (!isfinite(alpha))
    return plx_error_set(err, PLX_EINVAL, "synthetic image exponent is not finite");
  n = side * side;
  z = malloc(2 * n * sizeof *z); /* packed complex, row-major */
  img->sum = malloc(n * sizeof *img->sum);
  if (!z || !img->sum) {
    free(z);
    plx_image_release(img);
    return plx_error_set(err, PLX_ENOMEM, "out of memory for a %zux%zu image", side, side);
  }
  img->w = img->h = side;
  img->scale = 1.0 / 765.0;
  /* complex white noise shaped by |k|^-alpha; DC removed */
  plx_rng_normal_fill(rng, z, 2 * n, 1.0);
  for (i = 0; i < side; i++) {
    double ky = (double)(i <= side / 2 ? i : side - i);
    for (j = 0; j < side; j++) {
      double kx = (double)(j <= side / 2 ? j : side - j);
      double k2 = kx * kx + ky * ky;
      double a = k2 > 0 ? pow(k2, -0.5 * alpha) : 0.0;
      z[2 * (i * side + j)] *= a;
      z[2 * (i * side + j) + 1] *= a;
    }
  }
  /* 2-D inverse FFT: rows, then columns */
  for (i = 0; i < side; i++)
    gsl_fft_complex_radix2_backward(z + 2 * i * side, 1, side);
  for (j = 0; j < side; j++)
    gsl_fft_complex_radix2_backward(z + 2 * j, side, side);
  /* the real part is a real Gaussian field with the same spectral shape */
  for (i = 0; i < n; i++)
    sd += z[2 * i] * z[2 * i];
  sd = sqrt(sd / (double)n);
  for (i = 0; i < n; i++) {
    double g = 0.5 + (sd > 0 ? z[2 * i] / sd : 0.0) / 8.0;
    g = g < 0.0 ? 0.0 : g > 1.0 ? 1.0 : g;
    img->sum[i] = (uint16_t)lround(765.0 * g);
  }
  free(z);
  return PLX_OK;
}

/* ---------------------------------------------------------- listing */

static int has_image_ext(const char *name)
{
  const char *dot = strrchr(name, '.');
  char ext[8];
  size_t i;
  if (!dot || strlen(dot + 1) >= sizeof ext)
    return 0;
  for (i = 0; dot[1 + i]; i++)
    ext[i] = (char)tolower((unsigned char)dot[1 + i]);
  ext[i] = '\0';
  return !strcmp(ext, "jpg") || !strcmp(ext, "jpeg") || !strcmp(ext, "png");
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(char ***paths, size_t *n, size_t *cap, const char *s)
{
  char *d;
  if (*n == *cap) {
    size_t nc = *cap ? 2 * *cap : 16;
    char **np = realloc(*paths, nc * sizeof *np);
    if (!np)
      return PLX_ENOMEM;
    *paths = np;
    *cap = nc;
  }
  d = malloc(strlen(s) + 1);
  if (!d)
    return PLX_ENOMEM;
  strcpy(d, s);
  (*paths)[(*n)++] = d;
  return PLX_OK;
}

int plx_images_expand(const char *pattern, char ***paths, size_t *n,
                      plx_error *err)
{
  struct stat st;
  size_t cap = *n, first = *n, i; /* push() reallocs whenever n == cap */
  if (stat(pattern, &st) == 0 && S_ISDIR(st.st_mode)) {
    DIR *d = opendir(pattern);
    struct dirent *de;
    if (!d)
      return plx_error_set(err, PLX_ENOTFOUND, "cannot open folder '%s': %s",
                           pattern, strerror(errno));
    while ((de = readdir(d)) != NULL) {
      char full[4096];
      struct stat fs;
      if (de->d_name[0] == '.' || !has_image_ext(de->d_name))
        continue;
      snprintf(full, sizeof full, "%s/%s", pattern, de->d_name);
      if (stat(full, &fs) != 0 || !S_ISREG(fs.st_mode))
        continue;
      if (push(paths, n, &cap, full)) {
        closedir(d);
        return plx_error_set(err, PLX_ENOMEM, "out of memory");
      }
    }
    closedir(d);
    if (*n == first)
      return plx_error_set(err, PLX_EINVAL,
                           "no JPEG or PNG images (*.jpg, *.jpeg, *.png) in folder '%s'",
                           pattern);
    qsort(*paths + first, *n - first, sizeof **paths, cmp_str);
    return PLX_OK;
  }
  if (stat(pattern, &st) == 0) {
    if (push(paths, n, &cap, pattern))
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    return PLX_OK;
  }
  {
    glob_t g;
    int grc = glob(pattern, 0, NULL, &g);
    if (grc == GLOB_NOMATCH || (grc == 0 && g.gl_pathc == 0)) {
      if (grc == 0)
        globfree(&g);
      if (strpbrk(pattern, "*?["))
        return plx_error_set(err, PLX_ENOTFOUND, "no file matches '%s'", pattern);
      return plx_error_set(err, PLX_ENOTFOUND, "cannot open '%s': %s", pattern,
                           strerror(ENOENT));
    }
    if (grc != 0)
      return plx_error_set(err, PLX_ENOTFOUND, "cannot expand '%s'", pattern);
    for (i = 0; i < g.gl_pathc; i++)
      if (push(paths, n, &cap, g.gl_pathv[i])) {
        globfree(&g);
        return plx_error_set(err, PLX_ENOMEM, "out of memory");
      }
    globfree(&g); /* glob(3) sorts its matches */
  }
  return PLX_OK;
}

void plx_images_free_list(char **paths, size_t n)
{
  size_t i;
  if (!paths)
    return;
  for (i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
}
