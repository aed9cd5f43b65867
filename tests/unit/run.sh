#!/bin/sh
# Runs each unit-test binary and prints one closing line "N passed, N failed".
pass=0; fail=0; bad=0
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out" | tail -n 30
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/'); f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    [ -n "$p" ] && pass=$((pass + p)); [ -n "$f" ] && fail=$((fail + f))
    if [ $rc -ne 0 ] || [ -z "$line" ]; then bad=$((bad + 1)); echo "FAILED: $t (exit $rc)"; fi
done
echo "unit: $pass passed, $fail failed"
[ $bad -eq 0 ] && [ $fail -eq 0 ]
