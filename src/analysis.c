/* analysis.c -- tuning curves, preferred-stimulus densities, population
 * rates, bias/variance, noise volume fractions and d' from the sufficient
 * statistics of the frozen test protocols. */
#include "config.h"
#include "plastix/analysis.h"
#include "plastix/error.h"
#include "plastix/prior.h"

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void plx_tuning(const plx_grid_stats *st, double *mean, double *sd)
{
  const size_t N = st->N, G = st->G;
  size_t i, g;
  for (g = 0; g < G; g++) {
    double c = st->count[g];
    for (i = 0; i < N; i++) {
      double m = c > 0 ? st->sum_r[i + g * N] / c : NAN;
      double ss = st->sum_rr[i + i * N + g * N * N];
      double v = c > 1 ? (ss - c * m * m) / (c - 1) : NAN;
      mean[i + g * N] = m;
      if (sd)
        sd[i + g * N] = c > 1 ? (v > 0 ? sqrt(v) : 0.0) : NAN;
    }
  }
}

void plx_preferred(const plx_grid_stats *st, const double *mean, long *pref)
{
  size_t i, g;
  for (i = 0; i < st->N; i++) {
    long best = -1;
    /* angles never shown (NaN means) cannot be preferred */
    for (g = 0; g < st->G; g++)
      if (!isnan(mean[i + g * st->N]) &&
          (best < 0 || mean[i + g * st->N] > mean[i + (size_t)best * st->N]))
        best = (long)g;
    pref[i] = best < 0 ? 0 : best;
  }
}

void plx_kde_circular(const double *x, size_t n, double h, const double *t,
                      size_t m, double *out)
{
  const double norm = 1.0 / (sqrt(2.0 * M_PI) * h * (double)n);
  size_t i, j;
  int s;
  for (j = 0; j < m; j++) {
    double acc = 0;
    for (i = 0; i < n; i++)
      for (s = -1; s <= 1; s++) {
        double d = (t[j] - x[i] - 2.0 * M_PI * s) / h;
        acc += exp(-0.5 * d * d);
      }
    out[j] = acc * norm;
  }
}

void plx_population_rate(const plx_grid_stats *st, const double *mean,
                         double *rate, double *sem)
{
  const size_t N = st->N;
  size_t i, g;
  for (g = 0; g < st->G; g++) {
    double m = 0, v = 0;
    for (i = 0; i < N; i++)
      m += mean[i + g * N];
    m /= (double)N;
    for (i = 0; i < N; i++)
      v += (mean[i + g * N] - m) * (mean[i + g * N] - m);
    v = N > 1 ? v / (double)(N - 1) : 0;
    rate[g] = m;
    sem[g] = sqrt(v / (double)N);
  }
}

void plx_bias_variance(const plx_grid_stats *st, const plx_task *task,
                       double *bias2, double *var)
{
  const size_t no = st->n_out;
  double y[8];
  size_t g, d;
  for (g = 0; g < st->G; g++) {
    double c = st->count[g], b = 0, v = 0;
    plx_task_target(task, st->theta[g], y);
    for (d = 0; d < no && d < 8; d++) {
      double m = st->sum_o[d + g * no] / c;
      double m2 = st->sum_oo[d + d * no + g * no * no] / c;
      b += (y[d] - m) * (y[d] - m);
      v += c > 1 ? (m2 - m * m) * c / (c - 1) : 0;
    }
    bias2[g] = c > 0 ? b : NAN;
    var[g] = c > 0 ? v : NAN;
  }
}

int plx_noise_volume(const plx_grid_stats *st, const double *D, size_t ld,
                     double *vf, double *det_readout, double *det_pca,
                     plx_error *err)
{
  const size_t N = st->N, k = st->n_out;
  gsl_matrix *S = gsl_matrix_alloc(N, N), *V = gsl_matrix_alloc(N, N);
  gsl_matrix *Q = gsl_matrix_alloc(N, k), *R = gsl_matrix_alloc(k, k);
  gsl_matrix *QtSQ = gsl_matrix_alloc(k, k), *SQ = gsl_matrix_alloc(N, k);
  gsl_vector *ev = gsl_vector_alloc(N), *tau = gsl_vector_alloc(k);
  gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(N);
  gsl_permutation *perm = gsl_permutation_alloc(k);
  size_t g, i, j;
  int rc = PLX_OK;
  plx_gsl_quiet();
  if (k > N)
    return plx_error_set(err, PLX_EINVAL, "noise volume: more readouts than units");
  if (!S || !V || !Q || !R || !QtSQ || !SQ || !ev || !tau || !ws || !perm) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  /* orthonormal basis of D's row space: thin QR of D^T (N × k) */
  {
    gsl_matrix *A = gsl_matrix_alloc(N, k);
    if (!A) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
      goto done;
    }
    for (i = 0; i < N; i++)
      for (j = 0; j < k; j++)
        gsl_matrix_set(A, i, j, D[j + i * ld]);
    gsl_linalg_QR_decomp(A, tau);
    {
      gsl_matrix *Qfull = gsl_matrix_alloc(N, N), *Rf = gsl_matrix_alloc(N, k);
      if (!Qfull || !Rf) {
        gsl_matrix_free(Qfull);
        gsl_matrix_free(Rf);
        gsl_matrix_free(A);
        rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
        goto done;
      }
      gsl_linalg_QR_unpack(A, tau, Qfull, Rf);
      for (i = 0; i < N; i++)
        for (j = 0; j < k; j++)
          gsl_matrix_set(Q, i, j, gsl_matrix_get(Qfull, i, j));
      gsl_matrix_free(Qfull);
      gsl_matrix_free(Rf);
    }
    gsl_matrix_free(A);
  }
  for (g = 0; g < st->G; g++) {
    double c = st->count[g], dpca = 1, dd;
    int sgn;
    if (c < 2) {
      vf[g] = det_readout[g] = det_pca[g] = NAN;
      continue;
    }
    for (j = 0; j < N; j++)
      for (i = 0; i < N; i++) {
        double mi = st->sum_r[i + g * N] / c, mj = st->sum_r[j + g * N] / c;
        gsl_matrix_set(S, i, j,
                       (st->sum_rr[i + j * N + g * N * N] - c * mi * mj) / (c - 1));
      }
    /* Q^T S Q before S is overwritten by the eigensolver */
    for (i = 0; i < N; i++)
      for (j = 0; j < k; j++) {
        double a = 0;
        size_t l;
        for (l = 0; l < N; l++)
          a += gsl_matrix_get(S, i, l) * gsl_matrix_get(Q, l, j);
        gsl_matrix_set(SQ, i, j, a);
      }
    for (i = 0; i < k; i++)
      for (j = 0; j < k; j++) {
        double a = 0;
        size_t l;
        for (l = 0; l < N; l++)
          a += gsl_matrix_get(Q, l, i) * gsl_matrix_get(SQ, l, j);
        gsl_matrix_set(QtSQ, i, j, a);
      }
    gsl_linalg_LU_decomp(QtSQ, perm, &sgn);
    dd = gsl_linalg_LU_det(QtSQ, sgn);
    gsl_eigen_symmv(S, ev, V, ws);
    gsl_eigen_symmv_sort(ev, V, GSL_EIGEN_SORT_VAL_DESC);
    for (i = 0; i < k; i++)
      dpca *= gsl_vector_get(ev, i);
    det_readout[g] = dd;
    det_pca[g] = dpca;
    vf[g] = dd / dpca;
  }
done:
  gsl_matrix_free(S);
  gsl_matrix_free(V);
  gsl_matrix_free(Q);
  gsl_matrix_free(R);
  gsl_matrix_free(QtSQ);
  gsl_matrix_free(SQ);
  gsl_vector_free(ev);
  gsl_vector_free(tau);
  if (ws)
    gsl_eigen_symmv_free(ws);
  gsl_permutation_free(perm);
  return rc;
}

double plx_dprime(double n0, double s0, double ss0, double n1, double s1,
                  double ss1, double *mean_diff, double *pooled_sd)
{
  double m0, m1, v0, v1, sd;
  if (n0 < 2 || n1 < 2) {
    if (mean_diff) *mean_diff = NAN;
    if (pooled_sd) *pooled_sd = NAN;
    return NAN;
  }
  m0 = s0 / n0;
  m1 = s1 / n1;
  v0 = (ss0 - n0 * m0 * m0) / (n0 - 1);
  v1 = (ss1 - n1 * m1 * m1) / (n1 - 1);
  sd = sqrt(0.5 * (v0 + v1));
  if (mean_diff) *mean_diff = fabs(m1 - m0);
  if (pooled_sd) *pooled_sd = sd;
  return fabs(m1 - m0) / sd;
}

size_t plx_grid_nearest(const plx_grid_stats *st, double theta)
{
  size_t g, best = 0;
  double bd = 1e300;
  for (g = 0; g < st->G; g++) {
    double d = fabs(plx_wrap_angle(st->theta[g] - theta));
    if (d < bd) {
      bd = d;
      best = g;
    }
  }
  return best;
}

void plx_mean_sem(const double *sum, const double *sum2, const double *count,
                  size_t n, double *mean, double *sem)
{
  size_t i;
  for (i = 0; i < n; i++) {
    double c = count[i], m = c > 0 ? sum[i] / c : NAN;
    double v = c > 1 ? (sum2[i] - c * m * m) / (c - 1) : NAN;
    mean[i] = m;
    sem[i] = c > 1 && v > 0 ? sqrt(v / c) : (c > 1 ? 0 : NAN);
  }
}

void plx_segments_summary(const plx_grid_stats *st, const plx_task *task,
                          plx_seg_quantity q, double lo, double hi,
                          int abs_theta, double *mean, double *se, size_t *n)
{
  const size_t no = st->n_out;
  double s1 = 0, s2 = 0, y[8];
  size_t k, c = 0, d;
  for (k = 0; k < st->n_seg; k++) {
    double th = st->theta[st->seg_g[k]], v = 0;
    double key = abs_theta ? fabs(th) : th;
    if (key < lo - 1e-12 || key > hi + 1e-12)
      continue;
    switch (q) {
    case PLX_SEG_RATE: v = st->seg_rate[k]; break;
    case PLX_SEG_ENERGY: v = st->seg_energy[k]; break;
    case PLX_SEG_ERROR: v = st->seg_err[k]; break;
    case PLX_SEG_Z: v = st->seg_o[k * no]; break;
    case PLX_SEG_BIAS2:
      plx_task_target(task, th, y);
      for (d = 0; d < no && d < 8; d++)
        v += (y[d] - st->seg_o[d + k * no]) * (y[d] - st->seg_o[d + k * no]);
      break;
    }
    s1 += v;
    s2 += v * v;
    c++;
  }
  *n = c;
  *mean = c ? s1 / (double)c : NAN;
  *se = c > 1 ? sqrt((s2 - s1 * s1 / (double)c) / ((double)c - 1) / (double)c) : NAN;
}

void plx_segments_by_angle(const plx_grid_stats *st, const plx_task *task,
                           plx_seg_quantity q, double *mean, double *se,
                           double *n)
{
  size_t g, c;
  for (g = 0; g < st->G; g++) {
    plx_segments_summary(st, task, q, st->theta[g], st->theta[g], 0, &mean[g],
                         &se[g], &c);
    if (n)
      n[g] = (double)c;
  }
}

int plx_fisher(const plx_grid_stats *st, double *sens, double *fi,
               plx_error *err)
{
  const size_t N = st->N, G = st->G;
  const double step = 2.0 * M_PI / (double)G;
  gsl_matrix *S = gsl_matrix_alloc(N, N);
  gsl_vector *d = gsl_vector_alloc(N), *x = gsl_vector_alloc(N);
  size_t g, i, j;
  int rc = PLX_OK;
  plx_gsl_quiet();
  if (!S || !d || !x) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  for (g = 0; g < G; g++) {
    size_t a = (g + 1) % G, b = (g + G - 1) % G;
    double c = st->count[g], tr = 0, s2 = 0, f = 0;
    if (c < 2 || st->count[a] < 1 || st->count[b] < 1) {
      sens[g] = fi[g] = NAN;
      continue;
    }
    for (i = 0; i < N; i++) {
      double di = (st->sum_r[i + a * N] / st->count[a] -
                   st->sum_r[i + b * N] / st->count[b]) / (2.0 * step);
      gsl_vector_set(d, i, di);
      s2 += di * di;
    }
    for (j = 0; j < N; j++)
      for (i = 0; i < N; i++) {
        double mi = st->sum_r[i + g * N] / c, mj = st->sum_r[j + g * N] / c;
        gsl_matrix_set(S, i, j, (st->sum_rr[i + j * N + g * N * N] - c * mi * mj) / (c - 1));
      }
    for (i = 0; i < N; i++)
      tr += gsl_matrix_get(S, i, i);
    for (i = 0; i < N; i++)
      gsl_matrix_set(S, i, i, gsl_matrix_get(S, i, i) + 1e-6 * tr / (double)N + 1e-12);
    sens[g] = s2;
    if (gsl_linalg_cholesky_decomp1(S) != 0) {
      fi[g] = NAN;
      continue;
    }
    gsl_linalg_cholesky_solve(S, d, x);
    for (i = 0; i < N; i++)
      f += gsl_vector_get(d, i) * gsl_vector_get(x, i);
    fi[g] = f;
  }
done:
  gsl_matrix_free(S);
  gsl_vector_free(d);
  gsl_vector_free(x);
  return rc;
}

void plx_profile_scores(const double *p, const double *q, size_t n,
                        double *corr, double *kl)
{
  /* angles where either profile is undefined (never shown) are left out */
  double mp = 0, mq = 0, sp = 0, sq = 0, spq = 0, zp = 0, zq = 0, k = 0, m = 0;
  size_t i;
  for (i = 0; i < n; i++)
    if (isfinite(p[i]) && isfinite(q[i])) {
      mp += p[i];
      mq += q[i];
      m += 1;
    }
  if (m < 2) {
    *corr = *kl = NAN;
    return;
  }
  zp = mp;
  zq = mq;
  mp /= m;
  mq /= m;
  for (i = 0; i < n; i++)
    if (isfinite(p[i]) && isfinite(q[i])) {
      sp += (p[i] - mp) * (p[i] - mp);
      sq += (q[i] - mq) * (q[i] - mq);
      spq += (p[i] - mp) * (q[i] - mq);
    }
  *corr = (sp > 0 && sq > 0) ? spq / sqrt(sp * sq) : NAN;
  for (i = 0; i < n; i++)
    if (isfinite(p[i]) && isfinite(q[i])) {
      double a = p[i] / zp, b = q[i] / zq;
      if (a > 0)
        k += a * log(a / (b > 1e-300 ? b : 1e-300));
    }
  *kl = (zq > 0) ? k : NAN;
}
