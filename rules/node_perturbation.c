/* node_perturbation.c -- node perturbation (Williams 1992; Fiete & Seung
 * 2006; Fiete, Fee & Seung 2007): the noise the circuit injects into each
 * unit is the perturbation, correlated with the deviation of the reward from
 * a running baseline.  For every plastic projection, per batch column,
 *
 *   e   <- lambda e + noise pre^T / noise_var     (lambda = exp(-dt/tau))
 *   w   <- w + eta [(R - Rbar) e - k w]            (after warm-up)
 *   Rbar <- Rbar + rho (R - Rbar)
 *
 * noise pre^T / noise_var is the score of w for one step (the likelihood
 * ratio of the Euler--Maruyama step or of a noisy pass), so with tau -> inf
 * and a fixed baseline the mean update is the gradient of the expected
 * reward; tau trades that bias for variance.  A readout has no injected
 * noise and learns by the delta rule, as in the tri-factor rule. */
#include "plastix/rule.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct np_proj {
  int on, readout;
  double eta, decay;
  double *e;      /* n_post × n_pre × max_batch eligibility */
  size_t e_size;
} np_proj;

typedef struct np_state {
  size_t n, max_batch;
  double tau, rho;
  double *base;   /* [max_batch] running reward baseline */
  int base_ready;
  np_proj *p;
} np_state;

static const plx_param_spec proj_spec[] = {
    PLX_P_FLOAT_MIN("eta", 0.0, 0.0, 0, "learning rate per Euler step"),
    PLX_P_FLOAT_MIN("decay", 0.0, 0.0, 0, "weight decay k"),
    PLX_P_END};

static const plx_param_spec np_spec[] = {
    PLX_P_FLOAT_MIN("eligibility_tau", 1.0, 0.0, 0,
                    "time constant of the eligibility trace (time units; "
                    "0: this step only)"),
    PLX_P_FLOAT_RANGE("baseline_rate", 0.001, 0.0, 1.0, PLX_PARAM_MIN_EXCL,
                      "rate rho of the running reward baseline per step"),
    PLX_P_MAP("projections", proj_spec,
              "plastic projections by name: { eta; decay; } (others frozen)"),
    PLX_P_END};

static void np_free(void *vs)
{
  np_state *s = vs;
  size_t i;
  if (!s)
    return;
  if (s->p)
    for (i = 0; i < s->n; i++)
      free(s->p[i].e);
  free(s->p);
  free(s->base);
  free(s);
}

static int np_init(void **out, plx_projection *proj, size_t n,
                   size_t max_batch, const plx_params *p, plx_error *err)
{
  const plx_params *map = plx_params_group(p, "projections");
  np_state *s = calloc(1, sizeof *s);
  size_t i, k;
  *out = NULL;
  if (!s || !(s->p = calloc(n, sizeof *s->p)) ||
      !(s->base = calloc(max_batch, sizeof *s->base))) {
    np_free(s);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  s->n = n;
  s->max_batch = max_batch;
  s->tau = plx_params_float(p, "eligibility_tau");
  s->rho = plx_params_float(p, "baseline_rate");
  for (k = 0; k < plx_params_count(map); k++) {
    const char *name = plx_params_key(map, k);
    const plx_params *pp = plx_params_at(map, k);
    for (i = 0; i < n; i++)
      if (strcmp(proj[i].name, name) == 0)
        break;
    if (i == n) {
      char names[256];
      size_t j, len = 0;
      names[0] = '\0';
      for (j = 0; j < n && len < sizeof names; j++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
                                j ? ", " : "", proj[j].name);
      np_free(s);
      return plx_params_error(map, name, err,
                              "the model has no projection '%s' (it has: %s)",
                              name, names);
    }
    s->p[i].on = 1;
    s->p[i].readout = !!(proj[i].flags & PLX_PROJ_READOUT);
    s->p[i].eta = plx_params_float(pp, "eta");
    s->p[i].decay = plx_params_float(pp, "decay");
    if (!s->p[i].readout) {
      if (!proj[i].noise || !(proj[i].noise_var > 0)) {
        np_free(s);
        return plx_params_error(map, name, err,
                                "projection '%s' has no injected noise to "
                                "correlate with the reward (node perturbation "
                                "needs model noise: sigma > 0)", name);
      }
      s->p[i].e_size = proj[i].n_post * proj[i].n_pre * max_batch;
      s->p[i].e = calloc(s->p[i].e_size, sizeof(double));
      if (!s->p[i].e) {
        np_free(s);
        return plx_error_set(err, PLX_ENOMEM, "out of memory");
      }
    }
    proj[i].flags |= PLX_PROJ_PLASTIC;
  }
  *out = s;
  return 0;
}

static void np_reset(void *vs)
{
  np_state *s = vs;
  size_t i;
  for (i = 0; i < s->n; i++)
    if (s->p[i].e)
      memset(s->p[i].e, 0, s->p[i].e_size * sizeof(double));
  s->base_ready = 0;
}

static int np_apply(void *vs, plx_projection *proj, size_t n,
                    const plx_signal *sig)
{
  np_state *s = vs;
  const size_t B = sig->batch;
  const double lam = s->tau > 0 ? exp(-sig->dt / s->tau) : 0.0;
  const double inv_b = 1.0 / (double)B;
  double delta[256];
  size_t i, j, r, b;
  if (B > 256 || !sig->reward)
    return PLX_EINVAL;
  for (b = 0; b < B; b++) {
    if (!s->base_ready)
      s->base[b] = sig->reward[b];
    delta[b] = sig->reward[b] - s->base[b];
    s->base[b] += s->rho * (sig->reward[b] - s->base[b]);
  }
  s->base_ready = 1;
  for (i = 0; i < n; i++) {
    plx_projection *pr = &proj[i];
    np_proj *q = &s->p[i];
    const size_t np_ = pr->n_post, nq = pr->n_pre;
    const double eta = q->eta * sig->lr_scale;
    if (!q->on)
      continue;
    if (q->readout) {
      if (!sig->learn)
        continue;
      if (!sig->dl_dout)
        return PLX_EINVAL;
      for (j = 0; j < nq; j++) {
        double *w = pr->w + j * pr->ld;
        for (r = 0; r < np_; r++)
          w[r] -= eta * q->decay * w[r];
      }
      for (b = 0; b < B; b++) {
        const double *g = sig->dl_dout + b * np_, *pre = pr->pre + b * nq;
        for (j = 0; j < nq; j++)
          for (r = 0; r < np_; r++)
            pr->w[r + j * pr->ld] -= eta * inv_b * g[r] * pre[j];
      }
      continue;
    }
    {
      const double inv_var = 1.0 / pr->noise_var;
      for (b = 0; b < B; b++) {
        const double *xi = pr->noise + b * np_;
        /* the activity that drove the step carries the score */
        const double *src = pr->pre_drive ? pr->pre_drive : pr->pre;
        const double *pre = src ? src + b * nq : NULL;
        double *e = q->e + b * np_ * nq;
        const double ed = eta * inv_b * delta[b];
        const double ek = b == 0 ? eta * q->decay : 0.0;
        for (j = 0; j < nq; j++) {
          const double pj = (pre ? pre[j] : 1.0) * inv_var;
          double *ej = e + j * np_, *w = pr->w + j * pr->ld;
          if (sig->learn)
            for (r = 0; r < np_; r++) {
              ej[r] = lam * ej[r] + xi[r] * pj;
              w[r] += ed * ej[r] - ek * w[r];
            }
          else
            for (r = 0; r < np_; r++)
              ej[r] = lam * ej[r] + xi[r] * pj;
        }
      }
    }
  }
  return 0;
}

#ifdef PLX_RULE_MODULE
static
#endif
const plx_rule_type plx_rule_node_perturbation = {
    PLX_RULE_ABI_VERSION,
    "node_perturbation",
    "node perturbation: eta[(R - Rbar) sum_t lambda^t noise pre^T / var - k w]",
    PLX_NEEDS_NOISE | PLX_NEEDS_REWARD | PLX_NEEDS_OUTPUT_GRAD,
    np_spec,
    np_init,
    np_apply,
    np_reset,
    np_free,
    NULL};

#ifdef PLX_RULE_MODULE
PLX_RULE_EXPORT(plx_rule_node_perturbation);
#endif
