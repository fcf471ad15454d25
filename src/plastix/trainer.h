/* plastix/trainer.h -- the training loop of a circuit experiment.  The
 * trainer owns the loop (trials, warm-up, schedule, periodic evaluation);
 * the rule only says how projections change at one step. */
#ifndef PLASTIX_TRAINER_H
#define PLASTIX_TRAINER_H

#include "plastix/experiment.h"
#include "plastix/protocol.h"

typedef struct plx_learning_curve {
  /* training objective, one point per train.record_every time units */
  size_t n, cap;
  double *time;   /* time units since training began (block end)      */
  double *reward; /* mean third factor alpha over the block           */
  double *error;  /* mean task error over the block (as recorded)     */
  /* periodic frozen evaluation */
  size_t n_eval, cap_eval;
  double *eval_trial; /* trials completed when evaluated              */
  double *eval_error, *eval_sem; /* mean over eval trials ± s.e.m.    */
  double seconds;     /* wall time of training                        */
} plx_learning_curve;

/* Train e->model with e->rule for e->train.trials trials.  threads is used
 * for the frozen evaluations only (training trials are sequential); <= 0
 * means OpenMP's default (plx_team_size, plastix/parallel.h). */
int plx_train(plx_experiment *e, plx_learning_curve *lc, int threads,
              const plx_progress *prog, plx_error *err);
void plx_learning_curve_release(plx_learning_curve *lc);

#endif
