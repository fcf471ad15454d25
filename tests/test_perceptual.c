/* test_perceptual.c -- the perceptual-learning path (placeholder while it
 * is built). */
#include "config.h"
#include <check.h>
#include <stdlib.h>

START_TEST(test_nothing)
{
  ck_assert_int_eq(1, 1);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("perceptual");
  TCase *tc = tcase_create("core");
  SRunner *sr;
  int nf;
  tcase_add_test(tc, test_nothing);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}
