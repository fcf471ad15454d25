/* cmd_perceptual.c -- `plastix run` (and `plastix check`) for configs whose
 * task.type is "perceptual_learning": the thin command-line side of the
 * perceptual-learning experiment (src/perceptual.c does the work). */
#include "config.h"
#include "cli.h"
#include "plastix/error.h"
#include "plastix/perceptual.h"

#include <stdio.h>
#include <string.h>

int cli_run_perceptual(const cli_opts *o)
{
  plx_perceptual_opts po;
  cli_progress cp;
  plx_progress prog;
  plx_error err;
  int rc;
  size_t i;
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
  if (!o->quiet) {
    fprintf(stderr, "plastix: %s\n", po.summary);
    for (i = 0; i < PLX_PL_N_EFFECTS; i++)
      if (po.effects[i].n)
        fprintf(stderr, "plastix:   %-38s %+.4g +- %.2g (z %.1f, n %zu %s)\n",
                po.effects[i].name, po.effects[i].mean, po.effects[i].sem, po.effects[i].z,
                po.effects[i].n, po.effects[i].over);
    fprintf(stderr, "plastix: wrote %s\n", po.out_used);
  }
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
