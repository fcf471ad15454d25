/* test_deepnet.c -- the deep-network layers against central finite
 * differences: weight gradients of the softmax cross-entropy through every
 * layer type (grouped strided padded convolution, ReLU, overlapping max
 * pooling, local response normalisation, fully connected; and, in a
 * residual stack, zero padding, clipped ReLU and addition), and the
 * forward-mode tangent of every layer.  Single precision: the loss is
 * accumulated in double, steps are 1e-3 relative, tolerances are a few
 * float epsilons of the loss divided by the step.  And the weight-shuffled
 * control: a permutation of every tensor, biases kept on request, with the
 * tensor's mean removed when centred; snapshots of the weights equal bit
 * for bit, or not; node perturbation of the cross-entropy unbiased for
 * its gradient. */
#include "config.h"
#include "plastix/deepnet.h"
#include "plastix/deepnet_train.h"
#include "plastix/error.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B 3

static const char *net_text =
    "layers = (\n"
    " { type = \"conv\"; name = \"c1\"; out = 4; kernel = 3; stride = 2; pad = 1; groups = 2; },\n"
    " { type = \"relu\"; },\n"
    " { type = \"maxpool\"; kernel = 3; stride = 2; },\n"
    " { type = \"lrn\"; size = 3; alpha = 0.5; beta = 0.75; k = 1.0; },\n"
    " { type = \"conv\"; name = \"c2\"; out = 3; kernel = 2; },\n"
    " { type = \"relu\"; },\n"
    " { type = \"fc\"; name = \"fc\"; out = 5; } );\n";

/* A MobileNet-like residual stack on the same input and head: Keras's
 * asymmetric padding, clipped ReLUs (one clipping often), a depthwise and
 * a pointwise conv, and two additions that read one layer's output (its
 * gradient arrives through both and through the layer above). */
static const char *residual_text =
    "layers = (\n"
    " { type = \"zeropad\"; pad = 0; pad_after = 1; },\n"
    " { type = \"conv\"; name = \"c1\"; out = 4; kernel = 3; stride = 2; },\n"
    " { type = \"relu\"; name = \"r1\"; max = 1.0; },\n"
    " { type = \"conv\"; name = \"dw\"; out = 4; kernel = 3; pad = 1; groups = 4; },\n"
    " { type = \"relu\"; max = 6.0; },\n"
    " { type = \"conv\"; name = \"pw\"; out = 4; kernel = 1; },\n"
    " { type = \"add\"; name = \"res1\"; from = \"r1\"; },\n"
    " { type = \"relu\"; max = 6.0; },\n"
    " { type = \"add\"; name = \"res2\"; from = \"r1\"; },\n"
    " { type = \"fc\"; name = \"fc\"; out = 5; } );\n";

static const plx_param_spec spec[] = {PLX_P_LIST("layers", plx_layer_spec, "layers"),
                                      PLX_P_END};

static plx_deepnet *make_from(plx_config **cfg, const char *text)
{
  const plx_params *root;
  plx_deepnet *net;
  plx_error err;
  plx_rng *r = plx_rng_alloc(4, 0, PLX_POP_INIT);
  ck_assert_int_eq(plx_config_load_string(cfg, text, "net.cfg", &err), PLX_OK);
  ck_assert_int_eq(plx_config_bind(*cfg, NULL, spec, NULL, &root, &err), PLX_OK);
  if (plx_deepnet_new(&net, plx_params_group(root, "layers"), 2, 13, 13, B, &err))
    ck_abort_msg("%s", err.msg);
  plx_deepnet_init(net, 1.5, r);
  plx_rng_free(r);
  return net;
}

static plx_deepnet *make(plx_config **cfg)
{
  return make_from(cfg, net_text);
}

static double loss_of(plx_deepnet *net, const float *x, const void *lab)
{
  plx_deepnet_forward(net, x, B);
  return plx_deepnet_softmax_ce(net, (const int *)lab, NULL, NULL, NULL);
}

static double mse_of(plx_deepnet *net, const float *x, const void *target)
{
  plx_deepnet_forward(net, x, B);
  return plx_deepnet_mse(net, (const float *)target, NULL);
}

/* After backward: every weight's and bias's gradient against the central
 * difference of loss(net, x, ctx) with step h = 1e-3 (1 + |w|).  A ReLU
 * or max-pool switch inside [w - h, w + h] makes the difference quotient
 * depend on h: where the quotients at h and h/2 disagree the point is
 * skipped, not compared, and at most 2 % may be. */
static void check_weight_gradients(plx_deepnet *net, const float *x,
                                   double (*loss)(plx_deepnet *, const float *, const void *),
                                   const void *ctx)
{
  size_t i, li, checked = 0, kinks = 0;
  for (li = 0; li < net->n_layers; li++) {
    plx_layer *l = &net->layers[li];
    if (!l->n_w)
      continue;
    for (i = 0; i < l->n_w + l->out_c; i++) {
      float *w = i < l->n_w ? &l->W[i] : &l->b[i - l->n_w];
      double g = i < l->n_w ? l->gW[i] : l->gb[i - l->n_w];
      float w0 = *w, h = 1e-3f * (1.0f + fabsf(w0));
      double lp, lm, fd, fd2;
      *w = w0 + h;
      lp = loss(net, x, ctx);
      *w = w0 - h;
      lm = loss(net, x, ctx);
      fd = (lp - lm) / (2.0 * (double)h);
      *w = w0 + 0.5f * h;
      lp = loss(net, x, ctx);
      *w = w0 - 0.5f * h;
      lm = loss(net, x, ctx);
      *w = w0;
      fd2 = (lp - lm) / (double)h;
      if (fabs(fd - fd2) > 1e-3 + 1e-2 * fabs(fd)) {
        kinks++;
        continue;
      }
      ck_assert_msg(fabs(g - fd) <= 2e-3 + 2e-2 * fabs(fd),
                    "%s param %zu: backward %g, finite difference %g", l->name, i, g, fd);
      checked++;
    }
  }
  ck_assert_uint_eq(checked + kinks, plx_deepnet_params(net));
  ck_assert_msg(kinks * 50 <= checked, "%zu of %zu parameters at a kink", kinks, checked + kinks);
}

START_TEST(test_shapes)
{
  plx_config *cfg;
  plx_deepnet *net = make(&cfg);
  /* 13 -> conv k3 s2 p1: 7 -> pool k3 s2: 3 -> conv k2: 2 -> fc 5 */
  ck_assert_uint_eq(net->layers[0].out_h, 7);
  ck_assert_uint_eq(net->layers[2].out_h, 3);
  ck_assert_uint_eq(net->layers[4].out_h, 2);
  ck_assert_uint_eq(net->layers[6].in_size, 3 * 2 * 2);
  ck_assert_int_eq(plx_deepnet_find(net, "c2"), 4);
  ck_assert_int_eq(plx_deepnet_find(net, "relu2"), 1);
  ck_assert_uint_eq(plx_deepnet_params(net), 4 * 9 + 4 + 3 * 4 * 4 + 3 + 5 * 12 + 5);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

/* A random batch x for make()'s net, its cross-entropy gradient dl for
 * labels lab, and the full backward pass from it. */
static void backward_on_random_batch(plx_deepnet *net, float *x, size_t n_x, const int *lab,
                                     float *dl)
{
  plx_rng *r = plx_rng_alloc(5, 0, PLX_POP_DATA);
  size_t i;
  for (i = 0; i < n_x; i++)
    x[i] = (float)(plx_rng_uniform(r) * 2 - 0.5);
  plx_rng_free(r);
  plx_deepnet_forward(net, x, B);
  plx_deepnet_softmax_ce(net, lab, NULL, dl, NULL);
  plx_deepnet_backward(net, dl);
}

START_TEST(test_weight_gradients)
{
  plx_config *cfg;
  plx_deepnet *net = make(&cfg);
  float x[B * 2 * 13 * 13], dl[B * 5];
  int lab[B] = {1, 4, 2};
  backward_on_random_batch(net, x, sizeof x / sizeof x[0], lab, dl);
  check_weight_gradients(net, x, loss_of, lab);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

/* Backpropagation stopped at each weight layer (frozen layers below it)
 * gives that layer's and every higher layer's gradients bit for bit as the
 * full pass does, and leaves the layers below alone. */
START_TEST(test_backward_to)
{
  plx_config *cfg;
  plx_deepnet *net = make(&cfg);
  float x[B * 2 * 13 * 13], dl[B * 5];
  int lab[B] = {1, 4, 2};
  float *gW[16], *gb[16];
  size_t i, li, low, stopped = 0;
  ck_assert_uint_le(net->n_layers, 16);
  backward_on_random_batch(net, x, sizeof x / sizeof x[0], lab, dl);
  for (li = 0; li < net->n_layers; li++) {
    const plx_layer *l = &net->layers[li];
    gW[li] = l->n_w ? malloc(l->n_w * sizeof *gW[li]) : NULL;
    gb[li] = l->n_w ? malloc(l->out_c * sizeof *gb[li]) : NULL;
    if (l->n_w) {
      memcpy(gW[li], l->gW, l->n_w * sizeof *gW[li]);
      memcpy(gb[li], l->gb, l->out_c * sizeof *gb[li]);
    }
  }
  for (low = 0; low < net->n_layers; low++) {
    if (!net->layers[low].n_w)
      continue;
    for (li = 0; li < net->n_layers; li++) /* poison every gradient */
      if (net->layers[li].n_w) {
        for (i = 0; i < net->layers[li].n_w; i++)
          net->layers[li].gW[i] = -7.0f;
        for (i = 0; i < net->layers[li].out_c; i++)
          net->layers[li].gb[i] = -7.0f;
      }
    ck_assert_int_eq(plx_deepnet_backward_to(net, dl, low), PLX_OK);
    for (li = 0; li < net->n_layers; li++) {
      const plx_layer *l = &net->layers[li];
      if (!l->n_w)
        continue;
      if (li >= low) {
        ck_assert_msg(memcmp(l->gW, gW[li], l->n_w * sizeof *gW[li]) == 0 &&
                          memcmp(l->gb, gb[li], l->out_c * sizeof *gb[li]) == 0,
                      "stopped at %zu: %s's gradient differs", low, l->name);
      } else {
        for (i = 0; i < l->n_w; i++)
          ck_assert_float_eq(l->gW[i], -7.0f);
      }
    }
    stopped++;
  }
  ck_assert_uint_eq(stopped, 3); /* c1, c2, fc */
  ck_assert_int_eq(plx_deepnet_backward_to(net, dl, net->n_layers), PLX_EINVAL);
  for (li = 0; li < net->n_layers; li++) {
    free(gW[li]);
    free(gb[li]);
  }
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

/* the tangent of every layer against the central difference of its
 * output along a random direction */
static void check_tangents(plx_deepnet *net)
{
  const size_t n = B * 2 * 13 * 13;
  float *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v), *xp = malloc(n * sizeof *xp);
  float **tan = calloc(net->n_layers, sizeof *tan), **yp = calloc(net->n_layers, sizeof *yp);
  plx_rng *r = plx_rng_alloc(6, 0, PLX_POP_DATA);
  const float h = 1e-3f;
  size_t i, li;
  for (i = 0; i < n; i++) {
    x[i] = (float)(plx_rng_uniform(r) * 2 - 0.5);
    v[i] = (float)(plx_rng_uniform(r) - 0.5);
  }
  plx_deepnet_forward(net, x, B);
  plx_deepnet_jvp(net, v);
  for (li = 0; li < net->n_layers; li++) {
    size_t m = net->layers[li].out_size * B;
    tan[li] = malloc(m * sizeof(float));
    yp[li] = malloc(m * sizeof(float));
    memcpy(tan[li], net->layers[li].tan, m * sizeof(float));
  }
  for (i = 0; i < n; i++)
    xp[i] = x[i] + h * v[i];
  plx_deepnet_forward(net, xp, B);
  for (li = 0; li < net->n_layers; li++)
    memcpy(yp[li], net->layers[li].out, net->layers[li].out_size * B * sizeof(float));
  for (i = 0; i < n; i++)
    xp[i] = x[i] - h * v[i];
  plx_deepnet_forward(net, xp, B);
  for (li = 0; li < net->n_layers; li++) {
    size_t m = net->layers[li].out_size * B, k;
    for (k = 0; k < m; k++) {
      double fd = ((double)yp[li][k] - (double)net->layers[li].out[k]) / (2.0 * h);
      ck_assert_msg(fabs(tan[li][k] - fd) <= 2e-3 + 1e-2 * fabs(fd),
                    "%s element %zu: tangent %g, finite difference %g",
                    net->layers[li].name, k, tan[li][k], fd);
    }
    free(tan[li]);
    free(yp[li]);
  }
  free(tan);
  free(yp);
  free(x);
  free(v);
  free(xp);
  plx_rng_free(r);
}

START_TEST(test_tangents)
{
  plx_config *cfg;
  plx_deepnet *net = make(&cfg);
  check_tangents(net);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

/* the residual stack: shapes, weight gradients and tangents through
 * zeropad, clipped ReLUs and additions */
START_TEST(test_residual_layers)
{
  plx_config *cfg;
  plx_deepnet *net = make_from(&cfg, residual_text);
  float x[B * 2 * 13 * 13], dl[B * 5];
  int lab[B] = {0, 3, 2};
  size_t j, clipped = 0;
  ck_assert_uint_eq(net->layers[0].out_h, 14); /* 13 + 0 + 1 */
  ck_assert_uint_eq(net->layers[1].out_h, 6);  /* (14 - 3) / 2 + 1 */
  ck_assert_uint_eq(net->layers[6].from, 2);
  ck_assert_uint_eq(net->layers[8].from, 2);
  backward_on_random_batch(net, x, sizeof x / sizeof x[0], lab, dl);
  for (j = 0; j < net->layers[2].out_size * B; j++)
    clipped += net->layers[2].out[j] == 1.0f;
  ck_assert_msg(clipped > 0, "the ceiling of r1 is never reached: the test misses it");
  check_weight_gradients(net, x, loss_of, lab);
  check_tangents(net);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

/* One conv layer (behind a ReLU that passes the positive input through, so
 * that the conv's input gradient is computed) against direct loops in
 * double: output, weight and bias gradients and input gradient, for
 * shapes that take every path of im2col and col2im ("same" padding at
 * stride 1, other padding, stride 2, groups, kernels wider than the
 * input). */
START_TEST(test_conv_direct)
{
  static const struct {
    int c, h, w, out, k, s, pad, groups;
  } cs[] = {{2, 7, 7, 3, 3, 1, 1, 1}, {2, 6, 9, 3, 5, 1, 2, 1}, {1, 5, 5, 2, 3, 1, 2, 1},
            {2, 6, 6, 2, 3, 1, 0, 1}, {3, 4, 5, 2, 1, 1, 0, 1}, {1, 9, 9, 2, 5, 2, 2, 1},
            {4, 6, 6, 4, 3, 1, 1, 2}, {2, 3, 3, 2, 5, 1, 2, 1}, {1, 2, 2, 2, 7, 1, 3, 1},
            {2, 8, 8, 2, 3, 2, 1, 2}};
  const size_t NB = 2;
  size_t ci;
  for (ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
    char text[512];
    plx_config *cfg;
    const plx_params *root;
    plx_deepnet *net;
    plx_error err;
    plx_rng *r = plx_rng_alloc(7 + ci, 0, PLX_POP_DATA);
    const size_t C = (size_t)cs[ci].c, H = (size_t)cs[ci].h, W = (size_t)cs[ci].w;
    const size_t O = (size_t)cs[ci].out, k = (size_t)cs[ci].k, st = (size_t)cs[ci].s;
    const long pad = cs[ci].pad;
    const size_t G = (size_t)cs[ci].groups, cg = C / G, og = O / G;
    size_t OH, OW, n_in, n_out, i, b, o, c, ki, kj, oh, ow;
    const plx_layer *l;
    float *x, *dout;
    double *y, *gW, *gb, *dx;
    snprintf(text, sizeof text,
             "layers = ( { type = \"relu\"; }, { type = \"conv\"; out = %d; kernel = %d; "
             "stride = %d; pad = %d; groups = %d; } );\n",
             cs[ci].out, cs[ci].k, cs[ci].s, cs[ci].pad, cs[ci].groups);
    ck_assert_int_eq(plx_config_load_string(&cfg, text, "conv.cfg", &err), PLX_OK);
    ck_assert_int_eq(plx_config_bind(cfg, NULL, spec, NULL, &root, &err), PLX_OK);
    if (plx_deepnet_new(&net, plx_params_group(root, "layers"), C, H, W, NB, &err))
      ck_abort_msg("%s", err.msg);
    plx_deepnet_init(net, 1.0, r);
    l = &net->layers[1];
    OH = l->out_h;
    OW = l->out_w;
    n_in = C * H * W;
    n_out = O * OH * OW;
    x = malloc(NB * n_in * sizeof *x);
    dout = malloc(NB * n_out * sizeof *dout);
    y = calloc(NB * n_out, sizeof *y);
    gW = calloc(l->n_w, sizeof *gW);
    gb = calloc(O, sizeof *gb);
    dx = calloc(NB * n_in, sizeof *dx);
    for (i = 0; i < NB * n_in; i++)
      x[i] = (float)(0.1 + plx_rng_uniform(r));
    for (i = 0; i < NB * n_out; i++)
      dout[i] = (float)(plx_rng_uniform(r) - 0.5);
    for (b = 0; b < NB; b++)
      for (o = 0; o < O; o++)
        for (oh = 0; oh < OH; oh++)
          for (ow = 0; ow < OW; ow++) {
            const size_t yo = b * n_out + (o * OH + oh) * OW + ow, g = o / og;
            double acc = l->b[o];
            gb[o] += dout[yo];
            for (c = 0; c < cg; c++)
              for (ki = 0; ki < k; ki++)
                for (kj = 0; kj < k; kj++) {
                  const long ih = (long)(oh * st + ki) - pad, iw = (long)(ow * st + kj) - pad;
                  const size_t wi = ((o * cg + c) * k + ki) * k + kj;
                  size_t xi;
                  if (ih < 0 || iw < 0 || ih >= (long)H || iw >= (long)W)
                    continue;
                  xi = b * n_in + ((g * cg + c) * H + (size_t)ih) * W + (size_t)iw;
                  acc += (double)l->W[wi] * x[xi];
                  gW[wi] += (double)dout[yo] * x[xi];
                  dx[xi] += (double)dout[yo] * l->W[wi];
                }
            y[yo] = acc;
          }
    plx_deepnet_forward(net, x, NB);
    plx_deepnet_backward(net, dout);
    for (i = 0; i < NB * n_out; i++)
      ck_assert_msg(fabs(l->out[i] - y[i]) <= 1e-5 * (1 + fabs(y[i])),
                    "case %zu: output %zu: %g, direct %g", ci, i, l->out[i], y[i]);
    for (i = 0; i < l->n_w; i++)
      ck_assert_msg(fabs(l->gW[i] - gW[i]) <= 1e-5 * (1 + fabs(gW[i])),
                    "case %zu: gW %zu: %g, direct %g", ci, i, l->gW[i], gW[i]);
    for (i = 0; i < O; i++)
      ck_assert_msg(fabs(l->gb[i] - gb[i]) <= 1e-5 * (1 + fabs(gb[i])),
                    "case %zu: gb %zu: %g, direct %g", ci, i, l->gb[i], gb[i]);
    for (i = 0; i < NB * n_in; i++)
      ck_assert_msg(fabs(l->delta[i] - dx[i]) <= 1e-5 * (1 + fabs(dx[i])),
                    "case %zu: dx %zu: %g, direct %g", ci, i, l->delta[i], dx[i]);
    free(x);
    free(dout);
    free(y);
    free(gW);
    free(gb);
    free(dx);
    plx_rng_free(r);
    plx_deepnet_free(net);
    plx_config_free(cfg);
  }
}
END_TEST

/* Max pooling against direct loops, on inputs full of ties (values 0, 1,
 * 2): the value, and the index of the first maximum in window order */
START_TEST(test_maxpool_direct)
{
  static const struct {
    int h, w, k, s;
  } cs[] = {{15, 15, 3, 2}, {11, 17, 2, 2}, {9, 13, 3, 1}, {8, 8, 2, 3}, {5, 20, 1, 1}};
  size_t ci;
  for (ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
    char text[256];
    plx_config *cfg;
    const plx_params *root;
    plx_deepnet *net;
    plx_error err;
    plx_rng *r = plx_rng_alloc(20 + ci, 0, PLX_POP_DATA);
    const size_t C = 2, NB = 2, H = (size_t)cs[ci].h, W = (size_t)cs[ci].w;
    const size_t k = (size_t)cs[ci].k, st = (size_t)cs[ci].s;
    const plx_layer *l;
    size_t i, b, c, oh, ow, ki, kj;
    float *x = malloc(NB * C * H * W * sizeof *x);
    snprintf(text, sizeof text,
             "layers = ( { type = \"maxpool\"; kernel = %d; stride = %d; } );\n", cs[ci].k,
             cs[ci].s);
    ck_assert_int_eq(plx_config_load_string(&cfg, text, "pool.cfg", &err), PLX_OK);
    ck_assert_int_eq(plx_config_bind(cfg, NULL, spec, NULL, &root, &err), PLX_OK);
    if (plx_deepnet_new(&net, plx_params_group(root, "layers"), C, H, W, NB, &err))
      ck_abort_msg("%s", err.msg);
    for (i = 0; i < NB * C * H * W; i++)
      x[i] = (float)(int)(3 * plx_rng_uniform(r));
    plx_deepnet_forward(net, x, NB);
    l = &net->layers[0];
    for (b = 0; b < NB; b++)
      for (c = 0; c < C; c++)
        for (oh = 0; oh < l->out_h; oh++)
          for (ow = 0; ow < l->out_w; ow++) {
            const float *src = x + (b * C + c) * H * W;
            const size_t o = ((b * C + c) * l->out_h + oh) * l->out_w + ow;
            size_t best = oh * st * W + ow * st;
            for (ki = 0; ki < k; ki++)
              for (kj = 0; kj < k; kj++)
                if (src[(oh * st + ki) * W + ow * st + kj] > src[best])
                  best = (oh * st + ki) * W + ow * st + kj;
            ck_assert_msg(l->out[o] == src[best] && l->argmax[o] == (int)best,
                          "case %zu output %zu: %g at %d, direct %g at %zu", ci, o, l->out[o],
                          l->argmax[o], src[best], best);
          }
    free(x);
    plx_rng_free(r);
    plx_deepnet_free(net);
    plx_config_free(cfg);
  }
}
END_TEST

START_TEST(test_bad_architectures)
{
  static const struct {
    const char *text, *needle;
  } bad[] = {
      {"layers = ( { type = \"conv\"; out = 3; groups = 2; } );", "layers[0].groups: conv needs out > 0 and groups dividing"},
      {"layers = ( { type = \"maxpool\"; kernel = 40; } );", "layers[0].kernel: pooling kernel 40 larger than the input 13x13"},
      {"layers = ( { type = \"lrn\"; size = 4; } );", "layers[0].size: expected an odd window, got 4"},
      {"layers = ( { type = \"fc\"; } );", "layers[0].out: an fc layer needs out > 0"},
      {"layers = ( { type = \"dense\"; out = 3; } );", "layers[0].type: expected one of: conv, relu, maxpool, lrn, fc, zeropad, add"},
      {"layers = ( { type = \"relu\"; name = \"a\"; }, { type = \"add\"; from = \"b\"; } );", "layers[1].from: expected the name of an earlier layer, got 'b'"},
      {"layers = ( { type = \"relu\"; name = \"a\"; }, { type = \"zeropad\"; pad = 1; }, { type = \"add\"; from = \"a\"; } );", "layers[2].from: layer 'a' has shape 2x13x13, this layer's input 2x15x15"},
  };
  size_t k;
  for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    plx_config *cfg;
    const plx_params *root;
    plx_deepnet *net = NULL;
    plx_error err;
    int rc;
    ck_assert_int_eq(plx_config_load_string(&cfg, bad[k].text, "bad.cfg", &err), PLX_OK);
    rc = plx_config_bind(cfg, NULL, spec, NULL, &root, &err);
    if (!rc)
      rc = plx_deepnet_new(&net, plx_params_group(root, "layers"), 2, 13, 13, 1, &err);
    ck_assert_int_eq(rc, PLX_EINVAL);
    ck_assert_msg(strstr(err.msg, bad[k].needle) != NULL, "case %zu: %s", k, err.msg);
    ck_assert_ptr_null(net);
    plx_config_free(cfg);
  }
}
END_TEST

START_TEST(test_save_load)
{
  /* save, perturb, load: every weight back bit for bit; a file of another
   * shape is refused naming the dataset and both shapes */
  plx_config *cfg;
  plx_deepnet *net = make(&cfg);
  plx_h5 *h;
  plx_error err;
  char path[] = "test_deepnet_weights.h5";
  size_t k, i;
  float *copy = malloc(net->layers[0].n_w * sizeof *copy);
  memcpy(copy, net->layers[0].W, net->layers[0].n_w * sizeof *copy);
  ck_assert_int_eq(plx_h5_create(&h, path, &err), PLX_OK);
  ck_assert_int_eq(plx_deepnet_save(net, h, "/weights/final", &err), PLX_OK);
  plx_h5_close(h);
  for (k = 0; k < net->n_layers; k++)
    for (i = 0; i < net->layers[k].n_w; i++)
      net->layers[k].W[i] = 7.0f;
  ck_assert_int_eq(plx_h5_open(&h, path, 0, &err), PLX_OK);
  ck_assert_int_eq(plx_deepnet_load(net, h, "/weights/final", 0, &err), PLX_OK);
  ck_assert_int_eq(memcmp(copy, net->layers[0].W, net->layers[0].n_w * sizeof *copy), 0);
  ck_assert_int_eq(plx_deepnet_load(net, h, "/nowhere", 1, &err), PLX_ENOTFOUND);
  ck_assert_msg(strstr(err.msg, "no layer of the network found under /nowhere"), "%s", err.msg);
  plx_h5_close(h);
  /* a dataset of the wrong shape */
  ck_assert_int_eq(plx_h5_open(&h, path, 1, &err), PLX_OK);
  {
    const size_t dims[2] = {2, 3};
    const float z[6] = {0};
    ck_assert_int_eq(plx_h5_write_float_array(h, "/weights/final/c2/W", z, 2, dims, &err), PLX_OK);
  }
  ck_assert_int_eq(plx_deepnet_load(net, h, "/weights/final", 0, &err), PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "dataset /weights/final/c2/W has shape 2 x 3, the network needs 3 x 16"),
                "%s", err.msg);
  plx_h5_close(h);
  remove(path);
  free(copy);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

START_TEST(test_mse)
{
  /* the squared-error loss of the denoising objective: its value by hand,
   * its output gradient exactly (out - t) / B, and every weight's gradient
   * through backward against central differences */
  plx_config *cfg;
  plx_deepnet *net = make(&cfg);
  float x[B * 2 * 13 * 13], t[B * 5], dl[B * 5];
  plx_rng *r = plx_rng_alloc(6, 0, PLX_POP_DATA);
  const float *out;
  size_t i, K;
  double want = 0.0;
  for (i = 0; i < sizeof x / sizeof x[0]; i++)
    x[i] = (float)(plx_rng_uniform(r) * 2 - 0.5);
  for (i = 0; i < B * 5; i++)
    t[i] = (float)(plx_rng_uniform(r) - 0.5);
  plx_deepnet_forward(net, x, B);
  out = plx_deepnet_output(net, &K);
  ck_assert_uint_eq(K, 5);
  for (i = 0; i < B * 5; i++)
    want += 0.5 * ((double)out[i] - t[i]) * ((double)out[i] - t[i]) / B;
  ck_assert_double_eq_tol(plx_deepnet_mse(net, t, dl), want, 1e-12 * (1 + want));
  for (i = 0; i < B * 5; i++)
    ck_assert_float_eq(dl[i], (float)(((double)out[i] - t[i]) / B));
  plx_deepnet_backward(net, dl);
  check_weight_gradients(net, x, mse_of, t);
  plx_rng_free(r);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

static int float_order(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* a sorted copy of n floats, each minus m */
static float *sorted_minus(const float *v, size_t n, double m)
{
  float *s = malloc(n * sizeof *s);
  size_t i;
  for (i = 0; i < n; i++)
    s[i] = (float)(v[i] - m);
  qsort(s, n, sizeof *s, float_order);
  return s;
}

START_TEST(test_shuffle)
{
  /* plain: every W and b is a permutation of itself (same sorted values,
   * bit for bit) and not the identity; with keep_b the biases become
   * keep_b's; centred: each W is the permuted tensor minus its mean (mean
   * zero, sorted values those of W - mean to float rounding) */
  int mode;
  for (mode = 0; mode < 3; mode++) {
    plx_config *cfg;
    plx_deepnet *net = make(&cfg);
    plx_deepnet_weights *w0 = plx_deepnet_weights_new(net), *keep = plx_deepnet_weights_new(net);
    plx_rng *r = plx_rng_alloc(9, 0, PLX_POP_INIT);
    size_t k, i;
    ck_assert_ptr_nonnull(w0);
    ck_assert_ptr_nonnull(keep);
    for (k = 0; k < net->n_layers; k++)
      for (i = 0; i < keep->n_b[k]; i++)
        keep->b[k][i] = (float)(0.25 * (double)i - 1.0);
    plx_deepnet_shuffle(net, r, mode == 1 ? keep : NULL, mode == 2);
    for (k = 0; k < net->n_layers; k++) {
      const plx_layer *l = &net->layers[k];
      double m = 0.0, v = 0.0, m_after = 0.0;
      float *a, *b;
      if (!l->n_w)
        continue;
      for (i = 0; i < l->n_w; i++)
        m += w0->W[k][i] / (double)l->n_w;
      for (i = 0; i < l->n_w; i++) {
        v += (w0->W[k][i] - m) * (w0->W[k][i] - m) / (double)l->n_w;
        m_after += l->W[i] / (double)l->n_w;
      }
      ck_assert(memcmp(l->W, w0->W[k], l->n_w * sizeof *l->W) != 0);
      a = sorted_minus(w0->W[k], l->n_w, mode == 2 ? m : 0.0);
      b = sorted_minus(l->W, l->n_w, 0.0);
      if (mode == 2) {
        ck_assert_msg(fabs(m) > 1e-4 * sqrt(v), "layer %zu: the test needs a tensor with a mean", k);
        ck_assert_double_eq_tol(m_after, 0.0, 1e-6 * sqrt(v));
        for (i = 0; i < l->n_w; i++)
          ck_assert_float_eq_tol(a[i], b[i], 1e-6f * (float)sqrt(v));
      } else
        ck_assert(memcmp(a, b, l->n_w * sizeof *a) == 0);
      free(a);
      free(b);
      if (mode == 1)
        ck_assert(memcmp(l->b, keep->b[k], l->out_c * sizeof *l->b) == 0);
      else {
        a = sorted_minus(w0->b[k], l->out_c, 0.0);
        b = sorted_minus(l->b, l->out_c, 0.0);
        ck_assert(memcmp(a, b, l->out_c * sizeof *a) == 0);
        free(a);
        free(b);
      }
    }
    plx_rng_free(r);
    plx_deepnet_weights_free(keep);
    plx_deepnet_weights_free(w0);
    plx_deepnet_free(net);
    plx_config_free(cfg);
  }
}
END_TEST

/* node perturbation of the masked softmax cross-entropy, averaged over K
 * noise draws on one batch, is unbiased for the backpropagation gradient
 * of every weight and bias: each within 4.5 of its standard errors (its
 * spread over the draws; Bonferroni over the ~150 parameters at p <
 * 0.001), and the average points along it.  The sample with its label
 * dropped contributes nothing to either. */
START_TEST(test_node_perturbation_softmax)
{
  const size_t K = 20000;
  const double sigma = 1e-3;
  plx_config *cfg;
  plx_deepnet *net = make(&cfg);
  plx_rng *r = plx_rng_alloc(5, 0, PLX_POP_DATA), *nr = plx_rng_alloc(5, 0, PLX_POP_RULE);
  const size_t n_in = 2 * 13 * 13;
  float x[B * 2 * 13 * 13], dl[B * 5], *work = malloc(plx_deepnet_np_work(net) * sizeof *work);
  const int lab[B] = {1, 4, 2};
  const unsigned char mask[B] = {1, 0, 1};
  double clean[B], each[B], *g, *s1, *s2, worst = 0, dot = 0, nn = 0, ng = 0;
  size_t li, j, k, n = 0, P = plx_deepnet_params(net);
  g = malloc(P * sizeof *g);
  s1 = calloc(P, sizeof *s1);
  s2 = calloc(P, sizeof *s2);
  ck_assert(work && g && s1 && s2);
  for (j = 0; j < B * n_in; j++)
    x[j] = (float)plx_rng_normal(r);
  plx_deepnet_forward(net, x, B);
  plx_deepnet_softmax_ce(net, lab, mask, dl, NULL);
  plx_deepnet_softmax_ce_each(net, lab, clean);
  plx_deepnet_backward(net, dl);
  for (li = 0, n = 0; li < net->n_layers; li++)
    for (j = 0; j < net->layers[li].n_w + net->layers[li].out_c * !!net->layers[li].n_w; j++)
      g[n++] = j < net->layers[li].n_w ? net->layers[li].gW[j]
                                       : net->layers[li].gb[j - net->layers[li].n_w];
  ck_assert_uint_eq(n, P);
  for (k = 0; k < K; k++) {
    ck_assert_int_eq(plx_deepnet_np_softmax_ce(net, x, B, lab, mask, clean, sigma, nr, each,
                                               work), PLX_OK);
    for (li = 0, n = 0; li < net->n_layers; li++)
      for (j = 0; j < net->layers[li].n_w + net->layers[li].out_c * !!net->layers[li].n_w; j++) {
        const double v = j < net->layers[li].n_w ? net->layers[li].gW[j]
                                                 : net->layers[li].gb[j - net->layers[li].n_w];
        s1[n] += v;
        s2[n++] += v * v;
      }
  }
  for (j = 0; j < P; j++) {
    const double m = s1[j] / (double)K;
    const double se = sqrt((s2[j] / (double)K - m * m) / (double)(K - 1));
    const double z = se > 0 ? fabs(m - g[j]) / se : 0;
    ck_assert_msg(z < 4.5, "parameter %zu: node perturbation %g +- %g, backprop %g", j, m, se,
                  g[j]);
    worst = z > worst ? z : worst;
    dot += m * g[j];
    nn += m * m;
    ng += g[j] * g[j];
  }
  fprintf(stderr, "node perturbation (softmax) vs backprop: %zu parameters, largest |z| %.2f, "
          "cosine %.3f\n", P, worst, dot / sqrt(nn * ng));
  ck_assert(dot / sqrt(nn * ng) > 0.9);
  free(work);
  free(g);
  free(s1);
  free(s2);
  plx_rng_free(r);
  plx_rng_free(nr);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

/* node perturbation's noisy pass: with every weight layer skipped it is
 * the clean pass bit for bit; with only the first skipped, the first
 * layer's output is clean and the network's output is not */
START_TEST(test_noisy_skip)
{
  plx_config *cfg;
  plx_deepnet *net = make(&cfg);
  plx_rng *r = plx_rng_alloc(8, 0, PLX_POP_RULE);
  const plx_layer *last = &net->layers[net->n_layers - 1], *first = &net->layers[0];
  float x[B * 2 * 13 * 13], clean_out[B * 5];
  float *clean_first = malloc(first->out_size * B * sizeof(float));
  unsigned char skip[16];
  size_t i;
  ck_assert(net->n_layers <= 16 && clean_first);
  for (i = 0; i < sizeof x / sizeof x[0]; i++)
    x[i] = (float)plx_rng_normal(r);
  plx_deepnet_forward(net, x, B);
  memcpy(clean_out, last->out, sizeof clean_out);
  memcpy(clean_first, first->out, first->out_size * B * sizeof(float));
  for (i = 0; i < net->n_layers; i++)
    skip[i] = 1;
  ck_assert_int_eq(plx_deepnet_forward_noisy(net, x, B, 0.1, skip, r), PLX_OK);
  ck_assert(memcmp(last->out, clean_out, sizeof clean_out) == 0);
  memset(skip, 0, sizeof skip);
  skip[0] = 1;
  ck_assert_int_eq(plx_deepnet_forward_noisy(net, x, B, 0.1, skip, r), PLX_OK);
  ck_assert(memcmp(first->out, clean_first, first->out_size * B * sizeof(float)) == 0);
  ck_assert(memcmp(last->out, clean_out, sizeof clean_out) != 0);
  free(clean_first);
  plx_rng_free(r);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

START_TEST(test_weights_equal)
{
  /* snapshots of one network are equal bit for bit; one bias bit, or a
   * shuffle, makes them differ (how a report tells two runs' networks apart) */
  plx_config *cfg;
  plx_deepnet *net = make(&cfg);
  plx_deepnet_weights *a = plx_deepnet_weights_new(net), *b = plx_deepnet_weights_new(net);
  plx_rng *r = plx_rng_alloc(3, 0, PLX_POP_INIT);
  size_t k = net->n_layers;
  uint32_t bits;
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert(plx_deepnet_weights_equal(a, b));
  while (k-- > 0 && !b->n_b[k])
    ;
  memcpy(&bits, &b->b[k][0], sizeof bits);
  bits ^= 1u;
  memcpy(&b->b[k][0], &bits, sizeof bits);
  ck_assert(!plx_deepnet_weights_equal(a, b));
  plx_deepnet_shuffle(net, r, NULL, 0);
  plx_deepnet_weights_get(b, net);
  ck_assert(!plx_deepnet_weights_equal(a, b));
  plx_deepnet_weights_get(a, net);
  ck_assert(plx_deepnet_weights_equal(a, b));
  plx_rng_free(r);
  plx_deepnet_weights_free(a);
  plx_deepnet_weights_free(b);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("deepnet");
  TCase *tc = tcase_create("layers");
  SRunner *sr;
  int nf;
  tcase_add_test(tc, test_shapes);
  tcase_add_test(tc, test_weight_gradients);
  tcase_add_test(tc, test_backward_to);
  tcase_add_test(tc, test_tangents);
  tcase_add_test(tc, test_residual_layers);
  tcase_add_test(tc, test_conv_direct);
  tcase_add_test(tc, test_maxpool_direct);
  tcase_add_test(tc, test_bad_architectures);
  tcase_add_test(tc, test_save_load);
  tcase_add_test(tc, test_shuffle);
  tcase_add_test(tc, test_weights_equal);
  tcase_add_test(tc, test_noisy_skip);
  tcase_add_test(tc, test_node_perturbation_softmax);
  tcase_add_test(tc, test_mse);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
