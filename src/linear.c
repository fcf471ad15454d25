/* linear.c -- the linear_deep model: products of square matrices, gradient
 * steps on the mean-squared error through the second-moment matrix (BLAS
 * dgemm), the output-noise term of the reference code's loss sampled
 * exactly in distribution, and the principal-component probes. */
#include "config.h"
#include "plastix/linear.h"
#include "plastix/error.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void plx_linear_free(plx_linear *m)
{
  size_t l;
  if (!m)
    return;
  if (m->pre)
    for (l = 1; l < m->layers; l++) /* pre[0] is w[0] */
      free(m->pre[l]);
  if (m->w)
    for (l = 0; l < m->layers; l++)
      free(m->w[l]);
  if (m->symmetric)
    free(m->prod);
  free(m->pre);
  free(m->w);
  free(m->r);
  free(m->r2);
  free(m->t);
  free(m);
}

plx_linear *plx_linear_new(size_t d, size_t layers, int symmetric)
{
  plx_linear *m;
  size_t l, dd = d * d;
  if (d == 0 || layers == 0)
    return NULL;
  m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  m->d = d;
  m->layers = layers;
  m->symmetric = symmetric != 0;
  m->w = calloc(layers, sizeof *m->w);
  m->pre = calloc(layers, sizeof *m->pre);
  m->r = calloc(dd, sizeof *m->r);
  m->r2 = calloc(dd, sizeof *m->r2);
  m->t = calloc(dd, sizeof *m->t);
  if (!m->w || !m->pre || !m->r || !m->r2 || !m->t)
    goto fail;
  for (l = 0; l < layers; l++)
    if (!(m->w[l] = calloc(dd, sizeof *m->w[l])))
      goto fail;
  m->pre[0] = m->w[0];
  for (l = 1; l < layers; l++)
    if (!(m->pre[l] = calloc(dd, sizeof *m->pre[l])))
      goto fail;
  m->q = m->pre[layers - 1];
  if (m->symmetric) {
    if (!(m->prod = calloc(dd, sizeof *m->prod)))
      goto fail;
  } else {
    m->prod = m->q;
  }
  return m;
fail:
  plx_linear_free(m);
  return NULL;
}

void plx_linear_update(plx_linear *m)
{
  const int n = (int)m->d;
  size_t l, i, j;
  for (l = 1; l < m->layers; l++)
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, m->w[l], n,
                m->pre[l - 1], n, 0.0, m->pre[l], n);
  if (m->symmetric) {
    /* W = Q^T Q, exactly symmetric */
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, n, n, 1.0, m->q, n, 0.0,
                m->prod, n);
    for (j = 0; j < m->d; j++)
      for (i = 0; i < j; i++)
        m->prod[j + i * m->d] = m->prod[i + j * m->d];
  }
}

void plx_linear_init_uniform(plx_linear *m, double scale, plx_rng *rng)
{
  size_t l;
  for (l = 0; l < m->layers; l++)
    plx_rng_uniform_fill(rng, m->w[l], m->d * m->d, -0.5 * scale, 0.5 * scale);
  plx_linear_update(m);
}

void plx_linear_init_aligned(plx_linear *m, const double *U, const double *a)
{
  const size_t d = m->d;
  size_t l, i, k;
  /* t = U diag(a); w = t U^T */
  for (k = 0; k < d; k++)
    for (i = 0; i < d; i++)
      m->t[i + k * d] = U[i + k * d] * a[k];
  for (l = 0; l < m->layers; l++)
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)d, (int)d, (int)d, 1.0,
                m->t, (int)d, U, (int)d, 0.0, m->w[l], (int)d);
  plx_linear_update(m);
}

/* t = W - M (M NULL: identity) */
static void residual_map(plx_linear *m, const double *M)
{
  const size_t dd = m->d * m->d;
  size_t i;
  if (M) {
    for (i = 0; i < dd; i++)
      m->t[i] = m->prod[i] - M[i];
  } else {
    memcpy(m->t, m->prod, dd * sizeof *m->t);
    for (i = 0; i < m->d; i++)
      m->t[i + i * m->d] -= 1.0;
  }
}

static double dot(const double *a, const double *b, size_t n)
{
  double s = 0.0;
  size_t i;
  for (i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

double plx_linear_loss(plx_linear *m, const double *S, const double *M)
{
  const int n = (int)m->d;
  residual_map(m, M);
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, m->t, n, S, n,
              0.0, m->r, n);
  return dot(m->r, m->t, m->d * m->d) / (double)m->d;
}

void plx_linear_step(plx_linear *m, const double *S, const double *M,
                     const double *extra, double eta, double *loss)
{
  const size_t d = m->d, dd = d * d;
  const int n = (int)d;
  double *cur = m->r, *other = m->r2, *sw;
  size_t l, i, j;
  /* G = (2/d) (W - M) S; L = (1/d) <(W - M) S, W - M> = <G, W - M> / 2 */
  residual_map(m, M);
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 2.0 / (double)d, m->t,
              n, S, n, 0.0, cur, n);
  if (loss)
    *loss = 0.5 * dot(cur, m->t, dd);
  if (extra)
    cblas_daxpy((int)dd, 1.0, extra, 1, cur, 1);
  if (m->symmetric) {
    /* dL/dQ = Q (G + G^T) */
    for (j = 0; j < d; j++)
      for (i = 0; i < d; i++)
        m->t[i + j * d] = cur[i + j * d] + cur[j + i * d];
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, m->q, n, m->t,
                n, 0.0, other, n);
    sw = cur, cur = other, other = sw;
  }
  /* cur = dL/d(W_N ... W_l) seen from layer l, from l = N down */
  for (l = m->layers; l >= 2; l--) {
    double *wl = m->w[l - 1];
    /* the next layer down sees W_l^T cur (with W_l before its update) */
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, n, n, n, 1.0, wl, n, cur, n,
                0.0, other, n);
    /* W_l -= eta cur (W_{l-1} ... W_1)^T */
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, n, n, n, -eta, cur, n,
                m->pre[l - 2], n, 1.0, wl, n);
    sw = cur, cur = other, other = sw;
  }
  cblas_daxpy((int)dd, -eta, cur, 1, m->w[0], 1);
  plx_linear_update(m);
}

void plx_linear_noise_grad(size_t d, const double *F, double sd, double B,
                           plx_rng *rng, double *z, double *out)
{
  plx_rng_normal_fill(rng, z, d * d, 1.0);
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)d, (int)d, (int)d,
              2.0 * sd / ((double)d * sqrt(B)), z, (int)d, F, (int)d, 0.0, out, (int)d);
}

int plx_linear_sqrt(const double *S, size_t d, double *F, double *w_work)
{
  size_t i, j;
  for (i = 0; i < d * d; i++)
    if (!isfinite(S[i]))
      return PLX_EINVAL;
  memcpy(F, S, d * d * sizeof *F);
  if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)d, F, (lapack_int)d) == 0) {
    for (j = 1; j < d; j++)
      for (i = 0; i < j; i++)
        F[i + j * d] = 0.0;
    return PLX_OK;
  }
  memcpy(F, S, d * d * sizeof *F);
  if (LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)d, F, (lapack_int)d, w_work))
    return PLX_EINVAL;
  for (j = 0; j < d; j++) {
    double s = w_work[j] > 0 ? sqrt(w_work[j]) : 0.0;
    for (i = 0; i < d; i++)
      F[i + j * d] *= s;
  }
  return PLX_OK;
}

void plx_linear_pc_probe(const plx_linear *m, const double *U, size_t K,
                         double *diag, double *gain, double *work)
{
  const size_t d = m->d;
  size_t k;
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)K, (int)d, 1.0,
              m->prod, (int)d, U, (int)d, 0.0, work, (int)d);
  for (k = 0; k < K; k++) {
    if (diag)
      diag[k] = dot(U + k * d, work + k * d, d);
    if (gain)
      gain[k] = dot(work + k * d, work + k * d, d);
  }
}
