/* plastix/protocol.h -- frozen-network test protocols.  They run trials
 * with plasticity off and reduce every recorded sample into sufficient
 * statistics (sums of r, r r^T, readouts, energies, errors) from which the
 * probes compute tuning curves, covariances, d', ...  Trials run in
 * parallel on `threads` threads (<= 0: OpenMP's default; plx_team_size in
 * plastix/parallel.h); each trial's sums are merged in trial order, so the
 * result is bitwise identical for any number of threads. */
#ifndef PLASTIX_PROTOCOL_H
#define PLASTIX_PROTOCOL_H

#include "plastix/experiment.h"
#include "plastix/progress.h"

/* Grid protocol: each trial holds k angles drawn uniformly from a grid of
 * G angles theta_j = -pi + 2 pi j / G (G = test.angles, by default the
 * input population's size, i.e. its preferred angles), each for
 * duration/k. */
typedef struct plx_grid_stats {
  size_t G, N, n_out, n_in;
  double *theta;        /* [G] grid angles                                 */
  double *count;        /* [G] samples                                     */
  double *sum_r;        /* N × G                                           */
  double *sum_rr;       /* N × N × G (full symmetric)                      */
  double *sum_o;        /* n_out × G   readout as recorded                 */
  double *sum_oo;       /* n_out × n_out × G                               */
  double *sum_err;      /* [G] task error (|y - z|^2 or 0/1)               */
  double *sum_err2;     /* [G]                                             */
  double *sum_energy;   /* [G] reference energy (r^2/2 for the integral)   */
  double *sum_energy2;  /* [G]                                             */
  double *sum_energy_exact, *sum_energy_exact2; /* [G] exact integral of f^-1 */
  double *sum_abs_rec;  /* [G] sum over samples of mean_i |(W r)_i|        */
  double *sum_abs_in;   /* [G] sum over samples of mean_i |(C s)_i|        */
  /* one row per held stimulus (trial segment): independent replicates for
   * standard errors that respect the autocorrelation within a segment */
  size_t n_seg, cap_seg;
  long *seg_g;          /* [n_seg] grid index                              */
  double *seg_o;        /* n_out × n_seg mean readout                      */
  double *seg_rate;     /* [n_seg] mean over samples and units of r        */
  double *seg_err;      /* [n_seg] mean task error                         */
  double *seg_energy;   /* [n_seg] mean reference energy                   */
  /* every recorded sample of the first test.record_trials trials:
   * act_per_trial samples each, trial-major */
  size_t act_trials, act_per_trial;
  double *act_t, *act_theta; /* [act_trials × act_per_trial]              */
  double *act_r;             /* N × (act_trials × act_per_trial)           */
  double *act_o;             /* n_out × (act_trials × act_per_trial)       */
  /* first trial's recorded trace, for an example figure */
  size_t ex_n;
  double *ex_t, *ex_theta, *ex_out; /* ex_out: n_out × ex_n */
  int has_energy;
} plx_grid_stats;

/* On failure *st holds nothing to release. */
int plx_protocol_grid(plx_experiment *e, plx_grid_stats *st, int threads,
                      const plx_progress *prog, plx_error *err);
void plx_grid_stats_release(plx_grid_stats *st);

/* Prior protocol: theta follows the stimulus process (as in training). */
typedef struct plx_prior_stats {
  size_t n_out, n_bins;
  double n[2], sum_z[2], sum_zz[2]; /* first readout by class: the target
                                       (classification) or theta >= 0   */
  double *bin_center;               /* [n_bins] over [-pi, pi)              */
  double *bin_count, *bin_err, *bin_err2;
  double count, err, err2;          /* all samples                          */
  long trials;
  double *trial_err;                /* [trials] mean error of each trial    */
} plx_prior_stats;

/* population: PLX_POP_TEST_* for the final test, PLX_POP_SUB(EVAL, k) for
 * the k-th evaluation during training (streams differ per evaluation). */
int plx_protocol_prior(plx_experiment *e, long trials, double duration,
                       double transient, long record_every, int eval_index,
                       size_t n_bins, plx_prior_stats *st, int threads,
                       plx_error *err);
void plx_prior_stats_release(plx_prior_stats *st);

#endif
