/* plastix/plot.h -- publication-style figures (PNG and SVG) through cairo.
 *
 * A plx_figure is a grid of rows x cols panels (plx_axes).  Series are
 * added to panels -- their data are copied, so callers may free their
 * arrays right after a call -- and nothing is drawn until plx_figure_save,
 * which autoscales every axis from all of its series, lays the panels out
 * from the measured text extents and writes the files.  Output is
 * deterministic: the same figure gives byte-identical SVG every time.
 *
 * Colours are indices into the Okabe-Ito colour-blind-safe palette, in the
 * order blue, vermillion, bluish green, orange, sky blue, reddish purple,
 * black, yellow (PLX_C_*); indices cycle modulo 8.  Heatmaps use a
 * tabulated viridis colormap. */
#ifndef PLASTIX_PLOT_H
#define PLASTIX_PLOT_H

#include "plastix/rule.h"

#include <stddef.h>

typedef struct plx_figure plx_figure;
typedef struct plx_axes plx_axes;

/* Output formats for plx_figure_save (bit mask). */
enum { PLX_FIG_PNG = 1u, PLX_FIG_SVG = 2u };

enum plx_line_style { PLX_SOLID = 0, PLX_DASHED = 1, PLX_DOTTED = 2 };

/* Palette indices (Okabe-Ito). */
enum plx_color {
  PLX_C_BLUE = 0,
  PLX_C_VERMILLION = 1,
  PLX_C_GREEN = 2,
  PLX_C_ORANGE = 3,
  PLX_C_SKYBLUE = 4,
  PLX_C_PURPLE = 5,
  PLX_C_BLACK = 6,
  PLX_C_YELLOW = 7
};

/* A figure of rows x cols panels, width_px x height_px (PNG pixels; the SVG
 * is in pt with the same numbers).  NULL on bad sizes or out of memory. */
plx_figure *plx_figure_new(int rows, int cols, double width_px,
                           double height_px);
void plx_figure_free(plx_figure *fig);
/* Title centred above all panels (NULL removes it). */
void plx_figure_title(plx_figure *fig, const char *title);
/* Panel at (row, col), counted from the top left; owned by fig.  NULL when
 * out of range. */
plx_axes *plx_figure_axes(plx_figure *fig, int row, int col);

/* Text of a panel (copied; NULL removes).  All axes setters accept NULL ax. */
void plx_axes_title(plx_axes *ax, const char *s);
void plx_axes_xlabel(plx_axes *ax, const char *s);
void plx_axes_ylabel(plx_axes *ax, const char *s);
/* Fixed limits; otherwise autoscaled from the data with a 5% margin
 * (exact extent for panels holding only heatmaps).  lo == hi, non-finite
 * values (or non-positive ones on a log axis) mean autoscaling; lo > hi
 * gives a reversed axis. */
void plx_axes_xlim(plx_axes *ax, double lo, double hi);
void plx_axes_ylim(plx_axes *ax, double lo, double hi);
/* log10 axes; non-positive values are skipped (bars, bands and error bars
 * reaching <= 0 are drawn down to the bottom of the panel). */
void plx_axes_logx(plx_axes *ax, int on);
void plx_axes_logy(plx_axes *ax, int on);
/* Legend of the labelled series: on by default when any series has a
 * label.  It goes to the top-right corner unless that covers more data
 * than another corner. */
void plx_axes_legend(plx_axes *ax, int on);
/* Colour range of the heatmaps of this panel (default: their finite
 * min..max).  lo == hi or non-finite values restore the default. */
void plx_axes_clim(plx_axes *ax, double lo, double hi);

/* Series.  All return PLX_OK, PLX_EINVAL (NULL ax, or NULL arrays with
 * n > 0) or PLX_ENOMEM.  `label` may be NULL (not in the legend).
 * Non-finite values are skipped; in lines and bands they break the path. */
int plx_axes_line(plx_axes *ax, const double *x, const double *y, size_t n,
                  int color, int style, const char *label);
/* Translucent fill between lo and hi (e.g. mean +- s.e.m.). */
int plx_axes_band(plx_axes *ax, const double *x, const double *lo,
                  const double *hi, size_t n, int color);
int plx_axes_scatter(plx_axes *ax, const double *x, const double *y,
                     size_t n, int color, const char *label);
/* Histogram bars of height h centred at x, `width` in data units (<= 0 or
 * non-finite: 80% of the smallest spacing of x). */
int plx_axes_bars(plx_axes *ax, const double *x, const double *h, size_t n,
                  double width, int color, const char *label);
/* Markers at (x, y) with vertical bars y +- e (e may be NULL: no bars). */
int plx_axes_errorbars(plx_axes *ax, const double *x, const double *y,
                       const double *e, size_t n, int color,
                       const char *label);
/* Lines across the whole panel. */
int plx_axes_hline(plx_axes *ax, double y, int color, int style);
int plx_axes_vline(plx_axes *ax, double x, int color, int style);
/* z is nx*ny, z[i + j*nx] is the value at column i (x) and row j (y, from
 * the bottom); drawn over [x0,x1]x[y0,y1] with viridis and a colour bar
 * labelled cbar_label (may be NULL).  NaN cells are left blank.  All
 * heatmaps of a panel share one colour range (plx_axes_clim). */
int plx_axes_heatmap(plx_axes *ax, const double *z, size_t nx, size_t ny,
                     double x0, double x1, double y0, double y1,
                     const char *cbar_label);

/* Writes path_stem + ".png" and/or ".svg" (formats: PLX_FIG_* bits).
 * PLX_EINVAL for no/unknown formats, PLX_EIO naming the file when it cannot
 * be written, PLX_ENOMEM when memory ran out here or in an earlier call on
 * this figure whose void return could not say so. */
int plx_figure_save(plx_figure *fig, const char *path_stem, unsigned formats,
                    plx_error *err);

#endif
