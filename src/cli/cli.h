/* cli.h -- shared pieces of the plastix command: options, progress line,
 * subcommand entry points.  Only the command prints; the library reports
 * through plx_error. */
#ifndef PLASTIX_CLI_H
#define PLASTIX_CLI_H

#include <stddef.h>

typedef struct cli_progress {
  int quiet, tty, last_decile;
  char stage[32];
  double t0, last_draw;
} cli_progress;

void cli_progress_init(cli_progress *p, int quiet);
void cli_progress_cb(void *ctx, const char *stage, double frac);

#define CLI_MAX_SET 64

typedef struct cli_opts {
  const char *config;
  const char *out;
  const char *weights;
  const char *weights_set;
  const char *rule;        /* --rule NAME: rules.NAME of the config */
  const char *sets[CLI_MAX_SET];
  size_t n_sets;
  int threads;
  int quiet;
} cli_opts;

/* Parse the options common to run/analyze/check; returns 0, or an exit
 * status (after printing) on bad usage.  `usage` is printed for --help. */
int cli_parse(int argc, char **argv, cli_opts *o, const char *usage,
              int want_weights);

int cmd_run(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Threads when --threads is not given: $OMP_NUM_THREADS if set, else the
 * CPUs this process may run on (its affinity mask). */
int cli_default_threads(void);

/* Signal handling around a run directory being written (cmd_run.c). */
struct plx_rundir;
/* The run directory a signal handler must remove (NULL: none). */
extern struct plx_rundir *volatile cli_current_rd;
/* Install (1) or remove (0) the handlers that abort cli_current_rd. */
void cli_signals(int on);

/* Print "plastix: <msg>" and return the exit status for code. */
int cli_fail(int code, const char *msg);

/* `plastix run` / `plastix check` for the linear-net path (cmd_linear.c). */
int cli_run_linear(const cli_opts *o);
int cli_check_linear(const cli_opts *o);

/* `plastix run` / `plastix check` for the perceptual-learning path
 * (cmd_perceptual.c). */
int cli_run_perceptual(const cli_opts *o);
int cli_check_perceptual(const cli_opts *o);

/* The natural-image statistics over seeds of a run or a report of runs:
 * for the log contrast and the centre units' preference excess, counted
 * and gain-weighted, a line per probed layer (cmd_run.c). */
struct plx_natimg_opts;
void cli_print_natimg_seed_stats(const struct plx_natimg_opts *no);

#endif
