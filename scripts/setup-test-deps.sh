#!/usr/bin/env bash
# Installs the real DICOM peers the tests run against (Debian packages; python3-hl7 as HL7 MLLP sender; GDCM, OpenJPH and
# OpenJPEG as independent JPEG 2000 / HTJ2K encoders and decoders; certutil to make a
# browser test trust the local CA; rsyslog with its TLS driver as the audit repository of the
# ATNA tests, xmllint and rnc2rng to check audit messages against the DICOM schema;
# plastimatch to make the RTSTRUCT the viewer's test draws; orthanc-postgresql, Orthanc's
# PostgreSQL index, for bench/scale-out.ts).
# Idempotent: skips apt when everything is already there.
set -euo pipefail
pkgs=(dcmtk orthanc orthanc-dicomweb orthanc-postgresql python3-pydicom python3-odil python3-hl7 chromium libgdcm-tools openjph-tools libopenjp2-tools libnss3-tools rsyslog rsyslog-gnutls libxml2-utils python3-rnc2rng plastimatch)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
orthanc_service() { # start|stop|status of the Debian Orthanc service, systemd or not
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    if [ "$1" = status ]; then systemctl is-active --quiet orthanc; else $SUDO systemctl "$1" orthanc >/dev/null 2>&1; fi
  elif command -v service >/dev/null 2>&1; then
    $SUDO service orthanc "$1" >/dev/null 2>&1
  else
    return 1
  fi
}
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  was_running=0
  orthanc_service status && was_running=1
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
  # Debian's postinst starts an Orthanc service, and a plugin package's trigger restarts it;
  # tests run their own instances. Stop that service only when this run started it: never
  # one that ran before (a user's own), nor any other Orthanc, so no pkill by name.
  if [[ " ${missing[*]} " == *" orthanc"* ]] && [ "$was_running" = 0 ]; then
    orthanc_service stop || true
  fi
fi
# OHIF v3's built viewer, for the test that runs it against our /dicomweb. Only the
# package's dist/ is used: its npm dependencies do not resolve (@ohif/i18n@3.13.2 is
# not published), so it is unpacked rather than installed.
ohif_version=3.13.2
ohif_dir="${PACS_OHIF_DIR:-$(cd "$(dirname "$0")/.." && pwd)/.cache/ohif-$ohif_version}"
if [ ! -f "$ohif_dir/index.html" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@ohif/app@$ohif_version" >/dev/null && tar xzf ohif-app-*.tgz)
  mkdir -p "$ohif_dir" && cp -r "$tmp/package/dist/." "$ohif_dir/" && rm -rf "$tmp"
fi
echo "test dependencies ready: ${pkgs[*]} ohif@$ohif_version"
