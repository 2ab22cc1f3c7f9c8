#!/usr/bin/env bash
# System packages the build and the tests need. Idempotent; run as root (or with sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# PostgreSQL: no default cluster (the tests start their own, in a temporary directory).
$SUDO mkdir -p /etc/postgresql-common
if [ ! -f /etc/postgresql-common/createcluster.conf ]; then
  echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get update -qq
# gcc/libc6-dev: C parts of dependencies; g++ and nasm: OpenH264 (the video export's H.264
# encoder, compiled from the source its crate bundles; nasm assembles its SIMD parts, without it
# the build falls back to plain C, a few times slower); time: benches/check_1m.sh.
# ffmpeg: the video tests read every MP4 back with ffprobe and decode it with ffmpeg.
# Mesa (EGL/GL llvmpipe and Vulkan lavapipe): the wgpu software renderer for snapshot tests.
# xvfb/xauth/imagemagick and the X11 client libraries: running and screenshotting the real window.
# PostgreSQL 15 + PostGIS 3 (and runuser, in util-linux): the database tests' throwaway cluster.
# librsvg2-bin (rsvg-convert) and poppler-utils (pdftoppm, pdftotext, pdffonts, pdfimages): the
# vector export tests draw the SVG and PDF back and read the PDF's text.
$SUDO apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold \
  gcc g++ nasm libc6-dev pkg-config time ffmpeg \
  libegl1 libegl-mesa0 libgl1-mesa-dri mesa-vulkan-drivers libvulkan1 \
  libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon0 libxkbcommon-x11-0 \
  xvfb xauth imagemagick xdotool \
  postgresql-15 postgresql-15-postgis-3 util-linux \
  python3 python3-venv openssl \
  librsvg2-bin poppler-utils >/dev/null
# The Library of Congress BagIt validator (PyPI bagit), which the evidence tests run on the bags
# the program writes: in a virtual environment of its own.
if [ ! -x /opt/incident-map/bagit/bin/bagit.py ]; then
  $SUDO /usr/bin/python3 -m venv /opt/incident-map/bagit
  $SUDO /opt/incident-map/bagit/bin/pip install -q bagit==1.9.0
fi
# Citus (distributed PostgreSQL, AGPL-3.0) for the conformance suite's distributed engine: built
# from ../shared/citus (beside this repository) when that folder is there; without it the Citus
# tests say they are skipped and why. Its build needs the server headers and the libraries they
# include (zstd, lz4, GSSAPI, OpenSSL…).
citus="$(cd "$(dirname "$0")/.." && pwd)/../shared/citus"
if [ -x "$citus/build.sh" ] || [ -f "$citus/build.sh" ]; then
  $SUDO apt-get install -y -qq --no-install-recommends postgresql-server-dev-15 make patch \
    libzstd-dev liblz4-dev libkrb5-dev libssl-dev libselinux1-dev libpam0g-dev libxml2-dev \
    libxslt1-dev libreadline-dev zlib1g-dev >/dev/null
  $SUDO bash "$citus/build.sh"
else
  echo "Citus not built: $citus is missing (the Citus tests will be skipped)"
fi
