/* feedforward.c -- a stochastic layered rate circuit: input population ->
 * hidden layers 1..L -> linear readout z = D r_L.  Two dynamics:
 *
 *  relax: every layer relaxes by Euler--Maruyama towards its steady state,
 *           dr_l = [-f^-1(r_l) + W_l r_{l-1} + b_l] dt + sigma dB_l,
 *         all layers updated synchronously from the previous step's states
 *         (r_0 = the input), clipped like the recurrent circuit;
 *  pass:  one noisy pass per step, r_l = f(W_l r_{l-1} + b_l + sigma xi_l).
 *
 * Projections W1, b1, W2, b2, ..., D.  Gradients: backpropagation through
 * the recorded steps with the noise fixed (relax: through time; pass: each
 * step on its own), and through the noise-free steady state (a plain
 * forward pass r_l = f(W_l r_{l-1} + b_l)). */
#include "config.h"
#include "plastix/error.h"
#include "plastix/model.h"
#include "plastix/units.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FF_MAX_LAYERS 8

typedef struct ff_state {
  int relax, delay;
  size_t L, ni, no, B, H;          /* H: hidden units of all layers        */
  size_t n[FF_MAX_LAYERS + 1];     /* n[0] = inputs, n[l] = layer l         */
  size_t off[FF_MAX_LAYERS + 1];   /* row offset of layer l in state (l>=1) */
  double sigma, dt, r0, lo, hi, gain;
  plx_unit_kind nl;
  double *W[FF_MAX_LAYERS + 1], *b[FF_MAX_LAYERS + 1], *D;
  double *gW[FF_MAX_LAYERS + 1], *gb[FF_MAX_LAYERS + 1], *gD;
  double *r;      /* H × B states (clipped)                   */
  double *r_prev; /* H × B states before this step (relax)    */
  double *x_drive;/* n_in × B input the last step integrated  */
  double *u;      /* H × B drives W_l r_{l-1} + b_l             */
  double *xi;     /* H × B injected noise                     */
  double *x_held, *x_cur; /* n_in × B                          */
  double *out, *out_learn; /* n_out × B                        */
  double *lam, *lam_next, *acc; /* H × B backward workspaces   */
  char names[2 * FF_MAX_LAYERS + 1][8];
  plx_projection proj[2 * FF_MAX_LAYERS + 1];
  const plx_params *init;
  double *block;
  /* recording */
  size_t win, n_rec, cap;
  double *hist_r;  /* relax: (cap+1) × H × B states; pass: cap × H × B outputs */
  double *hist_u;  /* pass: cap × H × B pre-activations (with noise)           */
  double *hist_x;  /* cap × n_in × B inputs used                               */
  unsigned char *hist_m; /* relax: cap × H × B not-clipped masks              */
} ff_state;

static const plx_param_spec nl_spec[] = {
    PLX_P_STRING("type", "softplus", "softplus|relu|tanh",
                 "f: softplus log(1+e^{g x})/g, relu g max(0,x), tanh tanh(g x)"),
    PLX_P_FLOAT_MIN("gain", 30.0, 0.0, PLX_PARAM_MIN_EXCL, "gain g of f"),
    PLX_P_END};

PLX_INIT_SPEC(init_W, "uniform", 0.5, "sqrt");
PLX_INIT_SPEC(init_b, "constant", 0.0, "none");
PLX_INIT_SPEC(init_D, "uniform", 1.0, "linear");

static const plx_param_spec init_spec[] = {
    PLX_P_GROUP("W", init_W, "every layer's weights W1, W2, ... (default U(+-0.5/sqrt(n_pre)))"),
    PLX_P_GROUP("b", init_b, "every layer's biases (default 0)"),
    PLX_P_GROUP("D", init_D, "readout (default U(+-1/n_L))"),
    PLX_P_END};

static const plx_param_spec ff_spec[] = {
    {"layers", PLX_PARAM_FLOAT_ARRAY, 0, 0, NULL, 1, 1e6, NULL, NULL,
     "hidden layer sizes, e.g. [40] or [40, 20] (default [40])"},
    PLX_P_STRING("mode", "relax", "relax|pass",
                 "relax: Euler--Maruyama relaxation of every layer; pass: one "
                 "noisy pass per step"),
    PLX_P_FLOAT_MIN("sigma", 0.2, 0.0, 0, "noise amplitude"),
    PLX_P_FLOAT_RANGE("dt", 0.01, 0.0, 1.0, PLX_PARAM_MIN_EXCL,
                      "time step (time units)"),
    PLX_P_FLOAT("r0", 0.1, "relax: rate of every unit at a trial's start"),
    {"clip", PLX_PARAM_FLOAT_ARRAY, 0, 0, NULL, 0, 0, NULL, NULL,
     "relax: [lo, hi] rates are clipped to (default [0.001, 100]; tanh: "
     "[-0.999, 0.999])"},
    PLX_P_INT_RANGE("input_delay", 1, 0, 1,
                    "relax: 1 = the first layer sees the previous step's input"),
    PLX_P_GROUP("nonlinearity", nl_spec, "response function f"),
    PLX_P_GROUP("init", init_spec, "initial weights"),
    PLX_P_END};

static void ff_free(plx_model *m)
{
  ff_state *s = m->state;
  if (s) {
    free(s->block);
    free(s->hist_r);
    free(s->hist_u);
    free(s->hist_x);
    free(s->hist_m);
    free(s);
  }
  m->state = NULL;
}

static void ff_expose(plx_model *m);

static int ff_alloc(plx_model *m, const plx_params *p, plx_error *err)
{
  ff_state *s = calloc(1, sizeof *s);
  const plx_params *nl = plx_params_group(p, "nonlinearity");
  double sizes[FF_MAX_LAYERS + 1], clip[3], *q;
  size_t nl_count, l, total, np = 0, B;
  if (!s)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  m->state = s;
  nl_count = plx_params_float_array(p, "layers", sizes, FF_MAX_LAYERS + 1);
  if (!plx_params_has(p, "layers")) {
    sizes[0] = 40;
    nl_count = 1;
  }
  if (nl_count < 1 || nl_count > FF_MAX_LAYERS) {
    ff_free(m);
    return plx_params_error(p, "layers", err, "expected 1 to %d layer sizes, got %zu",
                            FF_MAX_LAYERS, nl_count);
  }
  s->L = nl_count;
  s->ni = m->n_in;
  s->no = m->n_out;
  s->B = B = m->max_batch;
  s->n[0] = s->ni;
  for (l = 1; l <= s->L; l++) {
    double v = sizes[l - 1];
    if (v != floor(v) || v < 1) {
      ff_free(m);
      return plx_params_error(p, "layers", err, "layer sizes must be positive "
                              "integers, got %g", v);
    }
    s->n[l] = (size_t)v;
    s->off[l] = s->H;
    s->H += s->n[l];
  }
  s->relax = strcmp(plx_params_string(p, "mode"), "relax") == 0;
  s->sigma = plx_params_float(p, "sigma");
  s->dt = plx_params_float(p, "dt");
  s->r0 = plx_params_float(p, "r0");
  s->delay = (int)plx_params_int(p, "input_delay");
  s->nl = plx_unit_parse(plx_params_string(nl, "type"));
  s->gain = plx_params_float(nl, "gain");
  s->init = plx_params_group(p, "init");
  s->lo = s->nl == PLX_UNIT_TANH ? -0.999 : 0.001;
  s->hi = s->nl == PLX_UNIT_TANH ? 0.999 : 100.0;
  if (plx_params_has(p, "clip")) {
    if (plx_params_float_array(p, "clip", clip, 3) != 2 || !(clip[0] < clip[1])) {
      ff_free(m);
      return plx_params_error(p, "clip", err, "expected [lo, hi] with lo < hi");
    }
    s->lo = clip[0];
    s->hi = clip[1];
  }
  if (s->relax && s->nl != PLX_UNIT_TANH && !(s->lo > 0)) {
    ff_free(m);
    return plx_params_error(p, "clip", err, "f^-1 needs rates > 0: lo must be > 0");
  }
  if (s->relax && s->nl == PLX_UNIT_TANH && !(s->lo > -1 && s->hi < 1)) {
    ff_free(m);
    return plx_params_error(p, "clip", err, "tanh rates must stay inside (-1, 1)");
  }
  if (!s->relax) {
    static const char *const relax_only[] = {"clip", "r0", "input_delay"};
    for (l = 0; l < 3; l++)
      if (plx_params_has(p, relax_only[l])) {
        ff_free(m);
        return plx_params_error(p, relax_only[l], err, "only used by mode = \"relax\"");
      }
  }

  total = 0;
  for (l = 1; l <= s->L; l++)
    total += 2 * (s->n[l] * s->n[l - 1] + s->n[l]);
  total += 2 * s->no * s->n[s->L]      /* D, gD                    */
           + 7 * s->H * B              /* r, r_prev, u, xi, lam, lam_next, acc */
           + 3 * s->ni * B + 2 * s->no * B;
  s->block = calloc(total, sizeof(double));
  if (!s->block) {
    ff_free(m);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  q = s->block;
  for (l = 1; l <= s->L; l++) {
    s->W[l] = q; q += s->n[l] * s->n[l - 1];
    s->gW[l] = q; q += s->n[l] * s->n[l - 1];
    s->b[l] = q; q += s->n[l];
    s->gb[l] = q; q += s->n[l];
  }
  s->D = q; q += s->no * s->n[s->L];
  s->gD = q; q += s->no * s->n[s->L];
  s->r = q; q += s->H * B;
  s->r_prev = q; q += s->H * B;
  s->x_drive = q; q += s->ni * B;
  s->u = q; q += s->H * B;
  s->xi = q; q += s->H * B;
  s->lam = q; q += s->H * B;
  s->lam_next = q; q += s->H * B;
  s->acc = q; q += s->H * B;
  s->x_held = q; q += s->ni * B;
  s->x_cur = q; q += s->ni * B;
  s->out = q; q += s->no * B;
  s->out_learn = q;

  /* pre/post/noise pointers depend on the batch size: see ff_expose */
  for (l = 1; l <= s->L; l++) {
    snprintf(s->names[np], sizeof s->names[np], "W%zu", l);
    s->proj[np] = (plx_projection){s->names[np], s->W[l], s->n[l], s->n[l - 1],
                                   s->n[l], NULL, NULL, NULL, s->gW[l], 0, NULL,
                                   s->sigma * s->sigma};
    np++;
    snprintf(s->names[np], sizeof s->names[np], "b%zu", l);
    s->proj[np] = (plx_projection){s->names[np], s->b[l], s->n[l], 1, s->n[l],
                                   NULL, NULL, NULL, s->gb[l], PLX_PROJ_BIAS, NULL,
                                   s->sigma * s->sigma};
    np++;
  }
  snprintf(s->names[np], sizeof s->names[np], "D");
  s->proj[np] = (plx_projection){s->names[np], s->D, s->no, s->n[s->L], s->no,
                                 NULL, s->out_learn, NULL, s->gD,
                                 PLX_PROJ_READOUT, NULL, 0.0};
  np++;
  m->proj = s->proj;
  m->n_proj = np;
  m->n_hidden = s->n[s->L];
  m->dt = s->dt;
  m->out = s->out;
  m->out_learn = s->out_learn;
  m->input = s->x_cur;
  ff_expose(m);
  return PLX_OK;
}

/* Point the projections at the current batch's activity.  Layers are
 * stored layer-major (all columns of layer 1, then layer 2, ...) so each
 * layer is a contiguous n_l × B block. */
static void ff_expose(plx_model *m)
{
  ff_state *s = m->state;
  const size_t B = m->batch;
  size_t l, np = 0;
  for (l = 1; l <= s->L; l++) {
    const double *pre = l == 1 ? s->x_cur : s->r + s->off[l - 1] * B;
    const double *post = s->r + s->off[l] * B;
    const double *noise = s->xi + s->off[l] * B;
    s->proj[np].pre = pre;
    s->proj[np].post = post;
    s->proj[np].noise = noise;
    /* relax: the step integrated the previous states; a pass uses this
     * pass's lower layer, which is `pre` itself */
    s->proj[np].pre_drive = !s->relax ? NULL
                            : (l == 1 ? s->x_drive : s->r_prev + s->off[l - 1] * B);
    np++;
    s->proj[np].post = post;
    s->proj[np].noise = noise;
    np++;
  }
  s->proj[np].pre = s->r + s->off[s->L] * B;
  m->hidden = s->r + s->off[s->L] * B;
}

static int ff_init_weights(plx_model *m, plx_rng *rng, plx_error *err)
{
  ff_state *s = m->state;
  size_t l;
  (void)err;
  for (l = 1; l <= s->L; l++) {
    plx_init_fill(plx_params_group(s->init, "W"), s->W[l], s->n[l], s->n[l - 1], s->n[l], rng);
    plx_init_fill(plx_params_group(s->init, "b"), s->b[l], s->n[l], 1, s->n[l], rng);
  }
  plx_init_fill(plx_params_group(s->init, "D"), s->D, s->no, s->n[s->L], s->no, rng);
  return PLX_OK;
}

static void readout(ff_state *s, size_t B, double *out)
{
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)s->no, (int)B,
              (int)s->n[s->L], 1.0, s->D, (int)s->no, s->r + s->off[s->L] * B,
              (int)s->n[s->L], 0.0, out, (int)s->no);
}

/* Noise-free forward pass r_l = clip(f(W_l r_{l-1} + b_l)) from input x
 * into r (layer-major, B columns); u receives the pre-activations. */
static void forward_clean(ff_state *s, const double *x, size_t B, double *r,
                          double *u)
{
  size_t l, i, c;
  for (l = 1; l <= s->L; l++) {
    const double *pre = l == 1 ? x : r + s->off[l - 1] * B;
    double *ul = u + s->off[l] * B, *rl = r + s->off[l] * B;
    for (c = 0; c < B; c++)
      memcpy(ul + c * s->n[l], s->b[l], s->n[l] * sizeof *ul);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)s->n[l], (int)B,
                (int)s->n[l - 1], 1.0, s->W[l], (int)s->n[l], pre, (int)s->n[l - 1],
                1.0, ul, (int)s->n[l]);
    for (i = 0; i < s->n[l] * B; i++) {
      double v = plx_unit_f(s->nl, s->gain, ul[i]);
      if (s->relax)
        v = v < s->lo ? s->lo : (v > s->hi ? s->hi : v);
      rl[i] = v;
    }
  }
}

static int ff_reset(plx_model *m, const double *x0, size_t batch)
{
  ff_state *s = m->state;
  size_t i;
  if (batch > s->B)
    return PLX_EINVAL;
  m->batch = batch;
  memcpy(s->x_held, x0, s->ni * batch * sizeof *x0);
  memcpy(s->x_cur, x0, s->ni * batch * sizeof *x0);
  memcpy(s->x_drive, x0, s->ni * batch * sizeof *x0);
  memset(s->xi, 0, s->H * batch * sizeof *s->xi);
  if (s->relax)
    for (i = 0; i < s->H * batch; i++)
      s->r[i] = s->r_prev[i] = s->r0;
  else
    forward_clean(s, x0, batch, s->r, s->u);
  readout(s, batch, s->out);
  memcpy(s->out_learn, s->out, s->no * batch * sizeof *s->out);
  ff_expose(m);
  if (s->win) {
    s->n_rec = 0;
    if (s->relax)
      memcpy(s->hist_r, s->r, s->H * batch * sizeof *s->r);
  }
  return PLX_OK;
}

static int ff_step(plx_model *m, const double *x, plx_rng *const *rngs,
                   plx_error *err)
{
  ff_state *s = m->state;
  const size_t B = m->batch, H = s->H;
  const double *xs = (s->relax && s->delay) ? s->x_held : x;
  const int rec = s->win && s->n_rec < s->win;
  double check = 0;
  size_t l, i, c;

  /* noise, one stream per column, layer by layer in a fixed order */
  for (c = 0; c < B; c++)
    for (l = 1; l <= s->L; l++) {
      double *dst = s->xi + s->off[l] * B + c * s->n[l];
      double sd = s->relax ? s->sigma * sqrt(s->dt) : s->sigma;
      if (rngs && rngs[c] && sd > 0)
        plx_rng_normal_fill(rngs[c], dst, s->n[l], sd);
      else
        memset(dst, 0, s->n[l] * sizeof *dst);
    }
  if (s->relax) { /* what this step integrates (node perturbation's score) */
    memcpy(s->r_prev, s->r, H * B * sizeof *s->r);
    memcpy(s->x_drive, xs, s->ni * B * sizeof *xs);
  }
  /* drives from the previous states (synchronous update) */
  for (l = 1; l <= s->L; l++) {
    const double *pre = l == 1 ? xs : s->r + s->off[l - 1] * B;
    double *ul = s->u + s->off[l] * B;
    for (c = 0; c < B; c++)
      memcpy(ul + c * s->n[l], s->b[l], s->n[l] * sizeof *ul);
    if (s->relax || l == 1)
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)s->n[l], (int)B,
                  (int)s->n[l - 1], 1.0, s->W[l], (int)s->n[l], pre,
                  (int)s->n[l - 1], 1.0, ul, (int)s->n[l]);
    if (!s->relax) {
      /* a pass: layer l needs layer l-1 of this very step */
      if (l > 1)
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)s->n[l], (int)B,
                    (int)s->n[l - 1], 1.0, s->W[l], (int)s->n[l], pre,
                    (int)s->n[l - 1], 1.0, ul, (int)s->n[l]);
      for (i = 0; i < s->n[l] * B; i++) {
        ul[i] += s->xi[s->off[l] * B + i];
        s->r[s->off[l] * B + i] = plx_unit_f(s->nl, s->gain, ul[i]);
        check += s->r[s->off[l] * B + i];
      }
    }
  }
  if (s->relax) {
    unsigned char *mk = rec ? s->hist_m + s->n_rec * H * B : NULL;
    for (i = 0; i < H * B; i++) {
      double ri = s->r[i];
      s->r[i] = ri + s->dt * (-plx_unit_finv(s->nl, s->gain, ri) + s->u[i]) + s->xi[i];
    }
    readout(s, B, s->out); /* as recorded: before clipping */
    for (i = 0; i < H * B; i++) {
      double ri = s->r[i];
      check += ri;
      if (mk)
        mk[i] = ri > s->lo && ri < s->hi;
      s->r[i] = ri < s->lo ? s->lo : (ri > s->hi ? s->hi : ri);
    }
    readout(s, B, s->out_learn);
  } else {
    readout(s, B, s->out);
    memcpy(s->out_learn, s->out, s->no * B * sizeof *s->out);
  }
  if (!isfinite(check))
    return plx_error_set(err, PLX_EDIVERGE,
                         "feedforward: rates became non-finite (reduce model.dt or "
                         "model.sigma, the initial weights, or the rule's learning rates)");
  if (rec) {
    memcpy(s->hist_x + s->n_rec * s->ni * B, xs, s->ni * B * sizeof *xs);
    if (s->relax)
      memcpy(s->hist_r + (s->n_rec + 1) * H * B, s->r, H * B * sizeof *s->r);
    else {
      memcpy(s->hist_r + s->n_rec * H * B, s->r, H * B * sizeof *s->r);
      memcpy(s->hist_u + s->n_rec * H * B, s->u, H * B * sizeof *s->u);
    }
    s->n_rec++;
  }
  memcpy(s->x_cur, x, s->ni * B * sizeof *x);
  if (s->delay)
    memcpy(s->x_held, x, s->ni * B * sizeof *x);
  return PLX_OK;
}

/* ------------------------------------------------------------ gradients */

static int ff_record(plx_model *m, size_t window)
{
  ff_state *s = m->state;
  const size_t H = s->H, B = s->B;
  if (window > s->cap) {
    double *a = realloc(s->hist_r, (window + 1) * H * B * sizeof *a);
    unsigned char *mk;
    if (!a)
      return PLX_ENOMEM;
    s->hist_r = a;
    if (!(a = realloc(s->hist_u, window * H * B * sizeof *a)))
      return PLX_ENOMEM;
    s->hist_u = a;
    if (!(a = realloc(s->hist_x, window * s->ni * B * sizeof *a)))
      return PLX_ENOMEM;
    s->hist_x = a;
    if (!(mk = realloc(s->hist_m, window * H * B)))
      return PLX_ENOMEM;
    s->hist_m = mk;
    s->cap = window;
  }
  s->win = window;
  s->n_rec = 0;
  if (window && s->relax)
    memcpy(s->hist_r, s->r, H * m->batch * sizeof *s->r);
  return PLX_OK;
}

static void zero_grads(ff_state *s)
{
  size_t l;
  for (l = 1; l <= s->L; l++) {
    memset(s->gW[l], 0, s->n[l] * s->n[l - 1] * sizeof(double));
    memset(s->gb[l], 0, s->n[l] * sizeof(double));
  }
  memset(s->gD, 0, s->no * s->n[s->L] * sizeof(double));
}

/* Backpropagate one layered pass: u (pre-activations incl. noise), r
 * (outputs), x (input), e (dL/dz), all B columns; adds into the grads.
 * With clip = 1 the outputs were clipped (steady state of relax). */
static void backprop_pass(ff_state *s, size_t B, const double *x,
                          const double *u, const double *r, const double *e,
                          int clip)
{
  size_t l, i, c;
  const size_t L = s->L;
  double *delta = s->lam, *up = s->lam_next;
  /* dL/dr_L = D^T e */
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)s->no, (int)s->n[L],
              (int)B, 1.0, e, (int)s->no, r + s->off[L] * B, (int)s->n[L], 1.0,
              s->gD, (int)s->no);
  cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)s->n[L], (int)B,
              (int)s->no, 1.0, s->D, (int)s->no, e, (int)s->no, 0.0, up,
              (int)s->n[L]);
  for (l = L; l >= 1; l--) {
    const double *ul = u + s->off[l] * B, *rl = r + s->off[l] * B;
    const double *pre = l == 1 ? x : r + s->off[l - 1] * B;
    for (i = 0; i < s->n[l] * B; i++) {
      double d = plx_unit_df(s->nl, s->gain, ul[i]);
      if (clip && (rl[i] <= s->lo || rl[i] >= s->hi))
        d = 0;
      delta[i] = up[i] * d;
    }
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)s->n[l],
                (int)s->n[l - 1], (int)B, 1.0, delta, (int)s->n[l], pre,
                (int)s->n[l - 1], 1.0, s->gW[l], (int)s->n[l]);
    for (c = 0; c < B; c++)
      for (i = 0; i < s->n[l]; i++)
        s->gb[l][i] += delta[i + c * s->n[l]];
    if (l > 1)
      cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)s->n[l - 1],
                  (int)B, (int)s->n[l], 1.0, s->W[l], (int)s->n[l], delta,
                  (int)s->n[l], 0.0, up, (int)s->n[l - 1]);
  }
}

static int ff_backward(plx_model *m, const double *dl_dz, size_t steps,
                       plx_error *err)
{
  ff_state *s = m->state;
  const size_t B = m->batch, H = s->H, no = s->no, L = s->L;
  const double dt = s->dt;
  size_t k, l, i, c;
  if (!s->win || steps > s->n_rec)
    return plx_error_set(err, PLX_EINVAL, "feedforward: backward over %zu "
                         "steps, %zu recorded", steps, s->n_rec);
  zero_grads(s);
  if (!s->relax) {
    for (k = 0; k < steps; k++)
      backprop_pass(s, B, s->hist_x + k * s->ni * B, s->hist_u + k * H * B,
                    s->hist_r + k * H * B, dl_dz + k * no * B, 0);
    s->n_rec = 0;
    return PLX_OK;
  }
  /* relax: lambda_k = dL/drho_k, layer-major H × B */
  memset(s->lam_next, 0, H * B * sizeof(double));
  for (k = steps; k-- > 0;) {
    const double *rk = s->hist_r + (k + 1) * H * B, *rp = s->hist_r + k * H * B;
    const double *xk = s->hist_x + k * s->ni * B, *ek = dl_dz + k * no * B;
    const unsigned char *mk = s->hist_m + k * H * B;
    memset(s->acc, 0, H * B * sizeof(double));
    /* readout: dL/dr_{k,L} += D^T e_k; gD += e_k r_{k,L}^T */
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)s->n[L], (int)B,
                (int)no, 1.0, s->D, (int)no, ek, (int)no, 0.0,
                s->acc + s->off[L] * B, (int)s->n[L]);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)no, (int)s->n[L],
                (int)B, 1.0, ek, (int)no, rk + s->off[L] * B, (int)s->n[L], 1.0,
                s->gD, (int)no);
    if (k + 1 < steps) {
      for (i = 0; i < H * B; i++)
        s->acc[i] += s->lam_next[i] * (1.0 - dt * plx_unit_dfinv(s->nl, s->gain, rk[i]));
      for (l = 1; l < L; l++) /* layer l feeds layer l+1 at the next step */
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)s->n[l], (int)B,
                    (int)s->n[l + 1], dt, s->W[l + 1], (int)s->n[l + 1],
                    s->lam_next + s->off[l + 1] * B, (int)s->n[l + 1], 1.0,
                    s->acc + s->off[l] * B, (int)s->n[l]);
    }
    for (i = 0; i < H * B; i++)
      s->lam[i] = mk[i] ? s->acc[i] : 0.0;
    for (l = 1; l <= L; l++) {
      const double *pre = l == 1 ? xk : rp + s->off[l - 1] * B;
      const double *lam = s->lam + s->off[l] * B;
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)s->n[l],
                  (int)s->n[l - 1], (int)B, dt, lam, (int)s->n[l], pre,
                  (int)s->n[l - 1], 1.0, s->gW[l], (int)s->n[l]);
      for (c = 0; c < B; c++)
        for (i = 0; i < s->n[l]; i++)
          s->gb[l][i] += dt * lam[i + c * s->n[l]];
    }
    memcpy(s->lam_next, s->lam, H * B * sizeof(double));
  }
  s->n_rec = 0;
  memcpy(s->hist_r, s->r, H * B * sizeof *s->r);
  return PLX_OK;
}

/* The noise-free steady state of either mode is the forward pass
 * r_l = f(W_l r_{l-1} + b_l) (clipped in relax mode); backpropagate it. */
static int ff_steady_grad(plx_model *m, const double *x,
                          void (*dl)(void *ctx, size_t col, const double *z, double *g),
                          void *ctx, plx_error *err)
{
  ff_state *s = m->state;
  const size_t B = m->batch, no = s->no, L = s->L;
  /* workspaces: r* in acc, u* in u (both H × max_batch, used here one
   * column at a time); backprop_pass itself uses lam and lam_next */
  double *rc = s->acc, *uc = s->u, z[8], ec[8];
  size_t c, i, j;
  if (no > 8)
    return plx_error_set(err, PLX_EUNSUPPORTED, "feedforward: at most 8 readouts");
  zero_grads(s);
  for (c = 0; c < B; c++) {
    forward_clean(s, x + c * s->ni, 1, rc, uc);
    for (i = 0; i < no; i++) {
      double a = 0;
      for (j = 0; j < s->n[L]; j++)
        a += s->D[i + j * no] * rc[s->off[L] + j];
      z[i] = a;
    }
    dl(ctx, c, z, ec);
    backprop_pass(s, 1, x + c * s->ni, uc, rc, ec, s->relax);
  }
  return PLX_OK;
}

const plx_model_type plx_model_feedforward = {
    PLX_MODEL_ABI_VERSION,
    "feedforward",
    "stochastic layered rate circuit: relaxation by Euler--Maruyama or noisy passes",
    ff_spec,
    ff_alloc,
    ff_init_weights,
    ff_reset,
    ff_step,
    NULL,
    ff_free,
    ff_record,
    ff_backward,
    ff_steady_grad};
