/* deepnet.c -- convolution, ReLU (optionally clipped), max pooling, local
 * response normalisation, fully connected layers, zero padding and
 * residual additions in single precision: forward,
 * backward and forward-mode (tangent) passes over a batch, through im2col
 * and OpenBLAS sgemm (per sample and group; the backward pass builds the
 * columns again for the weight gradient rather than keeping the forward's,
 * which measured slower).  See plastix/deepnet.h.
 *
 * The loops around the GEMMs (im2col/col2im, ReLU, pooling, LRN, bias
 * sums) are arranged to vectorise -- whole channel planes, "same" padding
 * as shifted flat copies, SSE where the compiler will not -- but every
 * value and every sum is formed as by the plain element-by-element loops,
 * in the same order: results are bitwise those of the straightforward
 * code, which runs that are sensitive to rounding (the natural-image
 * experiment) rely on. */
#include "config.h"
#include "plastix/deepnet.h"
#include "plastix/error.h"

#include <cblas.h>
#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#elif defined(__SSE__)
#include <xmmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const plx_param_spec plx_layer_spec[] = {
    {"type", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0,
     "conv|relu|maxpool|lrn|fc|zeropad|add", NULL, "layer type"},
    PLX_P_STRING("name", "", NULL, "layer name for probes (default <type><index>)"),
    PLX_P_INT_RANGE("out", 0, 0, 1000000, "conv: output channels; fc: output units"),
    PLX_P_INT_RANGE("kernel", 3, 1, 1000, "conv, maxpool: kernel size"),
    PLX_P_INT_RANGE("stride", 1, 1, 1000, "conv, maxpool: stride"),
    PLX_P_INT_RANGE("pad", 0, 0, 1000, "conv: zero padding; zeropad: rows and columns "
                    "added before (top, left)"),
    PLX_P_INT_RANGE("pad_after", -1, -1, 1000, "zeropad: rows and columns added after "
                    "(bottom, right; -1: as many as pad)"),
    PLX_P_FLOAT_MIN("max", 0.0, 0.0, 0, "relu: ceiling, min(max(x, 0), max) (0: none)"),
    PLX_P_STRING("from", "", NULL, "add: the earlier layer whose output is added to the "
                 "input (the same shape)"),
    PLX_P_INT_RANGE("groups", 1, 1, 100000, "conv: channel groups"),
    PLX_P_INT_RANGE("size", 5, 1, 1001, "lrn: channels in the window (odd)"),
    PLX_P_FLOAT_MIN("alpha", 1e-4, 0.0, 0, "lrn: alpha (divided by size)"),
    PLX_P_FLOAT_MIN("beta", 0.75, 0.0, 0, "lrn: exponent"),
    PLX_P_FLOAT_MIN("k", 2.0, 0.0, PLX_PARAM_MIN_EXCL, "lrn: additive constant"),
    PLX_P_END};

static const char *kind_name(plx_layer_kind k)
{
  switch (k) {
  case PLX_LAYER_CONV: return "conv";
  case PLX_LAYER_RELU: return "relu";
  case PLX_LAYER_MAXPOOL: return "maxpool";
  case PLX_LAYER_LRN: return "lrn";
  case PLX_LAYER_ZEROPAD: return "zeropad";
  case PLX_LAYER_ADD: return "add";
  default: return "fc";
  }
}

void plx_deepnet_free(plx_deepnet *net)
{
  size_t i;
  if (!net)
    return;
  for (i = 0; i < net->n_layers; i++) {
    plx_layer *l = &net->layers[i];
    free(l->W);
    free(l->b);
    free(l->gW);
    free(l->gb);
    free(l->out);
    free(l->tan);
    free(l->delta);
    free(l->argmax);
    free(l->lrn_scale);
    free(l->noise);
    free(l->skip_delta);
  }
  free(net->layers);
  free(net->col);
  free(net->dcol);
  free(net);
}

int plx_deepnet_new(plx_deepnet **out, const plx_params *lp, size_t c, size_t h,
                    size_t w, size_t max_batch, plx_error *err)
{
  plx_deepnet *net = calloc(1, sizeof *net);
  size_t n = plx_params_count(lp), i, B = max_batch ? max_batch : 1;
  size_t cc = c, hh = h, ww = w, colmax = 1;
  int rc;
  *out = NULL;
  if (!net)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  if (n == 0) {
    free(net);
    return plx_params_error(lp, NULL, err, "a network needs at least one layer");
  }
  net->layers = calloc(n, sizeof *net->layers);
  if (!net->layers) {
    free(net);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  net->n_layers = n;
  net->in_c = c;
  net->in_h = h;
  net->in_w = w;
  net->in_size = c * h * w;
  net->max_batch = B;
  for (i = 0; i < n; i++) {
    const plx_params *p = plx_params_at(lp, i);
    plx_layer *l = &net->layers[i];
    const char *t = plx_params_string(p, "type"), *nm = plx_params_string(p, "name");
    l->kind = strcmp(t, "conv") == 0      ? PLX_LAYER_CONV
              : strcmp(t, "relu") == 0    ? PLX_LAYER_RELU
              : strcmp(t, "maxpool") == 0 ? PLX_LAYER_MAXPOOL
              : strcmp(t, "lrn") == 0     ? PLX_LAYER_LRN
              : strcmp(t, "zeropad") == 0 ? PLX_LAYER_ZEROPAD
              : strcmp(t, "add") == 0     ? PLX_LAYER_ADD
                                          : PLX_LAYER_FC;
    if (nm[0])
      snprintf(l->name, sizeof l->name, "%s", nm);
    else
      snprintf(l->name, sizeof l->name, "%s%zu", kind_name(l->kind), i + 1);
    l->in_c = cc;
    l->in_h = hh;
    l->in_w = ww;
    l->in_size = cc * hh * ww;
    l->k = (size_t)plx_params_int(p, "kernel");
    l->stride = (size_t)plx_params_int(p, "stride");
    l->pad = (size_t)plx_params_int(p, "pad");
    l->groups = (size_t)plx_params_int(p, "groups");
    switch (l->kind) {
    case PLX_LAYER_CONV: {
      size_t oc = (size_t)plx_params_int(p, "out");
      if (oc == 0 || cc % l->groups || oc % l->groups) {
        /* the message reads the layer: write it before freeing */
        rc = plx_params_error(p, oc == 0 ? "out" : "groups", err,
                                "conv needs out > 0 and groups dividing both the "
                                "input channels (%zu) and out (%zu)", cc, oc);
        plx_deepnet_free(net);
        return rc;
      }
      if (hh + 2 * l->pad < l->k || ww + 2 * l->pad < l->k) {
        rc = plx_params_error(p, "kernel", err, "kernel %zu larger than the "
                                "padded input %zux%zu", l->k, hh + 2 * l->pad,
                                ww + 2 * l->pad);
        plx_deepnet_free(net);
        return rc;
      }
      l->out_c = oc;
      l->out_h = (hh + 2 * l->pad - l->k) / l->stride + 1;
      l->out_w = (ww + 2 * l->pad - l->k) / l->stride + 1;
      l->n_w = oc * (cc / l->groups) * l->k * l->k;
      if ((cc / l->groups) * l->k * l->k * l->out_h * l->out_w > colmax)
        colmax = (cc / l->groups) * l->k * l->k * l->out_h * l->out_w;
      break;
    }
    case PLX_LAYER_MAXPOOL:
      if (hh < l->k || ww < l->k) {
        rc = plx_params_error(p, "kernel", err, "pooling kernel %zu larger than "
                                "the input %zux%zu", l->k, hh, ww);
        plx_deepnet_free(net);
        return rc;
      }
      l->out_c = cc;
      l->out_h = (hh - l->k) / l->stride + 1;
      l->out_w = (ww - l->k) / l->stride + 1;
      break;
    case PLX_LAYER_LRN:
      if (l->in_size > colmax) /* the backward pass's workspaces */
        colmax = l->in_size;
      l->k = (size_t)plx_params_int(p, "size");
      if (l->k % 2 == 0) {
        rc = plx_params_error(p, "size", err, "expected an odd window, got %zu", l->k);
        plx_deepnet_free(net);
        return rc;
      }
      l->lrn_alpha = (float)plx_params_float(p, "alpha");
      l->lrn_beta = (float)plx_params_float(p, "beta");
      l->lrn_k = (float)plx_params_float(p, "k");
      /* fall through: shape unchanged */
      l->out_c = cc;
      l->out_h = hh;
      l->out_w = ww;
      break;
    case PLX_LAYER_RELU:
      l->relu_max = (float)plx_params_float(p, "max");
      l->out_c = cc;
      l->out_h = hh;
      l->out_w = ww;
      break;
    case PLX_LAYER_ZEROPAD: {
      const long pa = plx_params_int(p, "pad_after");
      l->pad_after = pa < 0 ? l->pad : (size_t)pa;
      l->out_c = cc;
      l->out_h = hh + l->pad + l->pad_after;
      l->out_w = ww + l->pad + l->pad_after;
      break;
    }
    case PLX_LAYER_ADD: {
      const char *from = plx_params_string(p, "from");
      size_t f;
      for (f = 0; f < i && strcmp(net->layers[f].name, from) != 0; f++)
        ;
      if (f == i || net->layers[f].out_c != cc || net->layers[f].out_h != hh ||
          net->layers[f].out_w != ww) {
        rc = f == i ? plx_params_error(p, "from", err, "expected the name of an earlier "
                                       "layer, got '%s'", from)
                    : plx_params_error(p, "from", err, "layer '%s' has shape %zux%zux%zu, "
                                       "this layer's input %zux%zux%zu", from,
                                       net->layers[f].out_c, net->layers[f].out_h,
                                       net->layers[f].out_w, cc, hh, ww);
        plx_deepnet_free(net);
        return rc;
      }
      l->from = f;
      if (!net->layers[f].skip_delta &&
          !(net->layers[f].skip_delta = calloc(net->layers[f].out_size * B, sizeof(float)))) {
        plx_deepnet_free(net);
        return plx_error_set(err, PLX_ENOMEM, "out of memory (layer %s)", from);
      }
      l->out_c = cc;
      l->out_h = hh;
      l->out_w = ww;
      break;
    }
    case PLX_LAYER_FC: {
      size_t o = (size_t)plx_params_int(p, "out");
      if (o == 0) {
        rc = plx_params_error(p, "out", err, "an fc layer needs out > 0");
        plx_deepnet_free(net);
        return rc;
      }
      l->out_c = o;
      l->out_h = l->out_w = 1;
      l->n_w = o * l->in_size;
      break;
    }
    }
    l->out_size = l->out_c * l->out_h * l->out_w;
    if (l->n_w) {
      l->noise = calloc(l->out_size * B, sizeof(float));
      l->W = calloc(l->n_w, sizeof(float));
      l->gW = calloc(l->n_w, sizeof(float));
      l->b = calloc(l->out_c, sizeof(float));
      l->gb = calloc(l->out_c, sizeof(float));
    }
    l->out = calloc(l->out_size * B, sizeof(float));
    l->tan = calloc(l->out_size * B, sizeof(float));
    l->delta = calloc(l->in_size * B, sizeof(float));
    if (l->kind == PLX_LAYER_MAXPOOL)
      l->argmax = calloc(l->out_size * B, sizeof(int));
    if (l->kind == PLX_LAYER_LRN)
      l->lrn_scale = calloc(l->out_size * B, sizeof(float));
    if ((l->n_w && (!l->W || !l->gW || !l->b || !l->gb || !l->noise)) || !l->out || !l->tan ||
        !l->delta || (l->kind == PLX_LAYER_MAXPOOL && !l->argmax) ||
        (l->kind == PLX_LAYER_LRN && !l->lrn_scale)) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory (layer %s)", l->name);
      plx_deepnet_free(net);
      return rc;
    }
    cc = l->out_c;
    hh = l->out_h;
    ww = l->out_w;
  }
  net->col_size = colmax;
  net->col = calloc(colmax, sizeof(float));
  net->dcol = calloc(colmax, sizeof(float));
  if (!net->col || !net->dcol) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    plx_deepnet_free(net);
    return rc;
  }
  *out = net;
  return PLX_OK;
}

void plx_deepnet_init(plx_deepnet *net, double scale, plx_rng *rng)
{
  size_t i, j;
  for (i = 0; i < net->n_layers; i++) {
    plx_layer *l = &net->layers[i];
    double fan, a;
    if (!l->n_w)
      continue;
    fan = (double)(l->n_w / l->out_c);
    a = scale / sqrt(fan);
    for (j = 0; j < l->n_w; j++)
      l->W[j] = (float)(-a + 2.0 * a * plx_rng_uniform(rng));
    for (j = 0; j < l->out_c; j++)
      l->b[j] = (float)(-a + 2.0 * a * plx_rng_uniform(rng));
  }
}

int plx_deepnet_find(const plx_deepnet *net, const char *name)
{
  size_t i;
  for (i = 0; i < net->n_layers; i++)
    if (strcmp(net->layers[i].name, name) == 0)
      return (int)i;
  return -1;
}

int plx_deepnet_save(const plx_deepnet *net, plx_h5 *h, const char *group,
                     plx_error *err)
{
  size_t k;
  for (k = 0; k < net->n_layers; k++) {
    const plx_layer *l = &net->layers[k];
    char p[256];
    size_t dims[2];
    int rc;
    if (!l->n_w)
      continue;
    dims[0] = l->out_c;
    dims[1] = l->n_w / l->out_c;
    snprintf(p, sizeof p, "%s/%s/W", group, l->name);
    if ((rc = plx_h5_write_float_array(h, p, l->W, 2, dims, err)))
      return rc;
    snprintf(p, sizeof p, "%s/%s/b", group, l->name);
    if ((rc = plx_h5_write_float_array(h, p, l->b, 1, dims, err)))
      return rc;
  }
  return 0;
}

/* Read dataset p into dst (n floats) after checking its shape. */
static int load_tensor(plx_h5 *h, const char *p, float *dst, int rank,
                       const size_t *want, plx_error *err)
{
  double *buf = NULL;
  size_t dims[PLX_H5_MAX_RANK], n = 1, i;
  int r, rc = plx_h5_read_array(h, p, &buf, &r, dims, err);
  if (rc)
    return rc;
  if (r != rank || dims[0] != want[0] || (rank == 2 && dims[1] != want[1])) {
    char got[96] = "", exp[64];
    size_t o = 0;
    int d;
    for (d = 0; d < r && o < sizeof got - 24; d++)
      o += (size_t)snprintf(got + o, sizeof got - o, "%s%zu", d ? " x " : "", dims[d]);
    if (rank == 2)
      snprintf(exp, sizeof exp, "%zu x %zu", want[0], want[1]);
    else
      snprintf(exp, sizeof exp, "%zu", want[0]);
    free(buf);
    return plx_error_set(err, PLX_EINVAL, "%s: dataset %s has shape %s, the network needs %s",
                         plx_h5_path(h), p, r ? got : "(scalar)", exp);
  }
  for (i = 0; i < (size_t)rank; i++)
    n *= want[i];
  for (i = 0; i < n; i++)
    dst[i] = (float)buf[i];
  free(buf);
  return 0;
}

int plx_deepnet_load(plx_deepnet *net, plx_h5 *h, const char *group,
                     int only_present, plx_error *err)
{
  return plx_deepnet_load_some(net, h, group, NULL, NULL, only_present, err);
}

int plx_deepnet_load_some(plx_deepnet *net, plx_h5 *h, const char *group,
                          int (*want)(const plx_deepnet *, size_t, void *), void *ctx,
                          int only_present, plx_error *err)
{
  size_t k, loaded = 0;
  for (k = 0; k < net->n_layers; k++) {
    plx_layer *l = &net->layers[k];
    char p[256];
    size_t dims[2];
    int rc;
    if (!l->n_w || (want && !want(net, k, ctx)))
      continue;
    dims[0] = l->out_c;
    dims[1] = l->n_w / l->out_c;
    snprintf(p, sizeof p, "%s/%s/W", group, l->name);
    if (!plx_h5_exists(h, p)) {
      if (only_present)
        continue;
      return plx_error_set(err, PLX_ENOTFOUND, "%s: no dataset %s (layer %s); the file holds "
                           "weights of another network", plx_h5_path(h), p, l->name);
    }
    if ((rc = load_tensor(h, p, l->W, 2, dims, err)))
      return rc;
    snprintf(p, sizeof p, "%s/%s/b", group, l->name);
    if ((rc = load_tensor(h, p, l->b, 1, dims, err)))
      return rc;
    loaded++;
  }
  if (!loaded)
    return plx_error_set(err, PLX_ENOTFOUND, "%s: no layer of the network found under %s",
                         plx_h5_path(h), group);
  return 0;
}

size_t plx_deepnet_params(const plx_deepnet *net)
{
  size_t i, n = 0;
  for (i = 0; i < net->n_layers; i++)
    if (net->layers[i].n_w)
      n += net->layers[i].n_w + net->layers[i].out_c;
  return n;
}

size_t plx_layer_centre(const plx_layer *l)
{
  return ((l->out_h - 1) / 2) * l->out_w + (l->out_w - 1) / 2;
}

/* ------------------------------------------------------------ im2col */

/* The output columns ow whose input column iw = ow s - pad + kj lies in
 * [0, W): [*lo, *hi).  Hoisting this out of the inner loops leaves them
 * branch-free (a plain strided copy) without changing any value or the
 * order of any sum. */
static void valid_cols(long s, long pad, long kj, long W, size_t OW, size_t *lo, size_t *hi)
{
  long a = pad - kj, b = W + pad - kj; /* ow s >= a and ow s < b */
  long l0 = a <= 0 ? 0 : (a + s - 1) / s, h0 = b <= 0 ? 0 : (b + s - 1) / s;
  if (h0 > (long)OW)
    h0 = (long)OW;
  if (l0 > h0)
    l0 = h0;
  *lo = (size_t)l0;
  *hi = (size_t)h0;
}

/* "Same" padding at stride 1 (output as large as the input): row (ki, kj)
 * of im2col is then the channel plane shifted by *delta = (ki - pad) W +
 * kj - pad and cut to the output rows [*oh0, *oh1) in which the shifted
 * row ih = oh + ki - pad lies inside the plane; inside them the flat
 * positions [*qa, *qb) read the plane at q + delta, and of these only the
 * columns [lo, hi) of valid_cols belong to the row, the others (a pixel or
 * two at either end of each row) are what a flat copy drags in from the
 * neighbouring rows.  Returns 0 unless the layer has that shape. */
static int same_shift(const plx_layer *l, size_t ki, size_t kj, long *delta, size_t *oh0,
                      size_t *oh1, long *qa, long *qb)
{
  const size_t OH = l->out_h, OW = l->out_w, H = l->in_h, W = l->in_w;
  const long pad = (long)l->pad, n = (long)(H * W);
  long e1;
  if (l->stride != 1 || OW != W || OH != H)
    return 0;
  *delta = ((long)ki - pad) * (long)W + (long)kj - pad;
  *oh0 = (long)ki < pad ? (size_t)(pad - (long)ki) : 0;
  if (*oh0 > OH)
    *oh0 = OH;
  e1 = (long)H + pad - (long)ki;
  *oh1 = e1 < 0 ? 0 : (size_t)e1 < OH ? (size_t)e1 : OH;
  if (*oh1 < *oh0)
    *oh1 = *oh0;
  *qa = (long)(*oh0 * OW);
  *qb = (long)(*oh1 * OW);
  if (*qa < -*delta)
    *qa = -*delta;
  if (*qb > n - *delta)
    *qb = n - *delta;
  if (*qb < *qa)
    *qb = *qa;
  return 1;
}

/* GCC turns the short zero-fill loops of im2col (a pixel or two per row)
 * into calls of memset, which cost more than the stores */
#if defined(__GNUC__) && !defined(__clang__)
#define PLX_INLINE_FILLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define PLX_INLINE_FILLS
#endif

/* v into the columns [0, lo) and [hi, OW) of the rows [oh0, oh1) of an
 * OH x OW plane (oh0 < oh1): the tail of one row and the head of the next
 * are one run */
static PLX_INLINE_FILLS void fill_edges(float *p, size_t OW, size_t oh0, size_t oh1, size_t lo,
                                        size_t hi, float v)
{
  const size_t e = OW - hi + lo;
  size_t oh, i;
  if (e == 0)
    return;
  for (i = 0; i < lo; i++)
    p[oh0 * OW + i] = v;
  for (oh = oh0; oh + 1 < oh1; oh++) {
    float *z = p + oh * OW + hi;
    for (i = 0; i < e; i++)
      z[i] = v;
  }
  for (i = hi; i < OW; i++)
    p[(oh1 - 1) * OW + i] = v;
}

/* x: one sample (C, H, W); columns for channels [c0, c0 + cg) into col
 * (cg*k*k rows × OH*OW).  The loops run over (ki, kj) outside the
 * channels, whose rows share the geometry. */
static PLX_INLINE_FILLS void im2col(const plx_layer *l, const float *x, size_t c0, size_t cg,
                                    float *col)
{
  const size_t k = l->k, OH = l->out_h, OW = l->out_w, H = l->in_h, W = l->in_w;
  const long pad = (long)l->pad, s = (long)l->stride;
  size_t c, ki, kj, oh, ow, lo, hi, oh0, oh1;
  long delta, qa, qb;
  for (ki = 0; ki < k; ki++)
    for (kj = 0; kj < k; kj++) {
      const int same = same_shift(l, ki, kj, &delta, &oh0, &oh1, &qa, &qb);
      valid_cols(s, pad, (long)kj, (long)W, OW, &lo, &hi);
      for (c = 0; c < cg; c++) {
        float *dst = col + ((c * k + ki) * k + kj) * OH * OW;
        const float *src = x + (c0 + c) * H * W;
        if (same) {
          /* one copy of the whole shifted plane, then the zeros: the rows
           * above and below it and the edge columns of the others */
          memset(dst, 0, oh0 * OW * sizeof *dst);
          if (qb > qa)
            memcpy(dst + qa, src + qa + delta, (size_t)(qb - qa) * sizeof *dst);
          memset(dst + oh1 * OW, 0, (OH - oh1) * OW * sizeof *dst);
          if (oh1 > oh0)
            fill_edges(dst, OW, oh0, oh1, lo, hi, 0.0f);
          continue;
        }
        for (oh = 0; oh < OH; oh++) {
          const long ih = (long)oh * s - pad + (long)ki;
          float *d = dst + oh * OW;
          long base;
          if (ih < 0 || ih >= (long)H) {
            memset(d, 0, OW * sizeof *d);
            continue;
          }
          base = ih * (long)W - pad + (long)kj; /* + ow s >= 0 for ow >= lo */
          for (ow = 0; ow < lo; ow++)
            d[ow] = 0.0f;
          if (s == 1)
            memcpy(d + lo, src + base + (long)lo, (hi - lo) * sizeof *d);
          else
            for (ow = lo; ow < hi; ow++)
              d[ow] = src[base + (long)ow * s];
          for (ow = hi; ow < OW; ow++)
            d[ow] = 0.0f;
        }
      }
    }
}

/* dst[i] += src[i]: the rows of col2im at stride 1 (vectorised; every
 * element still receives one addition, so nothing is reordered) */
static inline void add_row(float *restrict dst, const float *restrict src, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    dst[i] += src[i];
}

/* adjoint of im2col: accumulate col back into dx (the same order of sums
 * as a loop over every (ki, kj, oh, ow) that skips the padding: a pixel of
 * channel c receives only the rows of channel c, still in order of (ki,
 * kj)).  With "same" padding at stride 1 each row of col is added as one
 * flat run (same_shift) after its edge columns, which belong to no pixel,
 * are set to -0: x + (-0) is x for every x, so the pixels the flat run
 * reaches through them are unchanged, bit for bit.  col is overwritten
 * there. */
static PLX_INLINE_FILLS void col2im(const plx_layer *l, float *col, size_t c0, size_t cg,
                                    float *dx)
{
  const size_t k = l->k, OH = l->out_h, OW = l->out_w, H = l->in_h, W = l->in_w;
  const long pad = (long)l->pad, s = (long)l->stride;
  size_t c, ki, kj, oh, ow, lo, hi, oh0, oh1;
  long delta, qa, qb;
  for (ki = 0; ki < k; ki++)
    for (kj = 0; kj < k; kj++) {
      const int same = same_shift(l, ki, kj, &delta, &oh0, &oh1, &qa, &qb);
      valid_cols(s, pad, (long)kj, (long)W, OW, &lo, &hi);
      for (c = 0; c < cg; c++) {
        float *src = col + ((c * k + ki) * k + kj) * OH * OW;
        float *dst = dx + (c0 + c) * H * W;
        if (same) {
          if (qb > qa) {
            fill_edges(src, OW, oh0, oh1, lo, hi, -0.0f);
            add_row(dst + qa + delta, src + qa, (size_t)(qb - qa));
          }
          continue;
        }
        for (oh = 0; oh < OH; oh++) {
          const long ih = (long)oh * s - pad + (long)ki;
          const float *sr = src + oh * OW;
          long base;
          if (ih < 0 || ih >= (long)H)
            continue;
          base = ih * (long)W - pad + (long)kj;
          if (s == 1)
            add_row(dst + base + (long)lo, sr + lo, hi - lo);
          else
            for (ow = lo; ow < hi; ow++)
              dst[base + (long)ow * s] += sr[ow];
        }
      }
    }
}

/* ---------------------------------------------------------- forward */

/* conv or fc of `in` (B samples) into `out`; bias added when with_bias */
static void linear_forward(plx_deepnet *net, plx_layer *l, const float *in, float *out,
                           size_t B, int with_bias)
{
  size_t b, g, i, j;
  if (l->kind == PLX_LAYER_FC) {
    /* out [B × O] = in [B × I] W^T */
    if (with_bias)
      for (b = 0; b < B; b++)
        memcpy(out + b * l->out_c, l->b, l->out_c * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)l->out_c,
                (int)l->in_size, 1.0f, in, (int)l->in_size, l->W, (int)l->in_size,
                with_bias ? 1.0f : 0.0f, out, (int)l->out_c);
    return;
  }
  {
    const size_t G = l->groups, cg = l->in_c / G, og = l->out_c / G;
    const size_t K = cg * l->k * l->k, P = l->out_h * l->out_w;
    for (b = 0; b < B; b++) {
      const float *xb = in + b * l->in_size;
      float *yb = out + b * l->out_size;
      for (g = 0; g < G; g++) {
        im2col(l, xb, g * cg, cg, net->col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)og, (int)P, (int)K,
                    1.0f, l->W + g * og * K, (int)K, net->col, (int)P, 0.0f,
                    yb + g * og * P, (int)P);
      }
      if (with_bias)
        for (i = 0; i < l->out_c; i++)
          for (j = 0; j < P; j++)
            yb[i * P + j] += l->b[i];
    }
  }
}

static void lrn_window(const plx_layer *l, size_t c, size_t *lo, size_t *hi)
{
  const size_t half = l->k / 2;
  *lo = c >= half ? c - half : 0;
  *hi = c + half < l->in_c ? c + half : l->in_c - 1;
}

static int forward_impl(plx_deepnet *net, const float *x, size_t B, double sigma,
                        const unsigned char *skip, plx_rng *rng);

/* S^-beta of the LRN; AlexNet's beta = 3/4 through two square roots, which
 * is several times cheaper than powf in these element-wise loops */
static inline float lrn_pow(float S, float be)
{
  return be == 0.75f ? 1.0f / sqrtf(S * sqrtf(S)) : powf(S, -be);
}

static void relu_forward(size_t n, const float *restrict in, float *restrict out)
{
  size_t j;
  for (j = 0; j < n; j++)
    out[j] = in[j] > 0 ? in[j] : 0.0f;
}

/* min(max(x, 0), top) */
static void relu_max_forward(size_t n, const float *restrict in, float *restrict out, float top)
{
  size_t j;
  for (j = 0; j < n; j++)
    out[j] = in[j] > 0 ? (in[j] < top ? in[j] : top) : 0.0f;
}

/* d where the clipped ReLU's input is in (0, top), else 0: its derivative,
 * for the tangent and the backward pass alike */
static void relu_max_mask(size_t n, const float *restrict in, const float *restrict d,
                          float *restrict dx, float top)
{
  size_t j;
  for (j = 0; j < n; j++) {
    const float v = d[j];
    dx[j] = in[j] > 0 && in[j] < top ? v : 0.0f;
  }
}

/* zero padding of B samples: x (C x H x W each) into y (C x OH x OW) at
 * offset (pad, pad); the same map carries tangents */
static void zeropad_forward(const plx_layer *l, const float *x, float *y, size_t B)
{
  const size_t H = l->in_h, W = l->in_w, OH = l->out_h, OW = l->out_w;
  size_t b, c, r;
  memset(y, 0, l->out_size * B * sizeof *y);
  for (b = 0; b < B; b++)
    for (c = 0; c < l->in_c; c++)
      for (r = 0; r < H; r++)
        memcpy(y + b * l->out_size + (c * OH + r + l->pad) * OW + l->pad,
               x + b * l->in_size + (c * H + r) * W, W * sizeof *y);
}

/* its adjoint: the padded gradient d cut back to the input's shape */
static void zeropad_backward(const plx_layer *l, const float *d, float *dx, size_t B)
{
  const size_t H = l->in_h, W = l->in_w, OH = l->out_h, OW = l->out_w;
  size_t b, c, r;
  for (b = 0; b < B; b++)
    for (c = 0; c < l->in_c; c++)
      for (r = 0; r < H; r++)
        memcpy(dx + b * l->in_size + (c * H + r) * W,
               d + b * l->out_size + (c * OH + r + l->pad) * OW + l->pad, W * sizeof *dx);
}

/* y = a + b, n elements */
static void add_arrays(size_t n, const float *restrict a, const float *restrict b,
                       float *restrict y)
{
  size_t j;
  for (j = 0; j < n; j++)
    y[j] = a[j] + b[j];
}

/* Max pooling of one channel plane src (H x W) into out (OH x OW) and the
 * index of each maximum in src: the first of the window's largest values
 * in the order of (ki, kj).  Four outputs of a row at a time through SSE2
 * (the same comparisons in the same order, lane by lane), the rest one by
 * one. */
static void maxpool_plane(const plx_layer *l, const float *restrict src, float *restrict out,
                          int *restrict argmax)
{
  const size_t W = l->in_w, OH = l->out_h, OW = l->out_w, k = l->k, s = l->stride;
  size_t oh, ow, ki, kj;
  for (oh = 0; oh < OH; oh++) {
    ow = 0;
#ifdef __SSE2__
    for (; ow + 4 <= OW; ow += 4) {
      const size_t i0 = (oh * s) * W + ow * s;
      __m128 bv = _mm_setr_ps(src[i0], src[i0 + s], src[i0 + 2 * s], src[i0 + 3 * s]);
      __m128i bi = _mm_setr_epi32((int)i0, (int)(i0 + s), (int)(i0 + 2 * s), (int)(i0 + 3 * s));
      for (ki = 0; ki < k; ki++)
        for (kj = 0; kj < k; kj++) {
          const size_t i = (oh * s + ki) * W + ow * s + kj;
          const __m128 v = _mm_setr_ps(src[i], src[i + s], src[i + 2 * s], src[i + 3 * s]);
          const __m128 m = _mm_cmpgt_ps(v, bv);
          const __m128i mi = _mm_castps_si128(m);
          const __m128i iv =
              _mm_setr_epi32((int)i, (int)(i + s), (int)(i + 2 * s), (int)(i + 3 * s));
          bv = _mm_or_ps(_mm_and_ps(m, v), _mm_andnot_ps(m, bv));
          bi = _mm_or_si128(_mm_and_si128(mi, iv), _mm_andnot_si128(mi, bi));
        }
      _mm_storeu_ps(out + oh * OW + ow, bv);
      _mm_storeu_si128((__m128i *)(void *)(argmax + oh * OW + ow), bi);
    }
#endif
    for (; ow < OW; ow++) {
      size_t best = (oh * s) * W + ow * s;
      for (ki = 0; ki < k; ki++)
        for (kj = 0; kj < k; kj++) {
          size_t idx = (oh * s + ki) * W + ow * s + kj;
          if (src[idx] > src[best])
            best = idx;
        }
      out[oh * OW + ow] = src[best];
      argmax[oh * OW + ow] = (int)best;
    }
  }
}

/* pw[i] = lrn_pow(S[i], be), i < n: four at a time through SSE's square
 * root and division, which round exactly as sqrtf and / do (sqrtf itself
 * is not vectorised by the compiler, which keeps errno for it) */
static void lrn_pow_n(size_t n, const float *restrict S, float be, float *restrict pw)
{
  size_t i = 0;
#ifdef __SSE__
  if (be == 0.75f) {
    const __m128 one = _mm_set1_ps(1.0f);
    for (; i + 4 <= n; i += 4) {
      const __m128 s = _mm_loadu_ps(S + i);
      _mm_storeu_ps(pw + i, _mm_div_ps(one, _mm_sqrt_ps(_mm_mul_ps(s, _mm_sqrt_ps(s)))));
    }
  }
#endif
  for (; i < n; i++)
    pw[i] = lrn_pow(S[i], be);
}

/* LRN forward of one sample (a: input, C x P): S = k + alpha/n sum a^2
 * over the window of channels, y = a S^-beta; pw is a P-float workspace.
 * The sums run over whole channel planes, each element's terms in the
 * order of the window. */
static void lrn_forward(const plx_layer *l, const float *restrict a, float *restrict S,
                        float *restrict y, float *restrict pw)
{
  const size_t P = l->in_h * l->in_w;
  const float an = l->lrn_alpha / (float)l->k, kk = l->lrn_k;
  size_t c, cc, p, lo, hi;
  for (c = 0; c < l->in_c; c++) {
    float *sum = S + c * P;
    const float *ac = a + c * P;
    lrn_window(l, c, &lo, &hi);
    for (p = 0; p < P; p++)
      sum[p] = 0;
    for (cc = lo; cc <= hi; cc++)
      for (p = 0; p < P; p++)
        sum[p] += a[cc * P + p] * a[cc * P + p];
    for (p = 0; p < P; p++)
      sum[p] = kk + an * sum[p];
    lrn_pow_n(P, sum, l->lrn_beta, pw);
    for (p = 0; p < P; p++)
      y[c * P + p] = ac[p] * pw[p];
  }
}

int plx_deepnet_forward(plx_deepnet *net, const float *x, size_t B)
{
  return forward_impl(net, x, B, 0.0, NULL, NULL);
}

int plx_deepnet_forward_noisy(plx_deepnet *net, const float *x, size_t B, double sigma,
                              const unsigned char *skip, plx_rng *rng)
{
  return forward_impl(net, x, B, sigma, skip, rng);
}

static int forward_impl(plx_deepnet *net, const float *x, size_t B, double sigma,
                        const unsigned char *skip, plx_rng *rng)
{
  const float *in = x;
  size_t i, b, c, j;
  if (B > net->max_batch)
    return PLX_EINVAL;
  net->batch = B;
  net->input = x;
  for (i = 0; i < net->n_layers; i++) {
    plx_layer *l = &net->layers[i];
    switch (l->kind) {
    case PLX_LAYER_CONV:
    case PLX_LAYER_FC:
      linear_forward(net, l, in, l->out, B, 1);
      if (rng && sigma > 0 && !(skip && skip[i])) {
        for (j = 0; j < l->out_size * B; j++) {
          l->noise[j] = (float)(sigma * plx_rng_normal(rng));
          l->out[j] += l->noise[j];
        }
      }
      break;
    case PLX_LAYER_RELU:
      if (l->relu_max > 0)
        relu_max_forward(l->out_size * B, in, l->out, l->relu_max);
      else
        relu_forward(l->out_size * B, in, l->out);
      break;
    case PLX_LAYER_ZEROPAD:
      zeropad_forward(l, in, l->out, B);
      break;
    case PLX_LAYER_ADD:
      add_arrays(l->out_size * B, in, net->layers[l->from].out, l->out);
      break;
    case PLX_LAYER_MAXPOOL:
      for (b = 0; b < B; b++)
        for (c = 0; c < l->in_c; c++) {
          const size_t o = b * l->out_size + c * l->out_h * l->out_w;
          maxpool_plane(l, in + b * l->in_size + c * l->in_h * l->in_w, l->out + o,
                        l->argmax + o);
        }
      break;
    case PLX_LAYER_LRN:
      for (b = 0; b < B; b++)
        lrn_forward(l, in + b * l->in_size, l->lrn_scale + b * l->out_size,
                    l->out + b * l->out_size, net->col);
      break;
    }
    in = l->out;
  }
  return PLX_OK;
}

const float *plx_deepnet_output(const plx_deepnet *net, size_t *size)
{
  const plx_layer *l = &net->layers[net->n_layers - 1];
  if (size)
    *size = l->out_size;
  return l->out;
}

double plx_deepnet_softmax_ce(const plx_deepnet *net, const int *labels,
                              const unsigned char *mask, float *dlogits,
                              unsigned char *correct)
{
  const plx_layer *l = &net->layers[net->n_layers - 1];
  const size_t B = net->batch, K = l->out_size;
  double loss = 0;
  size_t b, k, used = 0;
  for (b = 0; b < B; b++)
    used += !mask || mask[b];
  for (b = 0; b < B; b++) {
    const float *z = l->out + b * K;
    float *d = dlogits ? dlogits + b * K : NULL;
    double m = z[0], s = 0, lse;
    size_t arg = 0;
    for (k = 1; k < K; k++)
      if (z[k] > m) {
        m = z[k];
        arg = k;
      }
    for (k = 0; k < K; k++)
      s += exp((double)z[k] - m);
    lse = m + log(s);
    if (correct)
      correct[b] = (int)arg == labels[b];
    if (mask && !mask[b]) {
      if (d)
        memset(d, 0, K * sizeof *d);
      continue;
    }
    loss += lse - (double)z[labels[b]];
    if (d)
      for (k = 0; k < K; k++)
        d[k] = (float)((exp((double)z[k] - lse) - (k == (size_t)labels[b])) /
                       (double)used);
  }
  return used ? loss / (double)used : 0.0;
}

double plx_deepnet_mse(const plx_deepnet *net, const float *target, float *dout)
{
  const plx_layer *l = &net->layers[net->n_layers - 1];
  const size_t B = net->batch, K = l->out_size;
  double loss = 0.0;
  size_t i;
  for (i = 0; i < B * K; i++) {
    const double e = (double)l->out[i] - (double)target[i];
    loss += 0.5 * e * e;
    if (dout)
      dout[i] = (float)(e / (double)B);
  }
  return B ? loss / (double)B : 0.0;
}

void plx_deepnet_softmax_ce_each(const plx_deepnet *net, const int *labels,
                                 double *each)
{
  const plx_layer *l = &net->layers[net->n_layers - 1];
  const size_t K = l->out_size;
  size_t b, k;
  for (b = 0; b < net->batch; b++) {
    const float *z = l->out + b * K;
    double m = z[0], s = 0;
    for (k = 1; k < K; k++)
      if (z[k] > m)
        m = z[k];
    for (k = 0; k < K; k++)
      s += exp((double)z[k] - m);
    each[b] = m + log(s) - (double)z[labels[b]];
  }
}

/* --------------------------------------------------------- backward */

/* gb[c] += sum_j d[c P + j] for C channels of P positions: eight channels
 * at a time, so that eight independent sums run side by side; each is
 * still added up in order of j */
static void bias_grad(size_t C, size_t P, const float *restrict d, float *restrict gb)
{
  size_t c = 0, j, q;
  for (; c + 8 <= C; c += 8) {
    float s[8];
    for (q = 0; q < 8; q++)
      s[q] = gb[c + q];
    for (j = 0; j < P; j++)
      for (q = 0; q < 8; q++)
        s[q] += d[(c + q) * P + j];
    for (q = 0; q < 8; q++)
      gb[c + q] = s[q];
  }
  for (; c < C; c++)
    for (j = 0; j < P; j++)
      gb[c] += d[c * P + j];
}

/* dx = d where the ReLU's input is positive, else 0 (d is read
 * unconditionally so that this is a select the compiler vectorises, not a
 * branch on the sign of every element) */
static void relu_backward(size_t n, const float *restrict in, const float *restrict d,
                          float *restrict dx)
{
  size_t j;
  for (j = 0; j < n; j++) {
    const float v = d[j];
    dx[j] = in[j] > 0 ? v : 0.0f;
  }
}

/* d times the derivative of layer l's ReLU (clipped at relu_max when it
 * has one) at its input `in`: the backward pass and the tangent alike */
static void relu_derivative(const plx_layer *l, size_t n, const float *in, const float *d,
                            float *dx)
{
  if (l->relu_max > 0)
    relu_max_mask(n, in, d, dx, l->relu_max);
  else
    relu_backward(n, in, d, dx);
}

/* LRN backward of one sample (a: input, g: d loss / d output, S: the
 * forward's k + alpha/n sum a^2; all C x P):
 *   da_j = g_j S_j^-b - (2 a b / n) a_j sum_{c near j} g_c a_c S_c^(-b-1).
 * S^-b and t_c = g_c a_c S_c^(-b-1) are computed once per element into pw
 * and t (C x P workspaces) instead of once per window that holds the
 * element; the window sums then run over whole channel planes.  Every
 * value and every sum is formed in the same order as element by element,
 * so the result is bitwise the same. */
static void lrn_backward(const plx_layer *l, const float *restrict a, const float *restrict g,
                         const float *restrict S, float *restrict dx, float *restrict t,
                         float *restrict pw)
{
  const size_t P = l->in_h * l->in_w, n = l->in_c * P;
  const float an = l->lrn_alpha / (float)l->k, be = l->lrn_beta;
  size_t c, cc, p, lo, hi;
  lrn_pow_n(n, S, be, pw);
  for (p = 0; p < n; p++)
    t[p] = g[p] * a[p] * (pw[p] / S[p]);
  for (c = 0; c < l->in_c; c++) {
    float *acc = dx + c * P;
    lrn_window(l, c, &lo, &hi);
    for (p = 0; p < P; p++)
      acc[p] = 0;
    for (cc = lo; cc <= hi; cc++)
      for (p = 0; p < P; p++)
        acc[p] += t[cc * P + p];
    for (p = 0; p < P; p++) {
      const size_t o = c * P + p;
      dx[o] = g[o] * pw[o] - 2.0f * an * be * a[o] * acc[p];
    }
  }
}

int plx_deepnet_backward(plx_deepnet *net, const float *dout)
{
  return plx_deepnet_backward_to(net, dout, 0);
}

int plx_deepnet_backward_to(plx_deepnet *net, const float *dout, size_t lowest)
{
  const size_t B = net->batch;
  size_t ii, b, c, j;
  const float *d = dout;
  if (lowest >= net->n_layers)
    return PLX_EINVAL;
  for (ii = 0; ii < net->n_layers; ii++)
    if (net->layers[ii].skip_delta)
      memset(net->layers[ii].skip_delta, 0, net->layers[ii].out_size * B * sizeof(float));
  for (ii = net->n_layers; ii-- > lowest;) {
    plx_layer *l = &net->layers[ii];
    const int need_dx = ii > lowest; /* d loss / d input, for the layer below */
    const float *in = ii ? net->layers[ii - 1].out : net->input;
    float *dx = l->delta; /* d loss / d input of this layer */
    if (l->skip_delta) {
      /* this output also feeds add layers above: their share is waiting */
      for (j = 0; j < l->out_size * B; j++)
        l->skip_delta[j] += d[j];
      d = l->skip_delta;
    }
    switch (l->kind) {
    case PLX_LAYER_FC:
      /* gW [O × I] = d^T [O × B] in [B × I]; gb = sum_b d; dx = d W */
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)l->out_c,
                  (int)l->in_size, (int)B, 1.0f, d, (int)l->out_c, in,
                  (int)l->in_size, 0.0f, l->gW, (int)l->in_size);
      memset(l->gb, 0, l->out_c * sizeof(float));
      for (b = 0; b < B; b++)
        for (j = 0; j < l->out_c; j++)
          l->gb[j] += d[b * l->out_c + j];
      if (need_dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)l->in_size,
                    (int)l->out_c, 1.0f, d, (int)l->out_c, l->W, (int)l->in_size, 0.0f,
                    dx, (int)l->in_size);
      break;
    case PLX_LAYER_CONV: {
      const size_t G = l->groups, cg = l->in_c / G, og = l->out_c / G;
      const size_t K = cg * l->k * l->k, P = l->out_h * l->out_w;
      size_t g;
      memset(l->gW, 0, l->n_w * sizeof(float));
      memset(l->gb, 0, l->out_c * sizeof(float));
      if (need_dx)
        memset(dx, 0, l->in_size * B * sizeof(float));
      for (b = 0; b < B; b++) {
        const float *xb = in + b * l->in_size, *db = d + b * l->out_size;
        bias_grad(l->out_c, P, db, l->gb);
        for (g = 0; g < G; g++) {
          im2col(l, xb, g * cg, cg, net->col);
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)og, (int)K, (int)P,
                      1.0f, db + g * og * P, (int)P, net->col, (int)P, 1.0f,
                      l->gW + g * og * K, (int)K);
          if (need_dx) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)P, (int)og,
                        1.0f, l->W + g * og * K, (int)K, db + g * og * P, (int)P, 0.0f,
                        net->dcol, (int)P);
            col2im(l, net->dcol, g * cg, cg, dx + b * l->in_size);
          }
        }
      }
      break;
    }
    case PLX_LAYER_RELU:
      relu_derivative(l, l->in_size * B, in, d, dx);
      break;
    case PLX_LAYER_ZEROPAD:
      zeropad_backward(l, d, dx, B);
      break;
    case PLX_LAYER_ADD: {
      /* the gradient passes to the input unchanged and to the layer added */
      float *sd = net->layers[l->from].skip_delta;
      for (j = 0; j < l->out_size * B; j++)
        sd[j] += d[j];
      memcpy(dx, d, l->in_size * B * sizeof(float));
      break;
    }
    case PLX_LAYER_MAXPOOL:
      memset(dx, 0, l->in_size * B * sizeof(float));
      for (b = 0; b < B; b++)
        for (c = 0; c < l->out_c; c++) {
          size_t o0 = b * l->out_size + c * l->out_h * l->out_w, q;
          for (q = 0; q < l->out_h * l->out_w; q++)
            dx[b * l->in_size + c * l->in_h * l->in_w + (size_t)l->argmax[o0 + q]] +=
                d[o0 + q];
        }
      break;
    case PLX_LAYER_LRN:
      for (b = 0; b < B; b++)
        lrn_backward(l, in + b * l->in_size, d + b * l->out_size,
                     l->lrn_scale + b * l->out_size, dx + b * l->in_size, net->col,
                     net->dcol);
      break;
    }
    d = dx;
  }
  return PLX_OK;
}

int plx_deepnet_layer_grad(plx_deepnet *net, size_t li, const float *d)
{
  plx_layer *l = &net->layers[li];
  const size_t B = net->batch;
  const float *in = li ? net->layers[li - 1].out : net->input;
  size_t b, j;
  if (!l->n_w)
    return PLX_EINVAL;
  memset(l->gb, 0, l->out_c * sizeof(float));
  if (l->kind == PLX_LAYER_FC) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)l->out_c, (int)l->in_size,
                (int)B, 1.0f, d, (int)l->out_c, in, (int)l->in_size, 0.0f, l->gW,
                (int)l->in_size);
    for (b = 0; b < B; b++)
      for (j = 0; j < l->out_c; j++)
        l->gb[j] += d[b * l->out_c + j];
    return PLX_OK;
  }
  {
    const size_t G = l->groups, cg = l->in_c / G, og = l->out_c / G;
    const size_t K = cg * l->k * l->k, P = l->out_h * l->out_w;
    size_t g;
    memset(l->gW, 0, l->n_w * sizeof(float));
    for (b = 0; b < B; b++) {
      const float *xb = in + b * l->in_size, *db = d + b * l->out_size;
      bias_grad(l->out_c, P, db, l->gb);
      for (g = 0; g < G; g++) {
        im2col(l, xb, g * cg, cg, net->col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)og, (int)K, (int)P, 1.0f,
                    db + g * og * P, (int)P, net->col, (int)P, 1.0f, l->gW + g * og * K,
                    (int)K);
      }
    }
  }
  return PLX_OK;
}

void plx_deepnet_sgd(plx_deepnet *net, double lr, double decay)
{
  size_t i, j;
  const float f = (float)lr, k = (float)decay;
  for (i = 0; i < net->n_layers; i++) {
    plx_layer *l = &net->layers[i];
    if (!l->n_w)
      continue;
    for (j = 0; j < l->n_w; j++)
      l->W[j] -= f * (l->gW[j] + k * l->W[j]);
    for (j = 0; j < l->out_c; j++)
      l->b[j] -= f * (l->gb[j] + k * l->b[j]);
  }
}

/* ------------------------------------------------------ tangent pass */

int plx_deepnet_jvp(plx_deepnet *net, const float *dx)
{
  const size_t B = net->batch;
  const float *tin = dx;
  size_t i, b, c;
  for (i = 0; i < net->n_layers; i++) {
    plx_layer *l = &net->layers[i];
    const float *in = i ? net->layers[i - 1].out : net->input;
    switch (l->kind) {
    case PLX_LAYER_CONV:
    case PLX_LAYER_FC:
      linear_forward(net, l, tin, l->tan, B, 0);
      break;
    case PLX_LAYER_RELU:
      relu_derivative(l, l->out_size * B, in, tin, l->tan);
      break;
    case PLX_LAYER_ZEROPAD:
      zeropad_forward(l, tin, l->tan, B);
      break;
    case PLX_LAYER_ADD:
      add_arrays(l->out_size * B, tin, net->layers[l->from].tan, l->tan);
      break;
    case PLX_LAYER_MAXPOOL:
      for (b = 0; b < B; b++)
        for (c = 0; c < l->out_c; c++) {
          size_t o0 = b * l->out_size + c * l->out_h * l->out_w, q;
          for (q = 0; q < l->out_h * l->out_w; q++)
            l->tan[o0 + q] = tin[b * l->in_size + c * l->in_h * l->in_w +
                                 (size_t)l->argmax[o0 + q]];
        }
      break;
    case PLX_LAYER_LRN: {
      /* db_c = da_c S_c^-b - b a_c S_c^(-b-1) (2 a / n) sum_j a_j da_j */
      const size_t P = l->in_h * l->in_w;
      const float an = l->lrn_alpha / (float)l->k, be = l->lrn_beta;
      for (b = 0; b < B; b++)
        for (c = 0; c < l->in_c; c++) {
          size_t lo, hi, cc, p;
          lrn_window(l, c, &lo, &hi);
          for (p = 0; p < P; p++) {
            size_t o = b * l->out_size + c * P + p;
            float S = l->lrn_scale[o], dot = 0;
            for (cc = lo; cc <= hi; cc++) {
              size_t q = b * l->in_size + cc * P + p;
              dot += in[q] * tin[q];
            }
            float Sb = lrn_pow(S, be);
            l->tan[o] = tin[o] * Sb - be * in[o] * (Sb / S) * 2.0f * an * dot;
          }
        }
      break;
    }
    }
    tin = l->tan;
  }
  return PLX_OK;
}
