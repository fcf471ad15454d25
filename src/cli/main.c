/* main.c -- the plastix command (placeholder while the core is written). */
#include "config.h"
#include <stdio.h>
int main(void) { puts("plastix " PACKAGE_VERSION); return 0; }
