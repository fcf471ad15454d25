/* plastix/orientation.h -- the supervised orientation experiment of
 * Benjamin et al. (2022, Fig. 6): a deep network classifies the orientation
 * of masked gratings into bins; the orientation prior and orientation-
 * dependent label dropout (including the exactly balanced
 * sigma(theta) = H_b^-1(1 - a / p(theta))) vary what is frequent and what
 * is informative; the first layer's sensitivity to orientation and the
 * per-bin accuracy are logged over training.  Gradient descent (SGD) on
 * the cross-entropy, or node perturbation, trains every layer; a report
 * over runs of several seeds gives the effect's statistics over seeds. */
#ifndef PLASTIX_ORIENTATION_H
#define PLASTIX_ORIENTATION_H

#include "plastix/protocol.h"
#include "plastix/seedstats.h"

typedef struct plx_orientation_opts {
  const char *config;
  const char *const *overrides;
  size_t n_overrides;
  const char *out;          /* run directory (NULL: runs/<name>)          */
  int threads;
  const plx_progress *prog;
  struct plx_rundir *volatile *watch; /* see plx_compare_opts           */
  char out_used[1200];
  /* filled on success, for tests and the CLI's summary */
  double final_loss, final_accuracy;
  double sens_common, sens_rare; /* final first-layer sensitivity at the
                                    prior's mode bin (90 deg) and at 0 deg */
} plx_orientation_opts;

/* `plastix report RUN RUN... -o DIR` of orientation runs, one per seed:
 * see src/orientation_pool.c. */
enum { PLX_ORIENTATION_N_MEASURES = 3 };
typedef struct plx_orientation_report {
  const char *const *overrides; /* refused: a report changes no key       */
  size_t n_overrides;
  const char *out;
  struct plx_rundir *volatile *watch;
  char out_used[1200];
  plx_seed_stat stats[PLX_ORIENTATION_N_MEASURES]; /* in the order below; accuracy
                                                     is described only: its t, p
                                                     and p_sign are NaN */
} plx_orientation_report;
/* the measures' column names: accuracy, log ratio 90/0 final, early */
extern const char *const plx_orientation_measures[PLX_ORIENTATION_N_MEASURES];
int plx_orientation_report_runs(plx_orientation_report *op, const char *const *runs,
                                size_t n_runs, plx_error *err);

/* 1 when the config's task.type is "orientation" (peeked, not validated). */
int plx_orientation_is(const char *config_path);
int plx_orientation_run(plx_orientation_opts *o, plx_error *err);
/* Load and validate only (plastix check); fills a one-line summary. */
int plx_orientation_check(const plx_orientation_opts *o, char *summary, size_t n,
                          plx_error *err);

#endif
