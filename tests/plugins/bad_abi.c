/* bad_abi.c -- a broken rule module for tests/plugin.sh: a complete rule
 * exported with PLX_RULE_EXPORT, but claiming an ABI version this plastix
 * does not speak (PLX_RULE_ABI_VERSION + 1), as a module built against a
 * newer <plastix/rule.h> would.  The loader must refuse it with a one-line
 * error naming the file and the ABI versions. */
#include <plastix/rule.h>

#include <stddef.h>

static int ba_init(void **state, plx_projection *proj, size_t n,
                   size_t max_batch, const plx_params *p, plx_error *err)
{
  (void)proj, (void)n, (void)max_batch, (void)p, (void)err;
  *state = NULL;
  return PLX_OK;
}

static int ba_apply(void *state, plx_projection *proj, size_t n,
                    const plx_signal *sig)
{
  (void)state, (void)proj, (void)n, (void)sig;
  return PLX_OK;
}

static const plx_param_spec ba_spec[] = {PLX_P_END};

static const plx_rule_type ba_rule = {
    .abi_version = PLX_RULE_ABI_VERSION + 1,
    .name = "bad_abi",
    .summary = "test module with the wrong ABI version",
    .params = ba_spec,
    .init = ba_init,
    .apply = ba_apply};

PLX_RULE_EXPORT(ba_rule);
