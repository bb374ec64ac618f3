/* d_thread_mask_fortify: d_thread_mask_inherit built with -O2
 * -D_FORTIFY_SOURCE=2, where longjmp and siglongjmp are glibc's
 * __longjmp_chk: the jumps there must count as mask changes too. */
#include "d_thread_mask_inherit.c"
