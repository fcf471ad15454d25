/* linearnet.c -- the linear-net path driver: config keys and their
 * validation, the image list, patches and PCA, training of the linear_deep
 * model by minibatch SGD or full-batch gradient descent, the probes logged
 * over training (principal-component gains, grating sensitivity,
 * thresholds, acuity) and the run directory with its tables, arrays and
 * figures. */
#include "config.h"
#include "plastix/linearnet.h"
#include "plastix/blas_threads.h"
#include "plastix/clock.h"
#include "plastix/error.h"
#include "plastix/grating.h"
#include "plastix/images.h"
#include "plastix/linear.h"
#include "plastix/patches.h"
#include "plastix/pca.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------- keys */

static const plx_param_spec experiment_sec[] = {
    PLX_P_STRING("name", "linear", NULL, "name used for the run directory"),
    PLX_P_INT_MIN("seed", 1, 0, "master seed: streams are keyed by (seed, trial, population)"),
    PLX_P_STRING("description", "", NULL, "free text, copied to the manifest"),
    PLX_P_END};

static const plx_param_spec synthetic_sec[] = {
    PLX_P_INT_RANGE("images", 16, 1, 100000, "number of synthetic images"),
    PLX_P_INT_RANGE("side", 512, 8, 8192, "their side in pixels (a power of two)"),
    PLX_P_FLOAT_RANGE("alpha", 1.0, 0.0, 4.0, 0,
                      "amplitude spectrum |k|^-alpha (PC variance falls as k^-alpha)"),
    PLX_P_END};

static const plx_param_spec data_sec[] = {
    PLX_P_STRING("source", "photos", "photos|synthetic",
                 "photographs (JPEG/PNG) or synthetic power-law images"),
    {"files", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, NULL, NULL,
     "photographs: files, folders or glob patterns (default: the natural "
     "photographs of mate-backgrounds and lomiri-wallpapers-16.04, by name)"},
    PLX_P_STRING("folder", "", NULL, "every *.jpg, *.jpeg, *.png in this folder "
                 "(replaces the default files)"),
    PLX_P_INT_RANGE("downsample", 8, 1, 9, "photographs: k x k box filter before cutting"),
    PLX_P_INT_RANGE("patch", 32, 2, 64, "patch side P in pixels (d = P^2)"),
    PLX_P_INT_RANGE("patches", 131072, 2, 4000000, "number of patches"),
    PLX_P_INT_MIN("seed", 0, 0, "seed of the cut (when absent: experiment.seed)"),
    PLX_P_BOOL("cache", 1, "keep the patch set on disk so a second run does not recut"),
    PLX_P_STRING("cache_dir", "", NULL,
                 "cache folder (default $XDG_CACHE_HOME/plastix or ~/.cache/plastix)"),
    PLX_P_GROUP("synthetic", synthetic_sec, "source = \"synthetic\": the images"),
    PLX_P_END};

static const plx_param_spec model_sec[] = {
    {"type", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, "linear_deep", NULL,
     "linear_deep: a product of square matrices"},
    PLX_P_INT_RANGE("layers", 1, 1, 16, "number N of d x d factors: W = W_N ... W_1"),
    PLX_P_BOOL("symmetric", 0, "W = Q^T Q with Q = W_N ... W_1 (the reference "
               "code's \"1-layer\" net is layers = 1, symmetric = true)"),
    PLX_P_STRING("init", "uniform", "uniform|paper|aligned",
                 "uniform: U(-s/2, s/2) per entry (reference code); paper: PyTorch's "
                 "default U(-1/sqrt(d), 1/sqrt(d)) / 100; aligned: U diag(a) U^T "
                 "on the principal components"),
    PLX_P_FLOAT_MIN("init_scale", 0.01, 0.0, PLX_PARAM_MIN_EXCL,
                    "uniform: s (reference: 0.01 for 1-2 layers, 0.02 for 3)"),
    PLX_P_FLOAT_MIN("init_sigma", 0.001, 0.0, PLX_PARAM_MIN_EXCL,
                    "aligned: the map's initial value u^T W u on every component"),
    PLX_P_END};

static const plx_param_spec task_sec[] = {
    PLX_P_STRING("type", "reconstruct", "reconstruct|supervised",
                 "reconstruct: y = x; supervised: y = M x for a target map M"),
    PLX_P_STRING("target", "pc_gains", "pc_gains|blur",
                 "supervised: M = U diag(k^-gamma) U^T on the components, or a "
                 "Gaussian blur"),
    PLX_P_FLOAT("gain_exponent", 0.5, "pc_gains: gamma"),
    PLX_P_FLOAT_MIN("blur_sigma", 1.0, 0.0, PLX_PARAM_MIN_EXCL, "blur: sd in pixels"),
    PLX_P_END};

static const plx_param_spec rule_sec[] = {
    PLX_P_STRING("name", "gradient", "gradient",
                 "gradient descent on the mean-squared error"),
    PLX_P_STRING("method", "sgd", "sgd|full_batch",
                 "sgd: shuffled minibatches (reference code); full_batch: exact "
                 "steps through the covariance of all patches"),
    PLX_P_FLOAT_MIN("eta", 1.0, 0.0, PLX_PARAM_MIN_EXCL, "learning rate (reference: 1.0)"),
    PLX_P_INT_MIN("batch", 16384, 1, "minibatch size (reference: 16384 for 1 layer, "
                  "4096 for 2 and 3); full_batch: sets the steps per epoch"),
    PLX_P_FLOAT_MIN("output_noise", 0.0, 0.0, 0,
                    "sd of Gaussian noise added to the output inside the loss "
                    "(reference code: 0.1)"),
    PLX_P_END};

static const plx_param_spec train_sec[] = {
    PLX_P_INT_MIN("epochs", 1000, 0, "passes over the patches"),
    PLX_P_INT_MIN("steps_per_epoch", 0, 0, "full_batch: steps per epoch (0: "
                  "ceil(patches / batch), the number of SGD updates per epoch)"),
    PLX_P_END};

static const plx_param_spec probes_sec[] = {
    PLX_P_INT_MIN("pcs", 50, 1, "principal components K probed (u^T W u, ||W u||^2)"),
    PLX_P_INT_MIN("every", 1, 1, "probe every this many epochs (and after the last)"),
    PLX_P_INT_MIN("snapshot_every", 50, 1, "epochs between threshold curves in the figure"),
    {"freq", PLX_PARAM_FLOAT_ARRAY, PLX_PARAM_HAS_MIN | PLX_PARAM_MIN_EXCL, 0, NULL, 0, 0,
     NULL, NULL, "[lo, hi]: grating frequencies of the threshold curves, code units "
     "(default [1.0, 10.0])"},
    PLX_P_INT_RANGE("freq_points", 20, 2, 100000, "frequencies of the threshold curves"),
    PLX_P_INT_RANGE("phases", 64, 1, 100000, "grating phases averaged over"),
    PLX_P_FLOAT_MIN("phase_max", 3.14159265358979323846, 0.0, 0,
                    "phases linspace(0, phase_max, phases) (reference: pi)"),
    PLX_P_FLOAT_MIN("cutoff", 0.1, 0.0, PLX_PARAM_MIN_EXCL, "acuity: threshold cutoff"),
    {"acuity_range", PLX_PARAM_FLOAT_ARRAY, PLX_PARAM_HAS_MIN, 0, NULL, 0, 0, NULL, NULL,
     "[lo, hi]: frequency grid of the acuity (default [1.0, 31.0])"},
    PLX_P_FLOAT_MIN("acuity_step", 0.01, 0.0, PLX_PARAM_MIN_EXCL, "acuity grid step"),
    PLX_P_STRING("sensitivity_of", "product", "product|first_layer",
                 "map whose grating sensitivity is probed: the product W (paper) "
                 "or the first factor W_1 (the reference code's deep-net curves)"),
    {"fit_range", PLX_PARAM_FLOAT_ARRAY, PLX_PARAM_HAS_MIN, 1, NULL, 1, 0, NULL, NULL,
     "[k0, k1]: components of the spectrum's power-law fit (default [10, 500])"},
    PLX_P_END};

static const plx_param_spec output_sec[] = {
    {"figures", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, "png|svg", NULL,
     "figure formats (default [\"png\"]; [] for none)"},
    PLX_P_END};

const plx_param_spec plx_linearnet_spec[] = {
    PLX_P_GROUP("experiment", experiment_sec, "name, seed, description"),
    PLX_P_GROUP("data", data_sec, "image patches"),
    {"model", PLX_PARAM_GROUP, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, NULL, model_sec,
     "linear_deep: layers, symmetric, init"},
    PLX_P_GROUP("task", task_sec, "reconstruction or supervised targets"),
    PLX_P_GROUP("rule", rule_sec, "gradient descent: method, eta, batch"),
    PLX_P_GROUP("train", train_sec, "epochs"),
    PLX_P_GROUP("probes", probes_sec, "components, gratings, acuity"),
    PLX_P_GROUP("output", output_sec, "what the run directory holds"),
    PLX_P_END};

/* ------------------------------------------------------- the config */

enum { INIT_UNIFORM, INIT_PAPER, INIT_ALIGNED };
enum { TARGET_PC_GAINS, TARGET_BLUR };

typedef struct lin_cfg {
  plx_config *cfg;
  const plx_params *root, *exp, *data, *model, *task, *rule, *train, *probes;
  char name[128];
  uint64_t seed;
  /* data */
  int synthetic;
  char **files;
  size_t n_files;
  long *origin; /* per file: index in data.files, -1 data.folder, -2 default */
  unsigned downsample;
  size_t side, count, d;
  uint64_t data_seed;
  char cache_dir[1024];
  size_t synth_images, synth_side;
  double synth_alpha;
  /* model */
  size_t layers;
  int symmetric, init;
  double init_scale, init_sigma;
  /* task */
  int supervised, target;
  double gain_exponent, blur_sigma;
  /* rule */
  int full_batch;
  double eta, noise;
  size_t batch;
  /* train */
  long epochs;
  size_t steps_per_epoch;
  /* probes */
  size_t K, every, snap_every, F, phases;
  double f_lo, f_hi, phase_max, cutoff, ac_lo, ac_hi, ac_step;
  int first_layer;
  size_t fit0, fit1;
  unsigned formats;
} lin_cfg;

static void lin_cfg_release(lin_cfg *c)
{
  plx_images_free_list(c->files, c->n_files);
  free(c->origin);
  plx_config_free(c->cfg);
  memset(c, 0, sizeof *c);
}

/* A key that only means something for another choice of `key`. */
static int only_for(const plx_params *p, const char *key, const char *sel,
                    const char *val, plx_error *err)
{
  return plx_params_error(p, key, err, "only used by %s = \"%s\"", sel, val);
}

static int two_numbers(const plx_params *p, const char *key, double *lo,
                       double *hi, double dlo, double dhi, plx_error *err)
{
  double v[3];
  size_t n = plx_params_float_array(p, key, v, 3);
  if (!plx_params_has(p, key)) {
    *lo = dlo;
    *hi = dhi;
    return PLX_OK;
  }
  if (n != 2 || !(v[0] < v[1]))
    return plx_params_error(p, key, err, "expected [lo, hi] with lo < hi");
  *lo = v[0];
  *hi = v[1];
  return PLX_OK;
}

static int add_files(lin_cfg *c, const char *pattern, long origin,
                     plx_error *err)
{
  size_t before = c->n_files, i;
  long *no;
  int rc = plx_images_expand(pattern, &c->files, &c->n_files, err);
  if (rc)
    return rc;
  no = realloc(c->origin, (c->n_files ? c->n_files : 1) * sizeof *no);
  if (!no)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  c->origin = no;
  for (i = before; i < c->n_files; i++)
    c->origin[i] = origin;
  return PLX_OK;
}

/* Where a file of the list came from, for messages: "data.files[2]". */
static void file_key(const lin_cfg *c, size_t i, char *key, size_t n,
                     const char **base)
{
  long o = i < c->n_files ? c->origin[i] : -2;
  *base = o == -1 ? "folder" : "files";
  if (o >= 0)
    snprintf(key, n, "files[%ld]", o);
  else
    snprintf(key, n, "%s", *base);
}

static int image_list(lin_cfg *c, plx_error *err)
{
  const plx_params *p = c->data;
  config_setting_t *fs = plx_params_setting(p, "files");
  const char *folder = plx_params_string(p, "folder");
  char where[512];
  int rc;
  size_t i;
  if (folder[0]) {
    struct stat st;
    if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode))
      return plx_params_error(p, "folder", err, "cannot open folder '%s': %s", folder,
                              stat(folder, &st) != 0 ? strerror(errno) : "not a folder");
    if ((rc = add_files(c, folder, -1, err))) {
      plx_params_where(p, "folder", where, sizeof where);
      plx_error_prefix(err, "%s: data.folder", where);
      return rc;
    }
  }
  if (fs) {
    int k, n = config_setting_length(fs);
    if (n == 0 && !folder[0])
      return plx_params_error(p, "files", err, "empty list: name at least one "
                              "photograph, folder or glob pattern");
    for (k = 0; k < n; k++) {
      const char *pat = config_setting_get_string(config_setting_get_elem(fs, (unsigned)k));
      if ((rc = add_files(c, pat, k, err))) {
        plx_params_where(p, "files", where, sizeof where);
        plx_error_prefix(err, "%s: data.files[%d]", where, k);
        return rc;
      }
    }
  } else if (!folder[0]) {
    for (i = 0; plx_images_default_photos[i]; i++) {
      struct stat st;
      if (stat(plx_images_default_photos[i], &st) != 0)
        return plx_params_error(
            p, "files", err,
            "default photograph %s is missing: install the Debian packages "
            "mate-backgrounds and lomiri-wallpapers-16.04 (scripts/setup.sh), "
            "or set data.files or data.folder, or data.source = \"synthetic\"",
            plx_images_default_photos[i]);
      if ((rc = add_files(c, plx_images_default_photos[i], -2, err)))
        return rc;
    }
  }
  return PLX_OK;
}

static int load_cfg(lin_cfg *c, const char *path, const char *const *ov,
                    size_t nov, plx_error *err)
{
  const plx_params *p;
  const char *v;
  double lo = 0, hi = 0;
  int rc;
  memset(c, 0, sizeof *c);
  if ((rc = plx_config_load(&c->cfg, path, ov, nov, err)) ||
      (rc = plx_config_bind(c->cfg, NULL, plx_linearnet_spec, NULL, &c->root, err)))
    return rc;
  c->exp = plx_params_group(c->root, "experiment");
  c->data = plx_params_group(c->root, "data");
  c->model = plx_params_group(c->root, "model");
  c->task = plx_params_group(c->root, "task");
  c->rule = plx_params_group(c->root, "rule");
  c->train = plx_params_group(c->root, "train");
  c->probes = plx_params_group(c->root, "probes");
  snprintf(c->name, sizeof c->name, "%s", plx_params_string(c->exp, "name"));
  c->seed = (uint64_t)plx_params_int(c->exp, "seed");

  /* data */
  p = c->data;
  c->synthetic = strcmp(plx_params_string(p, "source"), "synthetic") == 0;
  c->side = (size_t)plx_params_int(p, "patch");
  c->d = c->side * c->side;
  c->count = (size_t)plx_params_int(p, "patches");
  c->downsample = (unsigned)plx_params_int(p, "downsample");
  c->data_seed = plx_params_has(p, "seed") ? (uint64_t)plx_params_int(p, "seed") : c->seed;
  if (plx_params_bool(p, "cache")) {
    v = plx_params_string(p, "cache_dir");
    if (v[0])
      snprintf(c->cache_dir, sizeof c->cache_dir, "%s", v);
    else
      plx_patches_default_cache_dir(c->cache_dir, sizeof c->cache_dir);
  } else if (plx_params_has(p, "cache_dir")) {
    return plx_params_error(p, "cache_dir", err, "only used by cache = true");
  }
  {
    const plx_params *sy = plx_params_group(p, "synthetic");
    c->synth_images = (size_t)plx_params_int(sy, "images");
    c->synth_side = (size_t)plx_params_int(sy, "side");
    c->synth_alpha = plx_params_float(sy, "alpha");
    if (c->synthetic) {
      if (plx_params_has(p, "files"))
        return only_for(p, "files", "data.source", "photos", err);
      if (plx_params_has(p, "folder"))
        return only_for(p, "folder", "data.source", "photos", err);
      if (plx_params_has(p, "downsample"))
        return only_for(p, "downsample", "data.source", "photos", err);
      if (c->synth_side & (c->synth_side - 1))
        return plx_params_error(sy, "side", err, "expected a power of two, got %zu",
                                c->synth_side);
      if (c->synth_side < c->side)
        return plx_params_error(p, "patch", err,
                                "%zu-pixel patches do not fit in %zu-pixel synthetic images",
                                c->side, c->synth_side);
    } else if (plx_params_has(p, "synthetic")) {
      return only_for(p, "synthetic", "data.source", "synthetic", err);
    }
  }

  /* model */
  p = c->model;
  c->layers = (size_t)plx_params_int(p, "layers");
  c->symmetric = plx_params_bool(p, "symmetric");
  v = plx_params_string(p, "init");
  c->init = !strcmp(v, "paper") ? INIT_PAPER : !strcmp(v, "aligned") ? INIT_ALIGNED : INIT_UNIFORM;
  c->init_scale = plx_params_float(p, "init_scale");
  c->init_sigma = plx_params_float(p, "init_sigma");
  if (c->init != INIT_UNIFORM && plx_params_has(p, "init_scale"))
    return only_for(p, "init_scale", "model.init", "uniform", err);
  if (c->init != INIT_ALIGNED && plx_params_has(p, "init_sigma"))
    return only_for(p, "init_sigma", "model.init", "aligned", err);

  /* task */
  p = c->task;
  c->supervised = strcmp(plx_params_string(p, "type"), "supervised") == 0;
  c->target = strcmp(plx_params_string(p, "target"), "blur") == 0 ? TARGET_BLUR : TARGET_PC_GAINS;
  c->gain_exponent = plx_params_float(p, "gain_exponent");
  c->blur_sigma = plx_params_float(p, "blur_sigma");
  if (!c->supervised) {
    static const char *const sk[] = {"target", "gain_exponent", "blur_sigma"};
    size_t i;
    for (i = 0; i < 3; i++)
      if (plx_params_has(p, sk[i]))
        return only_for(p, sk[i], "task.type", "supervised", err);
  } else if (c->target == TARGET_BLUR && plx_params_has(p, "gain_exponent")) {
    return only_for(p, "gain_exponent", "task.target", "pc_gains", err);
  } else if (c->target == TARGET_PC_GAINS && plx_params_has(p, "blur_sigma")) {
    return only_for(p, "blur_sigma", "task.target", "blur", err);
  }

  /* rule and schedule */
  p = c->rule;
  c->full_batch = strcmp(plx_params_string(p, "method"), "full_batch") == 0;
  c->eta = plx_params_float(p, "eta");
  c->batch = (size_t)plx_params_int(p, "batch");
  c->noise = plx_params_float(p, "output_noise");
  if (c->batch > c->count)
    return plx_params_error(p, "batch", err, "%zu is larger than data.patches (%zu)",
                            c->batch, c->count);
  c->epochs = plx_params_int(c->train, "epochs");
  c->steps_per_epoch = (size_t)plx_params_int(c->train, "steps_per_epoch");
  if (!c->full_batch && plx_params_has(c->train, "steps_per_epoch"))
    return only_for(c->train, "steps_per_epoch", "rule.method", "full_batch", err);
  if (c->steps_per_epoch == 0)
    c->steps_per_epoch = (c->count + c->batch - 1) / c->batch;

  /* probes */
  p = c->probes;
  c->K = (size_t)plx_params_int(p, "pcs");
  if (c->K > c->d)
    return plx_params_error(p, "pcs", err, "%zu components asked for, but %zux%zu "
                            "patches have only %zu", c->K, c->side, c->side, c->d);
  c->every = (size_t)plx_params_int(p, "every");
  c->snap_every = (size_t)plx_params_int(p, "snapshot_every");
  if ((rc = two_numbers(p, "freq", &c->f_lo, &c->f_hi, 1.0, 10.0, err)))
    return rc;
  c->F = (size_t)plx_params_int(p, "freq_points");
  c->phases = (size_t)plx_params_int(p, "phases");
  c->phase_max = plx_params_float(p, "phase_max");
  c->cutoff = plx_params_float(p, "cutoff");
  if ((rc = two_numbers(p, "acuity_range", &c->ac_lo, &c->ac_hi, 1.0, 31.0, err)))
    return rc;
  c->ac_step = plx_params_float(p, "acuity_step");
  if ((c->ac_hi - c->ac_lo) / c->ac_step > 1e7)
    return plx_params_error(p, "acuity_step", err, "more than 10^7 grid points over "
                            "probes.acuity_range");
  c->first_layer = strcmp(plx_params_string(p, "sensitivity_of"), "first_layer") == 0;
  if ((rc = two_numbers(p, "fit_range", &lo, &hi, 10.0, 500.0, err)))
    return rc;
  if (lo != floor(lo) || hi != floor(hi))
    return plx_params_error(p, "fit_range", err, "expected whole component numbers");
  c->fit0 = (size_t)lo;
  c->fit1 = (size_t)hi;

  /* output */
  c->formats = plx_rundir_figure_formats(plx_params_group(c->root, "output"));

  if (!c->synthetic)
    return image_list(c, err);
  return PLX_OK;
}

/* -------------------------------------------------------- the run */

typedef struct lin_run {
  lin_cfg c;
  plx_patches *patches;
  plx_pca *pca;
  plx_linear *m;
  double *M;            /* supervised target map, or NULL           */
  plx_grating gr;
  /* probe rows */
  size_t rows, n_rows;
  double *epoch, *loss, *secs, *acuity;
  double *pc_diag, *pc_gain;   /* [rows * K]                        */
  double *freq, *sens, *thr;   /* [F], [rows * F]                   */
  double *work, *wc, *G;       /* d x K, d x P, P x P               */
  double t_data, t_pca, t_train, t_write, t_total;
  double pc1_share, slope;
} lin_run;

static void lin_run_release(lin_run *r)
{
  plx_patches_free(r->patches);
  plx_pca_free(r->pca);
  plx_linear_free(r->m);
  free(r->M);
  free(r->epoch);
  free(r->loss);
  free(r->secs);
  free(r->acuity);
  free(r->pc_diag);
  free(r->pc_gain);
  free(r->freq);
  free(r->sens);
  free(r->thr);
  free(r->work);
  free(r->wc);
  free(r->G);
  lin_cfg_release(&r->c);
}

static int alloc_probes(lin_run *r, plx_error *err)
{
  const lin_cfg *c = &r->c;
  size_t i, n = (size_t)c->epochs / c->every + 2;
  r->n_rows = n;
  r->epoch = calloc(n, sizeof *r->epoch);
  r->loss = calloc(n, sizeof *r->loss);
  r->secs = calloc(n, sizeof *r->secs);
  r->acuity = calloc(n, sizeof *r->acuity);
  r->pc_diag = calloc(n * c->K, sizeof *r->pc_diag);
  r->pc_gain = calloc(n * c->K, sizeof *r->pc_gain);
  r->freq = calloc(c->F, sizeof *r->freq);
  r->sens = calloc(n * c->F, sizeof *r->sens);
  r->thr = calloc(n * c->F, sizeof *r->thr);
  r->work = calloc(c->d * c->K, sizeof *r->work);
  r->wc = calloc(c->d * c->side, sizeof *r->wc);
  r->G = calloc(c->side * c->side, sizeof *r->G);
  if (!r->epoch || !r->loss || !r->secs || !r->acuity || !r->pc_diag || !r->pc_gain ||
      !r->freq || !r->sens || !r->thr || !r->work || !r->wc || !r->G)
    return plx_error_set(err, PLX_ENOMEM, "out of memory for the probes");
  for (i = 0; i < c->F; i++)
    r->freq[i] = c->f_lo + (c->f_hi - c->f_lo) * (double)i / (double)(c->F - 1);
  plx_grating_init(&r->gr, c->side, c->phases, c->phase_max);
  return PLX_OK;
}

/* One probe row at `epoch` (the loss is filled by the caller). */
static void probe(lin_run *r, double epoch, double secs)
{
  const lin_cfg *c = &r->c;
  size_t row = r->rows++, k;
  const double *W = c->first_layer ? r->m->w[0] : r->m->prod;
  r->epoch[row] = epoch;
  r->secs[row] = secs;
  plx_linear_pc_probe(r->m, r->pca->vectors, c->K, r->pc_diag + row * c->K,
                      r->pc_gain + row * c->K, r->work);
  plx_grating_gram(&r->gr, W, c->d, r->wc, r->G);
  for (k = 0; k < c->F; k++) {
    double D = plx_grating_sensitivity(&r->gr, r->G, r->freq[k]);
    r->sens[row * c->F + k] = D;
    r->thr[row * c->F + k] = D > 0 ? 1.0 / sqrt(D) : INFINITY;
  }
  r->acuity[row] = plx_grating_acuity(&r->gr, r->G, c->ac_lo, c->ac_hi, c->ac_step, c->cutoff);
}

/* Supervised targets: M = U diag(k^-gamma) U^T, or a Gaussian blur
 * (each output pixel a normalised Gaussian average of the patch). */
static int make_target(lin_run *r, plx_error *err)
{
  const lin_cfg *c = &r->c;
  const size_t d = c->d, P = c->side;
  size_t i, j, k;
  if (!c->supervised)
    return PLX_OK;
  r->M = calloc(d * d, sizeof *r->M);
  if (!r->M)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  if (c->target == TARGET_PC_GAINS) {
    const double *U = r->pca->vectors;
    for (k = 0; k < d; k++) {
      double g = pow((double)(k + 1), -c->gain_exponent);
      for (j = 0; j < d; j++)
        for (i = 0; i < d; i++)
          r->M[i + j * d] += g * U[i + k * d] * U[j + k * d];
    }
  } else {
    const double s2 = 2.0 * c->blur_sigma * c->blur_sigma;
    for (i = 0; i < d; i++) {
      double tot = 0;
      for (j = 0; j < d; j++) {
        double dr = (double)(i / P) - (double)(j / P), dc = (double)(i % P) - (double)(j % P);
        double w = exp(-(dr * dr + dc * dc) / s2);
        r->M[i + j * d] = w;
        tot += w;
      }
      for (j = 0; j < d; j++)
        r->M[i + j * d] /= tot;
    }
  }
  return PLX_OK;
}

static int init_model(lin_run *r, plx_error *err)
{
  const lin_cfg *c = &r->c;
  plx_rng *rng;
  r->m = plx_linear_new(c->d, c->layers, c->symmetric);
  if (!r->m)
    return plx_error_set(err, PLX_ENOMEM, "out of memory for %zu matrices of %zux%zu",
                         c->layers, c->d, c->d);
  if (c->init == INIT_ALIGNED) {
    double *a = malloc(c->d * sizeof *a);
    double e = 1.0 / (double)(c->symmetric ? 2 * c->layers : c->layers);
    size_t k;
    if (!a)
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    for (k = 0; k < c->d; k++)
      a[k] = pow(c->init_sigma, e);
    plx_linear_init_aligned(r->m, r->pca->vectors, a);
    free(a);
    return PLX_OK;
  }
  rng = plx_rng_alloc(c->seed, 0, PLX_POP_INIT);
  if (!rng)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  plx_linear_init_uniform(r->m, c->init == INIT_PAPER ? 2.0 / (100.0 * sqrt((double)c->d))
                                                      : c->init_scale, rng);
  plx_rng_free(rng);
  return PLX_OK;
}

static int diverged(const lin_run *r, long epoch, double loss, plx_error *err)
{
  return plx_params_error(r->c.rule, "eta", err,
                          "gradient descent diverged in epoch %ld (loss %g): "
                          "lower rule.eta", epoch, loss);
}

static int train(lin_run *r, const plx_progress *prog, plx_error *err)
{
  const lin_cfg *c = &r->c;
  const size_t d = c->d, n = c->count;
  const double t0 = plx_clock_seconds();
  double *S = NULL, *F = NULL, *z = NULL, *extra = NULL, *covw = NULL, *ew = NULL;
  size_t *perm = NULL;
  plx_rng *shuf = NULL, *noise = NULL;
  long e;
  size_t i, s;
  int rc = PLX_OK;
  const int sgd = !c->full_batch, with_noise = c->noise > 0;

  if (sgd) {
    S = malloc(d * d * sizeof *S);
    covw = malloc(d * 512 * sizeof *covw);
    perm = malloc(n * sizeof *perm);
    shuf = plx_rng_alloc(c->seed, 0, PLX_POP_SUB(PLX_POP_DATA, 1));
    if (!S || !covw || !perm || !shuf) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
      goto done;
    }
    for (i = 0; i < n; i++)
      perm[i] = i;
  }
  if (with_noise) {
    F = malloc(d * d * sizeof *F);
    z = malloc(d * d * sizeof *z);
    extra = malloc(d * d * sizeof *extra);
    ew = malloc(d * sizeof *ew);
    noise = plx_rng_alloc(c->seed, 0, PLX_POP_NETWORK);
    if (!F || !z || !extra || !ew || !noise) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
      goto done;
    }
    if (!sgd && plx_linear_sqrt(r->patches->cov, d, F, ew)) {
      rc = plx_error_set(err, PLX_EINVAL, "covariance is not finite");
      goto done;
    }
  }
  if (prog && prog->fn)
    prog->fn(prog->ctx, "train", 0.0);
  for (e = 0;; e++) {
    const int probe_now = (e % (long)c->every) == 0 || e == c->epochs;
    size_t row = r->rows;
    if (probe_now) {
      probe(r, (double)e, plx_clock_seconds() - t0);
      r->loss[row] = NAN;
    }
    if (e == c->epochs) {
      r->loss[row] = plx_linear_loss(r->m, r->patches->cov, r->M);
      if (!isfinite(r->loss[row]))
        rc = diverged(r, e, r->loss[row], err);
      break;
    }
    if (sgd) {
      /* a fresh shuffle per epoch (Fisher-Yates), batches in order */
      plx_rng_reseed(shuf, c->seed, (uint64_t)e, PLX_POP_SUB(PLX_POP_DATA, 1));
      for (i = n - 1; i > 0; i--) {
        size_t j = (size_t)plx_rng_below(shuf, i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      if (probe_now)
        r->loss[row] = plx_linear_loss(r->m, r->patches->cov, r->M);
      for (s = 0; s * c->batch < n; s++) {
        size_t m0 = s * c->batch, mb = n - m0 < c->batch ? n - m0 : c->batch;
        plx_patches_batch_cov(r->patches, perm + m0, mb, S, covw, 512);
        if (with_noise) {
          if (plx_linear_sqrt(S, d, F, ew)) {
            rc = diverged(r, e, NAN, err);
            goto done;
          }
          plx_linear_noise_grad(d, F, c->noise, (double)mb, noise, z, extra);
        }
        plx_linear_step(r->m, S, r->M, with_noise ? extra : NULL, c->eta, NULL);
      }
    } else {
      for (s = 0; s < c->steps_per_epoch; s++) {
        double l;
        if (with_noise)
          plx_linear_noise_grad(d, F, c->noise, (double)n, noise, z, extra);
        plx_linear_step(r->m, r->patches->cov, r->M, with_noise ? extra : NULL, c->eta, &l);
        if (s == 0 && probe_now)
          r->loss[row] = l;
      }
    }
    if (probe_now && !isfinite(r->loss[row])) {
      rc = diverged(r, e, r->loss[row], err);
      goto done;
    }
    if (!isfinite(r->m->prod[0]) || !isfinite(r->m->prod[d * d - 1])) {
      rc = diverged(r, e, NAN, err);
      goto done;
    }
    if (prog && prog->fn)
      prog->fn(prog->ctx, "train", (double)(e + 1) / (double)c->epochs);
  }
done:
  r->t_train = plx_clock_seconds() - t0;
  free(S);
  free(F);
  free(z);
  free(extra);
  free(covw);
  free(ew);
  free(perm);
  plx_rng_free(shuf);
  plx_rng_free(noise);
  return rc;
}

/* ------------------------------------------------------------ output */

static int write_weights(lin_run *r, plx_h5 *h, const char *set, int factors,
                         plx_error *err)
{
  char path[128];
  size_t l;
  int rc;
  const size_t d = r->c.d;
  snprintf(path, sizeof path, "weights/%s/W", set);
  if ((rc = plx_h5_write_matrix(h, path, r->m->prod, d, d, d, err)))
    return rc;
  if (factors)
    for (l = 0; l < r->m->layers; l++) {
      snprintf(path, sizeof path, "weights/%s/W%zu", set, l + 1);
      if ((rc = plx_h5_write_matrix(h, path, r->m->w[l], d, d, d, err)))
        return rc;
    }
  return PLX_OK;
}

static int write_arrays(lin_run *r, plx_h5 *h, plx_error *err)
{
  const lin_cfg *c = &r->c;
  size_t dims[2];
  int rc;
  dims[0] = r->rows;
  dims[1] = c->K;
  if ((rc = plx_h5_write_vector(h, "train/epoch", r->epoch, r->rows, err)) ||
      (rc = plx_h5_write_vector(h, "train/loss", r->loss, r->rows, err)) ||
      (rc = plx_h5_write_vector(h, "train/seconds", r->secs, r->rows, err)) ||
      (rc = plx_h5_write_vector(h, "probes/pc_variance", r->pca->values, c->K, err)) ||
      (rc = plx_h5_write_array(h, "probes/pc_diag", r->pc_diag, 2, dims, err)) ||
      (rc = plx_h5_write_array(h, "probes/pc_gain", r->pc_gain, 2, dims, err)) ||
      (rc = plx_h5_write_vector(h, "probes/freq", r->freq, c->F, err)) ||
      (rc = plx_h5_write_vector(h, "probes/acuity", r->acuity, r->rows, err)))
    return rc;
  dims[1] = c->F;
  if ((rc = plx_h5_write_array(h, "probes/sensitivity", r->sens, 2, dims, err)) ||
      (rc = plx_h5_write_array(h, "probes/threshold", r->thr, 2, dims, err)))
    return rc;
  return PLX_OK;
}

static int write_tables(lin_run *r, plx_rundir *rd, plx_error *err)
{
  static const char *const pc_cols[] = {"epoch", "pc", "variance", "diag", "gain"};
  static const char *const th_cols[] = {"epoch", "f", "cycles_per_100px", "sensitivity",
                                        "threshold"};
  static const char *const tr_cols[] = {"epoch", "loss", "acuity", "acuity_sq", "seconds"};
  const lin_cfg *c = &r->c;
  plx_table *tp = plx_table_new(5, pc_cols, "iifff");
  plx_table *tt = plx_table_new(5, th_cols, "iffff");
  plx_table *tr = plx_table_new(5, tr_cols, "iffff");
  size_t i, k;
  int rc = PLX_OK;
  if (!tp || !tt || !tr) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  plx_table_comment(tp, "diag = u_k^T W u_k; gain = ||W u_k||^2 (sensitivity to PC k)");
  plx_table_comment(tt, "f in code units: s = 0.5 sin(f x + phi) + 0.5, x = pi c / (P - 1); "
                        "threshold = sensitivity^(-1/2)");
  for (i = 0; i < r->rows; i++) {
    double v[5];
    for (k = 0; k < c->K; k++) {
      v[0] = r->epoch[i];
      v[1] = (double)(k + 1);
      v[2] = r->pca->values[k];
      v[3] = r->pc_diag[i * c->K + k];
      v[4] = r->pc_gain[i * c->K + k];
      if (plx_table_append(tp, NULL, v))
        goto oom;
    }
    for (k = 0; k < c->F; k++) {
      v[0] = r->epoch[i];
      v[1] = r->freq[k];
      v[2] = 100.0 * r->freq[k] / (2.0 * (double)(c->side - 1));
      v[3] = r->sens[i * c->F + k];
      v[4] = r->thr[i * c->F + k];
      if (plx_table_append(tt, NULL, v))
        goto oom;
    }
    v[0] = r->epoch[i];
    v[1] = r->loss[i];
    v[2] = r->acuity[i];
    v[3] = r->acuity[i] * r->acuity[i];
    v[4] = r->secs[i];
    if (plx_table_append(tr, NULL, v))
      goto oom;
  }
  if (!(rc = plx_rundir_table(rd, "pc_curves", tp, err)) &&
      !(rc = plx_rundir_table(rd, "thresholds", tt, err)))
    rc = plx_rundir_table(rd, "training", tr, err);
  goto done;
oom:
  rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
done:
  plx_table_free(tp);
  plx_table_free(tt);
  plx_table_free(tr);
  return rc;
}

/* Up to 8 probe rows at multiples of snapshot_every, evenly spread,
 * always with the first and the last. */
static size_t snapshot_rows(const lin_run *r, size_t *out)
{
  size_t cand[4096], nc = 0, i, n;
  for (i = 0; i < r->rows && nc < 4096; i++)
    if ((long)r->epoch[i] % (long)r->c.snap_every == 0 || i + 1 == r->rows)
      cand[nc++] = i;
  n = nc < 8 ? nc : 8;
  for (i = 0; i < n; i++)
    out[i] = cand[n > 1 ? (i * (nc - 1)) / (n - 1) : 0];
  return n;
}

static int write_figures(lin_run *r, plx_rundir *rd, plx_error *err)
{
  const lin_cfg *c = &r->c;
  plx_figure *fig;
  plx_axes *ax;
  double *y = malloc(r->rows * sizeof *y), *z = NULL;
  char label[64], title[256];
  size_t i, k, sel[8], ns;
  int rc = PLX_OK, col = 0;
  static const size_t pcs[] = {1, 2, 3, 5, 10, 20, 50, 100};
  if (!y)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");

  /* PC learning curves: selected components, and all K as a heat map */
  fig = plx_figure_new(1, 2, 1100, 430);
  z = malloc(r->rows * c->K * sizeof *z);
  if (!fig || !z) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  snprintf(title, sizeof title, "%s: %zu layer%s%s, %s, principal components learned in order of variance",
           c->name, c->layers, c->layers > 1 ? "s" : "", c->symmetric ? " (W = Q^T Q)" : "",
           c->full_batch ? "full-batch GD" : "SGD");
  plx_figure_title(fig, title);
  ax = plx_figure_axes(fig, 0, 0);
  plx_axes_xlabel(ax, "epoch");
  plx_axes_ylabel(ax, "u_k^T W u_k");
  for (k = 0; k < sizeof pcs / sizeof pcs[0]; k++) {
    if (pcs[k] > c->K)
      break;
    for (i = 0; i < r->rows; i++)
      y[i] = r->pc_diag[i * c->K + pcs[k] - 1];
    snprintf(label, sizeof label, "PC %zu", pcs[k]);
    plx_axes_line(ax, r->epoch, y, r->rows, col++, PLX_SOLID, label);
  }
  ax = plx_figure_axes(fig, 0, 1);
  plx_axes_xlabel(ax, "epoch");
  plx_axes_ylabel(ax, "principal component k");
  for (i = 0; i < r->rows; i++)
    for (k = 0; k < c->K; k++)
      z[i + k * r->rows] = r->pc_diag[i * c->K + k];
  plx_axes_heatmap(ax, z, r->rows, c->K, r->epoch[0],
                   r->rows > 1 ? r->epoch[r->rows - 1] : r->epoch[0] + 1.0, 0.5,
                   (double)c->K + 0.5, "u_k^T W u_k");
  if ((rc = plx_rundir_figure(rd, "pc_curves", fig, err)))
    goto done;
  plx_figure_free(fig);

  /* thresholds against frequency at snapshots */
  fig = plx_figure_new(1, 2, 1100, 430);
  if (!fig) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  snprintf(title, sizeof title, "Grating frequency thresholds D(f)^-1/2 over training "
           "(%s; dashed: acuity cutoff %g)", c->first_layer ? "first factor W_1" : "product W",
           c->cutoff);
  plx_figure_title(fig, title);
  ns = snapshot_rows(r, sel);
  for (k = 0; k < 2; k++) {
    ax = plx_figure_axes(fig, 0, (int)k);
    plx_axes_xlabel(ax, "frequency f (code units; x 100/62 = cycles per 100 px)");
    plx_axes_ylabel(ax, k ? "threshold (log scale)" : "threshold");
    if (k)
      plx_axes_logy(ax, 1);
    else
      plx_axes_ylim(ax, 0.0, 5.0 * c->cutoff);
    for (i = 0; i < ns; i++) {
      snprintf(label, sizeof label, "epoch %.0f", r->epoch[sel[i]]);
      plx_axes_line(ax, r->freq, r->thr + sel[i] * c->F, c->F, (int)i, PLX_SOLID, label);
    }
    plx_axes_hline(ax, c->cutoff, PLX_C_BLACK, PLX_DASHED);
  }
  if ((rc = plx_rundir_figure(rd, "thresholds", fig, err)))
    goto done;
  plx_figure_free(fig);

  /* acuity and its square against training */
  fig = plx_figure_new(1, 2, 1000, 400);
  if (!fig) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  snprintf(title, sizeof title, "Acuity: highest f with threshold < %g (grid step %g)",
           c->cutoff, c->ac_step);
  plx_figure_title(fig, title);
  ax = plx_figure_axes(fig, 0, 0);
  plx_axes_xlabel(ax, "epoch");
  plx_axes_ylabel(ax, "acuity f_c (code units)");
  plx_axes_line(ax, r->epoch, r->acuity, r->rows, PLX_C_BLUE, PLX_SOLID, NULL);
  ax = plx_figure_axes(fig, 0, 1);
  plx_axes_xlabel(ax, "epoch");
  plx_axes_ylabel(ax, "f_c^2");
  for (i = 0; i < r->rows; i++)
    y[i] = r->acuity[i] * r->acuity[i];
  plx_axes_line(ax, r->epoch, y, r->rows, PLX_C_VERMILLION, PLX_SOLID, NULL);
  if ((rc = plx_rundir_figure(rd, "acuity", fig, err)))
    goto done;
  plx_figure_free(fig);

  /* loss */
  fig = plx_figure_new(1, 1, 560, 400);
  if (!fig) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  plx_figure_title(fig, "Mean-squared error over all patches");
  ax = plx_figure_axes(fig, 0, 0);
  plx_axes_xlabel(ax, "epoch");
  plx_axes_ylabel(ax, "loss");
  plx_axes_logy(ax, 1);
  plx_axes_line(ax, r->epoch, r->loss, r->rows, PLX_C_BLACK, PLX_SOLID, NULL);
  rc = plx_rundir_figure(rd, "loss", fig, err);
done:
  plx_figure_free(fig);
  free(y);
  free(z);
  return rc;
}

typedef struct manifest_ctx {
  const plx_linearnet_opts *o;
  const lin_run *r;
} manifest_ctx;

static void manifest_body(plx_jw *w, void *vctx)
{
  const manifest_ctx *mc = vctx;
  const lin_run *r = mc->r;
  const lin_cfg *c = &r->c;
  const size_t last = r->rows ? r->rows - 1 : 0;
  size_t i;
  plx_manifest_invocation(w, mc->o->command ? mc->o->command : "run", mc->o->config,
                          mc->o->overrides, mc->o->n_overrides);
  plx_jw_string(w, "experiment", c->name);
  plx_jw_string(w, "description", plx_params_string(c->exp, "description"));
  plx_jw_int(w, "seed", (long long)c->seed);
  plx_jw_int(w, "threads", mc->o->threads);
  plx_jw_object_begin(w, "data");
  plx_jw_string(w, "source", c->synthetic ? "synthetic" : "photos");
  if (c->synthetic) {
    plx_jw_int(w, "synthetic_images", (long long)c->synth_images);
    plx_jw_int(w, "synthetic_side", (long long)c->synth_side);
    plx_jw_number(w, "synthetic_alpha", c->synth_alpha);
  } else {
    plx_jw_int(w, "downsample", c->downsample);
    plx_jw_array_begin(w, "files");
    for (i = 0; i < c->n_files; i++)
      plx_jw_string(w, NULL, c->files[i]);
    plx_jw_array_end(w);
  }
  plx_jw_int(w, "patch", (long long)c->side);
  plx_jw_int(w, "patches", (long long)c->count);
  plx_jw_int(w, "seed", (long long)c->data_seed);
  plx_jw_string(w, "cache", r->patches->cache_note);
  plx_jw_string(w, "cache_file", r->patches->cache_path);
  plx_jw_number(w, "pc1_share", r->pc1_share);
  plx_jw_number(w, "spectrum_slope", r->slope);
  plx_jw_array_begin(w, "spectrum_fit_range");
  plx_jw_int(w, NULL, (long long)c->fit0);
  plx_jw_int(w, NULL, (long long)c->fit1);
  plx_jw_array_end(w);
  plx_jw_object_end(w);
  plx_jw_object_begin(w, "model");
  plx_jw_string(w, "type", "linear_deep");
  plx_jw_int(w, "layers", (long long)c->layers);
  plx_jw_bool(w, "symmetric", c->symmetric);
  plx_jw_string(w, "init", plx_params_string(c->model, "init"));
  if (c->init == INIT_UNIFORM)
    plx_jw_number(w, "init_scale", c->init_scale);
  if (c->init == INIT_ALIGNED)
    plx_jw_number(w, "init_sigma", c->init_sigma);
  plx_jw_object_end(w);
  plx_jw_string(w, "task", c->supervised ? (c->target == TARGET_BLUR ? "supervised (blur)"
                                                                     : "supervised (pc_gains)")
                                         : "reconstruct");
  plx_jw_object_begin(w, "rule");
  plx_jw_string(w, "name", "gradient");
  plx_jw_string(w, "method", c->full_batch ? "full_batch" : "sgd");
  plx_jw_number(w, "eta", c->eta);
  plx_jw_int(w, "batch", (long long)c->batch);
  plx_jw_int(w, "steps_per_epoch", (long long)c->steps_per_epoch);
  plx_jw_number(w, "output_noise", c->noise);
  plx_jw_int(w, "epochs", c->epochs);
  plx_jw_object_end(w);
  plx_jw_object_begin(w, "results");
  plx_jw_number(w, "final_loss", r->rows ? r->loss[last] : NAN);
  plx_jw_number(w, "final_acuity", r->rows ? r->acuity[last] : NAN);
  plx_jw_object_end(w);
  plx_jw_object_begin(w, "timings_seconds");
  plx_jw_number(w, "data", r->t_data);
  plx_jw_number(w, "pca", r->t_pca);
  plx_jw_number(w, "train", r->t_train);
  plx_jw_number(w, "write", r->t_write);
  plx_jw_number(w, "total", r->t_total);
  plx_jw_object_end(w);
  plx_manifest_environment(w);
}

static void spec_from_cfg(const lin_cfg *c, plx_patch_spec *sp)
{
  memset(sp, 0, sizeof *sp);
  sp->synthetic = c->synthetic;
  sp->files = (const char *const *)c->files;
  sp->n_files = c->n_files;
  sp->downsample = c->downsample;
  sp->synth_images = c->synth_images;
  sp->synth_side = c->synth_side;
  sp->synth_alpha = c->synth_alpha;
  sp->side = c->side;
  sp->count = c->count;
  sp->seed = c->data_seed;
  sp->cache_dir = c->cache_dir;
}

static int linearnet_run(plx_linearnet_opts *o, plx_error *err)
{
  lin_run r;
  plx_rundir *rd = NULL;
  plx_patch_spec sp;
  manifest_ctx mc;
  char buf[4400];
  const double t0 = plx_clock_seconds();
  double t;
  int rc;

  memset(&r, 0, sizeof r);
  o->out_used[0] = o->summary[0] = '\0';
  plx_gsl_quiet();
  if ((rc = load_cfg(&r.c, o->config, o->overrides, o->n_overrides, err)))
    goto fail;
  if (o->out)
    snprintf(o->out_used, sizeof o->out_used, "%s", o->out);
  else
    snprintf(o->out_used, sizeof o->out_used, "runs/%s", r.c.name);
  if ((rc = plx_rundir_open(&rd, o->out_used, r.c.formats, err)))
    goto fail;
  if (o->watch)
    *o->watch = rd;
  if ((rc = plx_rundir_copy(rd, o->config, "config.cfg", err)) ||
      (rc = plx_config_write(r.c.cfg, plx_rundir_file(rd, "config.resolved.cfg", buf, sizeof buf),
                             err)))
    goto fail;

  /* patches, covariance, PCA */
  spec_from_cfg(&r.c, &sp);
  t = plx_clock_seconds();
  if ((rc = plx_patches_make(&r.patches, &sp, !r.c.full_batch, o->prog, err))) {
    char where[512];
    if (sp.failed_fit) {
      /* a patch larger than an image: the patch size is what to change */
      plx_params_where(r.c.data, "patch", where, sizeof where);
      plx_error_prefix(err, "%s: data.patch", where);
    } else if (sp.failed_file != (size_t)-1) {
      char key[64];
      const char *base;
      file_key(&r.c, sp.failed_file, key, sizeof key, &base);
      plx_params_where(r.c.data, base, where, sizeof where);
      plx_error_prefix(err, "%s: data.%s", where, key);
    }
    goto fail;
  }
  r.t_data = plx_clock_seconds() - t;
  t = plx_clock_seconds();
  if ((rc = plx_pca_compute(&r.pca, r.patches->cov, r.c.d, err)))
    goto fail;
  r.pc1_share = r.pca->total > 0 ? r.pca->values[0] / r.pca->total : NAN;
  r.slope = plx_pca_powerlaw(r.pca, r.c.fit0, r.c.fit1, NULL);
  r.t_pca = plx_clock_seconds() - t;
  if ((rc = plx_pca_report(r.pca, r.patches->mean, r.c.K > 64 ? r.c.K : 64, r.c.fit0,
                           r.c.fit1, rd, err)))
    goto fail;

  /* model, targets, probes; train */
  if ((rc = make_target(&r, err)) || (rc = init_model(&r, err)) ||
      (rc = alloc_probes(&r, err)) ||
      (rc = write_weights(&r, plx_rundir_h5(rd), "initial", 0, err)))
    goto fail;
  if (r.M && (rc = plx_h5_write_matrix(plx_rundir_h5(rd), "task/target_map", r.M, r.c.d,
                                       r.c.d, r.c.d, err)))
    goto fail;
  if ((rc = train(&r, o->prog, err)))
    goto fail;

  t = plx_clock_seconds();
  if ((rc = write_weights(&r, plx_rundir_h5(rd), "final", 1, err)) ||
      (rc = write_arrays(&r, plx_rundir_h5(rd), err)) ||
      (rc = write_tables(&r, rd, err)) || (rc = write_figures(&r, rd, err)))
    goto fail;
  r.t_write = plx_clock_seconds() - t;
  r.t_total = plx_clock_seconds() - t0;
  mc.o = o;
  mc.r = &r;
  if (o->watch)
    *o->watch = NULL;
  rc = plx_rundir_commit(rd, manifest_body, &mc, err);
  rd = NULL;
  if (rc)
    goto fail;
  snprintf(o->summary, sizeof o->summary,
           "%zu epochs (%s): loss %.4g, acuity %.2f; PC1 %.1f%% of variance, "
           "spectrum slope %.2f; patches %s (%.1f s), training %.1f s",
           (size_t)r.c.epochs, r.c.full_batch ? "full batch" : "SGD", r.loss[r.rows - 1],
           r.acuity[r.rows - 1], 100.0 * r.pc1_share, r.slope, r.patches->cache_note,
           r.t_data, r.t_train);
  lin_run_release(&r);
  return PLX_OK;
fail:
  if (o->watch)
    *o->watch = NULL;
  if (rd)
    plx_rundir_abort(rd);
  lin_run_release(&r);
  return rc;
}

int plx_linearnet_check(const char *config, const char *const *overrides,
                        size_t n_overrides, char *summary, size_t n,
                        plx_error *err)
{
  lin_cfg c;
  int rc = load_cfg(&c, config, overrides, n_overrides, err);
  if (!rc && summary)
    snprintf(summary, n, "experiment %s: linear_deep, %zu layer%s%s, %s on %zu %zux%zu "
             "patches of %s, %ld epochs", c.name, c.layers, c.layers > 1 ? "s" : "",
             c.symmetric ? " (symmetric)" : "", c.full_batch ? "full-batch GD" : "SGD",
             c.count, c.side, c.side,
             c.synthetic ? "synthetic images" : "photographs", c.epochs);
  lin_cfg_release(&c);
  return rc;
}

int plx_linearnet_wants(const char *config, const char *const *overrides,
                        size_t n_overrides)
{
  plx_config *cfg;
  plx_error err;
  const char *type = NULL;
  int yes;
  if (plx_config_load(&cfg, config, overrides, n_overrides, &err))
    return 0;
  yes = config_lookup_string(plx_config_raw(cfg), "model.type", &type) == CONFIG_TRUE &&
        strcmp(type, "linear_deep") == 0;
  plx_config_free(cfg);
  return yes;
}

/* the entry point: the run with OpenBLAS single-threaded (plastix/blas_threads.h) */
int plx_linearnet_run(plx_linearnet_opts *o, plx_error *err)
{
  int rc;
  plx_blas_serial_enter();
  rc = linearnet_run(o, err);
  plx_blas_serial_leave();
  return rc;
}
