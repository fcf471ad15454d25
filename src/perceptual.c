/* perceptual.c -- the perceptual-learning experiment (Wenliang & Seitz
 * 2018): config validation, the condition grid, training of one network
 * per condition (two-interval 2AFC, shared weights, zero-initialised
 * readout; gradient descent or node perturbation; SGD with momentum),
 * accuracy on trained and transfer stimuli at log-spaced iterations, layer
 * change every iteration, frozen-layer runs and tuning probes before and
 * after training.  Conditions run in parallel, one network per thread,
 * each condition on its own random streams, so results do not depend on
 * the thread count.  Writes a run directory like `plastix run`; the
 * reductions and outputs are in perceptual_report.c.  A report
 * (`plastix report RUN_DIR`) reads a finished run's measurements back from
 * its results.h5 and reduces them again, with analysis keys changed. */
#include "config.h"
#include "plastix/perceptual.h"
#include "plastix/blas_threads.h"
#include "plastix/clock.h"
#include "plastix/deepnet.h"
#include "plastix/deepnet_train.h"
#include "plastix/error.h"
#include "plastix/h5io.h"
#include "plastix/perceptual_results.h"
#include "plastix/perceptual_stimulus.h"
#include "plastix/perceptual_units.h"
#include "plastix/parallel.h"
#include "plastix/progress.h"
#include "plastix/rundir.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MAX_GRID 64

static const plx_param_spec exp_spec[] = {
    PLX_P_STRING("name", "perceptual_learning", NULL, "name used for the run directory"),
    PLX_P_INT_MIN("seed", 1, 0, "master seed"),
    PLX_P_STRING("description", "", NULL, "free text, copied to the manifest"),
    PLX_P_END};

static const plx_param_spec stim_spec[] = {
    PLX_P_STRING("type", "gabor", "gabor", "stimulus family"),
    PLX_P_INT_RANGE("size", 64, 8, 1024, "image side in pixels (the paper: 227)"),
    {"reference_orientations", PLX_PARAM_FLOAT_ARRAY, 0, 0, NULL, 0, 0, NULL, NULL,
     "reference orientations in degrees (default 0, 15, ..., 165)"},
    {"separations", PLX_PARAM_FLOAT_ARRAY, PLX_PARAM_HAS_MIN | PLX_PARAM_MIN_EXCL, 0, NULL,
     0, 0, NULL, NULL, "angle separations in degrees (default 0.5, 1, 2, 5, 10)"},
    {"wavelengths", PLX_PARAM_FLOAT_ARRAY, PLX_PARAM_HAS_MIN, 0, NULL, 2.0, 0, NULL, NULL,
     "spatial wavelengths in pixels, >= 2 (default [5.6])"},
    {"contrasts", PLX_PARAM_FLOAT_ARRAY, PLX_PARAM_HAS_MIN | PLX_PARAM_HAS_MAX, 0, NULL, 0.0,
     1.0, NULL, NULL, "contrasts, fraction of the dynamic range (default [0.5])"},
    {"noise_sds", PLX_PARAM_FLOAT_ARRAY, PLX_PARAM_HAS_MIN, 0, NULL, 0.0, 0, NULL, NULL,
     "s.d. of the additive pixel noise in grey levels (default [5])"},
    PLX_P_FLOAT_MIN("envelope", 14.1, 0.0, PLX_PARAM_MIN_EXCL,
                    "s.d. of the Gaussian window in pixels (the paper: 50 of 227)"),
    PLX_P_FLOAT("phase", 0.0, "phase of the carrier at the centre, radians"),
    PLX_P_BOOL("random_phase", 0, "a fresh uniform phase for every image"),
    PLX_P_FLOAT_RANGE("background", 127.5, 0.0, 255.0, 0, "grey level of the background"),
    PLX_P_FLOAT("input_offset", 127.5, "network input = (grey - input_offset) * input_scale"),
    PLX_P_FLOAT_MIN("input_scale", 1.0 / 127.5, 0.0, PLX_PARAM_MIN_EXCL,
                    "network input = (grey - input_offset) * input_scale"),
    PLX_P_BOOL("clip", 1, "clip grey levels to [0, 255] (8-bit images)"),
    PLX_P_BOOL("normalise", 0,
               "every image to zero mean and unit variance over its pixels (after "
               "noise and clipping) instead of input_offset / input_scale: the "
               "natural-image pretraining's per-crop normalisation"),
    PLX_P_END};

static const plx_param_spec model_spec[] = {
    {"type", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, "deepnet", NULL,
     "deepnet"},
    PLX_P_LIST("layers", plx_layer_spec,
               "layers in order; the last is the readout: fc with out = 1"),
    PLX_P_STRING("pretrained", "", NULL,
                 "HDF5 weights file (relative paths: from the config's folder); "
                 "empty: random initialisation (a control)"),
    PLX_P_STRING("pretrained_group", "/weights/trained", NULL,
                 "group holding <layer>/W and <layer>/b"),
    {"pretrained_layers", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, NULL, NULL,
     "layers loaded from the file (default: every conv and fc layer but the readout)"},
    PLX_P_FLOAT_MIN("init_scale", 1.0, 0.0, PLX_PARAM_MIN_EXCL,
                    "random initialisation: PyTorch's default times this"),
    PLX_P_END};

static const plx_param_spec task_spec[] = {
    {"type", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, "perceptual_learning",
     NULL, "perceptual_learning: two-interval orientation discrimination"},
    PLX_P_END};

static const plx_param_spec train_spec[] = {
    PLX_P_STRING("rule", "gradient", "gradient|node_perturbation|trifactor",
                 "gradient: backpropagation through both streams; "
                 "node_perturbation: N(0, sigma^2) noise on every pre-activation "
                 "of both streams, correlated with the change of the pair's loss from a "
                 "clean pass; trifactor: "
                 "refused (needs stochastic rate units)"),
    PLX_P_FLOAT_MIN("sigma", 0.01, 0.0, PLX_PARAM_MIN_EXCL,
                    "node_perturbation: s.d. of the injected noise"),
    PLX_P_INT_RANGE("iterations", 1000, 1, 100000000, "SGD iterations"),
    PLX_P_INT_RANGE("batch", 20, 1, 100000, "pairs per iteration"),
    PLX_P_FLOAT_MIN("lr", 1e-4, 0.0, PLX_PARAM_MIN_EXCL, "learning rate"),
    PLX_P_FLOAT_RANGE("momentum", 0.9, 0.0, 1.0, PLX_PARAM_MAX_EXCL, "momentum"),
    PLX_P_FLOAT_MIN("decay", 0.0, 0.0, 0, "weight decay"),
    PLX_P_INT_RANGE("log_points", 20, 2, 10000,
                    "log-spaced iterations where accuracy is measured (plus 0)"),
    PLX_P_INT_MIN("frozen", 0, 0,
                  "weight layers 1..k frozen in the main training (0: all plastic; "
                  "the number of conv layers: the readout alone learns)"),
    PLX_P_INT_RANGE("psi_window", 21, 1, 100001,
                    "iterations in the moving average of a layer's change rate "
                    "(peak-speed iteration); odd"),
    PLX_P_END};

static const plx_param_spec test_spec[] = {
    PLX_P_INT_RANGE("pairs", 200, 1, 10000000, "test pairs per test condition"),
    PLX_P_BOOL("transfer", 1,
               "also test rotated references (+45, +90 deg clockwise) and halved / "
               "doubled spatial frequency"),
    PLX_P_BOOL("all_separations", 1,
               "after training, test every separation of the grid"),
    PLX_P_INT_MIN("early_iteration", 20, 1,
                  "the rise effect compares accuracy here with iteration 1"),
    PLX_P_END};

static const plx_param_spec freeze_spec[] = {
    {"depths", PLX_PARAM_FLOAT_ARRAY, PLX_PARAM_HAS_MIN, 0, NULL, 1.0, 0, NULL, NULL,
     "for each k: retrain with weight layers 1..k frozen (default: none)"},
    PLX_P_FLOAT_RANGE("threshold", 0.95, 0.5, 1.0, PLX_PARAM_MAX_EXCL,
                      "accuracy that defines t95"),
    PLX_P_END};

static const plx_param_spec units_spec[] = {
    PLX_P_BOOL("enabled", 1, "tuning curves before and after training"),
    {"layers", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, NULL, NULL,
     "probed layers (default: the ReLU after each conv layer)"},
    PLX_P_INT_RANGE("orientations", 100, 4, 100000, "orientations over [0, 180)"),
    PLX_P_INT_RANGE("repeats", 50, 2, 1000000, "noisy presentations per orientation"),
    PLX_P_FLOAT_RANGE("contrast", 0.2, 0.0, 1.0, 0, "probe contrast"),
    PLX_P_FLOAT_MIN("noise_sd", 15.0, 0.0, 0, "probe noise s.d., grey levels"),
    PLX_P_FLOAT_MIN("wavelength", 2.8, 2.0, 0, "probe wavelength, pixels"),
    PLX_P_FLOAT_MIN("smooth_deg", 1.0, 0.0, 0, "s.d. of the circular Gaussian smoothing"),
    PLX_P_FLOAT("min_activation", 1.0,
                "units with a smaller mean response are left out"),
    PLX_P_FLOAT_MIN("ridge", 0.01, 0.0, 0,
                    "layer Fisher information: Sigma + ridge (tr Sigma / n) I"),
    PLX_P_FLOAT_RANGE("window_deg", 10.0, 0.0, 90.0, PLX_PARAM_MIN_EXCL,
                      "\"near the trained orientation\": within this many degrees"),
    PLX_P_INT_RANGE("high_layers", 2, 1, 100, "the top this many probed layers are \"high\""),
    PLX_P_END};

static const plx_param_spec output_spec[] = {
    {"figures", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, "png|svg", NULL,
     "figure formats (default [\"png\"])"},
    PLX_P_BOOL("save_weights", 0,
               "write every condition's trained weights to results.h5 under "
               "/weights/condition_NNNN"),
    PLX_P_END};

static const plx_param_spec root_spec[] = {
    PLX_P_GROUP("experiment", exp_spec, "name, seed"),
    PLX_P_GROUP("stimulus", stim_spec, "the Gabor grid"),
    PLX_P_GROUP("model", model_spec, "the network"),
    PLX_P_GROUP("task", task_spec, "task.type = \"perceptual_learning\""),
    PLX_P_GROUP("train", train_spec, "SGD with momentum"),
    PLX_P_GROUP("test", test_spec, "behavioural tests"),
    PLX_P_GROUP("freeze", freeze_spec, "frozen-layer runs"),
    PLX_P_GROUP("units", units_spec, "tuning curves"),
    PLX_P_GROUP("output", output_spec, "figures, weights"),
    PLX_P_END};

typedef struct pl {
  plx_config *cfg;
  const plx_params *root;
  char name[128];
  uint64_t seed;
  plx_gabor_stim stim;     /* common fields; per condition: wavelength,
                              contrast, noise_sd                          */
  size_t n_ref, n_sep, n_wl, n_con, n_noise;
  double ref[MAX_GRID], sep[MAX_GRID], wl[MAX_GRID], con[MAX_GRID], noise[MAX_GRID];
  plx_deepnet *net;        /* the initial network (weights as loaded)     */
  plx_deepnet_weights *w0;
  char pretrained[1100];
  int np, units, transfer, all_seps;
  double np_sigma, lr, mu, decay;
  long T, batch, log_points, psi_window, pairs, early;
  long frozen; /* train.frozen: weight layers 1..frozen left alone */
  size_t n_freeze;
  long freeze_depth[MAX_GRID];
  double freeze_threshold;
  int probe[MAX_GRID];
  size_t n_probe;
  plx_gabor_stim probe_stim;
  long n_ori, repeats;
  double smooth, min_act, ridge, window;
  long high;
  size_t n_wl_layers;
  unsigned formats;
  int save_weights;
} pl;

int plx_perceptual_is(const char *path)
{
  return plx_config_task_is(path, "perceptual_learning");
}

static void pl_free(pl *p)
{
  if (!p)
    return;
  plx_deepnet_weights_free(p->w0);
  plx_deepnet_free(p->net);
  plx_config_free(p->cfg);
  free(p);
}

/* a float array with a default; every element must be distinct */
static int grid(const plx_params *s, const char *key, const double *def, size_t ndef,
                double *out, size_t *n, plx_error *err)
{
  size_t m = plx_params_float_array(s, key, out, MAX_GRID), i, j;
  if (!plx_params_has(s, key)) {
    memcpy(out, def, ndef * sizeof *def);
    *n = ndef;
    return PLX_OK;
  }
  if (m == 0 || m > MAX_GRID)
    return plx_params_error(s, key, err, "expected 1 to %d values, got %zu", MAX_GRID, m);
  for (i = 0; i < m; i++)
    for (j = 0; j < i; j++)
      if (out[i] == out[j])
        return plx_params_error(s, key, err, "the value %g appears twice", out[i]);
  *n = m;
  return PLX_OK;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The layers a pretrained file seeds: every conv layer and fc layer but the
 * readout (which starts at zero), or those model.pretrained_layers names. */
static int pretrained_wanted(const plx_deepnet *net, size_t k, void *ctx)
{
  const config_setting_t *ls = ctx;
  int i;
  if (k + 1 == net->n_layers)
    return 0;
  if (!ls)
    return 1;
  for (i = 0; i < config_setting_length(ls); i++)
    if (!strcmp(config_setting_get_string(config_setting_get_elem(ls, (unsigned)i)),
                net->layers[k].name))
      return 1;
  return 0;
}

/* Load those layers' W and b from an HDF5 file (plx_deepnet_load_some:
 * each must be there with its shape). */
static int load_pretrained(pl *p, const plx_params *m, const char *path, const char *group,
                           plx_error *err)
{
  plx_h5 *h = NULL;
  config_setting_t *ls = plx_params_setting(m, "pretrained_layers");
  int rc;
  plx_error e2;
  if (ls) {
    int i, n = config_setting_length(ls);
    for (i = 0; i < n; i++) {
      const char *nm = config_setting_get_string(config_setting_get_elem(ls, (unsigned)i));
      int k = plx_deepnet_find(p->net, nm);
      if (k < 0 || !p->net->layers[k].n_w)
        return plx_params_error(m, "pretrained_layers", err,
                                "the network has no conv or fc layer '%s'", nm);
      if (k == (int)p->net->n_layers - 1)
        return plx_params_error(m, "pretrained_layers", err,
                                "'%s' is the readout, which starts at zero", nm);
    }
  }
  if ((rc = plx_h5_open(&h, path, 0, &e2)))
    return plx_params_error(m, "pretrained", err, "%s", e2.msg);
  rc = plx_deepnet_load_some(p->net, h, group, pretrained_wanted, ls, 0, &e2);
  plx_h5_close(h);
  if (rc)
    return plx_params_error(m, "pretrained", err, "%s%s", e2.msg,
                            rc == PLX_ENOTFOUND ? " (is model.pretrained_group right?)" : "");
  return PLX_OK;
}

static int pl_load(pl **out, const plx_perceptual_opts *op, plx_error *err)
{
  static const double def_ref[12] = {0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165};
  static const double def_sep[5] = {0.5, 1.0, 2.0, 5.0, 10.0};
  static const double def_wl[1] = {5.6}, def_con[1] = {0.5}, def_noise[1] = {5.0};
  pl *p = calloc(1, sizeof *p);
  const plx_params *s, *m, *t, *te, *fz, *u, *outp;
  config_setting_t *fs;
  size_t i;
  int rc;
  *out = NULL;
  if (!p)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  plx_gsl_quiet();
  if ((rc = plx_config_load(&p->cfg, op->config, op->overrides, op->n_overrides, err)) ||
      (rc = plx_config_bind(p->cfg, NULL, root_spec, NULL, &p->root, err)))
    goto fail;
  snprintf(p->name, sizeof p->name, "%s",
           plx_params_string(plx_params_group(p->root, "experiment"), "name"));
  p->seed = (uint64_t)plx_params_int(plx_params_group(p->root, "experiment"), "seed");
  /* stimulus grid */
  s = plx_params_group(p->root, "stimulus");
  if ((rc = grid(s, "reference_orientations", def_ref, 12, p->ref, &p->n_ref, err)) ||
      (rc = grid(s, "separations", def_sep, 5, p->sep, &p->n_sep, err)) ||
      (rc = grid(s, "wavelengths", def_wl, 1, p->wl, &p->n_wl, err)) ||
      (rc = grid(s, "contrasts", def_con, 1, p->con, &p->n_con, err)) ||
      (rc = grid(s, "noise_sds", def_noise, 1, p->noise, &p->n_noise, err)))
    goto fail;
  qsort(p->sep, p->n_sep, sizeof *p->sep, cmp_double);
  p->stim.size = (size_t)plx_params_int(s, "size");
  p->stim.envelope = plx_params_float(s, "envelope");
  p->stim.phase = plx_params_float(s, "phase");
  p->stim.random_phase = plx_params_bool(s, "random_phase");
  p->stim.background = plx_params_float(s, "background");
  p->stim.input_offset = plx_params_float(s, "input_offset");
  p->stim.input_scale = plx_params_float(s, "input_scale");
  p->stim.clip = plx_params_bool(s, "clip");
  p->stim.normalise = plx_params_bool(s, "normalise");
  p->stim.wavelength = p->wl[0];
  p->stim.contrast = p->con[0];
  p->stim.noise_sd = p->noise[0];
  for (i = 0; i < p->n_sep; i++)
    if (p->sep[i] >= 45.0) {
      rc = plx_params_error(s, "separations", err, "separations must be below 45 degrees, "
                            "got %g", p->sep[i]);
      goto fail;
    }
  /* training */
  t = plx_params_group(p->root, "train");
  if (strcmp(plx_params_string(t, "rule"), "trifactor") == 0) {
    rc = plx_params_error(t, "rule", err,
                          "the tri-factor rule needs stochastic rate units in a Langevin "
                          "steady state (models recurrent_langevin or feedforward with "
                          "mode = \"relax\"); the deterministic conv and fc layers of a "
                          "deepnet cannot be driven by it: use gradient or "
                          "node_perturbation");
    goto fail;
  }
  p->np = strcmp(plx_params_string(t, "rule"), "node_perturbation") == 0;
  p->np_sigma = plx_params_float(t, "sigma");
  p->T = plx_params_int(t, "iterations");
  p->batch = plx_params_int(t, "batch");
  p->lr = plx_params_float(t, "lr");
  p->mu = plx_params_float(t, "momentum");
  p->decay = plx_params_float(t, "decay");
  p->log_points = plx_params_int(t, "log_points");
  p->psi_window = plx_params_int(t, "psi_window");
  if (p->psi_window % 2 == 0) {
    rc = plx_params_error(t, "psi_window", err, "expected an odd number, got %ld",
                          p->psi_window);
    goto fail;
  }
  te = plx_params_group(p->root, "test");
  p->pairs = plx_params_int(te, "pairs");
  p->transfer = plx_params_bool(te, "transfer");
  p->all_seps = plx_params_bool(te, "all_separations");
  p->early = plx_params_int(te, "early_iteration");
  if (p->early > p->T) {
    rc = plx_params_error(te, "early_iteration", err, "%ld exceeds train.iterations (%ld)",
                          p->early, p->T);
    goto fail;
  }
  if (p->transfer)
    for (i = 0; i < p->n_wl; i++)
      if (p->wl[i] / 2.0 < 2.0) {
        rc = plx_params_error(s, "wavelengths", err,
                              "the doubled-frequency transfer test of wavelength %g px "
                              "would be %g px, below the 2 px Nyquist limit (use "
                              "wavelengths >= 4 px or test.transfer = false)",
                              p->wl[i], p->wl[i] / 2.0);
        goto fail;
      }
  /* model */
  m = plx_params_group(p->root, "model");
  if ((rc = plx_deepnet_new(&p->net, plx_params_group(m, "layers"), 1, p->stim.size,
                            p->stim.size, (size_t)(2 * p->batch), err)))
    goto fail;
  {
    const plx_layer *last = &p->net->layers[p->net->n_layers - 1];
    if (last->kind != PLX_LAYER_FC || last->out_size != 1) {
      rc = plx_params_error(m, "layers", err, "the last layer must be the readout: an fc "
                            "layer with out = 1 (got %s with %zu outputs)",
                            last->kind == PLX_LAYER_FC ? "fc" : "another type",
                            last->out_size);
      goto fail;
    }
  }
  for (i = 0; i < p->net->n_layers; i++)
    p->n_wl_layers += p->net->layers[i].n_w > 0;
  {
    const char *pre = plx_params_string(m, "pretrained");
    plx_rng *r = plx_rng_alloc(p->seed, 0, PLX_POP_INIT);
    if (!r) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
      goto fail;
    }
    plx_deepnet_init(p->net, plx_params_float(m, "init_scale"), r);
    plx_rng_free(r);
    if (pre[0]) {
      plx_config_relative(p->cfg, pre, p->pretrained, sizeof p->pretrained);
      if ((rc = load_pretrained(p, m, p->pretrained, plx_params_string(m, "pretrained_group"),
                                err)))
        goto fail;
    }
    {
      plx_layer *ro = &p->net->layers[p->net->n_layers - 1];
      memset(ro->W, 0, ro->n_w * sizeof(float));
      memset(ro->b, 0, ro->out_c * sizeof(float));
    }
  }
  /* freezing */
  p->frozen = plx_params_int(plx_params_group(p->root, "train"), "frozen");
  if (p->frozen >= (long)p->n_wl_layers) {
    rc = plx_params_error(plx_params_group(p->root, "train"), "frozen", err,
                          "expected 0 to %zu (the readout stays plastic), got %ld",
                          p->n_wl_layers - 1, p->frozen);
    goto fail;
  }
  fz = plx_params_group(p->root, "freeze");
  {
    double d[MAX_GRID];
    size_t n = plx_params_float_array(fz, "depths", d, MAX_GRID);
    if (n > MAX_GRID) {
      rc = plx_params_error(fz, "depths", err, "at most %d depths", MAX_GRID);
      goto fail;
    }
    for (i = 0; i < n; i++) {
      if (d[i] != floor(d[i]) || d[i] >= (double)p->n_wl_layers) {
        rc = plx_params_error(fz, "depths", err, "expected whole numbers from 1 to %zu (the "
                              "readout stays plastic), got %g", p->n_wl_layers - 1, d[i]);
        goto fail;
      }
      p->freeze_depth[i] = (long)d[i];
    }
    p->n_freeze = n;
    p->freeze_threshold = plx_params_float(fz, "threshold");
  }
  /* units */
  u = plx_params_group(p->root, "units");
  p->units = plx_params_bool(u, "enabled");
  fs = plx_params_setting(u, "layers");
  if (fs) {
    int k, n = config_setting_length(fs);
    if (n == 0 || n > MAX_GRID) {
      rc = plx_params_error(u, "layers", err, "expected 1 to %d layer names", MAX_GRID);
      goto fail;
    }
    for (k = 0; k < n; k++) {
      const char *nm = config_setting_get_string(config_setting_get_elem(fs, (unsigned)k));
      int li = plx_deepnet_find(p->net, nm);
      if (li < 0 || li == (int)p->net->n_layers - 1) {
        rc = plx_params_error(u, "layers", err, li < 0 ? "the network has no layer '%s'"
                              : "'%s' is the readout (one unit, no tuning to probe)", nm);
        goto fail;
      }
      p->probe[p->n_probe++] = li;
    }
  } else {
    for (i = 0; i + 1 < p->net->n_layers && p->n_probe < MAX_GRID; i++)
      if (p->net->layers[i].kind == PLX_LAYER_CONV)
        p->probe[p->n_probe++] = (int)(i + 1 < p->net->n_layers - 1 &&
                                               p->net->layers[i + 1].kind == PLX_LAYER_RELU
                                           ? i + 1 : i);
    if (p->units && p->n_probe == 0) {
      rc = plx_params_error(u, "layers", err, "the network has no conv layer: name the "
                            "layers to probe");
      goto fail;
    }
  }
  p->n_ori = plx_params_int(u, "orientations");
  p->repeats = plx_params_int(u, "repeats");
  p->smooth = plx_params_float(u, "smooth_deg");
  p->min_act = plx_params_float(u, "min_activation");
  p->ridge = plx_params_float(u, "ridge");
  p->window = plx_params_float(u, "window_deg");
  p->high = plx_params_int(u, "high_layers");
  if (p->units && (size_t)p->high > p->n_probe) {
    rc = plx_params_error(u, "high_layers", err, "%ld exceeds the %zu probed layers",
                          p->high, p->n_probe);
    goto fail;
  }
  p->probe_stim = p->stim;
  p->probe_stim.contrast = plx_params_float(u, "contrast");
  p->probe_stim.noise_sd = plx_params_float(u, "noise_sd");
  p->probe_stim.wavelength = plx_params_float(u, "wavelength");
  /* output */
  outp = plx_params_group(p->root, "output");
  p->formats = plx_rundir_figure_formats(outp);
  p->save_weights = plx_params_bool(outp, "save_weights");
  if (!(p->w0 = plx_deepnet_weights_new(p->net))) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto fail;
  }
  *out = p;
  return PLX_OK;
fail:
  pl_free(p);
  return rc;
}

static size_t n_conditions(const pl *p)
{
  return p->n_ref * p->n_sep * p->n_wl * p->n_con * p->n_noise;
}

int plx_perceptual_check(const plx_perceptual_opts *op, char *summary, size_t n,
                         plx_error *err)
{
  pl *p;
  int rc = pl_load(&p, op, err);
  if (rc)
    return rc;
  snprintf(summary, n, "perceptual learning (%s): %zu conditions (references x "
           "separations x wavelengths x contrasts x noise levels = %zu x %zu x %zu x %zu "
           "x %zu), %zu x %zu "
           "images, %zu-layer deepnet with %zu parameters, %s, %ld iterations of %ld pairs",
           p->np ? "node_perturbation" : "gradient", n_conditions(p), p->n_ref, p->n_sep,
           p->n_wl, p->n_con, p->n_noise, p->stim.size, p->stim.size, p->net->n_layers,
           plx_deepnet_params(p->net), p->pretrained[0] ? "pretrained weights" : "random "
           "initial weights (control)", p->T, p->batch);
  pl_free(p);
  return PLX_OK;
}

/* ---------------------------------------------------------------- worker */

typedef struct worker {
  plx_deepnet *net;
  plx_deepnet_momentum *mom;
  float *x, *dx, *dout, *npw, *tx;
  unsigned char *label, *tlabel;
  double *conf, *each, *sloss;
  plx_rng *rng, *nrng;
} worker;

static void worker_free(worker *w)
{
  if (!w)
    return;
  plx_deepnet_free(w->net);
  plx_deepnet_momentum_free(w->mom);
  free(w->x);
  free(w->dx);
  free(w->dout);
  free(w->npw);
  free(w->tx);
  free(w->label);
  free(w->tlabel);
  free(w->conf);
  free(w->each);
  free(w->sloss);
  plx_rng_free(w->rng);
  plx_rng_free(w->nrng);
  memset(w, 0, sizeof *w);
}

static int worker_init(worker *w, const pl *p, plx_error *err)
{
  const size_t S = p->stim.size * p->stim.size, B = 2 * (size_t)p->batch;
  const size_t nt = p->transfer ? PLX_PL_N_TESTS : 1;
  int rc;
  memset(w, 0, sizeof *w);
  if ((rc = plx_deepnet_new(&w->net, plx_params_group(plx_params_group(p->root, "model"),
                                                      "layers"),
                            1, p->stim.size, p->stim.size, B, err)))
    return rc;
  plx_deepnet_copy_weights(w->net, p->net);
  w->mom = plx_deepnet_momentum_new(w->net);
  w->x = malloc(B * S * sizeof *w->x);
  w->dx = malloc(B * S * sizeof *w->dx);
  w->dout = malloc(B * sizeof *w->dout);
  w->npw = p->np ? malloc(plx_deepnet_np_work(w->net) * sizeof *w->npw) : NULL;
  w->tx = malloc(nt * 2 * (size_t)p->pairs * S * sizeof *w->tx);
  w->label = malloc(B);
  w->tlabel = malloc(nt * (size_t)p->pairs);
  w->conf = malloc(B * sizeof *w->conf);
  w->each = malloc(B * sizeof *w->each);
  w->sloss = malloc(B * sizeof *w->sloss);
  w->rng = plx_rng_alloc(p->seed, 0, PLX_POP_DATA);
  w->nrng = plx_rng_alloc(p->seed, 0, PLX_POP_RULE);
  if (!w->mom || !w->x || !w->dx || !w->dout || (p->np && !w->npw) || !w->tx || !w->label ||
      !w->tlabel || !w->conf || !w->each || !w->sloss || !w->rng || !w->nrng) {
    worker_free(w);
    return plx_error_set(err, PLX_ENOMEM, "out of memory (%ld test pairs of %zu x %zu "
                         "images per thread)", p->pairs, p->stim.size, p->stim.size);
  }
  return PLX_OK;
}

/* stimulus of test set ts for condition c */
static void test_stim(const pl *p, const plx_pl_condition *c, int ts, plx_gabor_stim *s,
                      double *ref_deg)
{
  *s = p->stim;
  s->wavelength = c->wavelength;
  s->contrast = c->contrast;
  s->noise_sd = c->noise_sd;
  *ref_deg = c->ref_deg;
  if (ts == PLX_PL_TEST_ORI45)
    *ref_deg -= 45.0;
  else if (ts == PLX_PL_TEST_ORI90)
    *ref_deg -= 90.0;
  else if (ts == PLX_PL_TEST_SF_HALF)
    s->wavelength *= 2.0;
  else if (ts == PLX_PL_TEST_SF_DOUBLE)
    s->wavelength /= 2.0;
}

/* the pairs of test set ts at test separation index si (chunked: each
 * chunk of up to `batch` pairs holds its targets, then its references) */
static void make_test(const pl *p, worker *w, const plx_pl_condition *c, int ts, size_t si,
                      float *x, unsigned char *label)
{
  const size_t S = p->stim.size * p->stim.size, Bc = (size_t)p->batch;
  plx_gabor_stim s;
  double ref;
  size_t done;
  test_stim(p, c, ts, &s, &ref);
  plx_rng_reseed(w->rng, p->seed, c->group,
                 PLX_POP_SUB(PLX_POP_EVAL_STIMULUS, 1 + (size_t)ts * MAX_GRID + si));
  for (done = 0; done < (size_t)p->pairs; done += Bc) {
    size_t nb = (size_t)p->pairs - done < Bc ? (size_t)p->pairs - done : Bc;
    plx_gabor_pairs(&s, ref * M_PI / 180.0, p->sep[si] * M_PI / 180.0, nb, w->rng,
                    x + 2 * done * S, label + done);
  }
}

/* mean confidence of the correct label on a prepared test set */
static double evaluate(const pl *p, worker *w, const float *x, const unsigned char *label)
{
  const size_t S = p->stim.size * p->stim.size, Bc = (size_t)p->batch;
  double sum = 0;
  size_t done, b;
  for (done = 0; done < (size_t)p->pairs; done += Bc) {
    size_t nb = (size_t)p->pairs - done < Bc ? (size_t)p->pairs - done : Bc;
    plx_deepnet_forward(w->net, x + 2 * done * S, 2 * nb);
    plx_deepnet_pair_logistic(w->net, nb, label + done, NULL, w->conf, NULL);
    for (b = 0; b < nb; b++)
      sum += w->conf[b];
  }
  return sum / (double)p->pairs;
}

typedef struct shared {
  const pl *p;
  plx_pl_results *r;
  plx_deepnet_weights **trained; /* [n_cond] when output.save_weights */
  const plx_perceptual_opts *op;
  plx_progress_counter progress; /* training iterations of every condition */
} shared;

/* Train condition c from the initial weights for `iters` iterations with
 * the first `depth` weight layers frozen.  With log set, accuracy is
 * measured at the logged iterations and the layer change every iteration
 * (into r). */
static int train(shared *sh, worker *w, size_t ci, long depth, long iters, int log,
                 plx_error *err)
{
  const pl *p = sh->p;
  plx_pl_results *r = sh->r;
  const plx_pl_condition *c = &r->cond[ci];
  const size_t S = p->stim.size * p->stim.size, B = (size_t)p->batch;
  const size_t nt = p->transfer ? PLX_PL_N_TESTS : 1;
  plx_gabor_stim s;
  double ref;
  size_t li, k = 0, wi, lowest = w->net->n_layers;
  long it, pending = 0;
  plx_deepnet_weights_set(w->net, p->w0);
  plx_deepnet_momentum_reset(w->mom);
  for (li = 0, wi = 0; li < w->net->n_layers; li++) {
    w->mom->frozen[li] = 0;
    if (w->net->layers[li].n_w)
      w->mom->frozen[li] = (long)(wi++) < depth;
    /* the lowest plastic layer: backpropagation stops there */
    if (w->net->layers[li].n_w && !w->mom->frozen[li] && lowest == w->net->n_layers)
      lowest = li;
  }
  test_stim(p, c, PLX_PL_TEST_TRAINED, &s, &ref);
  for (it = 0; it <= iters; it++) {
    if (log && k < r->n_log && r->log_iter[k] == it) {
      size_t ts;
      for (ts = 0; ts < nt; ts++)
        PLX_PL_ACC(r, ci, ts, k) =
            evaluate(p, w, w->tx + ts * 2 * (size_t)p->pairs * S, w->tlabel + ts * (size_t)p->pairs);
      k++;
    }
    if (log) {
      for (li = 0, wi = 0; li < w->net->n_layers; li++) {
        plx_layer_change ch;
        if (!w->net->layers[li].n_w)
          continue;
        plx_deepnet_layer_change(w->net, p->w0, li, &ch);
        PLX_PL_CHANGE(r, ci, wi, PLX_PL_REL1, it) = ch.rel1;
        PLX_PL_CHANGE(r, ci, wi, PLX_PL_REL2, it) = ch.rel2;
        PLX_PL_CHANGE(r, ci, wi, PLX_PL_M1, it) = ch.m1;
        PLX_PL_CHANGE(r, ci, wi, PLX_PL_M2, it) = ch.m2;
        wi++;
      }
    }
    if (it == iters)
      break;
    plx_rng_reseed(w->rng, p->seed, c->group, PLX_POP_SUB(PLX_POP_STIMULUS, (uint64_t)it + 1));
    plx_gabor_pairs(&s, ref * M_PI / 180.0, c->sep_deg * M_PI / 180.0, B, w->rng, w->x,
                    w->label);
    if (p->np) {
      /* node perturbation: the loss change each pair's noise caused,
       * against a clean pass on the same images (a baseline of the batch
       * mean would leave the stimulus-driven spread of the losses in the
       * estimate, amplified by 1 / sigma^2) */
      double loss;
      size_t b;
      plx_deepnet_forward(w->net, w->x, 2 * B);
      loss = plx_deepnet_pair_logistic(w->net, B, w->label, NULL, NULL, w->conf);
      plx_rng_reseed(w->nrng, p->seed, c->group,
                     PLX_POP_SUB(PLX_POP_NETWORK, (uint64_t)it + 1));
      plx_deepnet_forward_noisy(w->net, w->x, 2 * B, p->np_sigma, w->mom->frozen, w->nrng);
      plx_deepnet_pair_logistic(w->net, B, w->label, NULL, NULL, w->each);
      for (b = 0; b < B; b++)
        w->sloss[b] = w->sloss[B + b] = w->each[b] - w->conf[b];
      if (log)
        r->loss[ci * (size_t)p->T + (size_t)it] = loss;
      plx_deepnet_np_grad(w->net, w->sloss, 0.0, 1.0 / (p->np_sigma * p->np_sigma * (double)B),
                          w->mom->frozen, w->npw);
    } else {
      double loss;
      plx_deepnet_forward(w->net, w->x, 2 * B);
      loss = plx_deepnet_pair_logistic(w->net, B, w->label, w->dout, NULL, NULL);
      if (log)
        r->loss[ci * (size_t)p->T + (size_t)it] = loss;
      if (lowest < w->net->n_layers) /* else every layer is frozen */
        plx_deepnet_backward_to(w->net, w->dout, lowest);
    }
    if (log && !isfinite(r->loss[ci * (size_t)p->T + (size_t)it]))
      return plx_params_error(plx_params_group(p->root, "train"), "lr", err,
                              "training diverged in condition %zu at iteration %ld (loss "
                              "not finite): reduce the learning rate", ci, it);
    plx_deepnet_momentum_step(w->mom, w->net, p->lr, p->mu, p->decay);
    if (++pending == 16) {
      plx_progress_add(&sh->progress, pending);
      pending = 0;
    }
  }
  if (pending)
    plx_progress_add(&sh->progress, pending);
  return PLX_OK;
}

/* the first logged iteration at which condition ci's accuracy on the
 * trained stimuli reached threshold, -1 if none */
static long t95_of(const plx_pl_results *r, size_t ci, double threshold)
{
  size_t k;
  for (k = 0; k < r->n_log; k++)
    if (PLX_PL_ACC(r, ci, PLX_PL_TEST_TRAINED, k) >= threshold)
      return r->log_iter[k];
  return -1;
}

static int run_condition(shared *sh, worker *w, size_t ci, plx_error *err)
{
  const pl *p = sh->p;
  plx_pl_results *r = sh->r;
  const plx_pl_condition *c = &r->cond[ci];
  const size_t S = p->stim.size * p->stim.size;
  const size_t nt = p->transfer ? PLX_PL_N_TESTS : 1;
  size_t ts, si, k, li;
  int rc;
  /* the test sets at the trained separation, rendered once */
  for (ts = 0; ts < nt; ts++)
    make_test(p, w, c, (int)ts, c->i_sep, w->tx + ts * 2 * (size_t)p->pairs * S,
              w->tlabel + ts * (size_t)p->pairs);
  if ((rc = train(sh, w, ci, p->frozen, p->T, 1, err)))
    return rc;
  if (sh->trained)
    plx_deepnet_weights_get(sh->trained[ci], w->net);
  /* every test separation after training (the trained one is measured) */
  for (ts = 0; ts < nt; ts++)
    for (si = 0; si < p->n_sep; si++) {
      if (si == c->i_sep) {
        PLX_PL_ACCSEP(r, ci, ts, si) = PLX_PL_ACC(r, ci, ts, r->n_log - 1);
        continue;
      }
      if (!p->all_seps) {
        PLX_PL_ACCSEP(r, ci, ts, si) = NAN;
        continue;
      }
      make_test(p, w, c, (int)ts, si, w->tx, w->tlabel);
      PLX_PL_ACCSEP(r, ci, ts, si) = evaluate(p, w, w->tx, w->tlabel);
    }
  /* peak-speed iterations */
  for (li = 0; li < r->n_wl; li++)
    r->psi[ci * r->n_wl + li] = (double)plx_pl_peak_speed(
        &PLX_PL_CHANGE(r, ci, li, PLX_PL_REL1, 0), p->T, p->psi_window);
  /* tuning after training */
  if (p->units) {
    plx_tuning_probe pr;
    pr.layers = p->probe;
    pr.n_layers = p->n_probe;
    pr.n_ori = (size_t)p->n_ori;
    pr.repeats = (size_t)p->repeats;
    pr.ridge = p->ridge;
    pr.min_activation = p->min_act;
    pr.seed = p->seed;
    pr.trial = 0;
    if ((rc = plx_tuning_measure(w->net, &pr, &p->probe_stim, w->rng, w->x, w->dx,
                                 r->trained + ci * r->n_pl,
                                 r->fi_trained + ci * r->n_pl * r->n_ori, err)))
      return rc;
  }
  /* frozen low layers: the accuracy at t95 of the fully plastic run */
  r->t95[ci] = t95_of(r, ci, p->freeze_threshold);
  if (p->n_freeze) {
    long stop = r->t95[ci] >= 0 ? r->t95[ci] : p->T;
    /* the trained test set again (the buffer was reused) */
    make_test(p, w, c, PLX_PL_TEST_TRAINED, c->i_sep, w->tx, w->tlabel);
    for (k = 0; k < p->n_freeze; k++) {
      if ((rc = train(sh, w, ci, p->freeze_depth[k], stop, 0, err)))
        return rc;
      r->freeze_acc[ci * r->n_freeze + k] = evaluate(p, w, w->tx, w->tlabel);
      plx_progress_add(&sh->progress, p->T - stop);
    }
  }
  return PLX_OK;
}

/* --------------------------------------------------------------- results */

static void results_free(plx_pl_results *r)
{
  size_t i;
  if (!r)
    return;
  if (r->naive)
    for (i = 0; i < r->n_pl; i++)
      plx_tuning_release(&r->naive[i]);
  if (r->trained)
    for (i = 0; i < r->n_cond * r->n_pl; i++)
      plx_tuning_release(&r->trained[i]);
  free(r->naive);
  free(r->trained);
  free(r->cond);
  free(r->seps);
  free(r->log_iter);
  free(r->acc);
  free(r->acc_sep);
  free(r->loss);
  free(r->wl_name);
  free(r->change);
  free(r->psi);
  free(r->freeze_depth);
  free(r->t95);
  free(r->freeze_acc);
  free(r->pl_name);
  free(r->n_units);
  free(r->fi_naive);
  free(r->fi_trained);
  free(r);
}

static int results_new(plx_pl_results **out, const pl *p, plx_error *err)
{
  plx_pl_results *r = calloc(1, sizeof *r);
  size_t i, a, b, c, d, e, n = 0, li;
  long *tmp;
  *out = NULL;
  if (!r)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  r->n_cond = n_conditions(p);
  r->n_sep = p->n_sep;
  r->n_groups = r->n_cond / p->n_sep;
  r->T = p->T;
  r->transfer = p->transfer;
  r->early_iter = p->early;
  r->cond = calloc(r->n_cond, sizeof *r->cond);
  r->seps = malloc(p->n_sep * sizeof *r->seps);
  /* log-spaced iterations: 0 and round(T^(j/(L-1))), j = 0..L-1, unique */
  tmp = malloc(((size_t)p->log_points + 2) * sizeof *tmp);
  r->log_iter = malloc(((size_t)p->log_points + 3) * sizeof *r->log_iter);
  if (!r->cond || !r->seps || !tmp || !r->log_iter) {
    free(tmp);
    results_free(r);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  memcpy(r->seps, p->sep, p->n_sep * sizeof *r->seps);
  r->log_iter[n++] = 0;
  for (i = 0; i < (size_t)p->log_points; i++) {
    long v = (long)floor(pow((double)p->T, (double)i / (double)(p->log_points - 1)) + 0.5);
    if (v < 1)
      v = 1;
    if (v > p->T)
      v = p->T;
    if (v > r->log_iter[n - 1])
      r->log_iter[n++] = v;
  }
  if (r->log_iter[n - 1] != p->T)
    r->log_iter[n++] = p->T;
  free(tmp);
  r->n_log = n;
  /* conditions: reference fastest, then wavelength, contrast, noise; the
   * separation slowest, so a group (all but separation) is i mod n_groups */
  i = 0;
  for (e = 0; e < p->n_sep; e++)
    for (d = 0; d < p->n_noise; d++)
      for (c = 0; c < p->n_con; c++)
        for (b = 0; b < p->n_wl; b++)
          for (a = 0; a < p->n_ref; a++, i++) {
            plx_pl_condition *q = &r->cond[i];
            q->ref_deg = p->ref[a];
            q->sep_deg = p->sep[e];
            q->wavelength = p->wl[b];
            q->contrast = p->con[c];
            q->noise_sd = p->noise[d];
            q->i_ref = a;
            q->i_sep = e;
            q->i_wl = b;
            q->i_con = c;
            q->i_noise = d;
            q->group = i % r->n_groups;
          }
  r->acc = calloc(r->n_cond * PLX_PL_N_TESTS * r->n_log, sizeof *r->acc);
  r->acc_sep = calloc(r->n_cond * PLX_PL_N_TESTS * r->n_sep, sizeof *r->acc_sep);
  r->loss = calloc(r->n_cond * (size_t)p->T, sizeof *r->loss);
  r->n_wl = p->n_wl_layers;
  r->wl_name = calloc(r->n_wl, sizeof *r->wl_name);
  r->change = calloc(r->n_cond * r->n_wl * PLX_PL_N_CHANGE * (size_t)(p->T + 1),
                     sizeof *r->change);
  r->psi = calloc(r->n_cond * r->n_wl, sizeof *r->psi);
  r->n_freeze = p->n_freeze;
  r->freeze_threshold = p->freeze_threshold;
  r->freeze_depth = calloc(p->n_freeze + 1, sizeof *r->freeze_depth);
  r->t95 = calloc(r->n_cond, sizeof *r->t95);
  r->freeze_acc = calloc(r->n_cond * p->n_freeze + 1, sizeof *r->freeze_acc);
  if (!r->acc || !r->acc_sep || !r->loss || !r->wl_name || !r->change || !r->psi ||
      !r->freeze_depth || !r->t95 || !r->freeze_acc) {
    results_free(r);
    return plx_error_set(err, PLX_ENOMEM, "out of memory (%zu conditions x %ld iterations)",
                         n_conditions(p), p->T);
  }
  if (!p->transfer)
    for (i = 0; i < r->n_cond * PLX_PL_N_TESTS * r->n_log; i++)
      r->acc[i] = NAN;
  for (i = 0; i < r->n_cond * PLX_PL_N_TESTS * r->n_sep; i++)
    r->acc_sep[i] = NAN;
  memcpy(r->freeze_depth, p->freeze_depth, p->n_freeze * sizeof(long));
  for (li = 0, i = 0; li < p->net->n_layers; li++)
    if (p->net->layers[li].n_w)
      snprintf(r->wl_name[i++], 32, "%s", p->net->layers[li].name);
  r->units = p->units;
  r->smooth_deg = p->smooth;
  r->min_activation = p->min_act;
  r->fi_window = p->window;
  if (p->units) {
    r->n_pl = p->n_probe;
    r->n_ori = (size_t)p->n_ori;
    r->high_from = p->n_probe - (size_t)p->high;
    r->pl_name = calloc(r->n_pl, sizeof *r->pl_name);
    r->n_units = calloc(r->n_pl, sizeof *r->n_units);
    r->naive = calloc(r->n_pl, sizeof *r->naive);
    r->trained = calloc(r->n_cond * r->n_pl, sizeof *r->trained);
    r->fi_naive = calloc(r->n_pl * r->n_ori, sizeof *r->fi_naive);
    r->fi_trained = calloc(r->n_cond * r->n_pl * r->n_ori, sizeof *r->fi_trained);
    if (!r->pl_name || !r->n_units || !r->naive || !r->trained || !r->fi_naive ||
        !r->fi_trained) {
      results_free(r);
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    }
    for (li = 0; li < r->n_pl; li++) {
      const plx_layer *l = &p->net->layers[p->probe[li]];
      snprintf(r->pl_name[li], 32, "%s", l->name);
      r->n_units[li] = l->out_c;
      if (plx_tuning_alloc(&r->naive[li], l->out_c, r->n_ori)) {
        results_free(r);
        return plx_error_set(err, PLX_ENOMEM, "out of memory");
      }
      for (i = 0; i < r->n_cond; i++)
        if (plx_tuning_alloc(&r->trained[i * r->n_pl + li], l->out_c, r->n_ori)) {
          results_free(r);
          return plx_error_set(err, PLX_ENOMEM, "out of memory (tuning curves)");
        }
    }
  }
  *out = r;
  return PLX_OK;
}

/* ------------------------------------------------------------------- run */

typedef struct mctx {
  const plx_perceptual_opts *op;
  const pl *p;
  const plx_pl_results *r;
  double seconds;
  int threads;
} mctx;

/* every effect with mean, sem, z, n and what n counts */
static void manifest_effects(plx_jw *w, const plx_pl_results *r)
{
  size_t i;
  plx_jw_object_begin(w, "effects");
  for (i = 0; i < PLX_PL_N_EFFECTS; i++) {
    plx_jw_object_begin(w, r->effects[i].name);
    plx_jw_number(w, "mean", r->effects[i].mean);
    plx_jw_number(w, "sem", r->effects[i].sem);
    plx_jw_number(w, "z", r->effects[i].z);
    plx_jw_int(w, "n", (long long)r->effects[i].n);
    plx_jw_string(w, "over", r->effects[i].over);
    plx_jw_object_end(w);
  }
  plx_jw_object_end(w);
}

static void manifest(plx_jw *w, void *vc)
{
  mctx *c = vc;
  plx_manifest_invocation(w, "run", c->op->config, c->op->overrides, c->op->n_overrides);
  plx_jw_string(w, "experiment", c->p->name);
  plx_jw_int(w, "seed", (long long)c->p->seed);
  plx_jw_string(w, "task", "perceptual_learning");
  plx_jw_string(w, "rule", c->p->np ? "node_perturbation" : "gradient (backpropagation, "
                "SGD with momentum)");
  plx_jw_string(w, "pretrained", c->p->pretrained[0] ? c->p->pretrained : "");
  plx_jw_int(w, "parameters", (long long)plx_deepnet_params(c->p->net));
  plx_jw_int(w, "conditions", (long long)c->r->n_cond);
  plx_jw_int(w, "threads", c->threads);
  plx_jw_number(w, "final_accuracy", c->op->final_accuracy);
  manifest_effects(w, c->r);
  plx_manifest_total_and_environment(w, c->seconds);
}

/* the summary for the caller: final accuracy on the trained stimuli (mean
 * over conditions), the number of conditions, the effects */
static void summarise(plx_perceptual_opts *op, const plx_pl_results *r)
{
  double a = 0;
  size_t i;
  for (i = 0; i < r->n_cond; i++)
    a += PLX_PL_ACC(r, i, PLX_PL_TEST_TRAINED, r->n_log - 1);
  op->final_accuracy = a / (double)r->n_cond;
  op->n_conditions = r->n_cond;
  memcpy(op->effects, r->effects, sizeof op->effects);
}

static int perceptual_run(plx_perceptual_opts *op, plx_error *err)
{
  pl *p = NULL;
  plx_pl_results *r = NULL;
  plx_rundir *rd = NULL;
  worker *ws = NULL;
  int *wrc = NULL;
  plx_error *werr = NULL;
  shared sh = {0};
  double t0 = plx_clock_seconds();
  char outdir[1200], buf[4400];
  int rc, nt = op->threads, fail = 0;
  size_t i;
  mctx mc;

  if ((rc = pl_load(&p, op, err)))
    return rc;
  if ((rc = results_new(&r, p, err)))
    goto done;
  nt = plx_team_size(nt, r->n_cond);
  ws = calloc((size_t)nt, sizeof *ws);
  wrc = calloc(r->n_cond, sizeof *wrc);
  werr = calloc(r->n_cond, sizeof *werr);
  if (!ws || !wrc || !werr) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  for (i = 0; i < (size_t)nt; i++)
    if ((rc = worker_init(&ws[i], p, err)))
      goto done;
  /* the output directory is checked before the work */
  snprintf(outdir, sizeof outdir, "%s", op->out ? op->out : "");
  if (!op->out)
    snprintf(outdir, sizeof outdir, "runs/%s", p->name);
  {
    const char *in = p->pretrained;
    if ((rc = plx_rundir_not_input(outdir, &in, 1, err)) ||
        (rc = plx_rundir_open(&rd, outdir, p->formats, err)))
      goto done;
  }
  snprintf(op->out_used, sizeof op->out_used, "%s", outdir);
  if (op->watch)
    *op->watch = rd;
  if ((rc = plx_rundir_copy(rd, op->config, "config.cfg", err)) ||
      (rc = plx_config_write(p->cfg, plx_rundir_file(rd, "config.resolved.cfg", buf,
                                                     sizeof buf), err)))
    goto done;
  /* naive tuning: the initial network, the same noisy images as after
   * training */
  if (p->units) {
    plx_tuning_probe pr;
    if (op->prog && op->prog->fn)
      op->prog->fn(op->prog->ctx, "naive", 0.0);
    pr.layers = p->probe;
    pr.n_layers = p->n_probe;
    pr.n_ori = (size_t)p->n_ori;
    pr.repeats = (size_t)p->repeats;
    pr.ridge = p->ridge;
    pr.min_activation = p->min_act;
    pr.seed = p->seed;
    pr.trial = 0;
    if ((rc = plx_tuning_measure(ws[0].net, &pr, &p->probe_stim, ws[0].rng, ws[0].x,
                                 ws[0].dx, r->naive, r->fi_naive, err)))
      goto done;
  }
  sh.p = p;
  sh.r = r;
  sh.op = op;
  sh.trained = NULL;
  if (p->save_weights) {
    if (!(sh.trained = calloc(r->n_cond, sizeof *sh.trained))) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
      goto done;
    }
    for (i = 0; i < r->n_cond; i++)
      if (!(sh.trained[i] = plx_deepnet_weights_new(p->net))) {
        rc = plx_error_set(err, PLX_ENOMEM, "out of memory (output.save_weights: %zu "
                           "networks)", r->n_cond);
        goto done;
      }
  }
  sh.progress.prog = op->prog;
  sh.progress.stage = "train";
  sh.progress.done = 0;
  sh.progress.total = (long)r->n_cond * p->T * (1 + (long)p->n_freeze);
  if (op->prog && op->prog->fn)
    op->prog->fn(op->prog->ctx, "train", 0.0);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (long ci = 0; ci < (long)r->n_cond; ci++) {
    int tid = 0;
#ifdef _OPENMP
    tid = omp_get_thread_num();
#endif
    wrc[ci] = run_condition(&sh, &ws[tid], (size_t)ci, &werr[ci]);
  }
  for (i = 0; i < r->n_cond && !fail; i++)
    if (wrc[i]) {
      rc = wrc[i];
      *err = werr[i];
      fail = 1;
    }
  if (fail)
    goto done;
  if (op->prog && op->prog->fn)
    op->prog->fn(op->prog->ctx, "train", 1.0);
  plx_pl_effects(r);
  summarise(op, r);
  if ((rc = plx_pl_write(r, rd, err)))
    goto done;
  if ((rc = plx_deepnet_save(p->net, plx_rundir_h5(rd), "/weights/initial", err)))
    goto done;
  if (sh.trained)
    for (i = 0; i < r->n_cond; i++) {
      char g[64];
      snprintf(g, sizeof g, "/weights/condition_%04zu", i);
      plx_deepnet_weights_set(p->net, sh.trained[i]);
      if ((rc = plx_deepnet_save(p->net, plx_rundir_h5(rd), g, err)))
        goto done;
    }
  op->seconds = plx_clock_seconds() - t0;
  snprintf(op->summary, sizeof op->summary,
           "%zu conditions, final accuracy %.3f (trained stimuli, mean), %.0f s on %d "
           "threads", r->n_cond, op->final_accuracy, op->seconds, nt);
  mc.op = op;
  mc.p = p;
  mc.r = r;
  mc.seconds = op->seconds;
  mc.threads = nt;
  if (op->watch)
    *op->watch = NULL;
  rc = plx_rundir_commit(rd, manifest, &mc, err);
  rd = NULL;
done:
  if (op->watch)
    *op->watch = NULL;
  if (rd)
    plx_rundir_abort(rd);
  if (sh.trained)
    for (i = 0; i < r->n_cond; i++)
      plx_deepnet_weights_free(sh.trained[i]);
  free(sh.trained);
  if (ws)
    for (i = 0; i < (size_t)nt; i++)
      worker_free(&ws[i]);
  free(ws);
  free(wrc);
  free(werr);
  results_free(r);
  pl_free(p);
  return rc;
}

/* the entry point: the run with OpenBLAS single-threaded (plastix/blas_threads.h) */
int plx_perceptual_run(plx_perceptual_opts *op, plx_error *err)
{
  int rc;
  plx_blas_serial_enter();
  rc = perceptual_run(op, err);
  plx_blas_serial_leave();
  return rc;
}

/* ---------------------------------------------------------------- report */

/* The keys a report may change: each only reduces what the run stored.
 * (units.min_activation also selects the units of the layer Fisher
 * information, which is measured during the run: a report keeps the run's.) */
static const char *const report_keys[] = {"units.min_activation", "units.high_layers",
                                          "units.smooth_deg",     "units.window_deg",
                                          "train.psi_window",     "test.early_iteration",
                                          "output.figures",       NULL};

/* n values of dataset `path` of the source run into dst */
static int read_stored(plx_h5 *h, const char *src, const char *path, double *dst, size_t n,
                       plx_error *err)
{
  double *buf = NULL;
  size_t dims[PLX_H5_MAX_RANK], total = 1;
  int rank, k, rc;
  plx_error e2;
  if (!plx_h5_exists(h, path))
    return plx_error_set(err, PLX_EINVAL, "%s: no dataset %s (not a complete perceptual "
                         "run?)", src, path);
  if ((rc = plx_h5_read_array(h, path, &buf, &rank, dims, &e2)))
    return plx_error_set(err, rc, "%s", e2.msg);
  for (k = 0; k < rank; k++)
    total *= dims[k];
  if (total != n) {
    free(buf);
    return plx_error_set(err, PLX_EINVAL, "%s: %s has %zu values, the run's config needs %zu",
                         src, path, total, n);
  }
  memcpy(dst, buf, n * sizeof *dst);
  free(buf);
  return PLX_OK;
}

/* every measurement of the run into r (laid out by results_new) */
static int read_run(plx_pl_results *r, const pl *p, plx_h5 *h, const char *src, plx_error *err)
{
  const size_t NC = r->n_cond;
  char path[300];
  size_t c, l;
  int rc;
  if ((rc = read_stored(h, src, "/perceptual/behaviour/accuracy", r->acc,
                        NC * PLX_PL_N_TESTS * r->n_log, err)) ||
      (rc = read_stored(h, src, "/perceptual/behaviour/accuracy_by_test_separation",
                        r->acc_sep, NC * PLX_PL_N_TESTS * r->n_sep, err)) ||
      (rc = read_stored(h, src, "/perceptual/train/loss", r->loss, NC * (size_t)r->T, err)) ||
      (rc = read_stored(h, src, "/perceptual/layers/change", r->change,
                        NC * r->n_wl * PLX_PL_N_CHANGE * (size_t)(r->T + 1), err)))
    return rc;
  /* peak-speed iterations from the stored change, with this train.psi_window */
  for (c = 0; c < NC; c++)
    for (l = 0; l < r->n_wl; l++)
      r->psi[c * r->n_wl + l] = (double)plx_pl_peak_speed(
          &PLX_PL_CHANGE(r, c, l, PLX_PL_REL1, 0), r->T, p->psi_window);
  for (c = 0; c < NC; c++)
    r->t95[c] = t95_of(r, c, p->freeze_threshold);
  if (r->n_freeze && (rc = read_stored(h, src, "/perceptual/freeze/accuracy", r->freeze_acc,
                                       NC * r->n_freeze, err)))
    return rc;
  if (!r->units)
    return PLX_OK;
  for (l = 0; l < r->n_pl; l++) {
    static const char *const field[3] = {"mean", "var", "grad"};
    for (c = 0; c <= NC; c++) {
      /* c == NC: the naive network */
      plx_tuning *t = c == NC ? &r->naive[l] : &r->trained[c * r->n_pl + l];
      double *dst[3] = {t->mean, t->var, t->grad};
      int f;
      for (f = 0; f < 3; f++) {
        if (c == NC)
          snprintf(path, sizeof path, "/perceptual/units/naive/%s/%s", r->pl_name[l],
                   field[f]);
        else
          snprintf(path, sizeof path, "/perceptual/units/trained/%04zu/%s/%s", c,
                   r->pl_name[l], field[f]);
        if ((rc = read_stored(h, src, path, dst[f], t->n_units * t->n_ori, err)))
          return rc;
      }
    }
  }
  if ((rc = read_stored(h, src, "/perceptual/units/fisher_naive", r->fi_naive,
                        r->n_pl * r->n_ori, err)))
    return rc;
  return read_stored(h, src, "/perceptual/units/fisher_trained", r->fi_trained,
                     NC * r->n_pl * r->n_ori, err);
}

typedef struct rctx {
  mctx m;
  const char *src;
} rctx;

static void report_manifest(plx_jw *w, void *vc)
{
  rctx *c = vc;
  plx_manifest_invocation(w, "report", c->src, c->m.op->overrides, c->m.op->n_overrides);
  plx_jw_string(w, "report_of", c->src);
  plx_jw_string(w, "experiment", c->m.p->name);
  plx_jw_int(w, "seed", (long long)c->m.p->seed);
  plx_jw_string(w, "task", "perceptual_learning");
  plx_jw_int(w, "conditions", (long long)c->m.r->n_cond);
  plx_jw_number(w, "final_accuracy", c->m.op->final_accuracy);
  manifest_effects(w, c->m.r);
  plx_manifest_total_and_environment(w, c->m.seconds);
}

/* A finished run, loaded back: its config (with the analysis overrides
 * of op, which are checked against report_keys), its network as it
 * started, and every measurement, reduced into effects. */
static int load_stored_run(const char *src, const plx_perceptual_opts *op, pl **pout,
                           plx_pl_results **rout, plx_error *err)
{
  char cfg[1200], h5[1200];
  const char **ov = NULL;
  plx_perceptual_opts o2 = *op;
  pl *p = NULL;
  plx_pl_results *r = NULL;
  plx_h5 *h = NULL;
  plx_error e2;
  size_t i, k;
  int rc;
  *pout = NULL;
  *rout = NULL;
  for (i = 0; i < op->n_overrides; i++) {
    const char *eq = strchr(op->overrides[i], '=');
    size_t len = eq ? (size_t)(eq - op->overrides[i]) : strlen(op->overrides[i]);
    for (k = 0; report_keys[k]; k++)
      if (strlen(report_keys[k]) == len && !strncmp(report_keys[k], op->overrides[i], len))
        break;
    if (!report_keys[k])
      return plx_error_set(err, PLX_EINVAL,
                           "--set %.*s: a report can change only units.min_activation, "
                           "units.high_layers, units.smooth_deg, units.window_deg, "
                           "train.psi_window, test.early_iteration and output.figures (the "
                           "other keys need the run again: plastix run)",
                           (int)len, op->overrides[i]);
  }
  snprintf(cfg, sizeof cfg, "%s/config.resolved.cfg", src);
  snprintf(h5, sizeof h5, "%s/results.h5", src);
  if (access(cfg, R_OK) || access(h5, R_OK))
    return plx_error_set(err, PLX_EINVAL, "%s: not a run directory (expected "
                         "config.resolved.cfg and results.h5 in it)", src);
  if (!plx_perceptual_is(cfg))
    return plx_error_set(err, PLX_EINVAL, "%s: a report re-reduces perceptual_learning runs; "
                         "this run's task.type is another", src);
  /* the network as the run started: the source run's /weights/initial */
  if (!(ov = malloc((op->n_overrides + 2) * sizeof *ov)))
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  ov[0] = "model.pretrained=\"results.h5\"";
  ov[1] = "model.pretrained_group=\"/weights/initial\"";
  for (i = 0; i < op->n_overrides; i++)
    ov[2 + i] = op->overrides[i];
  o2.config = cfg;
  o2.overrides = ov;
  o2.n_overrides = op->n_overrides + 2;
  if ((rc = pl_load(&p, &o2, err)) || (rc = results_new(&r, p, err)))
    goto done;
  if ((rc = plx_h5_open(&h, h5, 0, &e2))) {
    rc = plx_error_set(err, rc, "%s", e2.msg);
    goto done;
  }
  if ((rc = read_run(r, p, h, h5, err)))
    goto done;
  plx_pl_effects(r);
done:
  plx_h5_close(h);
  free(ov);
  if (rc) {
    results_free(r);
    pl_free(p);
    return rc;
  }
  *pout = p;
  *rout = r;
  return PLX_OK;
}

int plx_perceptual_report(plx_perceptual_opts *op, plx_error *err)
{
  const char *src = op->config;
  char orig[1200], outdir[1300], buf[1400];
  pl *p = NULL;
  plx_pl_results *r = NULL;
  plx_rundir *rd = NULL;
  double t0 = plx_clock_seconds();
  int rc;
  rctx rc_ctx;
  if (op->out)
    snprintf(outdir, sizeof outdir, "%s", op->out);
  else {
    size_t n = strlen(src);
    while (n > 1 && src[n - 1] == '/')
      n--;
    snprintf(outdir, sizeof outdir, "%.*s-report", (int)n, src);
  }
  if ((rc = plx_rundir_not_input(outdir, &src, 1, err)) ||
      (rc = load_stored_run(src, op, &p, &r, err)))
    return rc;
  summarise(op, r);
  snprintf(orig, sizeof orig, "%s/config.cfg", src);
  if ((rc = plx_rundir_open(&rd, outdir, p->formats, err)))
    goto done;
  snprintf(op->out_used, sizeof op->out_used, "%s", outdir);
  if (op->watch)
    *op->watch = rd;
  if ((!access(orig, R_OK) && (rc = plx_rundir_copy(rd, orig, "config.cfg", err))) ||
      (rc = plx_config_write(p->cfg, plx_rundir_file(rd, "config.resolved.cfg", buf,
                                                     sizeof buf), err)) ||
      (rc = plx_pl_write(r, rd, err)) ||
      (rc = plx_deepnet_save(p->net, plx_rundir_h5(rd), "/weights/initial", err)))
    goto done;
  op->seconds = plx_clock_seconds() - t0;
  snprintf(op->summary, sizeof op->summary,
           "report of %s: %zu conditions, final accuracy %.3f (trained stimuli, mean)", src,
           r->n_cond, op->final_accuracy);
  rc_ctx.m.op = op;
  rc_ctx.m.p = p;
  rc_ctx.m.r = r;
  rc_ctx.m.seconds = op->seconds;
  rc_ctx.m.threads = 1;
  rc_ctx.src = src;
  if (op->watch)
    *op->watch = NULL;
  rc = plx_rundir_commit(rd, report_manifest, &rc_ctx, err);
  rd = NULL;
done:
  if (op->watch)
    *op->watch = NULL;
  if (rd)
    plx_rundir_abort(rd);
  results_free(r);
  pl_free(p);
  return rc;
}

/* ------------------------------------------------- effects over several runs */

/* effect k of every run: n_runs runs' means, and their statistics */
typedef struct over_runs {
  const char *const *runs;
  size_t n_runs;
  const plx_pl_effect *by_run;     /* [n_runs][PLX_PL_N_EFFECTS] */
  plx_pl_effect over[PLX_PL_N_EFFECTS]; /* mean, sem, t (in z) over runs; n runs */
  size_t positive[PLX_PL_N_EFFECTS];
  double p[PLX_PL_N_EFFECTS];      /* one-sided, Student's t with n - 1 df */
  double seconds;
  const plx_perceptual_opts *op;
} over_runs;

static void over_runs_stats(over_runs *o, double *v)
{
  size_t k, j;
  for (k = 0; k < PLX_PL_N_EFFECTS; k++) {
    const plx_pl_effect *e = &o->over[k];
    o->positive[k] = 0;
    for (j = 0; j < o->n_runs; j++) {
      const plx_pl_effect *x = &o->by_run[j * PLX_PL_N_EFFECTS + k];
      v[j] = x->n ? x->mean : NAN;
      o->positive[k] += v[j] > 0;
    }
    plx_pl_effect_from(&o->over[k], o->by_run[k].name, "runs", v, o->n_runs);
    o->p[k] = e->n < 2 || isnan(e->z) ? NAN
              : isinf(e->z)           ? (e->z > 0 ? 0.0 : 1.0)
                                      : gsl_cdf_tdist_Q(e->z, (double)(e->n - 1));
  }
}

static void over_runs_manifest(plx_jw *w, void *vc)
{
  over_runs *o = vc;
  size_t j, k;
  plx_manifest_invocation(w, "report", o->runs[0], o->op->overrides, o->op->n_overrides);
  plx_jw_array_begin(w, "report_of");
  for (j = 0; j < o->n_runs; j++)
    plx_jw_string(w, NULL, o->runs[j]);
  plx_jw_array_end(w);
  plx_jw_string(w, "task", "perceptual_learning");
  plx_jw_object_begin(w, "effects_over_runs");
  for (k = 0; k < PLX_PL_N_EFFECTS; k++) {
    plx_jw_object_begin(w, o->over[k].name);
    plx_jw_number(w, "mean", o->over[k].mean);
    plx_jw_number(w, "sem", o->over[k].sem);
    plx_jw_number(w, "t", o->over[k].z);
    plx_jw_number(w, "p_one_sided", o->p[k]);
    plx_jw_int(w, "runs", (long long)o->over[k].n);
    plx_jw_int(w, "runs_positive", (long long)o->positive[k]);
    plx_jw_object_end(w);
  }
  plx_jw_object_end(w);
  plx_manifest_total_and_environment(w, o->seconds);
}

/* Runs reported together must share their design: every key of their
 * configs (after this report's analysis overrides) but the seed, the
 * name, the pretrained network they started from, the reference
 * orientations (each run's effect is its mean over its own references,
 * the nuisance variable its conditions sample) and the output formats.
 * Otherwise their effects are not replicates of one experiment. */
static int same_design(const pl *a, const pl *b, plx_error *err)
{
  static const char *const may_differ[] = {"experiment.seed", "experiment.name",
                                           "model.pretrained", "model.pretrained_group",
                                           "stimulus.reference_orientations", "output",
                                           NULL};
  return plx_config_same_design(a->cfg, b->cfg, may_differ,
                                "; an analysis key can be made equal with --set", err);
}

int plx_perceptual_report_runs(plx_perceptual_opts *op, const char *const *runs, size_t n_runs,
                               plx_error *err)
{
  static const char *const nb[] = {"run", "effect", "over", "n", "mean", "sem", "z"};
  static const char *const no[] = {"effect", "runs", "mean", "sem", "t", "p_one_sided",
                                   "runs_positive"};
  plx_pl_effect *by_run;
  double *means;
  plx_deepnet_weights **w0 = NULL;
  uint64_t *seed = NULL;
  pl *first = NULL;
  over_runs o;
  plx_rundir *rd = NULL;
  plx_table *tb = NULL, *to = NULL;
  double t0 = plx_clock_seconds();
  size_t j, k;
  int rc = PLX_OK;
  if (n_runs == 1) {
    op->config = runs[0];
    return plx_perceptual_report(op, err);
  }
  if (n_runs == 0 || !op->out)
    return plx_error_set(err, PLX_EINVAL, "a report of several runs needs -o DIR (the "
                         "directory of the statistics over the runs)");
  if ((rc = plx_rundir_not_input(op->out, runs, n_runs, err)))
    return rc;
  if ((rc = plx_rundir_distinct(runs, n_runs, err)))
    return rc;
  by_run = calloc(n_runs * PLX_PL_N_EFFECTS, sizeof *by_run);
  means = malloc(n_runs * sizeof *means);
  w0 = calloc(n_runs, sizeof *w0);
  seed = calloc(n_runs, sizeof *seed);
  if (!by_run || !means || !w0 || !seed) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  for (j = 0; j < n_runs && !rc; j++) {
    pl *p;
    plx_pl_results *r;
    if ((rc = load_stored_run(runs[j], op, &p, &r, err)))
      break;
    memcpy(&by_run[j * PLX_PL_N_EFFECTS], r->effects, sizeof r->effects);
    results_free(r);
    w0[j] = p->w0; /* kept to tell the networks apart */
    p->w0 = NULL;
    seed[j] = p->seed;
    if (j == 0)
      first = p;
    else {
      rc = same_design(first, p, err);
      pl_free(p);
    }
    /* the same starting weights are one network, whatever else (its
       seed, its references, its name) differs: two seeds on one
       pretrained network differ only in their stimulus noise, and
       counting them as two networks would shrink the s.e.m. over
       networks to that noise */
    for (k = 0; k < j && !rc; k++)
      if (plx_deepnet_weights_equal(w0[k], w0[j]))
        rc = plx_error_set(err, PLX_EINVAL, "%s and %s train the same network (the same "
                           "initial weights; experiment.seed %llu and %llu): a report over "
                           "runs needs distinct networks", runs[k], runs[j],
                           (unsigned long long)seed[k], (unsigned long long)seed[j]);
  }
  pl_free(first);
  if (rc)
    goto done;
  memset(&o, 0, sizeof o);
  o.runs = runs;
  o.n_runs = n_runs;
  o.by_run = by_run;
  o.op = op;
  over_runs_stats(&o, means);
  memcpy(op->effects, o.over, sizeof op->effects);
  tb = plx_table_new(7, nb, "sssifff");
  to = plx_table_new(7, no, "siffffi");
  if (!tb || !to) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    goto done;
  }
  plx_table_comment(tb, "each run's effects, as in its tables/effects.csv (reduced again "
                        "with this report's analysis keys)");
  plx_table_comment(to, "each effect over the runs (one value per run: its mean): mean, "
                        "s.e.m., t = mean / sem, one-sided p of Student's t with runs - 1 "
                        "degrees of freedom, runs with a positive mean");
  for (j = 0; j < n_runs; j++)
    for (k = 0; k < PLX_PL_N_EFFECTS; k++) {
      const plx_pl_effect *e = &by_run[j * PLX_PL_N_EFFECTS + k];
      const char *sv[3] = {runs[j], e->name, e->over};
      double v[4] = {(double)e->n, e->mean, e->sem, e->z};
      plx_table_append(tb, sv, v);
    }
  for (k = 0; k < PLX_PL_N_EFFECTS; k++) {
    const char *sv[1] = {o.over[k].name};
    double v[6] = {(double)o.over[k].n, o.over[k].mean, o.over[k].sem, o.over[k].z, o.p[k],
                   (double)o.positive[k]};
    plx_table_append(to, sv, v);
  }
  if ((rc = plx_rundir_open(&rd, op->out, 0, err)))
    goto done;
  snprintf(op->out_used, sizeof op->out_used, "%s", op->out);
  if (op->watch)
    *op->watch = rd;
  if ((rc = plx_rundir_table(rd, "effects_by_run", tb, err)) ||
      (rc = plx_rundir_table(rd, "effects_over_runs", to, err)))
    goto done;
  o.seconds = op->seconds = plx_clock_seconds() - t0;
  snprintf(op->summary, sizeof op->summary, "report of %zu runs: effects over runs (mean, "
           "sem, t over the runs' means)", n_runs);
  if (op->watch)
    *op->watch = NULL;
  rc = plx_rundir_commit(rd, over_runs_manifest, &o, err);
  rd = NULL;
done:
  if (op->watch)
    *op->watch = NULL;
  if (rd)
    plx_rundir_abort(rd);
  plx_table_free(tb);
  plx_table_free(to);
  for (j = 0; w0 && j < n_runs; j++)
    plx_deepnet_weights_free(w0[j]);
  free(w0);
  free(seed);
  free(by_run);
  free(means);
  return rc;
}
