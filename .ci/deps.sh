#!/usr/bin/env bash
# System packages the build and the tests need. Idempotent; run as root (or with sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# gcc/libc6-dev: C parts of dependencies; time: benches/check_1m.sh.
# Mesa (EGL/GL llvmpipe and Vulkan lavapipe): the wgpu software renderer for snapshot tests.
# xvfb/xauth/imagemagick and the X11 client libraries: running and screenshotting the real window.
$SUDO apt-get install -y -qq --no-install-recommends \
  gcc libc6-dev pkg-config time \
  libegl1 libegl-mesa0 libgl1-mesa-dri mesa-vulkan-drivers libvulkan1 \
  libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon0 libxkbcommon-x11-0 \
  xvfb xauth imagemagick xdotool >/dev/null
