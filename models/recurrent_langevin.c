/* recurrent_langevin.c -- the stochastic recurrent rate circuit of
 * Bredenberg, Simoncelli & Savin (NeurIPS 2020):
 *
 *   dr = [-f^-1(r) + W r + C s + b] dt + sigma dB,     readout z = D r,
 *
 * integrated by Euler--Maruyama in the order the reference code uses:
 *   1. the dynamics see the input of the previous step (input_delay = 1);
 *   2. r_new = r + dt (-f^-1(r) + W r + C s_prev + b) + sigma sqrt(dt) xi;
 *   3. the recorded readout is D r_new (before clipping);
 *   4. r_new is clipped to [clip_lo, clip_hi];
 *   5. learning uses the clipped r and D r_clipped.
 * f is a softplus of gain g (f^-1(r) = r + log1p(-exp(-g r))/g), a
 * linear-rectified unit of gain g (f^-1(r) = r/g), or tanh(g x)
 * (f^-1(r) = atanh(r)/g).  Columns of the n × batch state are independent
 * trials that share the weights. */
#include "config.h"
#include "plastix/error.h"
#include "plastix/model.h"

#include <cblas.h>
#include <gsl/gsl_sf_dilog.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { NL_SOFTPLUS, NL_RELU, NL_TANH };

typedef struct rl_state {
  size_t N, n_in, n_out, B;
  double sigma, dt, r0, clip_lo, clip_hi, gain;
  int nl, delay;
  double *W, *C, *b, *D;   /* weights (column-major)                 */
  double *r;               /* N × B state (clipped)                  */
  double *h;               /* N × B drive workspace                  */
  double *xi;              /* N × B injected noise sigma sqrt(dt) xi */
  double *x_held;          /* n_in × B input the dynamics use next   */
  double *x_cur;           /* n_in × B current input                 */
  double *out, *out_learn; /* n_out × B                              */
  plx_projection proj[4];
  const plx_params *init;
  double *block;           /* single allocation for all of the above */
} rl_state;

static const plx_param_spec nl_spec[] = {
    PLX_P_STRING("type", "softplus", "softplus|relu|tanh",
                 "f: softplus log(1+e^{g x})/g, relu g max(0,x), tanh tanh(g x)"),
    PLX_P_FLOAT_MIN("gain", 30.0, 0.0, PLX_PARAM_MIN_EXCL, "gain g of f"),
    PLX_P_END};

PLX_INIT_SPEC(init_W, "uniform", 0.3, "sqrt");
PLX_INIT_SPEC(init_C, "uniform", 0.5, "sqrt");
PLX_INIT_SPEC(init_b, "constant", 0.0, "none");
PLX_INIT_SPEC(init_D, "uniform", 1.0, "linear");

static const plx_param_spec init_spec[] = {
    PLX_P_GROUP("W", init_W, "recurrent weights (default U(+-0.3/sqrt(n)))"),
    PLX_P_GROUP("C", init_C, "input weights (default U(+-0.5/sqrt(n_in)))"),
    PLX_P_GROUP("b", init_b, "biases (default 0; classification paper: 0.7)"),
    PLX_P_GROUP("D", init_D, "readout (default U(+-1/n))"),
    PLX_P_END};

static const plx_param_spec rl_spec[] = {
    PLX_P_INT_RANGE("n", 40, 1, 100000, "recurrent units N_r"),
    PLX_P_FLOAT_MIN("sigma", 0.2, 0.0, 0, "noise amplitude sigma"),
    PLX_P_FLOAT_RANGE("dt", 0.01, 0.0, 1.0, PLX_PARAM_MIN_EXCL,
                      "Euler--Maruyama step (time units)"),
    PLX_P_FLOAT("r0", 0.1, "rate of every unit at a trial's start"),
    {"clip", PLX_PARAM_FLOAT_ARRAY, 0, 0, NULL, 0, 0, NULL, NULL,
     "[lo, hi] rates are clipped to after each step "
     "(default [0.001, 100]; tanh: [-0.999, 0.999])"},
    PLX_P_INT_RANGE("input_delay", 1, 0, 1,
                    "1: dynamics use the previous step's input (reference)"),
    PLX_P_GROUP("nonlinearity", nl_spec, "response function f"),
    PLX_P_GROUP("init", init_spec, "initial weights"),
    PLX_P_END};

static void rl_free(plx_model *m)
{
  rl_state *s = m->state;
  if (s) {
    free(s->block);
    free(s);
  }
  m->state = NULL;
}

static int rl_alloc(plx_model *m, const plx_params *p, plx_error *err)
{
  rl_state *s = calloc(1, sizeof *s);
  const plx_params *nl = plx_params_group(p, "nonlinearity");
  const char *nlt = plx_params_string(nl, "type");
  double clip[3];
  size_t nclip, N, ni, no, B, total;
  double *q;

  if (!s)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  m->state = s;
  s->N = N = (size_t)plx_params_int(p, "n");
  s->n_in = ni = m->n_in;
  s->n_out = no = m->n_out;
  s->B = B = m->max_batch;
  s->sigma = plx_params_float(p, "sigma");
  s->dt = plx_params_float(p, "dt");
  s->r0 = plx_params_float(p, "r0");
  s->delay = (int)plx_params_int(p, "input_delay");
  s->gain = plx_params_float(nl, "gain");
  s->nl = strcmp(nlt, "softplus") == 0 ? NL_SOFTPLUS
          : strcmp(nlt, "relu") == 0   ? NL_RELU
                                       : NL_TANH;
  s->init = plx_params_group(p, "init");
  if (s->nl == NL_TANH) {
    s->clip_lo = -0.999;
    s->clip_hi = 0.999;
  } else {
    s->clip_lo = 0.001;
    s->clip_hi = 100.0;
  }
  nclip = plx_params_float_array(p, "clip", clip, 3);
  if (plx_params_has(p, "clip")) {
    if (nclip != 2 || !(clip[0] < clip[1])) {
      rl_free(m);
      return plx_params_error(p, "clip", err,
                              "expected [lo, hi] with lo < hi");
    }
    s->clip_lo = clip[0];
    s->clip_hi = clip[1];
  }
  if (s->nl != NL_TANH && !(s->clip_lo > 0)) {
    rl_free(m);
    return plx_params_error(p, "clip", err,
                            "f^-1 of a %s unit needs rates > 0: lo must be > 0",
                            nlt);
  }
  if (s->nl == NL_TANH && !(s->clip_lo > -1 && s->clip_hi < 1)) {
    rl_free(m);
    return plx_params_error(p, "clip", err,
                            "tanh rates must stay inside (-1, 1)");
  }
  if (!(s->r0 >= s->clip_lo && s->r0 <= s->clip_hi)) {
    rl_free(m);
    return plx_params_error(p, "r0", err, "must lie inside clip [%g, %g]",
                            s->clip_lo, s->clip_hi);
  }

  total = N * N + N * ni + N + no * N   /* weights          */
          + 3 * N * B                   /* r, h, xi         */
          + 2 * ni * B                  /* x_held, x_cur    */
          + 2 * no * B;                 /* out, out_learn   */
  s->block = calloc(total, sizeof(double));
  if (!s->block) {
    rl_free(m);
    return plx_error_set(err, PLX_ENOMEM, "out of memory (N = %zu)", N);
  }
  q = s->block;
  s->W = q; q += N * N;
  s->C = q; q += N * ni;
  s->b = q; q += N;
  s->D = q; q += no * N;
  s->r = q; q += N * B;
  s->h = q; q += N * B;
  s->xi = q; q += N * B;
  s->x_held = q; q += ni * B;
  s->x_cur = q; q += ni * B;
  s->out = q; q += no * B;
  s->out_learn = q;

  s->proj[0] = (plx_projection){"W", s->W, N, N, N, s->r, s->r, s->xi, NULL,
                                PLX_PROJ_RECURRENT};
  s->proj[1] = (plx_projection){"C", s->C, N, ni, N, s->x_cur, s->r, s->xi,
                                NULL, 0};
  s->proj[2] = (plx_projection){"b", s->b, N, 1, N, NULL, s->r, s->xi, NULL,
                                PLX_PROJ_BIAS};
  s->proj[3] = (plx_projection){"D", s->D, no, N, no, s->r, s->out_learn,
                                NULL, NULL, PLX_PROJ_READOUT};
  m->proj = s->proj;
  m->n_proj = 4;
  m->n_hidden = N;
  m->dt = s->dt;
  m->out = s->out;
  m->out_learn = s->out_learn;
  m->hidden = s->r;
  m->input = s->x_cur;
  return PLX_OK;
}

static int rl_init_weights(plx_model *m, plx_rng *rng, plx_error *err)
{
  rl_state *s = m->state;
  (void)err;
  plx_init_fill(plx_params_group(s->init, "W"), s->W, s->N, s->N, s->N, rng);
  plx_init_fill(plx_params_group(s->init, "C"), s->C, s->N, s->n_in, s->N, rng);
  plx_init_fill(plx_params_group(s->init, "b"), s->b, s->N, 1, s->N, rng);
  plx_init_fill(plx_params_group(s->init, "D"), s->D, s->n_out, s->N,
                s->n_out, rng);
  return PLX_OK;
}

static int rl_reset(plx_model *m, const double *x0, size_t batch)
{
  rl_state *s = m->state;
  size_t i;
  if (batch > s->B)
    return PLX_EINVAL;
  m->batch = batch;
  for (i = 0; i < s->N * batch; i++)
    s->r[i] = s->r0;
  memcpy(s->x_held, x0, s->n_in * batch * sizeof *x0);
  memcpy(s->x_cur, x0, s->n_in * batch * sizeof *x0);
  memset(s->xi, 0, s->N * batch * sizeof *s->xi);
  /* readouts of the initial state */
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)s->n_out,
              (int)batch, (int)s->N, 1.0, s->D, (int)s->n_out, s->r, (int)s->N,
              0.0, s->out, (int)s->n_out);
  memcpy(s->out_learn, s->out, s->n_out * batch * sizeof *s->out);
  return PLX_OK;
}

/* f^-1(r) */
static inline double finv(int nl, double g, double r)
{
  switch (nl) {
  case NL_SOFTPLUS: return r + log1p(-exp(-g * r)) / g;
  case NL_RELU: return r / g;
  default: return atanh(r) / g;
  }
}

/* integral_0^r f^-1(x) dx */
static double finv_integral(int nl, double g, double r)
{
  switch (nl) {
  case NL_SOFTPLUS:
    return 0.5 * r * r + (gsl_sf_dilog(exp(-g * r)) - M_PI * M_PI / 6.0) / (g * g);
  case NL_RELU: return 0.5 * r * r / g;
  default: return (r * atanh(r) + 0.5 * log1p(-r * r)) / g;
  }
}

static int rl_step(plx_model *m, const double *x, plx_rng *const *rngs,
                   plx_error *err)
{
  rl_state *s = m->state;
  const size_t N = s->N, B = m->batch, ni = s->n_in, no = s->n_out;
  const double dt = s->dt, sd = s->sigma * sqrt(s->dt);
  const double *xs = s->delay ? s->x_held : x;
  double check = 0.0;
  size_t i, bcol;

  /* h = W r + C x_s + b */
  for (bcol = 0; bcol < B; bcol++)
    memcpy(s->h + bcol * N, s->b, N * sizeof *s->h);
  if (B == 1) {
    cblas_dgemv(CblasColMajor, CblasNoTrans, (int)N, (int)N, 1.0, s->W,
                (int)N, s->r, 1, 1.0, s->h, 1);
    cblas_dgemv(CblasColMajor, CblasNoTrans, (int)N, (int)ni, 1.0, s->C,
                (int)N, xs, 1, 1.0, s->h, 1);
  } else {
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)B,
                (int)N, 1.0, s->W, (int)N, s->r, (int)N, 1.0, s->h, (int)N);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)B,
                (int)ni, 1.0, s->C, (int)N, xs, (int)ni, 1.0, s->h, (int)N);
  }
  /* injected noise, one stream per column */
  for (bcol = 0; bcol < B; bcol++) {
    if (rngs && rngs[bcol] && sd > 0)
      plx_rng_normal_fill(rngs[bcol], s->xi + bcol * N, N, sd);
    else
      memset(s->xi + bcol * N, 0, N * sizeof *s->xi);
  }
  /* Euler--Maruyama */
  for (i = 0; i < N * B; i++) {
    double ri = s->r[i];
    s->r[i] = ri + dt * (-finv(s->nl, s->gain, ri) + s->h[i]) + s->xi[i];
  }
  /* recorded readout from the unclipped state */
  if (B == 1 && no <= 4) {
    size_t o;
    for (o = 0; o < no; o++) {
      double acc = 0;
      for (i = 0; i < N; i++)
        acc += s->D[o + i * no] * s->r[i];
      s->out[o] = acc;
    }
  } else {
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)no, (int)B,
                (int)N, 1.0, s->D, (int)no, s->r, (int)N, 0.0, s->out, (int)no);
  }
  /* clip, then the readout the learning signal uses */
  for (i = 0; i < N * B; i++) {
    double ri = s->r[i];
    check += ri; /* NaN propagates; clipping below keeps NaN as NaN */
    s->r[i] = ri < s->clip_lo ? s->clip_lo : (ri > s->clip_hi ? s->clip_hi : ri);
  }
  if (!isfinite(check))
    return plx_error_set(err, PLX_EDIVERGE,
                         "recurrent_langevin: rates became non-finite "
                         "(try a smaller model.dt or sigma, or smaller weights)");
  if (B == 1 && no <= 4) {
    size_t o;
    for (o = 0; o < no; o++) {
      double acc = 0;
      for (i = 0; i < N; i++)
        acc += s->D[o + i * no] * s->r[i];
      s->out_learn[o] = acc;
    }
  } else {
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)no, (int)B,
                (int)N, 1.0, s->D, (int)no, s->r, (int)N, 0.0, s->out_learn,
                (int)no);
  }
  /* inputs: what the projections see now, what the dynamics see next */
  memcpy(s->x_cur, x, ni * B * sizeof *x);
  if (s->delay)
    memcpy(s->x_held, x, ni * B * sizeof *x);
  return PLX_OK;
}

static double rl_energy(const plx_model *m, const double *r, const double *x,
                        int exact)
{
  const rl_state *s = m->state;
  const size_t N = s->N, ni = s->n_in;
  double e = 0;
  size_t i, j;
  for (j = 0; j < N; j++) {
    double wr = 0;
    for (i = 0; i < N; i++)
      wr += s->W[i + j * N] * r[i];
    e -= 0.5 * wr * r[j];
  }
  for (i = 0; i < N; i++) {
    double cs = 0;
    for (j = 0; j < ni; j++)
      cs += s->C[i + j * N] * x[j];
    e += (exact ? finv_integral(s->nl, s->gain, r[i]) : 0.5 * r[i] * r[i]) -
         s->b[i] * r[i] - r[i] * cs;
  }
  return e;
}

const plx_model_type plx_model_recurrent_langevin = {
    PLX_MODEL_ABI_VERSION,
    "recurrent_langevin",
    "stochastic recurrent rate circuit dr = [-f^-1(r) + Wr + Cs + b]dt + sigma dB",
    rl_spec,
    rl_alloc,
    rl_init_weights,
    rl_reset,
    rl_step,
    rl_energy,
    rl_free};
