#!/bin/sh
# Installs what `make run` / `make test` need on Debian 12, only when missing.
set -e
need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
pkgs="build-essential libssl-dev openssl ca-certificates"
[ "$1" = test ] && pkgs="$pkgs nginx-light python3 valgrind curl man-db clang libclang-rt-14-dev"   # man-db: the man page lint (test_install); clang: make fuzz-check
for p in $pkgs; do have_pkg "$p" || need="$need $p"; done
if [ -n "$need" ]; then
    echo "installing:$need"
    if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need
fi
