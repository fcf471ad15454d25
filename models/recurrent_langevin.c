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
#include "plastix/kernels.h"
#include "plastix/model.h"
#include "plastix/units.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct rl_state {
  size_t N, n_in, n_out, B;
  double sigma, dt, r0, clip_lo, clip_hi, gain;
  plx_unit_kind nl;
  int delay;
  double *W, *C, *b, *D;   /* weights (column-major)                 */
  double *r;               /* N × B state (clipped)                  */
  double *r_prev;          /* N × B state before this step           */
  double *x_drive;         /* n_in × B input the last step integrated */
  double *h;               /* N × B drive workspace                  */
  double *xi;              /* N × B injected noise sigma sqrt(dt) xi */
  double *x_held;          /* n_in × B input the dynamics use next   */
  double *x_cur;           /* n_in × B current input                 */
  double *out, *out_learn; /* n_out × B                              */
  plx_projection proj[4];
  const plx_params *init;
  double *block;           /* single allocation for all of the above */
  /* gradients (allocated with the weights) */
  double *gW, *gC, *gb, *gD;
  /* recording for backpropagation through time */
  size_t win, n_rec, cap;
  double *hist_r;          /* (cap + 1) × N × B states, hist_r[0] = start */
  double *hist_x;          /* cap × n_in × B inputs the dynamics used     */
  unsigned char *hist_m;   /* cap × N × B: 1 where the unit was not clipped */
  /* workspaces of the backward passes */
  double *lam, *lam_next, *acc, *J, *rs, *ytmp;
  int *ipiv;
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
    free(s->hist_r);
    free(s->hist_x);
    free(s->hist_m);
    free(s->ipiv);
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
  s->nl = plx_unit_parse(nlt);
  s->init = plx_params_group(p, "init");
  if (s->nl == PLX_UNIT_TANH) {
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
  if (s->nl != PLX_UNIT_TANH && !(s->clip_lo > 0)) {
    rl_free(m);
    return plx_params_error(p, "clip", err,
                            "f^-1 of a %s unit needs rates > 0: lo must be > 0",
                            nlt);
  }
  if (s->nl == PLX_UNIT_TANH && !(s->clip_lo > -1 && s->clip_hi < 1)) {
    rl_free(m);
    return plx_params_error(p, "clip", err,
                            "tanh rates must stay inside (-1, 1)");
  }
  if (!(s->r0 >= s->clip_lo && s->r0 <= s->clip_hi)) {
    rl_free(m);
    return plx_params_error(p, "r0", err, "must lie inside clip [%g, %g]",
                            s->clip_lo, s->clip_hi);
  }

  total = 2 * (N * N + N * ni + N + no * N) /* weights, gradients   */
          + 4 * N * B + ni * B          /* r, r_prev, h, xi, x_drive */
          + 2 * ni * B                  /* x_held, x_cur    */
          + 2 * no * B                  /* out, out_learn   */
          + 3 * N * B + N * N + 2 * N;  /* backward workspaces */
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
  s->r_prev = q; q += N * B;
  s->x_drive = q; q += ni * B;
  s->h = q; q += N * B;
  s->xi = q; q += N * B;
  s->x_held = q; q += ni * B;
  s->x_cur = q; q += ni * B;
  s->out = q; q += no * B;
  s->out_learn = q; q += no * B;
  s->gW = q; q += N * N;
  s->gC = q; q += N * ni;
  s->gb = q; q += N;
  s->gD = q; q += no * N;
  s->lam = q; q += N * B;
  s->lam_next = q; q += N * B;
  s->acc = q; q += N * B;
  s->J = q; q += N * N;
  s->rs = q; q += N;
  s->ytmp = q;
  s->ipiv = malloc(N * sizeof *s->ipiv);
  if (!s->ipiv) {
    rl_free(m);
    return plx_error_set(err, PLX_ENOMEM, "out of memory (N = %zu)", N);
  }

  /* the noise the dynamics inject is sigma sqrt(dt) xi: variance rate sigma^2 */
  /* W r and b enter the next step's current with this step's r; C x_cur
   * only when the input is delayed (otherwise the next step sees new x) */
  s->proj[0] = (plx_projection){"W", s->W, N, N, N, s->r, s->r, s->xi, s->gW,
                                PLX_PROJ_RECURRENT | PLX_PROJ_DRIVE, s->r_prev,
                                s->sigma * s->sigma};
  s->proj[1] = (plx_projection){"C", s->C, N, ni, N, s->x_cur, s->r, s->xi,
                                s->gC, s->delay ? PLX_PROJ_DRIVE : 0u,
                                s->x_drive, s->sigma * s->sigma};
  s->proj[2] = (plx_projection){"b", s->b, N, 1, N, NULL, s->r, s->xi, s->gb,
                                PLX_PROJ_BIAS | PLX_PROJ_DRIVE, NULL,
                                s->sigma * s->sigma};
  s->proj[3] = (plx_projection){"D", s->D, no, N, no, s->r, s->out_learn,
                                NULL, s->gD, PLX_PROJ_READOUT, NULL, 0.0};
  m->proj = s->proj;
  m->n_proj = 4;
  m->n_hidden = N;
  m->dt = s->dt;
  m->out = s->out;
  m->out_learn = s->out_learn;
  m->hidden = s->r;
  m->input = s->x_cur;
  m->drive = s->h;
  m->drive_ready = 0;
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
  m->drive_ready = 0;
  for (i = 0; i < s->N * batch; i++)
    s->r[i] = s->r_prev[i] = s->r0;
  memcpy(s->x_drive, x0, s->n_in * batch * sizeof *x0);
  memcpy(s->x_held, x0, s->n_in * batch * sizeof *x0);
  memcpy(s->x_cur, x0, s->n_in * batch * sizeof *x0);
  memset(s->xi, 0, s->N * batch * sizeof *s->xi);
  /* readouts of the initial state */
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)s->n_out,
              (int)batch, (int)s->N, 1.0, s->D, (int)s->n_out, s->r, (int)s->N,
              0.0, s->out, (int)s->n_out);
  memcpy(s->out_learn, s->out, s->n_out * batch * sizeof *s->out);
  if (s->win) {
    s->n_rec = 0;
    memcpy(s->hist_r, s->r, s->N * batch * sizeof *s->r);
  }
  return PLX_OK;
}

static int rl_step(plx_model *m, const double *x, plx_rng *const *rngs,
                   plx_error *err)
{
  rl_state *s = m->state;
  const size_t N = s->N, B = m->batch, ni = s->n_in, no = s->n_out;
  const double dt = s->dt, sd = s->sigma * sqrt(s->dt);
  const double *xs = s->delay ? s->x_held : x;
  int clip; /* PLX_CLIP_* flags of this step's clip */
  size_t i, bcol;

  /* the state and input this step integrates (node perturbation's score) */
  memcpy(s->r_prev, s->r, N * B * sizeof *s->r);
  memcpy(s->x_drive, xs, ni * B * sizeof *xs);
  /* h = W r + C x_s + b, unless the rule's update already summed the
   * terms flagged PLX_PROJ_DRIVE (b + W r, and C x_s with a delay) */
  if (m->drive_ready) {
    m->drive_ready = 0;
    if (!s->delay)
      plx_k_gemv_add(N, ni, s->C, N, xs, s->h);
  } else if (B == 1) {
    /* one column: a plain loop (no packing of W) beats a BLAS call */
    memcpy(s->h, s->b, N * sizeof *s->h);
    plx_k_gemv_add(N, N, s->W, N, s->r, s->h);
    plx_k_gemv_add(N, ni, s->C, N, xs, s->h);
  } else {
    for (bcol = 0; bcol < B; bcol++)
      memcpy(s->h + bcol * N, s->b, N * sizeof *s->h);
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
  if (s->nl == PLX_UNIT_SOFTPLUS) {
    plx_k_softplus_euler(N * B, s->gain, dt, s->h, s->xi, s->r);
  } else {
    for (i = 0; i < N * B; i++) {
      double ri = s->r[i];
      s->r[i] = ri + dt * (-plx_unit_finv(s->nl, s->gain, ri) + s->h[i]) + s->xi[i];
    }
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
  /* clip (recording the backward pass's mask first), then the readout
   * the learning signal uses */
  if (s->win && s->n_rec < s->win) {
    unsigned char *mk = s->hist_m + s->n_rec * N * B;
    for (i = 0; i < N * B; i++)
      mk[i] = s->r[i] > s->clip_lo && s->r[i] < s->clip_hi;
  }
  clip = plx_k_clip(N * B, s->clip_lo, s->clip_hi, s->r);
  if (s->win && s->n_rec < s->win) {
    memcpy(s->hist_x + s->n_rec * ni * B, xs, ni * B * sizeof *xs);
    memcpy(s->hist_r + (s->n_rec + 1) * N * B, s->r, N * B * sizeof *s->r);
    s->n_rec++;
  }
  if (clip & PLX_CLIP_NONFINITE)
    return plx_error_set(err, PLX_EDIVERGE,
                         "recurrent_langevin: rates became non-finite "
                         "(reduce model.dt or model.sigma, the initial weights, or the rule's learning rates)");
  if (!(clip & PLX_CLIP_CLIPPED)) {
    /* nothing was clipped: the learning readout is the recorded one */
    memcpy(s->out_learn, s->out, no * B * sizeof *s->out);
  } else if (B == 1 && no <= 4) {
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
    e += (exact ? plx_unit_finv_integral(s->nl, s->gain, r[i]) : 0.5 * r[i] * r[i]) -
         s->b[i] * r[i] - r[i] * cs;
  }
  return e;
}

/* ------------------------------------------------------------ gradients */

static int rl_record(plx_model *m, size_t window)
{
  rl_state *s = m->state;
  const size_t N = s->N, B = s->B, ni = s->n_in;
  if (window > s->cap) {
    double *hr = realloc(s->hist_r, (window + 1) * N * B * sizeof *hr);
    double *hx;
    unsigned char *hm;
    if (!hr)
      return PLX_ENOMEM;
    s->hist_r = hr;
    hx = realloc(s->hist_x, window * ni * B * sizeof *hx);
    if (!hx)
      return PLX_ENOMEM;
    s->hist_x = hx;
    hm = realloc(s->hist_m, window * N * B);
    if (!hm)
      return PLX_ENOMEM;
    s->hist_m = hm;
    s->cap = window;
  }
  s->win = window;
  s->n_rec = 0;
  if (window)
    memcpy(s->hist_r, s->r, N * m->batch * sizeof *s->r);
  return PLX_OK;
}

static void zero_grads(rl_state *s)
{
  memset(s->gW, 0, s->N * s->N * sizeof(double));
  memset(s->gC, 0, s->N * s->n_in * sizeof(double));
  memset(s->gb, 0, s->N * sizeof(double));
  memset(s->gD, 0, s->n_out * s->N * sizeof(double));
}

/* Truncated backpropagation through the recorded Euler--Maruyama steps:
 *   rho_k = r_{k-1} + dt(-g(r_{k-1}) + W r_{k-1} + C x_k + b) + xi_k,
 *   r_k = clip(rho_k),  z_k = D r_k,
 *   lambda_k = dL/drho_k = m_k .* (D^T e_k + [I - dt g'(r_k) + dt W]^T lambda_{k+1}). */
static int rl_backward(plx_model *m, const double *dl_dz, size_t steps,
                       plx_error *err)
{
  rl_state *s = m->state;
  const size_t N = s->N, B = m->batch, ni = s->n_in, no = s->n_out;
  const double dt = s->dt;
  size_t k, i, b;
  if (!s->win || steps > s->n_rec)
    return plx_error_set(err, PLX_EINVAL,
                         "recurrent_langevin: backward over %zu steps, %zu recorded",
                         steps, s->n_rec);
  zero_grads(s);
  memset(s->lam_next, 0, N * B * sizeof(double));
  for (k = steps; k-- > 0;) {
    const double *rk = s->hist_r + (k + 1) * N * B, *rp = s->hist_r + k * N * B;
    const double *xk = s->hist_x + k * ni * B, *ek = dl_dz + k * no * B;
    const unsigned char *mk = s->hist_m + k * N * B;
    /* acc = D^T e_k */
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)N, (int)B, (int)no,
                1.0, s->D, (int)no, ek, (int)no, 0.0, s->acc, (int)N);
    /* gD += e_k r_k^T */
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)no, (int)N, (int)B,
                1.0, ek, (int)no, rk, (int)N, 1.0, s->gD, (int)no);
    if (k + 1 < steps) {
      /* acc += lambda_{k+1} - dt g'(r_k) lambda_{k+1} + dt W^T lambda_{k+1} */
      cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)N, (int)B, (int)N,
                  dt, s->W, (int)N, s->lam_next, (int)N, 1.0, s->acc, (int)N);
      for (i = 0; i < N * B; i++)
        s->acc[i] += s->lam_next[i] *
                     (1.0 - dt * plx_unit_dfinv(s->nl, s->gain, rk[i]));
    }
    for (i = 0; i < N * B; i++)
      s->lam[i] = mk[i] ? s->acc[i] : 0.0;
    /* gW += dt lambda_k r_{k-1}^T; gC += dt lambda_k x_k^T; gb += dt sum lambda_k */
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)N, (int)N, (int)B,
                dt, s->lam, (int)N, rp, (int)N, 1.0, s->gW, (int)N);
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)N, (int)ni, (int)B,
                dt, s->lam, (int)N, xk, (int)ni, 1.0, s->gC, (int)N);
    for (b = 0; b < B; b++)
      for (i = 0; i < N; i++)
        s->gb[i] += dt * s->lam[i + b * N];
    memcpy(s->lam_next, s->lam, N * B * sizeof(double));
  }
  /* restart recording from the current state */
  s->n_rec = 0;
  memcpy(s->hist_r, s->r, N * B * sizeof *s->r);
  return PLX_OK;
}

/* Noise-free fixed point of g(r) = W r + h0 inside the clip box: relax by
 * Euler steps, then Newton with J = diag(g'(r)) - W on the free units.
 * r holds the start and receives r*; active[i] = 0 for units at a bound. */
static int fixed_point(rl_state *s, const double *h0, double *r,
                       unsigned char *active)
{
  const size_t N = s->N;
  double *F = s->rs, *J = s->J;
  size_t i, j, it;
  for (it = 0; it < 2000; it++) { /* relaxation: 20 time units at dt */
    double dmax = 0;
    for (i = 0; i < N; i++) {
      double u = h0[i], d, rn;
      for (j = 0; j < N; j++)
        u += s->W[i + j * N] * r[j];
      d = s->dt * (u - plx_unit_finv(s->nl, s->gain, r[i]));
      rn = r[i] + d;
      rn = rn < s->clip_lo ? s->clip_lo : (rn > s->clip_hi ? s->clip_hi : rn);
      if (fabs(rn - r[i]) > dmax)
        dmax = fabs(rn - r[i]);
      s->ytmp[i] = rn;
    }
    memcpy(r, s->ytmp, N * sizeof *r);
    if (dmax < 1e-9)
      break;
  }
  for (it = 0; it < 100; it++) { /* Newton polish */
    double fmax = 0;
    for (i = 0; i < N; i++) {
      double u = h0[i];
      for (j = 0; j < N; j++)
        u += s->W[i + j * N] * r[j];
      F[i] = plx_unit_finv(s->nl, s->gain, r[i]) - u;
      /* a unit pinned at a bound by a force pushing outward stays there */
      active[i] = !((r[i] <= s->clip_lo && F[i] > 0) || (r[i] >= s->clip_hi && F[i] < 0));
      if (!active[i])
        F[i] = 0;
      if (fabs(F[i]) > fmax)
        fmax = fabs(F[i]);
    }
    if (fmax < 1e-12)
      return PLX_OK;
    for (j = 0; j < N; j++)
      for (i = 0; i < N; i++)
        J[i + j * N] = (active[i] && active[j]) ? -s->W[i + j * N] : 0.0;
    for (i = 0; i < N; i++)
      J[i + i * N] = active[i] ? J[i + i * N] + plx_unit_dfinv(s->nl, s->gain, r[i]) : 1.0;
    if (LAPACKE_dgesv(LAPACK_COL_MAJOR, (lapack_int)N, 1, J, (lapack_int)N,
                      s->ipiv, F, (lapack_int)N) != 0)
      return PLX_EDIVERGE;
    for (i = 0; i < N; i++) {
      double rn = r[i] - (active[i] ? F[i] : 0.0);
      /* stay inside the box (and off the rectifier's singularity) */
      if (rn <= s->clip_lo) rn = s->clip_lo;
      if (rn >= s->clip_hi) rn = s->clip_hi;
      r[i] = rn;
    }
  }
  return PLX_EDIVERGE;
}

static int rl_steady_grad(plx_model *m, const double *x,
                          void (*dl)(void *ctx, size_t col, const double *z, double *g),
                          void *ctx, plx_error *err)
{
  rl_state *s = m->state;
  const size_t N = s->N, ni = s->n_in, no = s->n_out, B = m->batch;
  double *r = s->lam, *h0 = s->lam_next, *y = s->acc, z[8], e[8];
  unsigned char active[4096];
  size_t b, i, j;
  if (N > sizeof active || no > 8)
    return plx_error_set(err, PLX_EUNSUPPORTED,
                         "recurrent_langevin: steady-state gradients need n <= 4096");
  zero_grads(s);
  for (b = 0; b < B; b++) {
    const double *xb = x + b * ni;
    for (i = 0; i < N; i++) {
      double u = s->b[i];
      for (j = 0; j < ni; j++)
        u += s->C[i + j * N] * xb[j];
      h0[i] = u;
      r[i] = s->r[i + b * N];
    }
    if (fixed_point(s, h0, r, active) != PLX_OK)
      return plx_error_set(err, PLX_EDIVERGE,
                           "recurrent_langevin: no noise-free fixed point found "
                           "for the steady-state gradient");
    for (i = 0; i < no; i++) {
      double a = 0;
      for (j = 0; j < N; j++)
        a += s->D[i + j * no] * r[j];
      z[i] = a;
    }
    dl(ctx, b, z, e);
    /* y = J^-T D^T e on the free units */
    for (i = 0; i < N; i++) {
      double a = 0;
      for (j = 0; j < no; j++)
        a += s->D[j + i * no] * e[j];
      y[i] = active[i] ? a : 0.0;
    }
    for (j = 0; j < N; j++)
      for (i = 0; i < N; i++) /* J^T */
        s->J[i + j * N] = (active[i] && active[j]) ? -s->W[j + i * N] : 0.0;
    for (i = 0; i < N; i++)
      s->J[i + i * N] = active[i] ? s->J[i + i * N] + plx_unit_dfinv(s->nl, s->gain, r[i]) : 1.0;
    if (LAPACKE_dgesv(LAPACK_COL_MAJOR, (lapack_int)N, 1, s->J, (lapack_int)N,
                      s->ipiv, y, (lapack_int)N) != 0)
      return plx_error_set(err, PLX_EDIVERGE,
                           "recurrent_langevin: singular Jacobian at the fixed point");
    for (j = 0; j < N; j++)
      for (i = 0; i < N; i++)
        s->gW[i + j * N] += y[i] * r[j];
    for (j = 0; j < ni; j++)
      for (i = 0; i < N; i++)
        s->gC[i + j * N] += y[i] * xb[j];
    for (i = 0; i < N; i++)
      s->gb[i] += y[i];
    for (j = 0; j < N; j++)
      for (i = 0; i < no; i++)
        s->gD[i + j * no] += e[i] * r[j];
  }
  return PLX_OK;
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
    rl_free,
    rl_record,
    rl_backward,
    rl_steady_grad};
