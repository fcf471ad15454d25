/* prior.c -- mixtures of von Mises and uniform densities on the circle:
 * density, score (d log p / d theta) and exact sampling (Best & Fisher 1979
 * for the von Mises components). */
#include "config.h"
#include "plastix/prior.h"
#include "plastix/error.h"
#include "plastix/table.h"

#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMPONENTS 16

enum { COMP_VON_MISES, COMP_UNIFORM, COMP_TABLE };

typedef struct component {
  int kind;
  double weight, mu, kappa;
} component;

struct plx_prior {
  /* tabulated density: nt points (theta ascending in [-pi, pi)), periodic
   * linear interpolation, normalised; tmax its maximum */
  size_t nt;
  double *tt, *td, tmax;
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
    PLX_P_STRING("type", "von_mises", "von_mises|uniform|mixture|tabulated",
                 "prior family over theta in [-pi, pi)"),
    PLX_P_STRING("file", "", NULL, "tabulated: CSV with columns theta, density "
                 "(relative to the config file); interpolated linearly, "
                 "periodically, and normalised"),
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

/* Read theta, density columns of a CSV into p (type tabulated). */
static int load_table(plx_prior *p, const plx_params *pp, plx_error *err)
{
  const char *f = plx_params_string(pp, "file");
  config_setting_t *fs = plx_params_setting(pp, "file");
  const char *cp = plx_config_path(plx_params_config(pp)), *slash = strrchr(cp, '/');
  char path[2048];
  plx_table *t = NULL;
  size_t i, n;
  int ct, cd, rc;
  double z = 0;
  if (!f[0])
    return plx_params_error(pp, "type", err, "a tabulated prior needs prior.file");
  if (f[0] != '/' && slash && fs && config_setting_source_line(fs) > 0)
    snprintf(path, sizeof path, "%.*s/%s", (int)(slash - cp), cp, f);
  else
    snprintf(path, sizeof path, "%s", f);
  {
    /* the resolved config records the absolute path */
    char *abs = realpath(path, NULL);
    if (abs) {
      snprintf(path, sizeof path, "%s", abs);
      config_setting_set_string(fs, abs);
      free(abs);
    }
  }
  if ((rc = plx_table_read_csv(&t, path, err))) {
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err ? err->msg : "");
    return plx_params_error(pp, "file", err, "%s", why);
  }
  ct = plx_table_col_index(t, "theta");
  cd = plx_table_col_index(t, "density");
  n = plx_table_rows(t);
  if (ct < 0 || cd < 0 || plx_table_type(t, (size_t)ct) == 's' ||
      plx_table_type(t, (size_t)cd) == 's' || n < 3) {
    plx_table_free(t);
    return plx_params_error(pp, "file", err, "%s: expected numeric columns theta, "
                            "density and at least 3 rows", path);
  }
  p->tt = malloc(n * sizeof *p->tt);
  p->td = malloc(n * sizeof *p->td);
  if (!p->tt || !p->td) {
    plx_table_free(t);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (i = 0; i < n; i++) {
    p->tt[i] = plx_table_get(t, i, (size_t)ct);
    p->td[i] = plx_table_get(t, i, (size_t)cd);
    if (!(p->tt[i] >= -M_PI && p->tt[i] < M_PI) || (i && !(p->tt[i] > p->tt[i - 1])) ||
        !(p->td[i] >= 0) || !isfinite(p->td[i])) {
      plx_table_free(t);
      return plx_params_error(pp, "file", err, "%s: row %zu: theta must increase "
                              "within [-pi, pi) and density be >= 0", path, i + 1);
    }
  }
  plx_table_free(t);
  p->nt = n;
  /* normalise the periodic piecewise-linear interpolant (trapezoids) */
  for (i = 0; i < n; i++) {
    double t1 = p->tt[(i + 1) % n] + (i + 1 == n ? 2.0 * M_PI : 0.0);
    z += 0.5 * (p->td[i] + p->td[(i + 1) % n]) * (t1 - p->tt[i]);
  }
  if (!(z > 0))
    return plx_params_error(pp, "file", err, "%s: the density integrates to zero", path);
  p->tmax = 0;
  for (i = 0; i < n; i++) {
    p->td[i] /= z;
    if (p->td[i] > p->tmax)
      p->tmax = p->td[i];
  }
  p->n = 1;
  p->c[0].kind = COMP_TABLE;
  p->c[0].weight = 1.0;
  p->cum[0] = 1.0;
  snprintf(p->desc, sizeof p->desc, "tabulated(%s, %zu points)", path, n);
  return PLX_OK;
}

/* Interpolated density and its slope at theta. */
static double table_density(const plx_prior *p, double theta, double *slope)
{
  size_t lo = 0, hi = p->nt, i;
  double t0, t1, d0, d1;
  theta = plx_wrap_angle(theta);
  /* the interval [tt[i], tt[i+1]) holding theta, periodically */
  if (theta < p->tt[0] || theta >= p->tt[p->nt - 1]) {
    i = p->nt - 1;
    t0 = p->tt[i];
    t1 = p->tt[0] + 2.0 * M_PI;
    if (theta < p->tt[0])
      theta += 2.0 * M_PI;
  } else {
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (p->tt[mid] <= theta)
        lo = mid;
      else
        hi = mid;
    }
    i = lo;
    t0 = p->tt[i];
    t1 = p->tt[i + 1];
  }
  d0 = p->td[i];
  d1 = p->td[(i + 1) % p->nt];
  if (slope)
    *slope = (d1 - d0) / (t1 - t0);
  return d0 + (d1 - d0) * (theta - t0) / (t1 - t0);
}

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
  if (strcmp(type, "tabulated") == 0) {
    static const char *const not_here[] = {"mu", "kappa", "components"};
    int rc;
    for (i = 0; i < 3; i++)
      if (plx_params_has(pp, not_here[i])) {
        free(p);
        return plx_params_error(pp, not_here[i], err,
                                "not used by type = \"tabulated\" (the file gives the density)");
      }
    rc = load_table(p, pp, err);
    if (rc) {
      plx_prior_free(p);
      return rc;
    }
    if (plx_params_has(pp, "tighten") || plx_params_has(pp, "shift")) {
      plx_prior_free(p);
      return plx_params_error(pp, plx_params_has(pp, "shift") ? "shift" : "tighten", err,
                              "not available for a tabulated prior (edit the table)");
    }
    *out = p;
    return PLX_OK;
  }
  if (plx_params_has(pp, "file")) {
    free(p);
    return plx_params_error(pp, "file", err, "only used by type = \"tabulated\"");
  }
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

void plx_prior_free(plx_prior *p)
{
  if (p) {
    free(p->tt);
    free(p->td);
    free(p);
  }
}

double plx_prior_density(const plx_prior *p, double theta)
{
  double d = 0;
  size_t i;
  if (p->nt)
    return table_density(p, theta, NULL);
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
  if (p->nt) {
    double slope, d = table_density(p, theta, &slope);
    return d > 1e-300 ? slope / d : 0.0;
  }
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
  if (p->nt) { /* rejection from the uniform: exact for any table */
    for (;;) {
      double t = -M_PI + 2.0 * M_PI * plx_rng_uniform(rng);
      if (plx_rng_uniform(rng) * p->tmax <= table_density(p, t, NULL))
        return t;
    }
  }
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
  if (p->n != 1 || p->nt)
    return NAN;
  return p->c[0].kind == COMP_UNIFORM ? 0.0 : p->c[0].kappa;
}
