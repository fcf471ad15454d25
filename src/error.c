/* error.c -- the single place every plastix error message is written. */
#include "config.h"
#include "plastix/error.h"

#include <gsl/gsl_errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;

static void gsl_off(void) { gsl_set_error_handler_off(); }

void plx_gsl_quiet(void) { pthread_once(&gsl_once, gsl_off); }

int plx_error_set(plx_error *err, int code, const char *fmt, ...)
{
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

void plx_error_clear(plx_error *err)
{
  if (err) {
    err->code = PLX_OK;
    err->msg[0] = '\0';
  }
}

void plx_error_prefix(plx_error *err, const char *fmt, ...)
{
  char prefix[512], old[sizeof err->msg];
  va_list ap;
  if (!err)
    return;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
}

const char *plx_strerror(int code)
{
  switch (code) {
  case PLX_OK: return "ok";
  case PLX_EINVAL: return "bad input";
  case PLX_ENOMEM: return "out of memory";
  case PLX_EIO: return "input/output error";
  case PLX_ENOTFOUND: return "not found";
  case PLX_EDIVERGE: return "dynamics diverged";
  case PLX_EPLUGIN: return "plugin error";
  case PLX_EUNSUPPORTED: return "unsupported combination";
  default: return "unknown error";
  }
}

int plx_exit_status(int code)
{
  switch (code) {
  case PLX_OK: return PLX_EXIT_OK;
  case PLX_EINVAL:
  case PLX_ENOTFOUND:
  case PLX_EPLUGIN:
  case PLX_EUNSUPPORTED:
  case PLX_EDIVERGE:
    return PLX_EXIT_BADINPUT;
  default: return PLX_EXIT_FAILED;
  }
}
