/* gradient.c -- exact gradient descent on the task loss: the model
 * backpropagates (through the last `window` Euler--Maruyama steps with the
 * noise held fixed, or through its noise-free fixed point), the trainer
 * averages dLoss/dz over the window and batch, and this rule takes an SGD
 * step with optional momentum and weight decay per projection:
 *
 *   v <- mu v + (dL/dw + k w),    w <- w - eta v.
 *
 * eta is per update (one update per window), not per Euler step. */
#include "plastix/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gd_proj {
  int on;
  double eta, decay, momentum;
  double *v; /* velocity, n_post × n_pre */
} gd_proj;

typedef struct gd_state {
  size_t n;
  plx_grad_request req;
  gd_proj *p;
} gd_state;

static const plx_param_spec proj_spec[] = {
    PLX_P_FLOAT_MIN("eta", 0.0, 0.0, 0, "learning rate per update"),
    PLX_P_FLOAT_MIN("decay", 0.0, 0.0, 0, "weight decay k (L2)"),
    PLX_P_FLOAT_RANGE("momentum", 0.0, 0.0, 1.0, PLX_PARAM_MAX_EXCL,
                      "momentum mu of the velocity"),
    PLX_P_END};

static const plx_param_spec gd_spec[] = {
    PLX_P_STRING("mode", "bptt", "bptt|steady_state",
                 "bptt: backpropagation through the last `window` Euler steps "
                 "with the noise fixed; steady_state: noise-free fixed point, "
                 "implicit differentiation"),
    PLX_P_INT_RANGE("window", 100, 1, 1000000,
                    "Euler steps per gradient and per update"),
    PLX_P_MAP("projections", proj_spec,
              "trained projections by name: { eta; decay; momentum; }"),
    PLX_P_END};

static void gd_free(void *vs)
{
  gd_state *s = vs;
  size_t i;
  if (!s)
    return;
  if (s->p)
    for (i = 0; i < s->n; i++)
      free(s->p[i].v);
  free(s->p);
  free(s);
}

static int gd_init(void **out, plx_projection *proj, size_t n,
                   size_t max_batch, const plx_params *p, plx_error *err)
{
  const plx_params *map = plx_params_group(p, "projections");
  gd_state *s = calloc(1, sizeof *s);
  size_t i, k;
  (void)max_batch;
  *out = NULL;
  if (!s || !(s->p = calloc(n, sizeof *s->p))) {
    gd_free(s);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  s->n = n;
  s->req.mode = strcmp(plx_params_string(p, "mode"), "steady_state") == 0
                    ? PLX_GRAD_STEADY : PLX_GRAD_BPTT;
  s->req.window = (unsigned long)plx_params_int(p, "window");
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
      gd_free(s);
      return plx_params_error(map, name, err,
                              "the model has no projection '%s' (it has: %s)",
                              name, names);
    }
    if (!proj[i].grad) {
      gd_free(s);
      return plx_params_error(map, name, err,
                              "the model computes no gradient for projection '%s'",
                              name);
    }
    s->p[i].on = 1;
    s->p[i].eta = plx_params_float(pp, "eta");
    s->p[i].decay = plx_params_float(pp, "decay");
    s->p[i].momentum = plx_params_float(pp, "momentum");
    s->p[i].v = calloc(proj[i].n_post * proj[i].n_pre, sizeof(double));
    if (!s->p[i].v) {
      gd_free(s);
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    }
    proj[i].flags |= PLX_PROJ_PLASTIC;
  }
  *out = s;
  return 0;
}

static int gd_apply(void *vs, plx_projection *proj, size_t n,
                    const plx_signal *sig)
{
  gd_state *s = vs;
  size_t i, r, c;
  if (!sig->learn || !sig->grad_ready)
    return 0;
  for (i = 0; i < n; i++) {
    plx_projection *pr = &proj[i];
    gd_proj *gp = &s->p[i];
    const double eta = gp->eta * sig->lr_scale, mu = gp->momentum, k = gp->decay;
    if (!gp->on)
      continue;
    for (c = 0; c < pr->n_pre; c++) {
      double *w = pr->w + c * pr->ld, *v = gp->v + c * pr->n_post;
      const double *g = pr->grad + c * pr->n_post;
      for (r = 0; r < pr->n_post; r++) {
        v[r] = mu * v[r] + g[r] + k * w[r];
        w[r] -= eta * v[r];
      }
    }
  }
  return 0;
}

/* Velocities persist across trials (the optimiser's state is not a trace). */
static void gd_reset(void *vs) { (void)vs; }

static int gd_grad_request(void *vs, plx_grad_request *req)
{
  *req = ((gd_state *)vs)->req;
  return 0;
}

#ifdef PLX_RULE_MODULE
static
#endif
const plx_rule_type plx_rule_gradient = {
    PLX_RULE_ABI_VERSION,
    "gradient",
    "exact gradient descent: backprop (BPTT or steady state), SGD + momentum + decay",
    PLX_NEEDS_BACKWARD | PLX_NEEDS_OUTPUT_GRAD,
    gd_spec,
    gd_init,
    gd_apply,
    gd_reset,
    gd_free,
    gd_grad_request};

#ifdef PLX_RULE_MODULE
PLX_RULE_EXPORT(plx_rule_gradient);
#endif
