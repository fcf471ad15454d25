/* stimulus.c -- stimulus processes over theta and the rectified-cosine
 * input population.  The reference Langevin update is
 *   theta <- wrap(theta + sigma_s^2 * dlogp(theta) * dt + sigma_s sqrt(dt) xi)
 * whose drift is twice that of an exact sampler, so it visits p^2 (for a
 * von Mises prior: kappa_stationary = 2 kappa_in). */
#include "config.h"
#include "plastix/stimulus.h"
#include "plastix/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const plx_param_spec encoder_spec[] = {
    PLX_P_STRING("type", "rectified_cosine", "rectified_cosine",
                 "input population tuning"),
    PLX_P_INT_MIN("n", 12, 1, "input units, preferred angles -pi + 2 pi j / n"),
    PLX_P_FLOAT_MIN("gain", 1.0, 0.0, PLX_PARAM_MIN_EXCL, "peak input rate"),
    PLX_P_END};

const plx_param_spec plx_stimulus_spec[] = {
    PLX_P_STRING("process", "langevin", "langevin|langevin_exact|iid",
                 "langevin: the reference code's update (stationary kappa = "
                 "2 kappa); langevin_exact: stationary = prior; iid: held draws"),
    PLX_P_FLOAT_MIN("sigma", 0.06, 0.0, PLX_PARAM_MIN_EXCL,
                    "Langevin noise sigma_s"),
    PLX_P_FLOAT_MIN("hold", 200.0, 0.0, PLX_PARAM_MIN_EXCL,
                    "iid: time units each draw is held"),
    PLX_P_GROUP("encoder", encoder_spec, "input population"),
    PLX_P_END};

const char *plx_process_name(plx_process_kind k)
{
  switch (k) {
  case PLX_PROCESS_LANGEVIN: return "langevin";
  case PLX_PROCESS_LANGEVIN_EXACT: return "langevin_exact";
  default: return "iid";
  }
}

int plx_process_from_params(plx_process *proc, const plx_params *p,
                            const plx_prior *prior, double dt, plx_error *err)
{
  const char *k = plx_params_string(p, "process");
  memset(proc, 0, sizeof *proc);
  proc->kind = strcmp(k, "langevin") == 0         ? PLX_PROCESS_LANGEVIN
               : strcmp(k, "langevin_exact") == 0 ? PLX_PROCESS_LANGEVIN_EXACT
                                                  : PLX_PROCESS_IID;
  proc->prior = prior;
  proc->sigma = plx_params_float(p, "sigma");
  proc->hold = plx_params_float(p, "hold");
  proc->dt = dt;
  proc->hold_steps = (unsigned long)llround(proc->hold / dt);
  if (proc->kind == PLX_PROCESS_IID && proc->hold_steps < 1)
    return plx_params_error(p, "hold", err,
                            "must be at least one time step (%g)", dt);
  if (proc->kind != PLX_PROCESS_IID && plx_params_has(p, "hold"))
    return plx_params_error(p, "hold", err, "only used by process = \"iid\"");
  return PLX_OK;
}

double plx_process_start(const plx_process *proc, plx_rng *rng)
{
  return plx_prior_sample(proc->prior, rng);
}

double plx_process_step(const plx_process *proc, double theta,
                        unsigned long k, plx_rng *rng)
{
  double drift, t;
  switch (proc->kind) {
  case PLX_PROCESS_IID:
    return (k % proc->hold_steps == 0) ? plx_prior_sample(proc->prior, rng)
                                       : theta;
  case PLX_PROCESS_LANGEVIN:
  case PLX_PROCESS_LANGEVIN_EXACT:
  default:
    drift = proc->sigma * proc->sigma * plx_prior_dlog(proc->prior, theta);
    if (proc->kind == PLX_PROCESS_LANGEVIN_EXACT)
      drift *= 0.5;
    t = theta + drift * proc->dt +
        proc->sigma * sqrt(proc->dt) * plx_rng_normal(rng);
    /* the reference wraps by one period, which is exact for small steps */
    if (t < -M_PI)
      t += 2.0 * M_PI;
    else if (t > M_PI)
      t -= 2.0 * M_PI;
    return t;
  }
}

double plx_process_stationary_density(const plx_process *proc, double theta)
{
  double p = plx_prior_density(proc->prior, theta);
  if (proc->kind == PLX_PROCESS_LANGEVIN) {
    /* normalise p^2 on a fine grid (cheap: the prior is smooth) */
    double z = 0;
    int i, n = 2048;
    for (i = 0; i < n; i++) {
      double q = plx_prior_density(proc->prior, -M_PI + 2.0 * M_PI * (i + 0.5) / n);
      z += q * q;
    }
    z *= 2.0 * M_PI / n;
    return p * p / z;
  }
  return p;
}

double plx_process_stationary_kappa(const plx_process *proc)
{
  double k = plx_prior_kappa(proc->prior);
  return proc->kind == PLX_PROCESS_LANGEVIN ? 2.0 * k : k;
}

/* ------------------------------------------------------------- encoder */

int plx_encoder_init(plx_encoder *enc, size_t n, double gain)
{
  size_t j;
  enc->n = n;
  enc->gain = gain;
  enc->pref = malloc(3 * n * sizeof *enc->pref);
  if (!enc->pref)
    return PLX_ENOMEM;
  enc->cpref = enc->pref + n;
  enc->spref = enc->pref + 2 * n;
  for (j = 0; j < n; j++) {
    enc->pref[j] = -M_PI + 2.0 * M_PI * (double)j / (double)n;
    enc->cpref[j] = cos(enc->pref[j]);
    enc->spref[j] = sin(enc->pref[j]);
  }
  return PLX_OK;
}

int plx_encoder_from_params(plx_encoder *enc, const plx_params *p,
                            plx_error *err)
{
  if (plx_encoder_init(enc, (size_t)plx_params_int(p, "n"),
                       plx_params_float(p, "gain")))
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  return PLX_OK;
}

void plx_encoder_release(plx_encoder *enc)
{
  if (enc) {
    free(enc->pref);
    enc->pref = enc->cpref = enc->spref = NULL;
  }
}

void plx_encoder_encode(const plx_encoder *enc, double theta, double *s)
{
  size_t j;
  /* cos(a)cos(b) + sin(a)sin(b), as the reference projects (cos, sin) */
  double c = cos(theta), sn = sin(theta);
  for (j = 0; j < enc->n; j++) {
    double v = enc->cpref[j] * c + enc->spref[j] * sn;
    s[j] = v > 0 ? enc->gain * v : 0.0;
  }
}

void plx_encoder_derivative(const plx_encoder *enc, double theta, double *ds)
{
  size_t j;
  double c = cos(theta), sn = sin(theta);
  for (j = 0; j < enc->n; j++) {
    double v = enc->cpref[j] * c + enc->spref[j] * sn;
    double dv = -enc->cpref[j] * sn + enc->spref[j] * c;
    ds[j] = v > 0 ? enc->gain * dv : 0.0;
  }
}
