/* plastix/prior.h -- stimulus priors p(theta) on the circle [-pi, pi).
 *
 * A prior is a weighted mixture of components (von Mises, uniform); the
 * usual cases -- one von Mises, uniform -- are one-component mixtures.
 * `shift` and `tighten` keys move and sharpen every component, which is how
 * the "shifted" and "tightened" prior variants of the paper are written. */
#ifndef PLASTIX_PRIOR_H
#define PLASTIX_PRIOR_H

#include "plastix/config.h"
#include "plastix/rng.h"

typedef struct plx_prior plx_prior;

extern const plx_param_spec plx_prior_spec[];

/* Build from a validated `prior` section. */
int plx_prior_from_params(plx_prior **out, const plx_params *p, plx_error *err);
/* Convenience constructors (tests, probes). */
plx_prior *plx_prior_von_mises(double mu, double kappa);
plx_prior *plx_prior_uniform(void);
void plx_prior_free(plx_prior *p);

double plx_prior_density(const plx_prior *p, double theta);
/* d/dtheta log p(theta): the Langevin drift direction. */
double plx_prior_dlog(const plx_prior *p, double theta);
double plx_prior_sample(const plx_prior *p, plx_rng *rng);
/* One-line description, e.g. "von_mises(mu=0, kappa=0.75)". */
const char *plx_prior_describe(const plx_prior *p);
/* kappa of a single-von-Mises prior, or NAN. */
double plx_prior_kappa(const plx_prior *p);

/* Sampling helpers. */
double plx_von_mises_sample(double mu, double kappa, plx_rng *rng);
double plx_von_mises_density(double theta, double mu, double kappa);
/* Wrap an angle into [-pi, pi). */
double plx_wrap_angle(double theta);

#endif
