/* main.c -- the plastix command: dispatch to subcommands, --help and
 * --version.  Exit status: 0 ok, 1 run failed, 2 bad input. */
#include "config.h"
#include <sched.h>
#include "cli.h"
#include "plastix/error.h"
#include "plastix/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void openblas_set_num_threads(int);

static const char usage[] =
    "usage: plastix <command> [options]\n"
    "\n"
    "Plasticity simulator: train stochastic rate circuits with learning-rule\n"
    "plugins on stimulus priors, then probe the codes they learn.\n"
    "\n"
    "commands:\n"
    "  run CONFIG       train, test and probe; write a run directory\n"
    "  analyze CONFIG --weights FILE\n"
    "                   test and probe a network with loaded weights\n"
    "  compare CONFIG [--rules a,b,c] [--seeds S]\n"
    "                   every rule on the same prior, circuit and seeds:\n"
    "                   statistics over seeds, efficient-coding scorecard\n"
    "  report RUN_DIR   reduce a perceptual_learning run again (tables,\n"
    "                   figures, effects) with changed analysis keys; with\n"
    "                   several runs, statistics over runs or seeds\n"
    "  check CONFIG     validate a config (exit 2 with file:line on errors)\n"
    "  list [rules|models|priors|probes|keys]\n"
    "                   what this plastix offers\n"
    "\n"
    "Run 'plastix <command> --help' for a command's options; 'man plastix'\n"
    "for the config reference.\n";

int cli_default_threads(void)
{
  const char *env = getenv("OMP_NUM_THREADS");
  cpu_set_t set;
  if (env && atoi(env) > 0)
    return atoi(env);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
  return 1;
}

int cli_fail(int code, const char *msg)
{
  fprintf(stderr, "plastix: %s\n", msg);
  return plx_exit_status(code);
}

int main(int argc, char **argv)
{
  int rc;
  /* parallelism is over trials and seeds; BLAS stays single-threaded so
   * results do not depend on the thread count */
  openblas_set_num_threads(1);
  if (argc < 2) {
    fputs(usage, stderr);
    return PLX_EXIT_BADINPUT;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    fputs(usage, stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("plastix %s (rule ABI %u)\n", PACKAGE_VERSION, PLX_RULE_ABI_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "run") == 0)
    rc = cmd_run(argc - 1, argv + 1);
  else if (strcmp(argv[1], "analyze") == 0)
    rc = cmd_analyze(argc - 1, argv + 1);
  else if (strcmp(argv[1], "check") == 0)
    rc = cmd_check(argc - 1, argv + 1);
  else if (strcmp(argv[1], "list") == 0)
    rc = cmd_list(argc - 1, argv + 1);
  else if (strcmp(argv[1], "compare") == 0)
    rc = cmd_compare(argc - 1, argv + 1);
  else if (strcmp(argv[1], "report") == 0)
    rc = cmd_report(argc - 1, argv + 1);
  else {
    fprintf(stderr, "plastix: unknown command '%s' (commands: run, analyze, "
                    "compare, report, check, list; see plastix --help)\n", argv[1]);
    rc = PLX_EXIT_BADINPUT;
  }
  plx_rule_unload_all();
  return rc;
}
