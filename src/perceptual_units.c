/* perceptual_units.c -- tuning curves of centre units with exact
 * gradients, unit attributes and layer linear Fisher information for the
 * perceptual-learning experiment.  See plastix/perceptual_units.h. */
#include "config.h"
#include "plastix/perceptual_units.h"
#include "plastix/error.h"

#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int plx_tuning_alloc(plx_tuning *t, size_t n_units, size_t n_ori)
{
  memset(t, 0, sizeof *t);
  t->n_units = n_units;
  t->n_ori = n_ori;
  t->mean = calloc(n_units * n_ori + 1, sizeof(double));
  t->var = calloc(n_units * n_ori + 1, sizeof(double));
  t->grad = calloc(n_units * n_ori + 1, sizeof(double));
  if (!t->mean || !t->var || !t->grad) {
    plx_tuning_release(t);
    return PLX_ENOMEM;
  }
  return PLX_OK;
}

void plx_tuning_release(plx_tuning *t)
{
  if (!t)
    return;
  free(t->mean);
  free(t->var);
  free(t->grad);
  t->mean = t->var = t->grad = NULL;
}

double plx_linear_fisher(const double *x, size_t R, size_t n, const double *fprime,
                         double ridge, gsl_matrix *work)
{
  gsl_matrix_view Cv;
  gsl_vector_view fv, yv;
  double tr = 0, dot = 0;
  size_t i, j, r;
  if (n == 0 || R < 2 || work->size1 < n || work->size2 < n + 2)
    return NAN;
  Cv = gsl_matrix_submatrix(work, 0, 0, n, n);
  fv = gsl_matrix_subcolumn(work, n, 0, n);
  yv = gsl_matrix_subcolumn(work, n + 1, 0, n);
  for (i = 0; i < n; i++) {
    double mi = 0;
    for (r = 0; r < R; r++)
      mi += x[r * n + i];
    gsl_vector_set(&yv.vector, i, mi / (double)R); /* the means, for now */
  }
  for (i = 0; i < n; i++) {
    const double mi = gsl_vector_get(&yv.vector, i);
    for (j = 0; j <= i; j++) {
      const double mj = gsl_vector_get(&yv.vector, j);
      double c = 0;
      for (r = 0; r < R; r++)
        c += (x[r * n + i] - mi) * (x[r * n + j] - mj);
      c /= (double)(R - 1);
      gsl_matrix_set(&Cv.matrix, i, j, c);
      gsl_matrix_set(&Cv.matrix, j, i, c);
    }
    tr += gsl_matrix_get(&Cv.matrix, i, i);
    gsl_vector_set(&fv.vector, i, fprime[i]);
  }
  for (i = 0; i < n; i++)
    gsl_matrix_set(&Cv.matrix, i, i,
                   gsl_matrix_get(&Cv.matrix, i, i) + ridge * tr / (double)n);
  if (gsl_linalg_cholesky_decomp1(&Cv.matrix) != 0 ||
      gsl_linalg_cholesky_solve(&Cv.matrix, &fv.vector, &yv.vector) != 0)
    return NAN;
  for (i = 0; i < n; i++)
    dot += fprime[i] * gsl_vector_get(&yv.vector, i);
  return dot / (double)n;
}

int plx_tuning_measure(plx_deepnet *net, const plx_tuning_probe *p,
                       const plx_gabor_stim *s, plx_rng *rng, float *x, float *dx,
                       plx_tuning *out, double *fi, plx_error *err)
{
  const size_t S = s->size * s->size, R = p->repeats, B = net->max_batch;
  const double deg = M_PI / 180.0;
  size_t maxu = 1, l, k, r, u, tot_u = 0;
  double *resp = NULL, *tang = NULL;
  double *sub = NULL, *gk = NULL;
  gsl_matrix *C = NULL;
  size_t *keep = NULL;
  int rc = PLX_OK;
  if (R < 2)
    return plx_error_set(err, PLX_EINVAL, "tuning curves need at least 2 repeats");
  for (l = 0; l < p->n_layers; l++) {
    const plx_layer *ly = &net->layers[p->layers[l]];
    if (ly->out_c > maxu)
      maxu = ly->out_c;
    tot_u += ly->out_c;
  }
  /* responses and tangents of every probed unit, repeat-major */
  resp = malloc(R * tot_u * sizeof *resp);
  tang = malloc(R * tot_u * sizeof *tang);
  keep = malloc(maxu * sizeof *keep);
  sub = malloc(R * maxu * sizeof *sub);
  gk = malloc(maxu * sizeof *gk);
  C = gsl_matrix_alloc(maxu, maxu + 2);
  if (!resp || !tang || !keep || !sub || !gk || !C) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory (tuning curves)");
    goto done;
  }
  for (k = 0; k < p->n_ori; k++) {
    const double th = (double)k * M_PI / (double)p->n_ori;
    plx_rng_reseed(rng, p->seed, p->trial, PLX_POP_SUB(PLX_POP_TEST_STIMULUS, k + 1));
    for (r = 0; r < R; r += B) {
      const size_t nb = R - r < B ? R - r : B;
      size_t b, off = 0;
      for (b = 0; b < nb; b++)
        plx_gabor_render(s, th, plx_gabor_phase(s, rng), rng, x + b * S, dx + b * S);
      if ((rc = plx_deepnet_forward(net, x, nb)) || (rc = plx_deepnet_jvp(net, dx))) {
        plx_error_set(err, rc, "tuning curves: network pass failed");
        goto done;
      }
      for (l = 0; l < p->n_layers; l++) {
        const plx_layer *ly = &net->layers[p->layers[l]];
        const size_t c0 = plx_layer_centre(ly), P = ly->out_h * ly->out_w;
        for (b = 0; b < nb; b++)
          for (u = 0; u < ly->out_c; u++) {
            const size_t q = b * ly->out_size + u * P + c0;
            resp[(r + b) * tot_u + off + u] = (double)ly->out[q];
            tang[(r + b) * tot_u + off + u] = (double)ly->tan[q];
          }
        off += ly->out_c;
      }
    }
    /* moments per layer */
    {
      size_t off = 0;
      for (l = 0; l < p->n_layers; l++) {
        const size_t n = out[l].n_units;
        size_t m = 0;
        for (u = 0; u < n; u++) {
          double s1 = 0, s2 = 0, g = 0, mu;
          for (r = 0; r < R; r++) {
            s1 += resp[r * tot_u + off + u];
            g += tang[r * tot_u + off + u];
          }
          mu = s1 / (double)R;
          for (r = 0; r < R; r++) {
            double d = resp[r * tot_u + off + u] - mu;
            s2 += d * d;
          }
          out[l].mean[u * p->n_ori + k] = mu;
          out[l].var[u * p->n_ori + k] = s2 / (double)(R - 1);
          out[l].grad[u * p->n_ori + k] = g / (double)R * deg;
          if (mu >= p->min_activation && s2 > 0)
            keep[m++] = u;
        }
        if (fi) {
          size_t i;
          for (r = 0; r < R; r++)
            for (i = 0; i < m; i++)
              sub[r * m + i] = resp[r * tot_u + off + keep[i]];
          for (i = 0; i < m; i++)
            gk[i] = out[l].grad[keep[i] * p->n_ori + k];
          fi[l * p->n_ori + k] = m ? plx_linear_fisher(sub, R, m, gk, p->ridge, C) : 0.0;
        }
        off += out[l].n_units;
      }
    }
  }
done:
  free(resp);
  free(tang);
  free(keep);
  free(sub);
  free(gk);
  if (C)
    gsl_matrix_free(C);
  return rc;
}

void plx_circular_smooth(const double *in, size_t n, double sd_deg, double *out)
{
  const double dth = 180.0 / (double)n;
  long half, j;
  size_t i;
  double norm = 0;
  if (sd_deg <= 0) {
    memcpy(out, in, n * sizeof *out);
    return;
  }
  half = (long)ceil(4.0 * sd_deg / dth);
  if (half > (long)n / 2)
    half = (long)n / 2;
  for (j = -half; j <= half; j++)
    norm += exp(-0.5 * pow((double)j * dth / sd_deg, 2));
  for (i = 0; i < n; i++) {
    double acc = 0;
    for (j = -half; j <= half; j++) {
      long q = ((long)i + j) % (long)n;
      if (q < 0)
        q += (long)n;
      acc += exp(-0.5 * pow((double)j * dth / sd_deg, 2)) * in[q];
    }
    out[i] = acc / norm;
  }
}

double plx_circular_interp(const double *f, size_t n, double theta_deg)
{
  double pos = fmod(theta_deg, 180.0) / (180.0 / (double)n), w;
  size_t i0, i1;
  if (pos < 0)
    pos += (double)n;
  i0 = (size_t)floor(pos);
  w = pos - (double)i0;
  i0 %= n;
  i1 = (i0 + 1) % n;
  return (1.0 - w) * f[i0] + w * f[i1];
}

/* f at m samples from k, upward (side > 0) or downward, around the period */
static double circular_step(const double *f, size_t n, size_t k, int side, size_t m)
{
  m %= n;
  return f[side > 0 ? (k + m) % n : (k + n - m) % n];
}

double plx_tuning_half_width(const double *f, size_t n)
{
  double mx = f[0], mn = f[0], half, w = 0;
  size_t k, kmax = 0;
  int side;
  for (k = 1; k < n; k++) {
    if (f[k] > mx) {
      mx = f[k];
      kmax = k;
    }
    if (f[k] < mn)
      mn = f[k];
  }
  if (!(mx > mn))
    return NAN;
  half = mn + 0.5 * (mx - mn);
  for (side = -1; side <= 1; side += 2) {
    /* f stays above half for the j steps walked so far; the smallest
     * sample, at most half, ends the walk within n steps */
    size_t j = 0;
    double a, b;
    while (circular_step(f, n, kmax, side, j + 1) > half)
      j++;
    a = circular_step(f, n, kmax, side, j);
    b = circular_step(f, n, kmax, side, j + 1);
    w += (double)j + (a - half) / (a - b);
  }
  return 0.5 * w * 180.0 / (double)n;
}

void plx_unit_attributes(const plx_tuning *t, size_t unit, double trained_deg,
                         double smooth_deg, double min_activation, plx_unit_attr *a)
{
  const size_t n = t->n_ori;
  const double *m0 = t->mean + unit * n, *v0 = t->var + unit * n, *g0 = t->grad + unit * n;
  double *m = malloc(3 * n * sizeof *m), *v, *g;
  double mx = -INFINITY, mn = INFINITY, sum = 0, sc = 0, ss = 0, best = INFINITY, gt, vt;
  size_t k, kmax = 0;
  memset(a, 0, sizeof *a);
  if (!m)
    return;
  v = m + n;
  g = m + 2 * n;
  plx_circular_smooth(m0, n, smooth_deg, m);
  plx_circular_smooth(v0, n, smooth_deg, v);
  plx_circular_smooth(g0, n, smooth_deg, g);
  for (k = 0; k < n; k++) {
    double th = (double)k * M_PI / (double)n;
    if (m[k] > mx) {
      mx = m[k];
      kmax = k;
    }
    if (m[k] < mn)
      mn = m[k];
    sum += m[k];
    sc += m[k] * cos(2 * th);
    ss += m[k] * sin(2 * th);
    if (g[k] != 0 && v[k] / (g[k] * g[k]) < best)
      best = v[k] / (g[k] * g[k]);
  }
  a->mean_act = sum / (double)n;
  a->included = a->mean_act >= min_activation && mx > 0;
  a->pref_deg = (double)kmax * 180.0 / (double)n;
  a->pref_rel = fmod(a->pref_deg - trained_deg + 270.0, 180.0) - 90.0;
  if (a->pref_rel < -90.0)
    a->pref_rel += 180.0;
  a->amplitude = mx - mn;
  a->si = sum > 0 ? sqrt(sc * sc + ss * ss) / sum : 0.0;
  a->half_width = plx_tuning_half_width(m, n);
  gt = plx_circular_interp(g, n, trained_deg);
  vt = plx_circular_interp(v, n, trained_deg);
  a->slope = mx > 0 ? fabs(gt) / mx : 0.0;
  a->fano = m[kmax] > 0 ? v[kmax] / m[kmax] : NAN;
  a->best_disc = isfinite(best) ? best : NAN;
  a->fi = vt > 0 ? gt * gt / vt : NAN;
  free(m);
}

double plx_slope_overlap(const plx_tuning *t, double lag_deg)
{
  const size_t n = t->n_ori;
  double num = 0, den = 0;
  size_t u, k;
  for (u = 0; u < t->n_units; u++) {
    const double *g = t->grad + u * n;
    for (k = 0; k < n; k++) {
      double th = (double)k * 180.0 / (double)n;
      num += g[k] * plx_circular_interp(g, n, th + lag_deg);
      den += g[k] * g[k];
    }
  }
  return den > 0 ? num / den : NAN;
}
