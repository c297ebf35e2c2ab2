#!/usr/bin/env bash
# System pieces the tests need and pip cannot install: Debian's Chromium (for the browser journey) and a
# running PostgreSQL with a `test` database reachable at 127.0.0.1:5432 with trust auth (the shared-team
# backend the store tests run against). Installs what is missing, starts what is stopped; idempotent.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian chromium for the browser tests"
  apt_install chromium
fi

if ! command -v pg_lsclusters >/dev/null; then
  echo "installing PostgreSQL for the shared-team store tests"
  apt_install postgresql
  # A test-only server on loopback: trust auth, as the tests expect (QUALKIT_TEST_POSTGRES_URL overrides).
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    grep -q "^host all all 127.0.0.1/32 trust" "$hba" || as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  done
fi

pg_lsclusters --no-header | while read -r version cluster _port status _rest; do
  if [ "$status" != "online" ]; then
    echo "starting PostgreSQL $version/$cluster"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
  fi
done

if command -v psql >/dev/null && ! psql -h 127.0.0.1 -U postgres -d test -Atc "select 1" >/dev/null 2>&1; then
  if psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1" >/dev/null 2>&1; then
    echo "creating the PostgreSQL database 'test'"
    psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
  fi
fi
