/* units.c -- the non-inline parts of the rate-unit response functions. */
#include "config.h"
#include "plastix/units.h"

#include <gsl/gsl_sf_dilog.h>
#include <string.h>

plx_unit_kind plx_unit_parse(const char *name)
{
  if (strcmp(name, "relu") == 0)
    return PLX_UNIT_RELU;
  if (strcmp(name, "tanh") == 0)
    return PLX_UNIT_TANH;
  return PLX_UNIT_SOFTPLUS;
}

double plx_unit_finv_integral(plx_unit_kind k, double g, double r)
{
  switch (k) {
  case PLX_UNIT_SOFTPLUS:
    /* r^2/2 + (1/g^2) int_0^{g r} log(1 - e^{-u}) du
     *       = r^2/2 + (Li2(e^{-g r}) - pi^2/6) / g^2 */
    return 0.5 * r * r + (gsl_sf_dilog(exp(-g * r)) - M_PI * M_PI / 6.0) / (g * g);
  case PLX_UNIT_RELU: return 0.5 * r * r / g;
  default: return (r * atanh(r) + 0.5 * log1p(-r * r)) / g;
  }
}
