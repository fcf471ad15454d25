/* natimg.c -- the natural-image experiment (Benjamin et al. 2022, Fig. 2,
 * SI Fig. 1; see plastix/natimg.h): train a convolutional network to tell
 * which photograph a random grey crop came from (or to denoise crops),
 * measure the photographs' own orientation statistics, probe the orientation
 * sensitivity of its layers with Gabor patches and the preferred
 * orientations of their centre units, and run the controls
 * (untrained, shuffled within each tensor, trained on crops rotated by
 * 45 degrees).  Or probe a network trained elsewhere (model.pretrained,
 * e.g. converted from TensorFlow.js by scripts/import-tfjs.mjs and checked
 * against its /check activations), or fine-tune one (model.pretrained_as
 * = "initial").  Each seed's unrotated and rotated networks, and the
 * seeds of experiment.seeds, train in parallel over the run's threads
 * (run_task), each thread with its own network and buffers (seed_worker),
 * to the same bytes on any thread count.  Writes a
 * run directory like `plastix run`; what it writes there, and the measures
 * derived from the probe, are natimg_report.c's. */
#include "config.h"
#include "plastix/natimg_state.h"
#include "plastix/blas_threads.h"
#include "plastix/clock.h"
#include "plastix/deepnet.h"
#include "plastix/deepnet_train.h"
#include "plastix/error.h"
#include "plastix/images.h"
#include "plastix/images2d.h"
#include "plastix/parallel.h"
#include "plastix/rundir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef _OPENMP
#include <omp.h>
#endif

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
    PLX_P_FLOAT_MIN("noise_sd", 0.0, 0.0, 0,
                    "photo_id: s.d. of white noise added to each pixel of every (normalised) "
                    "training and evaluation crop, drawn anew for each crop; the sum is "
                    "divided by sqrt(1 + noise_sd^2), so the input keeps unit variance and "
                    "only its signal-to-noise ratio changes (denoise has its own, "
                    "task.noise_sd)"),
    PLX_P_END};

static const plx_param_spec model_spec[] = {
    {"type", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, "deepnet", NULL,
     "deepnet"},
    PLX_P_LIST("layers", plx_layer_spec,
               "layers in order; the last is an fc with one output per photograph"),
    PLX_P_FLOAT_MIN("init_scale", 2.45, 0.0, PLX_PARAM_MIN_EXCL,
                    "default (PyTorch) initialisation times this (2.45 = sqrt 6: He's)"),
    PLX_P_FLOAT("input_offset", 0.0,
                "the network sees input_offset + input_scale x for every crop and probe "
                "image x (zero mean, unit variance crops; the Gabor on grey 0): a network "
                "trained elsewhere on pixels in [0, 1] wants 0.5 and 0.5"),
    PLX_P_FLOAT_MIN("input_scale", 1.0, 0.0, PLX_PARAM_MIN_EXCL, "see input_offset"),
    PLX_P_STRING("pretrained", "", NULL,
                 "HDF5 weights file (relative paths: from the config's folder) of a network "
                 "trained elsewhere, e.g. converted by scripts/import-tfjs.mjs (whose "
                 "/check activations the network must reproduce).  With pretrained_as = "
                 "\"trained\": the trained condition probes it as loaded, the shuffled one "
                 "permutes it, nothing is trained here (so no rotated condition and no "
                 "probe.steps) and every layer with weights must be in the file.  Empty: "
                 "train here"),
    PLX_P_STRING("pretrained_group", "/weights/trained", NULL,
                 "group of model.pretrained holding <layer>/W and <layer>/b"),
    PLX_P_STRING("pretrained_as", "trained", "trained|initial",
                 "trained: the file's network is the trained condition, probed as loaded; "
                 "initial: it is where training starts (fine-tuning): the layers in the "
                 "file replace the random start of every seed, the others (a new head) "
                 "keep it, and every condition is trained as without model.pretrained "
                 "(untrained then means the file's network)"),
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
    PLX_P_STRING("average", "sensitivity", "sensitivity|response",
                 "what is averaged over the phases: the sensitivity D (the paper's), or "
                 "the response, whose D is then measured: the sensitivity of a "
                 "phase-invariant readout, never above the paper's"),
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

int plx_natimg_is(const char *path)
{
  return plx_config_task_is(path, "natural_images");
}

static void seed_state_free(natimg *ni);

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
  plx_deepnet_weights_free(ni->pretrained);
  free(ni->pretrained_mask);
  seed_state_free(ni);
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

/* What one seed's run changes, new for ni (whose settings are read): the
 * network of model.layers, the denoise targets and the evaluation's noise
 * stream (when the crops get noise).  Each thread of the task loop has its
 * own. */
static int seed_state_new(natimg *ni, plx_error *err)
{
  const size_t maxb = (size_t)ni->batch > ni->probe_p ? (size_t)ni->batch : ni->probe_p;
  int rc;
  ni->net = NULL;
  ni->tgt = NULL;
  ni->eval_rng = NULL;
  if ((rc = plx_deepnet_new(&ni->net,
                            plx_params_group(plx_params_group(ni->root, "model"), "layers"), 1,
                            ni->crop, ni->crop, maxb, err)))
    return rc;
  if ((ni->denoise && !(ni->tgt = malloc(ni->net->max_batch * ni->n_out * sizeof *ni->tgt))) ||
      ((ni->denoise || ni->crop_noise_sd > 0) &&
       !(ni->eval_rng = plx_rng_alloc(0, 1, PLX_POP_EVAL_STIMULUS))))
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  return PLX_OK;
}

static void seed_state_free(natimg *ni)
{
  free(ni->tgt);
  plx_rng_free(ni->eval_rng);
  plx_deepnet_free(ni->net);
}

/* model.input_offset and input_scale: x <- offset + scale x over n values
 * (a tangent, tangent != 0, only scales) */
static void to_network_range(const natimg *ni, float *x, size_t n, int tangent)
{
  const float a = (float)ni->input_scale, c = tangent ? 0.0f : (float)ni->input_offset;
  size_t i;
  if (a == 1.0f && c == 0.0f)
    return;
  for (i = 0; i < n; i++)
    x[i] = c + a * x[i];
}

/* A file converted from another framework (scripts/import-tfjs.mjs) holds
 * /check/input, a test image, and /check/<layer>/out, that framework's
 * activations of some layers for it: the loaded network must reproduce
 * them (to 1e-3 of their largest magnitude), or its layers do not match
 * the weights (a layout, a padding or a fold gone wrong). */
static int check_pretrained(natimg *ni, plx_h5 *h, plx_error *err)
{
  double *x = NULL, *ref = NULL;
  float *xf = NULL;
  size_t dims[PLX_H5_MAX_RANK], i, k;
  int rank, rc;
  char path[96];
  if (!plx_h5_exists(h, "/check/input"))
    return PLX_OK;
  if ((rc = plx_h5_read_array(h, "/check/input", &x, &rank, dims, err)))
    return rc;
  if (rank != 3 || dims[0] != 1 || dims[1] != ni->crop || dims[2] != ni->crop) {
    free(x);
    return plx_error_set(err, PLX_EINVAL, "%s: /check/input is not one %zux%zu grey image "
                         "(images.crop)", plx_h5_path(h), ni->crop, ni->crop);
  }
  if (!(xf = malloc(ni->net->in_size * sizeof *xf))) {
    free(x);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  for (i = 0; i < ni->net->in_size; i++)
    xf[i] = (float)x[i];
  free(x);
  plx_deepnet_forward(ni->net, xf, 1);
  for (k = 0; k < ni->net->n_layers && !rc; k++) {
    const plx_layer *l = &ni->net->layers[k];
    double big = 0, diff = 0;
    snprintf(path, sizeof path, "/check/%s/out", l->name);
    if (!plx_h5_exists(h, path))
      continue;
    if ((rc = plx_h5_read_array(h, path, &ref, &rank, dims, err)))
      break;
    if (rank != 3 || dims[0] != l->out_c || dims[1] != l->out_h || dims[2] != l->out_w) {
      rc = plx_error_set(err, PLX_EINVAL, "%s: %s has shape %zux%zux%zu in the network, "
                         "not that of %s", plx_h5_path(h), l->name, l->out_c, l->out_h,
                         l->out_w, path);
      free(ref);
      break;
    }
    for (i = 0; i < l->out_size; i++) {
      big = fmax(big, fabs(ref[i]));
      diff = fmax(diff, fabs(ref[i] - (double)l->out[i]));
    }
    free(ref);
    if (!(diff <= 1e-3 * big + 1e-6))
      rc = plx_error_set(err, PLX_EINVAL, "%s: layer %s does not reproduce %s (largest "
                         "difference %.3g, largest value %.3g): the layers in the config do "
                         "not match these weights", plx_h5_path(h), l->name, path, diff, big);
  }
  free(xf);
  return rc;
}

/* model.pretrained: every layer with weights read from the file into the
 * run's network, and kept as ni->pretrained (the trained condition) */
static int load_pretrained(natimg *ni, const plx_params *m, plx_error *err)
{
  const char *grp = plx_params_string(m, "pretrained_group");
  plx_h5 *h = NULL;
  plx_error e2;
  int rc;
  plx_config_relative(ni->cfg, plx_params_string(m, "pretrained"), ni->pretrained_path,
                      sizeof ni->pretrained_path);
  if ((rc = plx_h5_open(&h, ni->pretrained_path, 0, &e2)))
    return plx_params_error(m, "pretrained", err, "%s", e2.msg);
  ni->pretrained_initial = !strcmp(plx_params_string(m, "pretrained_as"), "initial");
  rc = plx_deepnet_load(ni->net, h, grp, ni->pretrained_initial, &e2);
  if (!rc && ni->pretrained_initial) {
    /* which layers the file seeds (the others keep their random start) */
    size_t k, n = 0;
    char wp[256];
    if (!(ni->pretrained_mask = calloc(ni->net->n_layers, 1))) {
      plx_h5_close(h);
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    }
    for (k = 0; k < ni->net->n_layers; k++) {
      snprintf(wp, sizeof wp, "%s/%s/W", grp, ni->net->layers[k].name);
      ni->pretrained_mask[k] = ni->net->layers[k].n_w && plx_h5_exists(h, wp);
      n += ni->pretrained_mask[k];
    }
    if (!n)
      rc = plx_error_set(&e2, PLX_ENOTFOUND, "%s: no layer of the network in %s",
                         plx_h5_path(h), grp);
  }
  if (rc) {
    plx_h5_close(h);
    return plx_params_error(m, "pretrained", err, "%s%s", e2.msg,
                            rc == PLX_ENOTFOUND ? " (is model.pretrained_group right?)" : "");
  }
  rc = check_pretrained(ni, h, &e2);
  plx_h5_close(h);
  if (rc)
    return plx_params_error(m, "pretrained", err, "%s", e2.msg);
  if (!(ni->pretrained = plx_deepnet_weights_new(ni->net)))
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  return PLX_OK;
}

static int natimg_load(natimg **out, const plx_natimg_opts *op, int read, plx_error *err)
{
  natimg *ni = calloc(1, sizeof *ni);
  const plx_params *im, *m, *t, *pr, *cd;
  config_setting_t *s;
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
  ni->crop_noise_sd = plx_params_float(im, "noise_sd");
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
    if (!ni->denoise &&
        (plx_params_setting(tk, "noise_sd") || plx_params_setting(tk, "target_pool"))) {
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
    if (ni->denoise && plx_params_setting(im, "noise_sd")) {
      rc = plx_params_error(im, "noise_sd", err, "only used with task.objective = \"photo_id\" "
                            "(denoise adds task.noise_sd)");
      goto fail;
    }
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
  ni->probe_avg_response = !strcmp(plx_params_string(pr, "average"), "response");
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
  ni->input_offset = plx_params_float(m, "input_offset");
  ni->input_scale = plx_params_float(m, "input_scale");
  if ((rc = seed_state_new(ni, err)))
    goto fail;
  if (plx_params_string(m, "pretrained")[0] && (rc = load_pretrained(ni, m, err)))
    goto fail;
  if (ni->pretrained && !ni->pretrained_initial) {
    if (ni->conds & (1u << PLX_NATIMG_ROTATED)) {
      rc = plx_params_error(cd, "run", err, "the rotated condition trains a network, and "
                            "with model.pretrained nothing is trained here: name the "
                            "conditions, e.g. [\"trained\", \"untrained\", \"shuffled\"]");
      goto fail;
    }
    if (ni->n_ckpt) {
      rc = plx_params_error(pr, "steps", err, "probes during training, and with "
                            "model.pretrained nothing is trained here");
      goto fail;
    }
  }
  if (!ni->pretrained || ni->pretrained_initial) {
    /* a network trained here ends in its task's head */
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
  if (ni->pretrained && !ni->pretrained_initial)
    snprintf(summary, n, "natural-image experiment: %zu-layer deepnet with %zu parameters "
             "loaded from %s (not trained here), %zu-px input, %zu probed layers",
             ni->net->n_layers, plx_deepnet_params(ni->net), ni->pretrained_path, ni->crop,
             ni->n_probes);
  else
    snprintf(summary, n, "natural-image experiment: %zu photographs, %zu-px crops, %zu-layer "
             "deepnet with %zu parameters%s, %ld steps of %ld, %zu probed layers",
             ni->n_photos, ni->crop, ni->net->n_layers, plx_deepnet_params(ni->net),
             ni->pretrained ? " starting from model.pretrained" : "", ni->steps, ni->batch,
             ni->n_probes);
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

/* white noise of s.d. sd from r on the n pixels of x, the sum times gain */
static void add_noise(plx_rng *r, double sd, double gain, float *x, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    x[i] = (float)(gain * (double)(x[i] + (float)(sd * plx_rng_normal(r))));
}

/* photo_id's crop noise (images.noise_sd): unit variance kept */
static void crop_noise(const natimg *ni, plx_rng *r, float *x)
{
  const double sd = ni->crop_noise_sd;
  add_noise(r, sd, 1.0 / sqrt(1.0 + sd * sd), x, ni->crop * ni->crop);
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
  add_noise(r, ni->noise_sd, 1.0, x, n * n);
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
  plx_rng *r = ni->eval_rng; /* NULL unless the crops get noise */
  const int dn = ni->denoise;
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
      if (dn)
        denoise_pair(ni, r, x + i * S, ni->tgt + i * K);
      else if (r)
        crop_noise(ni, r, x + i * S);
    }
    to_network_range(ni, x, nb * S, 0);
    plx_deepnet_forward(ni->net, x, nb);
    if (dn) {
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
  if (dn) {
    const double n = (double)(total * K), ss = st2 - st * st / n;
    return ss > 0 ? 1.0 - sse / ss : 0.0;
  }
  return (double)right / (double)total;
}

/* ------------------------------------------------------------ training */

/* What the probe measures for one condition of one network: D(theta_i)
 * of every probed layer, sens[p * T + i]; the part of it carried by the
 * layer's centre units (the unit at the spatial centre of each channel),
 * csens[p * T + i]; and the tuning of those centre units, their response
 * averaged over the probe's phases, tune[u * T + i] for the
 * tune_off[n_probes] units, layer by layer.  sens NULL: not measured;
 * csens and tune both NULL: D alone (the centre units' share is summed
 * in the same loop that records their tuning, so one without the other
 * is not supported). */
typedef struct probe_out {
  double *sens, *csens, *tune;
} probe_out;

static void probe(natimg *ni, float *x, float *dx, const probe_out *o);

/* One thread of the task loop (task_loop): its own copy of the run state (the
 * photographs, config and settings shared read-only; the network, denoise
 * targets and evaluation noise its own, seed_state_new) and buffers,
 * reused by the tasks it runs. */
typedef struct seed_worker {
  natimg ni;
  int own;              /* ni's network is its own (not the run's)     */
  float *x, *dx, *dl;
  int *lab;
  unsigned char *correct;
  double *ecx, *ecy;
  plx_rng *rng;
  plx_deepnet_weights *initial;
  train_log lg;         /* the log of the network it trains (not the first
                           seed's: those are kept in seed_results)       */
} seed_worker;

/* A stage begins: with seeds one after another, named as it is; in
 * parallel, the seeds' shared line is not interrupted. */
static void stage_begins(const natimg *ni, const plx_natimg_opts *op, const char *stage)
{
  if (op->prog && op->prog->fn && !ni->par)
    op->prog->fn(op->prog->ctx, stage, 0.0);
}

/* Training step `step` (counted from 1) of the stage is done: in
 * parallel, one more step of all the networks' (ni->par). */
static void step_done(const natimg *ni, const plx_natimg_opts *op, const char *stage, long step)
{
  if (ni->par)
    plx_progress_add(ni->par, 1);
  else if (op->prog && op->prog->fn)
    op->prog->fn(op->prog->ctx, stage, (double)step / (double)ni->steps);
}

/* SGD with heavy-ball momentum on the photo-identity cross-entropy, crops
 * turned by theta; the net starts from its current weights.  With ck_sens,
 * the network is probed (D of every probed layer, into ck_sens + (c * P +
 * p) * T) before step ni->ckpt[c] -- after the last, for ckpt = steps --
 * in the worker's buffers; the probe leaves the training untouched. */
static int train(seed_worker *w, double theta, const char *stage, const plx_natimg_opts *op,
                 train_log *lg, double *ck_sens, plx_error *err)
{
  natimg *ni = &w->ni;
  float *x = w->x, *dl = w->dl;
  int *lab = w->lab;
  unsigned char *correct = w->correct;
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
  stage_begins(ni, op, stage);
  for (step = 0; step <= ni->steps; step++) {
    size_t i, k;
    if (step % ni->log_every == 0 || step == ni->steps) {
      lg->eval_step[lg->n_eval] = (double)step;
      lg->eval_acc[lg->n_eval++] = evaluate(ni, theta, w->ecx, w->ecy, x, lab, correct);
    }
    if (ck_sens && ck < ni->n_ckpt && ni->ckpt[ck] == step) {
      const probe_out po = {ck_sens + ck * ni->n_probes * ni->probe_t, NULL, NULL};
      probe(ni, x, w->dx, &po);
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
      else if (ni->crop_noise_sd > 0)
        crop_noise(ni, r, x + i * S);
    }
    to_network_range(ni, x, (size_t)B * S, 0);
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
    step_done(ni, op, stage, step + 1);
  }
  plx_deepnet_momentum_free(vel);
  plx_rng_free(r);
  return rc;
}

/* ------------------------------------------------------------ probe */

/* (mean over the P phases of t[j * stride])^2: one unit's squared
 * derivative of its phase-averaged response (probe.average = "response") */
static double phase_mean_sq(const float *t, size_t stride, size_t P)
{
  double m = 0;
  size_t j;
  for (j = 0; j < P; j++)
    m += (double)t[j * stride];
  m /= (double)P;
  return m * m;
}

/* D, and the centre units' share and tuning, of the network as it is now
 * (probe_out, above train); with probe.average = "response", D of the
 * phase-averaged responses instead */
static void probe(natimg *ni, float *x, float *dx, const probe_out *o)
{
  const size_t S = ni->crop * ni->crop, T = ni->probe_t, P = ni->probe_p;
  const int avg_response = ni->probe_avg_response;
  /* the paper's D is a mean over phases; the response's is already one */
  const double norm = avg_response ? 1.0 : (double)P;
  size_t i, j, p, u;
  for (i = 0; i < T; i++) {
    size_t unit = 0;
    const double th = (double)i * M_PI / (double)T;
    for (j = 0; j < P; j++)
      plx_grating2d_render(&ni->gabor, th, 2.0 * M_PI * (double)j / (double)P, x + j * S,
                           dx + j * S);
    to_network_range(ni, x, P * S, 0);
    to_network_range(ni, dx, P * S, 1);
    plx_deepnet_forward(ni->net, x, P);
    plx_deepnet_jvp(ni->net, dx);
    for (p = 0; p < ni->n_probes; p++) {
      const plx_layer *l = &ni->net->layers[ni->probes[p]];
      double acc = 0, cacc = 0;
      if (avg_response)
        for (u = 0; u < l->out_size; u++)
          acc += phase_mean_sq(l->tan + u, l->out_size, P);
      else
        for (u = 0; u < P * l->out_size; u++)
          acc += (double)l->tan[u] * (double)l->tan[u];
      o->sens[p * T + i] = acc / norm;
      for (u = 0; u < l->out_c && o->tune; u++, unit++) {
        const size_t c = plx_layer_centre(l) + u * l->out_h * l->out_w;
        double m = 0;
        for (j = 0; j < P; j++)
          m += (double)l->out[c + j * l->out_size];
        o->tune[unit * T + i] = m / (double)P;
        if (avg_response)
          cacc += phase_mean_sq(l->tan + c, l->out_size, P);
        else
          for (j = 0; j < P; j++)
            cacc += (double)l->tan[c + j * l->out_size] * (double)l->tan[c + j * l->out_size];
      }
      if (o->csens)
        o->csens[p * T + i] = cacc / norm;
    }
  }
}

/* ------------------------------------------------------------ run */

/* room for the log of one training run of ni; nonzero: out of memory */
static int train_log_alloc(train_log *lg, const natimg *ni)
{
  const size_t n_eval_cap = (size_t)(ni->steps / ni->log_every) + 2;
  lg->n_eval = 0;
  lg->loss = calloc((size_t)ni->steps, sizeof *lg->loss);
  lg->eval_step = calloc(n_eval_cap, sizeof *lg->eval_step);
  lg->eval_acc = calloc(n_eval_cap, sizeof *lg->eval_acc);
  return !lg->loss || !lg->eval_step || !lg->eval_acc;
}

static void train_log_free(train_log *lg)
{
  free(lg->loss);
  free(lg->eval_step);
  free(lg->eval_acc);
}

static void worker_free(seed_worker *w)
{
  if (w->own)
    seed_state_free(&w->ni);
  plx_rng_free(w->rng);
  train_log_free(&w->lg);
  plx_deepnet_weights_free(w->initial);
  free(w->x);
  free(w->dx);
  free(w->dl);
  free(w->lab);
  free(w->correct);
  free(w->ecx);
  free(w->ecy);
}

/* Worker w of the run ni; worker 0 uses the run's own network (own = 0). */
static int worker_init(seed_worker *w, const natimg *ni, int own, plx_error *err)
{
  const size_t S = ni->crop * ni->crop, maxb = ni->net->max_batch;
  const size_t n_ev = ni->n_photos * ni->eval_per_photo;
  int rc;
  memset(w, 0, sizeof *w);
  w->ni = *ni;
  w->own = own;
  if (own && (rc = seed_state_new(&w->ni, err)))
    return rc;
  w->x = malloc(maxb * S * sizeof *w->x);
  w->dx = malloc(maxb * S * sizeof *w->dx);
  w->dl = malloc(maxb * ni->n_out * sizeof *w->dl);
  w->lab = malloc(maxb * sizeof *w->lab);
  w->correct = malloc(maxb);
  w->ecx = malloc(n_ev * sizeof *w->ecx);
  w->ecy = malloc(n_ev * sizeof *w->ecy);
  w->initial = plx_deepnet_weights_new(w->ni.net);
  w->rng = plx_rng_alloc(ni->seed, 0, PLX_POP_INIT);
  if (train_log_alloc(&w->lg, ni) || !w->x || !w->dx || !w->dl || !w->lab || !w->correct ||
      !w->ecx || !w->ecy || !w->initial || !w->rng)
    return plx_error_set(err, PLX_ENOMEM, "out of memory (batch of %zu crops)", maxb);
  return PLX_OK;
}

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
  stage_begins(ni, op, stage_name(ni, what, stage, sizeof stage));
}

/* What the seeds of a run write to, each to its own rows: every seed's
 * curves, ratios, z and log contrasts, seed-major; and what the first
 * seed's outputs need once both its networks are done. */
typedef struct seed_results {
  double *sens_all, *csens_all, *tune_all, *ratio, *zs, *con;
  double *ck_all;        /* per seed, trained then rotated: D at the probe.steps */
  plx_deepnet_weights *wsnap[3]; /* the first seed's initial, trained, rotated */
  train_log lg0[2];      /* the first seed's training logs (trained, rotated) */
  int have0[2];          /* ... and which of them ran                      */
} seed_results;

/* The seed's initial network on worker w (the same in every task of the
 * seed) and its evaluation crops. */
static void initial_network(seed_worker *w)
{
  natimg *ni = &w->ni;
  plx_rng_reseed(w->rng, ni->seed, 0, PLX_POP_INIT);
  eval_set(ni, w->ecx, w->ecy);
  plx_deepnet_init(ni->net, ni->init_scale, w->rng);
  if (ni->pretrained_initial) {
    /* fine-tuning: the file's layers replace the random start */
    size_t k;
    for (k = 0; k < ni->net->n_layers; k++)
      if (ni->pretrained_mask[k]) {
        plx_layer *l = &ni->net->layers[k];
        memcpy(l->W, ni->pretrained->W[k], l->n_w * sizeof *l->W);
        memcpy(l->b, ni->pretrained->b[k], l->out_c * sizeof *l->b);
      }
  }
  if (ni->denoise) {
    /* the regression head starts at zero: an output of zero is the mean
     * target, where a random head would start with a squared error many
     * times the targets' variance */
    plx_layer *head = &ni->net->layers[ni->net->n_layers - 1];
    memset(head->W, 0, head->n_w * sizeof *head->W);
    memset(head->b, 0, head->out_c * sizeof *head->b);
  }
  plx_deepnet_weights_get(w->initial, ni->net);
}

/* A copy of the network's weights as they are now into *slot (the first
 * seed's initial, trained or rotated weights). */
static int snapshot(const natimg *ni, plx_deepnet_weights **slot, plx_error *err)
{
  if (!(*slot = plx_deepnet_weights_new(ni->net)))
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  return PLX_OK;
}

/* Task `net` of seed number s on worker w: net 0 probes the untrained
 * network, trains it and probes the trained and shuffled networks; net 1
 * trains the same initial network on rotated crops (the same batches) and
 * probes it.  The two are independent and may run on two threads.  Probes
 * go to the seed's rows of sr (conditions not measured are skipped); with
 * probe.steps, D while learning too.  For the first seed, the weights, the
 * training logs and the summary in op are kept. */
static int run_task(seed_worker *w, plx_natimg_opts *op, seed_results *sr, size_t s, int net,
                    plx_error *err)
{
  natimg *ni = &w->ni;
  const size_t K = PLX_NATIMG_N_CONDITIONS, P = ni->n_probes, T = ni->probe_t;
  const int first = s == 0;
  train_log *lg = first ? &sr->lg0[net] : &w->lg;
  probe_out out[PLX_NATIMG_N_CONDITIONS];
  double *ck = sr->ck_all ? sr->ck_all + (s * 2 + (size_t)net) * ni->n_ckpt * P * T : NULL;
  char stage[96];
  int k, rc;
  ni->seed = ni->seed0 + s;
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
    const size_t sk = s * K + (size_t)k;
    out[k].sens = op->measured[k] ? sr->sens_all + sk * P * T : NULL;
    out[k].csens = sr->csens_all + sk * P * T;
    out[k].tune = sr->tune_all + sk * ni->tune_off[P] * T;
  }
  initial_network(w);
  if (net == 1) {
    /* rotated: the same initial weights and batches, crops turned */
    if ((rc = train(w, ni->rotation, stage_name(ni, "train rotated", stage, sizeof stage), op,
                    lg, ck, err)))
      return rc;
    if (first) {
      sr->have0[1] = 1;
      op->rotated_eval_accuracy = lg->eval_acc[lg->n_eval - 1];
      if ((rc = snapshot(ni, &sr->wsnap[2], err)))
        return rc;
    }
    progress(ni, op, "probe rotated");
    probe(ni, w->x, w->dx, &out[PLX_NATIMG_ROTATED]);
    return PLX_OK;
  }
  if (first && (rc = snapshot(ni, &sr->wsnap[0], err)))
    return rc;
  /* untrained */
  if (out[PLX_NATIMG_UNTRAINED].sens) {
    progress(ni, op, "probe untrained");
    probe(ni, w->x, w->dx, &out[PLX_NATIMG_UNTRAINED]);
  }
  /* trained, then its shuffled copy */
  if (!out[PLX_NATIMG_TRAINED].sens && !out[PLX_NATIMG_SHUFFLED].sens)
    return PLX_OK;
  if (ni->pretrained && !ni->pretrained_initial) {
    /* trained elsewhere: as loaded */
    plx_deepnet_weights_set(ni->net, ni->pretrained);
    if (first) {
      op->final_loss = op->eval_accuracy = NAN;
      if ((rc = snapshot(ni, &sr->wsnap[1], err)))
        return rc;
    }
  } else {
    if ((rc = train(w, 0.0, stage_name(ni, "train", stage, sizeof stage), op, lg, ck, err)))
      return rc;
    if (first) {
      sr->have0[0] = 1;
      op->final_loss = lg->loss[ni->steps - 1];
      op->eval_accuracy = lg->eval_acc[lg->n_eval - 1];
      if ((rc = snapshot(ni, &sr->wsnap[1], err)))
        return rc;
    }
  }
  if (out[PLX_NATIMG_TRAINED].sens) {
    progress(ni, op, "probe trained");
    probe(ni, w->x, w->dx, &out[PLX_NATIMG_TRAINED]);
  }
  if (out[PLX_NATIMG_SHUFFLED].sens) {
    plx_rng_reseed(w->rng, ni->seed, 1, PLX_POP_INIT);
    plx_deepnet_shuffle(ni->net, w->rng, ni->shuffle == SHUFFLE_WEIGHTS ? w->initial : NULL,
                        ni->shuffle == SHUFFLE_CENTRED);
    progress(ni, op, "probe shuffled");
    probe(ni, w->x, w->dx, &out[PLX_NATIMG_SHUFFLED]);
  }
  return PLX_OK;
}

/* Every seed's tasks (n_nets per seed: net 0, and net 1 when the rotated
 * condition is measured) on nt workers (threads).  Tasks are handed out in
 * order, so the lowest failing task always runs and its error is the
 * run's on any number of threads; after a failure no further task starts. */
static int task_loop(seed_worker *ws, int nt, size_t n_nets, plx_natimg_opts *op,
                     seed_results *sr, plx_error *err)
{
  const size_t n = ws[0].ni.n_seeds * n_nets;
  int *trc = calloc(n, sizeof *trc), stop = 0, rc = PLX_OK;
  plx_error *terr = calloc(n, sizeof *terr);
  size_t t;
  if (!trc || !terr) {
    free(trc);
    free(terr);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  (void)nt; /* without OpenMP, one worker */
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (long ti = 0; ti < (long)n; ti++) {
    int tid = 0, halt;
#ifdef _OPENMP
    tid = omp_get_thread_num();
#endif
#pragma omp atomic read
    halt = stop;
    if (halt)
      continue;
    if ((trc[ti] = run_task(&ws[tid], op, sr, (size_t)ti / n_nets, (int)((size_t)ti % n_nets),
                            &terr[ti])))
#pragma omp atomic write
      stop = 1;
  }
  for (t = 0; t < n; t++)
    if (trc[t]) {
      rc = trc[t];
      *err = terr[t];
      break;
    }
  free(trc);
  free(terr);
  return rc;
}

static int natimg_run(plx_natimg_opts *op, plx_error *err)
{
  natimg *ni = NULL;
  plx_rundir *rd = NULL;
  seed_worker *ws = NULL;
  seed_results sr;
  plx_progress_counter par;
  char par_stage[96];
  double *measures = NULL; /* per seed: the centre units' plx_natimg_unit_measures */
  const size_t K = PLX_NATIMG_N_CONDITIONS;
  size_t p, P, T, n_nets, n_trains, s;
  double t0 = plx_clock_seconds();
  char outdir[1200], buf[4400];
  int rc, k, nt, n_workers = 0;
  plx_natimg_manifest_ctx mc;

  memset(&sr, 0, sizeof sr);
  if ((rc = natimg_load(&ni, op, 1, err)))
    return rc;
  P = ni->n_probes;
  T = ni->probe_t;
  for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++)
    op->measured[k] = (ni->conds & (1u << k)) != 0;
  /* tasks per seed: the unrotated network (untrained, trained, shuffled),
   * and the rotated one */
  n_nets = 1 + (size_t)op->measured[PLX_NATIMG_ROTATED];
  n_trains = (size_t)((!ni->pretrained || ni->pretrained_initial) &&
                      (op->measured[PLX_NATIMG_TRAINED] || op->measured[PLX_NATIMG_SHUFFLED])) +
             (size_t)op->measured[PLX_NATIMG_ROTATED];
  snprintf(op->pretrained, sizeof op->pretrained, "%s",
           ni->pretrained && !ni->pretrained_initial ? ni->pretrained_path : "");
  nt = plx_team_size(op->threads, ni->n_seeds * n_nets);
  if (!(ws = calloc((size_t)nt, sizeof *ws))) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  /* tasks in parallel: one progress line for all of them */
  snprintf(par_stage, sizeof par_stage, "train %zu network%s on %d threads",
           ni->n_seeds * n_trains, ni->n_seeds * n_trains == 1 ? "" : "s", nt);
  par.prog = op->prog;
  par.stage = par_stage;
  par.done = 0;
  par.total = (long)(ni->n_seeds * n_trains) * ni->steps;
  if (nt > 1 && par.total > 0)
    ni->par = &par;
  for (n_workers = 0; n_workers < nt; n_workers++)
    if ((rc = worker_init(&ws[n_workers], ni, n_workers > 0, err))) {
      n_workers++;
      goto done;
    }
  /* every seed's curves, ratios, z and log contrasts, seed-major */
  sr.sens_all = calloc(ni->n_seeds * K * P * T, sizeof *sr.sens_all);
  sr.csens_all = calloc(ni->n_seeds * K * P * T, sizeof *sr.csens_all);
  sr.tune_all = calloc(ni->n_seeds * K * ni->tune_off[P] * T, sizeof *sr.tune_all);
  sr.ratio = calloc(ni->n_seeds * K * P, sizeof *sr.ratio);
  sr.zs = calloc(ni->n_seeds * K * P, sizeof *sr.zs);
  sr.con = calloc(ni->n_seeds * K * P, sizeof *sr.con);
  measures = calloc(PLX_NATIMG_N_UNIT_MEASURES * ni->n_seeds * K * P, sizeof *measures);
  if ((ni->n_ckpt &&
       !(sr.ck_all = calloc(ni->n_seeds * 2 * ni->n_ckpt * P * T, sizeof *sr.ck_all))) ||
      train_log_alloc(&sr.lg0[0], ni) || train_log_alloc(&sr.lg0[1], ni) || !sr.sens_all ||
      !sr.csens_all || !sr.tune_all || !sr.ratio || !sr.zs || !sr.con || !measures) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory (%zu seeds)", ni->n_seeds);
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

  if (ni->par)
    plx_progress_add(ni->par, 0);
  if ((rc = task_loop(ws, nt, n_nets, op, &sr, err)))
    goto done;
  /* every seed's cardinal/oblique measures; the first seed's curves,
   * tables, figures and weights */
  for (s = 0; s < ni->n_seeds; s++)
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++)
      for (p = 0; p < P && op->measured[k]; p++) {
        const size_t i = (s * K + (size_t)k) * P + p;
        plx_natimg_cardinal_ratio(ni, sr.sens_all + i * T, &sr.ratio[i], &sr.zs[i], &sr.con[i]);
        if (s == 0) {
          op->ratio[k][p] = sr.ratio[i];
          op->z[k][p] = sr.zs[i];
        }
      }
  {
    double *sens[PLX_NATIMG_N_CONDITIONS];
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++)
      sens[k] = op->measured[k] ? sr.sens_all + (size_t)k * P * T : NULL;
    if ((rc = plx_natimg_write_outputs(ni, op, rd, sens, sr.lg0, sr.have0, sr.wsnap, err)))
      goto done;
  }
  if ((rc = plx_natimg_write_preferred(ni, op, rd, sr.tune_all, sr.csens_all, measures, err)))
    goto done;
  op->n_checkpoints = ni->n_ckpt;
  if (sr.ck_all && (rc = plx_natimg_write_over_training(ni, op, rd, sr.ck_all, err)))
    goto done;
  op->n_seeds = ni->n_seeds;
  if (ni->n_seeds > 1) {
    plx_natimg_seed_statistics(ni->n_seeds, P, op->measured, sr.con, &op->seed_contrast);
    for (k = 0; k < PLX_NATIMG_N_UNIT_MEASURES; k++)
      plx_natimg_seed_statistics(ni->n_seeds, P, op->measured,
                                 measures + (size_t)k * ni->n_seeds * K * P, &op->seed_units[k]);
  }
  if ((rc = plx_natimg_write_seed_outputs(ni, op, rd, sr.sens_all, sr.ratio, sr.zs, sr.con, err)))
    goto done;
  mc.op = op;
  mc.ni = ni;
  mc.threads = nt;
  mc.seconds = plx_clock_seconds() - t0;
  if (op->watch)
    *op->watch = NULL;
  rc = plx_rundir_commit(rd, plx_natimg_manifest, &mc, err);
  rd = NULL;
done:
  if (op->watch)
    *op->watch = NULL;
  if (rd)
    plx_rundir_abort(rd);
  for (k = 0; k < n_workers; k++)
    worker_free(&ws[k]);
  free(ws);
  for (k = 0; k < 3; k++)
    plx_deepnet_weights_free(sr.wsnap[k]);
  train_log_free(&sr.lg0[0]);
  train_log_free(&sr.lg0[1]);
  free(sr.sens_all);
  free(sr.csens_all);
  free(sr.tune_all);
  free(sr.ratio);
  free(sr.zs);
  free(sr.con);
  free(sr.ck_all);
  free(measures);
  natimg_free(ni);
  return rc;
}

/* the entry point: the run with OpenBLAS single-threaded (plastix/blas_threads.h) */
int plx_natimg_run(plx_natimg_opts *op, plx_error *err)
{
  int rc;
  plx_blas_serial_enter();
  rc = natimg_run(op, err);
  plx_blas_serial_leave();
  return rc;
}
