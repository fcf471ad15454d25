/* cmd_linear.c -- `plastix run` (and `plastix check`) for configs whose
 * model.type is "linear_deep": the thin command-line side of the
 * linear-net path (src/linearnet.c does the work). */
#include "config.h"
#include "cli.h"
#include "plastix/error.h"
#include "plastix/linearnet.h"

#include <stdio.h>
#include <string.h>

int cli_run_linear(const cli_opts *o);
int cli_check_linear(const cli_opts *o);

int cli_run_linear(const cli_opts *o)
{
  plx_linearnet_opts lo;
  cli_progress cp;
  plx_progress prog;
  plx_error err;
  int rc;
  cli_progress_init(&cp, o->quiet);
  prog.fn = cli_progress_cb;
  prog.ctx = &cp;
  memset(&lo, 0, sizeof lo);
  lo.config = o->config;
  lo.overrides = o->sets;
  lo.n_overrides = o->n_sets;
  lo.out = o->out;
  lo.prog = &prog;
  lo.command = "run";
  lo.threads = o->threads;
  /* a signal removes the partial run directory (see cmd_run.c) */
  lo.watch = &cli_current_rd;
  plx_error_clear(&err);
  if (o->rule || o->weights) {
    fprintf(stderr, "plastix: %s is not used by linear_deep configs\n",
            o->rule ? "--rule" : "--weights");
    return PLX_EXIT_BADINPUT;
  }
  cli_signals(1);
  rc = plx_linearnet_run(&lo, &err);
  cli_signals(0);
  if (rc) {
    if (!o->quiet && cp.tty && cp.stage[0])
      fputc('\n', stderr);
    return cli_fail(rc, err.msg);
  }
  if (!o->quiet) {
    fprintf(stderr, "plastix: %s\n", lo.summary);
    fprintf(stderr, "plastix: wrote %s\n", lo.out_used);
  }
  return 0;
}

int cli_check_linear(const cli_opts *o)
{
  plx_error err;
  char summary[512];
  int rc;
  plx_error_clear(&err);
  rc = plx_linearnet_check(o->config, o->sets, o->n_sets, summary, sizeof summary, &err);
  if (rc)
    return cli_fail(rc, err.msg);
  printf("%s: ok: %s\n", o->config, summary);
  return 0;
}
