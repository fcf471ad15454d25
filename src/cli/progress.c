/* progress.c -- the progress line of the plastix command: stage, percent,
 * elapsed time and ETA, redrawn in place on a terminal and printed every
 * 10 % otherwise (logs stay readable).  The ETA extrapolates the stage's
 * rate so far; below 1 % done it is shown as "--" (a rate from the first
 * few units, which often carry a stage's set-up, said "60h" for a
 * one-hour run). */
#include "config.h"
#include "cli.h"
#include "plastix/clock.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* the least fraction of a stage done before its ETA is extrapolated */
#define ETA_MIN_FRACTION 0.01

static void fmt_secs(double s, char *buf, size_t n)
{
  if (s < 0 || s != s)
    snprintf(buf, n, "--");
  else if (s < 60)
    snprintf(buf, n, "%.0fs", s);
  else if (s < 3600)
    snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
  else
    snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

void cli_progress_init(cli_progress *p, int quiet)
{
  memset(p, 0, sizeof *p);
  p->quiet = quiet;
  p->tty = isatty(STDERR_FILENO);
}

void cli_progress_cb(void *ctx, const char *stage, double frac)
{
  cli_progress *p = ctx;
  double t = plx_clock_seconds(), el, eta;
  char e1[32], e2[32];
  if (p->quiet)
    return;
  if (strcmp(p->stage, stage) != 0) {
    if (p->tty && p->stage[0])
      fputc('\n', stderr);
    snprintf(p->stage, sizeof p->stage, "%s", stage);
    p->t0 = t;
    p->last_decile = -1;
  }
  if (frac <= 0.0)
    return; /* the stage's clock starts now */
  el = t - p->t0;
  eta = frac >= ETA_MIN_FRACTION ? el * (1.0 - frac) / frac : -1;
  fmt_secs(el, e1, sizeof e1);
  fmt_secs(eta, e2, sizeof e2);
  if (p->tty) {
    if (t - p->last_draw < 0.2 && frac < 1.0)
      return;
    p->last_draw = t;
    fprintf(stderr, "\r[%-6s] %5.1f%%  elapsed %-7s ETA %-7s", stage,
            100.0 * frac, e1, e2);
    if (frac >= 1.0)
      fputc('\n', stderr), p->stage[0] = '\0';
  } else {
    int dec = (int)(frac * 10.0 + 1e-9);
    if (dec == p->last_decile)
      return;
    p->last_decile = dec;
    fprintf(stderr, "[%s] %3.0f%%  elapsed %s  ETA %s\n", stage, 100.0 * frac,
            e1, e2);
  }
  fflush(stderr);
}
