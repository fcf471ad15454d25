/* cmd_compare.c -- `plastix compare`: the same prior, circuit and seeds for
 * each learning rule, with statistics over seeds and an efficient-coding
 * scorecard. */
#include "config.h"
#include "cli.h"
#include "plastix/compare.h"
#include "plastix/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char compare_usage[] =
    "usage: plastix compare CONFIG [--rules a,b,c] [--seeds S] [-o DIR]\n"
    "                              [--set key.path=value ...] [--threads N] [--quiet]\n"
    "\n"
    "Train and probe the circuit of CONFIG once per (rule, seed): every rule of\n"
    "its `rules = { name = {...}; ... }` section (or --rules), seeds\n"
    "compare.first_seed .. + S - 1.  Jobs run in parallel; results do not\n"
    "depend on --threads.  DIR (default runs/<experiment.name>-compare) gets,\n"
    "per rule, mean +- s.e.m. over seeds of the preferred-stimulus density,\n"
    "population rate, sqrt(Fisher information), sensitivity, Fisher\n"
    "information, test error by angle and the learning curve (tables/*.csv,\n"
    "results.h5 /compare/<rule>/..., one side-by-side figure each), and the\n"
    "efficient-coding scorecard (tables/scorecard.csv, figures/scorecard.png).\n"
    "\n"
    "  --rules a,b,c    compare these entries of `rules` only\n"
    "  --seeds S        seeds per rule (default compare.seeds)\n"
    "  -o, --out DIR    run directory\n"
    "  -s, --set K=V    override a config key\n"
    "  -j, --threads N  parallel jobs (default: $OMP_NUM_THREADS or the CPUs)\n"
    "  -q, --quiet      no progress line\n";

int cmd_compare(int argc, char **argv)
{
  plx_compare_opts co;
  cli_opts o;
  cli_progress cp;
  plx_progress prog;
  plx_error err;
  const char *rules = NULL;
  long seeds = 0;
  char *args[256];
  int n = 0, i, rc;
  /* take out the compare-only options, then parse the common ones */
  for (i = 0; i < argc && n < 255; i++) {
    if ((strcmp(argv[i], "--rules") == 0 || strcmp(argv[i], "--seeds") == 0)) {
      if (i + 1 >= argc) {
        fprintf(stderr, "plastix compare: option %s needs a value\n", argv[i]);
        return PLX_EXIT_BADINPUT;
      }
      if (strcmp(argv[i], "--rules") == 0) {
        rules = argv[++i];
      } else {
        char *end;
        seeds = strtol(argv[++i], &end, 10);
        if (*end || seeds < 1) {
          fprintf(stderr, "plastix compare: --seeds expects a positive integer, got '%s'\n",
                  argv[i]);
          return PLX_EXIT_BADINPUT;
        }
      }
      continue;
    }
    args[n++] = argv[i];
  }
  args[n] = NULL;
  if ((rc = cli_parse(n, args, &o, compare_usage, 0)))
    return rc < 0 ? 0 : rc;
  cli_progress_init(&cp, o.quiet);
  prog.fn = cli_progress_cb;
  prog.ctx = &cp;
  memset(&co, 0, sizeof co);
  co.config = o.config;
  co.overrides = o.sets;
  co.n_overrides = o.n_sets;
  co.rules = rules;
  co.seeds = seeds;
  co.threads = o.threads;
  co.out = o.out;
  co.prog = &prog;
  /* a signal removes the partial run directory (see cmd_run.c): the
   * library publishes the handle through co.watch while it writes */
  co.watch = &cli_current_rd;
  plx_error_clear(&err);
  cli_signals(1);
  rc = plx_compare_run(&co, &err);
  cli_signals(0);
  if (rc)
    return cli_fail(rc, err.msg);
  if (!o.quiet)
    fprintf(stderr, "plastix: wrote %s\n", co.out_used);
  return 0;
}
