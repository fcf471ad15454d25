/* plastix/stimulus.h -- how stimuli reach a circuit: a process that moves
 * theta over time (Langevin as the reference code runs it, an exact Langevin
 * sampler, or i.i.d. draws held for a while) and an encoder that turns theta
 * into the input population's activity (rectified cosines). */
#ifndef PLASTIX_STIMULUS_H
#define PLASTIX_STIMULUS_H

#include "plastix/config.h"
#include "plastix/prior.h"
#include "plastix/rng.h"

typedef enum plx_process_kind {
  PLX_PROCESS_LANGEVIN,       /* reference code: drift sigma_s^2 dlogp; stationary
                                 density proportional to p(theta)^2          */
  PLX_PROCESS_LANGEVIN_EXACT, /* drift sigma_s^2/2 dlogp: stationary p(theta) */
  PLX_PROCESS_IID             /* fresh prior draw every `hold` time units     */
} plx_process_kind;

typedef struct plx_process {
  plx_process_kind kind;
  const plx_prior *prior; /* not owned */
  double sigma;           /* sigma_s of the Langevin process              */
  double hold;            /* i.i.d.: time units each draw is held         */
  double dt;              /* time step (the circuit's)                    */
  unsigned long hold_steps;
} plx_process;

extern const plx_param_spec plx_stimulus_spec[];

/* Fill from the `stimulus` section; dt is the circuit's step. */
int plx_process_from_params(plx_process *proc, const plx_params *p,
                            const plx_prior *prior, double dt, plx_error *err);
/* theta at the start of a trial: a draw from the prior. */
double plx_process_start(const plx_process *proc, plx_rng *rng);
/* theta at step k (k >= 1) given theta at step k-1. */
double plx_process_step(const plx_process *proc, double theta,
                        unsigned long k, plx_rng *rng);
/* Density the process visits in the long run (not normalised when
 * `normalise` is 0): p for exact/i.i.d., p^2/Z for the reference Langevin. */
double plx_process_stationary_density(const plx_process *proc, double theta);
/* kappa of that stationary density for a von Mises prior (2 kappa_in for the
 * reference process), or NAN for other priors. */
double plx_process_stationary_kappa(const plx_process *proc);
const char *plx_process_name(plx_process_kind k);

/* ------------------------------------------------------------- encoder */

typedef struct plx_encoder {
  size_t n;       /* input units                                          */
  double *pref;   /* preferred angles: -pi + 2 pi j / n                   */
  double *cpref, *spref; /* their cosines and sines                      */
  double gain;    /* s_j = gain * max(0, cos(theta - pref_j))             */
} plx_encoder;

int plx_encoder_from_params(plx_encoder *enc, const plx_params *p,
                            plx_error *err);
int plx_encoder_init(plx_encoder *enc, size_t n, double gain);
void plx_encoder_release(plx_encoder *enc);
void plx_encoder_encode(const plx_encoder *enc, double theta, double *s);
/* ds/dtheta (0 where a unit is rectified). */
void plx_encoder_derivative(const plx_encoder *enc, double theta, double *ds);

#endif
