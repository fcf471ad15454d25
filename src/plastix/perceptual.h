/* plastix/perceptual.h -- the perceptual-learning experiment of Wenliang &
 * Seitz (2018) on the deep-net path: two-interval orientation
 * discrimination of noisy Gabor patches by a five-stage convolutional
 * network whose reference and target streams share their weights, decision
 * logistic(h_t - h_r) from a zero-initialised readout.  Every condition of
 * the stimulus grid (reference orientation x separation x wavelength x
 * contrast x noise) is trained from the same initial (pretrained) weights,
 * in parallel over conditions with results that do not depend on the thread
 * count.  Measured: accuracy over log-spaced iterations for the trained and
 * transfer stimuli, layer change and its peak-speed iteration, accuracy
 * drop with frozen low layers, tuning attributes and Fisher information of
 * centre units before and after training, and the paper's comparisons as
 * effects with z-scores over matched conditions.
 *
 * Config (task.type = "perceptual_learning"): see configs/wenliang2018_*.cfg
 * and doc/perceptual-learning.md. */
#ifndef PLASTIX_PERCEPTUAL_H
#define PLASTIX_PERCEPTUAL_H

#include "plastix/protocol.h"

/* One of the paper's comparisons, measured: the mean over n matched units
 * of comparison (condition groups, conditions or units, as `over` says) of
 * a difference that the paper predicts to be positive, its standard error
 * and z = mean / sem.  NaN when it could not be measured. */
typedef struct plx_pl_effect {
  char name[64];
  char over[32];
  double mean, sem, z;
  size_t n;
} plx_pl_effect;

enum {
  PLX_PL_START_COARSE,    /* accuracy after 1 iteration: coarse - fine     */
  PLX_PL_RISE_COARSE,     /* early gain acc(t_early) - acc(1): coarse - fine */
  PLX_PL_TRANSFER45_COARSE, /* final transfer accuracy (Fig. 2B), ori+45:
                             coarse - fine                               */
  PLX_PL_TRANSFER90_COARSE, /* final transfer accuracy, ori+90: coarse - fine */
  PLX_PL_TRANSFER_SF_HALF_COARSE,   /* the same, spatial frequency halved  */
  PLX_PL_TRANSFER_SF_DOUBLE_COARSE, /* the same, spatial frequency doubled */
  PLX_PL_TRANSFER_45_90,  /* final transfer accuracy ori+45 - ori+90, mean
                             over separations                             */
  PLX_PL_CHANGE_LOWER,    /* -(slope over conv layers of log(d_rel1 fine /
                             d_rel1 coarse)): fine precision moves change
                             toward lower layers                           */
  PLX_PL_FI_TOP,          /* log FI gain near the trained orientation, top
                             conv layer - first conv layer (fine)          */
  PLX_PL_FI_NEAR,         /* log FI gain of the top layer, near - far
                             (fine)                                        */
  PLX_PL_SI_UP,           /* SI trained - naive, high layers (fine)         */
  PLX_PL_FANO_DOWN,       /* Fano naive - trained, high layers (fine)       */
  /* more of the paper's unit comparisons (tables/unit_changes.csv per layer):
   * high layers, at the finest and the coarsest separation */
  PLX_PL_AMP_UP_FINE,     /* tuning amplitude trained - naive              */
  PLX_PL_AMP_UP_COARSE,
  PLX_PL_SLOPE_UP_FINE,   /* normalised slope at the trained orientation   */
  PLX_PL_SLOPE_UP_COARSE,
  PLX_PL_PULL_FINE,       /* |preferred - trained|, naive - trained        */
  PLX_PL_PULL_COARSE,
  PLX_PL_BEST_DOWN_FINE,  /* best discriminability naive - trained         */
  PLX_PL_BEST_DOWN_COARSE,
  PLX_PL_FLANK_LOW,       /* low layers: slope change of units preferring
                             12-20 deg from the trained orientation, fine -
                             coarse (the paper: only after fine training)  */
  PLX_PL_N_EFFECTS
};

typedef struct plx_perceptual_opts {
  const char *config;
  const char *const *overrides;
  size_t n_overrides;
  const char *out;          /* run directory (NULL: runs/<name>)          */
  int threads;              /* <= 0: OpenMP's default                      */
  const plx_progress *prog;
  struct plx_rundir *volatile *watch; /* see plx_compare_opts           */
  char out_used[1200];
  /* filled on success, for tests and the CLI's summary */
  size_t n_conditions;
  double final_accuracy;    /* mean over conditions, trained stimuli       */
  double seconds;
  plx_pl_effect effects[PLX_PL_N_EFFECTS];
  char summary[512];
} plx_perceptual_opts;

/* 1 when the config's task.type is "perceptual_learning" (peeked, not
 * validated). */
int plx_perceptual_is(const char *config_path);
int plx_perceptual_run(plx_perceptual_opts *o, plx_error *err);
/* `plastix report`: o->config is a finished run directory.  Its
 * measurements (results.h5) are reduced again into a new run directory
 * (o->out; default RUN_DIR-report) with the tables, figures, effects and
 * manifest of a run; o->overrides may change only the analysis keys
 * units.min_activation, units.high_layers, units.smooth_deg,
 * units.window_deg, train.psi_window, test.early_iteration and
 * output.figures (anything else: PLX_EINVAL).  The layer Fisher
 * information is the run's (measured with its units.min_activation). */
int plx_perceptual_report(plx_perceptual_opts *o, plx_error *err);
/* A report of several finished runs (for example, one per pretrained
 * network): each run is reduced again as above (o->overrides apply to
 * all), and o->out (required) receives tables/effects_by_run.csv and
 * tables/effects_over_runs.csv -- each effect's mean, s.e.m. and t over
 * the runs' means, one-sided p with runs - 1 degrees of freedom -- and a
 * manifest.  With one run this is plx_perceptual_report. */
int plx_perceptual_report_runs(plx_perceptual_opts *o, const char *const *runs, size_t n_runs,
                               plx_error *err);
/* Load and validate only (plastix check), including the pretrained
 * weights file; fills a one-line summary. */
int plx_perceptual_check(const plx_perceptual_opts *o, char *summary, size_t n,
                         plx_error *err);

#endif
