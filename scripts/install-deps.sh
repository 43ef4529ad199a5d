#!/usr/bin/env bash
# Install what building and testing hubfetch needs, on Debian 12, if it is
# missing. Needs root (or sudo) only when something has to be installed.
set -euo pipefail

# libclang-rt-14-dev holds the ASan/UBSan runtimes: clang only recommends
# it, and recommends are not installed here. git runs the source checks.
packages=(build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
          git libcurl4-openssl-dev libjansson-dev libssl-dev python3
          ca-certificates)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
# benchmarks and the proxy tests need these real peers
packages+=(nginx-light aria2 curl openssl tinyproxy microsocks tmux)
# the ModelScope index test counts rewrites under strace; the shared-cache
# tests run a second user with setpriv (util-linux)
packages+=(strace util-linux)
# the Rust binding's tests (skipped without it)
command -v cargo >/dev/null 2>&1 || packages+=(cargo)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
