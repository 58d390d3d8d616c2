#!/usr/bin/env bash
# Installs the real DICOM peers the tests run against (Debian packages).
# Idempotent: skips apt when everything is already there.
set -euo pipefail
pkgs=(dcmtk orthanc orthanc-dicomweb python3-pydicom python3-odil chromium)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi
# Debian starts an Orthanc service on install; tests run their own instances.
if command -v systemctl >/dev/null 2>&1; then systemctl stop orthanc >/dev/null 2>&1 || true; fi
pkill -x Orthanc >/dev/null 2>&1 || true
echo "test dependencies ready: ${pkgs[*]}"
