/* plastix/perceptual_results.h -- what a perceptual-learning run measured,
 * condition by condition, and the reductions over conditions: the
 * paper's comparisons as effects with z-scores, the tidy tables, the HDF5
 * arrays and the figures.  Filled by perceptual.c (the driver), read by
 * perceptual_report.c. */
#ifndef PLASTIX_PERCEPTUAL_RESULTS_H
#define PLASTIX_PERCEPTUAL_RESULTS_H

#include "plastix/perceptual.h"
#include "plastix/perceptual_units.h"
#include "plastix/rundir.h"

/* Test stimuli: the trained ones and the paper's four transfers. */
enum {
  PLX_PL_TEST_TRAINED,
  PLX_PL_TEST_ORI45,   /* reference rotated clockwise by 45 degrees */
  PLX_PL_TEST_ORI90,   /* by 90 degrees                             */
  PLX_PL_TEST_SF_HALF, /* spatial frequency halved (wavelength x 2) */
  PLX_PL_TEST_SF_DOUBLE,
  PLX_PL_N_TESTS
};
extern const char *const plx_pl_test_names[PLX_PL_N_TESTS];

typedef struct plx_pl_condition {
  double ref_deg, sep_deg, wavelength, contrast, noise_sd;
  size_t i_ref, i_sep, i_wl, i_con, i_noise;
  size_t group;  /* conditions equal in everything but the separation */
} plx_pl_condition;

enum { PLX_PL_REL1, PLX_PL_REL2, PLX_PL_M1, PLX_PL_M2, PLX_PL_N_CHANGE };
extern const char *const plx_pl_change_names[PLX_PL_N_CHANGE];

typedef struct plx_pl_results {
  /* design */
  size_t n_cond, n_groups, n_sep;
  plx_pl_condition *cond;
  double *seps;            /* [n_sep] separation grid, degrees, ascending  */
  long T;                  /* iterations                                   */
  size_t n_log;
  long *log_iter;          /* [n_log] 0, 1, ..., T (log-spaced)            */
  int transfer;            /* transfer test sets measured                  */
  long early_iter;         /* the "early" iteration of the rise effect     */
  /* behaviour */
  double *acc;             /* [n_cond][PLX_PL_N_TESTS][n_log] mean confidence */
  double *acc_sep;         /* [n_cond][PLX_PL_N_TESTS][n_sep] final, at every
                              test separation                              */
  double *loss;            /* [n_cond][T] training loss                     */
  /* layers: every conv and fc layer, in order (the last is the readout) */
  size_t n_wl;
  char (*wl_name)[32];
  double *change;          /* [n_cond][n_wl][PLX_PL_N_CHANGE][T + 1]         */
  double *psi;             /* [n_cond][n_wl] peak-speed iteration          */
  /* freezing */
  size_t n_freeze;
  long *freeze_depth;      /* [n_freeze] layers 1..k frozen                 */
  double freeze_threshold;
  long *t95;               /* [n_cond] first logged iteration with accuracy
                              >= threshold, -1 if never (then T is used)    */
  double *freeze_acc;      /* [n_cond][n_freeze] accuracy at t95            */
  /* units */
  int units;
  size_t n_pl, n_ori;
  char (*pl_name)[32];     /* [n_pl] probed layers                          */
  size_t *n_units;         /* [n_pl]                                        */
  double smooth_deg, min_activation, fi_window;
  plx_tuning *naive;       /* [n_pl]                                        */
  plx_tuning *trained;     /* [n_cond][n_pl]                                */
  double *fi_naive;        /* [n_pl][n_ori]                                 */
  double *fi_trained;      /* [n_cond][n_pl][n_ori]                         */
  /* effects (filled by plx_pl_effects) */
  plx_pl_effect effects[PLX_PL_N_EFFECTS];
  size_t high_from;        /* first probed layer counted as "high"          */
} plx_pl_results;

/* Index helpers */
#define PLX_PL_ACC(r, c, t, k) ((r)->acc[((c) * PLX_PL_N_TESTS + (t)) * (r)->n_log + (k)])
#define PLX_PL_ACCSEP(r, c, t, s) ((r)->acc_sep[((c) * PLX_PL_N_TESTS + (t)) * (r)->n_sep + (s)])
#define PLX_PL_CHANGE(r, c, l, m, it) \
  ((r)->change[(((c) * (r)->n_wl + (l)) * PLX_PL_N_CHANGE + (m)) * (size_t)((r)->T + 1) + (size_t)(it)])

/* e = mean, s.e.m. and z = mean / sem of the finite values of v[0..n)
 * (n counts them; sem and z NaN below two; z = +-inf when they do not
 * spread), labelled name and over. */
void plx_pl_effect_from(plx_pl_effect *e, const char *name, const char *over,
                        const double *v, size_t n);

/* Compute the paper's comparisons into r->effects. */
void plx_pl_effects(plx_pl_results *r);

/* Peak-speed iteration of a change trajectory d[0..T]: the iteration where
 * the increment d[t] - d[t-1], smoothed by a centred moving average of
 * `window` iterations (odd; shrunk at the ends), is largest. */
long plx_pl_peak_speed(const double *d, long T, long window);

/* The paper's population statistics of unit tuning (perceptual_populations.c):
 * tables unit_distributions, preference_distributions, slope_by_preference
 * and slope_anova. */
int plx_pl_population_tables(const plx_pl_results *r, plx_rundir *rd, plx_error *err);

/* Tables (tables/NAME.csv), arrays (results.h5 under /perceptual) and
 * figures (figures/perceptual_*.png|svg). */
int plx_pl_write(plx_pl_results *r, plx_rundir *rd, plx_error *err);

#endif
