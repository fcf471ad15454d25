/* plastix/natimg_state.h -- the natural-image experiment's run state,
 * shared by its two halves: natimg.c (configuration, photographs, crops,
 * training, the probe, the run) and natimg_report.c (the measures derived
 * from the probe -- cardinal/oblique contrasts, preferences, statistics
 * over seeds -- and every table, array and figure of the run directory).
 * Internal to the library; the public interface is plastix/natimg.h. */
#ifndef PLASTIX_NATIMG_STATE_H
#define PLASTIX_NATIMG_STATE_H

#include "plastix/natimg.h"
#include "plastix/config.h"
#include "plastix/deepnet.h"
#include "plastix/deepnet_train.h"
#include "plastix/images2d.h"
#include "plastix/json.h"
#include "plastix/progress.h"
#include "plastix/rng.h"
#include "plastix/rundir.h"

#include <stdint.h>

/* one photograph, normalised grey, with its training and evaluation ranges
 * of crop centres (columns; rows share one range) */
typedef struct photo {
  float *g;
  size_t w, h;
  double x0, x1, ex0, ex1, y0, y1;
  double e_card, e_obl; /* gradient energy of the training part near the
                           cardinals and near the obliques */
} photo;

/* the experiment as its config defines it, its photographs and network,
 * and the seed being run */
typedef struct natimg {
  plx_config *cfg;
  const plx_params *root;
  char name[128];
  uint64_t seed;        /* the seed being run                          */
  uint64_t seed0;       /* experiment.seed                             */
  size_t n_seeds;       /* experiment.seeds                            */
  char **paths;
  size_t n_photos;
  photo *ph;
  double mean, sd;
  size_t width;
  size_t crop, eval_per_photo;
  int flip;
  int normalise_crops;
  double crop_noise_sd; /* images.noise_sd (photo_id)                  */
  double holdout;
  plx_deepnet *net;
  double init_scale;
  plx_deepnet_weights *pretrained; /* model.pretrained's weights (NULL: train
                           here); shared, read only, by the workers      */
  char pretrained_path[1100];
  int pretrained_initial;  /* model.pretrained_as = "initial": fine-tuning */
  unsigned char *pretrained_mask; /* ... the layers the file seeds         */
  long steps, batch, log_every;
  double lr, momentum, decay;
  plx_grating2d gabor;
  double input_offset, input_scale; /* model.input_*: what the network sees */
  size_t probe_t, probe_p, n_probes;
  int probe_avg_response;   /* probe.average = "response" */
  int probes[PLX_NATIMG_MAX_PROBES];
  size_t tune_off[PLX_NATIMG_MAX_PROBES + 1]; /* probed layer p's centre units
                           are tuning rows tune_off[p] .. tune_off[p + 1] - 1;
                           tune_off[n_probes] of them in all              */
  double window;
  size_t n_ckpt;        /* probe.steps: probed while training, at      */
  long ckpt[PLX_NATIMG_MAX_CHECKPOINTS]; /* these steps                  */
  unsigned conds;
  double rotation;
  int denoise;          /* task.objective = "denoise"                  */
  double noise_sd;      /* its input noise                             */
  size_t pool;          /* its target pooling                          */
  size_t n_out;         /* head outputs: photographs, or pooled pixels */
  float *tgt;           /* denoise targets, max_batch x n_out          */
  plx_rng *eval_rng;    /* denoise: the evaluation's noise             */
  enum { SHUFFLE_ALL, SHUFFLE_WEIGHTS, SHUFFLE_CENTRED } shuffle; /* conditions.shuffle */
  unsigned formats;
  plx_progress_counter *par; /* networks in parallel: their shared
                           progress; NULL: one after another            */
} natimg;

/* one training run's log */
typedef struct train_log {
  double *loss;          /* per step                                     */
  double *eval_step, *eval_acc;
  size_t n_eval;
} train_log;

/* the manifest's context (plx_natimg_manifest) */
typedef struct plx_natimg_manifest_ctx {
  const plx_natimg_opts *op;
  natimg *ni;
  double seconds;
  int threads;          /* the networks' tasks ran on this many threads */
} plx_natimg_manifest_ctx;

/* Cardinal/oblique ratio of sqrt D (means within probe.window of 0 and 90
 * over those of 45 and 135), the log contrast c (mean log sqrt D, cardinal
 * minus oblique) and its z over orientations, of one curve D[probe_t]. */
void plx_natimg_cardinal_ratio(const natimg *ni, const double *D, double *ratio, double *z,
                               double *contrast);

/* manifest.json (plx_rundir_commit's writer; vc: plx_natimg_manifest_ctx) */
void plx_natimg_manifest(plx_jw *w, void *vc);

/* The first seed's curves, tables, figures and weights: sens[k] per
 * condition (NULL: not measured), the training logs lg[2] (have[]), the
 * initial, trained and rotated weights wsnap[3]. */
int plx_natimg_write_outputs(natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                             double *const *sens, const train_log *lg, const int *have,
                             plx_deepnet_weights *const *wsnap, plx_error *err);

/* tables/seeds.csv and every seed's D in results.h5; with more than one
 * seed also plx_natimg_write_statistics's tables */
int plx_natimg_write_seed_outputs(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                                  const double *sens_all, const double *ratio, const double *zs,
                                  const double *con, plx_error *err);

/* The centre units' preferences and widths: tables/preferred_*.csv,
 * figures/preferred, the per-seed measures[] (plx_natimg_unit_measures) */
int plx_natimg_write_preferred(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                               const double *tune_all, const double *csens_all,
                               double *measures, plx_error *err);

/* Sensitivity over training (probe.steps); ck: per seed, the trained then
 * the rotated network's D, n_ckpt x probed layers x orientations each */
int plx_natimg_write_over_training(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                                   const double *ck, plx_error *err);

#endif
