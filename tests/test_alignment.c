/* test_alignment.c -- every registered rule, on small circuits where the
 * expected objective has an exact gradient, makes a mean update that points
 * along that gradient.
 *
 * Circuits (stimulus held fixed; three stimuli, equally weighted):
 *   - feedforward, relax mode, one layer of 2 units: the stationary density
 *     of the layer given its input is p(r) ~ exp(-2 E(r)/sigma^2) with
 *     E = sum_i F(r_i) - r^T (W x + b), F the integral of f^-1;
 *   - recurrent_langevin with 2 units and symmetric W: the same with
 *     E = sum_i F(r_i) - r^T W r / 2 - r^T (C s + b).
 * The gradient of E[alpha] (alpha = -|y - D r|^2) is computed by quadrature
 * on a fine grid over r: for W (Frobenius gradient over symmetric
 * matrices) (1/sigma^2) Cov(alpha, r r^T), for an input projection
 * (2/sigma^2) Cov(alpha, r) x^T, for D -2 E[(D r - y) r^T].
 *
 * Each rule is run with its weights restored after every update, so the
 * updates sample one fixed network.  The test: the mean update's component
 * along the exact gradient is positive by more than 4 standard errors, and
 * its component orthogonal to it is no larger than sampling noise allows
 * (a chi-square bound on the squared norm, from batch-means standard
 * errors).  For W of the recurrent circuit the per-entry gradients of node
 * perturbation and BPTT are symmetrised first (the tied-weight gradient). */
#include "config.h"
#include "plastix/error.h"
#include "plastix/experiment.h"
#include "plastix/registry.h"
#include "plastix/units.h"

#include <check.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_STIM 3
#define GRID 400
#define BATCHES 40
#define N_RULES 3 /* gradient, node_perturbation, trifactor (checked in main) */

static const double stim_theta[N_STIM] = {-1.2, 0.1, 1.6};

typedef struct circuit {
  const char *name;
  const char *model;   /* model section */
  const char *proj[4]; /* projections compared */
  size_t n_proj;
} circuit;

static const circuit circuits[] = {
    {"feedforward relax, 1 layer",
     "type = \"feedforward\"; layers = [2]; mode = \"relax\"; sigma = 0.25; dt = 0.01;"
     " r0 = 0.5; clip = [1e-4, 100.0]; input_delay = 0;"
     " nonlinearity = { type = \"softplus\"; gain = 4.0; };",
     {"W1", "b1", "D"}, 3},
    {"recurrent_langevin, 2 units, symmetric W",
     "type = \"recurrent_langevin\"; n = 2; sigma = 0.25; dt = 0.01;"
     " r0 = 0.5; clip = [1e-4, 100.0]; input_delay = 0;"
     " nonlinearity = { type = \"softplus\"; gain = 4.0; };",
     {"W", "C", "b", "D"}, 4},
};
#define N_CIRCUITS (sizeof circuits / sizeof circuits[0])

/* Rule sections: every trained projection at eta 1 (updates are measured,
 * then undone), no decay. */
static void rule_section(const char *rule, const circuit *c, char *buf, size_t n)
{
  char projs[512];
  size_t i, k = 0;
  projs[0] = '\0';
  for (i = 0; i < c->n_proj; i++)
    k += (size_t)snprintf(projs + k, sizeof projs - k, "%s = { eta = 1.0; }; ",
                          c->proj[i]);
  if (strcmp(rule, "trifactor") == 0)
    snprintf(buf, n, "rule = { name = \"trifactor\"; average_rate = 0.0005;"
             " projections = { %s }; };", projs);
  else if (strcmp(rule, "node_perturbation") == 0)
    snprintf(buf, n, "rule = { name = \"node_perturbation\"; eligibility_tau = 4.0;"
             " baseline_rate = 0.0002; projections = { %s }; };", projs);
  else if (strcmp(rule, "gradient") == 0)
    snprintf(buf, n, "rule = { name = \"gradient\"; mode = \"bptt\"; window = 2000;"
             " projections = { %s }; };", projs);
  else
    buf[0] = '\0';
}

static plx_experiment *make(const circuit *c, const char *rule)
{
  char text[4096], rs[1024];
  plx_config *cfg;
  plx_experiment *e;
  plx_error err;
  rule_section(rule, c, rs, sizeof rs);
  snprintf(text, sizeof text,
           "experiment = { seed = 11; };\n"
           "stimulus = { encoder = { n = 4; }; };\n"
           "model = { %s };\n"
           "task = { type = \"estimation\"; };\n%s\n", c->model, rs);
  ck_assert_int_eq(plx_config_load_string(&cfg, text, "a.cfg", &err), PLX_OK);
  if (plx_experiment_from_config(&e, cfg, &err))
    ck_abort_msg("%s", err.msg);
  return e;
}

/* Fixed weights: moderate rates (0.2 .. 1.5) so the units are nonlinear
 * but rarely reach the clip bound. */
static void set_weights(plx_model *m)
{
  size_t k, i, j;
  for (k = 0; k < m->n_proj; k++) {
    plx_projection *p = &m->proj[k];
    for (j = 0; j < p->n_pre; j++)
      for (i = 0; i < p->n_post; i++) {
        double v;
        if (strcmp(p->name, "W") == 0) /* symmetric, weak */
          v = (i == j) ? 0.15 : -0.25;
        else if (p->flags & PLX_PROJ_BIAS)
          v = 0.35 + 0.1 * (double)i;
        else if (p->flags & PLX_PROJ_READOUT)
          v = (i == 0 ? 1.0 : -0.6) * (j == 0 ? 1.0 : -0.8) + 0.1 * (double)j;
        else
          v = 0.45 * sin(1.7 * (double)(i + 1) * (double)(j + 1) + 0.3 * (double)i);
        p->w[i + j * p->ld] = v;
      }
  }
}

/* ---------------------------------------------------------- quadrature */

typedef struct exact {
  /* column-major like the projections: W is 2 x 2 (recurrent) or W1 2 x 4 */
  double gW[2 * 4], gC[2 * 4], gb[2], gD[2 * 2];
} exact;

static void quadrature(plx_experiment *e, const circuit *c, exact *g)
{
  plx_model *m = e->model;
  const int rec = strcmp(m->type->name, "recurrent_langevin") == 0;
  plx_projection *D = plx_model_projection(m, "D");
  plx_projection *W = plx_model_projection(m, rec ? "W" : "W1");
  plx_projection *C = rec ? plx_model_projection(m, "C") : NULL;
  plx_projection *bb = plx_model_projection(m, rec ? "b" : "b1");
  const double sigma = 0.25, gain = 4.0, lo = 1e-4, hi = 2.5;
  const double h = (hi - lo) / GRID;
  size_t st, a, b2, i, j;
  (void)c;
  memset(g, 0, sizeof *g);
  for (st = 0; st < N_STIM; st++) {
    double x[4], y[2], u[2], Z = 0, Ea = 0, Er[2] = {0}, Erar[2] = {0};
    double Err[2][2] = {{0}}, Erra[2][2] = {{0}}, Edr[2][2] = {{0}}, lmax = -1e300;
    static double logp[GRID][GRID];
    plx_encoder_encode(&e->encoder, stim_theta[st], x);
    plx_task_target(&e->task, stim_theta[st], y);
    for (i = 0; i < 2; i++) {
      u[i] = bb->w[i];
      for (j = 0; j < 4; j++)
        u[i] += (rec ? C : W)->w[i + j * 2] * x[j];
    }
    for (a = 0; a < GRID; a++)
      for (b2 = 0; b2 < GRID; b2++) {
        double r[2] = {lo + (a + 0.5) * h, lo + (b2 + 0.5) * h}, E = 0;
        for (i = 0; i < 2; i++)
          E += plx_unit_finv_integral(PLX_UNIT_SOFTPLUS, gain, r[i]) - r[i] * u[i];
        if (rec)
          for (i = 0; i < 2; i++)
            for (j = 0; j < 2; j++)
              E -= 0.5 * W->w[i + j * 2] * r[i] * r[j];
        logp[a][b2] = -2.0 * E / (sigma * sigma);
        if (logp[a][b2] > lmax)
          lmax = logp[a][b2];
      }
    for (a = 0; a < GRID; a++)
      for (b2 = 0; b2 < GRID; b2++) {
        double r[2] = {lo + (a + 0.5) * h, lo + (b2 + 0.5) * h};
        double p = exp(logp[a][b2] - lmax), z[2], al = 0;
        for (i = 0; i < 2; i++) {
          z[i] = D->w[i] * r[0] + D->w[i + 2] * r[1];
          al -= (y[i] - z[i]) * (y[i] - z[i]);
        }
        Z += p;
        Ea += p * al;
        for (i = 0; i < 2; i++) {
          Er[i] += p * r[i];
          Erar[i] += p * r[i] * al;
          for (j = 0; j < 2; j++) {
            Err[i][j] += p * r[i] * r[j];
            Erra[i][j] += p * r[i] * r[j] * al;
            Edr[i][j] += p * (z[i] - y[i]) * r[j];
          }
        }
      }
    Ea /= Z;
    for (i = 0; i < 2; i++) {
      double cov_ar = Erar[i] / Z - Ea * Er[i] / Z;
      double gu = 2.0 / (sigma * sigma) * cov_ar / N_STIM;
      g->gb[i] += gu;
      for (j = 0; j < 4; j++) {
        if (rec)
          g->gC[i + j * 2] += gu * x[j];
        else
          g->gW[i + j * 2] += gu * x[j];
      }
      for (j = 0; j < 2; j++) {
        if (rec)
          g->gW[i + j * 2] += (Erra[i][j] / Z - Ea * Err[i][j] / Z) /
                              (sigma * sigma) / N_STIM;
        g->gD[i + j * 2] += -2.0 * Edr[i][j] / Z / N_STIM;
      }
    }
  }
}

/* ------------------------------------------------------- sampled updates */

/* run the rule; mean[] and se[] over the compared projections' entries */
static size_t sampled_updates(plx_experiment *e, const circuit *c,
                              double *mean, double *se)
{
  plx_model *m = e->model;
  const plx_rule_type *rt = e->rule;
  const size_t no = 2, ni = 4;
  const unsigned long burn = 3000, per_batch = 8000;
  void *rs;
  plx_signal sig;
  plx_grad_request req = {0, 0};
  plx_rng *rng = plx_rng_alloc(5, 0, PLX_POP_NETWORK);
  plx_rng *rngs[1];
  plx_error err;
  double x[4], y[2], g[2], reward, *w0, *bsum, *bsq, *var, dlz[2 * 2000];
  size_t nw = plx_model_weight_count(m), d = 0, k, i, n_win = 0, nb = 0;
  size_t idx[4], len[4];
  int grad = (rt->needs & PLX_NEEDS_BACKWARD) != 0;

  rngs[0] = rng;
  /* offsets of the compared projections in the flat weight vector */
  {
    size_t off = 0;
    for (k = 0; k < m->n_proj; k++) {
      size_t n = m->proj[k].n_post * m->proj[k].n_pre;
      for (i = 0; i < c->n_proj; i++)
        if (strcmp(m->proj[k].name, c->proj[i]) == 0) {
          idx[i] = off;
          len[i] = n;
        }
      off += n;
    }
    for (i = 0; i < c->n_proj; i++)
      d += len[i];
  }
  w0 = malloc(nw * sizeof *w0);
  bsum = calloc(d, sizeof *bsum);
  bsq = calloc(d, sizeof *bsq);
  var = calloc(d, sizeof *var);
  memset(mean, 0, d * sizeof *mean);
  ck_assert_int_eq(rt->init(&rs, m->proj, m->n_proj, 1, e->rule_params, &err), PLX_OK);
  if (grad) {
    rt->grad_request(rs, &req);
    ck_assert_int_eq(m->type->record(m, req.window), PLX_OK);
  }
  memset(&sig, 0, sizeof sig);
  sig.batch = 1;
  sig.reward = &reward;
  sig.dl_dout = g;
  sig.lr_scale = 1.0;
  sig.dt = m->dt;
  plx_model_get_weights(m, w0);
  for (k = 0; k < N_STIM; k++) {
    unsigned long t, b;
    plx_encoder_encode(&e->encoder, stim_theta[k], x);
    plx_task_target(&e->task, stim_theta[k], y);
    m->type->reset(m, x, 1);
    rt->reset(rs);
    n_win = 0;
    nb = 0;
    memset(bsum, 0, d * sizeof *bsum);
    memset(bsq, 0, d * sizeof *bsq);
    for (b = 0; b <= BATCHES / N_STIM; b++) {
      double *acc = calloc(d, sizeof *acc);
      for (t = 0; t < (b == 0 ? burn : per_batch); t++) {
        ck_assert_int_eq(m->type->step(m, x, rngs, &err), PLX_OK);
        reward = plx_task_reward(&e->task, m->out_learn, y);
        plx_task_output_grad(&e->task, m->out_learn, y, g);
        sig.learn = b > 0;
        sig.grad_ready = 0;
        if (grad) {
          dlz[n_win * no] = g[0] / req.window;
          dlz[n_win * no + 1] = g[1] / req.window;
          if (++n_win == req.window) {
            ck_assert_int_eq(m->type->backward(m, dlz, req.window, &err), PLX_OK);
            sig.grad_ready = 1;
            n_win = 0;
          }
        }
        ck_assert_int_eq(rt->apply(rs, m->proj, m->n_proj, &sig), 0);
        if (sig.learn) {
          /* measure the update, then undo it */
          size_t q = 0, p2;
          for (p2 = 0; p2 < c->n_proj; p2++) {
            plx_projection *pr = plx_model_projection(m, c->proj[p2]);
            size_t r2, c2;
            for (c2 = 0; c2 < pr->n_pre; c2++)
              for (r2 = 0; r2 < pr->n_post; r2++, q++)
                acc[q] += pr->w[r2 + c2 * pr->ld] - w0[idx[p2] + r2 + c2 * pr->n_post];
          }
          plx_model_set_weights(m, w0);
        }
      }
      if (b > 0) {
        for (i = 0; i < d; i++) {
          double v = acc[i] / (double)per_batch;
          bsum[i] += v;
          bsq[i] += v * v;
        }
        nb++;
      }
      free(acc);
    }
    /* this stimulus' mean and the variance of that mean (batch means);
     * the objective weighs the stimuli equally */
    for (i = 0; i < d; i++) {
      double mu = bsum[i] / (double)nb;
      mean[i] += mu / N_STIM;
      var[i] += (bsq[i] / (double)nb - mu * mu) / (double)(nb - 1) / (N_STIM * N_STIM);
    }
  }
  (void)ni;
  for (i = 0; i < d; i++)
    se[i] = sqrt(var[i]);
  free(var);
  if (grad)
    m->type->record(m, 0);
  rt->free(rs);
  plx_rng_free(rng);
  free(w0);
  free(bsum);
  free(bsq);
  return d;
}

START_TEST(test_rule_aligns_with_gradient)
{
  const size_t n_rules = N_RULES;
  const circuit *c = &circuits[(size_t)_i / n_rules];
  const plx_rule_type *rt = plx_builtin_rules[(size_t)_i % n_rules];
  plx_experiment *e = make(c, rt->name);
  exact g;
  double mean[64], se[64];
  size_t d, p, off = 0;
  int rec = strcmp(e->model->type->name, "recurrent_langevin") == 0;
  set_weights(e->model);
  quadrature(e, c, &g);
  d = sampled_updates(e, c, mean, se);
  ck_assert_uint_le(d, 64);
  fprintf(stderr, "%s, rule %s:\n", c->name, rt->name);
  for (p = 0; p < c->n_proj; p++) {
    plx_projection *pr = plx_model_projection(e->model, c->proj[p]);
    size_t n = pr->n_post * pr->n_pre, i, j;
    const double *ex = (pr->flags & PLX_PROJ_READOUT) ? g.gD
                       : (pr->flags & PLX_PROJ_BIAS)  ? g.gb
                       : (rec && strcmp(pr->name, "C") == 0) ? g.gC : g.gW;
    double *mu = mean + off, *s = se + off, gg = 0, mg = 0, mm = 0, S = 0;
    double par, se_par = 0, perp2, bound, cosv;
    if (rec && strcmp(pr->name, "W") == 0 && strcmp(rt->name, "trifactor") != 0) {
      /* per-entry gradients: the tied (symmetric) part */
      for (i = 0; i < 2; i++)
        for (j = i + 1; j < 2; j++) {
          double a = 0.5 * (mu[i + j * 2] + mu[j + i * 2]);
          double sa = 0.5 * sqrt(s[i + j * 2] * s[i + j * 2] + s[j + i * 2] * s[j + i * 2]);
          mu[i + j * 2] = mu[j + i * 2] = a;
          s[i + j * 2] = s[j + i * 2] = sa;
        }
    }
    for (i = 0; i < n; i++) {
      gg += ex[i] * ex[i];
      mg += mu[i] * ex[i];
      mm += mu[i] * mu[i];
      S += s[i] * s[i];
    }
    par = mg / sqrt(gg);
    for (i = 0; i < n; i++)
      se_par += s[i] * s[i] * ex[i] * ex[i] / gg;
    se_par = sqrt(se_par);
    perp2 = mm - par * par;
    cosv = mg / sqrt(gg * mm);
    /* orthogonal part: at most the sampling noise of n-1 directions */
    bound = n > 1 ? S * gsl_cdf_chisq_Pinv(1.0 - 1e-4, (double)(n - 1)) / (double)n : 0;
    fprintf(stderr, "  %-3s cos %.4f  parallel %.3g (%.1f se)  |perp|^2 %.3g <= %.3g\n",
            pr->name, cosv, par, par / se_par, perp2, bound);
    ck_assert_msg(par > 4.0 * se_par, "%s %s %s: parallel component %g, se %g",
                  c->name, rt->name, pr->name, par, se_par);
    if (n > 1)
      ck_assert_msg(perp2 <= bound, "%s %s %s: orthogonal part %g > noise bound %g (cos %g)",
                    c->name, rt->name, pr->name, perp2, bound, cosv);
    off += n;
  }
  plx_experiment_free(e);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("alignment");
  TCase *tc = tcase_create("rules");
  SRunner *sr;
  size_t n_rules = 0;
  int nf;
  while (plx_builtin_rules[n_rules])
    n_rules++;
  if (n_rules != N_RULES) {
    fprintf(stderr, "test_alignment: %zu registered rules, the test knows %d\n",
            n_rules, N_RULES);
    return 1;
  }
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, test_rule_aligns_with_gradient, 0,
                      (int)(n_rules * N_CIRCUITS));
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
