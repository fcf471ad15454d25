/* plastix/natimg.h -- the natural-image experiment of Benjamin et al.
 * (2022, Fig. 2 and SI Fig. 1): a convolutional network learns a task on
 * photographs that does not itself involve orientation (which photograph a
 * random crop came from, or denoising crops), then the sensitivity D(y_l; theta) of every
 * probed layer to the orientation of Gabor patches is measured by
 * forward-mode differentiation.  Controls in the same run: the untrained
 * network, the trained weights shuffled within each tensor, and the same
 * training on crops rotated by 45 degrees.  The trained weights are kept
 * in results.h5 (/weights/trained) for later experiments (perceptual
 * learning) to load. */
#ifndef PLASTIX_NATIMG_H
#define PLASTIX_NATIMG_H

#include "plastix/protocol.h"

/* The conditions a run can measure (bits of plx_natimg_opts.conditions). */
enum {
  PLX_NATIMG_TRAINED = 0,
  PLX_NATIMG_UNTRAINED = 1,
  PLX_NATIMG_SHUFFLED = 2,
  PLX_NATIMG_ROTATED = 3,
  PLX_NATIMG_N_CONDITIONS = 4
};

/* Largest number of probed layers reported back in plx_natimg_opts. */
#define PLX_NATIMG_MAX_PROBES 16

/* Largest number of probe.steps (probes while the network learns). */
#define PLX_NATIMG_MAX_CHECKPOINTS 64

/* The per-seed measures of the centre units whose statistics over seeds
 * are in tables/preferred_statistics.csv (column "measure"; the names are
 * the columns of tables/preferred_summary.csv they summarise). */
enum {
  PLX_NATIMG_PREFERENCE, /* cardinal_minus_oblique: the preference excess e */
  PLX_NATIMG_GAIN,       /* gain_cardinal_minus_oblique                    */
  PLX_NATIMG_CENTRE,     /* centre_contrast                                */
  PLX_NATIMG_HALF_WIDTH, /* median_half_width_deg                          */
  PLX_NATIMG_N_UNIT_MEASURES
};
extern const char *const plx_natimg_unit_measures[PLX_NATIMG_N_UNIT_MEASURES];

/* Statistics over experiment.seeds networks of a per-seed measure x, per
 * condition k and probed layer p: for k = TRAINED x itself, for another k
 * the paired difference x_trained - x_k; mean, s.d., Student's t and
 * two-sided p with n_seeds - 1 degrees of freedom, how many seeds were
 * positive and the two-sided sign-test p of that count. */
typedef struct plx_natimg_seed_stats {
  size_t n[PLX_NATIMG_N_CONDITIONS][PLX_NATIMG_MAX_PROBES]; /* seeds counted */
  double mean[PLX_NATIMG_N_CONDITIONS][PLX_NATIMG_MAX_PROBES];
  double sd[PLX_NATIMG_N_CONDITIONS][PLX_NATIMG_MAX_PROBES];
  double t[PLX_NATIMG_N_CONDITIONS][PLX_NATIMG_MAX_PROBES];
  double p[PLX_NATIMG_N_CONDITIONS][PLX_NATIMG_MAX_PROBES];
  int positive[PLX_NATIMG_N_CONDITIONS][PLX_NATIMG_MAX_PROBES];
  double p_sign[PLX_NATIMG_N_CONDITIONS][PLX_NATIMG_MAX_PROBES];
} plx_natimg_seed_stats;

typedef struct plx_natimg_opts {
  const char *config;
  const char *const *overrides;
  size_t n_overrides;
  const char *out;          /* run directory (NULL: runs/<name>)          */
  int threads;              /* each seed's unrotated and rotated networks,
                               and the seeds, in parallel (<= 0: OpenMP
                               default); results do not depend on it    */
  const plx_progress *prog;
  struct plx_rundir *volatile *watch; /* see plx_compare_opts           */
  char out_used[1200];
  /* filled on success, for tests and the CLI's summary */
  size_t n_probes;                        /* probed layers, in order     */
  char probe_names[PLX_NATIMG_MAX_PROBES][32];
  int measured[PLX_NATIMG_N_CONDITIONS];  /* 1 when the run had it       */
  /* cardinal / oblique ratio of sqrt D per condition and probed layer, and
   * the z-score of the difference of mean log sqrt D between the cardinal
   * and oblique windows (over probe orientations) */
  double ratio[PLX_NATIMG_N_CONDITIONS][PLX_NATIMG_MAX_PROBES];
  double z[PLX_NATIMG_N_CONDITIONS][PLX_NATIMG_MAX_PROBES];
  /* trained condition: final training loss; held-out accuracy (photo_id)
   * or fraction of the targets' variance explained (denoise), and its
   * chance level (1 / photographs, or 0) */
  double final_loss, eval_accuracy, chance; /* NaN: a pretrained network */
  char pretrained[1100];                  /* the trained network's file, when it was
                                             loaded, not trained ("": trained here) */
  int denoise;                            /* task.objective = "denoise"  */
  double rotated_eval_accuracy;
  /* the photographs' orientation statistics (tables/photo_orientation.csv):
   * geometric mean over photographs of the gradient energy within
   * probe.window of the cardinals over that within it of the obliques
   * (training parts), and how many photographs have more cardinal energy */
  size_t n_photos, photos_cardinal;
  double photo_ratio_geomean;
  /* (the above: the first seed's)  Over experiment.seeds networks
   * (filled when n_seeds > 1): the log contrast c (cardinal minus oblique
   * mean log sqrt D), and the centre units' measures of
   * tables/preferred_summary.csv, in the order of plx_natimg_unit_measures:
   * the preference excess e ((cardinal - oblique preferring) / tuned), the
   * same weighted by squared tuning amplitude, the centre units' own log
   * contrast, and their median half-width */
  size_t n_seeds;
  size_t n_checkpoints;                   /* probe.steps                 */
  plx_natimg_seed_stats seed_contrast;
  plx_natimg_seed_stats seed_units[PLX_NATIMG_N_UNIT_MEASURES];
} plx_natimg_opts;

/* Statistics over n_seeds networks of a per-seed measure
 * x[(s * PLX_NATIMG_N_CONDITIONS + k) * n_probes + p], for the conditions
 * k with measured[k] (see plx_natimg_seed_stats; NaN marks a seed without
 * the value, and is left out of that comparison). */
void plx_natimg_seed_statistics(size_t n_seeds, size_t n_probes, const int *measured,
                                const double *x, plx_natimg_seed_stats *st);

struct plx_rundir;
/* tables/seed_statistics.csv and tables/preferred_statistics.csv of
 * op->seed_contrast and op->seed_units (layers op->probe_names, conditions
 * op->measured). */
int plx_natimg_write_statistics(const plx_natimg_opts *op, struct plx_rundir *rd,
                                plx_error *err);

/* `plastix report RUN RUN ...` of natural-image runs: the seeds of the runs
 * (each run's tables/seeds.csv and tables/preferred_summary.csv) pooled,
 * and their statistics written to op->out (required) as tables/seeds.csv
 * (with the run of each seed), seed_statistics.csv and
 * preferred_statistics.csv, with a manifest.  The runs must share their
 * design (configs equal but for experiment.seed, experiment.seeds,
 * experiment.name, conditions.run, probe.steps and output) and no seed may
 * be in two of them.  Fills n_seeds, n_probes, probe_names, measured,
 * seed_contrast and seed_units of op. */
int plx_natimg_report_runs(plx_natimg_opts *op, const char *const *runs, size_t n_runs,
                           plx_error *err);

/* 1 when the config's task.type is "natural_images" (peeked, not
 * validated). */
int plx_natimg_is(const char *config_path);
int plx_natimg_run(plx_natimg_opts *o, plx_error *err);
/* Load and validate only (plastix check), reading the photographs; fills
 * a one-line summary. */
int plx_natimg_check(const plx_natimg_opts *o, char *summary, size_t n, plx_error *err);

/* Condition names as they appear in configs and outputs. */
extern const char *const plx_natimg_condition_names[PLX_NATIMG_N_CONDITIONS];

#endif
