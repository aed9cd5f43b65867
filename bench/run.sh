#!/bin/sh
# make bench: run the benchmarks against build/tlsmodem (built by `make all`;
# this script builds nothing).  Extra arguments go to bench.py
# (sh bench/run.sh --reps 5 --n 200 --no-write).
set -e
cd "$(dirname "$0")/.."
if [ ! -x build/tlsmodem ]; then
    echo "bench: build/tlsmodem is missing; run 'make' first (or 'make bench')" >&2
    exit 2
fi
exec python3 bench/bench.py --bin build/tlsmodem "$@"
