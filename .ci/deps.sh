#!/usr/bin/env bash
# System packages the build and the tests need. Idempotent; run as root (or with sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# gcc/libc6-dev: C parts of dependencies; time: benches/check_1m.sh.
$SUDO apt-get install -y -qq --no-install-recommends gcc libc6-dev pkg-config time >/dev/null
