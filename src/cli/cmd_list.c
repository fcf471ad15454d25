/* cmd_list.c -- `plastix list`: rules, models, priors, probes and the
 * config keys each section accepts. */
#include "config.h"
#include "cli.h"
#include "plastix/error.h"
#include "plastix/experiment.h"
#include "plastix/model.h"
#include "plastix/probe.h"
#include "plastix/registry.h"

#include <stdio.h>
#include <string.h>

static void emit(const char *line, void *ctx)
{
  (void)ctx;
  printf("  %s\n", line);
}

static const char list_usage[] =
    "usage: plastix list [rules|models|priors|probes|keys] [--path DIRS]\n"
    "\n"
    "  rules    learning rules: built-ins and modules on the search path\n"
    "           (--path, $PLX_RULE_PATH, the install directory)\n"
    "  models   circuit models\n"
    "  priors   stimulus prior families\n"
    "  probes   frozen-network analyses written by run/analyze\n"
    "  keys     every config key with type, default and range\n";

int cmd_list(int argc, char **argv)
{
  const char *what = argc > 1 ? argv[1] : "all";
  const char *path = NULL;
  int all = strcmp(what, "all") == 0, i;
  size_t k;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(list_usage, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--path") == 0 && i + 1 < argc)
      path = argv[++i];
  }
  if (!all && strcmp(what, "rules") && strcmp(what, "models") &&
      strcmp(what, "priors") && strcmp(what, "probes") && strcmp(what, "keys") &&
      strcmp(what, "--path")) {
    fprintf(stderr, "plastix list: unknown topic '%s' (rules, models, priors, probes, keys)\n", what);
    return PLX_EXIT_BADINPUT;
  }
  if (strcmp(what, "--path") == 0)
    all = 1;
  if (all || strcmp(what, "rules") == 0) {
    const char *names[64];
    size_t n = plx_rule_names(path, names, 64);
    printf("rules:\n");
    for (k = 0; k < n && k < 64; k++) {
      plx_error err;
      const plx_rule_type *t = plx_rule_lookup(names[k], path, &err);
      printf("  %-20s %s\n", names[k], t ? t->summary : err.msg);
      if (t && strcmp(what, "rules") == 0)
        plx_params_describe(t->params, "rule", emit, NULL);
    }
  }
  if (all || strcmp(what, "models") == 0) {
    printf("models:\n");
    for (k = 0; plx_model_types[k]; k++) {
      printf("  %-20s %s\n", plx_model_types[k]->name, plx_model_types[k]->summary);
      if (strcmp(what, "models") == 0)
        plx_params_describe(plx_model_types[k]->params, "model", emit, NULL);
    }
  }
  if (all || strcmp(what, "priors") == 0) {
    printf("priors:\n"
           "  %-20s %s\n  %-20s %s\n  %-20s %s\n  %-20s %s\n",
           "von_mises", "p(theta) proportional to exp(kappa cos(theta - mu))",
           "uniform", "1 / (2 pi)",
           "mixture", "weighted von Mises / uniform components",
           "tabulated", "a density read from a CSV file (theta, density)");
    printf("  (von_mises and mixture take shift and tighten: mu += shift, kappa *= tighten)\n");
  }
  if (all || strcmp(what, "probes") == 0) {
    printf("probes:\n");
    for (k = 0; plx_probes[k].name; k++)
      printf("  %-20s %s\n", plx_probes[k].name, plx_probes[k].summary);
  }
  if (strcmp(what, "keys") == 0) {
    printf("config keys (circuit experiments):\n");
    plx_params_describe(plx_experiment_spec, "", emit, NULL);
    printf("model keys (every model):\n");
    plx_params_describe(plx_model_common_spec, "model", emit, NULL);
    for (k = 0; plx_model_types[k]; k++) {
      printf("model keys (type = \"%s\"):\n", plx_model_types[k]->name);
      plx_params_describe(plx_model_types[k]->params, "model", emit, NULL);
    }
    printf("rule keys (every rule):\n");
    plx_params_describe(plx_rule_head_spec, "rule", emit, NULL);
    for (k = 0; plx_builtin_rules[k]; k++) {
      printf("rule keys (name = \"%s\"):\n", plx_builtin_rules[k]->name);
      plx_params_describe(plx_builtin_rules[k]->params, "rule", emit, NULL);
    }
  }
  return 0;
}
