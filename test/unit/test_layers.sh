#!/bin/bash
# The layers point one way (shim -> core -> arch), and the export map says
# exactly which names are interposed:
#   1. no object of core/ or arch/ has an undefined symbol that the library
#      interposes: the runtime never calls an interposed name (it would
#      re-enter the shim, from a signal handler or a report);
#   2. every GP_EXPORT of shim/ is in gpatch.map and every interposed name
#      of the map has a GP_EXPORT (a forgotten map line hides an
#      interposer without a word);
#   3. shim/ never names libuv: waiting is core's business (gp__park,
#      gp__wake and the structs of coroutines, schedulers and waits are
#      hidden from it by the compiler, GP__CORE).
set -u
B=${B:-build}
fails=0
bad() {
  echo "layers: FAIL: $*"
  fails=$((fails + 1))
}

interposed=$(sed -n '/global:/,/local:/p' gpatch.map | sed 's#/\*.*\*/##' |
  tr ';' '\n' | tr -d ' \t' | grep -E '^[a-zA-Z_0-9]+$' | sort -u)
[ -n "$interposed" ] || bad "no interposed names found in gpatch.map"

# 1. What core/ and arch/ call.
objs=$(find "$B/obj/core" "$B/obj/arch" -name '*.o' 2>/dev/null)
[ -n "$objs" ] || bad "no objects under $B/obj/core and $B/obj/arch (make first)"
for o in $objs; do
  calls=$(nm -u "$o" | awk '{print $2}' | sed 's/@.*//' | sort -u)
  hit=$(comm -12 <(echo "$calls") <(echo "$interposed"))
  [ -z "$hit" ] || bad "$o calls interposed name(s): $(echo $hit)"
done

# 2. The GP_EXPORTs of shim/, each with the name it exports: a
# declaration's __asm__("name") label wins over the C name, for the
# definition that follows too.
exports=$(awk '/^GP_EXPORT/ { decl = ""; on = 1 }
     on { decl = decl " " $0 }
     on && /[;{]/ {
       if (match(decl, /[A-Za-z_0-9]+\(/)) {
         c = substr(decl, RSTART, RLENGTH - 1)
         if (match(decl, /__asm__\("[^"]+"\)/))
           label[c] = substr(decl, RSTART + 9, RLENGTH - 11)
         names[c] = 1
       }
       on = 0
     }
     END { for (c in names) print (c in label) ? label[c] : c }' shim/*.c |
  sort -u)
[ -n "$exports" ] || bad "no GP_EXPORT found in shim/"
missing=$(comm -23 <(echo "$exports") <(echo "$interposed"))
[ -z "$missing" ] || bad "GP_EXPORT in shim/ but not in gpatch.map: $(echo $missing)"
unbacked=$(comm -13 <(echo "$exports") <(echo "$interposed"))
[ -z "$unbacked" ] || bad "in gpatch.map but no GP_EXPORT in shim/: $(echo $unbacked)"

# 3. shim/ and libuv.
uv=$(grep -nE '\buv_[a-z_]+|\bUV_[A-Z_]+\(' shim/*.c shim/*.h)
[ -z "$uv" ] || bad "shim/ names libuv: $uv"

if [ $fails = 0 ]; then
  echo "layers: $(echo "$objs" | wc -w) core and arch objects call no" \
    "interposed name; $(echo "$exports" | wc -l) shim exports match gpatch.map;" \
    "shim/ names no libuv"
  exit 0
fi
exit 1
