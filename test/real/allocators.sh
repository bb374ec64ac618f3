#!/bin/bash
# Allocators that call pthread functions from inside malloc, preloaded
# beside libgpatch in both orders (LD_PRELOAD="libgpatch.so ALLOC" and
# "ALLOC libgpatch.so"): jemalloc (libjemalloc2), tcmalloc
# (libgoogle-perftools4, libtcmalloc-minimal4), mimalloc (libmimalloc2.0),
# and test/real/lockalloc.c, built here, whose free takes a mutex while the
# runtime is still resolving libc's functions. Each runs /bin/true and
# test/shim/d_thread_alloc (threads that allocate and free across a queue;
# one OS thread patched) and must print what the program prints with the
# allocator alone, and exit 0. Before the re-entry guard jemalloc and
# tcmalloc died by SIGSEGV (set-up re-entered itself until the stack
# overflowed), tcmalloc then hung in its own spinlock (set-up started from
# inside its first malloc), and lockalloc hung in the resolution. Runs
# have GPATCH_PREEMPT_MS=1: preemption must be off beside such an
# allocator.
# Allocators that are not installed are skipped, each said.
. "$(dirname "$0")/common.bash"
prog=$B/shim/d_thread_alloc
[ -x "$prog" ] || { bad "$prog not built (make tests)"; finish; }

export PATH="$PATH:/sbin:/usr/sbin"
libpath() { ldconfig -p 2>/dev/null | sed -n "s/^[[:space:]]*$1 (.*) => //p" | head -n 1; }

allocs=()
for so in libjemalloc.so.2 libtcmalloc.so.4 libtcmalloc_minimal.so.4 libmimalloc.so.2; do
  p=$(libpath "$so")
  if [ -n "$p" ] && [ -f "$p" ]; then
    allocs+=("$p")
  else
    info "skipped: $so is not installed (scripts/deps installs it)"
  fi
done
if cc -shared -fPIC -O1 -o "$tmp/liblockalloc.so" test/real/lockalloc.c -ldl \
  2>"$tmp/cc.err"; then
  allocs+=("$tmp/liblockalloc.so")
else
  bad "test/real/lockalloc.c does not build"
  show "$tmp/cc.err"
fi

# run TAG PRELOAD COMMAND…: sets $rc; output in $tmp/TAG.out and .err.
run() {
  local tag=$1 pre=$2
  shift 2
  timeout 60 env LD_PRELOAD="$pre" GPATCH_PREEMPT_MS=1 "$@" >"$tmp/$tag.out" 2>"$tmp/$tag.err" </dev/null
  rc=$?
}

for a in "${allocs[@]}"; do
  name=$(basename "$a")
  for cmd in /bin/true "$prog"; do
    run alone "$a" "$cmd"
    [ "$rc" = 0 ] || { bad "$name alone: $cmd exits $rc"; show "$tmp/alone.err"; continue; }
    for order in "$LIB $a" "$a $LIB"; do
      [ "${order%% *}" = "$LIB" ] && o="libgpatch first" || o="$name first"
      # With several schedulers jemalloc crashed about 1 run of the thread
      # test in 10 (mimalloc 1 in 100) while their thread-local state was
      # swapped per coroutine (core/tls.c): 30 runs catch jemalloc's nearly
      # always.
      reps=1
      if [ "$(cores)" -gt 1 ] && [ "$cmd" != /bin/true ]; then
        reps=30
      fi
      for ((i = 0; i < reps; i++)); do
        run patched "$order" "$cmd"
        [ "$rc" = 0 ] && cmp -s "$tmp/alone.out" "$tmp/patched.out" || break
      done
      [ "$i" = "$reps" ] && [ "$reps" -gt 1 ] && info "$name, $o: $(basename "$cmd") alike in all $reps runs"
      # Preemption (every 1 ms here) switched coroutines inside the
      # allocator, whose state is the OS thread's: jemalloc crashed and
      # tcmalloc hung about 1 run in 100. It is off, and says so.
      if [ "$cmd" = "$prog" ] && ! grep -q '^gpatch: preemption is off' "$tmp/patched.err"; then
        bad "$name, $o: no note that preemption is off"
      fi
      if grep -q '^gpatch: jemalloc' "$tmp/patched.err"; then
        bad "$name, $o: the runtime warns of jemalloc"
        show "$tmp/patched.err"
      fi
      if [ "$rc" = 0 ] && cmp -s "$tmp/alone.out" "$tmp/patched.out"; then
        ok "$name, $o: $(basename "$cmd") exits 0, same output as with $name alone"
      else
        bad "$name, $o: $(basename "$cmd") exits $rc$([ $rc = 124 ] && echo ' (timed out)')$(cmp -s "$tmp/alone.out" "$tmp/patched.out" || echo ', output differs')"
        show "$tmp/patched.err"
      fi
    done
  done
done
finish
