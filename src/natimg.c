/* natimg.c -- the natural-image experiment (Benjamin et al. 2022, Fig. 2,
 * SI Fig. 1; see plastix/natimg.h): train a convolutional network to tell
 * which photograph a random grey crop came from (or to denoise crops),
 * measure the photographs' own orientation statistics, probe the orientation
 * sensitivity of its layers with Gabor patches and the preferred
 * orientations of their centre units, and run the controls
 * (untrained, shuffled within each tensor, trained on crops rotated by
 * 45 degrees).  Writes a run directory like `plastix run`. */
#include "config.h"
#include "plastix/natimg.h"
#include "plastix/clock.h"
#include "plastix/deepnet.h"
#include "plastix/deepnet_train.h"
#include "plastix/error.h"
#include "plastix/images.h"
#include "plastix/images2d.h"
#include "plastix/perceptual_units.h"
#include "plastix/rundir.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const plx_natimg_condition_names[PLX_NATIMG_N_CONDITIONS] = {
    "trained", "untrained", "shuffled", "rotated"};

const char *const plx_natimg_unit_measures[PLX_NATIMG_N_UNIT_MEASURES] = {
    "cardinal_minus_oblique", "gain_cardinal_minus_oblique", "centre_contrast",
    "median_half_width_deg"};

static const plx_param_spec exp_spec[] = {
    PLX_P_STRING("name", "natural_images", NULL, "name used for the run directory"),
    PLX_P_INT_MIN("seed", 1, 0, "master seed"),
    PLX_P_INT_RANGE("seeds", 1, 1, 1000,
                    "independent networks, seeds seed, seed + 1, ...: every condition "
                    "for each, statistics over them in tables/seed_statistics.csv "
                    "(the curves, tables and weights are the first seed's)"),
    PLX_P_STRING("description", "", NULL, "free text, copied to the manifest"),
    PLX_P_END};

static const plx_param_spec task_spec[] = {
    {"type", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, "natural_images", NULL,
     "natural_images: train on photographs, probe orientation sensitivity"},
    PLX_P_STRING("objective", "photo_id", "photo_id|denoise",
                 "photo_id: classify which photograph a crop came from (a task "
                 "that does not itself involve orientation); denoise: from the "
                 "crop plus white noise, output the clean crop average-pooled by "
                 "target_pool (squared error; a self-supervised objective)"),
    PLX_P_FLOAT_MIN("noise_sd", 1.0, 0.0, 0,
                    "denoise: s.d. of the white noise added to each pixel of the "
                    "(normalised) crop"),
    PLX_P_INT_RANGE("target_pool", 4, 1, 64,
                    "denoise: the target is the clean crop average-pooled in blocks "
                    "of this many pixels a side (crop must be a multiple)"),
    PLX_P_END};

static const plx_param_spec images_spec[] = {
    {"files", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, NULL, NULL,
     "photographs: files, folders or glob patterns (default: the natural "
     "photographs of mate-backgrounds and lomiri-wallpapers-16.04)"},
    PLX_P_INT_RANGE("width", 480, 32, 100000,
                    "each photograph is box-filtered by the integer factor that "
                    "brings its width nearest to this many pixels (photographs "
                    "differ in resolution; this puts them on a similar scale)"),
    PLX_P_INT_RANGE("crop", 64, 8, 512, "crop side in pixels (the network's input)"),
    PLX_P_BOOL("flip", 0,
               "mirror half of the training crops left-right (off by default: a "
               "network trained on mirrored crops becomes mirror-symmetric, and its "
               "sensitivity then has notches at exactly 0 and 90 degrees)"),
    PLX_P_BOOL("normalise_crops", 1,
               "give every crop zero mean and unit variance, so that the photograph "
               "cannot be told by its luminance and contrast alone"),
    PLX_P_FLOAT_RANGE("holdout", 0.25, 0.0, 0.9, PLX_PARAM_MIN_EXCL,
                      "right-hand fraction of every photograph kept for evaluation crops"),
    PLX_P_INT_RANGE("eval_crops", 16, 1, 100000, "evaluation crops per photograph"),
    PLX_P_END};

static const plx_param_spec model_spec[] = {
    {"type", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, "deepnet", NULL,
     "deepnet"},
    PLX_P_LIST("layers", plx_layer_spec,
               "layers in order; the last is an fc with one output per photograph"),
    PLX_P_FLOAT_MIN("init_scale", 2.45, 0.0, PLX_PARAM_MIN_EXCL,
                    "default (PyTorch) initialisation times this (2.45 = sqrt 6: He's)"),
    PLX_P_END};

static const plx_param_spec train_spec[] = {
    PLX_P_INT_MIN("steps", 2000, 1, "SGD steps, each on a fresh batch of crops"),
    PLX_P_INT_RANGE("batch", 64, 1, 100000, "crops per step"),
    PLX_P_FLOAT_MIN("lr", 0.01, 0.0, PLX_PARAM_MIN_EXCL, "learning rate"),
    PLX_P_FLOAT_RANGE("momentum", 0.9, 0.0, 1.0, PLX_PARAM_MAX_EXCL, "heavy-ball momentum"),
    PLX_P_FLOAT_MIN("decay", 5e-4, 0.0, 0, "weight decay"),
    PLX_P_INT_MIN("log_every", 100, 1, "steps between evaluations"),
    PLX_P_END};

static const plx_param_spec probe_spec[] = {
    {"layers", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, NULL, NULL,
     "layers whose sensitivity is measured (default: every relu)"},
    PLX_P_INT_RANGE("orientations", 180, 8, 3600, "Gabor orientations over [0, 180) degrees"),
    PLX_P_INT_RANGE("phases", 10, 1, 1000, "phases averaged over, uniform in [0, 2 pi)"),
    PLX_P_FLOAT_MIN("period", 0.0, 0.0, 0,
                    "Gabor period in pixels (0: the paper's 2 cycles per 100 px of a "
                    "224-px image, scaled to the crop)"),
    PLX_P_FLOAT_MIN("envelope", 0.0, 0.0, 0,
                    "s.d. of the Gabor's Gaussian envelope in pixels (0: the paper's "
                    "50 px of 224, scaled to the crop)"),
    PLX_P_FLOAT_MIN("contrast", 1.0, 0.0, PLX_PARAM_MIN_EXCL,
                    "Gabor amplitude (the paper: values in [-1, 1])"),
    PLX_P_FLOAT_RANGE("window", 10.0, 0.5, 22.5, 0,
                      "half-width in degrees of the cardinal (0, 90) and oblique "
                      "(45, 135) windows of the ratio"),
    {"steps", PLX_PARAM_FLOAT_ARRAY, PLX_PARAM_HAS_MIN, 0, NULL, 0, 0, NULL, NULL,
     "training steps (increasing integers up to train.steps) at which the trained and "
     "rotated networks are also probed while they learn: sensitivity over training "
     "(default none)"},
    PLX_P_END};

static const plx_param_spec cond_spec[] = {
    {"run", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, "trained|untrained|shuffled|rotated",
     NULL, "conditions to measure (default all four)"},
    PLX_P_FLOAT_RANGE("rotation", 45.0, -180.0, 180.0, 0,
                      "rotated condition: the training crops are turned by this many degrees"),
    PLX_P_STRING("shuffle", "all", "all|weights|centred",
                 "shuffled condition: permute every weight tensor and bias vector "
                 "(all), the weight tensors only, with the initial biases (weights), "
                 "or all and then subtract each weight tensor's mean (centred)"),
    PLX_P_END};

static const plx_param_spec output_spec[] = {
    {"figures", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, "png|svg", NULL,
     "figure formats (default [\"png\"])"},
    PLX_P_END};

static const plx_param_spec root_spec[] = {
    PLX_P_GROUP("experiment", exp_spec, "name, seed"),
    PLX_P_GROUP("task", task_spec, "task.type = \"natural_images\""),
    PLX_P_GROUP("images", images_spec, "the photographs and their crops"),
    PLX_P_GROUP("model", model_spec, "the network"),
    PLX_P_GROUP("train", train_spec, "SGD with momentum"),
    PLX_P_GROUP("probe", probe_spec, "Gabor sensitivity probe"),
    PLX_P_GROUP("conditions", cond_spec, "trained network and controls"),
    PLX_P_GROUP("output", output_spec, "figures"),
    PLX_P_END};

/* one photograph, normalised grey, with its training and evaluation ranges
 * of crop centres (columns; rows share one range) */
typedef struct photo {
  float *g;
  size_t w, h;
  double x0, x1, ex0, ex1, y0, y1;
  double e_card, e_obl; /* gradient energy of the training part near the
                           cardinals and near the obliques */
} photo;

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
  double holdout;
  plx_deepnet *net;
  double init_scale;
  long steps, batch, log_every;
  double lr, momentum, decay;
  plx_grating2d gabor;
  size_t probe_t, probe_p, n_probes;
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
} natimg;

int plx_natimg_is(const char *path)
{
  return plx_config_task_is(path, "natural_images");
}

static void natimg_free(natimg *ni)
{
  size_t i;
  if (!ni)
    return;
  if (ni->ph)
    for (i = 0; i < ni->n_photos; i++)
      free(ni->ph[i].g);
  free(ni->ph);
  plx_images_free_list(ni->paths, ni->n_photos);
  free(ni->tgt);
  plx_rng_free(ni->eval_rng);
  plx_deepnet_free(ni->net);
  plx_config_free(ni->cfg);
  free(ni);
}

/* The photographs named by images.files (or the default set). */
static int collect_files(natimg *ni, const plx_params *p, plx_error *err)
{
  config_setting_t *fs = plx_params_setting(p, "files");
  char where[512];
  int rc, k;
  if (fs) {
    int n = config_setting_length(fs);
    if (n == 0)
      return plx_params_error(p, "files", err, "empty list: name at least one "
                              "photograph, folder or glob pattern");
    for (k = 0; k < n; k++) {
      const char *pat = config_setting_get_string(config_setting_get_elem(fs, (unsigned)k));
      if ((rc = plx_images_expand(pat, &ni->paths, &ni->n_photos, err))) {
        plx_params_where(p, "files", where, sizeof where);
        plx_error_prefix(err, "%s: images.files[%d]", where, k);
        return rc;
      }
    }
    return PLX_OK;
  }
  for (k = 0; plx_images_default_photos[k]; k++) {
    struct stat st;
    if (stat(plx_images_default_photos[k], &st) != 0)
      return plx_params_error(p, "files", err,
                              "default photograph %s is missing: install the Debian "
                              "packages mate-backgrounds and lomiri-wallpapers-16.04 "
                              "(scripts/setup.sh), or set images.files",
                              plx_images_default_photos[k]);
    if ((rc = plx_images_expand(plx_images_default_photos[k], &ni->paths, &ni->n_photos, err)))
      return rc;
  }
  return PLX_OK;
}

/* Read every photograph, normalise grey by the mean and s.d. of all their
 * pixels, and work out where crop centres may fall. */
static int read_photos(natimg *ni, const plx_params *p, plx_error *err)
{
  const double R = plx_rotated_crop_radius(ni->crop);
  double s = 0, s2 = 0, n = 0;
  size_t i, j;
  int rc;
  ni->ph = calloc(ni->n_photos, sizeof *ni->ph);
  if (!ni->ph)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  for (i = 0; i < ni->n_photos; i++) {
    plx_image im;
    photo *f = &ni->ph[i];
    double split;
    size_t k, r, c, a, b;
    if ((rc = plx_image_read(&im, ni->paths[i], 1, err)))
      return rc;
    k = (size_t)floor((double)im.w / (double)ni->width + 0.5);
    if (k < 1)
      k = 1;
    f->w = im.w / k;
    f->h = im.h / k;
    f->g = malloc(f->w * f->h * sizeof *f->g);
    if (!f->g || !f->w || !f->h) {
      plx_image_release(&im);
      return plx_error_set(err, f->g ? PLX_EINVAL : PLX_ENOMEM, "%s: %s", ni->paths[i],
                           f->g ? "empty image" : "out of memory");
    }
    /* k x k box filter */
    for (r = 0; r < f->h; r++)
      for (c = 0; c < f->w; c++) {
        double v = 0;
        for (a = 0; a < k; a++)
          for (b = 0; b < k; b++)
            v += im.sum[(r * k + a) * im.w + c * k + b];
        v *= im.scale / (double)(k * k);
        f->g[r * f->w + c] = (float)v;
        s += v;
        s2 += v * v;
      }
    n += (double)(f->w * f->h);
    plx_image_release(&im);
    /* training centres left of the split, evaluation centres right of it,
     * every rotated crop inside its own part */
    split = (1.0 - ni->holdout) * (double)f->w;
    plx_orientation_energy(f->g, f->w, f->h, (size_t)split, ni->window, &f->e_card, &f->e_obl);
    f->x0 = R;
    f->x1 = split - R;
    f->ex0 = split + R;
    f->ex1 = (double)f->w - 1.0 - R;
    f->y0 = R;
    f->y1 = (double)f->h - 1.0 - R;
    if (f->x1 < f->x0 || f->ex1 < f->ex0 || f->y1 < f->y0)
      return plx_params_error(p, "crop", err,
                              "%s is %zu x %zu pixels after downsampling by %zu: too small "
                              "for rotated %zu-pixel crops on both sides of a %.0f%% "
                              "hold-out (each needs %.0f pixels); use a smaller crop, a "
                              "larger width or a smaller holdout",
                              ni->paths[i], f->w, f->h, k, ni->crop,
                              100.0 * ni->holdout, 2 * R);
  }
  ni->mean = s / n;
  ni->sd = sqrt(s2 / n - ni->mean * ni->mean);
  if (!(ni->sd > 0))
    return plx_params_error(p, "files", err, "the photographs have no contrast");
  for (i = 0; i < ni->n_photos; i++)
    for (j = 0; j < ni->ph[i].w * ni->ph[i].h; j++)
      ni->ph[i].g[j] = (float)((ni->ph[i].g[j] - ni->mean) / ni->sd);
  return PLX_OK;
}

static int natimg_load(natimg **out, const plx_natimg_opts *op, int read, plx_error *err)
{
  natimg *ni = calloc(1, sizeof *ni);
  const plx_params *im, *m, *t, *pr, *cd;
  config_setting_t *s;
  size_t maxb;
  int rc;
  *out = NULL;
  if (!ni)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  plx_gsl_quiet();
  if ((rc = plx_config_load(&ni->cfg, op->config, op->overrides, op->n_overrides, err)) ||
      (rc = plx_config_bind(ni->cfg, NULL, root_spec, NULL, &ni->root, err)))
    goto fail;
  snprintf(ni->name, sizeof ni->name, "%s",
           plx_params_string(plx_params_group(ni->root, "experiment"), "name"));
  ni->seed = ni->seed0 =
      (uint64_t)plx_params_int(plx_params_group(ni->root, "experiment"), "seed");
  ni->n_seeds = (size_t)plx_params_int(plx_params_group(ni->root, "experiment"), "seeds");
  im = plx_params_group(ni->root, "images");
  ni->width = (size_t)plx_params_int(im, "width");
  ni->crop = (size_t)plx_params_int(im, "crop");
  ni->flip = plx_params_bool(im, "flip");
  ni->normalise_crops = plx_params_bool(im, "normalise_crops");
  ni->holdout = plx_params_float(im, "holdout");
  ni->eval_per_photo = (size_t)plx_params_int(im, "eval_crops");
  if ((rc = collect_files(ni, im, err)))
    goto fail;
  if (ni->n_photos < 2) {
    rc = plx_params_error(im, "files", err, "%zu photograph: the task needs at least 2",
                          ni->n_photos);
    goto fail;
  }
  {
    const plx_params *tk = plx_params_group(ni->root, "task");
    ni->denoise = !strcmp(plx_params_string(tk, "objective"), "denoise");
    ni->noise_sd = plx_params_float(tk, "noise_sd");
    ni->pool = (size_t)plx_params_int(tk, "target_pool");
    if (!ni->denoise && (plx_params_setting(tk, "noise_sd") || plx_params_setting(tk, "target_pool"))) {
      rc = plx_params_error(tk, plx_params_setting(tk, "noise_sd") ? "noise_sd" : "target_pool",
                            err, "only used with task.objective = \"denoise\"");
      goto fail;
    }
    if (ni->denoise && ni->crop % ni->pool) {
      rc = plx_params_error(tk, "target_pool", err, "%zu does not divide images.crop = %zu",
                            ni->pool, ni->crop);
      goto fail;
    }
    ni->n_out = ni->denoise ? (ni->crop / ni->pool) * (ni->crop / ni->pool) : ni->n_photos;
  }
  t = plx_params_group(ni->root, "train");
  ni->steps = plx_params_int(t, "steps");
  ni->batch = plx_params_int(t, "batch");
  ni->lr = plx_params_float(t, "lr");
  ni->momentum = plx_params_float(t, "momentum");
  ni->decay = plx_params_float(t, "decay");
  ni->log_every = plx_params_int(t, "log_every");
  pr = plx_params_group(ni->root, "probe");
  ni->probe_t = (size_t)plx_params_int(pr, "orientations");
  ni->probe_p = (size_t)plx_params_int(pr, "phases");
  ni->window = plx_params_float(pr, "window");
  if (plx_params_setting(pr, "steps")) {
    double st[PLX_NATIMG_MAX_CHECKPOINTS + 1];
    size_t i, n = plx_params_float_array(pr, "steps", st, PLX_NATIMG_MAX_CHECKPOINTS + 1);
    if (n == 0 || n > PLX_NATIMG_MAX_CHECKPOINTS) {
      rc = plx_params_error(pr, "steps", err, "expected 1 to %d steps, got %zu",
                            PLX_NATIMG_MAX_CHECKPOINTS, n);
      goto fail;
    }
    for (i = 0; i < n; i++) {
      if (st[i] != floor(st[i]) || st[i] > (double)ni->steps ||
          (i > 0 && st[i] <= st[i - 1])) {
        rc = plx_params_error(pr, "steps", err,
                              "expected increasing whole numbers of steps from 0 to "
                              "train.steps = %ld, got %g at position %zu",
                              ni->steps, st[i], i + 1);
        goto fail;
      }
      ni->ckpt[i] = (long)st[i];
    }
    ni->n_ckpt = n;
  }
  ni->gabor.size = ni->crop;
  ni->gabor.period = plx_params_float(pr, "period");
  if (ni->gabor.period <= 0)
    ni->gabor.period = 50.0 * (double)ni->crop / 224.0;
  ni->gabor.envelope = plx_params_float(pr, "envelope");
  if (ni->gabor.envelope <= 0)
    ni->gabor.envelope = 50.0 * (double)ni->crop / 224.0;
  ni->gabor.contrast = plx_params_float(pr, "contrast");
  cd = plx_params_group(ni->root, "conditions");
  ni->rotation = plx_params_float(cd, "rotation") * M_PI / 180.0;
  {
    const char *sh = plx_params_string(cd, "shuffle");
    ni->shuffle = !strcmp(sh, "weights") ? SHUFFLE_WEIGHTS
                : !strcmp(sh, "centred") ? SHUFFLE_CENTRED : SHUFFLE_ALL;
  }
  s = plx_params_setting(cd, "run");
  ni->conds = (1u << PLX_NATIMG_N_CONDITIONS) - 1u;
  if (s) {
    int i, n = config_setting_length(s), c;
    ni->conds = 0;
    for (i = 0; i < n; i++) {
      const char *v = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
      for (c = 0; c < PLX_NATIMG_N_CONDITIONS; c++)
        if (strcmp(v, plx_natimg_condition_names[c]) == 0)
          ni->conds |= 1u << c;
    }
    if (!ni->conds) {
      rc = plx_params_error(cd, "run", err, "empty list: name at least one condition");
      goto fail;
    }
  }
  m = plx_params_group(ni->root, "model");
  ni->init_scale = plx_params_float(m, "init_scale");
  maxb = (size_t)ni->batch > ni->probe_p ? (size_t)ni->batch : ni->probe_p;
  if ((rc = plx_deepnet_new(&ni->net, plx_params_group(m, "layers"), 1, ni->crop, ni->crop,
                            maxb, err)))
    goto fail;
  {
    const plx_layer *last = &ni->net->layers[ni->net->n_layers - 1];
    if (last->kind != PLX_LAYER_FC || last->out_size != ni->n_out) {
      rc = plx_params_error(m, "layers", err,
                            "the last layer must be an fc with out = %zu, %s (it is %s with "
                            "%zu outputs)",
                            ni->n_out, ni->denoise ? "one output per pooled target pixel"
                                                   : "one output per photograph",
                            last->kind == PLX_LAYER_FC ? "an fc" : "not an fc",
                            last->out_size);
      goto fail;
    }
    if (ni->denoise &&
        (!(ni->tgt = malloc(ni->net->max_batch * ni->n_out * sizeof *ni->tgt)) ||
         !(ni->eval_rng = plx_rng_alloc(0, 1, PLX_POP_EVAL_STIMULUS)))) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
      goto fail;
    }
  }
  s = plx_params_setting(pr, "layers");
  if (s) {
    int i, n = config_setting_length(s);
    if (n == 0 || n > PLX_NATIMG_MAX_PROBES) {
      rc = plx_params_error(pr, "layers", err, "expected 1 to %d layer names, got %d",
                            PLX_NATIMG_MAX_PROBES, n);
      goto fail;
    }
    for (i = 0; i < n; i++) {
      const char *v = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
      int li = plx_deepnet_find(ni->net, v);
      if (li < 0) {
        char names[512] = "";
        size_t k, o = 0;
        for (k = 0; k < ni->net->n_layers && o < sizeof names - 40; k++)
          o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", k ? ", " : "",
                                ni->net->layers[k].name);
        rc = plx_params_error(pr, "layers", err, "the network has no layer '%s' (layers: %s)",
                              v, names);
        goto fail;
      }
      ni->probes[ni->n_probes++] = li;
    }
  } else {
    size_t k;
    for (k = 0; k < ni->net->n_layers && ni->n_probes < PLX_NATIMG_MAX_PROBES; k++)
      if (ni->net->layers[k].kind == PLX_LAYER_RELU)
        ni->probes[ni->n_probes++] = (int)k;
    if (!ni->n_probes) {
      rc = plx_params_error(m, "layers", err, "the network has no relu layer to probe: "
                            "name the layers in probe.layers");
      goto fail;
    }
  }
  {
    size_t p;
    for (p = 0; p < ni->n_probes; p++)
      ni->tune_off[p + 1] = ni->tune_off[p] + ni->net->layers[ni->probes[p]].out_c;
  }
  ni->formats = plx_rundir_figure_formats(plx_params_group(ni->root, "output"));
  if (read && (rc = read_photos(ni, im, err)))
    goto fail;
  *out = ni;
  return PLX_OK;
fail:
  natimg_free(ni);
  return rc;
}

int plx_natimg_check(const plx_natimg_opts *op, char *summary, size_t n, plx_error *err)
{
  natimg *ni;
  int rc = natimg_load(&ni, op, 1, err);
  if (rc)
    return rc;
  snprintf(summary, n, "natural-image experiment: %zu photographs, %zu-px crops, %zu-layer "
           "deepnet with %zu parameters, %ld steps of %ld, %zu probed layers",
           ni->n_photos, ni->crop, ni->net->n_layers, plx_deepnet_params(ni->net), ni->steps,
           ni->batch, ni->n_probes);
  natimg_free(ni);
  return PLX_OK;
}

/* ------------------------------------------------------------ crops */

/* crop b of a batch: photograph, centre, flip */
static void render_crop(const natimg *ni, size_t k, double cx, double cy, int flip,
                        double theta, float *img)
{
  const photo *f = &ni->ph[k];
  const size_t n = ni->crop;
  size_t i, j;
  plx_rotated_crop(f->g, f->w, f->h, cx, cy, n, theta, img, NULL);
  if (flip)
    for (i = 0; i < n; i++)
      for (j = 0; j < n / 2; j++) {
        float t = img[i * n + j];
        img[i * n + j] = img[i * n + n - 1 - j];
        img[i * n + n - 1 - j] = t;
      }
  if (ni->normalise_crops) {
    double m = 0, v = 0, sd;
    for (i = 0; i < n * n; i++)
      m += img[i];
    m /= (double)(n * n);
    for (i = 0; i < n * n; i++)
      v += (img[i] - m) * (img[i] - m);
    sd = sqrt(v / (double)(n * n));
    /* a flat crop stays flat (zero) rather than blowing up noise */
    sd = sd > 1e-3 ? 1.0 / sd : 0.0;
    for (i = 0; i < n * n; i++)
      img[i] = (float)((img[i] - m) * sd);
  }
}

/* A crop centre uniform in [lo, hi].  Continuous, not on the pixel grid:
 * every crop, turned or not, is then resampled by the same bicubic
 * interpolation at a random sub-pixel phase, so the unrotated and the
 * rotated conditions see equally smoothed pixels (crops copied straight
 * off the grid would be sharper than any rotated one). */
static double centre_in(plx_rng *r, double lo, double hi, size_t crop)
{
  (void)crop;
  return lo + (hi - lo) * plx_rng_uniform(r);
}

/* The fixed evaluation set: eval_per_photo crops from the hold-out part
 * of every photograph. */
static void eval_set(const natimg *ni, double *cx, double *cy)
{
  plx_rng *r = plx_rng_alloc(ni->seed, 0, PLX_POP_EVAL_STIMULUS);
  size_t k, e;
  for (k = 0; k < ni->n_photos; k++)
    for (e = 0; e < ni->eval_per_photo; e++) {
      const photo *f = &ni->ph[k];
      cx[k * ni->eval_per_photo + e] = centre_in(r, f->ex0, f->ex1, ni->crop);
      cy[k * ni->eval_per_photo + e] = centre_in(r, f->y0, f->y1, ni->crop);
    }
  plx_rng_free(r);
}

/* denoise: the target t is the clean crop x average-pooled in pool x pool
 * blocks; then x gets white noise of s.d. noise_sd from r */
static void denoise_pair(const natimg *ni, plx_rng *r, float *x, float *t)
{
  const size_t n = ni->crop, q = ni->pool, m = n / q;
  size_t i, j, a, b;
  for (i = 0; i < m; i++)
    for (j = 0; j < m; j++) {
      double s = 0.0;
      for (a = 0; a < q; a++)
        for (b = 0; b < q; b++)
          s += x[(i * q + a) * n + j * q + b];
      t[i * m + j] = (float)(s / (double)(q * q));
    }
  for (i = 0; i < n * n; i++)
    x[i] += (float)(ni->noise_sd * plx_rng_normal(r));
}

/* The net on the evaluation set (crops turned by theta): photo_id, the
 * accuracy; denoise, the fraction of the targets' variance explained,
 * 1 - sum (y - t)^2 / sum (t - mean t)^2 (the same noise at every
 * evaluation) */
static double evaluate(natimg *ni, double theta, const double *cx, const double *cy, float *x,
                       int *lab, unsigned char *correct)
{
  const size_t S = ni->crop * ni->crop, total = ni->n_photos * ni->eval_per_photo;
  const size_t mb = ni->net->max_batch, K = ni->n_out;
  plx_rng *r = ni->eval_rng; /* NULL unless denoise */
  size_t s0, i, right = 0;
  double sse = 0.0, st = 0.0, st2 = 0.0;
  if (r)
    plx_rng_reseed(r, ni->seed, 1, PLX_POP_EVAL_STIMULUS);
  for (s0 = 0; s0 < total; s0 += mb) {
    size_t nb = total - s0 < mb ? total - s0 : mb;
    for (i = 0; i < nb; i++) {
      size_t q = s0 + i, k = q / ni->eval_per_photo;
      render_crop(ni, k, cx[q], cy[q], 0, theta, x + i * S);
      lab[i] = (int)k;
      if (r)
        denoise_pair(ni, r, x + i * S, ni->tgt + i * K);
    }
    plx_deepnet_forward(ni->net, x, nb);
    if (r) {
      const float *y = plx_deepnet_output(ni->net, NULL);
      for (i = 0; i < nb * K; i++) {
        const double e = (double)y[i] - (double)ni->tgt[i];
        sse += e * e;
        st += ni->tgt[i];
        st2 += (double)ni->tgt[i] * ni->tgt[i];
      }
      continue;
    }
    plx_deepnet_softmax_ce(ni->net, lab, NULL, NULL, correct);
    for (i = 0; i < nb; i++)
      right += correct[i];
  }
  if (r) {
    const double n = (double)(total * K), ss = st2 - st * st / n;
    return ss > 0 ? 1.0 - sse / ss : 0.0;
  }
  return (double)right / (double)total;
}

/* ------------------------------------------------------------ training */

typedef struct train_log {
  double *loss;          /* per step                                     */
  double *eval_step, *eval_acc;
  size_t n_eval;
} train_log;

/* What the probe measures for one condition of one network: D(theta_i)
 * of every probed layer, sens[p * T + i]; the part of it carried by the
 * layer's centre units (the unit at the spatial centre of each channel),
 * csens[p * T + i]; and the tuning of those centre units, their response
 * averaged over the probe's phases, tune[u * T + i] for the
 * tune_off[n_probes] units, layer by layer.  sens NULL: not measured;
 * csens and tune NULL: D alone. */
typedef struct probe_out {
  double *sens, *csens, *tune;
} probe_out;

static void probe(natimg *ni, float *x, float *dx, const probe_out *o);

/* SGD with heavy-ball momentum on the photo-identity cross-entropy, crops
 * turned by theta; the net starts from its current weights.  With ck_sens,
 * the network is probed (D of every probed layer, into ck_sens + (c * P +
 * p) * T) before step ni->ckpt[c] -- after the last, for ckpt = steps --
 * using x and dx; the probe leaves the training untouched. */
static int train(natimg *ni, double theta, const char *stage, const plx_natimg_opts *op,
                 train_log *lg, double *scratch_cx, double *scratch_cy, float *x, float *dx,
                 float *dl, int *lab, unsigned char *correct, double *ck_sens, plx_error *err)
{
  plx_deepnet *net = ni->net;
  const size_t S = ni->crop * ni->crop, B = (size_t)ni->batch;
  plx_deepnet_momentum *vel = plx_deepnet_momentum_new(net);
  plx_rng *r = plx_rng_alloc(ni->seed, 0, PLX_POP_DATA);
  long step;
  size_t ck = 0;
  int rc = PLX_OK;
  if (!vel || !r) {
    plx_deepnet_momentum_free(vel);
    plx_rng_free(r);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  lg->n_eval = 0;
  if (op->prog && op->prog->fn)
    op->prog->fn(op->prog->ctx, stage, 0.0);
  for (step = 0; step <= ni->steps; step++) {
    size_t i, k;
    if (step % ni->log_every == 0 || step == ni->steps) {
      lg->eval_step[lg->n_eval] = (double)step;
      lg->eval_acc[lg->n_eval++] = evaluate(ni, theta, scratch_cx, scratch_cy, x, lab, correct);
    }
    if (ck_sens && ck < ni->n_ckpt && ni->ckpt[ck] == step) {
      const probe_out po = {ck_sens + ck * ni->n_probes * ni->probe_t, NULL, NULL};
      probe(ni, x, dx, &po);
      ck++;
    }
    if (step == ni->steps)
      break;
    /* the step's batch: the same photographs, centres and flips in every
     * condition (the rotated condition turns them) */
    plx_rng_reseed(r, ni->seed, (uint64_t)step, PLX_POP_DATA);
    for (i = 0; i < B; i++) {
      const photo *f;
      double cx, cy;
      int fl;
      k = (size_t)plx_rng_below(r, ni->n_photos);
      f = &ni->ph[k];
      cx = centre_in(r, f->x0, f->x1, ni->crop);
      cy = centre_in(r, f->y0, f->y1, ni->crop);
      fl = ni->flip && plx_rng_below(r, 2);
      render_crop(ni, k, cx, cy, fl, theta, x + i * S);
      lab[i] = (int)k;
      if (ni->denoise)
        denoise_pair(ni, r, x + i * S, ni->tgt + i * ni->n_out);
    }
    plx_deepnet_forward(net, x, B);
    lg->loss[step] = ni->denoise ? plx_deepnet_mse(net, ni->tgt, dl)
                                 : plx_deepnet_softmax_ce(net, lab, NULL, dl, correct);
    if (!isfinite(lg->loss[step])) {
      rc = plx_params_error(plx_params_group(ni->root, "train"), "lr", err,
                            "training diverged at step %ld (loss not finite): reduce the "
                            "learning rate", step);
      break;
    }
    plx_deepnet_backward(net, dl);
    /* v = m v + g + decay w;  w -= lr v, in double, biases not decayed.
     * Not plx_deepnet_momentum_step (Caffe's form in float, biases
     * decayed): the same method, but its rounding and bias decay move this
     * run's results as far as another seed does (doc/deep-nets.md). */
    for (k = 0; k < net->n_layers; k++) {
      plx_layer *l = &net->layers[k];
      float *v = vel->vW[k], *vb = vel->vb[k];
      size_t j;
      if (!l->n_w)
        continue;
      for (j = 0; j < l->n_w; j++) {
        v[j] = (float)(ni->momentum * v[j] + l->gW[j] + ni->decay * l->W[j]);
        l->W[j] -= (float)(ni->lr * v[j]);
      }
      for (j = 0; j < l->out_c; j++) {
        vb[j] = (float)(ni->momentum * vb[j] + l->gb[j]);
        l->b[j] -= (float)(ni->lr * vb[j]);
      }
    }
    if (op->prog && op->prog->fn)
      op->prog->fn(op->prog->ctx, stage, (double)(step + 1) / (double)ni->steps);
  }
  plx_deepnet_momentum_free(vel);
  plx_rng_free(r);
  return rc;
}

/* ------------------------------------------------------------ probe */

/* D, and the centre units' share and tuning, of the network as it is now
 * (probe_out, above train) */
static void probe(natimg *ni, float *x, float *dx, const probe_out *o)
{
  const size_t S = ni->crop * ni->crop, T = ni->probe_t, P = ni->probe_p;
  size_t i, j, p, u;
  for (i = 0; i < T; i++) {
    size_t unit = 0;
    const double th = (double)i * M_PI / (double)T;
    for (j = 0; j < P; j++)
      plx_grating2d_render(&ni->gabor, th, 2.0 * M_PI * (double)j / (double)P, x + j * S,
                           dx + j * S);
    plx_deepnet_forward(ni->net, x, P);
    plx_deepnet_jvp(ni->net, dx);
    for (p = 0; p < ni->n_probes; p++) {
      const plx_layer *l = &ni->net->layers[ni->probes[p]];
      double acc = 0, cacc = 0;
      for (u = 0; u < P * l->out_size; u++)
        acc += (double)l->tan[u] * (double)l->tan[u];
      o->sens[p * T + i] = acc / (double)P;
      for (u = 0; u < l->out_c && o->tune; u++, unit++) {
        const size_t c = plx_layer_centre(l) + u * l->out_h * l->out_w;
        double m = 0;
        for (j = 0; j < P; j++) {
          const double t = (double)l->tan[c + j * l->out_size];
          m += (double)l->out[c + j * l->out_size];
          cacc += t * t;
        }
        o->tune[unit * T + i] = m / (double)P;
      }
      if (o->csens)
        o->csens[p * T + i] = cacc / (double)P;
    }
  }
}

/* angular distance in degrees between orientations a and b (period 180) */
static double orient_dist(double a, double b)
{
  double d = fmod(fabs(a - b), 180.0);
  return d > 90.0 ? 180.0 - d : d;
}

/* distance in degrees of orientation th from the nearest cardinal (0, 90)
 * and from the nearest oblique (45, 135) */
static double from_cardinal(double th)
{
  return fmin(orient_dist(th, 0), orient_dist(th, 90));
}

static double from_oblique(double th)
{
  return fmin(orient_dist(th, 45), orient_dist(th, 135));
}

/* cardinal / oblique ratio of sqrt D, the difference c of mean log sqrt D
 * between the two windows and its z-score over the orientations */
static void cardinal_ratio(const natimg *ni, const double *D, double *ratio, double *z,
                           double *contrast)
{
  double sc = 0, so = 0, lc = 0, lo = 0, lc2 = 0, lo2 = 0, nc = 0, no = 0;
  size_t i;
  for (i = 0; i < ni->probe_t; i++) {
    const double th = (double)i * 180.0 / (double)ni->probe_t;
    const double r = sqrt(D[i]), lg = log(r > 1e-300 ? r : 1e-300);
    const double dc = from_cardinal(th), dob = from_oblique(th);
    if (dc <= ni->window + 1e-9) {
      sc += r;
      lc += lg;
      lc2 += lg * lg;
      nc += 1;
    } else if (dob <= ni->window + 1e-9) {
      so += r;
      lo += lg;
      lo2 += lg * lg;
      no += 1;
    }
  }
  *ratio = so > 0 ? (sc / nc) / (so / no) : NAN;
  {
    const double mc = lc / nc, mo = lo / no;
    const double vc = nc > 1 ? (lc2 - nc * mc * mc) / (nc - 1) : 0;
    const double vo = no > 1 ? (lo2 - no * mo * mo) / (no - 1) : 0;
    const double se = sqrt(vc / nc + vo / no);
    *z = se > 0 ? (mc - mo) / se : (mc > mo ? INFINITY : mc < mo ? -INFINITY : 0);
    *contrast = mc - mo;
  }
}

/* ------------------------------------------------------------ outputs */

typedef struct mctx {
  const plx_natimg_opts *op;
  natimg *ni;
  double seconds;
} mctx;

static void manifest(plx_jw *w, void *vc)
{
  mctx *c = vc;
  size_t i, p;
  int k;
  plx_jw_string(w, "command", "run");
  plx_jw_string(w, "config", c->op->config);
  plx_jw_array_begin(w, "overrides");
  for (i = 0; i < c->op->n_overrides; i++)
    plx_jw_string(w, NULL, c->op->overrides[i]);
  plx_jw_array_end(w);
  plx_jw_string(w, "experiment", c->ni->name);
  plx_jw_int(w, "seed", (long long)c->ni->seed0);
  plx_jw_int(w, "seeds", (long long)c->ni->n_seeds);
  plx_jw_string(w, "task", c->ni->denoise ? "natural_images (denoise)"
                                           : "natural_images (photo_id)");
  plx_jw_string(w, "rule", "gradient (backpropagation, SGD with momentum)");
  plx_jw_array_begin(w, "photographs");
  for (i = 0; i < c->ni->n_photos; i++)
    plx_jw_string(w, NULL, c->ni->paths[i]);
  plx_jw_array_end(w);
  plx_jw_int(w, "parameters", (long long)plx_deepnet_params(c->ni->net));
  plx_jw_number(w, "final_loss", c->op->final_loss);
  plx_jw_number(w, "eval_accuracy", c->op->eval_accuracy);
  plx_jw_number(w, "chance", c->op->chance);
  plx_jw_number(w, "photo_orientation_ratio_geomean", c->op->photo_ratio_geomean);
  plx_jw_object_begin(w, "cardinal_oblique_ratio");
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
    if (!c->op->measured[k])
      continue;
    plx_jw_object_begin(w, plx_natimg_condition_names[k]);
    for (p = 0; p < c->op->n_probes; p++)
      plx_jw_number(w, c->op->probe_names[p], c->op->ratio[k][p]);
    plx_jw_object_end(w);
  }
  plx_jw_object_end(w);
  plx_jw_object_begin(w, "timings_seconds");
  plx_jw_number(w, "total", c->seconds);
  plx_jw_object_end(w);
  plx_manifest_environment(w);
}

static const int cond_color[PLX_NATIMG_N_CONDITIONS] = {PLX_C_BLUE, PLX_C_BLACK, PLX_C_ORANGE,
                                                         PLX_C_VERMILLION};
static const int cond_style[PLX_NATIMG_N_CONDITIONS] = {PLX_SOLID, PLX_DOTTED, PLX_DASHED,
                                                         PLX_SOLID};

/* A figure with one panel per probed layer, three to a row, titled; panel
 * p is plx_figure_axes(fig, p / 3, p % 3).  NULL when out of memory. */
static plx_figure *layer_figure(const natimg *ni, const char *title)
{
  const size_t P = ni->n_probes;
  const int cols = P < 3 ? (int)P : 3, rows = (int)((P + 2) / 3);
  plx_figure *fig = plx_figure_new(rows, cols, 420.0 * cols, 330.0 * rows + 40);
  if (fig)
    plx_figure_title(fig, title);
  return fig;
}

/* the panel of probed layer p in a layer_figure: titled with the layer's
 * name, x axis labelled and spanning [0, xmax] */
static plx_axes *layer_axes(const natimg *ni, plx_figure *fig, size_t p, const char *xlabel,
                            double xmax)
{
  plx_axes *ax = plx_figure_axes(fig, (int)(p / 3), (int)(p % 3));
  plx_axes_title(ax, ni->net->layers[ni->probes[p]].name);
  plx_axes_xlabel(ax, xlabel);
  plx_axes_xlim(ax, 0, xmax);
  return ax;
}

/* one panel per probed layer: normalised sqrt D against orientation, a
 * line per condition */
static int figure_sensitivity(const natimg *ni, plx_rundir *rd, double *const *sens,
                              const double *th, plx_error *err)
{
  const size_t T = ni->probe_t, P = ni->n_probes;
  plx_figure *fig =
      layer_figure(ni, "Orientation sensitivity of each layer (sqrt D, normalised to sum 1)");
  double *y = malloc(T * sizeof *y);
  size_t p, i;
  int k, rc;
  if (!fig || !y) {
    plx_figure_free(fig);
    free(y);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (p = 0; p < P; p++) {
    plx_axes *ax = layer_axes(ni, fig, p, "orientation (deg)", 180);
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
      double z = 0;
      if (!sens[k])
        continue;
      for (i = 0; i < T; i++)
        z += sqrt(sens[k][p * T + i]);
      for (i = 0; i < T; i++)
        y[i] = sqrt(sens[k][p * T + i]) / (z > 0 ? z : 1);
      plx_axes_line(ax, th, y, T, cond_color[k], cond_style[k],
                    p == 0 ? plx_natimg_condition_names[k] : NULL);
    }
    plx_axes_vline(ax, 90.0, PLX_C_BLACK, PLX_DOTTED);
  }
  rc = plx_rundir_figure(rd, "sensitivity", fig, err);
  plx_figure_free(fig);
  free(y);
  return rc;
}

static int figure_training(const natimg *ni, plx_rundir *rd, const train_log *lg,
                           const int *have, plx_error *err)
{
  plx_figure *fig = plx_figure_new(1, 2, 1000, 420);
  double *st = malloc((size_t)ni->steps * sizeof *st);
  size_t i;
  int c, rc;
  if (!fig || !st) {
    plx_figure_free(fig);
    free(st);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (i = 0; i < (size_t)ni->steps; i++)
    st[i] = (double)i;
  for (c = 0; c < 2; c++) {
    const int cond = c ? PLX_NATIMG_ROTATED : PLX_NATIMG_TRAINED;
    if (!have[c])
      continue;
    plx_axes_line(plx_figure_axes(fig, 0, 0), st, lg[c].loss, (size_t)ni->steps,
                  cond_color[cond], PLX_SOLID, plx_natimg_condition_names[cond]);
    plx_axes_line(plx_figure_axes(fig, 0, 1), lg[c].eval_step, lg[c].eval_acc, lg[c].n_eval,
                  cond_color[cond], PLX_SOLID, plx_natimg_condition_names[cond]);
  }
  plx_axes_hline(plx_figure_axes(fig, 0, 1), ni->denoise ? 0.0 : 1.0 / (double)ni->n_photos,
                 PLX_C_BLACK, PLX_DOTTED);
  plx_axes_title(plx_figure_axes(fig, 0, 0), ni->denoise ? "training loss (squared error)"
                                                         : "training loss (cross-entropy)");
  plx_axes_xlabel(plx_figure_axes(fig, 0, 0), "step");
  plx_axes_title(plx_figure_axes(fig, 0, 1),
                 ni->denoise ? "variance of held-out targets explained (dotted: 0)"
                             : "accuracy on held-out crops (dotted: chance)");
  plx_axes_xlabel(plx_figure_axes(fig, 0, 1), "step");
  rc = plx_rundir_figure(rd, "training", fig, err);
  plx_figure_free(fig);
  free(st);
  return rc;
}

static int write_outputs(natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                         double *const *sens, const train_log *lg, const int *have,
                         plx_deepnet_weights *const *wsnap, plx_error *err)
{
  plx_h5 *h = plx_rundir_h5(rd);
  const size_t T = ni->probe_t;
  static const char *const sn[] = {"condition", "layer", "theta_deg", "D", "sqrtD_normalised"};
  static const char *const rn[] = {"condition", "layer", "cardinal_oblique_ratio", "z"};
  static const char *const tn[] = {"condition", "step", "loss"};
  static const char *const en_id[] = {"condition", "step", "heldout_accuracy"};
  static const char *const en_dn[] = {"condition", "step", "heldout_r2"};
  const char *const *en = ni->denoise ? en_dn : en_id;
  static const char *const pn[] = {"photo", "cardinal_energy", "oblique_energy", "ratio"};
  plx_table *ts = plx_table_new(5, sn, "ssfff"), *tr = plx_table_new(4, rn, "ssff");
  plx_table *tt = plx_table_new(3, tn, "sif"), *te = plx_table_new(3, en, "sif");
  plx_table *tp = plx_table_new(4, pn, "sfff");
  double *th = malloc(T * sizeof *th);
  size_t p, i;
  int k, rc = PLX_OK;
  char path[256];
  if (!ts || !tr || !tt || !te || !tp || !th) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  for (i = 0; i < T; i++)
    th[i] = (double)i * 180.0 / (double)T;
  for (i = 0; i < ni->n_photos; i++) {
    const char *s[1] = {ni->paths[i]};
    const photo *f = &ni->ph[i];
    double v[3] = {f->e_card, f->e_obl, f->e_obl > 0 ? f->e_card / f->e_obl : NAN};
    plx_table_append(tp, s, v);
  }
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS && !rc; k++) {
    if (!sens[k])
      continue;
    for (p = 0; p < ni->n_probes && !rc; p++) {
      const char *ln = ni->net->layers[ni->probes[p]].name;
      const char *s[2] = {plx_natimg_condition_names[k], ln};
      double z = 0;
      for (i = 0; i < T; i++)
        z += sqrt(sens[k][p * T + i]);
      for (i = 0; i < T; i++) {
        double v[3] = {th[i], sens[k][p * T + i], sqrt(sens[k][p * T + i]) / (z > 0 ? z : 1)};
        plx_table_append(ts, s, v);
      }
      {
        double v[2] = {op->ratio[k][p], op->z[k][p]};
        plx_table_append(tr, s, v);
      }
      snprintf(path, sizeof path, "/natural_images/%s/%s/D", plx_natimg_condition_names[k], ln);
      rc = plx_h5_write_vector(h, path, sens[k] + p * T, T, err);
    }
  }
  for (k = 0; k < 2; k++) {
    const char *s[1] = {plx_natimg_condition_names[k ? PLX_NATIMG_ROTATED : PLX_NATIMG_TRAINED]};
    if (!have[k])
      continue;
    for (i = 0; i < (size_t)ni->steps; i++) {
      double v[2] = {(double)i, lg[k].loss[i]};
      plx_table_append(tt, s, v);
    }
    for (i = 0; i < lg[k].n_eval; i++) {
      double v[2] = {lg[k].eval_step[i], lg[k].eval_acc[i]};
      plx_table_append(te, s, v);
    }
    snprintf(path, sizeof path, "/train/%s/loss", s[0]);
    if (!rc) rc = plx_h5_write_vector(h, path, lg[k].loss, (size_t)ni->steps, err);
    snprintf(path, sizeof path, "/train/%s/%s", s[0], en[2]);
    if (!rc) rc = plx_h5_write_vector(h, path, lg[k].eval_acc, lg[k].n_eval, err);
  }
  if (!rc) rc = plx_h5_write_vector(h, "/natural_images/theta_deg", th, T, err);
  /* weights: the initial ones, the trained ones (for perceptual learning)
   * and the rotated-training ones */
  {
    static const char *const wn[3] = {"/weights/initial", "/weights/trained", "/weights/rotated"};
    plx_deepnet_weights *keep = plx_deepnet_weights_new(ni->net);
    if (!keep && !rc)
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    if (keep) {
      for (k = 0; k < 3 && !rc; k++)
        if (wsnap[k]) {
          plx_deepnet_weights_set(ni->net, wsnap[k]);
          rc = plx_deepnet_save(ni->net, h, wn[k], err);
        }
      plx_deepnet_weights_set(ni->net, keep);
      plx_deepnet_weights_free(keep);
    }
  }
  if (!rc) rc = plx_rundir_table(rd, "sensitivity", ts, err);
  if (!rc) rc = plx_rundir_table(rd, "cardinal_ratio", tr, err);
  if (!rc) rc = plx_rundir_table(rd, "training", tt, err);
  if (!rc) rc = plx_rundir_table(rd, "heldout", te, err);
  if (!rc) rc = plx_rundir_table(rd, "photo_orientation", tp, err);
  if (!rc) rc = figure_sensitivity(ni, rd, sens, th, err);
  if (!rc) rc = figure_training(ni, rd, lg, have, err);
out:
  plx_table_free(ts);
  plx_table_free(tr);
  plx_table_free(tt);
  plx_table_free(te);
  plx_table_free(tp);
  free(th);
  return rc;
}

/* ------------------------------------------------------------ run */

/* Buffers of one run, shared by its seeds. */
typedef struct run_bufs {
  float *x, *dx, *dl;
  int *lab;
  unsigned char *correct;
  double *ecx, *ecy;
  plx_rng *rng;
  plx_deepnet_weights *initial;
  train_log lg[2];
} run_bufs;

/* The progress line's stage: "train", or "seed 3 (2/8): train" */
static const char *stage_name(const natimg *ni, const char *what, char *buf, size_t n)
{
  if (ni->n_seeds > 1)
    snprintf(buf, n, "seed %llu (%llu/%zu): %s", (unsigned long long)ni->seed,
             (unsigned long long)(ni->seed - ni->seed0 + 1), ni->n_seeds, what);
  else
    snprintf(buf, n, "%s", what);
  return buf;
}

static void progress(const natimg *ni, const plx_natimg_opts *op, const char *what)
{
  char stage[96];
  if (op->prog && op->prog->fn)
    op->prog->fn(op->prog->ctx, stage_name(ni, what, stage, sizeof stage), 0.0);
}

/* One network (seed ni->seed): its initial weights, then the probe of
 * every condition k into out[k] (out[k].sens NULL: not measured), the
 * training logs in rb->lg and have[].  With `first`, the initial, trained
 * and rotated weights are kept in wsnap and the training summary in op.
 * With probe.steps, the trained and rotated networks' D while they learn
 * goes to ck[k] (n_ckpt x probed layers x orientations). */
static int run_seed(natimg *ni, plx_natimg_opts *op, run_bufs *rb, const probe_out *out,
                    double *const *ck, int *have, plx_deepnet_weights **wsnap, int first,
                    plx_error *err)
{
  char stage[96];
  int rc;
  have[0] = have[1] = 0;
  plx_rng_reseed(rb->rng, ni->seed, 0, PLX_POP_INIT);
  eval_set(ni, rb->ecx, rb->ecy);
  plx_deepnet_init(ni->net, ni->init_scale, rb->rng);
  if (ni->denoise) {
    /* the regression head starts at zero: an output of zero is the mean
     * target, where a random head would start with a squared error many
     * times the targets' variance */
    plx_layer *head = &ni->net->layers[ni->net->n_layers - 1];
    memset(head->W, 0, head->n_w * sizeof *head->W);
    memset(head->b, 0, head->out_c * sizeof *head->b);
  }
  plx_deepnet_weights_get(rb->initial, ni->net);
  if (first && !(wsnap[0] = plx_deepnet_weights_new(ni->net)))
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  /* untrained */
  if (out[PLX_NATIMG_UNTRAINED].sens) {
    progress(ni, op, "probe untrained");
    probe(ni, rb->x, rb->dx, &out[PLX_NATIMG_UNTRAINED]);
  }
  /* trained, then its shuffled copy */
  if (out[PLX_NATIMG_TRAINED].sens || out[PLX_NATIMG_SHUFFLED].sens) {
    if ((rc = train(ni, 0.0, stage_name(ni, "train", stage, sizeof stage), op, &rb->lg[0],
                    rb->ecx, rb->ecy, rb->x, rb->dx, rb->dl, rb->lab, rb->correct,
                    ck[PLX_NATIMG_TRAINED], err)))
      return rc;
    have[0] = 1;
    if (first) {
      if (!(wsnap[1] = plx_deepnet_weights_new(ni->net)))
        return plx_error_set(err, PLX_ENOMEM, "out of memory");
      op->final_loss = rb->lg[0].loss[ni->steps - 1];
      op->eval_accuracy = rb->lg[0].eval_acc[rb->lg[0].n_eval - 1];
    }
    if (out[PLX_NATIMG_TRAINED].sens) {
      progress(ni, op, "probe trained");
      probe(ni, rb->x, rb->dx, &out[PLX_NATIMG_TRAINED]);
    }
    if (out[PLX_NATIMG_SHUFFLED].sens) {
      plx_rng_reseed(rb->rng, ni->seed, 1, PLX_POP_INIT);
      plx_deepnet_shuffle(ni->net, rb->rng, ni->shuffle == SHUFFLE_WEIGHTS ? rb->initial : NULL,
                          ni->shuffle == SHUFFLE_CENTRED);
      progress(ni, op, "probe shuffled");
      probe(ni, rb->x, rb->dx, &out[PLX_NATIMG_SHUFFLED]);
    }
  }
  /* rotated: the same initial weights and batches, crops turned */
  if (out[PLX_NATIMG_ROTATED].sens) {
    plx_deepnet_weights_set(ni->net, rb->initial);
    if ((rc = train(ni, ni->rotation, stage_name(ni, "train rotated", stage, sizeof stage), op,
                    &rb->lg[1], rb->ecx, rb->ecy, rb->x, rb->dx, rb->dl, rb->lab, rb->correct,
                    ck[PLX_NATIMG_ROTATED], err)))
      return rc;
    have[1] = 1;
    if (first) {
      if (!(wsnap[2] = plx_deepnet_weights_new(ni->net)))
        return plx_error_set(err, PLX_ENOMEM, "out of memory");
      op->rotated_eval_accuracy = rb->lg[1].eval_acc[rb->lg[1].n_eval - 1];
    }
    progress(ni, op, "probe rotated");
    probe(ni, rb->x, rb->dx, &out[PLX_NATIMG_ROTATED]);
  }
  return PLX_OK;
}

/* Statistics over seeds of a per-seed measure x[(s * N_CONDITIONS + k) * P
 * + p] (the log contrast c, or a measure of the centre units): for the trained
 * condition x itself, for every other condition the paired difference
 * x_trained - x_k; Student's t with n - 1 degrees of freedom. */
static void seed_statistics(const natimg *ni, const plx_natimg_opts *op, const double *con,
                            plx_natimg_seed_stats *st)
{
  const size_t n = ni->n_seeds, P = ni->n_probes, K = PLX_NATIMG_N_CONDITIONS;
  size_t s, p;
  int k;
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++)
    for (p = 0; p < P; p++) {
      double m = 0, v = 0, d;
      int pos = 0;
      if (!op->measured[k] || !op->measured[PLX_NATIMG_TRAINED])
        continue;
      for (s = 0; s < n; s++) {
        d = con[(s * K + PLX_NATIMG_TRAINED) * P + p] -
            (k == PLX_NATIMG_TRAINED ? 0.0 : con[(s * K + (size_t)k) * P + p]);
        m += d;
        pos += d > 0;
      }
      m /= (double)n;
      for (s = 0; s < n; s++) {
        d = con[(s * K + PLX_NATIMG_TRAINED) * P + p] -
            (k == PLX_NATIMG_TRAINED ? 0.0 : con[(s * K + (size_t)k) * P + p]) - m;
        v += d * d;
      }
      v = n > 1 ? v / (double)(n - 1) : NAN;
      st->mean[k][p] = m;
      st->sd[k][p] = sqrt(v);
      st->t[k][p] = v > 0 ? m / sqrt(v / (double)n) : NAN; /* no spread: undefined */
      st->p[k][p] =
          n > 1 && v > 0 ? 2.0 * gsl_cdf_tdist_Q(fabs(st->t[k][p]), (double)(n - 1)) : NAN;
      st->positive[k][p] = pos;
      /* sign test: as many seeds positive as this or more extreme, when
       * either sign is equally likely (two-sided, exact binomial) */
      {
        const double lo = gsl_cdf_binomial_P((unsigned)pos, 0.5, (unsigned)n);
        const double hi = pos > 0 ? gsl_cdf_binomial_Q((unsigned)pos - 1, 0.5, (unsigned)n) : 1.0;
        st->p_sign[k][p] = fmin(1.0, 2.0 * fmin(lo, hi));
      }
    }
}

/* The statistics over seeds as rows of a table: per layer and comparison
 * (the trained network, or trained - <condition>) n, mean, s.d., sem, t,
 * p, seeds positive and the sign test's p; after the layer, the measure's
 * name when measure is not NULL. */
static int stats_rows(plx_table *tt, const natimg *ni, const plx_natimg_opts *op,
                      const plx_natimg_seed_stats *st, const char *measure)
{
  const size_t n = ni->n_seeds;
  char cmp[64];
  size_t p;
  int k, rc = PLX_OK;
  for (p = 0; p < ni->n_probes && !rc; p++)
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS && !rc; k++) {
      const char *layer = ni->net->layers[ni->probes[p]].name;
      const char *str[3] = {layer, measure ? measure : cmp, cmp};
      double v[8];
      if (!op->measured[k] || !op->measured[PLX_NATIMG_TRAINED])
        continue;
      snprintf(cmp, sizeof cmp, k == PLX_NATIMG_TRAINED ? "trained" : "trained - %s",
               plx_natimg_condition_names[k]);
      v[0] = (double)n;
      v[1] = st->mean[k][p];
      v[2] = st->sd[k][p];
      v[3] = st->sd[k][p] / sqrt((double)n);
      v[4] = st->t[k][p];
      v[5] = st->p[k][p];
      v[6] = (double)st->positive[k][p];
      v[7] = st->p_sign[k][p];
      rc = plx_table_append(tt, str, v);
    }
  return rc;
}

/* tables/seeds.csv, tables/seed_statistics.csv and every seed's D in
 * results.h5 (/natural_images/seeds/<condition>/<layer>/D: orientation x
 * seed) */
static int write_seed_outputs(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                              const double *sens_all, const double *ratio, const double *zs,
                              const double *con, plx_error *err)
{
  static const char *const sn[] = {"seed", "condition", "layer", "cardinal_oblique_ratio",
                                   "log_contrast", "z"};
  static const char *const tn[] = {"layer", "comparison", "n", "mean", "sd", "sem", "t",
                                   "p_two_sided", "n_positive", "p_sign"};
  static const char *const qn[] = {"layer", "measure", "comparison", "n", "mean", "sd", "sem",
                                   "t", "p_two_sided", "n_positive", "p_sign"};
  const size_t n = ni->n_seeds, P = ni->n_probes, T = ni->probe_t, K = PLX_NATIMG_N_CONDITIONS;
  plx_table *ts = plx_table_new(6, sn, "issfff"), *tt = plx_table_new(10, tn, "ssifffffif");
  plx_table *tq = plx_table_new(11, qn, "sssifffffif");
  plx_h5 *h = plx_rundir_h5(rd);
  double *seeds = malloc(n * sizeof *seeds);
  char path[256];
  size_t s, p;
  int k, m, rc = PLX_OK;
  if (!ts || !tt || !tq || !seeds || stats_rows(tt, ni, op, &op->seed_contrast, NULL)) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  for (m = 0; m < PLX_NATIMG_N_UNIT_MEASURES; m++)
    if (stats_rows(tq, ni, op, &op->seed_units[m], plx_natimg_unit_measures[m])) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
      goto out;
    }
  for (s = 0; s < n; s++) {
    seeds[s] = (double)(ni->seed0 + s);
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++)
      for (p = 0; p < P && op->measured[k]; p++) {
        const size_t i = (s * K + (size_t)k) * P + p;
        const char *str[2] = {plx_natimg_condition_names[k],
                              ni->net->layers[ni->probes[p]].name};
        double v[4] = {seeds[s], ratio[i], con[i], zs[i]};
        plx_table_append(ts, str, v);
      }
  }
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS && !rc; k++)
    for (p = 0; p < P && op->measured[k] && !rc; p++) {
      snprintf(path, sizeof path, "/natural_images/seeds/%s/%s/D", plx_natimg_condition_names[k],
               ni->net->layers[ni->probes[p]].name);
      rc = plx_h5_write_matrix(h, path, sens_all + ((size_t)k * P + p) * T, T, n, K * P * T, err);
    }
  if (!rc) rc = plx_h5_write_vector(h, "/natural_images/seeds/seed", seeds, n, err);
  if (!rc) rc = plx_rundir_table(rd, "seeds", ts, err);
  if (!rc) rc = plx_rundir_table(rd, "seed_statistics", tt, err);
  if (!rc) rc = plx_rundir_table(rd, "preferred_statistics", tq, err);
out:
  plx_table_free(ts);
  plx_table_free(tt);
  plx_table_free(tq);
  free(seeds);
  return rc;
}

/* A centre unit's tuning curve f over the T probe orientations: the index
 * of its largest value (the first, on ties) and its maximum and minimum. */
static size_t tuning_peak(const double *f, size_t T, double *mx, double *mn)
{
  size_t i, im = 0;
  *mx = *mn = f[0];
  for (i = 1; i < T; i++) {
    if (f[i] > *mx) {
      *mx = f[i];
      im = i;
    }
    if (f[i] < *mn)
      *mn = f[i];
  }
  return im;
}

/* figures/preferred: per probed layer, the tuned centre units of every
 * seed by the distance of their preferred orientation pref (degrees, NAN
 * for units without a tuning; laid out as the tuning rows) from the
 * nearest cardinal, in 9 bins of 5 degrees, as a share relative to
 * preferences spread evenly over the probe grid (1 = even), one line per
 * condition. */
static int figure_preferred(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                            const double *pref, plx_error *err)
{
  const size_t T = ni->probe_t, P = ni->n_probes, K = PLX_NATIMG_N_CONDITIONS;
  const size_t U = ni->tune_off[P];
  plx_figure *fig = layer_figure(ni, "Preferred orientations of the centre units, all seeds "
                                     "(share per 5-degree bin of distance from a cardinal; "
                                     "1 = even)");
  double x[9], y[9], grid[9] = {0};
  size_t p, s, u, i, b;
  int k, rc;
  if (!fig)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  for (i = 0; i < T; i++)
    grid[(size_t)fmin(from_cardinal((double)i * 180.0 / (double)T) / 5.0, 8.0)] +=
        1.0 / (double)T;
  for (b = 0; b < 9; b++)
    x[b] = 5.0 * (double)b + 2.5;
  for (p = 0; p < P; p++) {
    plx_axes *ax = layer_axes(ni, fig, p, "distance from the nearest cardinal (deg)", 45);
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
      double h[9] = {0}, n = 0;
      if (!op->measured[k])
        continue;
      for (s = 0; s < ni->n_seeds; s++)
        for (u = ni->tune_off[p]; u < ni->tune_off[p + 1]; u++) {
          const double d = pref[(s * K + (size_t)k) * U + u];
          if (isnan(d))
            continue;
          h[(size_t)fmin(from_cardinal(d) / 5.0, 8.0)] += 1;
          n += 1;
        }
      for (b = 0; b < 9; b++)
        y[b] = n > 0 && grid[b] > 0 ? h[b] / n / grid[b] : 0.0;
      plx_axes_line(ax, x, y, 9, cond_color[k], cond_style[k],
                    p == 0 ? plx_natimg_condition_names[k] : NULL);
    }
    plx_axes_hline(ax, 1.0, PLX_C_BLACK, PLX_DOTTED);
  }
  rc = plx_rundir_figure(rd, "preferred", fig, err);
  plx_figure_free(fig);
  return rc;
}

/* Preferred orientations and tuning widths of the probed layers' centre
 * units, every seed and condition: tables/preferred_orientation.csv (per
 * unit: the probe orientation of its largest phase-averaged response, that
 * response, its modulation (max - min) / max and its half-width at
 * half-height), tables/preferred_summary.csv (per seed, condition and
 * layer: units, units with a tuning (max > min, max > 0), how many of
 * those prefer an orientation within probe.window of a cardinal and of an
 * oblique -- equal windows, so equal counts expected from preferences
 * spread evenly; that excess e -- the tuned units' median half-width, the
 * log contrast c of the centre units' own sensitivity csens, as
 * cardinal_ratio gives it for the whole layer's, and the same excess
 * weighted by each unit's squared tuning amplitude (max - min)^2, its gain
 * in D), and the first seed's tuning curves in results.h5
 * (/natural_images/<condition>/<layer>/tuning: orientation x unit).  The
 * per-seed measures go to measures[((m * n_seeds + s) * N_CONDITIONS + k) *
 * P + p] for m in plx_natimg_unit_measures' order. */
static int write_preferred(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                           const double *tune_all, const double *csens_all, double *measures,
                           plx_error *err)
{
  static const char *const un[] = {"seed",     "condition",    "layer",      "unit",
                                   "pref_deg", "max_response", "modulation", "half_width_deg"};
  static const char *const sn[] = {"seed",     "condition",
                                   "layer",    "units",
                                   "tuned",    "cardinal",
                                   "oblique",  "cardinal_minus_oblique",
                                   "median_half_width_deg", "centre_contrast",
                                   "gain_cardinal_minus_oblique"};
  const size_t T = ni->probe_t, K = PLX_NATIMG_N_CONDITIONS, U = ni->tune_off[ni->n_probes];
  plx_table *tu = plx_table_new(8, un, "issiffff"), *ts = plx_table_new(11, sn, "issiiiiffff");
  plx_h5 *h = plx_rundir_h5(rd);
  double *tuned_pref = malloc(ni->n_seeds * K * U * sizeof *tuned_pref);
  double *width = malloc(U * sizeof *width);
  char path[256];
  size_t s, p, u;
  int k, rc = PLX_OK;
  if (!tu || !ts || !tuned_pref || !width) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  for (s = 0; s < ni->n_seeds; s++)
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
      if (!op->measured[k])
        continue;
      for (p = 0; p < ni->n_probes; p++) {
        const plx_layer *l = &ni->net->layers[ni->probes[p]];
        const char *str[2] = {plx_natimg_condition_names[k], l->name};
        const size_t row0 = (s * K + (size_t)k) * U + ni->tune_off[p];
        const double *f0 = tune_all + row0 * T;
        size_t tuned = 0, card = 0, obl = 0;
        double ratio, z, centre_c, g_all = 0, g_card = 0, g_obl = 0;
        for (u = 0; u < l->out_c; u++) {
          double mx, mn;
          const double pref = (double)tuning_peak(f0 + u * T, T, &mx, &mn) * 180.0 / (double)T;
          const double hw = plx_tuning_half_width(f0 + u * T, T);
          {
            double v[6] = {(double)(ni->seed0 + s), (double)u, pref, mx,
                           mx > 0 ? (mx - mn) / mx : 0.0, hw};
            plx_table_append(tu, str, v);
          }
          tuned_pref[row0 + u] = NAN;
          if (mx > 0 && mx > mn) {
            const int is_card = from_cardinal(pref) <= ni->window + 1e-9;
            const int is_obl = from_oblique(pref) <= ni->window + 1e-9;
            const double g = (mx - mn) * (mx - mn);
            width[tuned++] = hw;
            card += is_card;
            obl += is_obl;
            g_all += g;
            g_card += is_card ? g : 0.0;
            g_obl += is_obl ? g : 0.0;
            tuned_pref[row0 + u] = pref;
          }
        }
        gsl_sort(width, 1, tuned);
        cardinal_ratio(ni, csens_all + ((s * K + (size_t)k) * ni->n_probes + p) * T, &ratio, &z,
                       &centre_c);
        {
          double v[9] = {(double)(ni->seed0 + s),
                         (double)l->out_c,
                         (double)tuned,
                         (double)card,
                         (double)obl,
                         tuned ? ((double)card - (double)obl) / (double)tuned : NAN,
                         tuned ? gsl_stats_median_from_sorted_data(width, 1, tuned) : NAN,
                         centre_c,
                         g_all > 0 ? (g_card - g_obl) / g_all : NAN};
          const size_t i = (s * K + (size_t)k) * ni->n_probes + p;
          const size_t NKP = ni->n_seeds * K * ni->n_probes; /* one measure's block */
          plx_table_append(ts, str, v);
          measures[PLX_NATIMG_PREFERENCE * NKP + i] = v[5];
          measures[PLX_NATIMG_HALF_WIDTH * NKP + i] = v[6];
          measures[PLX_NATIMG_CENTRE * NKP + i] = v[7];
          measures[PLX_NATIMG_GAIN * NKP + i] = v[8];
        }
        if (s == 0 && !rc) {
          snprintf(path, sizeof path, "/natural_images/%s/%s/tuning",
                   plx_natimg_condition_names[k], l->name);
          rc = plx_h5_write_matrix(h, path, f0, T, l->out_c, T, err);
        }
      }
    }
  if (!rc) rc = plx_rundir_table(rd, "preferred_orientation", tu, err);
  if (!rc) rc = plx_rundir_table(rd, "preferred_summary", ts, err);
  if (!rc) rc = figure_preferred(ni, op, rd, tuned_pref, err);
out:
  plx_table_free(tu);
  plx_table_free(ts);
  free(tuned_pref);
  free(width);
  return rc;
}

/* Sensitivity over training (probe.steps), every seed's trained and
 * rotated networks as they learn, ck[((s * N_CONDITIONS + k) * n_ckpt + c)
 * * P * T + p * T + i]: tables/sensitivity_over_training.csv (per seed,
 * condition, step and layer: the cardinal/oblique ratio of sqrt D, the log
 * contrast c and its z over orientations), the first seed's D in
 * results.h5 (/natural_images/<condition>/<layer>/D_over_training:
 * orientation x step; the steps in /natural_images/probe_steps) and
 * figures/sensitivity_over_training (per layer, c against the step, mean
 * and s.e.m. over seeds, a line per condition). */
static int write_over_training(const natimg *ni, const plx_natimg_opts *op, plx_rundir *rd,
                               const double *ck, plx_error *err)
{
  static const char *const cn[] = {"seed", "step", "condition", "layer",
                                   "cardinal_oblique_ratio", "log_contrast", "z"};
  static const int trained_k[2] = {PLX_NATIMG_TRAINED, PLX_NATIMG_ROTATED};
  const size_t n = ni->n_seeds, NC = ni->n_ckpt, P = ni->n_probes, T = ni->probe_t;
  const size_t K = PLX_NATIMG_N_CONDITIONS;
  plx_table *tc = plx_table_new(7, cn, "iissfff");
  plx_figure *fig = layer_figure(ni, "Sensitivity over training: log contrast c of sqrt D, "
                                     "cardinal minus oblique (mean and s.e.m. over seeds)");
  plx_h5 *h = plx_rundir_h5(rd);
  double *x = malloc(NC * sizeof *x), *c = malloc(n * NC * sizeof *c);
  double *m = malloc(3 * NC * sizeof *m);
  char path[256];
  size_t s, p, j;
  int q, rc = PLX_OK;
  if (!tc || !fig || !x || !c || !m) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto out;
  }
  for (j = 0; j < NC; j++)
    x[j] = (double)ni->ckpt[j];
  rc = plx_h5_write_vector(h, "/natural_images/probe_steps", x, NC, err);
  for (p = 0; p < P && !rc; p++) {
    plx_axes *ax = layer_axes(ni, fig, p, "training step", (double)ni->steps);
    for (q = 0; q < 2 && !rc; q++) {
      const int k = trained_k[q];
      const char *str[2] = {plx_natimg_condition_names[k],
                            ni->net->layers[ni->probes[p]].name};
      if (!op->measured[k] && !(k == PLX_NATIMG_TRAINED && op->measured[PLX_NATIMG_SHUFFLED]))
        continue;
      for (s = 0; s < n && !rc; s++)
        for (j = 0; j < NC && !rc; j++) {
          double v[5] = {(double)(ni->seed0 + s), x[j]};
          cardinal_ratio(ni, ck + ((s * K + (size_t)k) * NC + j) * P * T + p * T, &v[2], &v[4],
                         &v[3]);
          c[s * NC + j] = v[3];
          rc = plx_table_append(tc, str, v);
        }
      for (j = 0; j < NC; j++) {
        double mean = 0, var = 0;
        for (s = 0; s < n; s++)
          mean += c[s * NC + j] / (double)n;
        for (s = 0; s < n; s++)
          var += (c[s * NC + j] - mean) * (c[s * NC + j] - mean);
        var = n > 1 ? var / (double)(n - 1) / (double)n : 0.0; /* s.e.m.^2 */
        m[j] = mean;
        m[NC + j] = mean - sqrt(var);
        m[2 * NC + j] = mean + sqrt(var);
      }
      if (n > 1)
        plx_axes_band(ax, x, m + NC, m + 2 * NC, NC, cond_color[k]);
      plx_axes_line(ax, x, m, NC, cond_color[k], cond_style[k],
                    p == 0 ? plx_natimg_condition_names[k] : NULL);
      snprintf(path, sizeof path, "/natural_images/%s/%s/D_over_training",
               plx_natimg_condition_names[k], ni->net->layers[ni->probes[p]].name);
      if (!rc)
        rc = plx_h5_write_matrix(h, path, ck + (size_t)k * NC * P * T + p * T, T, NC, P * T, err);
    }
    plx_axes_hline(ax, 0.0, PLX_C_BLACK, PLX_DOTTED);
  }
  if (!rc) rc = plx_rundir_table(rd, "sensitivity_over_training", tc, err);
  if (!rc) rc = plx_rundir_figure(rd, "sensitivity_over_training", fig, err);
out:
  plx_table_free(tc);
  plx_figure_free(fig);
  free(x);
  free(c);
  free(m);
  return rc;
}

int plx_natimg_run(plx_natimg_opts *op, plx_error *err)
{
  natimg *ni = NULL;
  plx_rundir *rd = NULL;
  run_bufs rb;
  plx_deepnet_weights *wsnap[3] = {NULL, NULL, NULL};
  double *sens_all = NULL, *csens_all = NULL, *tune_all = NULL, *ratio = NULL, *zs = NULL;
  double *con = NULL;
  double *measures = NULL; /* per seed: the centre units' plx_natimg_unit_measures */
  double *ck_all = NULL;   /* per seed and condition: D at the probe.steps         */
  const size_t K = PLX_NATIMG_N_CONDITIONS;
  size_t S, maxb, p, P, T, s, n_eval_cap;
  double t0 = plx_clock_seconds();
  char outdir[1200], buf[4400];
  int rc, k, oom = 0, have[2] = {0, 0};
  mctx mc;

  memset(&rb, 0, sizeof rb);
  if ((rc = natimg_load(&ni, op, 1, err)))
    return rc;
  S = ni->crop * ni->crop;
  P = ni->n_probes;
  T = ni->probe_t;
  maxb = ni->net->max_batch;
  n_eval_cap = (size_t)(ni->steps / ni->log_every) + 2;
  rb.x = malloc(maxb * S * sizeof *rb.x);
  rb.dx = malloc(maxb * S * sizeof *rb.dx);
  rb.dl = malloc(maxb * ni->n_out * sizeof *rb.dl);
  rb.lab = malloc(maxb * sizeof *rb.lab);
  rb.correct = malloc(maxb);
  rb.ecx = malloc(ni->n_photos * ni->eval_per_photo * sizeof *rb.ecx);
  rb.ecy = malloc(ni->n_photos * ni->eval_per_photo * sizeof *rb.ecy);
  rb.initial = plx_deepnet_weights_new(ni->net);
  rb.rng = plx_rng_alloc(ni->seed, 0, PLX_POP_INIT);
  for (k = 0; k < 2; k++) {
    rb.lg[k].loss = calloc((size_t)ni->steps, sizeof *rb.lg[k].loss);
    rb.lg[k].eval_step = calloc(n_eval_cap, sizeof *rb.lg[k].eval_step);
    rb.lg[k].eval_acc = calloc(n_eval_cap, sizeof *rb.lg[k].eval_acc);
    if (!rb.lg[k].loss || !rb.lg[k].eval_step || !rb.lg[k].eval_acc)
      oom = 1;
  }
  /* every seed's curves, ratios, z and log contrasts, seed-major */
  sens_all = calloc(ni->n_seeds * K * P * T, sizeof *sens_all);
  csens_all = calloc(ni->n_seeds * K * P * T, sizeof *csens_all);
  tune_all = calloc(ni->n_seeds * K * ni->tune_off[P] * T, sizeof *tune_all);
  ratio = calloc(ni->n_seeds * K * P, sizeof *ratio);
  zs = calloc(ni->n_seeds * K * P, sizeof *zs);
  con = calloc(ni->n_seeds * K * P, sizeof *con);
  measures = calloc(PLX_NATIMG_N_UNIT_MEASURES * ni->n_seeds * K * P, sizeof *measures);
  if (ni->n_ckpt && !(ck_all = calloc(ni->n_seeds * K * ni->n_ckpt * P * T, sizeof *ck_all)))
    oom = 1;
  if (oom || !rb.x || !rb.dx || !rb.dl || !rb.lab || !rb.correct || !rb.ecx || !rb.ecy ||
      !rb.initial || !rb.rng || !sens_all || !csens_all || !tune_all || !ratio || !zs || !con ||
      !measures) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory (batch of %zu crops)", maxb);
    goto done;
  }
  op->n_probes = P;
  for (p = 0; p < P; p++)
    snprintf(op->probe_names[p], sizeof op->probe_names[p], "%s",
             ni->net->layers[ni->probes[p]].name);
  op->chance = ni->denoise ? 0.0 : 1.0 / (double)ni->n_photos;
  op->denoise = ni->denoise;
  {
    double lr = 0.0;
    size_t i;
    op->photos_cardinal = 0;
    for (i = 0; i < ni->n_photos; i++) {
      lr += log(ni->ph[i].e_card / ni->ph[i].e_obl) / (double)ni->n_photos;
      op->photos_cardinal += ni->ph[i].e_card > ni->ph[i].e_obl;
    }
    op->n_photos = ni->n_photos;
    op->photo_ratio_geomean = exp(lr);
  }
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++)
    op->measured[k] = (ni->conds & (1u << k)) != 0;

  snprintf(outdir, sizeof outdir, "%s", op->out ? op->out : "");
  if (!op->out)
    snprintf(outdir, sizeof outdir, "runs/%s", ni->name);
  if ((rc = plx_rundir_open(&rd, outdir, ni->formats, err)))
    goto done;
  snprintf(op->out_used, sizeof op->out_used, "%s", outdir);
  if (op->watch)
    *op->watch = rd;
  if ((rc = plx_rundir_copy(rd, op->config, "config.cfg", err)) ||
      (rc = plx_config_write(ni->cfg, plx_rundir_file(rd, "config.resolved.cfg", buf, sizeof buf),
                             err)))
    goto done;

  for (s = 0; s < ni->n_seeds; s++) {
    double *sens[PLX_NATIMG_N_CONDITIONS], *ck[PLX_NATIMG_N_CONDITIONS];
    probe_out out[PLX_NATIMG_N_CONDITIONS];
    ni->seed = ni->seed0 + s;
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
      const size_t sk = s * K + (size_t)k;
      sens[k] = op->measured[k] ? sens_all + sk * P * T : NULL;
      out[k].sens = sens[k];
      out[k].csens = csens_all + sk * P * T;
      out[k].tune = tune_all + sk * ni->tune_off[P] * T;
      ck[k] = ck_all ? ck_all + sk * ni->n_ckpt * P * T : NULL;
    }
    if ((rc = run_seed(ni, op, &rb, out, ck, have, wsnap, s == 0, err)))
      goto done;
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++)
      for (p = 0; p < P && sens[k]; p++) {
        const size_t i = (s * K + (size_t)k) * P + p;
        cardinal_ratio(ni, sens[k] + p * T, &ratio[i], &zs[i], &con[i]);
        if (s == 0) {
          op->ratio[k][p] = ratio[i];
          op->z[k][p] = zs[i];
        }
      }
    /* the first seed's curves, tables, figures and weights */
    if (s == 0 && (rc = write_outputs(ni, op, rd, sens, rb.lg, have, wsnap, err)))
      goto done;
  }
  ni->seed = ni->seed0;
  if ((rc = write_preferred(ni, op, rd, tune_all, csens_all, measures, err)))
    goto done;
  op->n_checkpoints = ni->n_ckpt;
  if (ck_all && (rc = write_over_training(ni, op, rd, ck_all, err)))
    goto done;
  op->n_seeds = ni->n_seeds;
  if (ni->n_seeds > 1) {
    seed_statistics(ni, op, con, &op->seed_contrast);
    for (k = 0; k < PLX_NATIMG_N_UNIT_MEASURES; k++)
      seed_statistics(ni, op, measures + (size_t)k * ni->n_seeds * K * P, &op->seed_units[k]);
    if ((rc = write_seed_outputs(ni, op, rd, sens_all, ratio, zs, con, err)))
      goto done;
  }
  mc.op = op;
  mc.ni = ni;
  mc.seconds = plx_clock_seconds() - t0;
  if (op->watch)
    *op->watch = NULL;
  rc = plx_rundir_commit(rd, manifest, &mc, err);
  rd = NULL;
done:
  if (op->watch)
    *op->watch = NULL;
  if (rd)
    plx_rundir_abort(rd);
  plx_rng_free(rb.rng);
  for (k = 0; k < 2; k++) {
    free(rb.lg[k].loss);
    free(rb.lg[k].eval_step);
    free(rb.lg[k].eval_acc);
  }
  for (k = 0; k < 3; k++)
    plx_deepnet_weights_free(wsnap[k]);
  plx_deepnet_weights_free(rb.initial);
  free(sens_all);
  free(csens_all);
  free(tune_all);
  free(ratio);
  free(zs);
  free(con);
  free(measures);
  free(ck_all);
  free(rb.x);
  free(rb.dx);
  free(rb.dl);
  free(rb.lab);
  free(rb.correct);
  free(rb.ecx);
  free(rb.ecy);
  natimg_free(ni);
  return rc;
}
