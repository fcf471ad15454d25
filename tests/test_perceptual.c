/* test_perceptual.c -- the perceptual-learning path (Wenliang & Seitz
 * 2018).  Exact checks where the maths gives one: the gradient of the
 * two-interval logistic loss through both weight-sharing streams against
 * central finite differences, the layer-change measures of a known weight
 * change, the linear Fisher information of a population whose sample
 * covariance is known exactly, the selectivity index, amplitude, slope and
 * Fano factor of known tuning curves, the peak-speed iteration of a known
 * trajectory (the statistical tests themselves: tests/test_stats.c).
 * Then bad configs (one line naming file, line and key; no run
 * directory), results that do not depend on the thread count with the
 * unit tables recomputed from units.csv, plastix report of that run
 * (the same tables again; another unit threshold), node perturbation
 * lowering the loss, and -- unless PLX_SKIP_SLOW is set -- the reduced
 * experiment configs/wenliang2018_reduced.cfg with the paper's effects
 * asserted as one-sided t-tests over the matched reference orientations:
 * z = mean / sem must exceed the 99% quantile of Student's t with n - 1
 * degrees of freedom.  Effects that do not reproduce at this scale are
 * printed, not asserted (doc/perceptual-learning.md says which). */
#include "config.h"
#include "plastix/anova.h"
#include "plastix/deepnet.h"
#include "plastix/deepnet_train.h"
#include "plastix/error.h"
#include "plastix/h5io.h"
#include "plastix/kstest.h"
#include "plastix/perceptual.h"
#include "plastix/perceptual_results.h"
#include "plastix/perceptual_stimulus.h"
#include "plastix/perceptual_units.h"
#include "plastix/ranktest.h"

#include "test_files.h"

#include <check.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const plx_param_spec spec[] = {PLX_P_LIST("layers", plx_layer_spec, "layers"),
                                      PLX_P_END};

/* two conv stages with ReLU, LRN and pooling, a readout of one unit */
static const char *net_text =
    "layers = (\n"
    " { type = \"conv\"; name = \"c1\"; out = 4; kernel = 3; stride = 2; pad = 1; },\n"
    " { type = \"relu\"; },\n"
    " { type = \"lrn\"; size = 3; alpha = 0.5; beta = 0.75; k = 1.0; },\n"
    " { type = \"maxpool\"; kernel = 3; stride = 2; },\n"
    " { type = \"conv\"; name = \"c2\"; out = 4; kernel = 3; pad = 1; groups = 2; },\n"
    " { type = \"relu\"; },\n"
    " { type = \"fc\"; name = \"readout\"; out = 1; } );\n";

#define SZ 15
#define NP 4 /* pairs */

static plx_deepnet *make_net(plx_config **cfg, size_t max_batch)
{
  const plx_params *root;
  plx_deepnet *net;
  plx_error err;
  plx_rng *r = plx_rng_alloc(11, 0, PLX_POP_INIT);
  ck_assert_int_eq(plx_config_load_string(cfg, net_text, "net.cfg", &err), PLX_OK);
  ck_assert_int_eq(plx_config_bind(*cfg, NULL, spec, NULL, &root, &err), PLX_OK);
  if (plx_deepnet_new(&net, plx_params_group(root, "layers"), 1, SZ, SZ, max_batch, &err))
    ck_abort_msg("%s", err.msg);
  plx_deepnet_init(net, 2.45, r);
  plx_rng_free(r);
  return net;
}

static double pair_loss(plx_deepnet *net, const float *x, const unsigned char *lab)
{
  plx_deepnet_forward(net, x, 2 * NP);
  return plx_deepnet_pair_logistic(net, NP, lab, NULL, NULL, NULL);
}

/* ------------------------------------------------------- exact checks */

START_TEST(test_pair_loss_gradient)
{
  plx_config *cfg;
  plx_deepnet *net = make_net(&cfg, 2 * NP);
  plx_gabor_stim st = {SZ, 4.0, 4.0, 0.5, 5.0, 0.3, 0, 127.5, 127.5, 1.0 / 127.5, 1, 0};
  plx_rng *r = plx_rng_alloc(5, 0, PLX_POP_DATA);
  float x[2 * NP * SZ * SZ], dout[2 * NP];
  unsigned char lab[NP];
  double conf[NP], each[NP], L0, worst = 0;
  size_t li, j, b, checked = 0;
  plx_layer *ro = &net->layers[net->n_layers - 1];
  plx_gabor_pairs(&st, 0.4, 5.0 * M_PI / 180.0, NP, r, x, lab);
  /* a nonzero readout, so that every layer has a gradient */
  for (j = 0; j < ro->n_w; j++)
    ro->W[j] = (float)(0.7 * plx_rng_normal(r));
  plx_deepnet_forward(net, x, 2 * NP);
  L0 = plx_deepnet_pair_logistic(net, NP, lab, dout, conf, each);
  /* the loss, confidence and output deltas from their definitions */
  {
    double m = 0;
    for (b = 0; b < NP; b++) {
      double d = (double)ro->out[b] - (double)ro->out[NP + b], p = 1 / (1 + exp(-d));
      double want = lab[b] ? -log(p) : -log(1 - p);
      ck_assert_double_eq_tol(each[b], want, 1e-12);
      ck_assert_double_eq_tol(conf[b], lab[b] ? p : 1 - p, 1e-12);
      ck_assert_double_eq_tol(dout[b], (p - lab[b]) / NP, 1e-7);
      ck_assert_double_eq_tol(dout[NP + b], -(p - lab[b]) / NP, 1e-7);
      m += want / NP;
    }
    ck_assert_double_eq_tol(L0, m, 1e-12);
  }
  plx_deepnet_backward(net, dout);
  /* every weight and bias of every layer against central differences */
  for (li = 0; li < net->n_layers; li++) {
    plx_layer *l = &net->layers[li];
    if (!l->n_w)
      continue;
    for (j = 0; j < l->n_w + l->out_c; j++) {
      float *w = j < l->n_w ? &l->W[j] : &l->b[j - l->n_w];
      double g = j < l->n_w ? l->gW[j] : l->gb[j - l->n_w];
      float w0 = *w;
      double h = 1e-3 * fmax(fabs(w0), 0.1), lp, lm, fd, tol;
      *w = w0 + (float)h;
      lp = pair_loss(net, x, lab);
      *w = w0 - (float)h;
      lm = pair_loss(net, x, lab);
      *w = w0;
      fd = (lp - lm) / (2 * h);
      /* float forward passes: a few epsilons of the loss over the step,
       * plus the curvature term, plus ReLU kinks crossed by the step */
      tol = 20 * 1.2e-7 * fabs(L0) / h + 1e-3 * fabs(g) + 2e-5;
      if (fabs(fd - g) > worst)
        worst = fabs(fd - g);
      ck_assert_msg(fabs(fd - g) <= tol, "%s[%zu]: backprop %g, finite differences %g",
                    l->name, j, g, fd);
      checked++;
    }
  }
  fprintf(stderr, "2AFC loss gradient: %zu parameters, largest |bp - fd| %.2e\n", checked,
          worst);
  /* the zero-initialised readout: every layer below has zero gradient */
  memset(ro->W, 0, ro->n_w * sizeof(float));
  plx_deepnet_forward(net, x, 2 * NP);
  plx_deepnet_pair_logistic(net, NP, lab, dout, conf, NULL);
  for (b = 0; b < NP; b++)
    ck_assert_double_eq_tol(conf[b], 0.5, 1e-7); /* b = 0 too: h_t = h_r */
  plx_deepnet_backward(net, dout);
  for (li = 0; li + 1 < net->n_layers; li++)
    for (j = 0; j < net->layers[li].n_w; j++)
      ck_assert(net->layers[li].gW[j] == 0.0f);
  plx_rng_free(r);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

/* node perturbation's estimate, averaged over K noise draws on one batch,
 * is unbiased for the backpropagation gradient: every component within
 * 4.5 standard errors (its own spread over the draws; Bonferroni over the
 * ~170 components at p < 0.001), and the average points along it */
START_TEST(test_node_perturbation_unbiased)
{
  const size_t K = 20000;
  const double sigma = 1e-3;
  plx_config *cfg;
  plx_deepnet *net = make_net(&cfg, 2 * NP);
  plx_gabor_stim st = {SZ, 4.0, 4.0, 0.5, 5.0, 0.3, 0, 127.5, 127.5, 1.0 / 127.5, 1, 0};
  plx_rng *r = plx_rng_alloc(6, 0, PLX_POP_DATA), *nr = plx_rng_alloc(6, 0, PLX_POP_NETWORK);
  float x[2 * NP * SZ * SZ], dout[2 * NP], *work = malloc(plx_deepnet_np_work(net) * sizeof *work);
  unsigned char lab[NP];
  double clean[NP], noisy[NP], dl[2 * NP];
  size_t li, j, k, b, n_comp = 0;
  double *g[16] = {0}, *s1[16] = {0}, *s2[16] = {0}, worst = 0, dot = 0, nn = 0, ng = 0;
  plx_layer *ro = &net->layers[net->n_layers - 1];
  ck_assert(net->n_layers <= 16 && work);
  plx_gabor_pairs(&st, 0.4, 5.0 * M_PI / 180.0, NP, r, x, lab);
  for (j = 0; j < ro->n_w; j++)
    ro->W[j] = (float)(0.7 * plx_rng_normal(r));
  plx_deepnet_forward(net, x, 2 * NP);
  plx_deepnet_pair_logistic(net, NP, lab, dout, NULL, clean);
  plx_deepnet_backward(net, dout);
  for (li = 0; li < net->n_layers; li++)
    if (net->layers[li].n_w) {
      g[li] = malloc(net->layers[li].n_w * sizeof(double));
      s1[li] = calloc(net->layers[li].n_w, sizeof(double));
      s2[li] = calloc(net->layers[li].n_w, sizeof(double));
      for (j = 0; j < net->layers[li].n_w; j++)
        g[li][j] = net->layers[li].gW[j];
    }
  for (k = 0; k < K; k++) {
    plx_deepnet_forward_noisy(net, x, 2 * NP, sigma, NULL, nr);
    plx_deepnet_pair_logistic(net, NP, lab, NULL, NULL, noisy);
    for (b = 0; b < NP; b++)
      dl[b] = dl[NP + b] = noisy[b] - clean[b];
    plx_deepnet_np_grad(net, dl, 0.0, 1.0 / (sigma * sigma * NP), NULL, work);
    for (li = 0; li < net->n_layers; li++)
      for (j = 0; j < net->layers[li].n_w; j++) {
        double v = net->layers[li].gW[j];
        s1[li][j] += v;
        s2[li][j] += v * v;
      }
  }
  for (li = 0; li < net->n_layers; li++)
    for (j = 0; j < net->layers[li].n_w; j++) {
      double m = s1[li][j] / K, se = sqrt((s2[li][j] / K - m * m) / (K - 1)), z;
      z = se > 0 ? fabs(m - g[li][j]) / se : 0;
      ck_assert_msg(z < 4.5, "%s W[%zu]: node perturbation %g +- %g, backprop %g",
                    net->layers[li].name, j, m, se, g[li][j]);
      if (z > worst)
        worst = z;
      dot += m * g[li][j];
      nn += m * m;
      ng += g[li][j] * g[li][j];
      n_comp++;
    }
  fprintf(stderr, "node perturbation vs backprop: %zu components, largest |z| %.2f, cosine "
          "%.3f\n", n_comp, worst, dot / sqrt(nn * ng));
  ck_assert(dot / sqrt(nn * ng) > 0.5);
  for (li = 0; li < 16; li++) {
    free(g[li]);
    free(s1[li]);
    free(s2[li]);
  }
  free(work);
  plx_rng_free(r);
  plx_rng_free(nr);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

/* the image tangent d img / d theta against central differences, with the
 * affine input map and with per-image normalisation (zero mean, unit
 * variance; its derivative through the mean and the s.d.) */
START_TEST(test_stimulus_tangent)
{
  plx_gabor_stim st = {SZ, 4.0, 4.0, 0.5, 0.0, 0.3, 0, 127.5, 127.5, 1.0 / 127.5, 1, 0};
  float x[SZ * SZ], dx[SZ * SZ], xp[SZ * SZ], xm[SZ * SZ], tmp[SZ * SZ];
  const double th = 0.7, h = 1e-3;
  int norm;
  for (norm = 0; norm < 2; norm++) {
    double worst = 0, scale = 0, m = 0, q = 0;
    size_t i;
    st.normalise = norm;
    plx_gabor_render(&st, th, st.phase, NULL, x, dx);
    plx_gabor_render(&st, th + h, st.phase, NULL, xp, tmp);
    plx_gabor_render(&st, th - h, st.phase, NULL, xm, tmp);
    for (i = 0; i < SZ * SZ; i++) {
      double fd = ((double)xp[i] - (double)xm[i]) / (2 * h);
      worst = fmax(worst, fabs(fd - dx[i]));
      scale = fmax(scale, fabs(dx[i]));
      m += x[i];
      q += (double)x[i] * x[i];
    }
    ck_assert_msg(worst < 1e-3 * scale, "normalise %d: |fd - tangent| %g of %g", norm, worst,
                  scale);
    if (norm) {
      m /= SZ * SZ;
      ck_assert_double_eq_tol(m, 0.0, 1e-6);
      ck_assert_double_eq_tol(q / (SZ * SZ) - m * m, 1.0, 1e-5);
    }
  }
}
END_TEST

START_TEST(test_layer_change_known)
{
  plx_config *cfg;
  plx_deepnet *net = make_net(&cfg, 2);
  plx_deepnet_weights *w0 = plx_deepnet_weights_new(net);
  plx_layer *l = &net->layers[0], *ro = &net->layers[net->n_layers - 1];
  plx_layer_change c;
  double s1 = 0, s2 = 0, a1 = 0, a2 = 0, n = (double)l->n_w;
  size_t j;
  /* change every weight of c1 by a known amount */
  for (j = 0; j < l->n_w; j++) {
    double d = 0.01 * (double)((int)(j % 7) - 3);
    a1 += fabs((double)l->W[j]);
    a2 += (double)l->W[j] * l->W[j];
    l->W[j] = (float)((double)l->W[j] + d);
    d = (double)l->W[j] - (double)w0->W[0][j]; /* as stored in float */
    s1 += fabs(d);
    s2 += d * d;
  }
  plx_deepnet_layer_change(net, w0, 0, &c);
  ck_assert_double_eq_tol(c.rel1, s1 / a1, 1e-12);
  ck_assert_double_eq_tol(c.rel2, sqrt(s2 / a2), 1e-12);
  ck_assert_double_eq_tol(c.m1, s1 / n, 1e-12);
  ck_assert_double_eq_tol(c.m2, sqrt(s2 / n), 1e-12);
  /* untouched layer: zero change */
  plx_deepnet_layer_change(net, w0, 4, &c);
  ck_assert(c.rel1 == 0 && c.rel2 == 0 && c.m1 == 0 && c.m2 == 0);
  /* a readout that starts at zero: divide by N (and sqrt N) instead */
  memset(ro->W, 0, ro->n_w * sizeof(float));
  plx_deepnet_weights_get(w0, net);
  for (j = 0; j < ro->n_w; j++)
    ro->W[j] = (j % 2) ? 0.5f : -0.25f;
  plx_deepnet_layer_change(net, w0, net->n_layers - 1, &c);
  {
    double e1 = 0, e2 = 0, N = (double)ro->n_w;
    for (j = 0; j < ro->n_w; j++) {
      e1 += fabs((double)ro->W[j]);
      e2 += (double)ro->W[j] * ro->W[j];
    }
    ck_assert_double_eq_tol(c.rel1, e1 / N, 1e-12);
    ck_assert_double_eq_tol(c.rel2, sqrt(e2) / sqrt(N), 1e-12);
  }
  plx_deepnet_weights_free(w0);
  plx_deepnet_free(net);
  plx_config_free(cfg);
}
END_TEST

START_TEST(test_linear_fisher_known)
{
  /* z: the 2^3 sign patterns of three units, whose sample covariance
   * (divided by R - 1 = 7) is (8/7) I exactly; x = mu + L z sqrt(7/8) has
   * sample covariance L L^T exactly, so FI = f'^T (L L^T)^-1 f' / n */
  const size_t n = 3, R = 8;
  const double L[3][3] = {{1.0, 0, 0}, {0.5, 2.0, 0}, {-0.3, 0.4, 0.7}};
  const double mu[3] = {3, 1, 2}, fp[3] = {0.2, -1.0, 0.5};
  double x[8 * 3], want, got, y[3], Sig[3][3];
  gsl_matrix *work = gsl_matrix_alloc(n, n + 2);
  size_t r, i, j, k;
  for (r = 0; r < R; r++)
    for (i = 0; i < n; i++) {
      double v = mu[i];
      for (j = 0; j <= i; j++)
        v += L[i][j] * ((r >> j) & 1 ? 1.0 : -1.0) * sqrt(7.0 / 8.0);
      x[r * n + i] = v;
    }
  /* Sigma = L L^T; solve Sigma y = f' by forward and back substitution */
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++) {
      Sig[i][j] = 0;
      for (k = 0; k < n; k++)
        Sig[i][j] += L[i][k] * L[j][k];
    }
  {
    double z[3];
    for (i = 0; i < n; i++) {
      z[i] = fp[i];
      for (j = 0; j < i; j++)
        z[i] -= L[i][j] * z[j];
      z[i] /= L[i][i];
    }
    for (i = n; i-- > 0;) {
      y[i] = z[i];
      for (j = i + 1; j < n; j++)
        y[i] -= L[j][i] * y[j];
      y[i] /= L[i][i];
    }
  }
  want = (fp[0] * y[0] + fp[1] * y[1] + fp[2] * y[2]) / 3.0;
  got = plx_linear_fisher(x, R, n, fp, 0.0, work);
  ck_assert_msg(fabs(got - want) < 1e-12 * want, "FI %.15g, want %.15g", got, want);
  /* ridge: Sigma + ridge tr(Sigma)/n I, one unit: f'^2 / (s2 (1 + ridge)) */
  {
    double x1[8];
    for (r = 0; r < R; r++)
      x1[r] = x[r * n + 1];
    got = plx_linear_fisher(x1, R, 1, fp + 1, 0.5, work);
    ck_assert_double_eq_tol(got, fp[1] * fp[1] / (Sig[1][1] * 1.5), 1e-12);
  }
  /* degenerate: one repeat */
  ck_assert(isnan(plx_linear_fisher(x, 1, n, fp, 0.0, work)));
  gsl_matrix_free(work);
}
END_TEST

START_TEST(test_unit_attributes_known)
{
  /* f = b + a cos(2 (theta - theta0)) on 100 orientations: SI = a / b
   * exactly; peak at theta0; amplitude 2a; half-width 45 degrees; slope
   * at theta_t |f'| / (b + a);
   * variance c f: Fano c; per-unit FI f'^2 / (c f) */
  const size_t n = 100;
  const double a = 0.6, b = 2.0, th0 = 36.0, tt = 54.0, c = 0.8, deg = M_PI / 180;
  plx_tuning t;
  plx_unit_attr at;
  size_t k;
  ck_assert_int_eq(plx_tuning_alloc(&t, 1, n), PLX_OK);
  for (k = 0; k < n; k++) {
    double th = 1.8 * (double)k;
    t.mean[k] = b + a * cos(2 * (th - th0) * deg);
    t.grad[k] = -2 * a * sin(2 * (th - th0) * deg) * deg;
    t.var[k] = c * t.mean[k];
  }
  plx_unit_attributes(&t, 0, tt, 0.0, 0.0, &at);
  ck_assert(at.included);
  ck_assert_double_eq_tol(at.si, a / (2 * b), 1e-12); /* |sum f e^2i| = n a / 2 */
  ck_assert_double_eq_tol(at.pref_deg, th0, 1e-12);
  ck_assert_double_eq_tol(at.pref_rel, th0 - tt, 1e-12);
  ck_assert_double_eq_tol(at.amplitude, 2 * a, 1e-12);
  ck_assert_double_eq_tol(at.mean_act, b, 1e-12);
  ck_assert_double_eq_tol(at.fano, c, 1e-12);
  ck_assert_double_eq_tol(at.half_width, 45.0, 1e-9); /* th0 = 36 is on the grid */
  /* tt = 54 lies on the grid (k = 30): the exact derivative */
  {
    double g = plx_circular_interp(t.grad, n, tt), v = plx_circular_interp(t.var, n, tt);
    ck_assert_double_eq_tol(at.slope, fabs(g) / (b + a), 1e-12);
    ck_assert_double_eq_tol(at.fi, g * g / v, 1e-12);
    ck_assert_double_eq_tol(at.slope, 2 * a * sin(2 * (tt - th0) * deg) * deg / (b + a),
                            1e-12);
  }
  /* smoothing a constant changes nothing; a flat curve has SI 0 */
  for (k = 0; k < n; k++)
    t.mean[k] = 1.5;
  plx_unit_attributes(&t, 0, tt, 3.0, 0.0, &at);
  ck_assert_double_eq_tol(at.si, 0.0, 1e-12);
  ck_assert_double_eq_tol(at.mean_act, 1.5, 1e-12);
  /* a unit below min_activation is left out */
  plx_unit_attributes(&t, 0, tt, 0.0, 2.0, &at);
  ck_assert(!at.included);
  plx_tuning_release(&t);
}
END_TEST

START_TEST(test_slope_overlap_known)
{
  /* units f_i = b + a_i cos(2 n (theta - theta_i)) on 100 orientations,
   * harmonic n: K(lag) / K(0) = cos(2 n lag) whatever the a_i and theta_i
   * (the cross terms cancel over a full period); n = 1: K(45) = 0,
   * K(90) = -1; n = 2: K(45) = -1, K(90) = +1.  A lag between grid points
   * is interpolated: cos 2 theta at 30 degrees gives cos 60 = 0.5 to the
   * interpolation error of a step of 1.8 degrees.  No slope: NaN. */
  const size_t n_ori = 100, n_units = 3;
  const double amp[3] = {0.4, 1.3, 0.7}, th0[3] = {12.0, 77.0, 140.4}, deg = M_PI / 180;
  plx_tuning t;
  int h;
  size_t u, k;
  ck_assert_int_eq(plx_tuning_alloc(&t, n_units, n_ori), PLX_OK);
  for (h = 1; h <= 2; h++) {
    for (u = 0; u < n_units; u++)
      for (k = 0; k < n_ori; k++) {
        double th = 1.8 * (double)k;
        t.mean[u * n_ori + k] = 2.0 + amp[u] * cos(2 * h * (th - th0[u]) * deg);
        t.grad[u * n_ori + k] = -2 * h * amp[u] * sin(2 * h * (th - th0[u]) * deg) * deg;
      }
    ck_assert_double_eq_tol(plx_slope_overlap(&t, 0.0), 1.0, 1e-12);
    ck_assert_double_eq_tol(plx_slope_overlap(&t, 45.0), h == 1 ? 0.0 : -1.0, 1e-12);
    ck_assert_double_eq_tol(plx_slope_overlap(&t, 90.0), h == 1 ? -1.0 : 1.0, 1e-12);
    ck_assert_double_eq_tol(plx_slope_overlap(&t, 180.0), 1.0, 1e-12);
    if (h == 1) /* linear interpolation of a sinusoid of period 180 at mid-step
                   shrinks it by at most 1 - cos(pi / 100) = 4.9e-4 */
      ck_assert_double_eq_tol(plx_slope_overlap(&t, 30.0), 0.5, 5e-4);
  }
  memset(t.grad, 0, n_units * n_ori * sizeof *t.grad);
  ck_assert(isnan(plx_slope_overlap(&t, 45.0)));
  plx_tuning_release(&t);
}
END_TEST

START_TEST(test_half_width_known)
{
  /* cos 2 theta tuning peaked at 36 degrees, on the grid: half height
   * (halfway between +1 and -1) at 45 degrees on each side.  A triangle of
   * half-base 25 degrees over a floor, peaked at 4 degrees on a 2-degree
   * grid, so that its left flank wraps round 0: half height at 12.5
   * degrees, where linear interpolation is exact;
   * with a half-base of 15 on the other side the mean is (12.5 + 7.5) / 2.
   * A flat curve: NaN. */
  const size_t n = 90;
  const double deg = M_PI / 180;
  double f[90];
  size_t k;
  for (k = 0; k < n; k++)
    f[k] = 3.0 + cos(2 * (2.0 * (double)k - 36.0) * deg);
  ck_assert_double_eq_tol(plx_tuning_half_width(f, n), 45.0, 1e-9);
  for (k = 0; k < n; k++) {
    double d = 2.0 * (double)k - 4.0; /* from the peak at 4 degrees, in (-90, 90] */
    if (d > 90.0)
      d -= 180.0;
    f[k] = 0.2 + fmax(0.0, 1.0 - fabs(d) / 25.0);
  }
  ck_assert_double_eq_tol(plx_tuning_half_width(f, n), 12.5, 1e-12);
  for (k = 0; k < n; k++) {
    double d = 2.0 * (double)k - 4.0;
    if (d > 90.0)
      d -= 180.0;
    f[k] = 0.2 + fmax(0.0, 1.0 - fabs(d) / (d < 0 ? 15.0 : 25.0));
  }
  ck_assert_double_eq_tol(plx_tuning_half_width(f, n), 10.0, 1e-12);
  for (k = 0; k < n; k++)
    f[k] = 0.7;
  ck_assert(isnan(plx_tuning_half_width(f, n)));
}
END_TEST

START_TEST(test_peak_speed_known)
{
  /* logistic change curve with midpoint 137.5: the increment d[t] - d[t-1]
   * is largest at t = 138, with or without the symmetric moving average */
  double d[401];
  long t;
  for (t = 0; t <= 400; t++)
    d[t] = 1 / (1 + exp(-((double)t - 137.5) / 15.0));
  ck_assert_int_eq(plx_pl_peak_speed(d, 400, 1), 138);
  ck_assert_int_eq(plx_pl_peak_speed(d, 400, 21), 138);
  /* monotone slowing: the first iteration */
  for (t = 0; t <= 400; t++)
    d[t] = 1 - exp(-(double)t / 50.0);
  ck_assert_int_eq(plx_pl_peak_speed(d, 400, 1), 1);
}
END_TEST

/* ---------------------------------------------------------- bad input */

static void cfg_path(char *buf, size_t n)
{
  snprintf(buf, n, "%s/configs/wenliang2018_reduced.cfg", PLX_SRCDIR);
}

START_TEST(test_bad_configs)
{
  static const struct {
    const char *set, *needle;
  } bad[] = {
      {"train.lrr=0.1", "train.lrr: unknown key"},
      {"train.iterations=\"many\"", "train.iterations"},
      {"model.pretrained=\"/nonexistent/weights.h5\"", "model.pretrained"},
      {"stimulus.separations=[50.0]", "stimulus.separations"},
      {"units.layers=[\"relu9\"]", "units.layers: the network has no layer 'relu9'"},
      {"train.rule=\"trifactor\"", "train.rule"},
      {"freeze.depths=[6.0]", "freeze.depths"},
      {"train.frozen=6", "train.frozen"},
  };
  size_t k;
  char cfg[512], out[600];
  cfg_path(cfg, sizeof cfg);
  for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    plx_perceptual_opts o;
    plx_error err;
    char summary[768], where[600];
    const char *ov[1];
    int rc;
    struct stat st;
    ov[0] = bad[k].set;
    memset(&o, 0, sizeof o);
    o.config = cfg;
    o.overrides = ov;
    o.n_overrides = 1;
    rc = plx_perceptual_check(&o, summary, sizeof summary, &err);
    ck_assert_msg(rc != PLX_OK, "case %zu accepted", k);
    ck_assert_msg(strstr(err.msg, bad[k].needle) != NULL, "case %zu: %s", k, err.msg);
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "case %zu: more than one line", k);
    /* an override names --set, a key from the file file:line */
    snprintf(where, sizeof where, "%s:", cfg);
    ck_assert_msg(strncmp(err.msg, "--set: ", 7) == 0 || strncmp(err.msg, where, strlen(where)) == 0,
                  "case %zu does not say where: %s", k, err.msg);
    ck_assert_int_eq(plx_exit_status(rc), PLX_EXIT_BADINPUT);
    /* a run fails the same way and leaves nothing behind */
    snprintf(out, sizeof out, "%s/test_perceptual_bad", PLX_BUILDDIR);
    o.out = out;
    rc = plx_perceptual_run(&o, &err);
    ck_assert_msg(rc != PLX_OK, "case %zu ran", k);
    ck_assert_msg(stat(out, &st) != 0, "case %zu left %s", k, out);
  }
  /* the same mistakes written in a config file: file:line: key */
  {
    static const struct {
      const char *after, *insert, *needle;
    } inf[] = {
        {"train = { ", "lrr = 0.1; ", "train.lrr: unknown key"},
        {"train = { ", "sigma = \"wide\"; ", "train.sigma"},
        {"type = \"deepnet\";", " pretrained = \"no_such_weights.h5\";", "model.pretrained"},
    };
    FILE *f = fopen(cfg, "r");
    char *text = calloc(1, 1 << 16), bad_cfg[700];
    size_t len;
    ck_assert(f && text);
    len = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    text[len] = 0;
    snprintf(bad_cfg, sizeof bad_cfg, "%s/test_perceptual_bad.cfg", PLX_BUILDDIR);
    for (k = 0; k < sizeof inf / sizeof inf[0]; k++) {
      plx_perceptual_opts o;
      plx_error err;
      char summary[768], where[800];
      const char *at = strstr(text, inf[k].after);
      int line = 1;
      const char *q;
      ck_assert(at != NULL);
      for (q = text; q < at; q++)
        line += *q == '\n';
      at += strlen(inf[k].after);
      f = fopen(bad_cfg, "w");
      ck_assert(f != NULL);
      fwrite(text, 1, (size_t)(at - text), f);
      fputs(inf[k].insert, f);
      fputs(at, f);
      fclose(f);
      memset(&o, 0, sizeof o);
      o.config = bad_cfg;
      ck_assert(plx_perceptual_check(&o, summary, sizeof summary, &err) != PLX_OK);
      snprintf(where, sizeof where, "%s:%d: %s", bad_cfg, line, inf[k].needle);
      ck_assert_msg(strncmp(err.msg, where, strlen(where)) == 0, "got '%s', wanted '%s...'",
                    err.msg, where);
      ck_assert_msg(strchr(err.msg, '\n') == NULL, "more than one line: %s", err.msg);
    }
    remove(bad_cfg);
    free(text);
  }
  /* the reduced config itself is valid */
  {
    plx_perceptual_opts o;
    plx_error err;
    char summary[768];
    memset(&o, 0, sizeof o);
    o.config = cfg;
    ck_assert_msg(plx_perceptual_check(&o, summary, sizeof summary, &err) == PLX_OK, "%s",
                  err.msg);
    ck_assert(strstr(summary, "24 conditions") != NULL);
  }
}
END_TEST

/* -------------------------------------------------- small experiments */

static double *read_all(const char *dir, const char *name, size_t *n)
{
  plx_h5 *h;
  plx_error err;
  char path[700];
  double *v = NULL;
  int rank;
  size_t dims[PLX_H5_MAX_RANK], i;
  snprintf(path, sizeof path, "%s/results.h5", dir);
  ck_assert_int_eq(plx_h5_open(&h, path, 0, &err), PLX_OK);
  if (plx_h5_read_array(h, name, &v, &rank, dims, &err))
    ck_abort_msg("%s", err.msg);
  *n = 1;
  for (i = 0; i < (size_t)rank; i++)
    *n *= dims[i];
  plx_h5_close(h);
  return v;
}

/* Run the test config with overrides into PLX_BUILDDIR/<name> (the full
 * path in out) on `threads` threads; o receives the run's summary. */
static void run_with(const char *const *ov, size_t n_ov, const char *name, int threads,
                     char *out, size_t n_out, plx_perceptual_opts *o)
{
  static char cfg[512];
  plx_error err;
  cfg_path(cfg, sizeof cfg);
  snprintf(out, n_out, "%s/%s", PLX_BUILDDIR, name);
  memset(o, 0, sizeof *o);
  o->config = cfg;
  o->overrides = ov;
  o->n_overrides = n_ov;
  o->out = out;
  o->threads = threads;
  if (plx_perceptual_run(o, &err))
    ck_abort_msg("%s", err.msg);
}

/* tables/units.csv of a run, read once for the checks below: one row per
 * probed unit, condition and state (naive then trained, the same unit) */
enum { UC_MAXC = 64, UC_MAXL = 8, UR_CAP = 4096 };
/* columns after `included`: mean_act 0, pref 1, pref_rel 2, amplitude 3,
 * si 4, half_width 5, slope 6, fano 7, best_disc 8, fi 9 */
enum { UR_PREF_REL = 2, UR_AMPLITUDE = 3, UR_SLOPE = 6, UR_NV = 10 };
typedef struct {
  long cond, unit, included;
  double sep, v[UR_NV];
  size_t layer;
  int trained;
} unit_row;
static unit_row urow[UR_CAP];
static size_t n_urow, n_ulayer;
static char ulayer[UC_MAXL][32];

static size_t layer_index(const char *name)
{
  size_t l;
  for (l = 0; l < n_ulayer && strcmp(ulayer[l], name); l++)
    ;
  ck_assert_msg(l < n_ulayer, "layer %s not in units.csv", name);
  return l;
}

static void read_units(const char *out)
{
  char path[800], line[1024], lay[32], state[16];
  FILE *f;
  n_urow = n_ulayer = 0;
  snprintf(path, sizeof path, "%s/tables/units.csv", out);
  ck_assert_ptr_nonnull(f = fopen(path, "r"));
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  while (fgets(line, sizeof line, f)) {
    unit_row *r = &urow[n_urow];
    double *v = r->v;
    size_t l;
    ck_assert_uint_lt(n_urow, UR_CAP);
    ck_assert_int_eq(sscanf(line, "%ld,%lf,%31[^,],%ld,%15[^,],%ld,%lf,%lf,%lf,%lf,%lf,%lf,%lf,"
                                  "%lf,%lf,%lf",
                            &r->cond, &r->sep, lay, &r->unit, state, &r->included, &v[0], &v[1],
                            &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]),
                     16);
    for (l = 0; l < n_ulayer && strcmp(ulayer[l], lay); l++)
      ;
    if (l == n_ulayer) {
      ck_assert_uint_lt(n_ulayer, UC_MAXL);
      snprintf(ulayer[n_ulayer++], 32, "%s", lay);
    }
    r->layer = l;
    r->trained = !strcmp(state, "trained");
    ck_assert(r->cond >= 0 && r->cond < UC_MAXC);
    n_urow++;
  }
  fclose(f);
}

/* the first non-comment line of tables/NAME.csv (the header) into line;
 * the file stays open at the first data row */
static FILE *open_table(const char *out, const char *name, char *line, size_t n)
{
  char path[800];
  FILE *f;
  snprintf(path, sizeof path, "%s/tables/%s.csv", out, name);
  ck_assert_ptr_nonnull(f = fopen(path, "r"));
  while (fgets(line, (int)n, f) && line[0] == '#')
    ;
  return f;
}

/* tables/NAME.csv of a run directory, effects.csv or effects_over_runs.csv:
 * each row's effect name, n (or runs) and mean; returns the row count */
enum { EFF_MAX = 64 };
static size_t read_effects(const char *dir, const char *table, char names[][64], double *mean,
                           long *n)
{
  char line[512];
  size_t k = 0;
  FILE *f = open_table(dir, table, line, sizeof line);
  while (fgets(line, sizeof line, f)) {
    /* effects.csv: effect,over,n,mean,...; effects_over_runs.csv:
     * effect,runs,mean,... ("over" may be empty) */
    char *c1 = strchr(line, ','), *rest;
    ck_assert_uint_lt(k, EFF_MAX);
    ck_assert_ptr_nonnull(c1);
    snprintf(names[k], 64, "%.*s", (int)(c1 - line), line);
    rest = c1 + 1;
    if (!strcmp(table, "effects")) {
      ck_assert_ptr_nonnull(rest = strchr(rest, ','));
      rest++;
    }
    ck_assert_int_eq(sscanf(rest, "%ld,%lf", &n[k], &mean[k]), 2);
    k++;
  }
  fclose(f);
  return k;
}

/* tables/unit_changes.csv recomputed from tables/units.csv: per condition
 * and layer the mean over units included before and after of each
 * trained - naive change, then per layer and separation the mean over
 * conditions (units.csv carries 10 significant digits); and the high-layer
 * unit effects of tables/effects.csv (the top two probed layers' units
 * pooled per condition, signed as the paper predicts, mean over
 * conditions; the run has one separation, so "fine") */
enum { UCM = 8 };
static void check_unit_changes(const char *out)
{
  static const char *const names[UCM] = {"amplitude", "si",   "half_width_deg",
                                         "slope",     "fano", "best_disc",
                                         "abs_pref_rel_deg", "slope_flank_12_20"};
  static const struct {
    const char *name;
    int measure;
    double sign;
  } eff[] = {{"si_trained_minus_naive_high_fine", 1, 1},
             {"fano_naive_minus_trained_high_fine", 4, -1},
             {"amplitude_trained_minus_naive_high_fine", 0, 1},
             {"slope_trained_minus_naive_high_fine", 3, 1},
             {"pref_pulled_toward_trained_high_fine", 6, -1},
             {"best_disc_naive_minus_trained_high_fine", 5, -1}};
  static double sum[UC_MAXC][UC_MAXL][UCM], cnt[UC_MAXC][UC_MAXL][UCM];
  static double sep_of[UC_MAXC];
  static char en[EFF_MAX][64];
  double em[EFF_MAX];
  long ecnt[EFF_MAX];
  const size_t nl = n_ulayer;
  char line[1024], layer[32], meas[32], lev[8];
  size_t nc = 0, rows = 0, ne, i;
  FILE *f;
  memset(sum, 0, sizeof sum);
  memset(cnt, 0, sizeof cnt);
  ck_assert(n_urow % 2 == 0);
  for (i = 0; i < n_urow; i += 2) {
    const unit_row *n0 = &urow[i], *t1 = &urow[i + 1];
    const size_t c = (size_t)n0->cond, l = n0->layer;
    double d[UCM];
    size_t m;
    /* naive then trained, the same unit */
    ck_assert(n0->cond == t1->cond && n0->unit == t1->unit && n0->layer == t1->layer);
    ck_assert(!n0->trained && t1->trained);
    sep_of[c] = n0->sep;
    if (c + 1 > nc)
      nc = c + 1;
    if (!n0->included || !t1->included)
      continue;
    for (m = 0; m < 6; m++)
      d[m] = t1->v[UR_AMPLITUDE + m] - n0->v[UR_AMPLITUDE + m];
    d[6] = fabs(t1->v[UR_PREF_REL]) - fabs(n0->v[UR_PREF_REL]);
    d[7] = fabs(n0->v[UR_PREF_REL]) >= 12.0 && fabs(n0->v[UR_PREF_REL]) <= 20.0 ? d[3] : NAN;
    for (m = 0; m < UCM; m++)
      if (isfinite(d[m])) {
        sum[c][l][m] += d[m];
        cnt[c][l][m] += 1;
      }
  }
  f = open_table(out, "unit_changes", line, sizeof line);
  ck_assert_str_eq(line, "layer,level,separation_deg,measure,n,mean,sem,z\n");
  while (fgets(line, sizeof line, f)) {
    double sep, mean, sem, z, acc = 0;
    long n;
    size_t l, m, c, k = 0;
    ck_assert_int_eq(sscanf(line, "%31[^,],%7[^,],%lf,%31[^,],%ld,%lf,%lf,%lf", layer, lev, &sep,
                            meas, &n, &mean, &sem, &z),
                     8);
    l = layer_index(layer);
    for (m = 0; m < UCM && strcmp(names[m], meas); m++)
      ;
    ck_assert(m < UCM);
    for (c = 0; c < nc; c++)
      if (sep_of[c] == sep && cnt[c][l][m] > 0) {
        acc += sum[c][l][m] / cnt[c][l][m];
        k++;
      }
    ck_assert_int_eq(n, (long)k);
    if (k)
      ck_assert_msg(fabs(mean - acc / (double)k) <= 1e-7 * (1 + fabs(mean)),
                    "%s %s: %g vs %g", layer, meas, mean, acc / (double)k);
    rows++;
  }
  fclose(f);
  ck_assert_uint_eq(rows, nl * UCM); /* one separation in the run */
  ne = read_effects(out, "effects", en, em, ecnt);
  rows = 0;
  for (i = 0; i < ne; i++) {
    double acc = 0;
    size_t e, c, l, k = 0;
    for (e = 0; e < sizeof eff / sizeof eff[0] && strcmp(eff[e].name, en[i]); e++)
      ;
    if (e == sizeof eff / sizeof eff[0])
      continue;
    for (c = 0; c < nc; c++) {
      double su = 0, cn = 0;
      for (l = nl - 2; l < nl; l++) {
        su += sum[c][l][eff[e].measure];
        cn += cnt[c][l][eff[e].measure];
      }
      if (cn > 0) {
        acc += eff[e].sign * su / cn;
        k++;
      }
    }
    ck_assert_int_eq(ecnt[i], (long)k);
    ck_assert_msg(fabs(em[i] - acc / (double)k) <= 1e-7 * (1 + fabs(em[i])), "%s: %g vs %g",
                  en[i], em[i], acc / (double)k);
    rows++;
  }
  ck_assert_uint_eq(rows, sizeof eff / sizeof eff[0]);
}

static int cmp_double(const void *x, const void *y)
{
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* median of v[0..k) (sorted in place) */
static double median_of(double *v, size_t k)
{
  qsort(v, k, sizeof *v, cmp_double);
  return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}

/* the finite values of column col of the included units of layer l in one
 * state into v (at most UR_CAP); with bin < 6, only the units whose
 * preference lies in [8 bin, 8 bin + 8) degrees of the trained orientation */
static size_t pool_of(size_t l, int trained, size_t col, int abs_value, size_t bin, double *v)
{
  size_t i, k = 0;
  for (i = 0; i < n_urow; i++) {
    const unit_row *r = &urow[i];
    const double d = fabs(r->v[UR_PREF_REL]);
    if (r->layer != l || r->trained != trained || !r->included || !isfinite(r->v[col]))
      continue;
    if (bin < 6 && !(d >= 8.0 * (double)bin && d < 8.0 * (double)(bin + 1)))
      continue;
    v[k++] = abs_value ? fabs(r->v[col]) : r->v[col];
  }
  return k;
}

/* tables/unit_distributions.csv, preference_distributions.csv and
 * slope_by_preference.csv recomputed from tables/units.csv (a run with
 * one separation): per layer and state the included units pooled over
 * conditions, their counts and medians, the Mann-Whitney U and the
 * Kolmogorov-Smirnov D (units.csv carries 10 significant digits, so U
 * within one pair); and one slope_anova.csv row per layer */
enum { UD_M = 6 };
static void check_population_tables(const char *out)
{
  static const char *const names[UD_M] = {"amplitude", "si",   "half_width_deg",
                                          "slope",     "fano", "best_disc"};
  static double pool[2][UR_CAP];
  char line[1024], lay[32], meas[32], lev[8];
  size_t rows = 0;
  FILE *f = open_table(out, "unit_distributions", line, sizeof line);
  ck_assert_str_eq(line, "layer,level,separation_deg,measure,n_naive,n_trained,median_naive,"
                         "median_trained,u,z,p_trained_greater,p_trained_less\n");
  while (fgets(line, sizeof line, f)) {
    double sep, med[2], u, z, pg, pl;
    long n[2];
    size_t l, m, k[2], st;
    plx_rank_test t;
    ck_assert_int_eq(sscanf(line, "%31[^,],%7[^,],%lf,%31[^,],%ld,%ld,%lf,%lf,%lf,%lf,%lf,%lf",
                            lay, lev, &sep, meas, &n[0], &n[1], &med[0], &med[1], &u, &z, &pg,
                            &pl),
                     12);
    l = layer_index(lay);
    for (m = 0; m < UD_M && strcmp(names[m], meas); m++)
      ;
    ck_assert(m < UD_M);
    for (st = 0; st < 2; st++)
      k[st] = pool_of(l, (int)st, UR_AMPLITUDE + m, 0, 6, pool[st]);
    plx_mann_whitney(pool[1], k[1], pool[0], k[0], &t);
    ck_assert_msg(fabs(u - t.u) <= 1.0, "%s %s: U %g vs %g", lay, meas, u, t.u);
    ck_assert(fabs(pg + pl - 1) < 0.5); /* two one-sided tails of one statistic */
    for (st = 0; st < 2; st++) {
      const double want = median_of(pool[st], k[st]);
      ck_assert_int_eq(n[st], (long)k[st]);
      ck_assert_msg(fabs(med[st] - want) <= 1e-7 * (1 + fabs(want)), "%s %s: median %g vs %g",
                    lay, meas, med[st], want);
    }
    rows++;
  }
  fclose(f);
  ck_assert_uint_eq(rows, n_ulayer * UD_M);
  rows = 0;
  f = open_table(out, "preference_distributions", line, sizeof line);
  ck_assert_str_eq(line, "layer,level,separation_deg,n_naive,n_trained,mean_distance_naive,"
                         "mean_distance_trained,ks_d,ks_p,uniform_d_naive,uniform_p_naive,"
                         "uniform_d_trained,uniform_p_trained\n");
  while (fgets(line, sizeof line, f)) {
    double sep, mean[2], d, p, ud[2], up[2];
    long n[2];
    size_t l, k[2], st;
    plx_ks_test t;
    ck_assert_int_eq(sscanf(line, "%31[^,],%7[^,],%lf,%ld,%ld,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf",
                            lay, lev, &sep, &n[0], &n[1], &mean[0], &mean[1], &d, &p, &ud[0],
                            &up[0], &ud[1], &up[1]),
                     13);
    l = layer_index(lay);
    for (st = 0; st < 2; st++) {
      double s = 0;
      size_t i;
      k[st] = pool_of(l, (int)st, UR_PREF_REL, 1, 6, pool[st]);
      ck_assert_int_eq(n[st], (long)k[st]);
      for (i = 0; i < k[st]; i++)
        s += pool[st][i];
      if (k[st])
        ck_assert(fabs(mean[st] - s / (double)k[st]) <= 1e-7 * (1 + fabs(mean[st])));
      plx_ks_uniform(pool[st], k[st], 0.0, 90.0, &t);
      ck_assert_msg(k[st] == 0 || fabs(ud[st] - t.d) <= 1e-7, "%s: uniform D %g vs %g", lay,
                    ud[st], t.d);
      ck_assert(k[st] == 0 || (up[st] >= 0 && up[st] <= 1));
    }
    plx_ks_two_sample(pool[1], k[1], pool[0], k[0], &t);
    ck_assert_msg(!k[0] || !k[1] || fabs(d - t.d) <= 1e-7, "%s: D %g vs %g", lay, d, t.d);
    rows++;
  }
  fclose(f);
  ck_assert_uint_eq(rows, n_ulayer);
  rows = 0;
  f = open_table(out, "slope_by_preference", line, sizeof line);
  ck_assert_str_eq(line, "layer,level,separation_deg,bin_lo_deg,bin_hi_deg,n_naive,n_trained,"
                         "median_naive,median_trained,u,z,p_trained_greater,p_bonferroni\n");
  while (fgets(line, sizeof line, f)) {
    double sep, lo, hi, med[2], u, z, pg, pb;
    long n[2];
    size_t l, k[2], st, bin;
    plx_rank_test t;
    ck_assert_int_eq(sscanf(line, "%31[^,],%7[^,],%lf,%lf,%lf,%ld,%ld,%lf,%lf,%lf,%lf,%lf,%lf",
                            lay, lev, &sep, &lo, &hi, &n[0], &n[1], &med[0], &med[1], &u, &z,
                            &pg, &pb),
                     13);
    l = layer_index(lay);
    ck_assert(hi - lo == 8.0 && fmod(lo, 8.0) == 0 && lo < 48.0);
    bin = (size_t)(lo / 8.0);
    for (st = 0; st < 2; st++) {
      k[st] = pool_of(l, (int)st, UR_SLOPE, 0, bin, pool[st]);
      ck_assert_int_eq(n[st], (long)k[st]);
    }
    plx_mann_whitney(pool[1], k[1], pool[0], k[0], &t);
    if (isfinite(t.u)) {
      ck_assert_msg(fabs(u - t.u) <= 1.0, "%s bin %g: U %g vs %g", lay, lo, u, t.u);
      ck_assert(fabs(pb - fmin(1.0, 6 * pg)) <= 1e-9);
    }
    for (st = 0; st < 2; st++)
      if (k[st])
        ck_assert(fabs(med[st] - median_of(pool[st], k[st])) <= 1e-7 * (1 + fabs(med[st])));
    rows++;
  }
  fclose(f);
  ck_assert_uint_eq(rows, n_ulayer * 6);
  rows = 0;
  f = open_table(out, "slope_anova", line, sizeof line);
  ck_assert_str_eq(line, "layer,level,separation_deg,n,df1,df2,f_interaction,p_interaction\n");
  while (fgets(line, sizeof line, f)) {
    static double y[2 * UR_CAP];
    static size_t fa[2 * UR_CAP], fb[2 * UR_CAP];
    double sep, n, df1, df2, fv, pv;
    size_t l, k = 0, st, bin;
    plx_f_test t;
    ck_assert_int_eq(sscanf(line, "%31[^,],%7[^,],%lf,%lf,%lf,%lf,%lf,%lf", lay, lev, &sep, &n,
                            &df1, &df2, &fv, &pv),
                     8);
    l = layer_index(lay);
    for (st = 0; st < 2; st++)
      for (bin = 0; bin < 6; bin++) {
        size_t i, kb = pool_of(l, (int)st, UR_SLOPE, 0, bin, pool[0]);
        for (i = 0; i < kb; i++, k++) {
          y[k] = pool[0][i];
          fa[k] = st;
          fb[k] = bin;
        }
      }
    ck_assert_int_eq((long)n, (long)k);
    if (plx_anova2_interaction(y, fa, fb, k, 2, 6, &t) == 0) {
      ck_assert(df1 == t.df1 && df2 == t.df2);
      ck_assert_msg(fabs(fv - t.f) <= 1e-6 * (1 + t.f), "%s: F %g vs %g", lay, fv, t.f);
    } else
      ck_assert(isnan(fv) && isnan(pv));
    rows++;
  }
  fclose(f);
  ck_assert_uint_eq(rows, n_ulayer);
}

/* plastix report of two runs (the same design, another seed): each
 * effect's mean over the runs is the mean of the two runs' effects.csv
 * values, counted over the runs where it was measured; several runs need
 * an output directory; runs of another design (`other`, reduced with
 * another threshold) are refused, naming the key, unless --set makes it
 * equal */
static void check_report_runs(const char *a, const char *b, const char *other,
                              const char *other_set)
{
  static char na[EFF_MAX][64], nb[EFF_MAX][64], no[EFF_MAX][64];
  double ma[EFF_MAX], mb[EFF_MAX], mo[EFF_MAX];
  long ca[EFF_MAX], cb[EFF_MAX], co[EFF_MAX];
  const char *runs[2] = {a, b};
  char out[700];
  plx_perceptual_opts o;
  plx_error err;
  size_t k, ka, kb, kk, both = 0;
  struct stat st;
  memset(&o, 0, sizeof o);
  ck_assert_int_eq(plx_perceptual_report_runs(&o, runs, 2, &err), PLX_EINVAL);
  snprintf(out, sizeof out, "%s-over-designs-refused", a);
  o.out = out;
  runs[1] = other;
  ck_assert_int_eq(plx_perceptual_report_runs(&o, runs, 2, &err), PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "units.min_activation") && strchr(err.msg, '\n') == NULL, "%s",
                err.msg);
  ck_assert_int_ne(stat(out, &st), 0);
  snprintf(out, sizeof out, "%s-over-designs", a);
  o.overrides = &other_set;
  o.n_overrides = 1;
  ck_assert_msg(plx_perceptual_report_runs(&o, runs, 2, &err) == 0, "%s", err.msg);
  o.overrides = NULL;
  o.n_overrides = 0;
  runs[1] = b;
  snprintf(out, sizeof out, "%s-over-runs", a);
  ck_assert_msg(plx_perceptual_report_runs(&o, runs, 2, &err) == 0, "%s", err.msg);
  ka = read_effects(a, "effects", na, ma, ca);
  kb = read_effects(b, "effects", nb, mb, cb);
  kk = read_effects(out, "effects_over_runs", no, mo, co);
  ck_assert(ka == kb && ka == kk && ka > 0);
  for (k = 0; k < kk; k++) {
    long runs_with = (ca[k] > 0 && isfinite(ma[k])) + (cb[k] > 0 && isfinite(mb[k]));
    ck_assert_str_eq(no[k], na[k]);
    ck_assert_str_eq(no[k], nb[k]);
    ck_assert_int_eq(co[k], runs_with);
    if (runs_with == 2) {
      ck_assert_msg(fabs(mo[k] - 0.5 * (ma[k] + mb[k])) <= 1e-9 * (1 + fabs(mo[k])),
                    "%s: %g vs %g", no[k], mo[k], 0.5 * (ma[k] + mb[k]));
      both++;
    }
  }
  ck_assert_uint_gt(both, 0);
}

/* plastix report: with no change, every table of the run again byte for
 * byte; with units.min_activation at the median mean activation, units.csv
 * includes exactly the units at or above it and the unit tables are those
 * of the new populations; a key that needs the run again is refused with
 * no output */
static void check_report(const char *run, const char *run_seed2)
{
  static const char *const tables[] = {
      "conditions",  "accuracy",     "accuracy_final", "layer_change",
      "layer_final", "freeze",       "units",          "layer_fisher",
      "unit_changes", "unit_distributions", "preference_distributions",
      "slope_by_preference", "slope_anova", "slope_overlap", "effects"};
  static double acts[UR_CAP];
  char rep[700], a[900], b[900], thr_set[64];
  const char *ov[1];
  plx_perceptual_opts o;
  plx_error err;
  size_t i, n_in = 0;
  double thr;
  struct stat st;
  memset(&o, 0, sizeof o);
  o.config = run;
  ck_assert_msg(plx_perceptual_report(&o, &err) == 0, "%s", err.msg);
  snprintf(rep, sizeof rep, "%s-report", run);
  ck_assert_str_eq(o.out_used, rep);
  for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    snprintf(a, sizeof a, "%s/tables/%s.csv", run, tables[i]);
    snprintf(b, sizeof b, "%s/tables/%s.csv", rep, tables[i]);
    ck_assert_msg(same_bytes(a, b), "report: tables/%s.csv differs from the run's", tables[i]);
  }
  /* the threshold: the median mean activation of the probed units */
  read_units(run);
  for (i = 0; i < n_urow; i++)
    acts[i] = urow[i].v[0];
  thr = median_of(acts, n_urow);
  snprintf(thr_set, sizeof thr_set, "units.min_activation=%.17g", thr);
  ov[0] = thr_set;
  snprintf(rep, sizeof rep, "%s-report-threshold", run);
  o.out = rep;
  o.overrides = ov;
  o.n_overrides = 1;
  ck_assert_msg(plx_perceptual_report(&o, &err) == 0, "%s", err.msg);
  read_units(rep);
  for (i = 0; i < n_urow; i++) {
    if (fabs(urow[i].v[0] - thr) > 1e-9 * (1 + thr))
      ck_assert_int_eq(urow[i].included, urow[i].v[0] >= thr);
    n_in += urow[i].included != 0;
  }
  ck_assert(n_in > 0 && n_in < n_urow);
  check_unit_changes(rep);
  check_population_tables(rep);
  /* one network counted twice is refused: the run given twice, or the run
   * and its own report (the same initial weights and seed) */
  {
    char out[800], again[700];
    const char *runs[2] = {run, again};
    plx_perceptual_opts o2;
    memset(&o2, 0, sizeof o2);
    snprintf(again, sizeof again, "%s/", run);
    snprintf(out, sizeof out, "%s-twice", run);
    o2.out = out;
    ck_assert_int_eq(plx_perceptual_report_runs(&o2, runs, 2, &err), PLX_EINVAL);
    ck_assert_msg(strstr(err.msg, "are the same run directory"), "%s", err.msg);
    runs[1] = rep;
    o2.overrides = ov;
    o2.n_overrides = 1;
    ck_assert_int_eq(plx_perceptual_report_runs(&o2, runs, 2, &err), PLX_EINVAL);
    ck_assert_msg(strstr(err.msg, "train the same network"), "%s", err.msg);
    ck_assert_int_ne(stat(out, &st), 0);
  }
  /* the other seed's run reduced with that threshold: another design */
  memset(&o, 0, sizeof o);
  o.config = run_seed2;
  snprintf(a, sizeof a, "%s-report-threshold", run_seed2);
  o.out = a;
  o.overrides = ov;
  o.n_overrides = 1;
  ck_assert_msg(plx_perceptual_report(&o, &err) == 0, "%s", err.msg);
  check_report_runs(run, run_seed2, a, thr_set);
  /* refused: a key the stored measurements do not cover */
  o.config = run;
  ov[0] = "train.lr=0.5";
  snprintf(rep, sizeof rep, "%s-report-refused", run);
  o.out = rep;
  ck_assert_int_eq(plx_perceptual_report(&o, &err), PLX_EINVAL);
  ck_assert_ptr_nonnull(strstr(err.msg, "train.lr"));
  ck_assert_int_ne(stat(rep, &st), 0);
}

/* two conditions, short, units on a few orientations: every array equal
 * bit for bit on 1 and 2 threads */
START_TEST(test_threads_independent)
{
  static const char *const ov[] = {
      "stimulus.reference_orientations=[0.0, 60.0]", "stimulus.separations=[5.0]",
      "train.iterations=12", "test.pairs=40", "units.orientations=8", "units.repeats=4",
      "output.figures=[]", "freeze.depths=[2.0]"};
  static const char *const arrays[] = {"/perceptual/behaviour/accuracy",
                                       "/perceptual/train/loss", "/perceptual/layers/change",
                                       "/perceptual/units/fisher_trained",
                                       "/perceptual/freeze/accuracy"};
  const char *ov2[sizeof ov / sizeof ov[0] + 1];
  char out[3][600], name[64];
  int th;
  size_t a;
  plx_perceptual_opts o;
  for (th = 0; th < 2; th++) {
    snprintf(name, sizeof name, "test_perceptual_threads%d", th + 1);
    run_with(ov, sizeof ov / sizeof ov[0], name, th + 1, out[th], sizeof out[th], &o);
  }
  /* the same design with another seed, for the report over runs */
  memcpy(ov2, ov, sizeof ov);
  ov2[sizeof ov / sizeof ov[0]] = "experiment.seed=2";
  run_with(ov2, sizeof ov2 / sizeof ov2[0], "test_perceptual_seed2", 1, out[2], sizeof out[2],
           &o);
  for (a = 0; a < sizeof arrays / sizeof arrays[0]; a++) {
    size_t n1, n2;
    double *v1 = read_all(out[0], arrays[a], &n1), *v2 = read_all(out[1], arrays[a], &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_msg(memcmp(v1, v2, n1 * sizeof *v1) == 0, "%s differs between 1 and 2 threads",
                  arrays[a]);
    free(v1);
    free(v2);
  }
  read_units(out[0]);
  check_unit_changes(out[0]);
  check_population_tables(out[0]);
  check_report(out[0], out[2]);
}
END_TEST

/* train.frozen: with every conv layer frozen only the readout changes (the
 * layer change of conv1..conv5 is exactly zero at every iteration), and the
 * readout alone still learns the coarse task */
START_TEST(test_frozen_training)
{
  static const char *const ov[] = {
      "stimulus.reference_orientations=[30.0]", "stimulus.separations=[10.0]",
      "train.frozen=5", "train.lr=1.0", "train.iterations=60", "test.pairs=200",
      "test.transfer=false", "units.enabled=false", "output.figures=[]"};
  plx_perceptual_opts o;
  char out[600];
  double *ch;
  size_t n, T = 60, l, it, M = 4;
  run_with(ov, sizeof ov / sizeof ov[0], "test_perceptual_frozen", 0, out, sizeof out, &o);
  /* one condition x 6 weight layers x 4 measures x (T + 1) iterations */
  ch = read_all(out, "/perceptual/layers/change", &n);
  ck_assert_uint_eq(n, 6 * M * (T + 1));
  for (l = 0; l < 5; l++)
    for (it = 0; it <= T; it++)
      ck_assert_msg(ch[(l * M) * (T + 1) + it] == 0.0, "conv layer %zu moved at iteration %zu",
                    l + 1, it);
  ck_assert(ch[(5 * M) * (T + 1) + T] > 0.0);
  /* 200 test pairs: 0.5 + 4 binomial standard errors (0.035) is 0.64 */
  fprintf(stderr, "readout only: final accuracy %.3f\n", o.final_accuracy);
  ck_assert_msg(o.final_accuracy > 0.64, "readout alone did not learn: %g", o.final_accuracy);
  free(ch);
}
END_TEST

/* node perturbation on both streams lowers the two-interval loss: the mean
 * training loss of the last 50 iterations below that of the first 50, by
 * more than 4 standard errors of the difference (iterations as samples).
 * Slowly: every unit of both streams is perturbed at once, so the estimate
 * of a conv layer's gradient is mostly noise and the learning rate must
 * stay small (doc/perceptual-learning.md) */
START_TEST(test_node_perturbation_learns)
{
  static const char *const ov[] = {
      "stimulus.reference_orientations=[30.0, 120.0]", "stimulus.separations=[10.0]",
      "train.rule=\"node_perturbation\"", "train.sigma=0.02", "train.lr=3e-4",
      "train.iterations=400", "test.pairs=100", "test.transfer=false",
      "units.enabled=false", "output.figures=[]"};
  plx_perceptual_opts o;
  char out[600];
  double *loss;
  size_t n, c, T = 400, W = 50;
  run_with(ov, sizeof ov / sizeof ov[0], "test_perceptual_np", 0, out, sizeof out, &o);
  loss = read_all(out, "/perceptual/train/loss", &n);
  ck_assert_uint_eq(n, 2 * T);
  for (c = 0; c < 2; c++) {
    double s0 = 0, q0 = 0, s1 = 0, q1 = 0, m0, m1, se, z;
    size_t i;
    for (i = 0; i < W; i++) {
      double a = loss[c * T + i], b = loss[c * T + T - W + i];
      s0 += a;
      q0 += a * a;
      s1 += b;
      q1 += b * b;
    }
    m0 = s0 / W;
    m1 = s1 / W;
    se = sqrt((q0 / W - m0 * m0) / (W - 1) + (q1 / W - m1 * m1) / (W - 1));
    z = (m0 - m1) / se;
    fprintf(stderr, "node perturbation, condition %zu: loss %.4f -> %.4f (z %.1f), final "
            "accuracy %.3f\n", c, m0, m1, z, o.final_accuracy);
    ck_assert_msg(z > 4, "condition %zu: loss %g -> %g, z %g", c, m0, m1, z);
  }
  free(loss);
}
END_TEST

/* ------------------------------------------------ the reduced experiment */

/* one-sided test at p < 0.01 over n matched units */
static double t_crit(size_t n)
{
  return gsl_cdf_tdist_Pinv(0.99, (double)n - 1.0);
}

START_TEST(test_reduced_experiment)
{
  plx_perceptual_opts o;
  plx_error err;
  char cfg[512], out[600];
  size_t i;
  /* asserted: reproduced at this scale (doc/perceptual-learning.md) */
  static const int asserted[] = {PLX_PL_START_COARSE,    PLX_PL_RISE_COARSE,
                                 PLX_PL_TRANSFER90_COARSE, PLX_PL_TRANSFER_SF_HALF_COARSE,
                                 PLX_PL_CHANGE_LOWER,
                                 PLX_PL_FI_TOP,          PLX_PL_FI_NEAR,
                                 PLX_PL_AMP_UP_FINE,     PLX_PL_AMP_UP_COARSE,
                                 PLX_PL_SLOPE_UP_FINE,   PLX_PL_SLOPE_UP_COARSE,
                                 PLX_PL_PULL_FINE,       PLX_PL_PULL_COARSE,
                                 PLX_PL_BEST_DOWN_COARSE};
  cfg_path(cfg, sizeof cfg);
  snprintf(out, sizeof out, "%s/test_perceptual_run", PLX_BUILDDIR);
  memset(&o, 0, sizeof o);
  o.config = cfg;
  o.out = out;
  if (plx_perceptual_run(&o, &err))
    ck_abort_msg("%s", err.msg);
  fprintf(stderr, "reduced experiment: %s\n", o.summary);
  for (i = 0; i < PLX_PL_N_EFFECTS; i++)
    fprintf(stderr, "  %-38s %+.4g +- %.2g  z %5.1f  n %zu  (t_0.99 %.2f)\n",
            o.effects[i].name, o.effects[i].mean, o.effects[i].sem, o.effects[i].z,
            o.effects[i].n, o.effects[i].n > 1 ? t_crit(o.effects[i].n) : NAN);
  /* the network learned the trained stimuli */
  ck_assert_msg(o.final_accuracy > 0.8, "final accuracy %g", o.final_accuracy);
  for (i = 0; i < sizeof asserted / sizeof asserted[0]; i++) {
    const plx_pl_effect *e = &o.effects[asserted[i]];
    ck_assert_msg(e->n >= 12, "%s: n %zu", e->name, e->n);
    ck_assert_msg(e->z > t_crit(e->n), "%s: %g +- %g, z %g <= t %g (n %zu)", e->name, e->mean,
                  e->sem, e->z, t_crit(e->n), e->n);
  }
  /* outputs the doc promises */
  {
    static const char *const files[] = {
        "manifest.json", "results.h5", "tables/accuracy.csv", "tables/accuracy_final.csv",
        "tables/layer_change.csv", "tables/layer_final.csv", "tables/effects.csv",
        "tables/units.csv", "tables/layer_fisher.csv",
        "figures/perceptual_behaviour.png", "figures/perceptual_layers.png"};
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
      char p[800];
      struct stat st;
      snprintf(p, sizeof p, "%s/%s", out, files[i]);
      ck_assert_msg(stat(p, &st) == 0 && st.st_size > 0, "missing %s", p);
    }
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("perceptual");
  TCase *tc = tcase_create("exact");
  TCase *te = tcase_create("experiment");
  SRunner *sr;
  int nf;
  tcase_add_test(tc, test_pair_loss_gradient);
  tcase_add_test(tc, test_node_perturbation_unbiased);
  tcase_add_test(tc, test_stimulus_tangent);
  tcase_add_test(tc, test_layer_change_known);
  tcase_add_test(tc, test_linear_fisher_known);
  tcase_add_test(tc, test_unit_attributes_known);
  tcase_add_test(tc, test_slope_overlap_known);
  tcase_add_test(tc, test_half_width_known);
  tcase_add_test(tc, test_peak_speed_known);
  tcase_add_test(te, test_bad_configs);
  tcase_add_test(te, test_threads_independent);
  tcase_add_test(te, test_node_perturbation_learns);
  tcase_add_test(te, test_frozen_training);
  if (!getenv("PLX_SKIP_SLOW"))
    tcase_add_test(te, test_reduced_experiment);
  tcase_set_timeout(tc, 300); /* 20000 noisy passes: slow under sanitizers */
  tcase_set_timeout(te, 1800);
  suite_add_tcase(s, tc);
  suite_add_tcase(s, te);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
