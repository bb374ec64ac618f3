#!/bin/bash
# OpenMP (libgomp, built here with gcc -fopenmp). libgomp's threads write
# each other's thread-local state through pointers and wait with futex
# system calls of their own, which no preload sees. With libgomp loaded at
# start the runtime gives each thread its own thread pointer and routes
# those calls (GPATCH_TLS and GPATCH_SUD auto), so a team larger than the
# schedulers runs: same output as plain with 4 and 8 threads on 1 and 2
# schedulers, and nothing said on stderr. With thread-local copies
# (GPATCH_TLS=copy) such a team can hang (README, limitations): the
# runtime says so once, when libgomp makes its first thread, and a team
# no larger than the schedulers still runs.
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
note="gpatch: OpenMP (libgomp) makes threads"

# run THREADS CORES [VAR=VALUE…]: plain, then patched; checks both exit 0
# with the same output.
run() {
  local n=$1 c=$2 mode pre rc
  shift 2
  for mode in plain patched; do
    pre=()
    [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB" GPATCH_CORES="$c" "$@")
    OMP_NUM_THREADS=$n timeout 60 "${pre[@]}" "$tmp/omp" \
      >"$tmp/$mode.out" 2>"$tmp/$mode.err"
    rc=$?
    check "$n threads, $c scheduler(s)${*:+ ($*)}, $mode: exits 0 (exit $rc)" \
      test $rc = 0
    [ $rc = 0 ] || show "$tmp/$mode.err"
  done
  same_output
}

for c in 1 2; do
  for n in 4 8; do
    run $n $c
    check "$n threads on $c: nothing on stderr" test ! -s "$tmp/patched.err"
    [ -s "$tmp/patched.err" ] && show "$tmp/patched.err"
  done
done
for n in 2 4; do
  run $n $n GPATCH_TLS=copy
  notes=$(grep -c "$note" "$tmp/patched.err")
  check "$n threads, TLS copies: the OpenMP note once on stderr (got $notes)" \
    test "$notes" = 1
done
finish
