#!/usr/bin/env bash
# Install (once) what the tests need from Debian: Chromium and a CJK font for the browser
# tests, Redis and nginx for the scale-out tests (each test starts its own), and the
# PostgreSQL server the store tests run against, started on loopback.
# Writes the URL the tests use to var/test_database_url. Skips quietly where it cannot
# (not root, no apt): the PostgreSQL tests then report themselves as skipped.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
rm -f var/test_database_url
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "services: installing Chromium and a CJK font for the browser tests (once)..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; } \
    || echo "services: could not install Chromium; the browser tests will say so"
fi
if ! command -v redis-server >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "services: installing Redis and nginx for the scale-out tests (once)..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server nginx-light >/dev/null; } \
    || echo "services: could not install Redis and nginx; the cluster tests will say so"
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "services: PostgreSQL is not installed and cannot be installed here; its tests will be skipped."
    exit 0
  fi
  echo "services: installing PostgreSQL (once)..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } \
    || { echo "services: could not install PostgreSQL"; exit 0; }
fi
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
[ -n "$version" ] || { echo "services: no PostgreSQL cluster found"; exit 0; }
pg_ctlcluster "$version" main start 2>/dev/null || true
for _ in $(seq 1 30); do
  su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
# A role and database per checkout (two clones on one machine never share one), with a fresh
# random password each run, kept only in var/ (git-ignored), never in the repo.
name="shop_test_$(pwd | sha1sum | cut -c1-8)"
password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$name'\"" | grep -q 1 \
  || su postgres -c "psql -qc 'CREATE ROLE $name LOGIN CREATEDB'" >/dev/null
su postgres -c "psql -qc \"ALTER ROLE $name PASSWORD '$password'\"" >/dev/null
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='$name'\"" | grep -q 1 \
  || su postgres -c "createdb -O $name $name"
echo "postgresql+psycopg2://$name:$password@127.0.0.1:5432/$name" > var/test_database_url
echo "services: PostgreSQL $version is running on 127.0.0.1:5432."
