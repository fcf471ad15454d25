/* trainer.c -- the training loop: stimulus process -> model step -> task
 * signals -> rule, one Euler step at a time, in the reference code's order
 * (see models/recurrent_langevin.c and rules/trifactor.c). */
#include "config.h"
#include "plastix/trainer.h"
#include "plastix/blas_threads.h"
#include "plastix/clock.h"
#include "plastix/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void plx_learning_curve_release(plx_learning_curve *lc)
{
  if (!lc)
    return;
  free(lc->time);
  free(lc->reward);
  free(lc->error);
  free(lc->eval_trial);
  free(lc->eval_error);
  free(lc->eval_sem);
  memset(lc, 0, sizeof *lc);
}

static int lc_push(plx_learning_curve *lc, double t, double rw, double er)
{
  if (lc->n == lc->cap) {
    size_t cap = lc->cap ? 2 * lc->cap : 256;
    double *a = realloc(lc->time, cap * sizeof *a);
    if (!a) return PLX_ENOMEM;
    lc->time = a;
    a = realloc(lc->reward, cap * sizeof *a);
    if (!a) return PLX_ENOMEM;
    lc->reward = a;
    a = realloc(lc->error, cap * sizeof *a);
    if (!a) return PLX_ENOMEM;
    lc->error = a;
    lc->cap = cap;
  }
  lc->time[lc->n] = t;
  lc->reward[lc->n] = rw;
  lc->error[lc->n] = er;
  lc->n++;
  return PLX_OK;
}

static int lc_push_eval(plx_learning_curve *lc, double trial, double m, double s)
{
  if (lc->n_eval == lc->cap_eval) {
    size_t cap = lc->cap_eval ? 2 * lc->cap_eval : 32;
    double *a = realloc(lc->eval_trial, cap * sizeof *a);
    if (!a) return PLX_ENOMEM;
    lc->eval_trial = a;
    a = realloc(lc->eval_error, cap * sizeof *a);
    if (!a) return PLX_ENOMEM;
    lc->eval_error = a;
    a = realloc(lc->eval_sem, cap * sizeof *a);
    if (!a) return PLX_ENOMEM;
    lc->eval_sem = a;
    lc->cap_eval = cap;
  }
  lc->eval_trial[lc->n_eval] = trial;
  lc->eval_error[lc->n_eval] = m;
  lc->eval_sem[lc->n_eval] = s;
  lc->n_eval++;
  return PLX_OK;
}

static int evaluate(plx_experiment *e, plx_learning_curve *lc, long trial,
                    int index, int threads, plx_error *err)
{
  plx_prior_stats ps;
  double m = 0, v = 0;
  long i, n = e->train.eval_trials;
  int rc = plx_protocol_prior(e, n, e->train.eval_duration,
                              e->train.eval_transient, e->test.record_every,
                              index, 12, &ps, threads, err);
  if (rc)
    return rc;
  for (i = 0; i < n; i++)
    m += ps.trial_err[i];
  m /= (double)n;
  for (i = 0; i < n; i++)
    v += (ps.trial_err[i] - m) * (ps.trial_err[i] - m);
  v = n > 1 ? v / (double)(n - 1) : 0.0;
  plx_prior_stats_release(&ps);
  if (lc_push_eval(lc, (double)trial, m, sqrt(v / (double)n)))
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  return PLX_OK;
}

/* Steady-state gradients: dLoss/dz at the fixed point's readout. */
typedef struct steady_ctx {
  const plx_task *task;
  const double *y;
} steady_ctx;

static void steady_dl(void *vctx, size_t col, const double *z, double *g)
{
  steady_ctx *c = vctx;
  (void)col;
  plx_task_output_grad(c->task, z, c->y, g);
}

static int train_run(plx_experiment *e, plx_learning_curve *lc, int threads,
                     const plx_progress *prog, plx_error *err)
{
  plx_model *m = e->model;
  const plx_rule_type *rule = e->rule;
  const size_t ni = e->encoder.n, no = e->task.n_out;
  const unsigned long K = plx_experiment_steps(e, e->train.duration);
  const double dt = m->dt;
  const unsigned long block = (unsigned long)llround(e->train.record_every / dt);
  void *rs = NULL;
  plx_rng *stim = NULL, *net = NULL;
  double *x = NULL, *y = NULL, *g = NULL, reward = 0;
  double acc_r = 0, acc_e = 0, t_total = 0, t0 = plx_clock_seconds();
  unsigned long acc_n = 0;
  plx_signal sig;
  plx_grad_request req;
  double *dlz = NULL; /* BPTT: dLoss/dz of each step of the window */
  unsigned long n_win = 0;
  steady_ctx sctx;
  long trial;
  int rc = PLX_OK, n_eval = 0, want_grad = 0;

  memset(lc, 0, sizeof *lc);
  /* the curve's size is known: allocate it now, not in the step loop */
  {
    size_t per_trial = (K > 1 ? (K - 2) / (block ? block : 1) + 1 : 1);
    size_t blocks = (size_t)e->train.trials * per_trial + 1;
    size_t evals = e->train.eval_every > 0
                       ? (size_t)(e->train.trials / e->train.eval_every) + 2 : 1;
    lc->time = malloc(blocks * sizeof(double));
    lc->reward = malloc(blocks * sizeof(double));
    lc->error = malloc(blocks * sizeof(double));
    lc->eval_trial = malloc(evals * sizeof(double));
    lc->eval_error = malloc(evals * sizeof(double));
    lc->eval_sem = malloc(evals * sizeof(double));
    if (!lc->time || !lc->reward || !lc->error || !lc->eval_trial ||
        !lc->eval_error || !lc->eval_sem) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory (learning curve)");
      goto done;
    }
    lc->cap = blocks;
    lc->cap_eval = evals;
  }
  x = calloc(ni, sizeof *x);
  y = calloc(no, sizeof *y);
  g = calloc(no, sizeof *g);
  stim = plx_rng_alloc(0, 0, 0);
  net = plx_rng_alloc(0, 0, 0);
  if (!x || !y || !g || !stim || !net) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  if (rule && (rc = rule->init(&rs, m->proj, m->n_proj, 1, e->rule_params, err)))
    goto done;
  memset(&req, 0, sizeof req);
  if (rule && (rule->needs & PLX_NEEDS_BACKWARD)) {
    /* plx_experiment_load checked that the model can do what is asked */
    rule->grad_request(rs, &req);
    want_grad = 1;
    if (req.mode == PLX_GRAD_BPTT &&
        (!(dlz = calloc(req.window * no, sizeof *dlz)) ||
         m->type->record(m, req.window))) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory (gradient window)");
      goto done;
    }
  }
  sctx.task = &e->task;
  sctx.y = y;
  memset(&sig, 0, sizeof sig);
  sig.batch = 1;
  sig.reward = &reward;
  sig.dl_dout = g;
  sig.dt = dt;
  /* the rule may sum the model's next input current while it updates */
  sig.drive = m->drive;
  sig.drive_ready = m->drive ? &m->drive_ready : NULL;

  if (prog && prog->fn)
    prog->fn(prog->ctx, "train", 0.0);
  if (e->train.eval_every > 0 && e->train.trials > 0 &&
      (rc = evaluate(e, lc, 0, n_eval++, threads, err)))
    goto done;

  for (trial = 0; trial < e->train.trials; trial++) {
    double theta;
    unsigned long k;
    plx_rng *nets[1];
    nets[0] = net;
    plx_rng_reseed(stim, e->seed, (uint64_t)trial, PLX_POP_STIMULUS);
    plx_rng_reseed(net, e->seed, (uint64_t)trial, PLX_POP_NETWORK);
    sig.lr_scale = e->train.schedule_exp
                       ? e->train.schedule_a * exp(-(double)trial / e->train.schedule_tau) + 1.0
                       : 1.0;
    theta = plx_process_start(&e->process, stim);
    plx_encoder_encode(&e->encoder, theta, x);
    if ((rc = m->type->reset(m, x, 1)))
      goto done;
    if (rule && rule->reset)
      rule->reset(rs);
    n_win = 0; /* reset() restarted the model's recording */
    for (k = 1; k < K; k++) {
      theta = plx_process_step(&e->process, theta, k, stim);
      plx_encoder_encode(&e->encoder, theta, x);
      if ((rc = m->type->step(m, x, nets, err))) {
        if (rc == PLX_EDIVERGE) {
          char where[64];
          snprintf(where, sizeof where, "training trial %ld", trial);
          plx_experiment_diverged(e, err, where, (double)k * dt);
        }
        goto done;
      }
      plx_task_target(&e->task, theta, y);
      /* learning curve: the readout as recorded */
      acc_r += plx_task_reward(&e->task, m->out, y);
      acc_e += plx_task_error(&e->task, m->out, y);
      acc_n++;
      if (acc_n == block) {
        t_total += (double)block * dt;
        if (lc_push(lc, t_total, acc_r / (double)acc_n, acc_e / (double)acc_n)) {
          rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
          goto done;
        }
        acc_r = acc_e = 0;
        acc_n = 0;
      }
      if (rule) {
        /* signals from the clipped state, computed once before any update */
        reward = plx_task_reward(&e->task, m->out_learn, y);
        plx_task_output_grad(&e->task, m->out_learn, y, g);
        sig.learn = (double)k * dt > e->train.warmup;
        sig.step = k;
        sig.grad_ready = 0;
        if (want_grad && req.mode == PLX_GRAD_BPTT) {
          /* gradient of the window's mean loss */
          size_t d;
          for (d = 0; d < no; d++)
            dlz[n_win * no + d] = g[d] / (double)req.window;
          if (++n_win == req.window) {
            if (sig.learn) {
              if ((rc = m->type->backward(m, dlz, req.window, err)))
                goto done;
              sig.grad_ready = 1;
            } else if ((rc = m->type->record(m, req.window))) {
              rc = plx_error_set(err, rc, "out of memory");
              goto done;
            }
            n_win = 0;
          }
        } else if (want_grad && sig.learn && k % req.window == 0) {
          if ((rc = m->type->steady_grad(m, x, steady_dl, &sctx, err)))
            goto done;
          sig.grad_ready = 1;
        }
        if ((rc = rule->apply(rs, m->proj, m->n_proj, &sig))) {
          rc = plx_error_set(err, rc, "rule %s failed at trial %ld", rule->name, trial);
          goto done;
        }
      }
    }
    /* blocks do not straddle trials: flush a partial block */
    if (acc_n > 0) {
      t_total += (double)acc_n * dt;
      if (lc_push(lc, t_total, acc_r / (double)acc_n, acc_e / (double)acc_n)) {
        rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
        goto done;
      }
      acc_r = acc_e = 0;
      acc_n = 0;
    }
    if (e->train.eval_every > 0 &&
        ((trial + 1) % e->train.eval_every == 0 || trial + 1 == e->train.trials) &&
        (rc = evaluate(e, lc, trial + 1, n_eval++, threads, err)))
      goto done;
    if (prog && prog->fn)
      prog->fn(prog->ctx, "train", (double)(trial + 1) / (double)e->train.trials);
  }
done:
  m->drive_ready = 0;
  lc->seconds = plx_clock_seconds() - t0;
  if (rule && rs)
    rule->free(rs);
  if (want_grad && req.mode == PLX_GRAD_BPTT)
    m->type->record(m, 0);
  free(dlz);
  plx_rng_free(stim);
  plx_rng_free(net);
  free(x);
  free(y);
  free(g);
  return rc;
}

/* the entry point: with OpenBLAS single-threaded (plastix/blas_threads.h) */
int plx_train(plx_experiment *e, plx_learning_curve *lc, int threads,
              const plx_progress *prog, plx_error *err)
{
  int rc;
  plx_blas_serial_enter();
  rc = train_run(e, lc, threads, prog, err);
  plx_blas_serial_leave();
  return rc;
}
