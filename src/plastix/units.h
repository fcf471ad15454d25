/* plastix/units.h -- rate-unit response functions shared by the circuit
 * models: f (forward), f^-1 (the leak of the Langevin dynamics), their
 * derivatives, and the integral of f^-1 (the energy).
 *
 *   softplus: f(x) = log(1 + e^{g x}) / g,  f^-1(r) = r + log1p(-e^{-g r}) / g
 *   relu:     f(x) = g max(0, x),           f^-1(r) = r / g
 *   tanh:     f(x) = tanh(g x),             f^-1(r) = atanh(r) / g        */
#ifndef PLASTIX_UNITS_H
#define PLASTIX_UNITS_H

#include <math.h>

typedef enum { PLX_UNIT_SOFTPLUS, PLX_UNIT_RELU, PLX_UNIT_TANH } plx_unit_kind;

/* Parse "softplus" | "relu" | "tanh". */
plx_unit_kind plx_unit_parse(const char *name);
/* integral_0^r f^-1(x) dx */
double plx_unit_finv_integral(plx_unit_kind k, double g, double r);

static inline double plx_unit_f(plx_unit_kind k, double g, double x)
{
  switch (k) {
  case PLX_UNIT_SOFTPLUS: {
    double u = g * x;
    return (u > 0 ? u + log1p(exp(-u)) : log1p(exp(u))) / g;
  }
  case PLX_UNIT_RELU: return x > 0 ? g * x : 0.0;
  default: return tanh(g * x);
  }
}

/* f'(x) */
static inline double plx_unit_df(plx_unit_kind k, double g, double x)
{
  switch (k) {
  case PLX_UNIT_SOFTPLUS: {
    double u = g * x;
    return u >= 0 ? 1.0 / (1.0 + exp(-u)) : exp(u) / (1.0 + exp(u));
  }
  case PLX_UNIT_RELU: return x > 0 ? g : 0.0;
  default: {
    double t = tanh(g * x);
    return g * (1.0 - t * t);
  }
  }
}

static inline double plx_unit_finv(plx_unit_kind k, double g, double r)
{
  switch (k) {
  case PLX_UNIT_SOFTPLUS: return r + log1p(-exp(-g * r)) / g;
  case PLX_UNIT_RELU: return r / g;
  default: return atanh(r) / g;
  }
}

/* d f^-1 / dr */
static inline double plx_unit_dfinv(plx_unit_kind k, double g, double r)
{
  switch (k) {
  case PLX_UNIT_SOFTPLUS: return 1.0 / (-expm1(-g * r));
  case PLX_UNIT_RELU: return 1.0 / g;
  default: return 1.0 / (g * (1.0 - r * r));
  }
}

#endif
