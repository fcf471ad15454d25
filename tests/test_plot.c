/* test_plot.c -- figures: every series type renders to PNG and SVG of the
 * requested size, SVG output is byte-for-byte reproducible, write failures
 * are reported as PLX_EIO naming the file, and empty panels, NaN/infinite
 * or absurd data and NULL arguments are handled without crashing. */
#include "config.h"
#include "plastix/plot.h"
#include "plastix/error.h"

#include <cairo.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 960
#define H 600

static long file_size(const char *path)
{
  FILE *f = fopen(path, "rb");
  long n = -1;
  if (f) {
    if (fseek(f, 0, SEEK_END) == 0)
      n = ftell(f);
    fclose(f);
  }
  return n;
}

static char *slurp(const char *path, long *n)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  *n = file_size(path);
  ck_assert_ptr_nonnull(f);
  ck_assert_int_gt(*n, 0);
  buf = malloc((size_t)*n + 1);
  ck_assert_ptr_nonnull(buf);
  ck_assert_uint_eq(fread(buf, 1, (size_t)*n, f), (size_t)*n);
  buf[*n] = '\0';
  fclose(f);
  return buf;
}

/* Pixels in [x0,x1)x[y0,y1) of an RGB24/ARGB32 image within `tol` of rgb
 * (tol < 0: pixels that are not white). */
static long count_pixels(cairo_surface_t *img, int x0, int y0, int x1,
                         int y1, int r, int g, int b, int tol)
{
  unsigned char *d = cairo_image_surface_get_data(img);
  int stride = cairo_image_surface_get_stride(img), x, y;
  long n = 0;
  for (y = y0; y < y1; y++)
    for (x = x0; x < x1; x++) {
      unsigned v = *(const unsigned *)(const void *)(d + y * stride + 4 * x);
      int pr = (v >> 16) & 255, pg = (v >> 8) & 255, pb = v & 255;
      if (tol < 0)
        n += pr != 255 || pg != 255 || pb != 255;
      else
        n += abs(pr - r) <= tol && abs(pg - g) <= tol && abs(pb - b) <= tol;
    }
  return n;
}

/* A 2 x 3 figure with every series type.  Arrays are freed right after
 * each call: the figure must hold copies. */
static plx_figure *full_figure(void)
{
  enum { N = 200, NB = 20, NE = 8, NX = 30, NY = 20 };
  plx_figure *fig = plx_figure_new(2, 3, W, H);
  plx_axes *ax;
  double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
  double *lo = malloc(N * sizeof *lo), *hi = malloc(N * sizeof *hi);
  double *z = malloc(NX * NY * sizeof *z), e[NE], xe[NE], ye[NE];
  double xb[NB], hb[NB];
  int i, j;
  ck_assert_ptr_nonnull(fig);
  plx_figure_title(fig, "plastix figure test");

  /* (0,0): line with a NaN gap, band, reference lines, legend */
  ax = plx_figure_axes(fig, 0, 0);
  ck_assert_ptr_nonnull(ax);
  for (i = 0; i < N; i++) {
    x[i] = i * 0.05;
    y[i] = sin(x[i]) * exp(-0.1 * x[i]);
    lo[i] = y[i] - 0.15;
    hi[i] = y[i] + 0.15;
  }
  for (i = 80; i < 90; i++)
    y[i] = NAN;
  ck_assert_int_eq(plx_axes_band(ax, x, lo, hi, N, 0), PLX_OK);
  ck_assert_int_eq(plx_axes_line(ax, x, y, N, 0, PLX_SOLID, "mean"), PLX_OK);
  for (i = 0; i < N; i++)
    y[i] = 0.8 * cos(x[i]);
  ck_assert_int_eq(plx_axes_line(ax, x, y, N, 1, PLX_DASHED, "cos"),
                   PLX_OK);
  ck_assert_int_eq(plx_axes_hline(ax, 0.0, PLX_C_BLACK, PLX_DOTTED), PLX_OK);
  ck_assert_int_eq(plx_axes_vline(ax, 5.0, 2, PLX_DASHED), PLX_OK);
  plx_axes_title(ax, "Line, band, NaN gap");
  plx_axes_xlabel(ax, "time (s)");
  plx_axes_ylabel(ax, "weight");

  /* (0,1): scatter and error bars */
  ax = plx_figure_axes(fig, 0, 1);
  for (i = 0; i < N; i++) {
    x[i] = sin(i * 1.3) * 2;
    y[i] = cos(i * 0.7) * 1.5 + 0.3 * x[i];
  }
  ck_assert_int_eq(plx_axes_scatter(ax, x, y, N, 2, "samples"), PLX_OK);
  for (i = 0; i < NE; i++) {
    xe[i] = -2 + 4.0 * i / (NE - 1);
    ye[i] = 0.3 * xe[i];
    e[i] = 0.2 + 0.05 * i;
  }
  ck_assert_int_eq(plx_axes_errorbars(ax, xe, ye, e, NE, 1, "binned mean"),
                   PLX_OK);
  plx_axes_title(ax, "Scatter + error bars");
  plx_axes_xlabel(ax, "pre rate");
  plx_axes_ylabel(ax, "post rate");

  /* (0,2): histogram bars with automatic width */
  ax = plx_figure_axes(fig, 0, 2);
  for (i = 0; i < NB; i++) {
    xb[i] = -1 + 2.0 * (i + 0.5) / NB;
    hb[i] = 100 * exp(-xb[i] * xb[i] * 4);
  }
  ck_assert_int_eq(plx_axes_bars(ax, xb, hb, NB, 0, 4, "weights"), PLX_OK);
  ck_assert_int_eq(plx_axes_vline(ax, 0.0, 1, PLX_SOLID), PLX_OK);
  plx_axes_title(ax, "Histogram");
  plx_axes_xlabel(ax, "w");
  plx_axes_ylabel(ax, "count");

  /* (1,0): log-log with non-positive values to skip */
  ax = plx_figure_axes(fig, 1, 0);
  for (i = 0; i < N; i++) {
    x[i] = pow(10, -1 + 4.0 * i / (N - 1));
    y[i] = 3 * pow(x[i], -1.5);
  }
  x[10] = 0;
  y[20] = -1;
  ck_assert_int_eq(plx_axes_line(ax, x, y, N, 5, PLX_SOLID, "x^-1.5"),
                   PLX_OK);
  for (i = 0; i < N; i++)
    y[i] = 0.5 * pow(x[i], -1.0);
  ck_assert_int_eq(plx_axes_line(ax, x, y, N, 3, PLX_DOTTED, "x^-1"),
                   PLX_OK);
  plx_axes_logx(ax, 1);
  plx_axes_logy(ax, 1);
  plx_axes_title(ax, "Power spectrum (log-log)");
  plx_axes_xlabel(ax, "frequency (Hz)");
  plx_axes_ylabel(ax, "power");

  /* (1,1): heatmap with colour bar and a NaN cell */
  ax = plx_figure_axes(fig, 1, 1);
  for (j = 0; j < NY; j++)
    for (i = 0; i < NX; i++)
      z[i + j * NX] = sin(i * 0.3) * cos(j * 0.4) + 0.02 * i;
  z[5 + 5 * NX] = NAN;
  ck_assert_int_eq(plx_axes_heatmap(ax, z, NX, NY, 0, 30, 0, 20, "dw"),
                   PLX_OK);
  plx_axes_title(ax, "Weight matrix");
  plx_axes_xlabel(ax, "presynaptic");
  plx_axes_ylabel(ax, "postsynaptic");

  /* (1,2): semilog y, fixed x limits, legend switched off */
  ax = plx_figure_axes(fig, 1, 2);
  for (i = 0; i < N; i++) {
    x[i] = i;
    y[i] = 1e-3 + exp(-i / 30.0);
  }
  ck_assert_int_eq(plx_axes_line(ax, x, y, N, 6, PLX_SOLID, "loss"), PLX_OK);
  plx_axes_logy(ax, 1);
  plx_axes_xlim(ax, 0, 150);
  plx_axes_legend(ax, 0);
  plx_axes_title(ax, "Training loss");
  plx_axes_xlabel(ax, "epoch");

  free(x);
  free(y);
  free(lo);
  free(hi);
  free(z);
  return fig;
}

START_TEST(test_full_png_svg)
{
  plx_figure *fig = full_figure(), *again;
  plx_error err = {0, ""};
  cairo_surface_t *img;
  char *a, *b;
  long na, nb;
  ck_assert_int_eq(plx_figure_save(fig, "test_plot_full",
                                   PLX_FIG_PNG | PLX_FIG_SVG, &err),
                   PLX_OK);
  ck_assert_int_gt(file_size("test_plot_full.png"), 10000);
  ck_assert_int_gt(file_size("test_plot_full.svg"), 10000);

  img = cairo_image_surface_create_from_png("test_plot_full.png");
  ck_assert_int_eq(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
  ck_assert_int_eq(cairo_image_surface_get_width(img), W);
  ck_assert_int_eq(cairo_image_surface_get_height(img), H);
  /* ink in the middle of the top-left panel */
  ck_assert_int_gt(count_pixels(img, W / 12, H / 8, W / 3 - W / 12, H / 2 - H / 8,
                                0, 0, 0, -1), 500);
  /* the heatmap panel holds the low and high ends of viridis */
  ck_assert_int_gt(count_pixels(img, W / 3, H / 2, 2 * W / 3, H,
                                68, 1, 84, 40), 50);
  ck_assert_int_gt(count_pixels(img, W / 3, H / 2, 2 * W / 3, H,
                                253, 231, 37, 40), 50);
  /* blue (palette 0) line and band in the first panel */
  ck_assert_int_gt(count_pixels(img, 0, 0, W / 3, H / 2, 0, 114, 178, 30),
                   100);
  cairo_surface_destroy(img);

  a = slurp("test_plot_full.svg", &na);
  ck_assert(strncmp(a, "<?xml", 5) == 0 || strncmp(a, "<svg", 4) == 0);
  ck_assert_ptr_nonnull(strstr(a, "width=\"960pt\""));

  /* same figure saved again, and a fresh identical figure: same bytes */
  ck_assert_int_eq(plx_figure_save(fig, "test_plot_full2", PLX_FIG_SVG, &err),
                   PLX_OK);
  b = slurp("test_plot_full2.svg", &nb);
  ck_assert_int_eq(na, nb);
  ck_assert(memcmp(a, b, (size_t)na) == 0);
  free(b);
  again = full_figure();
  ck_assert_int_eq(plx_figure_save(again, "test_plot_full2", PLX_FIG_SVG,
                                   &err), PLX_OK);
  b = slurp("test_plot_full2.svg", &nb);
  ck_assert_int_eq(na, nb);
  ck_assert(memcmp(a, b, (size_t)na) == 0);
  free(a);
  free(b);
  plx_figure_free(again);
  plx_figure_free(fig);
  if (!getenv("PLX_KEEP_FIGURES")) {
    remove("test_plot_full.png");
    remove("test_plot_full.svg");
  }
  remove("test_plot_full2.svg");
}
END_TEST

START_TEST(test_write_error)
{
  plx_figure *fig = plx_figure_new(1, 1, 200, 150);
  plx_error err = {0, ""};
  double x[2] = {0, 1};
  ck_assert_int_eq(plx_axes_line(plx_figure_axes(fig, 0, 0), x, x, 2, 0,
                                 PLX_SOLID, NULL), PLX_OK);
  ck_assert_int_eq(plx_figure_save(fig, "no_such_dir_plx/fig", PLX_FIG_PNG,
                                   &err), PLX_EIO);
  ck_assert_int_eq(err.code, PLX_EIO);
  ck_assert_ptr_nonnull(strstr(err.msg, "no_such_dir_plx/fig.png"));
  ck_assert_int_eq(plx_figure_save(fig, "no_such_dir_plx/fig", PLX_FIG_SVG,
                                   &err), PLX_EIO);
  ck_assert_ptr_nonnull(strstr(err.msg, "no_such_dir_plx/fig.svg"));
  /* NULL error slot is allowed */
  ck_assert_int_eq(plx_figure_save(fig, "no_such_dir_plx/fig", PLX_FIG_PNG,
                                   NULL), PLX_EIO);
  ck_assert_int_eq(plx_figure_save(fig, "test_plot_bad", 0, &err),
                   PLX_EINVAL);
  ck_assert_int_eq(plx_figure_save(fig, "test_plot_bad", 4, &err),
                   PLX_EINVAL);
  ck_assert_int_eq(plx_figure_save(fig, NULL, PLX_FIG_PNG, &err),
                   PLX_EINVAL);
  ck_assert_int_eq(plx_figure_save(NULL, "x", PLX_FIG_PNG, &err), PLX_EINVAL);
  ck_assert_int_eq(file_size("test_plot_bad.png"), -1);
  plx_figure_free(fig);
}
END_TEST

START_TEST(test_empty_and_nonfinite)
{
  plx_figure *fig = plx_figure_new(2, 3, 700, 420);
  plx_error err = {0, ""};
  double nan4[4] = {NAN, NAN, NAN, NAN}, x4[4] = {0, 1, 2, 3};
  double wild[6] = {1e300, -1e300, INFINITY, -INFINITY, 1.7e308, 0.5};
  double neg[4] = {-1, 0, -3, -4};
  double zn[6] = {NAN, NAN, NAN, NAN, NAN, NAN}, zc[4] = {2, 2, 2, 2};
  plx_axes *ax;
  cairo_surface_t *img;
  /* (0,0) stays empty; (0,1): all-NaN series of every kind */
  ax = plx_figure_axes(fig, 0, 1);
  plx_axes_title(ax, "all NaN");
  ck_assert_int_eq(plx_axes_line(ax, nan4, nan4, 4, 0, 0, "nan"), PLX_OK);
  ck_assert_int_eq(plx_axes_scatter(ax, nan4, nan4, 4, 1, NULL), PLX_OK);
  ck_assert_int_eq(plx_axes_band(ax, nan4, nan4, nan4, 4, 2), PLX_OK);
  ck_assert_int_eq(plx_axes_bars(ax, nan4, nan4, 4, NAN, 3, "b"), PLX_OK);
  ck_assert_int_eq(plx_axes_errorbars(ax, nan4, nan4, nan4, 4, 4, "e"),
                   PLX_OK);
  ck_assert_int_eq(plx_axes_hline(ax, NAN, 5, PLX_SOLID), PLX_OK);
  ck_assert_int_eq(plx_axes_vline(ax, INFINITY, 5, PLX_SOLID), PLX_OK);
  ck_assert_int_eq(plx_axes_heatmap(ax, zn, 3, 2, 0, 1, 0, 1, NULL), PLX_OK);
  /* (0,2): absurd magnitudes mixed with finite values */
  ax = plx_figure_axes(fig, 0, 2);
  ck_assert_int_eq(plx_axes_line(ax, x4, wild, 4, 0, PLX_DASHED, "wild"),
                   PLX_OK);
  ck_assert_int_eq(plx_axes_line(ax, wild, wild, 6, 1, 7, NULL), PLX_OK);
  ck_assert_int_eq(plx_axes_band(ax, wild, wild, wild + 1, 5, 2), PLX_OK);
  ck_assert_int_eq(plx_axes_bars(ax, wild, wild, 6, 1e308, 3, NULL), PLX_OK);
  ck_assert_int_eq(plx_axes_errorbars(ax, wild, wild, wild, 6, 4, NULL),
                   PLX_OK);
  /* (1,0): log axes with only non-positive data */
  ax = plx_figure_axes(fig, 1, 0);
  plx_axes_logx(ax, 1);
  plx_axes_logy(ax, 1);
  ck_assert_int_eq(plx_axes_line(ax, neg, neg, 4, 0, 0, NULL), PLX_OK);
  ck_assert_int_eq(plx_axes_bars(ax, x4, neg, 4, 1, 0, NULL), PLX_OK);
  /* (1,1): zoomed far into a constant heatmap, zero-length series */
  ax = plx_figure_axes(fig, 1, 1);
  ck_assert_int_eq(plx_axes_heatmap(ax, zc, 2, 2, 0, 1, 0, 1, "c"), PLX_OK);
  plx_axes_xlim(ax, 0.5, 0.5 + 1e-9);
  plx_axes_ylim(ax, 0.2, 0.2 + 1e-9);
  ck_assert_int_eq(plx_axes_line(ax, NULL, NULL, 0, 0, 0, NULL), PLX_OK);
  /* (1,2): a single point; reversed limits; log axis in a narrow range */
  ax = plx_figure_axes(fig, 1, 2);
  ck_assert_int_eq(plx_axes_scatter(ax, x4 + 1, x4 + 1, 1, 0, "one"),
                   PLX_OK);
  plx_axes_xlim(ax, 2, 0);
  plx_axes_logy(ax, 1);
  plx_axes_ylim(ax, 2, 3);

  ck_assert_int_eq(plx_figure_save(fig, "test_plot_empty",
                                   PLX_FIG_PNG | PLX_FIG_SVG, &err),
                   PLX_OK);
  img = cairo_image_surface_create_from_png("test_plot_empty.png");
  ck_assert_int_eq(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
  ck_assert_int_eq(cairo_image_surface_get_width(img), 700);
  ck_assert_int_eq(cairo_image_surface_get_height(img), 420);
  /* the empty panel still has its frame */
  ck_assert_int_gt(count_pixels(img, 0, 0, 700 / 3, 210, 0, 0, 0, -1), 300);
  cairo_surface_destroy(img);
  ck_assert_int_gt(file_size("test_plot_empty.svg"), 1000);
  plx_figure_free(fig);
  if (!getenv("PLX_KEEP_FIGURES")) {
    remove("test_plot_empty.png");
    remove("test_plot_empty.svg");
  }
}
END_TEST

START_TEST(test_api_guards)
{
  plx_figure *fig;
  double x[3] = {1, 2, 3};
  plx_figure_free(NULL);
  ck_assert_ptr_null(plx_figure_new(0, 1, 100, 100));
  ck_assert_ptr_null(plx_figure_new(1, 1, 0, 100));
  ck_assert_ptr_null(plx_figure_new(1, 1, 100, NAN));
  ck_assert_ptr_null(plx_figure_new(1, 1, 1e6, 100));
  fig = plx_figure_new(1, 2, 300, 200);
  ck_assert_ptr_nonnull(fig);
  ck_assert_ptr_null(plx_figure_axes(fig, 1, 0));
  ck_assert_ptr_null(plx_figure_axes(fig, 0, 2));
  ck_assert_ptr_null(plx_figure_axes(fig, -1, 0));
  ck_assert_ptr_null(plx_figure_axes(NULL, 0, 0));
  /* NULL axes are ignored by setters and refused by series */
  plx_axes_title(NULL, "t");
  plx_axes_xlabel(NULL, "x");
  plx_axes_ylabel(NULL, "y");
  plx_axes_xlim(NULL, 0, 1);
  plx_axes_ylim(NULL, 0, 1);
  plx_axes_clim(NULL, 0, 1);
  plx_axes_logx(NULL, 1);
  plx_axes_logy(NULL, 1);
  plx_axes_legend(NULL, 1);
  plx_figure_title(NULL, "t");
  ck_assert_int_eq(plx_axes_line(NULL, x, x, 3, 0, 0, NULL), PLX_EINVAL);
  ck_assert_int_eq(plx_axes_hline(NULL, 0, 0, 0), PLX_EINVAL);
  ck_assert_int_eq(plx_axes_line(plx_figure_axes(fig, 0, 0), NULL, x, 3, 0,
                                 0, NULL), PLX_EINVAL);
  ck_assert_int_eq(plx_axes_band(plx_figure_axes(fig, 0, 0), x, x, NULL, 3,
                                 0), PLX_EINVAL);
  ck_assert_int_eq(plx_axes_heatmap(plx_figure_axes(fig, 0, 0), x, 0, 3, 0,
                                    1, 0, 1, NULL), PLX_EINVAL);
  ck_assert_int_eq(plx_axes_heatmap(plx_figure_axes(fig, 0, 0), x, 3, 1, 0,
                                    0, 0, 1, NULL), PLX_EINVAL);
  /* titles can be replaced and removed */
  plx_figure_title(fig, "a");
  plx_figure_title(fig, "b");
  plx_figure_title(fig, NULL);
  plx_axes_title(plx_figure_axes(fig, 0, 1), "panel");
  plx_axes_title(plx_figure_axes(fig, 0, 1), NULL);
  plx_figure_free(fig);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("plot");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int nf;
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_full_png_svg);
  tcase_add_test(tc, test_write_error);
  tcase_add_test(tc, test_empty_and_nonfinite);
  tcase_add_test(tc, test_api_guards);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  /* drop cairo's font caches so valgrind sees only real leaks */
  cairo_debug_reset_static_data();
  return nf == 0 ? 0 : 1;
}
