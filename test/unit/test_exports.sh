#!/bin/bash
# The library exports exactly the public API (the gp_ functions that
# include/gpatch.h declares) and the interposed libc names of gpatch.map:
# nothing internal (gp__*, libuv, libunwind) leaks into host programs.
set -u
B=${B:-build}
lib=$B/libgpatch.so

exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort -u)
declared=$(grep -oE '\bgp_[a-z_]+\(' include/gpatch.h | tr -d '(' | sort -u)
interposed=$(sed -n '/global:/,/local:/p' gpatch.map | sed 's#/\*.*\*/##' |
  tr ';' '\n' | tr -d ' \t' | grep -E '^[a-zA-Z_0-9]+$' | sort -u)
expected=$(printf '%s\n%s\n' "$declared" "$interposed" | grep . | sort -u)

extra=$(comm -23 <(echo "$exported") <(echo "$expected"))
missing=$(comm -13 <(echo "$exported") <(echo "$expected"))
if [ -n "$extra" ]; then
  echo "exported but not public or interposed:"; echo "$extra"
fi
if [ -n "$missing" ]; then
  echo "declared or listed but not exported:"; echo "$missing"
fi
n=$(echo "$exported" | wc -l)
if [ -z "$extra$missing" ]; then
  echo "exports: $n symbols, exactly the public API and interposers"
  exit 0
fi
exit 1
