/* task.c -- estimation and classification objectives of a linear readout. */
#include "config.h"
#include "plastix/task.h"
#include "plastix/error.h"

#include <math.h>
#include <string.h>

const plx_param_spec plx_task_spec[] = {
    PLX_P_STRING("type", "estimation", "estimation|classification",
                 "estimation of (cos, sin) or binary classification"),
    PLX_P_FLOAT_MIN("gain", 100.0, 0.0, PLX_PARAM_MIN_EXCL,
                    "classification: logistic gain on the readout"),
    PLX_P_FLOAT_RANGE("boundary", 0.0, -M_PI, M_PI, 0,
                      "classification: class 1 when theta >= boundary"),
    PLX_P_FLOAT_RANGE("clip", 1e-4, 0.0, 0.5, PLX_PARAM_MIN_EXCL | PLX_PARAM_MAX_EXCL,
                      "classification: psi clipped to [clip, 1-clip] in the reward"),
    PLX_P_END};

int plx_task_from_params(plx_task *t, const plx_params *p, plx_error *err)
{
  const char *type = plx_params_string(p, "type");
  memset(t, 0, sizeof *t);
  t->kind = strcmp(type, "classification") == 0 ? PLX_TASK_CLASSIFICATION
                                                 : PLX_TASK_ESTIMATION;
  t->n_out = t->kind == PLX_TASK_ESTIMATION ? 2 : 1;
  t->gain = plx_params_float(p, "gain");
  t->boundary = plx_params_float(p, "boundary");
  t->clip = plx_params_float(p, "clip");
  if (t->kind == PLX_TASK_ESTIMATION) {
    static const char *const only_cls[] = {"gain", "boundary", "clip"};
    size_t i;
    for (i = 0; i < 3; i++)
      if (plx_params_has(p, only_cls[i]))
        return plx_params_error(p, only_cls[i], err,
                                "only used by type = \"classification\"");
  }
  return PLX_OK;
}

const char *plx_task_name(const plx_task *t)
{
  return t->kind == PLX_TASK_ESTIMATION ? "estimation" : "classification";
}

void plx_task_target(const plx_task *t, double theta, double *y)
{
  if (t->kind == PLX_TASK_ESTIMATION) {
    y[0] = cos(theta);
    y[1] = sin(theta);
  } else {
    y[0] = (theta >= t->boundary || theta <= -M_PI) ? 1.0 : 0.0;
  }
}

static double logistic(double x)
{
  return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

double plx_task_loss(const plx_task *t, const double *z, const double *y)
{
  if (t->kind == PLX_TASK_ESTIMATION) {
    double a = y[0] - z[0], b = y[1] - z[1];
    return 0.5 * (a * a + b * b);
  } else {
    /* cross-entropy from the logit, stable for large |gain z| */
    double u = t->gain * z[0];
    double softplus_u = u > 0 ? u + log1p(exp(-u)) : log1p(exp(u));
    return softplus_u - y[0] * u;
  }
}

double plx_task_reward(const plx_task *t, const double *z, const double *y)
{
  if (t->kind == PLX_TASK_ESTIMATION) {
    double a = y[0] - z[0], b = y[1] - z[1];
    return -(a * a + b * b);
  } else {
    double psi = logistic(t->gain * z[0]);
    if (psi < t->clip)
      psi = t->clip;
    else if (1.0 - psi < t->clip)
      psi = 1.0 - t->clip;
    return y[0] * log(psi) + (1.0 - y[0]) * log(1.0 - psi);
  }
}

void plx_task_output_grad(const plx_task *t, const double *z, const double *y,
                          double *g)
{
  if (t->kind == PLX_TASK_ESTIMATION) {
    g[0] = z[0] - y[0];
    g[1] = z[1] - y[1];
  } else {
    g[0] = -t->gain * (y[0] - logistic(t->gain * z[0]));
  }
}

void plx_task_predict(const plx_task *t, const double *z, double *out)
{
  if (t->kind == PLX_TASK_ESTIMATION) {
    out[0] = z[0];
    out[1] = z[1];
  } else {
    out[0] = logistic(t->gain * z[0]);
  }
}

double plx_task_error(const plx_task *t, const double *z, const double *y)
{
  if (t->kind == PLX_TASK_ESTIMATION) {
    double a = y[0] - z[0], b = y[1] - z[1];
    return a * a + b * b;
  }
  return ((t->gain * z[0] >= 0) ? 1.0 : 0.0) != y[0];
}
