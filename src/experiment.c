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
    PLX_P_INT_MIN("angles", 0, 0, "grid angles -pi + 2 pi j / angles held in the "
                  "test protocol (0: the input population's preferred angles)"),
    PLX_P_INT_MIN("record_trials", 0, 0, "grid-protocol trials whose recorded activity "
                  "(rates, readout, theta) goes to results.h5 /activity"),
    PLX_P_END};

static const plx_param_spec output_sec[] = {
    {"figures", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, "png|svg", NULL,
     "figure formats (default [\"png\"]; [] for none)"},
    PLX_P_END};

const plx_param_spec plx_compare_spec[] = {
    PLX_P_INT_RANGE("seeds", 20, 1, 100000, "seeds per rule (the paper: 20)"),
    PLX_P_INT_MIN("first_seed", 0, 0, "seeds first_seed, first_seed + 1, ... "
                  "(when absent: experiment.seed)"),
    {"rules", PLX_PARAM_STRING_ARRAY, 0, 0, NULL, 0, 0, NULL, NULL,
     "which entries of `rules` to compare (default: all, in file order)"},
    PLX_P_INT_RANGE("fisher_angles", 36, 4, 3600,
                    "angles of the Fisher-information protocol (held stimuli)"),
    PLX_P_INT_MIN("fisher_trials", 36, 1, "trials of the Fisher-information protocol"),
    PLX_P_FLOAT_MIN("fisher_duration", 1000.0, 0.0, PLX_PARAM_MIN_EXCL,
                    "time units per Fisher-information trial"),
    PLX_P_INT_MIN("fisher_stimuli_per_trial", 10, 1, "held stimuli per Fisher trial"),
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
    {"rules", PLX_PARAM_ANY, 0, 0, NULL, 0, 0, NULL, NULL,
     "several rules by name for plastix compare (or run --rule NAME): "
     "rules = { trifactor = {...}; gradient = {...}; }"},
    PLX_P_GROUP("compare", plx_compare_spec, "plastix compare: seeds and the "
                "Fisher-information protocol"),
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

/* Bind the rule section at `path` ("rule" or "rules.<name>").  name: the
 * rule's name when it is the map key, NULL to read the section's `name`. */
static int bind_rule_at(plx_experiment *e, const char *path, const char *name,
                        const plx_rule_type **type, const plx_params **secp,
                        plx_error *err)
{
  config_setting_t *rs = config_lookup(plx_config_raw(e->cfg), path);
  config_setting_t *ns = rs ? config_setting_get_member(rs, "name") : NULL;
  config_setting_t *ps = rs ? config_setting_get_member(rs, "path") : NULL;
  const plx_rule_type *t;
  const plx_params *sec;
  char where[512];
  int rc;
  *type = NULL;
  *secp = NULL;
  if (rs && config_setting_type(rs) != CONFIG_TYPE_GROUP)
    return plx_config_bind(e->cfg, path, plx_rule_head_spec, NULL, &sec, err);
  if (!name) {
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
      return plx_config_bind(e->cfg, path, plx_rule_head_spec, NULL, &sec, err);
    name = config_setting_get_string(ns);
  } else if (ns && (config_setting_type(ns) != CONFIG_TYPE_STRING ||
                    strcmp(config_setting_get_string(ns), name) != 0)) {
    plx_config_where(e->cfg, ns, where, sizeof where);
    return plx_error_set(err, PLX_EINVAL, "%s: %s.name: must be \"%s\", the "
                         "section's own key (or left out)", where, path, name);
  }
  if (strcmp(name, "none") == 0) {
    rc = plx_config_bind(e->cfg, path, plx_rule_head_spec, NULL, &sec, err);
    *secp = sec;
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
    if (raw && ps && raw == joined) {
      /* the resolved config records absolute directories */
      char absl[4096], buf2[4096], *save2 = NULL, *dir2;
      size_t k2 = 0;
      snprintf(buf2, sizeof buf2, "%s", joined);
      absl[0] = '\0';
      for (dir2 = strtok_r(buf2, ":", &save2); dir2; dir2 = strtok_r(NULL, ":", &save2)) {
        char *a = realpath(dir2, NULL);
        k2 += (size_t)snprintf(absl + k2, sizeof absl - k2, "%s%s", k2 ? ":" : "",
                               a ? a : dir2);
        free(a);
      }
      config_setting_set_string(ps, absl);
    }
    t = plx_rule_lookup(name, raw, err);
  }
  if (!t) {
    int code = err ? err->code : PLX_ENOTFOUND;
    plx_config_where(e->cfg, ns ? ns : rs, where, sizeof where);
    plx_error_prefix(err, "%s: %s%s", where, path, ns ? ".name" : "");
    return code == PLX_EPLUGIN ? PLX_EPLUGIN : PLX_EINVAL;
  }
  if ((rc = plx_config_bind(e->cfg, path, plx_rule_head_spec, t->params, &sec, err)))
    return rc;
  /* the rule checks its projection names against the model now, so a
   * typo stops the run before anything is written */
  {
    void *st = NULL;
    size_t i;
    if ((rc = t->init(&st, e->model->proj, e->model->n_proj, 1, sec, err)))
      return rc;
    if (t->needs & PLX_NEEDS_BACKWARD) {
      plx_grad_request req;
      const plx_model_type *mt = e->model->type;
      if (!t->grad_request || t->grad_request(st, &req)) {
        t->free(st);
        return plx_params_error(sec, NULL, err, "rule '%s' needs gradients but "
                                "does not say how to compute them", t->name);
      }
      if ((req.mode == PLX_GRAD_BPTT && (!mt->record || !mt->backward)) ||
          (req.mode == PLX_GRAD_STEADY && !mt->steady_grad)) {
        t->free(st);
        return plx_params_error(sec, NULL, err,
                                "rule '%s' needs %s gradients, which model '%s' "
                                "cannot compute", t->name,
                                req.mode == PLX_GRAD_BPTT ? "backpropagation-through-time"
                                                          : "steady-state",
                                mt->name);
      }
    }
    t->free(st);
    for (i = 0; i < e->model->n_proj; i++)
      e->model->proj[i].flags &= ~(unsigned)PLX_PROJ_PLASTIC;
  }
  *type = t;
  *secp = sec;
  return PLX_OK;
}

/* The rule: `rule = {...}`, or one entry of `rules = { name = {...}; ... }`
 * chosen by `choice` (run --rule NAME; compare goes through all). Every
 * entry of `rules` is validated whichever is chosen. */
static int load_rule(plx_experiment *e, const char *choice, int allow_many,
                     plx_error *err)
{
  config_t *cf = plx_config_raw(e->cfg);
  config_setting_t *rule_s = config_lookup(cf, "rule");
  config_setting_t *rules_s = config_lookup(cf, "rules");
  const plx_rule_type *t;
  const plx_params *sec;
  char path[256], list[1024];
  size_t i, k = 0;
  int rc, n = 0;
  e->rule = NULL;
  list[0] = '\0';
  if (rules_s) {
    if (config_setting_type(rules_s) != CONFIG_TYPE_GROUP)
      return plx_config_bind(e->cfg, "rules", NULL, NULL, &sec, err);
    n = config_setting_length(rules_s);
    if (n > PLX_MAX_RULES)
      return plx_params_error(e->root, "rules", err, "at most %d rules, got %d",
                              PLX_MAX_RULES, n);
    for (i = 0; i < (size_t)n; i++) {
      const char *nm = config_setting_name(config_setting_get_elem(rules_s, (unsigned)i));
      snprintf(path, sizeof path, "rules.%s", nm);
      if ((rc = bind_rule_at(e, path, nm, &t, &sec, err)))
        return rc;
      snprintf(e->rule_names[i], sizeof e->rule_names[i], "%s", nm);
      k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", nm);
    }
    e->n_rule_names = i;
  }
  if (choice) {
    if (rules_s && config_setting_get_member(rules_s, choice)) {
      snprintf(path, sizeof path, "rules.%s", choice);
      rc = bind_rule_at(e, path, choice, &e->rule, &sec, err);
    } else if (rule_s) {
      rc = bind_rule_at(e, "rule", NULL, &e->rule, &sec, err);
      if (!rc && strcmp(e->rule ? e->rule->name : "none", choice) != 0)
        return plx_error_set(err, PLX_EINVAL, "%s: --rule %s: the config's rule is "
                             "'%s' and it has no rules.%s section",
                             plx_config_path(e->cfg), choice,
                             e->rule ? e->rule->name : "none", choice);
    } else {
      const char *best = NULL;
      size_t bd = 99, q;
      char hint[128] = "";
      for (q = 0; q < e->n_rule_names; q++) {
        size_t d = plx_edit_distance(choice, e->rule_names[q]);
        if (d < bd) {
          bd = d;
          best = e->rule_names[q];
        }
      }
      if (best && bd <= 2)
        snprintf(hint, sizeof hint, "did you mean '%s'? ", best);
      return plx_error_set(err, PLX_EINVAL, "%s: --rule %s: the config has no rules.%s "
                           "section (%srules: %s)", plx_config_path(e->cfg), choice,
                           choice, hint, n ? list : "none");
    }
  } else if (rule_s) {
    rc = bind_rule_at(e, "rule", NULL, &e->rule, &sec, err);
  } else if (rules_s && n == 1) {
    snprintf(path, sizeof path, "rules.%s", e->rule_names[0]);
    rc = bind_rule_at(e, path, e->rule_names[0], &e->rule, &sec, err);
  } else if (rules_s && n > 1 && !allow_many) {
    return plx_error_set(err, PLX_EINVAL, "%s: the config defines several rules (%s): "
                         "choose one with --rule NAME, or run plastix compare",
                         plx_config_path(e->cfg), list);
  } else {
    return PLX_OK; /* no plasticity, or compare's choice later */
  }
  if (rc)
    return rc;
  e->sec_rule = sec;
  e->rule_params = e->rule ? sec : NULL;
  return PLX_OK;
}

int plx_experiment_from_config(plx_experiment **out, plx_config *cfg,
                               plx_error *err)
{
  return plx_experiment_from_config_opts(out, cfg, NULL, err);
}

int plx_experiment_from_config_opts(plx_experiment **out, plx_config *cfg,
                                    const plx_load_opts *opts, plx_error *err)
{
  plx_experiment *e = calloc(1, sizeof *e);
  const plx_params *sec, *tr, *te, *sc, *ev;
  const char *figs[4];
  int rc;
  size_t i, nf;
  config_setting_t *fs;


  *out = NULL;
  plx_gsl_quiet();
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

  if ((rc = load_rule(e, opts ? opts->rule : NULL, opts ? opts->allow_many_rules : 0,
                      err)))
    goto fail;
  if (opts && opts->seed_set)
    e->seed = opts->seed;

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
  e->test.angles = plx_params_int(te, "angles");
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
  return plx_experiment_load_opts(out, path, overrides, n_overrides, NULL, err);
}

int plx_experiment_load_opts(plx_experiment **out, const char *path,
                             const char *const *overrides, size_t n_overrides,
                             const plx_load_opts *opts, plx_error *err)
{
  plx_config *cfg;
  int rc;
  *out = NULL;
  if ((rc = plx_config_load(&cfg, path, overrides, n_overrides, err)))
    return rc;
  return plx_experiment_from_config_opts(out, cfg, opts, err);
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
