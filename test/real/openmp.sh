#!/bin/bash
# OpenMP (libgomp, built here with gcc -fopenmp): libgomp waits with futex
# system calls of its own, which no preload sees, so a team larger than the
# schedulers can hang (README, limitations). With OMP_NUM_THREADS at most
# GPATCH_CORES it runs: same output plain and patched, at 2 and at 4. The
# runtime says once on stderr, when libgomp makes its first thread, what
# the limit is.
. "$(dirname "$0")/common.bash"
need gcc
cat >"$tmp/omp.c" <<'SRC'
#include <omp.h>
#include <stdio.h>
int main(void)
{
  long s = 0;
  for (int rep = 0; rep < 50; rep++) {
#pragma omp parallel for reduction(+ : s) schedule(static)
    for (int i = 0; i < 200000; i++)
      s += i % 7;
  }
  printf("threads %d, sum %ld\n", omp_get_max_threads(), s);
  return 0;
}
SRC
if ! gcc -O2 -fopenmp -o "$tmp/omp" "$tmp/omp.c" 2>"$tmp/build.err"; then
  skip "gcc -fopenmp (libgomp; see $tmp/build.err)"
fi
for n in 2 4; do
  for mode in plain patched; do
    pre=()
    [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB" GPATCH_CORES=$n)
    OMP_NUM_THREADS=$n timeout 60 "${pre[@]}" "$tmp/omp" \
      >"$tmp/$mode.out" 2>"$tmp/$mode.err"
    rc=$?
    check "$n threads, $mode: exits 0 (exit $rc)" test $rc = 0
    [ $rc = 0 ] || show "$tmp/$mode.err"
  done
  same_output
  notes=$(grep -c "gpatch: OpenMP (libgomp) makes threads" "$tmp/patched.err")
  check "$n threads: the OpenMP note once on stderr (got $notes)" \
    test "$notes" = 1
done
finish
