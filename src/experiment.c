/* experiment.c -- load, validate and assemble a circuit experiment. */
#include "config.h"
#include "plastix/experiment.h"
#include "plastix/error.h"
#include "plastix/plot.h"
#include "plastix/registry.h"
#include "plastix/weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const plx_param_spec experiment_sec[] = {
    PLX_P_STRING("name", "experiment", NULL, "name used for the run directory"),
    PLX_P_INT_MIN("seed", 1, 0, "master seed: streams are keyed by (seed, trial, population)"),
    PLX_P_STRING("description", "", NULL, "free text, copied to the manifest"),
    PLX_P_END};

static const plx_param_spec schedule_sec[] = {
    PLX_P_STRING("type", "constant", "constant|exponential",
                 "learning-rate factor per trial: 1, or a exp(-trial/tau) + 1"),
    PLX_P_FLOAT_MIN("a", 100.0, 0.0, 0, "exponential: initial extra factor"),
    PLX_P_FLOAT_MIN("tau", 150.0, 0.0, PLX_PARAM_MIN_EXCL, "exponential: decay in trials"),
    PLX_P_END};

static const plx_param_spec eval_sec[] = {
    PLX_P_INT_MIN("every", 0, 0, "frozen evaluation every this many trials (0: off)"),
    PLX_P_INT_MIN("trials", 4, 1, "frozen trials per evaluation"),
    PLX_P_FLOAT_MIN("duration", 200.0, 0.0, PLX_PARAM_MIN_EXCL, "time units per evaluation trial"),
    PLX_P_FLOAT_MIN("transient", 40.0, 0.0, 0, "time units ignored at each trial's start"),
    PLX_P_END};

static const plx_param_spec train_sec[] = {
    PLX_P_INT_MIN("trials", 260, 0, "training trials"),
    PLX_P_FLOAT_MIN("duration", 1000.0, 0.0, PLX_PARAM_MIN_EXCL, "time units per trial"),
    PLX_P_FLOAT_MIN("warmup", 40.0, 0.0, 0, "time units at each trial's start without weight changes"),
    PLX_P_FLOAT_MIN("record_every", 10.0, 0.0, PLX_PARAM_MIN_EXCL,
                    "time units per learning-curve point"),
    PLX_P_GROUP("schedule", schedule_sec, "learning-rate schedule over trials"),
    PLX_P_GROUP("eval", eval_sec, "periodic frozen evaluation (learning curve)"),
    PLX_P_END};

static const plx_param_spec test_sec[] = {
    PLX_P_INT_MIN("trials", 100, 0, "grid-protocol test trials (plasticity off)"),
    PLX_P_FLOAT_MIN("duration", 1000.0, 0.0, PLX_PARAM_MIN_EXCL, "time units per test trial"),
    PLX_P_INT_MIN("stimuli_per_trial", 5, 1, "grid angles per trial, each held duration/k"),
    PLX_P_FLOAT_MIN("record_every", 0.2, 0.0, PLX_PARAM_MIN_EXCL, "time units between recorded samples (reference: 0.2 = 20 steps)"),
    PLX_P_INT_MIN("prior_trials", 20, 0, "frozen trials with prior-distributed theta (d', errors)"),
    PLX_P_FLOAT_MIN("prior_duration", 1000.0, 0.0, PLX_PARAM_MIN_EXCL, "time units per prior trial"),
    PLX_P_FLOAT_MIN("prior_transient", 40.0, 0.0, 0, "time units ignored at a prior trial's start"),
    PLX_P_INT_RANGE("batch", 1, 1, 4096, "trials integrated together as an N x batch state"),
    PLX_P_BOOL("energy_exact", 1, "also integrate f^-1 exactly in the energy probe"),
    PLX_P_INT_MIN("record_trials", 0, 0, "grid-protocol trials whose recorded activity "
                  "(rates, readout, theta) goes to results.h5 /activity"),
    PLX_P_END};

static const plx_param_spec output_sec[] = {
    {"figures", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, "png|svg", NULL,
     "figure formats (default [\"png\"]; [] for none)"},
    PLX_P_END};

const plx_param_spec plx_experiment_spec[] = {
    PLX_P_GROUP("experiment", experiment_sec, "name, seed, description"),
    PLX_P_GROUP("prior", plx_prior_spec, "stimulus prior p(theta)"),
    PLX_P_GROUP("stimulus", plx_stimulus_spec, "stimulus process and input population"),
    {"model", PLX_PARAM_ANY, PLX_PARAM_REQUIRED, 0, NULL, 0, 0, NULL, NULL,
     "circuit: type plus that model's keys (plastix list models)"},
    PLX_P_GROUP("task", plx_task_spec, "what the readout is trained for"),
    {"rule", PLX_PARAM_ANY, 0, 0, NULL, 0, 0, NULL, NULL,
     "learning rule: name plus that rule's keys (plastix list rules)"},
    PLX_P_GROUP("train", train_sec, "training schedule"),
    PLX_P_GROUP("test", test_sec, "frozen test protocol"),
    PLX_P_GROUP("output", output_sec, "what the run directory holds"),
    PLX_P_END};

const plx_param_spec plx_rule_head_spec[] = {
    PLX_P_STRING("name", "none", NULL, "rule name, or \"none\" (no plasticity)"),
    PLX_P_STRING("path", "", NULL, "extra directories (colon-separated) searched for rule modules"),
    PLX_P_END};

unsigned long plx_experiment_steps(const plx_experiment *e, double duration)
{
  return (unsigned long)llround(duration / e->model->dt);
}

void plx_experiment_free(plx_experiment *e)
{
  if (!e)
    return;
  plx_model_free(e->model);
  plx_encoder_release(&e->encoder);
  plx_prior_free(e->prior);
  plx_config_free(e->cfg);
  free(e);
}

static int load_rule(plx_experiment *e, plx_error *err)
{
  config_setting_t *rs = plx_params_setting(e->root, "rule");
  config_setting_t *ns = rs ? config_setting_get_member(rs, "name") : NULL;
  config_setting_t *ps = rs ? config_setting_get_member(rs, "path") : NULL;
  const plx_params *sec;
  int rc;
  if (!rs) {
    e->rule = NULL;
    return PLX_OK;
  }
  if (!ns) {
    char names[256];
    size_t i, k = 0;
    for (i = 0; plx_builtin_rules[i]; i++)
      k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "",
                            plx_builtin_rules[i]->name);
    return plx_params_error(e->root, "rule", err,
                            "missing required key rule.name (one of: %s, or a "
                            "module's name, or \"none\")", names);
  }
  if (config_setting_type(ns) != CONFIG_TYPE_STRING)
    return plx_params_bind_child(e->root, "rule", plx_rule_head_spec, NULL, &sec, err);
  if (strcmp(config_setting_get_string(ns), "none") == 0) {
    rc = plx_params_bind_child(e->root, "rule", plx_rule_head_spec, NULL, &sec, err);
    e->rule = NULL;
    e->sec_rule = sec;
    return rc;
  }
  {
    /* rule.path entries are relative to the config file's directory (like
     * model.weights), or to the working directory when given by --set */
    char joined[4096];
    const char *raw = (ps && config_setting_type(ps) == CONFIG_TYPE_STRING)
                          ? config_setting_get_string(ps) : NULL;
    const char *cp = plx_config_path(e->cfg), *slash = strrchr(cp, '/');
    if (raw && slash && config_setting_source_line(ps) > 0) {
      char buf[4096], *save = NULL, *dir;
      size_t k = 0;
      snprintf(buf, sizeof buf, "%s", raw);
      joined[0] = '\0';
      for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
        k += (size_t)snprintf(joined + k, sizeof joined - k, "%s%.*s%s%s",
                              k ? ":" : "", dir[0] == '/' ? 0 : (int)(slash - cp),
                              cp, dir[0] == '/' ? "" : "/", dir);
      raw = joined;
    }
    e->rule = plx_rule_lookup(config_setting_get_string(ns), raw, err);
  }
  if (!e->rule) {
    char where[512];
    int code = err ? err->code : PLX_ENOTFOUND;
    plx_config_where(e->cfg, ns, where, sizeof where);
    plx_error_prefix(err, "%s: rule.name", where);
    return code == PLX_EPLUGIN ? PLX_EPLUGIN : PLX_EINVAL;
  }
  if ((rc = plx_params_bind_child(e->root, "rule", plx_rule_head_spec, e->rule->params,
                                  &sec, err)))
    return rc;
  e->sec_rule = sec;
  e->rule_params = sec;
  /* the rule checks its projection names against the model now, so a
   * typo stops the run before anything is written */
  {
    void *st = NULL;
    size_t i;
    if ((rc = e->rule->init(&st, e->model->proj, e->model->n_proj, 1, sec, err)))
      return rc;
    if (e->rule->needs & PLX_NEEDS_BACKWARD) {
      plx_grad_request req;
      const plx_model_type *mt = e->model->type;
      if (!e->rule->grad_request || e->rule->grad_request(st, &req)) {
        e->rule->free(st);
        return plx_params_error(sec, "name", err, "rule '%s' needs gradients but "
                                "does not say how to compute them", e->rule->name);
      }
      if ((req.mode == PLX_GRAD_BPTT && (!mt->record || !mt->backward)) ||
          (req.mode == PLX_GRAD_STEADY && !mt->steady_grad)) {
        e->rule->free(st);
        return plx_params_error(sec, "name", err,
                                "rule '%s' needs %s gradients, which model '%s' "
                                "cannot compute", e->rule->name,
                                req.mode == PLX_GRAD_BPTT ? "backpropagation-through-time"
                                                          : "steady-state",
                                mt->name);
      }
    }
    e->rule->free(st);
    for (i = 0; i < e->model->n_proj; i++)
      e->model->proj[i].flags &= ~(unsigned)PLX_PROJ_PLASTIC;
  }
  return PLX_OK;
}

int plx_experiment_from_config(plx_experiment **out, plx_config *cfg,
                               plx_error *err)
{
  plx_experiment *e = calloc(1, sizeof *e);
  const plx_params *sec, *tr, *te, *sc, *ev;
  const char *figs[4];
  int rc;
  size_t i, nf;
  config_setting_t *fs;


  *out = NULL;
  if (!e) {
    plx_config_free(cfg);
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  }
  e->cfg = cfg;
  if ((rc = plx_config_bind(cfg, NULL, plx_experiment_spec, NULL, &e->root, err)))
    goto fail;

  sec = plx_params_group(e->root, "experiment");
  snprintf(e->name, sizeof e->name, "%s", plx_params_string(sec, "name"));
  e->seed = (uint64_t)plx_params_int(sec, "seed");

  if ((rc = plx_prior_from_params(&e->prior, plx_params_group(e->root, "prior"), err)))
    goto fail;
  sec = plx_params_group(e->root, "stimulus");
  if ((rc = plx_encoder_from_params(&e->encoder, plx_params_group(sec, "encoder"), err)))
    goto fail;
  if ((rc = plx_task_from_params(&e->task, plx_params_group(e->root, "task"), err)))
    goto fail;

  if ((rc = plx_model_create(&e->model, e->root, e->encoder.n, e->task.n_out,
                             1, err)))
    goto fail;
  e->sec_model = e->model->params;
  {
    /* a relative weights path is relative to the config file's directory
     * (or to the working directory when it came from --set); the resolved
     * config records the absolute path, so a run directory's
     * config.resolved.cfg reruns from anywhere */
    const char *wf = plx_params_string(e->sec_model, "weights");
    config_setting_t *ws = plx_params_setting(e->sec_model, "weights");
    const char *cp = plx_config_path(cfg), *slash = strrchr(cp, '/');
    char joined[1100], *abs;
    if (wf[0] && wf[0] != '/' && slash && config_setting_source_line(ws) > 0)
      snprintf(joined, sizeof joined, "%.*s/%s", (int)(slash - cp), cp, wf);
    else
      snprintf(joined, sizeof joined, "%s", wf);
    abs = wf[0] ? realpath(joined, NULL) : NULL;
    snprintf(e->weights_file, sizeof e->weights_file, "%s", abs ? abs : joined);
    if (abs) {
      config_setting_set_string(ws, abs);
      free(abs);
    }
  }
  snprintf(e->weights_set, sizeof e->weights_set, "%s",
           plx_params_string(e->sec_model, "weights_set"));

  if ((rc = plx_process_from_params(&e->process, plx_params_group(e->root, "stimulus"),
                                    e->prior, e->model->dt, err)))
    goto fail;

  if ((rc = load_rule(e, err)))
    goto fail;

  tr = plx_params_group(e->root, "train");
  e->train.trials = plx_params_int(tr, "trials");
  e->train.duration = plx_params_float(tr, "duration");
  e->train.warmup = plx_params_float(tr, "warmup");
  e->train.record_every = plx_params_float(tr, "record_every");
  sc = plx_params_group(tr, "schedule");
  e->train.schedule_exp = strcmp(plx_params_string(sc, "type"), "exponential") == 0;
  e->train.schedule_a = plx_params_float(sc, "a");
  e->train.schedule_tau = plx_params_float(sc, "tau");
  ev = plx_params_group(tr, "eval");
  e->train.eval_every = plx_params_int(ev, "every");
  e->train.eval_trials = plx_params_int(ev, "trials");
  e->train.eval_duration = plx_params_float(ev, "duration");
  e->train.eval_transient = plx_params_float(ev, "transient");
  if (e->train.warmup >= e->train.duration) {
    rc = plx_params_error(tr, "warmup", err, "must be shorter than train.duration (%g)",
                          e->train.duration);
    goto fail;
  }
  if (e->train.eval_transient >= e->train.eval_duration) {
    rc = plx_params_error(ev, "transient", err, "must be shorter than train.eval.duration (%g)",
                          e->train.eval_duration);
    goto fail;
  }

  te = plx_params_group(e->root, "test");
  e->test.trials = plx_params_int(te, "trials");
  e->test.duration = plx_params_float(te, "duration");
  e->test.stimuli_per_trial = plx_params_int(te, "stimuli_per_trial");
  e->test.record_every = (long)llround(plx_params_float(te, "record_every") / e->model->dt);
  if (e->test.record_every < 1) {
    rc = plx_params_error(te, "record_every", err, "must be at least one time step (%g)",
                          e->model->dt);
    goto fail;
  }
  e->test.prior_trials = plx_params_int(te, "prior_trials");
  e->test.prior_duration = plx_params_float(te, "prior_duration");
  e->test.prior_transient = plx_params_float(te, "prior_transient");
  e->test.batch = plx_params_int(te, "batch");
  e->test.energy_exact = plx_params_bool(te, "energy_exact");
  e->test.record_trials = plx_params_int(te, "record_trials");
  if (e->test.record_trials > e->test.trials) {
    rc = plx_params_error(te, "record_trials", err, "more than test.trials (%ld)",
                          e->test.trials);
    goto fail;
  }
  if (e->test.prior_transient >= e->test.prior_duration) {
    rc = plx_params_error(te, "prior_transient", err,
                          "must be shorter than test.prior_duration (%g)",
                          e->test.prior_duration);
    goto fail;
  }
  {
    unsigned long steps = plx_experiment_steps(e, e->test.duration);
    if (steps / (unsigned long)e->test.stimuli_per_trial < 1) {
      rc = plx_params_error(te, "stimuli_per_trial", err,
                            "more stimuli than steps in test.duration");
      goto fail;
    }
  }

  e->sec_output = plx_params_group(e->root, "output");
  fs = plx_params_setting(e->sec_output, "figures");
  e->figure_formats = PLX_FIG_PNG;
  if (fs) {
    e->figure_formats = 0;
    nf = (size_t)config_setting_length(fs);
    for (i = 0; i < nf && i < 4; i++) {
      figs[i] = config_setting_get_string(config_setting_get_elem(fs, (unsigned)i));
      e->figure_formats |= strcmp(figs[i], "svg") == 0 ? PLX_FIG_SVG : PLX_FIG_PNG;
    }
  }
  *out = e;
  return PLX_OK;
fail:
  plx_experiment_free(e);
  return rc;
}

int plx_experiment_load(plx_experiment **out, const char *path,
                        const char *const *overrides, size_t n_overrides,
                        plx_error *err)
{
  plx_config *cfg;
  int rc;
  *out = NULL;
  if ((rc = plx_config_load(&cfg, path, overrides, n_overrides, err)))
    return rc;
  return plx_experiment_from_config(out, cfg, err);
}

int plx_experiment_init_weights(plx_experiment *e, plx_error *err)
{
  if (e->weights_file[0])
    return plx_weights_load(e->model, e->weights_file, e->weights_set, err);
  {
    plx_rng *rng = plx_rng_alloc(e->seed, 0, PLX_POP_INIT);
    int rc;
    if (!rng)
      return plx_error_set(err, PLX_ENOMEM, "out of memory");
    rc = e->model->type->init_weights(e->model, rng, err);
    plx_rng_free(rng);
    return rc;
  }
}

int plx_experiment_diverged(const plx_experiment *e, plx_error *err,
                            const char *where, double t)
{
  char why[sizeof err->msg];
  if (!err)
    return PLX_EDIVERGE;
  snprintf(why, sizeof why, "%s", err->msg);
  plx_params_error(e->sec_model, "dt", err, "dynamics diverged in %s at t = %g: %s",
                   where, t, why);
  err->code = PLX_EDIVERGE;
  return PLX_EDIVERGE;
}
