/* orientation.c -- the supervised orientation experiment (Benjamin et al.
 * 2022, Fig. 6): fresh batches of masked gratings with orientations from a
 * prior on [0, pi) and phases uniform in [0, phase_max); labels are 3-degree
 * bins, dropped with probability 1 - sigma(theta); SGD on the softmax
 * cross-entropy; every log_every steps the sensitivity of a layer to
 * orientation (forward-mode, averaged over phases) and the per-bin accuracy
 * on a fixed clean set.  Writes a run directory like `plastix run`. */
#include "config.h"
#include "plastix/orientation.h"
#include "plastix/blas_threads.h"
#include "plastix/clock.h"
#include "plastix/deepnet.h"
#include "plastix/deepnet_train.h"
#include "plastix/error.h"
#include "plastix/images2d.h"
#include "plastix/rundir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PRIOR_UNIFORM, PRIOR_SKEWED };
enum { NOISE_NONE, NOISE_BALANCED, NOISE_REFERENCE, NOISE_COSINE };

static const plx_param_spec exp_spec[] = {
    PLX_P_STRING("name", "orientation", NULL, "name used for the run directory"),
    PLX_P_INT_MIN("seed", 1, 0, "master seed"),
    PLX_P_STRING("description", "", NULL, "free text, copied to the manifest"),
    PLX_P_END};

static const plx_param_spec stim_spec[] = {
    PLX_P_STRING("type", "masked_grating", "masked_grating", "stimulus family"),
    PLX_P_INT_RANGE("size", 64, 4, 1024, "image side in pixels"),
    PLX_P_FLOAT_MIN("period", 12.6, 0.0, PLX_PARAM_MIN_EXCL,
                    "pixels per cycle (reference code 12.6, paper 12.8)"),
    PLX_P_FLOAT("contrast", 1.0, "amplitude of the sinusoid"),
    PLX_P_FLOAT("offset", 0.0, "added to every pixel"),
    PLX_P_FLOAT("mask_radius", 30.0, "soft circular mask radius in pixels (0: none)"),
    PLX_P_FLOAT_MIN("mask_blur", 2.0, 0.0, 0, "s.d. of the Gaussian softening the mask edge"),
    PLX_P_FLOAT_RANGE("phase_max", M_PI, 0.0, 2 * M_PI, PLX_PARAM_MIN_EXCL,
                      "phases are uniform in [0, phase_max) (reference: pi)"),
    PLX_P_END};

static const plx_param_spec prior_spec[] = {
    PLX_P_STRING("type", "uniform", "uniform|skewed",
                 "orientation prior on [0, pi): uniform or (2 - cos 2 theta)/(2 pi), "
                 "common at 90 degrees"),
    PLX_P_END};

static const plx_param_spec label_spec[] = {
    PLX_P_INT_RANGE("bins", 60, 2, 3600, "orientation classes (60: 3 degrees)"),
    PLX_P_STRING("noise", "none", "none|balanced|balanced_reference|cosine",
                 "label dropout: none; balanced sigma = H_b^-1(1 - a/p); the "
                 "reference code's 1.3 (1 - a/p); cosine: kept with probability "
                 "1 - depth sin^2(theta) (clean at 0, noisiest at 90 degrees)"),
    PLX_P_FLOAT_RANGE("depth", 0.7, 0.0, 1.0, 0, "cosine: dropout at 90 degrees"),
    PLX_P_FLOAT_RANGE("information", 0.15, 0.0, 1.0, PLX_PARAM_MIN_EXCL,
                      "a: p(theta) I[y|theta] = a for every theta"),
    PLX_P_STRING("noise_prior", "stimulus", "stimulus|skewed|uniform",
                 "the p(theta) in sigma(theta): the stimulus prior, or another "
                 "profile (skewed with a uniform stimulus prior: noise that "
                 "varies with orientation, Fig. 6b)"),
    PLX_P_END};

static const plx_param_spec model_spec[] = {
    {"type", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, "deepnet", NULL,
     "deepnet"},
    PLX_P_LIST("layers", plx_layer_spec, "layers in order (see plastix list keys)"),
    PLX_P_FLOAT_MIN("init_scale", 0.1, 0.0, PLX_PARAM_MIN_EXCL,
                    "default (PyTorch) initialisation times this (reference: 0.1)"),
    PLX_P_END};

static const plx_param_spec task_spec[] = {
    {"type", PLX_PARAM_STRING, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, "orientation", NULL,
     "orientation: classify the grating's orientation bin"},
    PLX_P_END};

static const plx_param_spec train_spec[] = {
    PLX_P_STRING("rule", "gradient", "gradient|node_perturbation|trifactor",
                 "gradient: backpropagation, SGD; node_perturbation: N(0, "
                 "sigma^2) noise on every pre-activation correlated with the "
                 "loss change it causes (against a clean pass); trifactor: not "
                 "applicable to deterministic layers (an error says so)"),
    PLX_P_FLOAT_MIN("sigma", 0.1, 0.0, PLX_PARAM_MIN_EXCL,
                    "node_perturbation: s.d. of the injected noise"),
    PLX_P_INT_MIN("steps", 300, 1, "SGD steps, each on a fresh batch"),
    PLX_P_INT_RANGE("batch", 2048, 1, 1000000, "stimuli per step"),
    PLX_P_FLOAT_MIN("lr", 0.5, 0.0, PLX_PARAM_MIN_EXCL, "learning rate"),
    PLX_P_FLOAT_MIN("decay", 0.0, 0.0, 0, "weight decay"),
    PLX_P_INT_MIN("log_every", 10, 1, "steps between probes"),
    PLX_P_END};

static const plx_param_spec probe_spec[] = {
    PLX_P_STRING("layer", "", NULL, "layer whose sensitivity is logged (default: the first relu)"),
    PLX_P_INT_RANGE("orientations", 60, 4, 3600, "orientations of the sensitivity probe"),
    PLX_P_INT_RANGE("phases", 11, 1, 1000, "phases averaged over, uniform in [0, phase_max)"),
    PLX_P_INT_RANGE("eval_phases", 8, 1, 1000, "phases per bin of the accuracy set"),
    PLX_P_END};

static const plx_param_spec output_spec[] = {
    {"figures", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, "png|svg", NULL,
     "figure formats (default [\"png\"])"},
    PLX_P_END};

static const plx_param_spec root_spec[] = {
    PLX_P_GROUP("experiment", exp_spec, "name, seed"),
    PLX_P_GROUP("stimulus", stim_spec, "the gratings"),
    PLX_P_GROUP("prior", prior_spec, "orientation prior"),
    PLX_P_GROUP("labels", label_spec, "classes and label dropout"),
    PLX_P_GROUP("model", model_spec, "the network"),
    PLX_P_GROUP("task", task_spec, "task.type = \"orientation\""),
    PLX_P_GROUP("train", train_spec, "SGD"),
    PLX_P_GROUP("probe", probe_spec, "sensitivity and accuracy probes"),
    PLX_P_GROUP("output", output_spec, "figures"),
    PLX_P_END};

typedef struct orient {
  plx_config *cfg;
  const plx_params *root;
  char name[128];
  uint64_t seed;
  plx_grating2d g;
  double phase_max;
  int prior, noise, noise_prior;
  size_t bins;
  double a, depth;
  plx_deepnet *net;
  double init_scale;
  long steps, batch, log_every;
  double lr, decay, np_sigma;
  int np; /* node perturbation instead of backpropagation */
  int probe_layer;
  size_t probe_t, probe_p, eval_p;
  unsigned formats;
} orient;

int plx_orientation_is(const char *path)
{
  return plx_config_task_is(path, "orientation");
}

static double density(int prior, double th)
{
  return prior == PRIOR_SKEWED ? (2.0 - cos(2.0 * th)) / (2.0 * M_PI) : 1.0 / M_PI;
}

/* probability that a label is kept */
static double keep(const orient *o, double th)
{
  double p, r;
  if (o->noise == NOISE_NONE)
    return 1.0;
  if (o->noise == NOISE_COSINE)
    return 1.0 - o->depth * sin(th) * sin(th);
  p = density(o->noise_prior < 0 ? o->prior : o->noise_prior, th);
  r = o->a / p;
  if (o->noise == NOISE_REFERENCE) {
    double s = 1.3 * (1.0 - r);
    return s > 1 ? 1.0 : (s < 0 ? 0.0 : s);
  }
  return plx_inverse_binary_entropy(1.0 - r);
}

static double sample_theta(int prior, plx_rng *r)
{
  for (;;) {
    double th = M_PI * plx_rng_uniform(r);
    if (prior == PRIOR_UNIFORM || plx_rng_uniform(r) * 3.0 <= 2.0 - cos(2.0 * th))
      return th;
  }
}

static void orient_free(orient *o)
{
  if (!o)
    return;
  plx_deepnet_free(o->net);
  plx_config_free(o->cfg);
  free(o);
}

static int orient_load(orient **out, const plx_orientation_opts *op, plx_error *err)
{
  orient *o = calloc(1, sizeof *o);
  const plx_params *s, *lb, *m, *t, *pr;
  const char *nz, *np;
  size_t maxb;
  int rc;
  *out = NULL;
  if (!o)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  plx_gsl_quiet();
  if ((rc = plx_config_load(&o->cfg, op->config, op->overrides, op->n_overrides, err)) ||
      (rc = plx_config_bind(o->cfg, NULL, root_spec, NULL, &o->root, err))) {
    orient_free(o);
    return rc;
  }
  snprintf(o->name, sizeof o->name, "%s",
           plx_params_string(plx_params_group(o->root, "experiment"), "name"));
  o->seed = (uint64_t)plx_params_int(plx_params_group(o->root, "experiment"), "seed");
  s = plx_params_group(o->root, "stimulus");
  o->g.size = (size_t)plx_params_int(s, "size");
  o->g.period = plx_params_float(s, "period");
  o->g.contrast = plx_params_float(s, "contrast");
  o->g.offset = plx_params_float(s, "offset");
  o->g.mask_radius = plx_params_float(s, "mask_radius");
  o->g.mask_blur = plx_params_float(s, "mask_blur");
  o->phase_max = plx_params_float(s, "phase_max");
  o->prior = strcmp(plx_params_string(plx_params_group(o->root, "prior"), "type"), "skewed") == 0
                 ? PRIOR_SKEWED : PRIOR_UNIFORM;
  lb = plx_params_group(o->root, "labels");
  o->bins = (size_t)plx_params_int(lb, "bins");
  nz = plx_params_string(lb, "noise");
  o->noise = strcmp(nz, "balanced") == 0 ? NOISE_BALANCED
             : strcmp(nz, "balanced_reference") == 0 ? NOISE_REFERENCE
             : strcmp(nz, "cosine") == 0 ? NOISE_COSINE : NOISE_NONE;
  o->depth = plx_params_float(lb, "depth");
  o->a = plx_params_float(lb, "information");
  np = plx_params_string(lb, "noise_prior");
  o->noise_prior = strcmp(np, "skewed") == 0 ? PRIOR_SKEWED
                   : strcmp(np, "uniform") == 0 ? PRIOR_UNIFORM : -1;
  if ((o->noise == NOISE_BALANCED || o->noise == NOISE_REFERENCE) &&
      o->a / density(o->noise_prior < 0 ? o->prior : o->noise_prior, 0.0) > 1.0) {
    rc = plx_params_error(lb, "information", err, "a = %g exceeds the smallest p(theta) "
                          "= %g: some orientations would need more than 1 bit",
                          o->a, density(o->noise_prior < 0 ? o->prior : o->noise_prior, 0.0));
    orient_free(o);
    return rc;
  }
  t = plx_params_group(o->root, "train");
  if (strcmp(plx_params_string(t, "rule"), "trifactor") == 0) {
    rc = plx_params_error(t, "rule", err,
                          "the tri-factor rule needs stochastic rate units in a "
                          "Langevin steady state (models recurrent_langevin or "
                          "feedforward with mode = \"relax\"); a deterministic "
                          "deepnet's fc and conv layers cannot be driven by it: use "
                          "gradient or node_perturbation");
    orient_free(o);
    return rc;
  }
  o->np = strcmp(plx_params_string(t, "rule"), "node_perturbation") == 0;
  o->np_sigma = plx_params_float(t, "sigma");
  o->steps = plx_params_int(t, "steps");
  o->batch = plx_params_int(t, "batch");
  o->lr = plx_params_float(t, "lr");
  o->decay = plx_params_float(t, "decay");
  o->log_every = plx_params_int(t, "log_every");
  pr = plx_params_group(o->root, "probe");
  o->probe_t = (size_t)plx_params_int(pr, "orientations");
  o->probe_p = (size_t)plx_params_int(pr, "phases");
  o->eval_p = (size_t)plx_params_int(pr, "eval_phases");
  m = plx_params_group(o->root, "model");
  o->init_scale = plx_params_float(m, "init_scale");
  maxb = (size_t)o->batch;
  if (o->probe_t * o->probe_p > maxb)
    maxb = o->probe_t * o->probe_p;
  if (o->bins * o->eval_p > maxb)
    maxb = o->bins * o->eval_p;
  if ((rc = plx_deepnet_new(&o->net, plx_params_group(m, "layers"), 1, o->g.size,
                            o->g.size, maxb, err))) {
    orient_free(o);
    return rc;
  }
  {
    const plx_layer *last = &o->net->layers[o->net->n_layers - 1];
    if (last->out_size != o->bins) {
      rc = plx_params_error(m, "layers", err, "the last layer has %zu outputs but "
                            "labels.bins is %zu", last->out_size, o->bins);
      orient_free(o);
      return rc;
    }
  }
  {
    const char *ln = plx_params_string(pr, "layer");
    size_t i;
    o->probe_layer = -1;
    if (ln[0]) {
      o->probe_layer = plx_deepnet_find(o->net, ln);
      if (o->probe_layer < 0) {
        rc = plx_params_error(pr, "layer", err, "the network has no layer '%s'", ln);
        orient_free(o);
        return rc;
      }
    } else {
      for (i = 0; i < o->net->n_layers && o->probe_layer < 0; i++)
        if (o->net->layers[i].kind == PLX_LAYER_RELU)
          o->probe_layer = (int)i;
      if (o->probe_layer < 0)
        o->probe_layer = 0;
    }
  }
  o->formats = plx_rundir_figure_formats(plx_params_group(o->root, "output"));
  *out = o;
  return PLX_OK;
}

/* sensitivity of the probe layer at each probe orientation (mean over
 * phases of |d y / d theta|^2) */
static void probe_sensitivity(orient *o, float *x, float *dx, double *sens)
{
  const size_t S = o->g.size * o->g.size, T = o->probe_t, P = o->probe_p;
  const plx_layer *l = &o->net->layers[o->probe_layer];
  size_t i, j, u;
  for (i = 0; i < T; i++)
    for (j = 0; j < P; j++) {
      double th = ((double)i + 0.5) * M_PI / (double)T;
      double ph = o->phase_max * (double)j / (double)P;
      plx_grating2d_render(&o->g, th, ph, x + (i * P + j) * S, dx + (i * P + j) * S);
    }
  plx_deepnet_forward(o->net, x, T * P);
  plx_deepnet_jvp(o->net, dx);
  for (i = 0; i < T; i++) {
    double acc = 0;
    for (j = 0; j < P; j++) {
      const float *t = l->tan + (i * P + j) * l->out_size;
      for (u = 0; u < l->out_size; u++)
        acc += (double)t[u] * (double)t[u];
    }
    sens[i] = acc / (double)P;
  }
}

/* per-bin accuracy on a fixed clean set (bin centres, eval_p phases) */
static void probe_accuracy(orient *o, float *x, int *lab, unsigned char *correct, double *acc)
{
  const size_t S = o->g.size * o->g.size, K = o->bins, P = o->eval_p;
  size_t i, j;
  for (i = 0; i < K; i++)
    for (j = 0; j < P; j++) {
      double th = ((double)i + 0.5) * M_PI / (double)K;
      plx_grating2d_render(&o->g, th, o->phase_max * ((double)j + 0.5) / (double)P,
                           x + (i * P + j) * S, NULL);
      lab[i * P + j] = (int)i;
    }
  plx_deepnet_forward(o->net, x, K * P);
  plx_deepnet_softmax_ce(o->net, lab, NULL, NULL, correct);
  for (i = 0; i < K; i++) {
    double c = 0;
    for (j = 0; j < P; j++)
      c += correct[i * P + j];
    acc[i] = c / (double)P;
  }
}

int plx_orientation_check(const plx_orientation_opts *op, char *summary, size_t n,
                          plx_error *err)
{
  orient *o;
  int rc = orient_load(&o, op, err);
  if (rc)
    return rc;
  snprintf(summary, n, "orientation task (%s): %s prior, %zu bins, label noise %s, "
           "%zu-layer deepnet with %zu parameters, %ld steps of %ld",
           o->np ? "node_perturbation" : "gradient",
           o->prior == PRIOR_SKEWED ? "skewed" : "uniform", o->bins,
           o->noise == NOISE_NONE ? "none" : o->noise == NOISE_BALANCED ? "balanced"
                                            : o->noise == NOISE_COSINE ? "cosine"
                                                                      : "balanced_reference",
           o->net->n_layers, plx_deepnet_params(o->net), o->steps, o->batch);
  orient_free(o);
  return PLX_OK;
}

typedef struct mctx {
  const plx_orientation_opts *op;
  orient *o;
  double seconds;
} mctx;

static void manifest(plx_jw *w, void *vc)
{
  mctx *c = vc;
  plx_manifest_invocation(w, "run", c->op->config, c->op->overrides, c->op->n_overrides);
  plx_jw_string(w, "experiment", c->o->name);
  plx_jw_int(w, "seed", (long long)c->o->seed);
  plx_jw_string(w, "task", "orientation");
  plx_jw_string(w, "rule", c->o->np ? "node_perturbation" : "gradient (backpropagation, SGD)");
  plx_jw_int(w, "parameters", (long long)plx_deepnet_params(c->o->net));
  plx_jw_number(w, "final_loss", c->op->final_loss);
  plx_jw_number(w, "final_accuracy", c->op->final_accuracy);
  plx_jw_number(w, "sensitivity_at_90deg", c->op->sens_common);
  plx_jw_number(w, "sensitivity_at_0deg", c->op->sens_rare);
  plx_manifest_total_and_environment(w, c->seconds);
}

static int orientation_run(plx_orientation_opts *op, plx_error *err)
{
  orient *o = NULL;
  plx_rundir *rd = NULL;
  plx_rng *rng = NULL, *nrng = NULL;
  double *each = NULL, *clean = NULL; /* per-stimulus losses, noisy and clean */
  float *npd = NULL;
  const size_t S0 = 0;
  float *x = NULL, *dx = NULL, *dl = NULL;
  int *lab = NULL;
  unsigned char *mask = NULL, *correct = NULL;
  double *sens = NULL, *acc = NULL, *loss = NULL, *bacc = NULL, *steps_logged = NULL;
  size_t n_logs = 0, S, maxb, i, nlog_cap;
  double t0 = plx_clock_seconds();
  char outdir[1200], buf[4400];
  long step;
  int rc;
  mctx mc;
  (void)S0;

  if ((rc = orient_load(&o, op, err)))
    return rc;
  S = o->g.size * o->g.size;
  maxb = o->net->max_batch;
  nlog_cap = (size_t)(o->steps / o->log_every) + 2;
  x = malloc(maxb * S * sizeof *x);
  dx = malloc(maxb * S * sizeof *dx);
  dl = malloc(maxb * o->bins * sizeof *dl);
  lab = malloc(maxb * sizeof *lab);
  mask = malloc(maxb);
  correct = malloc(maxb);
  sens = calloc(nlog_cap * o->probe_t, sizeof *sens);
  acc = calloc(nlog_cap * o->bins, sizeof *acc);
  loss = calloc((size_t)o->steps, sizeof *loss);
  bacc = calloc((size_t)o->steps, sizeof *bacc);
  steps_logged = calloc(nlog_cap, sizeof *steps_logged);
  rng = plx_rng_alloc(o->seed, 0, PLX_POP_INIT);
  nrng = plx_rng_alloc(o->seed, 0, PLX_POP_RULE);
  each = malloc(maxb * sizeof *each);
  clean = malloc(maxb * sizeof *clean);
  npd = malloc(plx_deepnet_np_work(o->net) * sizeof *npd);
  if (!x || !dx || !dl || !lab || !mask || !correct || !sens || !acc || !loss || !bacc ||
      !steps_logged || !rng || !nrng || !each || !clean || !npd) {
    rc = plx_error_set(err, PLX_ENOMEM, "out of memory (batch of %zu images)", maxb);
    goto done;
  }
  plx_deepnet_init(o->net, o->init_scale, rng);
  snprintf(outdir, sizeof outdir, "%s", op->out ? op->out : "");
  if (!op->out)
    snprintf(outdir, sizeof outdir, "runs/%s", o->name);
  if ((rc = plx_rundir_open(&rd, outdir, o->formats, err)))
    goto done;
  snprintf(op->out_used, sizeof op->out_used, "%s", outdir);
  if (op->watch)
    *op->watch = rd;
  if ((rc = plx_rundir_copy(rd, op->config, "config.cfg", err)) ||
      (rc = plx_config_write(o->cfg, plx_rundir_file(rd, "config.resolved.cfg", buf, sizeof buf), err)))
    goto done;
  if (op->prog && op->prog->fn)
    op->prog->fn(op->prog->ctx, "train", 0.0);
  for (step = 0; step <= o->steps; step++) {
    if (step % o->log_every == 0 || step == o->steps) {
      probe_sensitivity(o, x, dx, sens + n_logs * o->probe_t);
      probe_accuracy(o, x, lab, correct, acc + n_logs * o->bins);
      steps_logged[n_logs++] = (double)step;
    }
    if (step == o->steps)
      break;
    /* a fresh batch from the step's own stream */
    plx_rng_reseed(rng, o->seed, (uint64_t)step, PLX_POP_DATA);
    for (i = 0; i < (size_t)o->batch; i++) {
      double th = sample_theta(o->prior, rng), ph = o->phase_max * plx_rng_uniform(rng);
      size_t bin = (size_t)(th / M_PI * (double)o->bins);
      if (bin >= o->bins)
        bin = o->bins - 1;
      plx_grating2d_render(&o->g, th, ph, x + i * S, NULL);
      lab[i] = (int)bin;
      mask[i] = plx_rng_uniform(rng) < keep(o, th);
    }
    plx_deepnet_forward(o->net, x, (size_t)o->batch);
    loss[step] = plx_deepnet_softmax_ce(o->net, lab, mask, o->np ? NULL : dl, correct);
    if (o->np) /* node perturbation's baseline: each stimulus's clean loss */
      plx_deepnet_softmax_ce_each(o->net, lab, clean);
    {
      double c = 0;
      for (i = 0; i < (size_t)o->batch; i++)
        c += correct[i];
      bacc[step] = c / (double)o->batch;
    }
    if (!isfinite(loss[step])) {
      rc = plx_params_error(plx_params_group(o->root, "train"), "lr", err,
                            "training diverged at step %ld (loss not finite): "
                            "reduce the learning rate", step);
      goto done;
    }
    if (o->np) {
      plx_rng_reseed(nrng, o->seed, (uint64_t)step, PLX_POP_RULE);
      plx_deepnet_np_softmax_ce(o->net, x, (size_t)o->batch, lab, mask, clean, o->np_sigma,
                                nrng, each, npd);
    } else {
      plx_deepnet_backward(o->net, dl);
    }
    plx_deepnet_sgd(o->net, o->lr, o->decay);
    if (op->prog && op->prog->fn)
      op->prog->fn(op->prog->ctx, "train", (double)(step + 1) / (double)o->steps);
  }
  /* summary: the probe orientations nearest 90 and 0 degrees */
  {
    size_t i90 = (size_t)(0.5 * (double)o->probe_t), last = n_logs - 1;
    double a = 0;
    op->sens_common = sens[last * o->probe_t + i90];
    op->sens_rare = 0.5 * (sens[last * o->probe_t + 0] + sens[last * o->probe_t + o->probe_t - 1]);
    op->final_loss = loss[o->steps - 1];
    for (i = 0; i < o->bins; i++)
      a += acc[last * o->bins + i];
    op->final_accuracy = a / (double)o->bins;
  }
  /* outputs */
  {
    plx_h5 *h = plx_rundir_h5(rd);
    double *th = malloc(o->probe_t * sizeof *th), *bc = malloc(o->bins * sizeof *bc);
    double *kp = malloc(o->probe_t * sizeof *kp), *pd = malloc(o->probe_t * sizeof *pd);
    double *stepv = malloc((size_t)o->steps * sizeof *stepv);
    static const char *const sn[] = {"step", "theta_deg", "sensitivity"};
    static const char *const an[] = {"step", "bin_center_deg", "accuracy"};
    static const char *const tn[] = {"step", "loss", "batch_accuracy"};
    static const char *const kn[] = {"theta_deg", "prior_density", "label_keep_probability"};
    plx_table *ts = plx_table_new(3, sn, "iff"), *ta = plx_table_new(3, an, "iff");
    plx_table *tt = plx_table_new(3, tn, "iff"), *tk = plx_table_new(3, kn, "fff");
    size_t k;
    if (!th || !bc || !kp || !pd || !stepv || !ts || !ta || !tt || !tk) {
      rc = plx_error_set(err, PLX_ENOMEM, "out of memory");
    } else {
      for (i = 0; i < o->probe_t; i++) {
        th[i] = ((double)i + 0.5) * 180.0 / (double)o->probe_t;
        kp[i] = keep(o, th[i] * M_PI / 180.0);
        pd[i] = density(o->prior, th[i] * M_PI / 180.0);
        {
          double v[3] = {th[i], pd[i], kp[i]};
          plx_table_append(tk, NULL, v);
        }
      }
      for (i = 0; i < o->bins; i++)
        bc[i] = ((double)i + 0.5) * 180.0 / (double)o->bins;
      for (k = 0; k < n_logs; k++) {
        for (i = 0; i < o->probe_t; i++) {
          double v[3] = {steps_logged[k], th[i], sens[k * o->probe_t + i]};
          plx_table_append(ts, NULL, v);
        }
        for (i = 0; i < o->bins; i++) {
          double v[3] = {steps_logged[k], bc[i], acc[k * o->bins + i]};
          plx_table_append(ta, NULL, v);
        }
      }
      for (step = 0; step < o->steps; step++) {
        double v[3] = {(double)step, loss[step], bacc[step]};
        stepv[step] = (double)step;
        plx_table_append(tt, NULL, v);
      }
      if (!rc) rc = plx_rundir_table(rd, "sensitivity", ts, err);
      if (!rc) rc = plx_rundir_table(rd, "accuracy", ta, err);
      if (!rc) rc = plx_rundir_table(rd, "training", tt, err);
      if (!rc) rc = plx_rundir_table(rd, "labels", tk, err);
      if (!rc) rc = plx_h5_write_matrix(h, "/orientation/sensitivity", sens, o->probe_t, n_logs,
                                        o->probe_t, err);
      if (!rc) rc = plx_h5_write_matrix(h, "/orientation/accuracy", acc, o->bins, n_logs,
                                        o->bins, err);
      if (!rc) rc = plx_h5_write_vector(h, "/orientation/logged_steps", steps_logged, n_logs, err);
      if (!rc) rc = plx_h5_write_vector(h, "/orientation/theta_deg", th, o->probe_t, err);
      if (!rc) rc = plx_h5_write_vector(h, "/train/loss", loss, (size_t)o->steps, err);
      if (!rc) rc = plx_deepnet_save(o->net, h, "/weights/final", err);
      if (!rc) {
        /* figures: sensitivity heat map (orientation x step), final curve,
         * accuracy heat map, loss */
        plx_figure *fig = plx_figure_new(2, 2, 1200, 860);
        if (fig) {
          double *fin = malloc(o->probe_t * sizeof *fin), z = 0;
          plx_axes *ax = plx_figure_axes(fig, 0, 0);
          char ttl[160];
          snprintf(ttl, sizeof ttl, "Sensitivity of %s to orientation over training%s",
                   o->net->layers[o->probe_layer].name,
                   o->np ? " by node perturbation" : "");
          plx_figure_title(fig, ttl);
          plx_axes_heatmap(ax, sens, o->probe_t, n_logs, 0, 180, 0,
                           steps_logged[n_logs - 1], "sensitivity");
          plx_axes_xlabel(ax, "orientation (deg)");
          plx_axes_ylabel(ax, "training step");
          ax = plx_figure_axes(fig, 0, 1);
          if (fin) {
            for (i = 0; i < o->probe_t; i++)
              z += sqrt(sens[(n_logs - 1) * o->probe_t + i]) * 180.0 / (double)o->probe_t;
            for (i = 0; i < o->probe_t; i++)
              fin[i] = sqrt(sens[(n_logs - 1) * o->probe_t + i]) / (z > 0 ? z : 1);
            plx_axes_line(ax, th, fin, o->probe_t, PLX_C_BLUE, PLX_SOLID, "sqrt D, normalised");
            for (i = 0; i < o->probe_t; i++)
              fin[i] = pd[i] * M_PI / 180.0;
            plx_axes_line(ax, th, fin, o->probe_t, PLX_C_BLACK, PLX_DASHED, "prior density");
            for (i = 0; i < o->probe_t; i++)
              fin[i] = kp[i] / 180.0;
            plx_axes_line(ax, th, fin, o->probe_t, PLX_C_GREEN, PLX_DOTTED,
                          "label kept (scaled)");
            free(fin);
          }
          plx_axes_title(ax, "after training");
          plx_axes_xlabel(ax, "orientation (deg)");
          plx_axes_xlim(ax, 0, 180);
          ax = plx_figure_axes(fig, 1, 0);
          plx_axes_heatmap(ax, acc, o->bins, n_logs, 0, 180, 0, steps_logged[n_logs - 1],
                           "accuracy");
          plx_axes_title(ax, "per-bin accuracy");
          plx_axes_xlabel(ax, "orientation (deg)");
          plx_axes_ylabel(ax, "training step");
          ax = plx_figure_axes(fig, 1, 1);
          plx_axes_line(ax, stepv, loss, (size_t)o->steps, PLX_C_VERMILLION, PLX_SOLID, NULL);
          plx_axes_title(ax, "training loss (cross-entropy)");
          plx_axes_xlabel(ax, "step");
          rc = plx_rundir_figure(rd, "orientation", fig, err);
          plx_figure_free(fig);
        }
      }
    }
    free(th);
    free(bc);
    free(kp);
    free(pd);
    free(stepv);
    plx_table_free(ts);
    plx_table_free(ta);
    plx_table_free(tt);
    plx_table_free(tk);
    if (rc)
      goto done;
  }
  mc.op = op;
  mc.o = o;
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
  plx_rng_free(rng);
  plx_rng_free(nrng);
  free(each);
  free(clean);
  free(npd);
  free(x);
  free(dx);
  free(dl);
  free(lab);
  free(mask);
  free(correct);
  free(sens);
  free(acc);
  free(loss);
  free(bacc);
  free(steps_logged);
  orient_free(o);
  return rc;
}

/* the entry point: the run with OpenBLAS single-threaded (plastix/blas_threads.h) */
int plx_orientation_run(plx_orientation_opts *op, plx_error *err)
{
  int rc;
  plx_blas_serial_enter();
  rc = orientation_run(op, err);
  plx_blas_serial_leave();
  return rc;
}
