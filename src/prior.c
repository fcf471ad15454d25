/* prior.c -- mixtures of von Mises and uniform densities on the circle:
 * density, score (d log p / d theta) and exact sampling (Best & Fisher 1979
 * for the von Mises components). */
#include "config.h"
#include "plastix/prior.h"
#include "plastix/error.h"

#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMPONENTS 16

enum { COMP_VON_MISES, COMP_UNIFORM };

typedef struct component {
  int kind;
  double weight, mu, kappa;
} component;

struct plx_prior {
  size_t n;
  component c[MAX_COMPONENTS];
  double cum[MAX_COMPONENTS]; /* cumulative normalised weights */
  char desc[512];
};

static const plx_param_spec component_spec[] = {
    PLX_P_STRING("type", "von_mises", "von_mises|uniform", "component family"),
    PLX_P_FLOAT_MIN("weight", 1.0, 0.0, PLX_PARAM_MIN_EXCL, "mixture weight (normalised)"),
    PLX_P_FLOAT("mu", 0.0, "mean angle (radians)"),
    PLX_P_FLOAT_MIN("kappa", 1.0, 0.0, 0, "concentration (0 = uniform)"),
    PLX_P_END};

const plx_param_spec plx_prior_spec[] = {
    PLX_P_STRING("type", "von_mises", "von_mises|uniform|mixture",
                 "prior family over theta in [-pi, pi)"),
    PLX_P_FLOAT("mu", 0.0, "von_mises: mean angle (radians)"),
    PLX_P_FLOAT_MIN("kappa", 0.75, 0.0, 0, "von_mises: concentration"),
    PLX_P_MAP("components", component_spec,
              "mixture: named components { type; weight; mu; kappa }"),
    PLX_P_FLOAT("shift", 0.0, "added to every component mean (prior-shift variant)"),
    PLX_P_FLOAT_MIN("tighten", 1.0, 0.0, PLX_PARAM_MIN_EXCL,
                    "multiplies every kappa (tightened-prior variant)"),
    PLX_P_END};

double plx_wrap_angle(double theta)
{
  double t = fmod(theta + M_PI, 2.0 * M_PI);
  if (t < 0)
    t += 2.0 * M_PI;
  return t - M_PI;
}

double plx_von_mises_density(double theta, double mu, double kappa)
{
  /* exp(k cos) / (2 pi I0(k)) computed with the scaled Bessel function */
  return exp(kappa * (cos(theta - mu) - 1.0)) /
         (2.0 * M_PI * gsl_sf_bessel_I0_scaled(kappa));
}

double plx_von_mises_sample(double mu, double kappa, plx_rng *rng)
{
  double a, b, r, z, f, c, u1, u2, u3;
  if (kappa < 1e-8)
    return plx_wrap_angle(-M_PI + 2.0 * M_PI * plx_rng_uniform(rng));
  a = 1.0 + sqrt(1.0 + 4.0 * kappa * kappa);
  b = (a - sqrt(2.0 * a)) / (2.0 * kappa);
  r = (1.0 + b * b) / (2.0 * b);
  for (;;) {
    u1 = plx_rng_uniform(rng);
    u2 = plx_rng_uniform(rng);
    z = cos(M_PI * u1);
    f = (1.0 + r * z) / (r + z);
    c = kappa * (r - f);
    if (c * (2.0 - c) - u2 > 0.0 || log(c / u2) + 1.0 - c >= 0.0)
      break;
  }
  u3 = plx_rng_uniform(rng);
  if (f > 1.0) f = 1.0;
  if (f < -1.0) f = -1.0;
  return plx_wrap_angle(mu + (u3 > 0.5 ? acos(f) : -acos(f)));
}

static void finish(plx_prior *p)
{
  double tot = 0, acc = 0;
  size_t i, k = 0;
  for (i = 0; i < p->n; i++)
    tot += p->c[i].weight;
  for (i = 0; i < p->n; i++) {
    p->c[i].weight /= tot;
    acc += p->c[i].weight;
    p->cum[i] = acc;
  }
  p->cum[p->n - 1] = 1.0;
  p->desc[0] = '\0';
  for (i = 0; i < p->n; i++) {
    const component *c = &p->c[i];
    if (c->kind == COMP_UNIFORM)
      k += (size_t)snprintf(p->desc + k, sizeof p->desc - k, "%s%s%.3g*uniform",
                            i ? " + " : "", "", c->weight);
    else
      k += (size_t)snprintf(p->desc + k, sizeof p->desc - k,
                            "%s%.3g*von_mises(mu=%g, kappa=%g)", i ? " + " : "",
                            c->weight, c->mu, c->kappa);
    if (k >= sizeof p->desc)
      break;
  }
  if (p->n == 1) { /* drop the 1* for single components */
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", p->desc + 2);
    snprintf(p->desc, sizeof p->desc, "%s", tmp);
  }
}

plx_prior *plx_prior_von_mises(double mu, double kappa)
{
  plx_prior *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->n = 1;
  p->c[0].kind = kappa > 0 ? COMP_VON_MISES : COMP_UNIFORM;
  p->c[0].weight = 1;
  p->c[0].mu = mu;
  p->c[0].kappa = kappa;
  finish(p);
  return p;
}

plx_prior *plx_prior_uniform(void) { return plx_prior_von_mises(0, 0); }

int plx_prior_from_params(plx_prior **out, const plx_params *pp,
                          plx_error *err)
{
  const char *type = plx_params_string(pp, "type");
  double shift = plx_params_float(pp, "shift");
  double tighten = plx_params_float(pp, "tighten");
  plx_prior *p = calloc(1, sizeof *p);
  size_t i;
  *out = NULL;
  if (!p)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  if (strcmp(type, "mixture") == 0) {
    const plx_params *m = plx_params_group(pp, "components");
    size_t n = plx_params_count(m);
    if (n == 0 || n > MAX_COMPONENTS) {
      free(p);
      return plx_params_error(pp, "components", err,
                              "a mixture needs 1 to %d components, got %zu",
                              MAX_COMPONENTS, n);
    }
    for (i = 0; i < n; i++) {
      const plx_params *c = plx_params_at(m, i);
      p->c[i].kind = strcmp(plx_params_string(c, "type"), "uniform") == 0
                         ? COMP_UNIFORM : COMP_VON_MISES;
      p->c[i].weight = plx_params_float(c, "weight");
      p->c[i].mu = plx_params_float(c, "mu");
      p->c[i].kappa = plx_params_float(c, "kappa");
    }
    p->n = n;
  } else {
    p->n = 1;
    p->c[0].weight = 1.0;
    p->c[0].kind = strcmp(type, "uniform") == 0 ? COMP_UNIFORM : COMP_VON_MISES;
    p->c[0].mu = plx_params_float(pp, "mu");
    p->c[0].kappa = plx_params_float(pp, "kappa");
  }
  if (strcmp(type, "von_mises") != 0) {
    static const char *const vm_only[] = {"mu", "kappa"};
    for (i = 0; i < 2; i++)
      if (plx_params_has(pp, vm_only[i])) {
        free(p);
        return plx_params_error(pp, vm_only[i], err,
                                "only used by type = \"von_mises\" (a mixture "
                                "sets them per component)");
      }
  }
  if (plx_params_has(pp, "components") && strcmp(type, "mixture") != 0) {
    free(p);
    return plx_params_error(pp, "components", err,
                            "only used by type = \"mixture\"");
  }
  for (i = 0; i < p->n; i++) {
    p->c[i].mu = plx_wrap_angle(p->c[i].mu + shift);
    p->c[i].kappa *= tighten;
    if (p->c[i].kind == COMP_VON_MISES && p->c[i].kappa == 0)
      p->c[i].kind = COMP_UNIFORM;
  }
  finish(p);
  *out = p;
  return PLX_OK;
}

void plx_prior_free(plx_prior *p) { free(p); }

double plx_prior_density(const plx_prior *p, double theta)
{
  double d = 0;
  size_t i;
  for (i = 0; i < p->n; i++)
    d += p->c[i].weight * (p->c[i].kind == COMP_UNIFORM
                               ? 1.0 / (2.0 * M_PI)
                               : plx_von_mises_density(theta, p->c[i].mu,
                                                       p->c[i].kappa));
  return d;
}

double plx_prior_dlog(const plx_prior *p, double theta)
{
  double num = 0, den = 0;
  size_t i;
  if (p->n == 1) /* exact and cheap for the common case */
    return p->c[0].kind == COMP_UNIFORM
               ? 0.0
               : -p->c[0].kappa * sin(theta - p->c[0].mu);
  for (i = 0; i < p->n; i++) {
    const component *c = &p->c[i];
    double di = c->kind == COMP_UNIFORM
                    ? 1.0 / (2.0 * M_PI)
                    : plx_von_mises_density(theta, c->mu, c->kappa);
    den += c->weight * di;
    if (c->kind != COMP_UNIFORM)
      num += c->weight * di * (-c->kappa * sin(theta - c->mu));
  }
  return num / den;
}

double plx_prior_sample(const plx_prior *p, plx_rng *rng)
{
  size_t i = 0;
  if (p->n > 1) {
    double u = plx_rng_uniform(rng);
    while (i + 1 < p->n && u > p->cum[i])
      i++;
  }
  if (p->c[i].kind == COMP_UNIFORM)
    return plx_wrap_angle(-M_PI + 2.0 * M_PI * plx_rng_uniform(rng));
  return plx_von_mises_sample(p->c[i].mu, p->c[i].kappa, rng);
}

const char *plx_prior_describe(const plx_prior *p) { return p->desc; }

double plx_prior_kappa(const plx_prior *p)
{
  if (p->n != 1)
    return NAN;
  return p->c[0].kind == COMP_UNIFORM ? 0.0 : p->c[0].kappa;
}
