/* test_files.h -- file helpers shared by the test programs that compare
 * run directories (tests/test_natimg.c, tests/test_perceptual.c). */
#ifndef PLASTIX_TEST_FILES_H
#define PLASTIX_TEST_FILES_H

#include <stdio.h>

/* 1 when files a and b exist and hold the same bytes */
static inline int same_bytes(const char *a, const char *b)
{
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int ca, cb, same = fa && fb;
  while (same) {
    ca = getc(fa);
    cb = getc(fb);
    same = ca == cb;
    if (ca == EOF)
      break;
  }
  if (fa)
    fclose(fa);
  if (fb)
    fclose(fb);
  return same;
}

#endif
