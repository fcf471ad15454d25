/* plastix/task.h -- what a circuit's readout is for: the target for a
 * stimulus, the loss, the reward (third factor) and dLoss/d(readout).
 *
 *  estimation:     y = (cos theta, sin theta), z = D r (2 outputs)
 *                  loss L = 1/2 |y - z|^2, dL/dz = z - y,
 *                  reward alpha = -|y - z|^2 (reference code, no baseline)
 *  classification: y = 1 if theta >= boundary (or theta <= -pi), else 0;
 *                  psi = logistic(gain z) (1 output),
 *                  loss L = -[y log psi + (1-y) log(1-psi)],
 *                  dL/dz = -gain (y - psi),
 *                  reward alpha = -L with psi clipped to [eps, 1-eps]. */
#ifndef PLASTIX_TASK_H
#define PLASTIX_TASK_H

#include "plastix/config.h"
#include <stddef.h>

typedef enum { PLX_TASK_ESTIMATION, PLX_TASK_CLASSIFICATION } plx_task_kind;

typedef struct plx_task {
  plx_task_kind kind;
  size_t n_out;
  double gain;      /* classification: logistic gain on z (reference 100) */
  double boundary;  /* classification: class 1 if theta >= boundary      */
  double clip;      /* classification: psi clipped to [clip, 1-clip] for the reward */
} plx_task;

extern const plx_param_spec plx_task_spec[];

int plx_task_from_params(plx_task *t, const plx_params *p, plx_error *err);
const char *plx_task_name(const plx_task *t);
void plx_task_target(const plx_task *t, double theta, double *y);
/* Task loss of readout z against target y (learning curves, test error). */
double plx_task_loss(const plx_task *t, const double *z, const double *y);
/* Third factor alpha (larger is better). */
double plx_task_reward(const plx_task *t, const double *z, const double *y);
/* dLoss/dz into g (n_out). */
void plx_task_output_grad(const plx_task *t, const double *z, const double *y,
                          double *g);
/* The task's prediction from z: z itself (estimation) or psi (classification). */
void plx_task_predict(const plx_task *t, const double *z, double *out);
/* Error measure reported as "test error": squared error |y - z|^2 for
 * estimation, misclassification (0/1) for classification. */
double plx_task_error(const plx_task *t, const double *z, const double *y);

#endif
