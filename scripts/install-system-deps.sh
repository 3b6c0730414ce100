#!/usr/bin/env bash
# Install the system (Debian) packages that Silverline's test suite needs.
#
#   sudo bash scripts/install-system-deps.sh      # CI runs it as root before the tests
#
# Idempotent: installs only what is missing, runs `apt-get update` at most once, and
# starts no server (the tests start their own throwaway PostgreSQL on 127.0.0.1).
set -euo pipefail

say() { printf 'install-system-deps: %s\n' "$*"; }

packages=()

# PostgreSQL server binaries (initdb, pg_ctl, postgres) for the catalog tests.
if compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null; then
    say "PostgreSQL found: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
else
    say "PostgreSQL server binaries missing: will install 'postgresql'"
    packages+=(postgresql)
fi

# Debian's Chromium for the docs site's browser tests (driven by Playwright through its
# executable_path: Playwright's own browser downloads cannot work here).
if [ -x /usr/bin/chromium ]; then
    say "Chromium found: /usr/bin/chromium"
else
    say "Chromium missing: will install 'chromium'"
    packages+=(chromium)
fi

if [ "${#packages[@]}" -eq 0 ]; then
    say "nothing to install"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "must run as root to install: ${packages[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# Never start a server from the package scripts: no default cluster, no service start.
if [[ " ${packages[*]} " == *" postgresql "* ]]; then
    say "disabling creation of Debian's default 'main' cluster"
    mkdir -p /etc/postgresql-common/createcluster.d
    printf 'create_main_cluster = false\n' \
        > /etc/postgresql-common/createcluster.d/50-silverline-no-main-cluster.conf
fi
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    say "blocking service starts during the install (temporary /usr/sbin/policy-rc.d)"
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
fi
cleanup() {
    if [ -n "$created_policy" ]; then
        rm -f /usr/sbin/policy-rc.d
    fi
}
trap cleanup EXIT

say "apt-get update"
apt-get update
say "apt-get install -y --no-install-recommends ${packages[*]}"
apt-get install -y --no-install-recommends "${packages[@]}"

if ! compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null \
        && [[ " ${packages[*]} " == *" postgresql "* ]]; then
    say "postgresql installed but no /usr/lib/postgresql/*/bin/pg_ctl found" >&2
    exit 1
fi
say "done"
