/* test_circuit.c -- exact and statistical tests of the circuit path:
 * Euler--Maruyama steps against the formula, noise variance sigma^2 dt,
 * the input delay, the stimulus processes' stationary densities (the
 * reference Langevin update visits kappa = 2 kappa_in), the von Mises
 * sampler, the tri-factor update against a direct re-implementation,
 * bitwise reproducibility over thread counts and with the rule's update
 * fused with the next input current, and one-line errors. */
#include "config.h"
#include "plastix/error.h"
#include "plastix/experiment.h"
#include "plastix/protocol.h"
#include "plastix/trainer.h"
#include "plastix/units.h"

#include <check.h>
#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A small estimation experiment; `extra` is spliced in at the end of the
 * model section, `tail` after everything. */
static plx_experiment *make_exp(const char *model_extra, const char *tail)
{
  char text[8192];
  plx_config *cfg;
  plx_experiment *e;
  plx_error err;
  if (!model_extra || strncmp(model_extra, "n = ", 4) != 0) {
    /* default to a small circuit of 8 units */
    static char buf[4096];
    snprintf(buf, sizeof buf, "n = 8; %s", model_extra ? model_extra : "");
    model_extra = buf;
  }
  snprintf(text, sizeof text,
           "experiment = { name = \"t\"; seed = 7; };\n"
           "prior = { type = \"von_mises\"; mu = 0.0; kappa = 0.75; };\n"
           "stimulus = { sigma = 0.06; encoder = { n = 12; }; };\n"
           "model = { type = \"recurrent_langevin\"; %s };\n"
           "task = { type = \"estimation\"; };\n"
           "%s\n",
           model_extra ? model_extra : "", tail ? tail : "");
  ck_assert_int_eq(plx_config_load_string(&cfg, text, "t.cfg", &err), PLX_OK);
  if (plx_experiment_from_config(&e, cfg, &err) != PLX_OK)
    ck_abort_msg("config failed: %s", err.msg);
  return e;
}

static int load_error(const char *text, plx_error *err)
{
  plx_config *cfg;
  plx_experiment *e = NULL;
  int rc = plx_config_load_string(&cfg, text, "bad.cfg", err);
  if (rc)
    return rc;
  rc = plx_experiment_from_config(&e, cfg, err);
  plx_experiment_free(e);
  return rc;
}

/* ------------------------------------------------------- dynamics */

START_TEST(test_euler_step_exact)
{
  plx_experiment *e = make_exp("sigma = 0.0; input_delay = 1;", NULL);
  plx_model *m = e->model;
  plx_rng *rng = plx_rng_alloc(1, 0, PLX_POP_INIT);
  double x0[12], x1[12], r0[8], expect[8];
  const double g = 30.0, dt = 0.01;
  plx_projection *W = plx_model_projection(m, "W"), *C = plx_model_projection(m, "C");
  plx_projection *b = plx_model_projection(m, "b"), *D = plx_model_projection(m, "D");
  plx_error err;
  size_t i, j;
  ck_assert_int_eq(m->type->init_weights(m, rng, &err), PLX_OK);
  for (i = 0; i < 8; i++)
    b->w[i] = 0.05 * (double)i - 0.1;
  plx_encoder_encode(&e->encoder, 0.3, x0);
  plx_encoder_encode(&e->encoder, -2.0, x1);
  ck_assert_int_eq(m->type->reset(m, x0, 1), PLX_OK);
  for (i = 0; i < 8; i++)
    r0[i] = m->hidden[i];
  ck_assert_double_eq(r0[0], 0.1);
  ck_assert_int_eq(m->type->step(m, x1, NULL, &err), PLX_OK);
  for (i = 0; i < 8; i++) {
    double h = b->w[i], finv;
    for (j = 0; j < 8; j++)
      h += W->w[i + j * 8] * r0[j];
    for (j = 0; j < 12; j++)
      h += C->w[i + j * 8] * x0[j]; /* the previous input: reference order */
    finv = log(exp(g * r0[i]) - 1.0) / g;
    expect[i] = r0[i] + dt * (-finv + h);
    if (expect[i] < 0.001) expect[i] = 0.001;
    ck_assert_double_eq_tol(m->hidden[i], expect[i], 1e-13);
  }
  /* the readout used for learning is D r of the clipped state */
  for (i = 0; i < 2; i++) {
    double z = 0;
    for (j = 0; j < 8; j++)
      z += D->w[i + j * 2] * expect[j];
    ck_assert_double_eq_tol(m->out_learn[i], z, 1e-14);
  }
  /* the projections see the current input */
  for (j = 0; j < 12; j++)
    ck_assert_double_eq(m->input[j], x1[j]);
  plx_rng_free(rng);
  plx_experiment_free(e);
}
END_TEST

START_TEST(test_input_delay_zero)
{
  plx_experiment *e = make_exp("sigma = 0.0; input_delay = 0; "
                               "init = { W = { dist = \"constant\"; scale = 0.0; }; "
                               "D = { dist = \"constant\"; scale = 0.0; }; };",
                               NULL);
  plx_model *m = e->model;
  plx_rng *rng = plx_rng_alloc(1, 0, PLX_POP_INIT);
  plx_projection *C = plx_model_projection(m, "C");
  double x0[12], x1[12];
  plx_error err;
  size_t i, j;
  ck_assert_int_eq(m->type->init_weights(m, rng, &err), PLX_OK);
  plx_encoder_encode(&e->encoder, 0.3, x0);
  plx_encoder_encode(&e->encoder, -2.0, x1);
  m->type->reset(m, x0, 1);
  m->type->step(m, x1, NULL, &err);
  for (i = 0; i < 8; i++) {
    double h = 0, finv = log(exp(30 * 0.1) - 1.0) / 30, ex;
    for (j = 0; j < 12; j++)
      h += C->w[i + j * 8] * x1[j];
    ex = 0.1 + 0.01 * (-finv + h);
    ck_assert_double_eq_tol(m->hidden[i], ex < 0.001 ? 0.001 : ex, 1e-13);
  }
  plx_rng_free(rng);
  plx_experiment_free(e);
}
END_TEST

/* Var of the Euler--Maruyama increment is sigma^2 dt; the model's exposed
 * noise is exactly that increment. */
START_TEST(test_noise_variance_scales_with_dt)
{
  static const double dts[3] = {0.001, 0.01, 0.1};
  const double sigma = 0.3;
  double var[3];
  int k;
  for (k = 0; k < 3; k++) {
    char extra[512];
    plx_experiment *e;
    plx_model *m;
    plx_rng *rngs[256];
    double x0[12 * 256] = {0}, r0 = 50.0, s1 = 0, s2 = 0, n;
    plx_error err;
    size_t i, b, B = 256, N = 64;
    snprintf(extra, sizeof extra,
             "n = 64; sigma = %g; dt = %g; r0 = 50.0; clip = [0.001, 1000.0];"
             "nonlinearity = { type = \"relu\"; gain = 1.0; };"
             "init = { W = { dist = \"constant\"; scale = 0.0; };"
             " C = { dist = \"constant\"; scale = 0.0; };"
             " D = { dist = \"constant\"; scale = 0.0; }; };",
             sigma, dts[k]);
    e = make_exp(extra, NULL);
    ck_assert_int_eq(plx_model_clone(e->model, B, &m, &err), PLX_OK);
    for (b = 0; b < B; b++)
      rngs[b] = plx_rng_alloc(11, b, PLX_POP_NETWORK);
    m->type->reset(m, x0, B);
    ck_assert_int_eq(m->type->step(m, x0, rngs, &err), PLX_OK);
    for (i = 0; i < N * B; i++) {
      const plx_projection *W = plx_model_projection(m, "W");
      double d = m->hidden[i] - r0 - dts[k] * (-r0);
      ck_assert_double_eq_tol(d, W->noise[i], 1e-9);
      s1 += d;
      s2 += d * d;
    }
    n = (double)(N * B);
    var[k] = (s2 - s1 * s1 / n) / (n - 1);
    /* sampling s.d. of a normal variance estimate: sqrt(2/(n-1)) relative;
     * of the mean: sqrt(var/n).  5 standard errors. */
    ck_assert_double_lt(fabs(var[k] / (sigma * sigma * dts[k]) - 1.0),
                        5.0 * sqrt(2.0 / (n - 1)));
    ck_assert_double_lt(fabs(s1 / n), 5.0 * sqrt(sigma * sigma * dts[k] / n));
    for (b = 0; b < B; b++)
      plx_rng_free(rngs[b]);
    plx_model_free(m);
    plx_experiment_free(e);
  }
  /* the ratio scales as dt: var(0.1)/var(0.001) = 100 */
  ck_assert_double_lt(fabs(var[2] / var[0] / 100.0 - 1.0),
                      5.0 * sqrt(2.0 * 2.0 / (64.0 * 256.0)));
}
END_TEST

START_TEST(test_divergence_is_reported)
{
  plx_experiment *e = make_exp(
      "init = { W = { dist = \"constant\"; scale = 1e308; }; };",
      "rule = { name = \"trifactor\"; projections = { W = { eta = 1e-6; }; }; };\n"
      "train = { trials = 1; duration = 2.0; warmup = 0.5; };");
  plx_learning_curve lc;
  plx_error err;
  int rc;
  ck_assert_int_eq(plx_experiment_init_weights(e, &err), PLX_OK);
  rc = plx_train(e, &lc, 1, NULL, &err);
  ck_assert_int_eq(rc, PLX_EDIVERGE);
  ck_assert_msg(strstr(err.msg, "t.cfg:4: model.dt: dynamics diverged") != NULL,
                "%s", err.msg);
  ck_assert_int_eq(plx_exit_status(rc), PLX_EXIT_BADINPUT);
  plx_learning_curve_release(&lc);
  plx_experiment_free(e);
}
END_TEST

/* Linear units (relu, gain 1: f^-1(r) = r) with W = C = 0 are independent
 * Ornstein--Uhlenbeck processes dr = (u - r) dt + sigma dB.  Euler--Maruyama
 * gives exactly E[r_k] = u + (r0 - u)(1 - dt)^k and the stationary variance
 * sigma^2 dt / (1 - (1 - dt)^2) = sigma^2 / (2 - dt). */
START_TEST(test_ornstein_uhlenbeck)
{
  static const double dts[2] = {0.1, 0.02};
  const double sigma = 0.3, u = 2.0, r0 = 0.5;
  int k;
  for (k = 0; k < 2; k++) {
    char extra[512];
    plx_experiment *e;
    plx_model *m;
    plx_rng *rngs[64];
    double x0[12 * 64] = {0}, dt = dts[k], s1 = 0, s2 = 0, n = 0, m1 = 0;
    unsigned long step, K_mean = (unsigned long)llround(0.5 / dt);
    unsigned long gap = (unsigned long)llround(5.0 / dt), K = 21 * gap;
    plx_error err;
    size_t i, b, B = 64, N = 50;
    snprintf(extra, sizeof extra,
             "n = 50; sigma = %g; dt = %g; r0 = %g; clip = [0.001, 1000.0];"
             "nonlinearity = { type = \"relu\"; gain = 1.0; };"
             "init = { W = { dist = \"constant\"; scale = 0.0; };"
             " C = { dist = \"constant\"; scale = 0.0; };"
             " b = { dist = \"constant\"; scale = %g; }; };",
             sigma, dt, r0, u);
    e = make_exp(extra, NULL);
    ck_assert_int_eq(plx_model_clone(e->model, B, &m, &err), PLX_OK);
    ck_assert_int_eq(plx_experiment_init_weights(e, &err), PLX_OK);
    plx_model_free(m);
    ck_assert_int_eq(plx_model_clone(e->model, B, &m, &err), PLX_OK);
    for (b = 0; b < B; b++)
      rngs[b] = plx_rng_alloc(21, b, PLX_POP_NETWORK);
    m->type->reset(m, x0, B);
    for (step = 1; step <= K; step++) {
      ck_assert_int_eq(m->type->step(m, x0, rngs, &err), PLX_OK);
      if (step == K_mean) { /* transient mean */
        double mean = 0, expect = u + (r0 - u) * pow(1 - dt, (double)step);
        double var_k = sigma * sigma * dt * (1 - pow(1 - dt, 2.0 * step)) /
                       (1 - (1 - dt) * (1 - dt));
        for (i = 0; i < N * B; i++)
          mean += m->hidden[i];
        mean /= (double)(N * B);
        ck_assert_double_lt(fabs(mean - expect), 5 * sqrt(var_k / (N * B)));
        m1 = mean;
      }
      if (step % gap == 0 && step > gap) /* ~independent stationary samples */
        for (i = 0; i < N * B; i++) {
          s1 += m->hidden[i];
          s2 += m->hidden[i] * m->hidden[i];
          n += 1;
        }
    }
    {
      double mean = s1 / n, var = (s2 - n * mean * mean) / (n - 1);
      double v_exact = sigma * sigma / (2 - dt);
      ck_assert_double_lt(fabs(mean - u), 5 * sqrt(v_exact / n));
      ck_assert_msg(fabs(var / v_exact - 1) < 5 * sqrt(2 / (n - 1)),
                    "dt %g: variance %g, Euler-Maruyama theory %g (continuous %g)", dt,
                    var, v_exact, sigma * sigma / 2);
    }
    (void)m1;
    for (b = 0; b < B; b++)
      plx_rng_free(rngs[b]);
    plx_model_free(m);
    plx_experiment_free(e);
  }
}
END_TEST

/* f^-1(f(x)) = x and the derivative identities of every unit type */
START_TEST(test_units_inverse)
{
  static const plx_unit_kind kinds[3] = {PLX_UNIT_SOFTPLUS, PLX_UNIT_RELU, PLX_UNIT_TANH};
  static const double gains[3] = {30.0, 2.0, 1.5};
  int k, i;
  for (k = 0; k < 3; k++)
    for (i = -40; i <= 40; i++) {
      double x = 0.05 * i, r = plx_unit_f(kinds[k], gains[k], x);
      double h = 1e-6;
      if (kinds[k] == PLX_UNIT_RELU && x <= 0)
        continue; /* not invertible where rectified */
      if (kinds[k] == PLX_UNIT_SOFTPLUS && r < 1e-6)
        continue;
      ck_assert_double_eq_tol(plx_unit_finv(kinds[k], gains[k], r), x, 1e-9);
      /* f' and (f^-1)' against central differences */
      ck_assert_double_eq_tol(plx_unit_df(kinds[k], gains[k], x),
                              (plx_unit_f(kinds[k], gains[k], x + h) -
                               plx_unit_f(kinds[k], gains[k], x - h)) / (2 * h), 1e-5);
      ck_assert_double_eq_tol(plx_unit_dfinv(kinds[k], gains[k], r) *
                                  plx_unit_df(kinds[k], gains[k], x), 1.0, 1e-9);
      /* d/dr of the integral of f^-1 is f^-1 */
      if (r > 2e-3)
        ck_assert_double_eq_tol((plx_unit_finv_integral(kinds[k], gains[k], r + h) -
                                 plx_unit_finv_integral(kinds[k], gains[k], r - h)) / (2 * h),
                                x, 1e-5);
    }
}
END_TEST

/* A tri-factor step on a 2-unit circuit, by hand.  r = (0.5, 0.2),
 * s = (1, 0) (two inputs), alpha = -0.3, averages start at zero, theta =
 * 0.5, eta = 0.1, decay k = 0.2, learning on the first step:
 *   <r r^T> = 0.5 r r^T = [[0.125, 0.05], [0.05, 0.02]]
 *   dW = 0.1 (-0.3 (r r^T - <r r^T>) - 0.2 W), with W = [[1, 0], [0, 1]]:
 *   r r^T - <r r^T> = [[0.125, 0.05], [0.05, 0.02]]
 *   W' = [[1 + 0.1(-0.0375 - 0.2), 0.1(-0.015)], [..., 1 + 0.1(-0.006 - 0.2)]]
 *      = [[0.97625, -0.0015], [-0.0015, 0.9794]]
 * and the running-average identity after n steps of a constant product c:
 *   <c> = c (1 - (1 - theta)^n). */
START_TEST(test_trifactor_two_units_by_hand)
{
  plx_experiment *e = make_exp(
      NULL, "rule = { name = \"trifactor\"; average_rate = 0.5;\n"
            " projections = { W = { eta = 0.1; decay = 0.2; }; }; };");
  double w[4] = {1, 0, 0, 1}, r[2] = {0.5, 0.2}, rw = -0.3;
  plx_projection proj = {"W", w, 2, 2, 2, r, r, NULL, NULL, PLX_PROJ_RECURRENT, NULL, 0.0};
  plx_signal sig;
  void *st;
  plx_error err;
  int n;
  ck_assert_int_eq(e->rule->init(&st, &proj, 1, 1, e->rule_params, &err), PLX_OK);
  e->rule->reset(st);
  memset(&sig, 0, sizeof sig);
  sig.batch = 1;
  sig.reward = &rw;
  sig.lr_scale = 1.0;
  sig.learn = 1;
  ck_assert_int_eq(e->rule->apply(st, &proj, 1, &sig), 0);
  ck_assert_double_eq_tol(w[0], 0.97625, 1e-15);
  ck_assert_double_eq_tol(w[2], -0.0015, 1e-15);
  ck_assert_double_eq_tol(w[1], -0.0015, 1e-15);
  ck_assert_double_eq_tol(w[3], 0.9794, 1e-15);
  /* running average: with eta = 0 the weights hold and <r r^T> follows
   * c (1 - 0.5^n); the update then is alpha (c - <c>) = alpha c 0.5^n */
  e->rule->reset(st);
  sig.learn = 0;
  for (n = 1; n <= 6; n++)
    ck_assert_int_eq(e->rule->apply(st, &proj, 1, &sig), 0);
  w[0] = 1;
  w[1] = w[2] = 0;
  w[3] = 1;
  sig.learn = 1; /* 7th step: <c> = c (1 - 0.5^7) */
  ck_assert_int_eq(e->rule->apply(st, &proj, 1, &sig), 0);
  ck_assert_double_eq_tol(w[2], 0.1 * (-0.3) * 0.1 * pow(0.5, 7), 1e-16);
  e->rule->free(st);
  plx_experiment_free(e);
}
END_TEST

/* ---------------------------------------------------------- stimuli */

static double mean_resultant(double kappa)
{
  return kappa > 0 ? gsl_sf_bessel_I1(kappa) / gsl_sf_bessel_I0(kappa) : 0.0;
}

START_TEST(test_von_mises_sampler)
{
  static const double kappas[3] = {0.5, 0.75, 3.0};
  int k;
  for (k = 0; k < 3; k++) {
    plx_rng *r = plx_rng_alloc(3, (uint64_t)k, PLX_POP_STIMULUS);
    double c = 0, s = 0, c2 = 0;
    int i, n = 100000;
    for (i = 0; i < n; i++) {
      double t = plx_von_mises_sample(1.0, kappas[k], r);
      ck_assert(t >= -M_PI && t < M_PI);
      c += cos(t - 1.0);
      s += sin(t - 1.0);
      c2 += cos(t - 1.0) * cos(t - 1.0);
    }
    c /= n;
    s /= n;
    /* s.d. of cos, sin <= 1/sqrt(2) per sample: 5 standard errors */
    ck_assert_double_lt(fabs(c - mean_resultant(kappas[k])), 5.0 * sqrt(c2 / n - c * c) / sqrt(n));
    ck_assert_double_lt(fabs(s), 5.0 / sqrt(n));
    plx_rng_free(r);
  }
}
END_TEST

/* Run `chains` independent processes for `steps`; return E[cos theta] of
 * the final states and its standard error. */
static double process_resultant(const char *process, double *se)
{
  char tail[256];
  plx_experiment *e;
  const int chains = 4000;
  const unsigned long steps = 3000; /* 30 time units >> 1/(kappa sigma^2) = 1.3 */
  double c = 0, c2 = 0;
  int i;
  snprintf(tail, sizeof tail, "%s", "");
  e = make_exp("dt = 0.01;", NULL);
  e->process.sigma = 1.0;
  e->process.kind = strcmp(process, "langevin") == 0 ? PLX_PROCESS_LANGEVIN
                                                     : PLX_PROCESS_LANGEVIN_EXACT;
  for (i = 0; i < chains; i++) {
    plx_rng *r = plx_rng_alloc(5, (uint64_t)i, PLX_POP_STIMULUS);
    double t = plx_process_start(&e->process, r);
    unsigned long k;
    for (k = 1; k <= steps; k++)
      t = plx_process_step(&e->process, t, k, r);
    c += cos(t);
    c2 += cos(t) * cos(t);
    plx_rng_free(r);
  }
  c /= chains;
  *se = sqrt((c2 / chains - c * c) / chains);
  plx_experiment_free(e);
  return c;
}

START_TEST(test_langevin_stationary_kappa)
{
  double se, c;
  /* the reference update visits von Mises(2 kappa_in = 1.5) */
  c = process_resultant("langevin", &se);
  ck_assert_double_lt(fabs(c - mean_resultant(1.5)), 5 * se + 0.01 /* O(dt) bias */);
  ck_assert_double_gt(fabs(c - mean_resultant(0.75)), 10 * se);
  /* the exact sampler visits the prior itself */
  c = process_resultant("langevin_exact", &se);
  ck_assert_double_lt(fabs(c - mean_resultant(0.75)), 5 * se + 0.01);
}
END_TEST

START_TEST(test_stationary_density_reported)
{
  plx_experiment *e = make_exp(NULL, NULL);
  double z = 0;
  int i, n = 4096;
  ck_assert_double_eq(plx_process_stationary_kappa(&e->process), 1.5);
  /* p^2/Z is a density, equal to von Mises(1.5) */
  for (i = 0; i < n; i++) {
    double t = -M_PI + 2 * M_PI * (i + 0.5) / n;
    double d = plx_process_stationary_density(&e->process, t);
    ck_assert_double_eq_tol(d, plx_von_mises_density(t, 0.0, 1.5), 1e-9);
    z += d * 2 * M_PI / n;
  }
  ck_assert_double_eq_tol(z, 1.0, 1e-9);
  plx_experiment_free(e);
}
END_TEST

START_TEST(test_iid_process_holds)
{
  plx_experiment *e = make_exp(NULL, NULL);
  plx_rng *r = plx_rng_alloc(1, 1, PLX_POP_STIMULUS);
  double t, prev;
  unsigned long k, changes = 0;
  e->process.kind = PLX_PROCESS_IID;
  e->process.hold_steps = 100;
  prev = t = plx_process_start(&e->process, r);
  for (k = 1; k <= 1000; k++) {
    t = plx_process_step(&e->process, t, k, r);
    if (t != prev) {
      ck_assert_uint_eq(k % 100, 0);
      changes++;
    }
    prev = t;
  }
  ck_assert_uint_eq(changes, 10);
  plx_rng_free(r);
  plx_experiment_free(e);
}
END_TEST

/* ------------------------------------------------------- tri-factor */

START_TEST(test_trifactor_exact)
{
  plx_experiment *e = make_exp(
      NULL, "rule = { name = \"trifactor\"; average_rate = 0.1;\n"
            " projections = { C = { eta = 0.5; decay = 0.01; };\n"
            "                 D = { eta = 0.2; decay = 0.03; }; }; };");
  const plx_rule_type *rt = e->rule;
  plx_projection proj[2];
  double w[6] = {0.1, -0.2, 0.3, 0.05, 0.0, -0.1}, w0[6];
  double d[4] = {0.5, -0.5, 0.25, 0.1}, d0[4];
  double pre[3][2] = {{1, 2}, {0.5, -1}, {2, 0.25}};
  double post[3][3] = {{0.3, 0.1, 0.2}, {0.6, 0.2, 0.0}, {0.1, 0.4, 0.5}};
  double rd_pre[3][2] = {{0.2, 0.4}, {0.1, 0.3}, {0.5, 0.5}}, rd_post[2] = {0, 0};
  double reward[3] = {-0.5, -1.5, -0.25}, g[3][2] = {{0.1, -0.2}, {0.3, 0.0}, {-0.1, 0.05}};
  double A[6] = {0}, rw;
  plx_signal sig;
  void *st;
  plx_error err;
  int step;
  size_t i, j;
  memcpy(w0, w, sizeof w);
  memcpy(d0, d, sizeof d);
  /* W-like projection named C (3 post × 2 pre) and a readout D (2 × 2) */
  proj[0] = (plx_projection){"C", w, 3, 2, 3, NULL, NULL, NULL, NULL, 0, NULL, 0.0};
  proj[1] = (plx_projection){"D", d, 2, 2, 2, NULL, rd_post, NULL, NULL, PLX_PROJ_READOUT, NULL, 0.0};
  ck_assert_int_eq(rt->init(&st, proj, 2, 1, e->rule_params, &err), PLX_OK);
  ck_assert(proj[0].flags & PLX_PROJ_PLASTIC);
  rt->reset(st);
  memset(&sig, 0, sizeof sig);
  sig.batch = 1;
  sig.reward = &rw;
  sig.lr_scale = 1.0;
  for (step = 0; step < 3; step++) {
    proj[0].pre = pre[step];
    proj[0].post = post[step];
    proj[1].pre = rd_pre[step];
    rw = reward[step];
    sig.dl_dout = g[step];
    sig.learn = step > 0; /* the first step is warm-up */
    ck_assert_int_eq(rt->apply(st, proj, 2, &sig), 0);
    /* direct re-implementation of the reference update */
    for (j = 0; j < 2; j++)
      for (i = 0; i < 3; i++) {
        double c = post[step][i] * pre[step][j];
        A[i + 3 * j] = 0.9 * A[i + 3 * j] + 0.1 * c;
        if (sig.learn)
          w0[i + 3 * j] += 0.5 * (rw * (c - A[i + 3 * j]) - 0.01 * w0[i + 3 * j]);
      }
    if (sig.learn)
      for (j = 0; j < 2; j++)
        for (i = 0; i < 2; i++)
          d0[i + 2 * j] += 0.2 * (-g[step][i] * rd_pre[step][j] - 0.03 * d0[i + 2 * j]);
    for (i = 0; i < 6; i++)
      ck_assert_double_eq_tol(w[i], w0[i], 1e-15);
    for (i = 0; i < 4; i++)
      ck_assert_double_eq_tol(d[i], d0[i], 1e-15);
  }
  rt->free(st);
  plx_experiment_free(e);
}
END_TEST

/* ------------------------------------------------- reproducibility */

START_TEST(test_bitwise_over_threads)
{
  plx_experiment *e = make_exp(
      NULL,
      "rule = { name = \"trifactor\"; projections = { W = { eta = 1e-4; decay = 1e-3; };"
      " D = { eta = 1e-4; }; }; };\n"
      "train = { trials = 2; duration = 50.0; warmup = 5.0; eval = { every = 1; trials = 3;"
      " duration = 20.0; transient = 5.0; }; };\n"
      "test = { trials = 7; duration = 60.0; stimuli_per_trial = 3; prior_trials = 5;"
      " prior_duration = 30.0; prior_transient = 5.0; };");
  plx_learning_curve lc1, lc2;
  plx_grid_stats g1, g2;
  plx_prior_stats p1, p2;
  double *w1, *w2;
  size_t nw = plx_model_weight_count(e->model);
  plx_error err;
  w1 = malloc(nw * sizeof *w1);
  w2 = malloc(nw * sizeof *w2);
  ck_assert_int_eq(plx_experiment_init_weights(e, &err), PLX_OK);
  plx_model_get_weights(e->model, w1);
  ck_assert_int_eq(plx_train(e, &lc1, 1, NULL, &err), PLX_OK);
  ck_assert_int_eq(plx_protocol_grid(e, &g1, 1, NULL, &err), PLX_OK);
  ck_assert_int_eq(plx_protocol_prior(e, 5, 30.0, 5.0, 20, -1, 12, &p1, 1, &err), PLX_OK);
  /* train again from the same initial weights with 2 threads */
  plx_model_set_weights(e->model, w1);
  ck_assert_int_eq(plx_train(e, &lc2, 2, NULL, &err), PLX_OK);
  ck_assert_int_eq(plx_protocol_grid(e, &g2, 2, NULL, &err), PLX_OK);
  ck_assert_int_eq(plx_protocol_prior(e, 5, 30.0, 5.0, 20, -1, 12, &p2, 2, &err), PLX_OK);
  plx_model_get_weights(e->model, w2);
  ck_assert_int_eq(lc1.n, lc2.n);
  ck_assert(memcmp(lc1.error, lc2.error, lc1.n * sizeof(double)) == 0);
  ck_assert(memcmp(lc1.eval_error, lc2.eval_error, lc1.n_eval * sizeof(double)) == 0);
  ck_assert(memcmp(g1.sum_rr, g2.sum_rr, g1.N * g1.N * g1.G * sizeof(double)) == 0);
  ck_assert(memcmp(g1.sum_o, g2.sum_o, g1.n_out * g1.G * sizeof(double)) == 0);
  ck_assert(memcmp(g1.sum_energy, g2.sum_energy, g1.G * sizeof(double)) == 0);
  ck_assert_uint_eq(g1.n_seg, 21);
  ck_assert(memcmp(g1.seg_o, g2.seg_o, g1.n_seg * g1.n_out * sizeof(double)) == 0);
  ck_assert(memcmp(p1.trial_err, p2.trial_err, 5 * sizeof(double)) == 0);
  ck_assert(p1.err == p2.err);
  plx_learning_curve_release(&lc1);
  plx_learning_curve_release(&lc2);
  plx_grid_stats_release(&g1);
  plx_grid_stats_release(&g2);
  plx_prior_stats_release(&p1);
  plx_prior_stats_release(&p2);
  free(w1);
  free(w2);
  plx_experiment_free(e);
}
END_TEST

/* The tri-factor rule's update fused with the next input current
 * (plx_signal.drive): the current it leaves is exactly b + W r + C x summed
 * in gemv order, and training with the fusion gives bit for bit the weights
 * and learning curve of training without it.  _i: input delay 1 or 0, and
 * N = 10 (a column count that is not a multiple of four) or 8. */
START_TEST(test_fused_drive_bitwise)
{
  const int delay = _i & 1;
  char model[128];
  const char *tail =
      "rule = { name = \"trifactor\"; projections = {"
      " W = { eta = 2e-3; decay = 1e-3; }; C = { eta = 2e-3; decay = 2e-3; };"
      " b = { eta = 2e-3; decay = 2e-3; }; D = { eta = 1e-3; decay = 1e-3; }; }; };\n"
      "train = { trials = 2; duration = 40.0; warmup = 2.0; };";
  plx_experiment *e;
  plx_model *m;
  plx_learning_curve lc1, lc2;
  plx_signal sig;
  plx_error err;
  double *w0, *w1, *w2, x[12], y[8], g[8], reward, h[16];
  size_t nw, i, j, N = (_i & 2) ? 8 : 10;
  void *rs = NULL;
  plx_rng *net = plx_rng_alloc(3, 0, PLX_POP_NETWORK);
  plx_rng *nets[1];
  snprintf(model, sizeof model, "n = %zu; input_delay = %d; sigma = 0.2;", N, delay);
  e = make_exp(model, tail);
  m = e->model;
  nw = plx_model_weight_count(m);
  w0 = malloc(nw * sizeof *w0);
  w1 = malloc(nw * sizeof *w1);
  w2 = malloc(nw * sizeof *w2);
  ck_assert_ptr_nonnull(m->drive);
  ck_assert_int_eq(plx_experiment_init_weights(e, &err), PLX_OK);
  plx_model_get_weights(m, w0);

  /* one step by hand: the rule fills the current, and it is exact */
  nets[0] = net;
  for (i = 0; i < 12; i++)
    x[i] = 0.1 * (double)i;
  ck_assert_uint_le(e->task.n_out, 8);
  plx_task_target(&e->task, 0.3, y);
  ck_assert_int_eq(m->type->reset(m, x, 1), PLX_OK);
  ck_assert_int_eq(m->type->step(m, x, nets, &err), PLX_OK);
  ck_assert_int_eq(e->rule->init(&rs, m->proj, m->n_proj, 1, e->rule_params, &err), PLX_OK);
  reward = plx_task_reward(&e->task, m->out_learn, y);
  plx_task_output_grad(&e->task, m->out_learn, y, g);
  memset(&sig, 0, sizeof sig);
  sig.batch = 1;
  sig.reward = &reward;
  sig.dl_dout = g;
  sig.learn = 1;
  sig.lr_scale = 1.0;
  sig.dt = m->dt;
  sig.drive = m->drive;
  sig.drive_ready = &m->drive_ready;
  ck_assert_int_eq(m->drive_ready, 0);
  ck_assert_int_eq(e->rule->apply(rs, m->proj, m->n_proj, &sig), PLX_OK);
  ck_assert_int_eq(m->drive_ready, 1);
  {
    const plx_projection *W = plx_model_projection(m, "W"),
                         *C = plx_model_projection(m, "C"),
                         *b = plx_model_projection(m, "b");
    for (i = 0; i < N; i++)
      h[i] = b->w[i];
    for (j = 0; j < N; j++)
      for (i = 0; i < N; i++)
        h[i] = fma(W->w[i + j * N], W->pre[j], h[i]);
    if (delay)
      for (j = 0; j < 12; j++)
        for (i = 0; i < N; i++)
          h[i] = fma(C->w[i + j * N], C->pre[j], h[i]);
    /* the current agrees to rounding (whether the compiler fused the
     * multiply-adds is its choice; the bitwise check is the training run) */
    for (i = 0; i < N; i++)
      ck_assert_double_eq_tol(m->drive[i], h[i], 1e-12 * (1.0 + fabs(h[i])));
  }
  e->rule->free(rs);

  /* training with and without the fusion */
  plx_model_set_weights(m, w0);
  ck_assert_int_eq(m->drive_ready, 0);
  ck_assert_int_eq(plx_train(e, &lc1, 1, NULL, &err), PLX_OK);
  plx_model_get_weights(m, w1);
  plx_model_set_weights(m, w0);
  {
    double *keep = m->drive;
    m->drive = NULL; /* the trainer then offers no current to fill */
    ck_assert_int_eq(plx_train(e, &lc2, 1, NULL, &err), PLX_OK);
    m->drive = keep;
  }
  plx_model_get_weights(m, w2);
  ck_assert(memcmp(w0, w1, nw * sizeof *w0) != 0);
  ck_assert(memcmp(w1, w2, nw * sizeof *w1) == 0);
  ck_assert_int_eq(lc1.n, lc2.n);
  ck_assert(memcmp(lc1.error, lc2.error, lc1.n * sizeof(double)) == 0);
  plx_learning_curve_release(&lc1);
  plx_learning_curve_release(&lc2);
  plx_rng_free(net);
  free(w0);
  free(w1);
  free(w2);
  plx_experiment_free(e);
}
END_TEST

/* Many short test trials: every segment is kept once, memory stays
 * proportional to the number of segments. */
START_TEST(test_grid_protocol_many_trials)
{
  plx_experiment *e = make_exp(
      NULL, "test = { trials = 300; duration = 3.0; stimuli_per_trial = 3;"
            " record_every = 0.1; batch = 4; };");
  plx_grid_stats g;
  plx_error err;
  size_t k;
  double total = 0;
  ck_assert_int_eq(plx_experiment_init_weights(e, &err), PLX_OK);
  ck_assert_int_eq(plx_protocol_grid(e, &g, 2, NULL, &err), PLX_OK);
  ck_assert_uint_eq(g.n_seg, 900);
  ck_assert_uint_le(g.cap_seg, 4 * 900);
  for (k = 0; k < g.G; k++)
    total += g.count[k];
  /* 299 steps per trial, a sample every 10 steps: 29 samples */
  ck_assert_double_eq(total, 300.0 * 29.0);
  plx_grid_stats_release(&g);
  plx_experiment_free(e);
}
END_TEST

/* -------------------------------------------------------- bad input */

static const char *const base_cfg =
    "experiment = { name = \"t\"; };\n"
    "model = { type = \"recurrent_langevin\"; n = 8; };\n";

static const struct {
  const char *tail, *needle;
} bad[] = {
    {"rule = { name = \"trifactr\"; };", "bad.cfg:3: rule.name: unknown rule 'trifactr' (did you mean 'trifactor'? valid rules: gradient, node_perturbation, trifactor"},
    {"rule = { name = \"trifactor\"; projections = { X = { eta = 1.0; }; }; };", "rule.projections.X: the model has no projection 'X' (it has: W, C, b, D)"},
    {"rule = { name = \"trifactor\"; average_rate = 2.0; };", "bad.cfg:3: rule.average_rate: expected a number > 0 and <= 1, got 2"},
    {"rule = { name = \"trifactor\"; etaa = 1.0; };", "rule.etaa: unknown key"},
    {"rule = { path = \"/x\"; };", "bad.cfg:3: rule: missing required key rule.name (one of: gradient, node_perturbation, trifactor"},
    {"prior = { type = \"uniform\"; kappa = 2.0; };", "prior.kappa: only used by type = \"von_mises\""},
    {"task = { type = \"estimation\"; gain = 3.0; };", "task.gain: only used by type = \"classification\""},
    {"prior = { type = \"uniform\"; mu = 1.0; };", "prior.mu: only used by type = \"von_mises\""},
    {"stimulus = { process = \"langevn\"; };", "stimulus.process: expected one of: langevin, langevin_exact, iid; got \"langevn\""},
    {"stimulus = { encoder = { nn = 3; }; };", "stimulus.encoder.nn: unknown key (did you mean 'n'?"},
    {"train = { warmup = 2000.0; };", "train.warmup: must be shorter than train.duration"},
    {"tset = { trials = 3; };", "bad.cfg:3: tset: unknown key (did you mean 'test'?"},
};

START_TEST(test_bad_experiment_configs)
{
  char text[2048];
  plx_error err;
  int rc;
  snprintf(text, sizeof text, "%s%s\n", base_cfg, bad[_i].tail);
  rc = load_error(text, &err);
  ck_assert_int_ne(rc, PLX_OK);
  ck_assert_int_eq(plx_exit_status(rc), PLX_EXIT_BADINPUT);
  ck_assert_msg(strstr(err.msg, bad[_i].needle) != NULL, "case %d: '%s' lacks '%s'",
                _i, err.msg, bad[_i].needle);
  ck_assert_ptr_null(strchr(err.msg, '\n'));
}
END_TEST

START_TEST(test_bad_model_configs)
{
  plx_error err;
  int rc;
  rc = load_error("model = { type = \"recurent\"; };", &err);
  ck_assert_int_eq(rc, PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "bad.cfg:1: model.type: unknown model 'recurent' (did you mean 'recurrent_langevin'? valid models: feedforward, recurrent_langevin") != NULL, "%s", err.msg);
  rc = load_error("model = { n = 3; };", &err);
  ck_assert_int_eq(rc, PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "bad.cfg:1: model: missing required key model.type (one of: feedforward, recurrent_langevin") != NULL, "%s", err.msg);
  rc = load_error("experiment = { };", &err);
  ck_assert_msg(strstr(err.msg, "model: missing required key") != NULL, "%s", err.msg);
  rc = load_error("model = { type = \"recurrent_langevin\"; clip = [1.0, 0.5]; };", &err);
  ck_assert_msg(strstr(err.msg, "model.clip: expected [lo, hi] with lo < hi") != NULL, "%s", err.msg);
  rc = load_error("model = { type = \"recurrent_langevin\"; nonlinearity = { type = \"tanh\"; }; clip = [0.0, 2.0]; };", &err);
  ck_assert_msg(strstr(err.msg, "tanh rates must stay inside (-1, 1)") != NULL, "%s", err.msg);
  rc = load_error("model = { type = \"recurrent_langevin\"; sigma = -1.0; };", &err);
  ck_assert_msg(strstr(err.msg, "bad.cfg:1: model.sigma: expected a number >= 0, got -1") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_weights_errors)
{
  plx_experiment *e = make_exp("weights = \"/nonexistent/w.h5\";", NULL);
  plx_error err;
  int rc = plx_experiment_init_weights(e, &err);
  ck_assert_int_eq(rc, PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "/nonexistent/w.h5: cannot open weights file") != NULL, "%s", err.msg);
  plx_experiment_free(e);
  /* the authors' network has 40 units: a model of 8 must refuse it */
  e = make_exp("weights = \"" PLX_SRCDIR "/tests/data/bredenberg2020_network_cr.json\";", NULL);
  rc = plx_experiment_init_weights(e, &err);
  ck_assert_int_eq(rc, PLX_EINVAL);
  ck_assert_msg(strstr(err.msg, "W is 40x40 but the model's projection W is 8x8") != NULL, "%s", err.msg);
  plx_experiment_free(e);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("circuit");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int nf;
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_euler_step_exact);
  tcase_add_test(tc, test_input_delay_zero);
  tcase_add_test(tc, test_noise_variance_scales_with_dt);
  tcase_add_test(tc, test_divergence_is_reported);
  tcase_add_test(tc, test_ornstein_uhlenbeck);
  tcase_add_test(tc, test_units_inverse);
  tcase_add_test(tc, test_trifactor_two_units_by_hand);
  tcase_add_test(tc, test_von_mises_sampler);
  tcase_add_test(tc, test_langevin_stationary_kappa);
  tcase_add_test(tc, test_stationary_density_reported);
  tcase_add_test(tc, test_iid_process_holds);
  tcase_add_test(tc, test_trifactor_exact);
  tcase_add_test(tc, test_bitwise_over_threads);
  tcase_add_loop_test(tc, test_fused_drive_bitwise, 0, 4);
  tcase_add_test(tc, test_grid_protocol_many_trials);
  tcase_add_loop_test(tc, test_bad_experiment_configs, 0, (int)(sizeof bad / sizeof bad[0]));
  tcase_add_test(tc, test_bad_model_configs);
  tcase_add_test(tc, test_weights_errors);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
