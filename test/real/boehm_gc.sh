#!/bin/bash
# Boehm's garbage collector (libgc, built here with gcc -lgc) stops the
# world by sending each thread a signal whose handler must run on that
# thread's own stack, then waits for every one: a coroutine waiting for the
# collector's lock cannot take it, and the collection hung (GPATCH_CORES 1
# and 2), or crashed (4). With libgc loaded at start the runtime keeps real
# threads (as GPATCH_PATCH=-thread) and says so once: four threads that
# allocate and collect give plain's output at 1, 2 and 4 schedulers.
. "$(dirname "$0")/common.bash"
need gcc
cat >"$tmp/gc.c" <<'SRC'
#define GC_THREADS
#include <gc.h>
#include <pthread.h>
#include <stdio.h>

struct node {
  struct node *next;
  long v;
};

static void *work(void *arg)
{
  long id = (long)arg, sum = 0;
  for (int round = 0; round < 200; round++) {
    struct node *head = NULL;
    for (int i = 0; i < 2000; i++) {
      struct node *n = GC_MALLOC(sizeof(*n));
      n->v = i + id;
      n->next = head;
      head = n;
    }
    for (struct node *n = head; n; n = n->next)
      sum += n->v;
  }
  return (void *)sum;
}

int main(void)
{
  pthread_t t[4];
  long total = 0;
  GC_INIT();
  for (long i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, work, (void *)i);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    total += (long)r;
  }
  printf("total %ld, collected %d\n", total, GC_get_gc_no() > 0);
  return 0;
}
SRC
if ! gcc -O1 -pthread -o "$tmp/gc" "$tmp/gc.c" -lgc 2>"$tmp/build.err"; then
  skip "libgc-dev (Boehm's collector; see $tmp/build.err)"
fi
timeout 60 "$tmp/gc" >"$tmp/plain.out" 2>"$tmp/plain.err"
check "plain: exits 0" test $? = 0
for c in 1 2 4; do
  GPATCH_CORES=$c timeout 60 env LD_PRELOAD="$LIB" "$tmp/gc" \
    >"$tmp/patched.out" 2>"$tmp/patched.err"
  rc=$?
  check "GPATCH_CORES=$c: exits 0 (exit $rc)" test $rc = 0
  [ $rc = 0 ] || show "$tmp/patched.err"
  same_output
  notes=$(grep -c "gpatch: Boehm's garbage collector (libgc) is loaded" \
    "$tmp/patched.err")
  check "GPATCH_CORES=$c: the note once on stderr (got $notes)" \
    test "$notes" = 1
done
finish
