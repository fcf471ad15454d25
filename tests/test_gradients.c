/* test_gradients.c -- every model's gradients against central finite
 * differences: backpropagation through recorded Euler--Maruyama steps with
 * the noise held fixed (the same random streams replayed), and the
 * implicit-differentiation gradient at the noise-free fixed point.  One test
 * body loops over every model that offers gradients. */
#include "config.h"
#include "plastix/error.h"
#include "plastix/experiment.h"
#include "plastix/task.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS 40
#define BATCH 2

/* model sections: small, smooth units far from the clip bounds */
static const char *const models[] = {
    "type = \"recurrent_langevin\"; n = 5; sigma = 0.1; dt = 0.05; r0 = 0.5;"
    " clip = [1e-6, 100.0]; nonlinearity = { type = \"softplus\"; gain = 4.0; };"
    " init = { W = { scale = 0.8; }; C = { scale = 1.0; }; b = { dist = \"constant\"; scale = 0.3; }; D = { scale = 2.0; }; };",
    "type = \"recurrent_langevin\"; n = 4; sigma = 0.1; dt = 0.05; r0 = 0.2;"
    " clip = [-0.99, 0.99]; nonlinearity = { type = \"tanh\"; gain = 1.0; };"
    " init = { W = { scale = 0.8; }; D = { scale = 2.0; }; };",
    "type = \"feedforward\"; layers = [4, 3]; mode = \"relax\"; sigma = 0.1; dt = 0.05; r0 = 0.5;"
    " clip = [1e-6, 100.0]; nonlinearity = { type = \"softplus\"; gain = 4.0; };"
    " init = { W = { scale = 1.0; }; b = { dist = \"constant\"; scale = 0.3; }; D = { scale = 2.0; }; };",
    "type = \"feedforward\"; layers = [4, 3]; mode = \"pass\"; sigma = 0.3;"
    " nonlinearity = { type = \"softplus\"; gain = 2.0; };"
    " init = { W = { scale = 1.0; }; D = { scale = 2.0; }; };",
};
#define N_MODELS (sizeof models / sizeof models[0])

static plx_experiment *make(const char *model)
{
  char text[4096];
  plx_config *cfg;
  plx_experiment *e;
  plx_error err;
  snprintf(text, sizeof text,
           "experiment = { seed = 3; };\n"
           "model = { %s };\n"
           "task = { type = \"estimation\"; };\n", model);
  ck_assert_int_eq(plx_config_load_string(&cfg, text, "g.cfg", &err), PLX_OK);
  if (plx_experiment_from_config(&e, cfg, &err))
    ck_abort_msg("%s", err.msg);
  ck_assert_int_eq(plx_experiment_init_weights(e, &err), PLX_OK);
  return e;
}

/* Loss of a fixed trajectory: the same inputs, targets and noise streams.
 * With dlz != NULL also records and backpropagates (grads in the model). */
static double trajectory_loss(plx_experiment *e, plx_model *m, double *dlz)
{
  const size_t ni = e->encoder.n, no = e->task.n_out;
  double x[12 * BATCH], y[2], loss = 0, g[2];
  plx_rng *rngs[BATCH];
  plx_error err;
  size_t k, b, d;
  for (b = 0; b < BATCH; b++) {
    rngs[b] = plx_rng_alloc(99, b, PLX_POP_NETWORK);
    plx_encoder_encode(&e->encoder, 0.3 + b, x + b * ni);
  }
  ck_assert_int_eq(m->type->reset(m, x, BATCH), PLX_OK);
  if (dlz)
    ck_assert_int_eq(m->type->record(m, STEPS), PLX_OK);
  for (k = 0; k < STEPS; k++) {
    for (b = 0; b < BATCH; b++)
      plx_encoder_encode(&e->encoder, 0.3 + b + 0.05 * (double)k, x + b * ni);
    ck_assert_int_eq(m->type->step(m, x, rngs, &err), PLX_OK);
    for (b = 0; b < BATCH; b++) {
      plx_task_target(&e->task, -1.0 + 0.5 * b + 0.02 * (double)k, y);
      loss += plx_task_loss(&e->task, m->out_learn + b * no, y);
      if (dlz) {
        plx_task_output_grad(&e->task, m->out_learn + b * no, y, g);
        for (d = 0; d < no; d++)
          dlz[(k * BATCH + b) * no + d] = g[d];
      }
    }
  }
  if (dlz)
    ck_assert_int_eq(m->type->backward(m, dlz, STEPS, &err), PLX_OK);
  for (b = 0; b < BATCH; b++)
    plx_rng_free(rngs[b]);
  return loss;
}

static void compare(const char *what, const plx_projection *p, size_t i,
                    size_t j, double analytic, double fd)
{
  double tol = 1e-6 + 2e-5 * fabs(fd);
  ck_assert_msg(fabs(analytic - fd) <= tol,
                "%s: d/d%s[%zu,%zu]: analytic %.10g, finite difference %.10g",
                what, p->name, i, j, analytic, fd);
}

START_TEST(test_bptt_matches_finite_differences)
{
  plx_experiment *e = make(models[_i]);
  plx_model *m;
  plx_error err;
  double dlz[STEPS * BATCH * 2];
  size_t k;
  const double h = 1e-6;
  ck_assert_int_eq(plx_model_clone(e->model, BATCH, &m, &err), PLX_OK);
  ck_assert_ptr_nonnull(m->type->backward);
  trajectory_loss(e, m, dlz);
  for (k = 0; k < m->n_proj; k++) {
    plx_projection *p = &m->proj[k];
    size_t i, j;
    double *grad = malloc(p->n_post * p->n_pre * sizeof *grad);
    memcpy(grad, p->grad, p->n_post * p->n_pre * sizeof *grad);
    for (j = 0; j < p->n_pre; j++)
      for (i = 0; i < p->n_post; i++) {
        double w0 = p->w[i + j * p->ld], lp, lm;
        p->w[i + j * p->ld] = w0 + h;
        lp = trajectory_loss(e, m, NULL);
        p->w[i + j * p->ld] = w0 - h;
        lm = trajectory_loss(e, m, NULL);
        p->w[i + j * p->ld] = w0;
        compare(models[_i], p, i, j, grad[i + j * p->n_post], (lp - lm) / (2 * h));
      }
    free(grad);
  }
  m->type->record(m, 0);
  plx_model_free(m);
  plx_experiment_free(e);
}
END_TEST

/* steady state: the loss of z* for fixed inputs and targets */
typedef struct ss_ctx {
  const plx_task *task;
  double y[BATCH][2];
  double loss;
} ss_ctx;

static void ss_dl(void *vc, size_t col, const double *z, double *g)
{
  ss_ctx *c = vc;
  c->loss += plx_task_loss(c->task, z, c->y[col]);
  plx_task_output_grad(c->task, z, c->y[col], g);
}

static double steady_loss(plx_experiment *e, plx_model *m, const double *x,
                          ss_ctx *c)
{
  plx_error err;
  c->loss = 0;
  ck_assert_int_eq(m->type->steady_grad(m, x, ss_dl, c, &err), PLX_OK);
  return c->loss;
}

START_TEST(test_steady_state_matches_finite_differences)
{
  plx_experiment *e = make(models[_i]);
  plx_model *m;
  plx_error err;
  ss_ctx c;
  double x[12 * BATCH];
  size_t k, b;
  const double h = 1e-6;
  ck_assert_int_eq(plx_model_clone(e->model, BATCH, &m, &err), PLX_OK);
  ck_assert_ptr_nonnull(m->type->steady_grad);
  c.task = &e->task;
  for (b = 0; b < BATCH; b++) {
    plx_encoder_encode(&e->encoder, 0.4 - 1.5 * b, x + b * e->encoder.n);
    plx_task_target(&e->task, 1.0 - b, c.y[b]);
  }
  m->type->reset(m, x, BATCH);
  steady_loss(e, m, x, &c);
  for (k = 0; k < m->n_proj; k++) {
    plx_projection *p = &m->proj[k];
    size_t i, j;
    double *grad = malloc(p->n_post * p->n_pre * sizeof *grad);
    memcpy(grad, p->grad, p->n_post * p->n_pre * sizeof *grad);
    for (j = 0; j < p->n_pre; j++)
      for (i = 0; i < p->n_post; i++) {
        double w0 = p->w[i + j * p->ld], lp, lm;
        p->w[i + j * p->ld] = w0 + h;
        lp = steady_loss(e, m, x, &c);
        p->w[i + j * p->ld] = w0 - h;
        lm = steady_loss(e, m, x, &c);
        p->w[i + j * p->ld] = w0;
        compare(models[_i], p, i, j, grad[i + j * p->n_post], (lp - lm) / (2 * h));
      }
    free(grad);
  }
  plx_model_free(m);
  plx_experiment_free(e);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("gradients");
  TCase *tc = tcase_create("finite_differences");
  SRunner *sr;
  int nf;
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_bptt_matches_finite_differences, 0, (int)N_MODELS);
  tcase_add_loop_test(tc, test_steady_state_matches_finite_differences, 0, (int)N_MODELS);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
