/* cmd_perceptual.c -- `plastix run` (and `plastix check`) for configs whose
 * task.type is "perceptual_learning", and `plastix report RUN_DIR...`: the
 * thin command-line side of the perceptual-learning experiment
 * (src/perceptual.c does the work); a report of natural-image runs goes
 * to src/natimg_pool.c, one of orientation runs to src/orientation_pool.c. */
#include "config.h"
#include "cli.h"
#include "plastix/error.h"
#include "plastix/natimg.h"
#include "plastix/orientation.h"
#include "plastix/perceptual.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* the one-line summary, every measured effect with its statistic (stat:
 * "z" over a run's conditions, "t" over runs), the directory */
static void print_summary(const plx_perceptual_opts *po, const char *stat)
{
  size_t i;
  fprintf(stderr, "plastix: %s\n", po->summary);
  for (i = 0; i < PLX_PL_N_EFFECTS; i++)
    if (po->effects[i].n)
      fprintf(stderr, "plastix:   %-38s %+.4g +- %.2g (%s %.1f, n %zu %s)\n",
              po->effects[i].name, po->effects[i].mean, po->effects[i].sem, stat,
              po->effects[i].z, po->effects[i].n, po->effects[i].over);
  fprintf(stderr, "plastix: wrote %s\n", po->out_used);
}

int cli_run_perceptual(const cli_opts *o)
{
  plx_perceptual_opts po;
  cli_progress cp;
  plx_progress prog;
  plx_error err;
  int rc;
  cli_progress_init(&cp, o->quiet);
  prog.fn = cli_progress_cb;
  prog.ctx = &cp;
  memset(&po, 0, sizeof po);
  po.config = o->config;
  po.overrides = o->sets;
  po.n_overrides = o->n_sets;
  po.out = o->out;
  po.prog = &prog;
  po.threads = o->threads;
  /* a signal removes the partial run directory (see cmd_run.c) */
  po.watch = &cli_current_rd;
  plx_error_clear(&err);
  if (o->rule || o->weights) {
    fprintf(stderr, "plastix: %s is not used by perceptual_learning configs (the rule is "
            "train.rule; initial weights come from model.pretrained)\n",
            o->rule ? "--rule" : "--weights");
    return PLX_EXIT_BADINPUT;
  }
  cli_signals(1);
  rc = plx_perceptual_run(&po, &err);
  cli_signals(0);
  if (rc) {
    if (!o->quiet && cp.tty && cp.stage[0])
      fputc('\n', stderr);
    return cli_fail(rc, err.msg);
  }
  if (!o->quiet)
    print_summary(&po, "z");
  return 0;
}

int cli_check_perceptual(const cli_opts *o)
{
  plx_perceptual_opts po;
  plx_error err;
  char summary[768];
  int rc;
  memset(&po, 0, sizeof po);
  po.config = o->config;
  po.overrides = o->sets;
  po.n_overrides = o->n_sets;
  plx_error_clear(&err);
  rc = plx_perceptual_check(&po, summary, sizeof summary, &err);
  if (rc)
    return cli_fail(rc, err.msg);
  printf("%s: ok: %s\n", o->config, summary);
  return 0;
}

static const char report_usage[] =
    "usage: plastix report RUN_DIR [-o DIR] [--set key.path=value ...] [--quiet]\n"
    "       plastix report RUN_DIR RUN_DIR... -o DIR [--set key.path=value ...]\n"
    "\n"
    "Statistics of finished runs again, without training: a perceptual-learning\n"
    "run reduced with other analysis keys, several of them over runs, the\n"
    "seeds of several natural-image runs pooled, or orientation runs of\n"
    "several seeds.\n"
    "\n"
    "Reduce a finished perceptual_learning run again without training: read\n"
    "its measurements from RUN_DIR/results.h5 and write DIR (default\n"
    "RUN_DIR-report) with the tables, figures, effects and manifest of a run.\n"
    "Only the analysis keys may change:\n"
    "  units.min_activation  units.high_layers  units.smooth_deg\n"
    "  units.window_deg  train.psi_window  test.early_iteration  output.figures\n"
    "(the layer Fisher information is the run's, measured with its own\n"
    "units.min_activation).  With no --set the tables equal the run's.\n"
    "\n"
    "With several runs (for example one per pretrained network), each is\n"
    "reduced the same way and DIR receives the statistics over the runs:\n"
    "tables/effects_by_run.csv and tables/effects_over_runs.csv (each\n"
    "effect's mean, s.e.m. and t over the runs' means, one-sided p).  The\n"
    "runs must share their design: their configs (after --set) may differ\n"
    "only in experiment.seed, experiment.name, model.pretrained(_group),\n"
    "stimulus.reference_orientations and output, and no two may train the\n"
    "same network (the same initial weights, whatever their seeds).\n"
    "\n"
    "Natural-image runs (task.type = \"natural_images\"): their seeds pooled.\n"
    "DIR (required) receives tables/seeds.csv (every seed, with its run),\n"
    "tables/seed_statistics.csv and tables/preferred_statistics.csv, the\n"
    "statistics a run of all those seeds writes, from each run's\n"
    "tables/seeds.csv and tables/preferred_summary.csv.  The runs must share\n"
    "their design (they may differ in experiment.seed, experiment.seeds,\n"
    "experiment.name, conditions.run, probe.steps and output), no seed may\n"
    "be in two of them, and --set is refused.\n"
    "\n"
    "Orientation runs (task.type = \"orientation\"), one per seed: DIR\n"
    "(required) receives tables/seeds.csv (each run's final accuracy and the\n"
    "log ratio of the probed layer's sensitivity within 15 degrees of 90 to\n"
    "that within 15 degrees of 0, at the end and when the layer first reached\n"
    "a quarter of its final sensitivity) and tables/seed_statistics.csv\n"
    "(mean, s.d., t, p and sign test over the seeds).  The runs may differ\n"
    "only in experiment.seed, experiment.name, experiment.description and\n"
    "output; no seed may be in two of them, and --set is refused.\n"
    "\n"
    "  -o, --out DIR        output directory (an older one there is replaced)\n"
    "  -s, --set K=V        change an analysis key, e.g. --set units.min_activation=1.0\n"
    "  -q, --quiet          no summary\n"
    "  -h, --help           this help\n"
    "\n"
    "A run directory given twice is refused.\n"
    "\n"
    "Exit status: 0 ok, 1 failed, 2 bad input (not a run directory, a key a\n"
    "report cannot change, a bad value, runs that are not distinct).\n";

int cmd_report(int argc, char **argv)
{
  enum { MAX_RUNS = 256 };
  const char *runs[MAX_RUNS], *sets[CLI_MAX_SET];
  char cfg0[1200];
  size_t n_runs = 0, n_sets = 0;
  plx_perceptual_opts po;
  plx_error err;
  int i, quiet = 0, rc;
  memset(&po, 0, sizeof po);
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(report_usage, stdout);
      return 0;
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
      quiet = 1;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--out") || !strcmp(a, "-s") ||
               !strcmp(a, "--set")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "plastix report: option %s needs a value\n", a);
        return PLX_EXIT_BADINPUT;
      }
      if (!strcmp(a, "-o") || !strcmp(a, "--out"))
        po.out = argv[++i];
      else if (n_sets == CLI_MAX_SET) {
        fprintf(stderr, "plastix: too many --set options (max %d)\n", CLI_MAX_SET);
        return PLX_EXIT_BADINPUT;
      } else
        sets[n_sets++] = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "plastix report: unknown option '%s' (see plastix report --help)\n", a);
      return PLX_EXIT_BADINPUT;
    } else if (n_runs == MAX_RUNS) {
      fprintf(stderr, "plastix report: at most %d run directories\n", MAX_RUNS);
      return PLX_EXIT_BADINPUT;
    } else
      runs[n_runs++] = a;
  }
  if (!n_runs) {
    fprintf(stderr, "plastix report: missing RUN_DIR (see plastix report --help)\n");
    return PLX_EXIT_BADINPUT;
  }
  plx_error_clear(&err);
  snprintf(cfg0, sizeof cfg0, "%s/config.resolved.cfg", runs[0]);
  if (plx_natimg_is(cfg0)) {
    plx_natimg_opts no;
    memset(&no, 0, sizeof no);
    no.overrides = sets;
    no.n_overrides = n_sets;
    no.out = po.out;
    no.watch = &cli_current_rd;
    cli_signals(1);
    rc = plx_natimg_report_runs(&no, runs, n_runs, &err);
    cli_signals(0);
    if (rc)
      return cli_fail(rc, err.msg);
    if (!quiet) {
      cli_print_natimg_seed_stats(&no);
      fprintf(stderr, "plastix: wrote %s\n", no.out_used);
    }
    return 0;
  }
  if (plx_orientation_is(cfg0)) {
    plx_orientation_report oo;
    int m;
    memset(&oo, 0, sizeof oo);
    oo.overrides = sets;
    oo.n_overrides = n_sets;
    oo.out = po.out;
    oo.watch = &cli_current_rd;
    cli_signals(1);
    rc = plx_orientation_report_runs(&oo, runs, n_runs, &err);
    cli_signals(0);
    if (rc)
      return cli_fail(rc, err.msg);
    if (!quiet) {
      fprintf(stderr, "plastix: over %zu seeds (mean +- s.d., t):\n", oo.stats[0].n);
      for (m = 0; m < PLX_ORIENTATION_N_MEASURES; m++)
        if (isnan(oo.stats[m].t)) /* described only (accuracy) */
          fprintf(stderr, "plastix:   %-24s %+.4g +- %.2g\n", plx_orientation_measures[m],
                  oo.stats[m].mean, oo.stats[m].sd);
        else
          fprintf(stderr, "plastix:   %-24s %+.4g +- %.2g (t %.1f, %d of %zu above zero)\n",
                  plx_orientation_measures[m], oo.stats[m].mean, oo.stats[m].sd, oo.stats[m].t,
                  oo.stats[m].positive, oo.stats[m].n);
      fprintf(stderr, "plastix: wrote %s\n", oo.out_used);
    }
    return 0;
  }
  po.config = runs[0];
  po.overrides = sets;
  po.n_overrides = n_sets;
  po.watch = &cli_current_rd;
  cli_signals(1);
  rc = plx_perceptual_report_runs(&po, runs, n_runs, &err);
  cli_signals(0);
  if (rc)
    return cli_fail(rc, err.msg);
  if (!quiet)
    print_summary(&po, n_runs == 1 ? "z" : "t");
  return 0;
}
