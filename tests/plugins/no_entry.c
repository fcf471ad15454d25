/* no_entry.c -- a broken rule module for tests/plugin.sh: a complete rule
 * type, but exported under a misspelt name instead of with
 * PLX_RULE_EXPORT, so the module has no `plx_rule_entry` symbol and the
 * loader must refuse it with a one-line error naming the file. */
#include <plastix/rule.h>

#include <stddef.h>

static int ne_init(void **state, plx_projection *proj, size_t n,
                   size_t max_batch, const plx_params *p, plx_error *err)
{
  (void)proj, (void)n, (void)max_batch, (void)p, (void)err;
  *state = NULL;
  return PLX_OK;
}

static int ne_apply(void *state, plx_projection *proj, size_t n,
                    const plx_signal *sig)
{
  (void)state, (void)proj, (void)n, (void)sig;
  return PLX_OK;
}

static const plx_param_spec ne_spec[] = {PLX_P_END};

static const plx_rule_type ne_rule = {
    .abi_version = PLX_RULE_ABI_VERSION,
    .name = "no_entry",
    .summary = "test module without plx_rule_entry",
    .params = ne_spec,
    .init = ne_init,
    .apply = ne_apply};

/* the mistake under test: not PLX_RULE_EXPORT(ne_rule) */
const plx_rule_type *plx_rule_entry_point = &ne_rule;
