#!/usr/bin/env bash
# Installs Debian's nginx for the scale-out bench (bench/scaleout.py) and as the reverse proxy of
# docs/deployment.md. The bench runs nginx with a configuration of its own on 127.0.0.1; the
# system service that Debian's package may start is stopped again here.
set -u
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "nginx absent and cannot be installed here (needs root and apt-get)."
  exit 1
fi
echo "Installing Debian's nginx…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq nginx-light >/dev/null || {
  echo "nginx could not be installed."; exit 1; }
# Debian starts the default site on port 80 where it can; the bench does not use it.
if [ -f /run/nginx.pid ]; then /usr/sbin/nginx -s stop 2>/dev/null || true; fi
exit 0
