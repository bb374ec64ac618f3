#!/bin/bash
# The tree stays as `make format` leaves it (.clang-format, libuv's layout):
# fails naming every file clang-format would change. Without clang-format
# (scripts/deps does not install it) it says so and checks nothing.
set -u
cd "$(dirname "$0")/../.." || exit 1
if ! command -v clang-format >/dev/null; then
  echo "format: skipped: clang-format is not installed (apt-get install clang-format)"
  exit 0
fi
bad=0
n=0
for f in $(make -s --no-print-directory format-files); do
  n=$((n + 1))
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "format: FAIL: $f differs from make format's layout (clang-format --dry-run $f)"
    bad=$((bad + 1))
  fi
done
[ $n -gt 0 ] || { echo "format: FAIL: no files to check"; exit 1; }
[ $bad = 0 ] || exit 1
echo "format: ok: $n files as make format leaves them"
