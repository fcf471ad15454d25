/* plastix/registry.h -- finding learning rules by name: the built-in table
 * and out-of-tree modules loaded with libltdl.
 *
 * Lookup order: built-ins, then modules named <name>.la/.so in each
 * directory of the config key rule.path, of $PLX_RULE_PATH (colon
 * separated), then the install directory PLX_RULEDIR.  A module exports
 * `const plx_rule_type *plx_rule_entry` whose abi_version must equal
 * PLX_RULE_ABI_VERSION. */
#ifndef PLASTIX_REGISTRY_H
#define PLASTIX_REGISTRY_H

#include "plastix/rule.h"

extern const plx_rule_type *const plx_builtin_rules[]; /* NULL-terminated */

/* Find a rule.  extra_path (colon-separated, may be NULL) is searched before
 * $PLX_RULE_PATH.  On a miss err lists every valid name. */
const plx_rule_type *plx_rule_lookup(const char *name, const char *extra_path,
                                     plx_error *err);
/* Load a module file explicitly (tests, `plastix list rules --path`). */
const plx_rule_type *plx_rule_load_file(const char *path, plx_error *err);
/* Names of the built-ins plus modules found on the search path, for
 * listings; returns the count, fills up to max names (static storage). */
size_t plx_rule_names(const char *extra_path, const char **names, size_t max);
/* Release every loaded module (end of program). */
void plx_rule_unload_all(void);

#endif
