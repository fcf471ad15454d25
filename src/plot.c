/* plot.c -- multi-panel scientific figures rendered with cairo (PNG, SVG).
 *
 * Series are copied into the figure when added; all layout and drawing
 * happens in plx_figure_save: limits are autoscaled from every series of a
 * panel, "nice" ticks are chosen (1/2/5 x 10^k, decades on log axes),
 * margins are measured from the text extents and aligned across the grid,
 * and data are clipped geometrically to the panel before cairo sees them
 * (so huge values cannot overflow cairo's fixed-point coordinates).
 *
 * cairo numbers <image>/<g id="surfaceN"> elements of an SVG with global
 * counters, so the SVG is rendered to memory and those ids are renumbered
 * in order of appearance: the same figure always gives the same bytes. */
#include "config.h"
#include "plastix/plot.h"
#include "plastix/error.h"

#include <cairo.h>
#include <cairo-svg.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- constants */

#define FS_TICK 11.0     /* tick labels, legend                      */
#define FS_LABEL 12.0    /* axis labels, colour-bar label            */
#define FS_TITLE 12.0    /* panel titles                             */
#define FS_FIGTITLE 14.0 /* figure title (bold)                      */
#define PAD 8.0          /* outer padding of a panel cell            */
#define GAP 4.0          /* between a text and what it labels        */
#define TICK_LEN 4.0
#define MINOR_LEN 2.5
#define LINE_W 1.5
#define MARKER_R 3.0
#define CBAR_GAP 10.0
#define CBAR_W 12.0
#define MAX_TICKS 128
#define MAX_IMG 4096 /* heatmap image side cap (pixels) */
#define PLX_PI 3.14159265358979323846

enum series_kind {
  K_LINE, K_BAND, K_SCATTER, K_BARS, K_ERR, K_HLINE, K_VLINE, K_HEAT
};

typedef struct series {
  int kind, color, style;
  char *label;
  size_t n;
  double *x;  /* line/scatter/bars/err/band: x                        */
  double *y;  /* y; band: lo; bars: heights; heat: z (nx*ny)          */
  double *e;  /* err: half-widths (may be NULL); band: hi             */
  double v;   /* hline/vline position; bars: width                    */
  size_t nx, ny;
  double hx0, hx1, hy0, hy1; /* heat extent */
} series;

struct plx_axes {
  plx_figure *fig;
  char *title, *xlabel, *ylabel, *cbar_label;
  int fixx, fixy, fixc;
  double xlim[2], ylim[2], clim[2];
  int logx, logy, legend; /* legend: -1 = automatic */
  series *s;
  size_t ns, cap;
};

struct plx_figure {
  int rows, cols;
  double w, h;
  char *title;
  int oom; /* a void setter could not allocate: reported by save */
  plx_axes *ax;
};

/* Okabe & Ito (2008), reordered so the first colours contrast most. */
static const double palette[8][3] = {
  {0 / 255.0, 114 / 255.0, 178 / 255.0},   /* blue           */
  {213 / 255.0, 94 / 255.0, 0 / 255.0},    /* vermillion     */
  {0 / 255.0, 158 / 255.0, 115 / 255.0},   /* bluish green   */
  {230 / 255.0, 159 / 255.0, 0 / 255.0},   /* orange         */
  {86 / 255.0, 180 / 255.0, 233 / 255.0},  /* sky blue       */
  {204 / 255.0, 121 / 255.0, 167 / 255.0}, /* reddish purple */
  {0.0, 0.0, 0.0},                         /* black          */
  {240 / 255.0, 228 / 255.0, 66 / 255.0}   /* yellow (light: last) */
};

/* viridis (van der Walt, Smith & Firing; CC0), every 8th of 256 entries;
 * linear interpolation stays within 2/255 of the full table. */
#define VIRIDIS_N 33
static const double viridis[VIRIDIS_N][3] = {
  {0.267004, 0.004874, 0.329415}, {0.277018, 0.050344, 0.375715},
  {0.282327, 0.094955, 0.417331}, {0.282884, 0.135920, 0.453427},
  {0.278826, 0.175490, 0.483397}, {0.270595, 0.214069, 0.507052},
  {0.258965, 0.251537, 0.524736}, {0.244972, 0.287675, 0.537260},
  {0.229739, 0.322361, 0.545706}, {0.214298, 0.355619, 0.551184},
  {0.199430, 0.387607, 0.554642}, {0.185556, 0.418570, 0.556753},
  {0.172719, 0.448791, 0.557885}, {0.160665, 0.478540, 0.558115},
  {0.149039, 0.508051, 0.557250}, {0.137770, 0.537492, 0.554906},
  {0.127568, 0.566949, 0.550556}, {0.121148, 0.592739, 0.544641},
  {0.120081, 0.622161, 0.534946}, {0.130067, 0.651384, 0.521608},
  {0.153894, 0.680203, 0.504172}, {0.191090, 0.708366, 0.482284},
  {0.239374, 0.735588, 0.455688}, {0.296479, 0.761561, 0.424223},
  {0.360741, 0.785964, 0.387814}, {0.430983, 0.808473, 0.346476},
  {0.506271, 0.828786, 0.300362}, {0.585678, 0.846661, 0.249897},
  {0.668054, 0.861999, 0.196293}, {0.751884, 0.874951, 0.143228},
  {0.835270, 0.886029, 0.102646}, {0.916242, 0.896091, 0.100717},
  {0.993248, 0.906157, 0.143936}
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

/* Replace *slot by a copy of s (NULL clears); remembers allocation failure. */
static void set_text(plx_figure *fig, char **slot, const char *s)
{
  char *d = NULL;
  if (s && !(d = dupstr(s)))
    fig->oom = 1;
  free(*slot);
  *slot = d;
}

static double *dup_doubles(const double *a, size_t n, int *oom)
{
  double *d;
  if (!a || n == 0)
    return NULL;
  if (n > SIZE_MAX / sizeof *d || !(d = malloc(n * sizeof *d))) {
    *oom = 1;
    return NULL;
  }
  memcpy(d, a, n * sizeof *d);
  return d;
}

static const double *color_rgb(int c)
{
  return palette[((c % 8) + 8) % 8];
}

static void viridis_at(double t, double rgb[3])
{
  double f;
  int i, k;
  if (!(t >= 0)) /* also NaN */
    t = 0;
  if (t > 1)
    t = 1;
  f = t * (VIRIDIS_N - 1);
  i = (int)f;
  if (i >= VIRIDIS_N - 1)
    i = VIRIDIS_N - 2;
  f -= i;
  for (k = 0; k < 3; k++)
    rgb[k] = viridis[i][k] * (1 - f) + viridis[i + 1][k] * f;
}

/* --------------------------------------------------------------- figure */

plx_figure *plx_figure_new(int rows, int cols, double width_px,
                           double height_px)
{
  plx_figure *fig;
  int i;
  if (rows < 1 || cols < 1 || rows > 64 || cols > 64 ||
      !(width_px >= 1 && width_px <= 32767) ||
      !(height_px >= 1 && height_px <= 32767))
    return NULL;
  if (!(fig = calloc(1, sizeof *fig)))
    return NULL;
  if (!(fig->ax = calloc((size_t)rows * (size_t)cols, sizeof *fig->ax))) {
    free(fig);
    return NULL;
  }
  fig->rows = rows;
  fig->cols = cols;
  fig->w = width_px;
  fig->h = height_px;
  for (i = 0; i < rows * cols; i++) {
    fig->ax[i].fig = fig;
    fig->ax[i].legend = -1;
  }
  return fig;
}

static void series_free(series *s)
{
  free(s->label);
  free(s->x);
  free(s->y);
  free(s->e);
}

void plx_figure_free(plx_figure *fig)
{
  int i;
  size_t k;
  if (!fig)
    return;
  for (i = 0; i < fig->rows * fig->cols; i++) {
    plx_axes *ax = &fig->ax[i];
    for (k = 0; k < ax->ns; k++)
      series_free(&ax->s[k]);
    free(ax->s);
    free(ax->title);
    free(ax->xlabel);
    free(ax->ylabel);
    free(ax->cbar_label);
  }
  free(fig->ax);
  free(fig->title);
  free(fig);
}

void plx_figure_title(plx_figure *fig, const char *title)
{
  if (fig)
    set_text(fig, &fig->title, title);
}

plx_axes *plx_figure_axes(plx_figure *fig, int row, int col)
{
  if (!fig || row < 0 || col < 0 || row >= fig->rows || col >= fig->cols)
    return NULL;
  return &fig->ax[row * fig->cols + col];
}

/* ----------------------------------------------------------------- axes */

void plx_axes_title(plx_axes *ax, const char *s)
{
  if (ax)
    set_text(ax->fig, &ax->title, s);
}

void plx_axes_xlabel(plx_axes *ax, const char *s)
{
  if (ax)
    set_text(ax->fig, &ax->xlabel, s);
}

void plx_axes_ylabel(plx_axes *ax, const char *s)
{
  if (ax)
    set_text(ax->fig, &ax->ylabel, s);
}

static void set_lim(int *fixed, double lim[2], double lo, double hi)
{
  *fixed = isfinite(lo) && isfinite(hi) && lo != hi;
  lim[0] = lo;
  lim[1] = hi;
}

void plx_axes_xlim(plx_axes *ax, double lo, double hi)
{
  if (ax)
    set_lim(&ax->fixx, ax->xlim, lo, hi);
}

void plx_axes_ylim(plx_axes *ax, double lo, double hi)
{
  if (ax)
    set_lim(&ax->fixy, ax->ylim, lo, hi);
}

void plx_axes_clim(plx_axes *ax, double lo, double hi)
{
  if (ax)
    set_lim(&ax->fixc, ax->clim, lo, hi);
}

void plx_axes_logx(plx_axes *ax, int on)
{
  if (ax)
    ax->logx = on != 0;
}

void plx_axes_logy(plx_axes *ax, int on)
{
  if (ax)
    ax->logy = on != 0;
}

void plx_axes_legend(plx_axes *ax, int on)
{
  if (ax)
    ax->legend = on != 0;
}

/* Append a zeroed series of `kind`; NULL when out of memory. */
static series *push_series(plx_axes *ax, int kind, int color, int style,
                           const char *label)
{
  series *s;
  if (ax->ns == ax->cap) {
    size_t cap = ax->cap ? 2 * ax->cap : 8;
    series *p = realloc(ax->s, cap * sizeof *p);
    if (!p)
      return NULL;
    ax->s = p;
    ax->cap = cap;
  }
  s = &ax->s[ax->ns];
  memset(s, 0, sizeof *s);
  if (label && !(s->label = dupstr(label)))
    return NULL;
  s->kind = kind;
  s->color = color;
  s->style = (style == PLX_DASHED || style == PLX_DOTTED) ? style : PLX_SOLID;
  return s;
}

/* Common tail of the array series: copy up to three arrays. */
static int add_arrays(plx_axes *ax, int kind, int color, int style,
                      const char *label, size_t n, const double *x,
                      const double *y, const double *e, series **out)
{
  series *s;
  int oom = 0;
  if (!ax)
    return PLX_EINVAL;
  if (n > 0 && (!x || !y))
    return PLX_EINVAL;
  if (!(s = push_series(ax, kind, color, style, label)))
    return PLX_ENOMEM;
  s->n = n;
  s->x = dup_doubles(x, n, &oom);
  s->y = dup_doubles(y, n, &oom);
  s->e = dup_doubles(e, n, &oom);
  if (oom) {
    series_free(s);
    return PLX_ENOMEM;
  }
  ax->ns++;
  if (out)
    *out = s;
  return PLX_OK;
}

int plx_axes_line(plx_axes *ax, const double *x, const double *y, size_t n,
                  int color, int style, const char *label)
{
  return add_arrays(ax, K_LINE, color, style, label, n, x, y, NULL, NULL);
}

int plx_axes_band(plx_axes *ax, const double *x, const double *lo,
                  const double *hi, size_t n, int color)
{
  if (n > 0 && !hi)
    return PLX_EINVAL;
  return add_arrays(ax, K_BAND, color, PLX_SOLID, NULL, n, x, lo, hi, NULL);
}

int plx_axes_scatter(plx_axes *ax, const double *x, const double *y,
                     size_t n, int color, const char *label)
{
  return add_arrays(ax, K_SCATTER, color, PLX_SOLID, label, n, x, y, NULL,
                    NULL);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int plx_axes_bars(plx_axes *ax, const double *x, const double *h, size_t n,
                  double width, int color, const char *label)
{
  series *s = NULL;
  int rc = add_arrays(ax, K_BARS, color, PLX_SOLID, label, n, x, h, NULL, &s);
  if (rc)
    return rc;
  if (!(width > 0 && isfinite(width))) {
    /* 80% of the smallest gap between distinct finite centres */
    double *t = NULL, gap = INFINITY;
    size_t i, m = 0;
    if (n > 1 && !(t = malloc(n * sizeof *t))) {
      series_free(s);
      ax->ns--;
      return PLX_ENOMEM;
    }
    for (i = 0; t && i < n; i++)
      if (isfinite(x[i]))
        t[m++] = x[i];
    if (m > 1) {
      qsort(t, m, sizeof *t, cmp_double);
      for (i = 1; i < m; i++)
        if (t[i] > t[i - 1] && t[i] - t[i - 1] < gap)
          gap = t[i] - t[i - 1];
    }
    free(t);
    width = isfinite(gap) ? 0.8 * gap : 0.8;
  }
  s->v = width;
  return PLX_OK;
}

int plx_axes_errorbars(plx_axes *ax, const double *x, const double *y,
                       const double *e, size_t n, int color,
                       const char *label)
{
  return add_arrays(ax, K_ERR, color, PLX_SOLID, label, n, x, y, e, NULL);
}

static int add_rule(plx_axes *ax, int kind, double v, int color, int style)
{
  series *s;
  if (!ax)
    return PLX_EINVAL;
  if (!(s = push_series(ax, kind, color, style, NULL)))
    return PLX_ENOMEM;
  s->v = v;
  ax->ns++;
  return PLX_OK;
}

int plx_axes_hline(plx_axes *ax, double y, int color, int style)
{
  return add_rule(ax, K_HLINE, y, color, style);
}

int plx_axes_vline(plx_axes *ax, double x, int color, int style)
{
  return add_rule(ax, K_VLINE, x, color, style);
}

int plx_axes_heatmap(plx_axes *ax, const double *z, size_t nx, size_t ny,
                     double x0, double x1, double y0, double y1,
                     const char *cbar_label)
{
  series *s;
  int oom = 0;
  if (!ax || !z || nx == 0 || ny == 0 || nx > SIZE_MAX / ny ||
      !isfinite(x0) || !isfinite(x1) || !isfinite(y0) || !isfinite(y1) ||
      x0 == x1 || y0 == y1)
    return PLX_EINVAL;
  if (!(s = push_series(ax, K_HEAT, 0, PLX_SOLID, NULL)))
    return PLX_ENOMEM;
  s->nx = nx;
  s->ny = ny;
  s->hx0 = x0;
  s->hx1 = x1;
  s->hy0 = y0;
  s->hy1 = y1;
  if (!(s->y = dup_doubles(z, nx * ny, &oom))) {
    series_free(s);
    return PLX_ENOMEM;
  }
  if (cbar_label) {
    char *d = dupstr(cbar_label);
    if (!d) {
      series_free(s);
      return PLX_ENOMEM;
    }
    free(ax->cbar_label);
    ax->cbar_label = d;
  }
  ax->ns++;
  return PLX_OK;
}

/* ---------------------------------------------------------- axis scales */

/* One mapped axis: pixel = p0 + (T(v) - t0) * k, T = identity or log10. */
typedef struct axis {
  int log;
  double lo, hi;   /* limits (data units) */
  double t0, k, p0;
  double beyond;   /* a pixel just past the low end (bars, bands on log) */
} axis;

typedef struct tick {
  double v;
  int major, labeled;
  char lab[32];
  char sup[8]; /* exponent drawn as a superscript after lab ("10") */
} tick;

typedef struct ticks {
  int n;
  tick t[MAX_TICKS];
} ticks;

static double ax_t(int lg, double v)
{
  if (!isfinite(v) || (lg && v <= 0))
    return NAN;
  return lg ? log10(v) : v;
}

static double map(const axis *A, double v)
{
  double t = ax_t(A->log, v);
  return A->p0 + (t - A->t0) * A->k; /* NaN stays NaN; may be +-inf */
}

/* As map, but values the axis cannot show below its range go just past
 * the low end (bars and error bars on log axes). */
static double map_floor(const axis *A, double v)
{
  double p = map(A, v);
  if (!isfinite(p) && isfinite(v) && A->log && v <= 0)
    return A->beyond;
  return p;
}

static void grow(double *mn, double *mx, int lg, double v)
{
  if (!isfinite(v) || (lg && v <= 0))
    return;
  if (v < *mn)
    *mn = v;
  if (v > *mx)
    *mx = v;
}

/* Data extents of a panel along x (dim 0) or y (dim 1). */
static void extents(const plx_axes *ax, int dim, double *mn, double *mx,
                    int *only_heat)
{
  int lg = dim ? ax->logy : ax->logx;
  size_t k, i;
  *mn = INFINITY;
  *mx = -INFINITY;
  *only_heat = ax->ns > 0;
  for (k = 0; k < ax->ns; k++) {
    const series *s = &ax->s[k];
    if (s->kind != K_HEAT)
      *only_heat = 0;
    switch (s->kind) {
    case K_LINE:
    case K_SCATTER:
      for (i = 0; i < s->n; i++)
        grow(mn, mx, lg, dim ? s->y[i] : s->x[i]);
      break;
    case K_BAND:
      for (i = 0; i < s->n; i++) {
        if (!dim) {
          grow(mn, mx, lg, s->x[i]);
        } else {
          grow(mn, mx, lg, s->y[i]);
          grow(mn, mx, lg, s->e[i]);
        }
      }
      break;
    case K_BARS:
      for (i = 0; i < s->n; i++) {
        if (!isfinite(s->x[i]) || !isfinite(s->y[i]))
          continue;
        if (!dim) {
          grow(mn, mx, lg, s->x[i] - s->v / 2);
          grow(mn, mx, lg, s->x[i] + s->v / 2);
        } else {
          grow(mn, mx, lg, s->y[i]);
          grow(mn, mx, lg, 0.0); /* baseline (ignored on log axes) */
        }
      }
      break;
    case K_ERR:
      for (i = 0; i < s->n; i++) {
        if (!dim) {
          grow(mn, mx, lg, s->x[i]);
        } else {
          grow(mn, mx, lg, s->y[i]);
          if (s->e && isfinite(s->y[i])) {
            grow(mn, mx, lg, s->y[i] - fabs(s->e[i]));
            grow(mn, mx, lg, s->y[i] + fabs(s->e[i]));
          }
        }
      }
      break;
    case K_HLINE:
      if (dim)
        grow(mn, mx, lg, s->v);
      break;
    case K_VLINE:
      if (!dim)
        grow(mn, mx, lg, s->v);
      break;
    case K_HEAT:
      grow(mn, mx, lg, dim ? s->hy0 : s->hx0);
      grow(mn, mx, lg, dim ? s->hy1 : s->hx1);
      break;
    default:
      break;
    }
  }
}

/* Limits of one axis: fixed, or data extent plus 5% margin. */
static void axis_limits(const plx_axes *ax, int dim, axis *A)
{
  int lg = dim ? ax->logy : ax->logx;
  int fixed = dim ? ax->fixy : ax->fixx;
  const double *lim = dim ? ax->ylim : ax->xlim;
  double mn, mx, a, b;
  int only_heat;
  A->log = lg;
  if (fixed && (!lg || (lim[0] > 0 && lim[1] > 0))) {
    A->lo = lim[0];
    A->hi = lim[1];
    return;
  }
  extents(ax, dim, &mn, &mx, &only_heat);
  if (mn > mx) { /* no data */
    A->lo = lg ? 1 : 0;
    A->hi = lg ? 10 : 1;
    return;
  }
  a = lg ? log10(mn) : mn;
  b = lg ? log10(mx) : mx;
  if (b - a <= 0 || !isfinite(b - a)) {
    double d = lg ? 0.5 : (a != 0 ? fabs(a) * 0.05 : 0.5);
    if (!isfinite(b - a)) { /* range overflows a double: no margin */
      d = 0;
    }
    a -= d;
    b += d;
  } else if (!only_heat) {
    double d = 0.05 * (b - a);
    a -= d;
    b += d;
  }
  A->lo = lg ? pow(10, a) : a;
  A->hi = lg ? pow(10, b) : b;
}

/* Pixel mapping once the frame is known: lo at p_lo, hi at p_hi. */
static void axis_place(axis *A, double p_lo, double p_hi)
{
  double tl = ax_t(A->log, A->lo), th = ax_t(A->log, A->hi);
  double span = th - tl;
  if (!(span != 0 && isfinite(span))) {
    tl = 0;
    span = 1;
  }
  A->t0 = tl;
  A->k = (p_hi - p_lo) / span;
  A->p0 = p_lo;
  A->beyond = p_lo - (p_hi > p_lo ? 2.0 : -2.0);
}

static double nice_step(double range, double target)
{
  double raw = range / target, mag, f;
  if (!(raw > 0) || !isfinite(raw))
    return 0;
  mag = pow(10, floor(log10(raw)));
  f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/* Tick density levels: 0 is the default (about 5 labels), higher levels
 * thin the labels out until they fit the panel. */
#define DENSITY_LEVELS 4
static const double lin_target[DENSITY_LEVELS] = {5, 3.5, 2.2, 1.2};
static const int log_labels[DENSITY_LEVELS] = {6, 4, 3, 2};

static void lin_ticks(double lo, double hi, int density, ticks *T)
{
  double mn = fmin(lo, hi), mx = fmax(lo, hi);
  double step = nice_step(mx - mn, lin_target[density]), k, k0, k1, big;
  int prec;
  T->n = 0;
  if (!(step > 0) || !isfinite(mn / step) || !isfinite(mx / step))
    return;
  k0 = ceil(mn / step - 1e-9);
  k1 = floor(mx / step + 1e-9);
  big = fmax(fabs(mn), fabs(mx));
  prec = big > 0 ? (int)floor(log10(big)) - (int)floor(log10(step)) + 1 : 6;
  if (prec < 6)
    prec = 6;
  if (prec > 15)
    prec = 15;
  for (k = k0; k <= k1 && T->n < MAX_TICKS; k++) {
    tick *t = &T->t[T->n++];
    double v = k * step;
    if (fabs(v) < step * 1e-6)
      v = 0;
    t->v = v;
    t->major = t->labeled = 1;
    t->sup[0] = '\0';
    snprintf(t->lab, sizeof t->lab, "%.*g", prec, v);
  }
}

static void add_tick(ticks *T, double v, int major, int labeled)
{
  tick *t;
  if (T->n >= MAX_TICKS)
    return;
  t = &T->t[T->n++];
  t->v = v;
  t->major = major;
  t->labeled = labeled;
  t->lab[0] = t->sup[0] = '\0';
  if (labeled)
    snprintf(t->lab, sizeof t->lab, "%g", v);
}

static void log_ticks(double lo, double hi, int density, ticks *T)
{
  double mn = fmin(lo, hi), mx = fmax(lo, hi);
  double a = log10(mn), b = log10(mx);
  int k, j, k0, k1, nd, stride, sup, labeled = 0;
  T->n = 0;
  if (!isfinite(a) || !isfinite(b) || b - a > 600)
    return;
  k0 = (int)ceil(a - 1e-9);
  k1 = (int)floor(b + 1e-9);
  nd = k1 - k0 + 1;
  if (nd >= 2) {
    stride = (nd + log_labels[density] - 1) / log_labels[density];
    sup = k0 < -3 || k1 > 4;
    for (k = k0; k <= k1; k++) {
      int lab = ((k % stride) + stride) % stride == 0;
      add_tick(T, pow(10, k), 1, lab);
      if (lab && sup) {
        tick *t = &T->t[T->n - 1];
        snprintf(t->lab, sizeof t->lab, "10");
        snprintf(t->sup, sizeof t->sup, "%d", k);
      }
      labeled += lab;
    }
    if (b - a <= 8)
      for (k = k0 - 1; k <= k1; k++)
        for (j = 2; j <= 9; j++) {
          double v = j * pow(10, k);
          if (v >= mn && v <= mx)
            add_tick(T, v, 0, 0);
        }
    return;
  }
  /* less than two decades visible: label 1, 2, 5 x 10^k (or just 1 and 5,
   * or 1), others minor */
  for (k = (int)floor(a) - 1; k <= (int)ceil(b); k++)
    for (j = 1; j <= 9; j++) {
      double v = j * pow(10, k);
      int lab = j == 1 || (j == 5 && density < 2) || (j == 2 && density < 1);
      if (v >= mn * (1 - 1e-9) && v <= mx * (1 + 1e-9)) {
        add_tick(T, v, lab, lab);
        labeled += lab;
      }
    }
  if (labeled < 2)
    lin_ticks(mn, mx, density, T);
}

static void make_ticks(const axis *A, int density, ticks *T)
{
  if (A->log)
    log_ticks(A->lo, A->hi, density, T);
  else
    lin_ticks(A->lo, A->hi, density, T);
}

/* ------------------------------------------------------------------ text */

static void set_font(cairo_t *cr, double size, int bold)
{
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD
                              : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

static double text_w(cairo_t *cr, const char *s)
{
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  return e.x_advance;
}

/* Height (ascent + descent) and ascent of the current font. */
static double line_h(cairo_t *cr, double *ascent)
{
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  if (ascent)
    *ascent = fe.ascent;
  return fe.ascent + fe.descent;
}

static double tick_label_w(cairo_t *cr, const tick *t)
{
  double w;
  set_font(cr, FS_TICK, 0);
  w = text_w(cr, t->lab);
  if (t->sup[0]) {
    set_font(cr, FS_TICK * 0.75, 0);
    w += text_w(cr, t->sup) + 0.5;
    set_font(cr, FS_TICK, 0);
  }
  return w;
}

/* Tick label with its left end at x and baseline at y. */
static void tick_label_draw(cairo_t *cr, const tick *t, double x, double y)
{
  set_font(cr, FS_TICK, 0);
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, t->lab);
  if (t->sup[0]) {
    double w = text_w(cr, t->lab);
    set_font(cr, FS_TICK * 0.75, 0);
    cairo_move_to(cr, x + w + 0.5, y - FS_TICK * 0.42);
    cairo_show_text(cr, t->sup);
    set_font(cr, FS_TICK, 0);
  }
}

static double max_label_w(cairo_t *cr, const ticks *T)
{
  double w = 0;
  int i;
  for (i = 0; i < T->n; i++)
    if (T->t[i].labeled)
      w = fmax(w, tick_label_w(cr, &T->t[i]));
  return w;
}

/* Do the labels of T, at pixel positions given by A (or by the colour
 * range lo..hi over pixels plo..phi when A is NULL), keep clear of each
 * other?  Along x labels need their widths, along y one line height. */
static int labels_fit(cairo_t *cr, const ticks *T, const axis *A,
                      int horizontal, const double cmap[4])
{
  double lh = 0, prev_p = NAN, prev_w = 0;
  int i;
  set_font(cr, FS_TICK, 0);
  lh = line_h(cr, NULL);
  for (i = 0; i < T->n; i++) {
    const tick *t = &T->t[i];
    double p, w;
    if (!t->labeled)
      continue;
    p = A ? map(A, t->v)
          : cmap[2] + (t->v - cmap[0]) / (cmap[1] - cmap[0]) *
                          (cmap[3] - cmap[2]);
    w = horizontal ? tick_label_w(cr, t) : lh;
    if (isfinite(prev_p) && fabs(p - prev_p) < (w + prev_w) / 2 + 6)
      return 0;
    prev_p = p;
    prev_w = w;
  }
  return 1;
}

/* Text rotated to read upwards, centred on y, glyph tops towards -x;
 * x is the left edge of the rotated text's box. */
static void text_up(cairo_t *cr, const char *s, double x, double yc,
                    double ascent)
{
  double w = text_w(cr, s);
  cairo_save(cr);
  cairo_move_to(cr, x + ascent, yc + w / 2);
  cairo_rotate(cr, -PLX_PI / 2);
  cairo_show_text(cr, s);
  cairo_restore(cr);
}

/* --------------------------------------------------- geometric clipping */

/* Liang-Barsky: clip segment a-b to rectangle r = {x0, y0, x1, y1}. */
static int clip_seg(const double r[4], double *ax, double *ay, double *bx,
                    double *by)
{
  double dx = *bx - *ax, dy = *by - *ay, t0 = 0, t1 = 1;
  double p[4], q[4];
  int i;
  if (!isfinite(dx) || !isfinite(dy))
    return 0;
  p[0] = -dx; q[0] = *ax - r[0];
  p[1] = dx;  q[1] = r[2] - *ax;
  p[2] = -dy; q[2] = *ay - r[1];
  p[3] = dy;  q[3] = r[3] - *ay;
  for (i = 0; i < 4; i++) {
    if (p[i] == 0) {
      if (q[i] < 0)
        return 0;
    } else {
      double t = q[i] / p[i];
      if (p[i] < 0) {
        if (t > t1)
          return 0;
        if (t > t0)
          t0 = t;
      } else {
        if (t < t0)
          return 0;
        if (t < t1)
          t1 = t;
      }
    }
  }
  if (t1 < 1) {
    *bx = *ax + t1 * dx;
    *by = *ay + t1 * dy;
  }
  if (t0 > 0) {
    *ax += t0 * dx;
    *ay += t0 * dy;
  }
  return 1;
}

static double clampd(double v, double lo, double hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* Sutherland-Hodgman against one rectangle edge: keep points with
 * sign * (coord - bound) <= 0.  in/out hold (x, y) pairs. */
static size_t clip_poly_edge(const double *in, size_t n, double *out,
                             int coord, double bound, double sign)
{
  size_t i, m = 0;
  for (i = 0; i < n; i++) {
    const double *a = &in[2 * i], *b = &in[2 * ((i + 1) % n)];
    double da = sign * (a[coord] - bound), db = sign * (b[coord] - bound);
    if (da <= 0) {
      out[2 * m] = a[0];
      out[2 * m + 1] = a[1];
      m++;
    }
    if ((da < 0 && db > 0) || (da > 0 && db < 0)) {
      double t = da / (da - db);
      out[2 * m] = a[0] + t * (b[0] - a[0]);
      out[2 * m + 1] = a[1] + t * (b[1] - a[1]);
      out[2 * m + (size_t)coord] = bound;
      m++;
    }
  }
  return m;
}

/* Fill polygon pts[0..n) clipped to r.  Each clipping pass yields at most
 * 1.5x its input, so pts and tmp need room for 6n+16 points. */
static void fill_poly(cairo_t *cr, double *pts, double *tmp, size_t n,
                      const double r[4])
{
  size_t i;
  n = clip_poly_edge(pts, n, tmp, 0, r[0], -1);
  n = clip_poly_edge(tmp, n, pts, 0, r[2], 1);
  n = clip_poly_edge(pts, n, tmp, 1, r[1], -1);
  n = clip_poly_edge(tmp, n, pts, 1, r[3], 1);
  if (n < 3)
    return;
  cairo_move_to(cr, pts[0], pts[1]);
  for (i = 1; i < n; i++)
    cairo_line_to(cr, pts[2 * i], pts[2 * i + 1]);
  cairo_close_path(cr);
  cairo_fill(cr);
}

/* ---------------------------------------------------------------- panels */

typedef struct panel {
  axis X, Y;
  ticks xt, yt, ct;
  int heat;                  /* panel has heatmaps: colour bar       */
  double clo, chi;           /* colour range                         */
  int legend;                /* legend drawn                         */
  double ml, mr, mt, mb;     /* margins                              */
  double fx0, fy0, fx1, fy1; /* frame (integer pixel edges)          */
} panel;

static void color_range(const plx_axes *ax, panel *P)
{
  double mn = INFINITY, mx = -INFINITY;
  size_t k, i;
  for (k = 0; k < ax->ns; k++) {
    const series *s = &ax->s[k];
    if (s->kind != K_HEAT)
      continue;
    P->heat = 1;
    for (i = 0; i < s->nx * s->ny; i++)
      grow(&mn, &mx, 0, s->y[i]);
  }
  if (ax->fixc) {
    mn = ax->clim[0];
    mx = ax->clim[1];
  } else if (mn > mx) {
    mn = 0;
    mx = 1;
  } else if (!(mx - mn > 0) || !isfinite(mx - mn)) {
    double d = mn != 0 ? fabs(mn) * 0.05 : 0.5;
    if (!isfinite(mx - mn))
      d = 0, mn /= 2, mx /= 2; /* absurd range: keep it finite */
    mn -= d;
    mx += d;
  }
  P->clo = mn;
  P->chi = mx;
}

static int has_legend(const plx_axes *ax)
{
  size_t k;
  if (ax->legend == 0)
    return 0;
  for (k = 0; k < ax->ns; k++)
    if (ax->s[k].label)
      return 1;
  return 0;
}

/* Margins of a panel from its text extents. */
static void measure(cairo_t *cr, const plx_axes *ax, panel *P)
{
  double lh_tick, lh_label, lh_title, lastw = 0, vmax = -INFINITY;
  int i;
  set_font(cr, FS_TICK, 0);
  lh_tick = line_h(cr, NULL);
  set_font(cr, FS_LABEL, 0);
  lh_label = line_h(cr, NULL);
  set_font(cr, FS_TITLE, 0);
  lh_title = line_h(cr, NULL);

  P->ml = PAD + (ax->ylabel ? lh_label + GAP : 0) + max_label_w(cr, &P->yt) +
          GAP + TICK_LEN;
  P->mb = TICK_LEN + GAP + lh_tick + (ax->xlabel ? GAP + lh_label : 0) + PAD;
  P->mt = PAD + (ax->title ? lh_title + GAP : 0);
  /* room for half of the rightmost x tick label */
  for (i = 0; i < P->xt.n; i++) {
    double p = ax_t(P->X.log, P->xt.t[i].v);
    if (P->xt.t[i].labeled && p > vmax) {
      vmax = p;
      lastw = tick_label_w(cr, &P->xt.t[i]);
    }
  }
  P->mr = fmax(PAD, lastw / 2 + 2);
  if (P->heat)
    P->mr = CBAR_GAP + CBAR_W + TICK_LEN + GAP + max_label_w(cr, &P->ct) +
            (ax->cbar_label ? GAP + lh_label : 0) + PAD;
}

/* ------------------------------------------------------------- drawing */

static void set_color(cairo_t *cr, int c, double alpha)
{
  const double *rgb = color_rgb(c);
  cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], alpha);
}

static void set_dash(cairo_t *cr, int style)
{
  static const double dashed[2] = {5.5, 3.5}, dotted[2] = {0.0, 3.0};
  if (style == PLX_DASHED) {
    cairo_set_dash(cr, dashed, 2, 0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
  } else if (style == PLX_DOTTED) {
    cairo_set_dash(cr, dotted, 2, 0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  } else {
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
  }
}

static void marker(cairo_t *cr, double x, double y)
{
  cairo_new_sub_path(cr);
  cairo_arc(cr, x, y, MARKER_R, 0, 2 * PLX_PI);
  cairo_close_path(cr);
}

static void draw_line(cairo_t *cr, const panel *P, const series *s,
                      const double r[4])
{
  double px = 0, py = 0, ex = NAN, ey = NAN;
  int prev = 0, any = 0;
  size_t i;
  for (i = 0; i < s->n; i++) {
    double x = map(&P->X, s->x[i]), y = map(&P->Y, s->y[i]);
    if (!isfinite(x) || !isfinite(y)) {
      prev = 0;
      continue;
    }
    if (prev) {
      double ax = px, ay = py, bx = x, by = y;
      if (clip_seg(r, &ax, &ay, &bx, &by)) {
        if (ax != ex || ay != ey)
          cairo_move_to(cr, ax, ay);
        cairo_line_to(cr, bx, by);
        ex = bx;
        ey = by;
        any = 1;
      }
    }
    px = x;
    py = y;
    prev = 1;
  }
  if (any) {
    set_color(cr, s->color, 1);
    cairo_set_line_width(cr, LINE_W);
    set_dash(cr, s->style);
    cairo_stroke(cr);
  }
  cairo_new_path(cr);
}

static int draw_band(cairo_t *cr, const panel *P, const series *s,
                     const double r[4])
{
  size_t i = 0, j, m;
  double *pts, *tmp;
  if (s->n == 0)
    return PLX_OK;
  /* polygon of 2n points, 6 * 2n + 16 points of room, 2 doubles each */
  if (s->n > (SIZE_MAX / sizeof(double) - 32) / 24)
    return PLX_ENOMEM;
  pts = malloc((24 * s->n + 32) * sizeof *pts);
  tmp = malloc((24 * s->n + 32) * sizeof *tmp);
  if (!pts || !tmp) {
    free(pts);
    free(tmp);
    return PLX_ENOMEM;
  }
  set_color(cr, s->color, 0.25);
  while (i < s->n) {
    /* one run of points where x, lo and hi are all drawable */
    size_t start;
    while (i < s->n && !(isfinite(map(&P->X, s->x[i])) &&
                         isfinite(map_floor(&P->Y, s->y[i])) &&
                         isfinite(map_floor(&P->Y, s->e[i]))))
      i++;
    start = i;
    while (i < s->n && isfinite(map(&P->X, s->x[i])) &&
           isfinite(map_floor(&P->Y, s->y[i])) &&
           isfinite(map_floor(&P->Y, s->e[i])))
      i++;
    m = i - start;
    if (m < 2)
      continue;
    for (j = 0; j < m; j++) {
      double x = map(&P->X, s->x[start + j]);
      pts[2 * j] = x;
      pts[2 * j + 1] = map_floor(&P->Y, s->e[start + j]);
      pts[2 * (2 * m - 1 - j)] = x;
      pts[2 * (2 * m - 1 - j) + 1] = map_floor(&P->Y, s->y[start + j]);
    }
    fill_poly(cr, pts, tmp, 2 * m, r);
  }
  free(pts);
  free(tmp);
  return PLX_OK;
}

static void draw_scatter(cairo_t *cr, const panel *P, const series *s,
                         const double r[4])
{
  size_t i;
  int any = 0;
  for (i = 0; i < s->n; i++) {
    double x = map(&P->X, s->x[i]), y = map(&P->Y, s->y[i]);
    if (x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3]) {
      marker(cr, x, y);
      any = 1;
    }
  }
  if (any) {
    set_color(cr, s->color, 0.85);
    cairo_fill(cr);
  }
  cairo_new_path(cr);
}

/* Pixel rectangle of bar i; 0 when it cannot be drawn. */
static int bar_rect(const panel *P, const series *s, size_t i, double q[4])
{
  double xl = map_floor(&P->X, s->x[i] - s->v / 2);
  double xr = map(&P->X, s->x[i] + s->v / 2);
  double top = map(&P->Y, s->y[i]);
  double base = P->Y.log ? P->Y.beyond : map(&P->Y, 0.0);
  if (!isfinite(s->x[i]) || !isfinite(xl) || !isfinite(xr) ||
      !isfinite(top) || !isfinite(base))
    return 0;
  q[0] = fmin(xl, xr);
  q[2] = fmax(xl, xr);
  q[1] = fmin(top, base);
  q[3] = fmax(top, base);
  return 1;
}

static void draw_bars(cairo_t *cr, const panel *P, const series *s,
                      const double r[4])
{
  size_t i;
  int any = 0;
  for (i = 0; i < s->n; i++) {
    double q[4];
    if (!bar_rect(P, s, i, q))
      continue;
    q[0] = clampd(q[0], r[0], r[2]);
    q[2] = clampd(q[2], r[0], r[2]);
    q[1] = clampd(q[1], r[1], r[3]);
    q[3] = clampd(q[3], r[1], r[3]);
    if (q[2] > q[0] && q[3] > q[1]) {
      cairo_rectangle(cr, q[0], q[1], q[2] - q[0], q[3] - q[1]);
      any = 1;
    }
  }
  if (!any)
    return;
  set_color(cr, s->color, 0.75);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_set_line_width(cr, 0.75);
  set_dash(cr, PLX_SOLID);
  cairo_stroke(cr);
}

static void draw_errorbars(cairo_t *cr, const panel *P, const series *s,
                           const double r[4])
{
  size_t i;
  set_color(cr, s->color, 1);
  cairo_set_line_width(cr, 1.2);
  set_dash(cr, PLX_SOLID);
  for (i = 0; s->e && i < s->n; i++) {
    double x = map(&P->X, s->x[i]), e = fabs(s->e[i]);
    double ya = map_floor(&P->Y, s->y[i] - e), yb = map(&P->Y, s->y[i] + e);
    double xa = x, xb = x, c;
    int k;
    if (!isfinite(x) || !isfinite(map(&P->Y, s->y[i])) || !isfinite(e) ||
        !isfinite(ya) || !isfinite(yb))
      continue;
    if (clip_seg(r, &xa, &ya, &xb, &yb)) {
      cairo_move_to(cr, xa, ya);
      cairo_line_to(cr, xb, yb);
    }
    for (k = 0; k < 2; k++) { /* caps */
      c = k ? map(&P->Y, s->y[i] + e) : map(&P->Y, s->y[i] - e);
      if (isfinite(c) && c >= r[1] && c <= r[3] && x >= r[0] && x <= r[2]) {
        cairo_move_to(cr, x - MARKER_R, c);
        cairo_line_to(cr, x + MARKER_R, c);
      }
    }
  }
  cairo_stroke(cr);
  for (i = 0; i < s->n; i++) {
    double x = map(&P->X, s->x[i]), y = map(&P->Y, s->y[i]);
    if (x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3])
      marker(cr, x, y);
  }
  cairo_fill(cr);
}

static void draw_rule(cairo_t *cr, const panel *P, const series *s)
{
  double p;
  if (s->kind == K_HLINE) {
    p = map(&P->Y, s->v);
    if (!(p >= P->fy0 && p <= P->fy1))
      return;
    cairo_move_to(cr, P->fx0, p);
    cairo_line_to(cr, P->fx1, p);
  } else {
    p = map(&P->X, s->v);
    if (!(p >= P->fx0 && p <= P->fx1))
      return;
    cairo_move_to(cr, p, P->fy0);
    cairo_line_to(cr, p, P->fy1);
  }
  set_color(cr, s->color, 1);
  cairo_set_line_width(cr, LINE_W);
  set_dash(cr, s->style);
  cairo_stroke(cr);
}

static int draw_heat(cairo_t *cr, const panel *P, const series *s,
                     const double r[4])
{
  double xa = map(&P->X, s->hx0), xb = map(&P->X, s->hx1);
  double ya = map(&P->Y, s->hy0), yb = map(&P->Y, s->hy1);
  double pw = fabs(xb - xa), ph = fabs(yb - ya), span = P->chi - P->clo;
  double q[4];
  size_t kx, ky, iw, ih, c, row;
  cairo_surface_t *img;
  cairo_pattern_t *pat;
  cairo_matrix_t m;
  unsigned char *data;
  int stride;
  if (!isfinite(pw) || !isfinite(ph) || pw == 0 || ph == 0)
    return PLX_OK;
  /* visible part of the map, in pixels */
  q[0] = clampd(fmin(xa, xb), r[0], r[2]);
  q[2] = clampd(fmax(xa, xb), r[0], r[2]);
  q[1] = clampd(fmin(ya, yb), r[1], r[3]);
  q[3] = clampd(fmax(ya, yb), r[1], r[3]);
  if (!(q[2] > q[0] && q[3] > q[1]))
    return PLX_OK;
  /* upscale cells to whole pixels so SVG viewers' smoothing stays crisp */
  kx = (size_t)fmax(1, fmin(ceil(pw / (double)s->nx), MAX_IMG));
  ky = (size_t)fmax(1, fmin(ceil(ph / (double)s->ny), MAX_IMG));
  iw = s->nx >= MAX_IMG ? MAX_IMG
                        : s->nx * (kx < MAX_IMG / s->nx ? kx : MAX_IMG / s->nx);
  ih = s->ny >= MAX_IMG ? MAX_IMG
                        : s->ny * (ky < MAX_IMG / s->ny ? ky : MAX_IMG / s->ny);
  img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)iw, (int)ih);
  if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(img);
    return PLX_ENOMEM;
  }
  cairo_surface_flush(img);
  data = cairo_image_surface_get_data(img);
  stride = cairo_image_surface_get_stride(img);
  for (row = 0; row < ih; row++) {
    /* image row 0 lies at y0: cell row j = row * ny / ih */
    const double *zr = s->y + (row * s->ny / ih) * s->nx;
    uint32_t *px = (uint32_t *)(void *)(data + (size_t)stride * row);
    for (c = 0; c < iw; c++) {
      double z = zr[c * s->nx / iw], rgb[3];
      if (!isfinite(z)) {
        px[c] = 0; /* transparent */
        continue;
      }
      viridis_at((z - P->clo) / span, rgb);
      px[c] = 0xff000000u | (uint32_t)lround(rgb[0] * 255) << 16 |
              (uint32_t)lround(rgb[1] * 255) << 8 |
              (uint32_t)lround(rgb[2] * 255);
    }
  }
  cairo_surface_mark_dirty(img);
  /* pattern space = image pixels; device x = xa + px * (xb - xa) / iw */
  pat = cairo_pattern_create_for_surface(img);
  cairo_matrix_init(&m, (double)iw / (xb - xa), 0, 0, (double)ih / (yb - ya),
                    -xa * (double)iw / (xb - xa),
                    -ya * (double)ih / (yb - ya));
  cairo_pattern_set_matrix(pat, &m);
  cairo_pattern_set_filter(pat, CAIRO_FILTER_NEAREST);
  cairo_set_source(cr, pat);
  cairo_rectangle(cr, q[0], q[1], q[2] - q[0], q[3] - q[1]);
  cairo_fill(cr);
  cairo_pattern_destroy(pat);
  cairo_surface_destroy(img);
  return PLX_OK;
}

static int draw_series(cairo_t *cr, const panel *P, const plx_axes *ax)
{
  /* clip rectangle for geometry: frame plus a few pixels */
  double r[4];
  size_t k;
  int pass, rc;
  r[0] = P->fx0 - 4;
  r[1] = P->fy0 - 4;
  r[2] = P->fx1 + 4;
  r[3] = P->fy1 + 4;
  cairo_save(cr);
  cairo_rectangle(cr, P->fx0, P->fy0, P->fx1 - P->fx0, P->fy1 - P->fy0);
  cairo_clip(cr);
  /* areas first (heatmaps, bands, bars), then lines and markers */
  for (pass = 0; pass < 2; pass++)
    for (k = 0; k < ax->ns; k++) {
      const series *s = &ax->s[k];
      int area = s->kind == K_HEAT || s->kind == K_BAND || s->kind == K_BARS;
      if (area != (pass == 0))
        continue;
      switch (s->kind) {
      case K_HEAT:
        if ((rc = draw_heat(cr, P, s, r))) {
          cairo_restore(cr);
          return rc;
        }
        break;
      case K_BAND:
        if ((rc = draw_band(cr, P, s, r))) {
          cairo_restore(cr);
          return rc;
        }
        break;
      case K_BARS: draw_bars(cr, P, s, r); break;
      case K_LINE: draw_line(cr, P, s, r); break;
      case K_SCATTER: draw_scatter(cr, P, s, r); break;
      case K_ERR: draw_errorbars(cr, P, s, r); break;
      default: draw_rule(cr, P, s); break;
      }
    }
  cairo_restore(cr);
  return PLX_OK;
}

static void ink(cairo_t *cr)
{
  cairo_set_source_rgb(cr, 0.13, 0.13, 0.13);
}

/* Snapped pixel position of tick t on [lo, hi], or NaN when outside. */
static double tick_pos(double p, double lo, double hi)
{
  if (!(p >= lo - 0.01 && p <= hi + 0.01))
    return NAN;
  return fmin(floor(p) + 0.5, hi - 0.5);
}

static double digit_height(cairo_t *cr)
{
  cairo_text_extents_t te;
  set_font(cr, FS_TICK, 0);
  cairo_text_extents(cr, "0", &te);
  return te.height;
}

/* Frame, ticks, tick labels, axis labels and title of a panel. */
static void draw_axes(cairo_t *cr, const panel *P, const plx_axes *ax,
                      double cell_x)
{
  double asc_tick, asc_label, asc_title, lh_tick, lh_title, digit_h, p;
  int i;
  digit_h = digit_height(cr);
  lh_tick = line_h(cr, &asc_tick);
  set_font(cr, FS_LABEL, 0);
  line_h(cr, &asc_label);

  ink(cr);
  set_dash(cr, PLX_SOLID);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, P->fx0 + 0.5, P->fy0 + 0.5, P->fx1 - P->fx0 - 1,
                  P->fy1 - P->fy0 - 1);
  for (i = 0; i < P->xt.n; i++) {
    const tick *t = &P->xt.t[i];
    if (isfinite(p = tick_pos(map(&P->X, t->v), P->fx0, P->fx1))) {
      cairo_move_to(cr, p, P->fy1);
      cairo_line_to(cr, p, P->fy1 + (t->major ? TICK_LEN : MINOR_LEN));
    }
  }
  for (i = 0; i < P->yt.n; i++) {
    const tick *t = &P->yt.t[i];
    if (isfinite(p = tick_pos(map(&P->Y, t->v), P->fy0, P->fy1))) {
      cairo_move_to(cr, P->fx0, p);
      cairo_line_to(cr, P->fx0 - (t->major ? TICK_LEN : MINOR_LEN), p);
    }
  }
  cairo_stroke(cr);

  for (i = 0; i < P->xt.n; i++) {
    const tick *t = &P->xt.t[i];
    if (t->labeled &&
        isfinite(p = tick_pos(map(&P->X, t->v), P->fx0, P->fx1)))
      tick_label_draw(cr, t, p - tick_label_w(cr, t) / 2,
                      P->fy1 + TICK_LEN + GAP + asc_tick);
  }
  for (i = 0; i < P->yt.n; i++) {
    const tick *t = &P->yt.t[i];
    if (t->labeled &&
        isfinite(p = tick_pos(map(&P->Y, t->v), P->fy0, P->fy1)))
      tick_label_draw(cr, t, P->fx0 - TICK_LEN - GAP - tick_label_w(cr, t),
                      p + digit_h / 2);
  }

  set_font(cr, FS_LABEL, 0);
  if (ax->xlabel) {
    double w = text_w(cr, ax->xlabel);
    cairo_move_to(cr, (P->fx0 + P->fx1 - w) / 2,
                  P->fy1 + TICK_LEN + GAP + lh_tick + GAP + asc_label);
    cairo_show_text(cr, ax->xlabel);
  }
  if (ax->ylabel)
    text_up(cr, ax->ylabel, cell_x + PAD, (P->fy0 + P->fy1) / 2, asc_label);
  if (ax->title) {
    set_font(cr, FS_TITLE, 0);
    lh_title = line_h(cr, &asc_title);
    cairo_move_to(cr, (P->fx0 + P->fx1 - text_w(cr, ax->title)) / 2,
                  P->fy0 - GAP - (lh_title - asc_title));
    cairo_show_text(cr, ax->title);
  }
  cairo_new_path(cr);
}

static void draw_colorbar(cairo_t *cr, const panel *P, const plx_axes *ax)
{
  double x0 = P->fx1 + CBAR_GAP, x1 = x0 + CBAR_W, maxw, asc, digit_h, p;
  double ya = P->fy1 - 0.5, yb = P->fy0 + 0.5;
  cairo_pattern_t *g = cairo_pattern_create_linear(0, ya, 0, yb);
  int i;
  for (i = 0; i < VIRIDIS_N; i++)
    cairo_pattern_add_color_stop_rgb(g, (double)i / (VIRIDIS_N - 1),
                                     viridis[i][0], viridis[i][1],
                                     viridis[i][2]);
  cairo_rectangle(cr, x0, P->fy0, CBAR_W, P->fy1 - P->fy0);
  cairo_set_source(cr, g);
  cairo_fill(cr);
  cairo_pattern_destroy(g);

  ink(cr);
  cairo_set_line_width(cr, 1);
  set_dash(cr, PLX_SOLID);
  cairo_rectangle(cr, x0 + 0.5, P->fy0 + 0.5, CBAR_W - 1,
                  P->fy1 - P->fy0 - 1);
  for (i = 0; i < P->ct.n; i++) {
    p = ya + (P->ct.t[i].v - P->clo) / (P->chi - P->clo) * (yb - ya);
    if (isfinite(p = tick_pos(p, P->fy0, P->fy1))) {
      cairo_move_to(cr, x1, p);
      cairo_line_to(cr, x1 + TICK_LEN, p);
    }
  }
  cairo_stroke(cr);
  digit_h = digit_height(cr);
  maxw = max_label_w(cr, &P->ct);
  for (i = 0; i < P->ct.n; i++) {
    p = ya + (P->ct.t[i].v - P->clo) / (P->chi - P->clo) * (yb - ya);
    if (isfinite(p = tick_pos(p, P->fy0, P->fy1)))
      tick_label_draw(cr, &P->ct.t[i], x1 + TICK_LEN + GAP, p + digit_h / 2);
  }
  if (ax->cbar_label) {
    set_font(cr, FS_LABEL, 0);
    line_h(cr, &asc);
    text_up(cr, ax->cbar_label, x1 + TICK_LEN + GAP + maxw + GAP,
            (P->fy0 + P->fy1) / 2, asc);
  }
  cairo_new_path(cr);
}

/* How much of the data the box b = {x0, y0, x1, y1} would cover. */
static size_t legend_cover(const panel *P, const plx_axes *ax,
                           const double b[4])
{
  size_t k, i, hits = 0;
  for (k = 0; k < ax->ns; k++) {
    const series *s = &ax->s[k];
    double q[4], xa, ya, xb, yb, px = NAN, py = NAN;
    for (i = 0; i < s->n; i++) {
      double x = map(&P->X, s->x[i]), y = map(&P->Y, s->y[i]);
      switch (s->kind) {
      case K_LINE:
        if (isfinite(x) && isfinite(y) && isfinite(px) && isfinite(py)) {
          xa = px, ya = py, xb = x, yb = y;
          hits += (size_t)clip_seg(b, &xa, &ya, &xb, &yb);
        }
        px = x;
        py = y;
        break;
      case K_BAND:
        xa = xb = x;
        ya = map_floor(&P->Y, s->y[i]);
        yb = map_floor(&P->Y, s->e[i]);
        if (isfinite(x) && isfinite(ya) && isfinite(yb))
          hits += (size_t)clip_seg(b, &xa, &ya, &xb, &yb);
        break;
      case K_BARS:
        if (bar_rect(P, s, i, q))
          hits += q[0] < b[2] && q[2] > b[0] && q[1] < b[3] && q[3] > b[1];
        break;
      default: /* scatter, error bars */
        if (x >= b[0] - MARKER_R && x <= b[2] + MARKER_R &&
            y >= b[1] - MARKER_R && y <= b[3] + MARKER_R)
          hits++;
        break;
      }
    }
  }
  return hits;
}

static void draw_legend(cairo_t *cr, const panel *P, const plx_axes *ax)
{
  const double pad = 6, sample = 22, inset = 6;
  double lh, asc, w = 0, h, b[4], best[4] = {0, 0, 0, 0}, row, digit_h;
  size_t k, nl = 0, hits, besthits = SIZE_MAX;
  cairo_text_extents_t te;
  int corner;
  set_font(cr, FS_TICK, 0);
  lh = line_h(cr, &asc);
  cairo_text_extents(cr, "0", &te);
  digit_h = te.height;
  row = lh + 2;
  for (k = 0; k < ax->ns; k++)
    if (ax->s[k].label) {
      w = fmax(w, text_w(cr, ax->s[k].label));
      nl++;
    }
  if (!nl)
    return;
  w = ceil(pad + sample + pad + w + pad);
  h = ceil(pad + nl * row - 2 + pad);
  /* top-right unless another corner covers strictly less data */
  for (corner = 0; corner < 4; corner++) {
    double x = corner & 1 ? P->fx0 + inset : P->fx1 - inset - w;
    double y = corner & 2 ? P->fy1 - inset - h : P->fy0 + inset;
    b[0] = x;
    b[1] = y;
    b[2] = x + w;
    b[3] = y + h;
    hits = legend_cover(P, ax, b);
    if (hits < besthits) {
      besthits = hits;
      memcpy(best, b, sizeof best);
    }
    if (hits == 0)
      break;
  }
  cairo_rectangle(cr, best[0] + 0.5, best[1] + 0.5, w - 1, h - 1);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
  cairo_set_line_width(cr, 1);
  set_dash(cr, PLX_SOLID);
  cairo_stroke(cr);

  nl = 0;
  for (k = 0; k < ax->ns; k++) {
    const series *s = &ax->s[k];
    double x = best[0] + pad, yc = best[1] + pad + nl * row + lh / 2;
    if (!s->label)
      continue;
    nl++;
    switch (s->kind) {
    case K_LINE:
      set_color(cr, s->color, 1);
      cairo_set_line_width(cr, LINE_W);
      set_dash(cr, s->style);
      cairo_move_to(cr, x, yc);
      cairo_line_to(cr, x + sample, yc);
      cairo_stroke(cr);
      break;
    case K_BARS:
      set_color(cr, s->color, 0.75);
      cairo_rectangle(cr, x + sample / 2 - 5, yc - 5, 10, 10);
      cairo_fill(cr);
      break;
    case K_ERR:
      set_color(cr, s->color, 1);
      cairo_set_line_width(cr, 1.2);
      set_dash(cr, PLX_SOLID);
      cairo_move_to(cr, x + sample / 2, yc - 5);
      cairo_line_to(cr, x + sample / 2, yc + 5);
      cairo_stroke(cr);
      marker(cr, x + sample / 2, yc);
      cairo_fill(cr);
      break;
    default: /* scatter */
      set_color(cr, s->color, 0.85);
      marker(cr, x + sample / 2, yc);
      cairo_fill(cr);
      break;
    }
    ink(cr);
    set_font(cr, FS_TICK, 0);
    cairo_move_to(cr, x + sample + pad, yc + digit_h / 2);
    cairo_show_text(cr, s->label);
  }
}

/* --------------------------------------------------------------- render */

static int render(const plx_figure *fig, cairo_t *cr)
{
  int n = fig->rows * fig->cols, i, r, c, rc = PLX_OK;
  panel *P = calloc((size_t)n, sizeof *P);
  double *ml, *mr, *mt, *mb, top = 0, cw, ch;
  cairo_font_options_t *fo;
  if (!P)
    return PLX_ENOMEM;
  ml = calloc((size_t)(2 * fig->cols + 2 * fig->rows), sizeof *ml);
  if (!ml) {
    free(P);
    return PLX_ENOMEM;
  }
  mr = ml + fig->cols;
  mt = mr + fig->cols;
  mb = mt + fig->rows;

  fo = cairo_font_options_create();
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
  cairo_set_font_options(cr, fo);
  cairo_font_options_destroy(fo);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);

  /* limits, ticks and margins (independent of the frame) */
  for (i = 0; i < n; i++) {
    const plx_axes *ax = &fig->ax[i];
    axis_limits(ax, 0, &P[i].X);
    axis_limits(ax, 1, &P[i].Y);
    make_ticks(&P[i].X, 0, &P[i].xt);
    make_ticks(&P[i].Y, 0, &P[i].yt);
    color_range(ax, &P[i]);
    if (P[i].heat)
      lin_ticks(P[i].clo, P[i].chi, 0, &P[i].ct);
    P[i].legend = has_legend(ax);
    measure(cr, ax, &P[i]);
    r = i / fig->cols;
    c = i % fig->cols;
    ml[c] = fmax(ml[c], P[i].ml);
    mr[c] = fmax(mr[c], P[i].mr);
    mt[r] = fmax(mt[r], P[i].mt);
    mb[r] = fmax(mb[r], P[i].mb);
  }
  if (fig->title) {
    set_font(cr, FS_FIGTITLE, 1);
    top = PAD + line_h(cr, NULL);
  }
  cw = fig->w / fig->cols;
  ch = (fig->h - top) / fig->rows;

  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  if (fig->title) {
    double asc;
    set_font(cr, FS_FIGTITLE, 1);
    line_h(cr, &asc);
    ink(cr);
    cairo_move_to(cr, (fig->w - text_w(cr, fig->title)) / 2, PAD + asc);
    cairo_show_text(cr, fig->title);
  }

  for (i = 0; i < n && rc == PLX_OK; i++) {
    const plx_axes *ax = &fig->ax[i];
    double cx, cy;
    int d;
    r = i / fig->cols;
    c = i % fig->cols;
    cx = c * cw;
    cy = top + r * ch;
    P[i].fx0 = round(cx + ml[c]);
    P[i].fx1 = round(cx + cw - mr[c]);
    P[i].fy0 = round(cy + mt[r]);
    P[i].fy1 = round(cy + ch - mb[r]);
    if (P[i].fx1 - P[i].fx0 < 8) /* tiny figure: keep a visible frame */
      P[i].fx1 = P[i].fx0 + 8;
    if (P[i].fy1 - P[i].fy0 < 8)
      P[i].fy1 = P[i].fy0 + 8;
    axis_place(&P[i].X, P[i].fx0 + 0.5, P[i].fx1 - 0.5);
    axis_place(&P[i].Y, P[i].fy1 - 0.5, P[i].fy0 + 0.5);
    /* thin out tick labels that would collide in this panel */
    for (d = 1; d < DENSITY_LEVELS &&
                !labels_fit(cr, &P[i].xt, &P[i].X, 1, NULL); d++)
      make_ticks(&P[i].X, d, &P[i].xt);
    for (d = 1; d < DENSITY_LEVELS &&
                !labels_fit(cr, &P[i].yt, &P[i].Y, 0, NULL); d++)
      make_ticks(&P[i].Y, d, &P[i].yt);
    if (P[i].heat) {
      double cm[4];
      cm[0] = P[i].clo;
      cm[1] = P[i].chi;
      cm[2] = P[i].fy1 - 0.5;
      cm[3] = P[i].fy0 + 0.5;
      for (d = 1; d < DENSITY_LEVELS &&
                  !labels_fit(cr, &P[i].ct, NULL, 0, cm); d++)
        lin_ticks(P[i].clo, P[i].chi, d, &P[i].ct);
    }
    rc = draw_series(cr, &P[i], ax);
    if (rc == PLX_OK) {
      draw_axes(cr, &P[i], ax, cx);
      if (P[i].heat)
        draw_colorbar(cr, &P[i], ax);
      if (P[i].legend)
        draw_legend(cr, &P[i], ax);
    }
  }
  free(ml);
  free(P);
  if (rc == PLX_OK && cairo_status(cr) == CAIRO_STATUS_NO_MEMORY)
    rc = PLX_ENOMEM;
  return rc;
}

/* ----------------------------------------------------------------- files */

typedef struct membuf {
  unsigned char *p;
  size_t n, cap;
  int oom;
} membuf;

static int membuf_put(membuf *b, const void *data, size_t len)
{
  if (len > b->cap - b->n) {
    size_t cap = b->cap ? b->cap : 65536;
    unsigned char *q;
    while (len > cap - b->n) {
      if (cap > SIZE_MAX / 2) {
        b->oom = 1;
        return -1;
      }
      cap *= 2;
    }
    if (!(q = realloc(b->p, cap))) {
      b->oom = 1;
      return -1;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, len);
  b->n += len;
  return 0;
}

static cairo_status_t membuf_write(void *closure, const unsigned char *data,
                                   unsigned int len)
{
  return membuf_put(closure, data, len) ? CAIRO_STATUS_WRITE_ERROR
                                        : CAIRO_STATUS_SUCCESS;
}

/* Renumber cairo's process-global ids ("surfaceN", "imageN" after '"' or
 * '#') in order of first appearance. */
static int svg_renumber(const membuf *in, membuf *out)
{
  static const char *const prefix[2] = {"surface", "image"};
  unsigned long *seen = NULL;
  size_t nseen = 0, capseen = 0, i = 0;
  while (i < in->n) {
    const unsigned char *s = in->p + i;
    size_t rest = in->n - i, plen = 0, j, d;
    int k, match = -1;
    if (i > 0 && (s[-1] == '"' || s[-1] == '#'))
      for (k = 0; k < 2 && match < 0; k++) {
        plen = strlen(prefix[k]);
        if (rest > plen && !memcmp(s, prefix[k], plen) &&
            s[plen] >= '0' && s[plen] <= '9')
          match = k;
      }
    if (match < 0) {
      if (membuf_put(out, s, 1))
        break;
      i++;
      continue;
    }
    {
      unsigned long id = 0;
      char num[32];
      for (d = plen; d < rest && s[d] >= '0' && s[d] <= '9'; d++)
        id = id * 10 + (unsigned long)(s[d] - '0');
      for (j = 0; j < nseen && seen[j] != id; j++)
        ;
      if (j == nseen) {
        if (nseen == capseen) {
          size_t cap = capseen ? 2 * capseen : 16;
          unsigned long *q = realloc(seen, cap * sizeof *q);
          if (!q) {
            out->oom = 1;
            break;
          }
          seen = q;
          capseen = cap;
        }
        seen[nseen++] = id;
      }
      snprintf(num, sizeof num, "%lu", (unsigned long)j + 1);
      if (membuf_put(out, s, plen) || membuf_put(out, num, strlen(num)))
        break;
      i += d;
    }
  }
  free(seen);
  return out->oom ? PLX_ENOMEM : PLX_OK;
}

static int write_file(const char *path, const membuf *b, plx_error *err)
{
  FILE *f = fopen(path, "wb");
  int bad;
  if (!f)
    return plx_error_set(err, PLX_EIO, "%s: cannot write figure: %s", path,
                         strerror(errno));
  bad = fwrite(b->p, 1, b->n, f) != b->n;
  if (bad) {
    int e = errno;
    fclose(f);
    return plx_error_set(err, PLX_EIO, "%s: cannot write figure: %s", path,
                         strerror(e));
  }
  if (fclose(f) != 0)
    return plx_error_set(err, PLX_EIO, "%s: cannot write figure: %s", path,
                         strerror(errno));
  return PLX_OK;
}

static int cairo_fail(plx_error *err, cairo_status_t st, int rc,
                      const char *path)
{
  if (rc == PLX_ENOMEM || st == CAIRO_STATUS_NO_MEMORY)
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", path);
  if (rc)
    return plx_error_set(err, rc, "%s: cannot draw figure", path);
  return plx_error_set(err, PLX_EIO, "%s: cairo: %s", path,
                       cairo_status_to_string(st));
}

static int save_png(const plx_figure *fig, const char *path, plx_error *err)
{
  cairo_surface_t *sf = cairo_image_surface_create(
      CAIRO_FORMAT_RGB24, (int)lround(fig->w), (int)lround(fig->h));
  cairo_t *cr = cairo_create(sf);
  membuf b = {NULL, 0, 0, 0};
  cairo_status_t st;
  int rc = render(fig, cr);
  cairo_destroy(cr);
  st = cairo_surface_status(sf);
  if (rc == PLX_OK && st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_write_to_png_stream(sf, membuf_write, &b);
  cairo_surface_destroy(sf);
  if (rc || st != CAIRO_STATUS_SUCCESS || b.oom)
    rc = cairo_fail(err, b.oom ? CAIRO_STATUS_NO_MEMORY : st, rc, path);
  else
    rc = write_file(path, &b, err);
  free(b.p);
  return rc;
}

static int save_svg(const plx_figure *fig, const char *path, plx_error *err)
{
  membuf raw = {NULL, 0, 0, 0}, out = {NULL, 0, 0, 0};
  cairo_surface_t *sf =
      cairo_svg_surface_create_for_stream(membuf_write, &raw, fig->w, fig->h);
  cairo_t *cr;
  cairo_status_t st;
  int rc;
  cairo_svg_surface_restrict_to_version(sf, CAIRO_SVG_VERSION_1_1);
#if CAIRO_VERSION >= CAIRO_VERSION_ENCODE(1, 16, 0)
  cairo_svg_surface_set_document_unit(sf, CAIRO_SVG_UNIT_PT);
#endif
  cr = cairo_create(sf);
  rc = render(fig, cr);
  cairo_destroy(cr);
  cairo_surface_finish(sf);
  st = cairo_surface_status(sf);
  cairo_surface_destroy(sf);
  if (rc || st != CAIRO_STATUS_SUCCESS || raw.oom)
    rc = cairo_fail(err, raw.oom ? CAIRO_STATUS_NO_MEMORY : st, rc, path);
  else if ((rc = svg_renumber(&raw, &out)))
    rc = plx_error_set(err, rc, "%s: out of memory", path);
  else
    rc = write_file(path, &out, err);
  free(raw.p);
  free(out.p);
  return rc;
}

int plx_figure_save(plx_figure *fig, const char *path_stem, unsigned formats,
                    plx_error *err)
{
  size_t n;
  char *path;
  int rc = PLX_OK;
  if (!fig || !path_stem)
    return plx_error_set(err, PLX_EINVAL, "plx_figure_save: no %s",
                         fig ? "file name" : "figure");
  if (!formats || (formats & ~(unsigned)(PLX_FIG_PNG | PLX_FIG_SVG)))
    return plx_error_set(err, PLX_EINVAL,
                         "%s: unknown figure formats 0x%x", path_stem,
                         formats);
  if (fig->oom)
    return plx_error_set(err, PLX_ENOMEM,
                         "%s: out of memory while building the figure",
                         path_stem);
  n = strlen(path_stem);
  if (!(path = malloc(n + 5)))
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", path_stem);
  memcpy(path, path_stem, n);
  if (formats & PLX_FIG_PNG) {
    memcpy(path + n, ".png", 5);
    rc = save_png(fig, path, err);
  }
  if (rc == PLX_OK && (formats & PLX_FIG_SVG)) {
    memcpy(path + n, ".svg", 5);
    rc = save_svg(fig, path, err);
  }
  free(path);
  return rc;
}
