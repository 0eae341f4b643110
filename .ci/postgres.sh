#!/usr/bin/env bash
# Starts Debian's PostgreSQL on 127.0.0.1 with a throw-away role and database for the store tests, and prints
# the URL to use (KSTANCE_TEST_POSTGRES_URL). Installs the server first if it is missing (as root, with apt-get).
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/tmp/kstance-ci-pg.log 2>&1 || exit 1
  else
    exit 1
  fi
fi
ver=$(ls /etc/postgresql | sort -n | tail -1)
pg_ctlcluster "$ver" main start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -h 127.0.0.1" && break
  sleep 1
done
su postgres -c "psql -q -v ON_ERROR_STOP=1" >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS kstance_test;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kstance_test') THEN
    CREATE ROLE kstance_test LOGIN PASSWORD 'kstance-test-pw';
  END IF;
END $$;
-- each pytest-xdist worker makes a database of its own beside this one (tests/conftest.py)
ALTER ROLE kstance_test CREATEDB;
CREATE DATABASE kstance_test OWNER kstance_test;
SQL
echo "postgresql+psycopg://kstance_test:kstance-test-pw@127.0.0.1:5432/kstance_test"
