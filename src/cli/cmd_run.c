/* cmd_run.c -- `plastix run`, `plastix analyze` and `plastix check`: load
 * and validate a circuit experiment, train it (run), test and probe it,
 * and write the run directory. */
#include "config.h"
#include "cli.h"
#include "plastix/clock.h"
#include "plastix/error.h"
#include "plastix/experiment.h"
#include "plastix/linearnet.h"
#include "plastix/natimg.h"
#include "plastix/perceptual.h"
#include "plastix/orientation.h"
#include "plastix/probe.h"
#include "plastix/protocol.h"
#include "plastix/rundir.h"
#include "plastix/trainer.h"
#include "plastix/weights.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_parse(int argc, char **argv, cli_opts *o, const char *usage,
              int want_weights)
{
  int i;
  memset(o, 0, sizeof *o);
  o->threads = cli_default_threads();
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
#define NEXT_ARG()                                                           \
  do {                                                                       \
    if (i + 1 >= argc) {                                                     \
      fprintf(stderr, "plastix %s: option %s needs a value\n", argv[0], a);  \
      return PLX_EXIT_BADINPUT;                                              \
    }                                                                        \
    val = argv[++i];                                                         \
  } while (0)
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(usage, stdout);
      return -1;
    } else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
      NEXT_ARG();
      o->out = val;
    } else if (strcmp(a, "--set") == 0 || strcmp(a, "-s") == 0) {
      NEXT_ARG();
      if (o->n_sets == CLI_MAX_SET) {
        fprintf(stderr, "plastix: too many --set options (max %d)\n", CLI_MAX_SET);
        return PLX_EXIT_BADINPUT;
      }
      o->sets[o->n_sets++] = val;
    } else if (strcmp(a, "--threads") == 0 || strcmp(a, "-j") == 0) {
      char *end;
      long t;
      NEXT_ARG();
      t = strtol(val, &end, 10);
      if (*end || t < 1 || t > 4096) {
        fprintf(stderr, "plastix: --threads expects a positive integer, got '%s'\n", val);
        return PLX_EXIT_BADINPUT;
      }
      o->threads = (int)t;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      o->quiet = 1;
    } else if (strcmp(a, "--rule") == 0) {
      NEXT_ARG();
      o->rule = val;
    } else if (want_weights && strcmp(a, "--weights") == 0) {
      NEXT_ARG();
      o->weights = val;
    } else if (want_weights && strcmp(a, "--weights-set") == 0) {
      NEXT_ARG();
      if (strcmp(val, "final") && strcmp(val, "initial")) {
        fprintf(stderr, "plastix: --weights-set expects final or initial, got '%s'\n", val);
        return PLX_EXIT_BADINPUT;
      }
      o->weights_set = val;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "plastix %s: unknown option '%s' (see plastix %s --help)\n",
              argv[0], a, argv[0]);
      return PLX_EXIT_BADINPUT;
    } else if (!o->config) {
      o->config = a;
    } else {
      fprintf(stderr, "plastix %s: unexpected argument '%s'\n", argv[0], a);
      return PLX_EXIT_BADINPUT;
    }
#undef NEXT_ARG
  }
  if (!o->config) {
    fprintf(stderr, "plastix %s: missing CONFIG (see plastix %s --help)\n",
            argv[0], argv[0]);
    return PLX_EXIT_BADINPUT;
  }
  return 0;
}

typedef struct manifest_ctx {
  const char *command;
  const cli_opts *o;
  plx_experiment *e;
  double t_train, t_test, t_total;
  const plx_learning_curve *lc;
  const plx_prior_stats *ps;
} manifest_ctx;

static void manifest_body(plx_jw *w, void *vctx)
{
  manifest_ctx *c = vctx;
  plx_experiment *e = c->e;
  plx_manifest_invocation(w, c->command, c->o->config, c->o->sets, c->o->n_sets);
  plx_jw_string(w, "experiment", e->name);
  plx_jw_int(w, "seed", (long long)e->seed);
  plx_jw_int(w, "threads", c->o->threads);
  plx_jw_object_begin(w, "stimulus");
  plx_jw_string(w, "prior", plx_prior_describe(e->prior));
  plx_jw_number(w, "prior_kappa", plx_prior_kappa(e->prior));
  plx_jw_string(w, "process", plx_process_name(e->process.kind));
  plx_jw_number(w, "stationary_kappa", plx_process_stationary_kappa(&e->process));
  plx_jw_int(w, "input_units", (long long)e->encoder.n);
  plx_jw_object_end(w);
  plx_jw_object_begin(w, "model");
  plx_jw_string(w, "type", e->model->type->name);
  plx_jw_int(w, "hidden_units", (long long)e->model->n_hidden);
  plx_jw_number(w, "dt", e->model->dt);
  if (e->weights_file[0]) {
    plx_jw_string(w, "weights_from", e->weights_file);
    plx_jw_string(w, "weights_set", e->weights_set);
  }
  plx_jw_object_end(w);
  plx_jw_string(w, "task", plx_task_name(&e->task));
  plx_jw_string(w, "rule", strcmp(c->command, "analyze") == 0
                               ? "none (analysis of loaded weights)"
                               : (e->rule ? e->rule->name : "none"));
  if (c->ps && c->ps->count > 0)
    plx_jw_number(w, "test_error", c->ps->err / c->ps->count);
  plx_jw_object_begin(w, "timings_seconds");
  plx_jw_number(w, "train", c->t_train);
  plx_jw_number(w, "test", c->t_test);
  plx_jw_number(w, "total", c->t_total);
  plx_jw_object_end(w);
  plx_manifest_environment(w);
}

/* A run interrupted by a signal (Ctrl-C, a closed pipe, a batch system's
 * TERM) removes its partial directory before dying. */
plx_rundir *volatile cli_current_rd;

static void on_signal(int sig)
{
  plx_rundir *rd = cli_current_rd;
  cli_current_rd = NULL;
  if (rd)
    plx_rundir_abort(rd);
  signal(sig, SIG_DFL);
  raise(sig);
}

void cli_signals(int on)
{
  signal(SIGINT, on ? on_signal : SIG_DFL);
  signal(SIGTERM, on ? on_signal : SIG_DFL);
  signal(SIGHUP, on ? on_signal : SIG_DFL);
  signal(SIGPIPE, on ? on_signal : SIG_DFL);
}

static void watch_signals(plx_rundir *rd)
{
  cli_current_rd = rd;
  cli_signals(rd != NULL);
}

/* Shared by run and analyze: train (if asked), test, probe, write. */
static int run_experiment(const char *command, cli_opts *o, int train)
{
  plx_experiment *e = NULL;
  plx_rundir *rd = NULL;
  plx_learning_curve lc;
  plx_grid_stats gs;
  plx_prior_stats ps;
  plx_probe_ctx pc;
  plx_progress prog;
  cli_progress cp;
  manifest_ctx mc;
  plx_error err;
  char outdir[1200], buf[4400];
  double t0 = plx_clock_seconds(), t1;
  int rc, have_lc = 0, have_gs = 0, have_ps = 0;

  memset(&lc, 0, sizeof lc);
  memset(&gs, 0, sizeof gs);
  memset(&ps, 0, sizeof ps);
  plx_error_clear(&err);
  cli_progress_init(&cp, o->quiet);
  prog.fn = cli_progress_cb;
  prog.ctx = &cp;

  {
    /* analyze applies no rule: a config with several is fine */
    plx_load_opts lo = {o->rule, !train, 0, 0};
    if ((rc = plx_experiment_load_opts(&e, o->config, o->sets, o->n_sets, &lo, &err)))
      return cli_fail(rc, err.msg);
  }
  if (o->weights) {
    snprintf(e->weights_file, sizeof e->weights_file, "%s", o->weights);
    snprintf(e->weights_set, sizeof e->weights_set, "%s",
             o->weights_set ? o->weights_set : "final");
  } else if (!train && !e->weights_file[0]) {
    plx_experiment_free(e);
    return cli_fail(PLX_EINVAL, "analyze needs weights: --weights FILE or model.weights in the config");
  }
  if ((rc = plx_experiment_init_weights(e, &err)))
    goto fail;
  if (o->out)
    snprintf(outdir, sizeof outdir, "%s", o->out);
  else
    snprintf(outdir, sizeof outdir, "runs/%s%s", e->name, train ? "" : "-analysis");
  {
    const char *in = e->weights_file;
    if ((rc = plx_rundir_not_input(outdir, &in, 1, &err)) ||
        (rc = plx_rundir_open(&rd, outdir, e->figure_formats, &err)))
      goto fail;
  }
  watch_signals(rd);
  if ((rc = plx_rundir_copy(rd, o->config, "config.cfg", &err)) ||
      (rc = plx_config_write(e->cfg, plx_rundir_file(rd, "config.resolved.cfg", buf, sizeof buf), &err)) ||
      (rc = plx_weights_save(e->model, plx_rundir_h5(rd), "initial", &err)))
    goto fail;

  if (train && e->rule && e->train.trials > 0) {
    if (!o->quiet)
      fprintf(stderr, "plastix: training %s with %s: %ld trials of %g time units\n",
              e->model->type->name, e->rule->name, e->train.trials, e->train.duration);
    rc = plx_train(e, &lc, o->threads, &prog, &err);
    have_lc = 1;
    if (rc)
      goto fail;
  }
  t1 = plx_clock_seconds();
  mc.t_train = t1 - t0;
  if ((rc = plx_weights_save(e->model, plx_rundir_h5(rd), "final", &err)))
    goto fail;

  if (e->test.trials > 0) {
    rc = plx_protocol_grid(e, &gs, o->threads, &prog, &err);
    have_gs = 1;
    if (rc)
      goto fail;
  }
  if (e->test.prior_trials > 0) {
    rc = plx_protocol_prior(e, e->test.prior_trials, e->test.prior_duration,
                            e->test.prior_transient, e->test.record_every, -1,
                            12, &ps, o->threads, &err);
    have_ps = 1;
    if (rc)
      goto fail;
  }
  pc.e = e;
  pc.grid = e->test.trials > 0 ? &gs : NULL;
  pc.prior = e->test.prior_trials > 0 ? &ps : NULL;
  pc.lc = have_lc ? &lc : NULL;
  pc.rd = rd;
  if ((rc = plx_probes_run_all(&pc, &err)))
    goto fail;
  mc.command = command;
  mc.o = o;
  mc.e = e;
  mc.t_test = plx_clock_seconds() - t1;
  mc.t_total = plx_clock_seconds() - t0;
  mc.lc = have_lc ? &lc : NULL;
  mc.ps = have_ps ? &ps : NULL;
  watch_signals(NULL);
  rc = plx_rundir_commit(rd, manifest_body, &mc, &err);
  rd = NULL;
  if (rc)
    goto fail;
  if (!o->quiet) {
    if (have_ps && ps.count > 0)
      fprintf(stderr, "plastix: test error %.4g (%s, %ld prior-distributed trials)\n",
              ps.err / ps.count, plx_task_name(&e->task), e->test.prior_trials);
    fprintf(stderr, "plastix: wrote %s (%.1f s)\n", outdir, mc.t_total);
  }
  plx_learning_curve_release(&lc);
  plx_grid_stats_release(&gs);
  plx_prior_stats_release(&ps);
  plx_experiment_free(e);
  return 0;
fail:
  watch_signals(NULL);
  if (rd)
    plx_rundir_abort(rd);
  if (have_lc)
    plx_learning_curve_release(&lc);
  if (have_gs)
    plx_grid_stats_release(&gs);
  if (have_ps)
    plx_prior_stats_release(&ps);
  plx_experiment_free(e);
  if (!o->quiet && cp.tty && cp.stage[0])
    fputc('\n', stderr);
  return cli_fail(rc, err.msg);
}

static const char run_usage[] =
    "usage: plastix run CONFIG [-o DIR] [--set key.path=value ...]\n"
    "                          [--rule NAME] [--threads N] [--quiet]\n"
    "\n"
    "Train the circuit of CONFIG with its rule, freeze it, run the test\n"
    "protocol and every probe, and write DIR (default runs/<experiment.name>):\n"
    "manifest.json, config.cfg, results.h5, tables/*.csv, figures/*.png.\n"
    "The directory appears only when the run completed.\n"
    "\n"
    "  -o, --out DIR        run directory (an older run there is replaced)\n"
    "  -s, --set K=V        override a config key, e.g. --set model.sigma=0.33\n"
    "      --rule NAME      use rules.NAME of a config that defines several\n"
    "  -j, --threads N      threads for test trials (results do not depend on N)\n"
    "  -q, --quiet          no progress line\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 ok, 1 run failed, 2 bad input (config, files, divergence).\n";

static const char analyze_usage[] =
    "usage: plastix analyze CONFIG --weights FILE [--weights-set final|initial]\n"
    "                       [-o DIR] [--set key.path=value ...] [--threads N]\n"
    "\n"
    "  --rule NAME is accepted (and ignored: analysis applies no rule).\n"
    "\n"
    "Load weights into the model of CONFIG (a plastix results.h5, or the\n"
    "authors' JSON network of Bredenberg et al. 2020), run the test protocol\n"
    "and every probe without plasticity, and write DIR (default\n"
    "runs/<experiment.name>-analysis).\n";

static const char check_usage[] =
    "usage: plastix check CONFIG [--set key.path=value ...] [--rule NAME]\n"
    "\n"
    "Validate CONFIG: every key, type and range, the model, the rule and\n"
    "the rule's projections, and any weights file.  Stops at the first\n"
    "error: prints it as one line with file:line and the key, exits 2;\n"
    "otherwise prints a summary and exits 0.\n";

/* The deep-net orientation experiment (task.type = "orientation"). */
static int run_orientation(cli_opts *o)
{
  plx_orientation_opts oo;
  cli_progress cp;
  plx_progress prog;
  plx_error err;
  int rc;
  memset(&oo, 0, sizeof oo);
  cli_progress_init(&cp, o->quiet);
  prog.fn = cli_progress_cb;
  prog.ctx = &cp;
  oo.config = o->config;
  oo.overrides = o->sets;
  oo.n_overrides = o->n_sets;
  oo.out = o->out;
  oo.threads = o->threads;
  oo.prog = &prog;
  oo.watch = &cli_current_rd;
  cli_signals(1);
  rc = plx_orientation_run(&oo, &err);
  cli_signals(0);
  if (rc)
    return cli_fail(rc, err.msg);
  if (!o->quiet)
    fprintf(stderr, "plastix: final loss %.4g, accuracy %.3f; sensitivity at 90 deg %.4g, "
                    "at 0 deg %.4g\nplastix: wrote %s\n",
            oo.final_loss, oo.final_accuracy, oo.sens_common, oo.sens_rare, oo.out_used);
  return 0;
}

/* The natural-image run's statistics over seeds of one measure, a line per
 * probed layer: the trained networks, then trained - each control. */
static void print_seed_stats(const plx_natimg_opts *no, const plx_natimg_seed_stats *st,
                             const char *what)
{
  size_t p;
  int k;
  fprintf(stderr, "plastix: over %zu seeds, %s (mean, Student's t, seeds > 0):\n", no->n_seeds,
          what);
  for (p = 0; p < no->n_probes; p++) {
    fprintf(stderr, "plastix:   %s:", no->probe_names[p]);
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++)
      if (no->measured[k] && no->measured[PLX_NATIMG_TRAINED])
        fprintf(stderr, " %s%s %+.3f (t %.1f, %d/%zu)", k ? "trained - " : "",
                plx_natimg_condition_names[k], st->mean[k][p], st->t[k][p], st->positive[k][p],
                st->n[k][p]);
    fputc('\n', stderr);
  }
}

void cli_print_natimg_seed_stats(const plx_natimg_opts *no)
{
  print_seed_stats(no, &no->seed_contrast, "cardinal - oblique mean log sqrt D");
  print_seed_stats(no, &no->seed_units[PLX_NATIMG_PREFERENCE],
                   "centre units preferring a cardinal minus an oblique, per unit with a "
                   "tuning");
  print_seed_stats(no, &no->seed_units[PLX_NATIMG_GAIN],
                   "the same, each unit weighted by its squared tuning amplitude");
}

/* The natural-image experiment (task.type = "natural_images"). */
static int run_natimg(cli_opts *o)
{
  plx_natimg_opts no;
  cli_progress cp;
  plx_progress prog;
  plx_error err;
  size_t p;
  int rc, k;
  memset(&no, 0, sizeof no);
  cli_progress_init(&cp, o->quiet);
  prog.fn = cli_progress_cb;
  prog.ctx = &cp;
  no.config = o->config;
  no.overrides = o->sets;
  no.n_overrides = o->n_sets;
  no.out = o->out;
  no.threads = o->threads;
  no.prog = &prog;
  no.watch = &cli_current_rd;
  cli_signals(1);
  rc = plx_natimg_run(&no, &err);
  cli_signals(0);
  if (rc)
    return cli_fail(rc, err.msg);
  if (!o->quiet) {
    if (no.pretrained[0])
      fprintf(stderr, "plastix: trained network loaded from %s (not trained here)\n",
              no.pretrained);
    else if (no.denoise)
      fprintf(stderr, "plastix: final loss %.4g, held-out variance explained %.3f\n",
              no.final_loss, no.eval_accuracy);
    else
      fprintf(stderr, "plastix: final loss %.4g, held-out accuracy %.3f (chance %.3f)\n",
              no.final_loss, no.eval_accuracy, no.chance);
    fprintf(stderr, "plastix: photographs' cardinal/oblique gradient energy: geometric mean "
                    "%.2f, %zu of %zu above 1\n",
            no.photo_ratio_geomean, no.photos_cardinal, no.n_photos);
    for (k = 0; k < PLX_NATIMG_N_CONDITIONS; k++) {
      if (!no.measured[k])
        continue;
      fprintf(stderr, "plastix: cardinal/oblique sqrt D, %-9s:", plx_natimg_condition_names[k]);
      for (p = 0; p < no.n_probes; p++)
        fprintf(stderr, " %s %.2f", no.probe_names[p], no.ratio[k][p]);
      fputc('\n', stderr);
    }
    if (no.n_seeds > 1)
      cli_print_natimg_seed_stats(&no);
    fprintf(stderr, "plastix: wrote %s\n", no.out_used);
  }
  return 0;
}

int cmd_run(int argc, char **argv)
{
  cli_opts o;
  int rc = cli_parse(argc, argv, &o, run_usage, 0);
  if (rc)
    return rc < 0 ? 0 : rc;
  if (plx_orientation_is(o.config))
    return run_orientation(&o);
  if (plx_natimg_is(o.config))
    return run_natimg(&o);
  if (plx_perceptual_is(o.config))
    return cli_run_perceptual(&o);
  if (plx_linearnet_wants(o.config, o.sets, o.n_sets))
    return cli_run_linear(&o);
  return run_experiment("run", &o, 1);
}

int cmd_analyze(int argc, char **argv)
{
  cli_opts o;
  int rc = cli_parse(argc, argv, &o, analyze_usage, 1);
  if (rc)
    return rc < 0 ? 0 : rc;
  return run_experiment("analyze", &o, 0);
}

int cmd_check(int argc, char **argv)
{
  cli_opts o;
  plx_experiment *e;
  plx_error err;
  void *rs = NULL;
  int rc = cli_parse(argc, argv, &o, check_usage, 0);
  if (rc)
    return rc < 0 ? 0 : rc;
  if (plx_orientation_is(o.config)) {
    plx_orientation_opts oo;
    char summary[512];
    memset(&oo, 0, sizeof oo);
    oo.config = o.config;
    oo.overrides = o.sets;
    oo.n_overrides = o.n_sets;
    if ((rc = plx_orientation_check(&oo, summary, sizeof summary, &err)))
      return cli_fail(rc, err.msg);
    printf("%s: ok: %s\n", o.config, summary);
    return 0;
  }
  if (plx_natimg_is(o.config)) {
    plx_natimg_opts no;
    char summary[512];
    memset(&no, 0, sizeof no);
    no.config = o.config;
    no.overrides = o.sets;
    no.n_overrides = o.n_sets;
    if ((rc = plx_natimg_check(&no, summary, sizeof summary, &err)))
      return cli_fail(rc, err.msg);
    printf("%s: ok: %s\n", o.config, summary);
    return 0;
  }
  if (plx_perceptual_is(o.config))
    return cli_check_perceptual(&o);
  if (plx_linearnet_wants(o.config, o.sets, o.n_sets))
    return cli_check_linear(&o);
  {
    plx_load_opts lo = {o.rule, 1, 0, 0};
    if ((rc = plx_experiment_load_opts(&e, o.config, o.sets, o.n_sets, &lo, &err)))
      return cli_fail(rc, err.msg);
  }
  if (e->rule) {
    if ((rc = e->rule->init(&rs, e->model->proj, e->model->n_proj, 1,
                            e->rule_params, &err))) {
      plx_experiment_free(e);
      return cli_fail(rc, err.msg);
    }
    e->rule->free(rs);
  }
  if (e->weights_file[0] && (rc = plx_experiment_init_weights(e, &err))) {
    plx_experiment_free(e);
    return cli_fail(rc, err.msg);
  }
  {
    char rules[512];
    size_t k, n = 0;
    if (e->rule || e->n_rule_names == 0)
      snprintf(rules, sizeof rules, "rule %s", e->rule ? e->rule->name : "none");
    else {
      n += (size_t)snprintf(rules, sizeof rules, "rules ");
      for (k = 0; k < e->n_rule_names; k++)
        n += (size_t)snprintf(rules + n, sizeof rules - n, "%s%s", k ? ", " : "",
                              e->rule_names[k]);
    }
    printf("%s: ok: experiment %s: %s with %zu units, prior %s via %s, task %s, "
           "%s, %ld training trials\n",
           o.config, e->name, e->model->type->name, e->model->n_hidden,
           plx_prior_describe(e->prior), plx_process_name(e->process.kind),
           plx_task_name(&e->task), rules, e->train.trials);
  }
  plx_experiment_free(e);
  return 0;
}
