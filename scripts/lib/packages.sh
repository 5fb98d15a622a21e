# packages.sh - sourced by scripts/*: install missing Debian packages.
#
#   ensure_packages PKG...   installs the ones not installed yet (apt-get, quiet);
#                            does nothing, and prints nothing, when all are there.
#                            A package that an installed one Provides counts as
#                            there: NodeSource's nodejs provides (and conflicts
#                            with) Debian's npm, so asking apt for npm next to it fails.

# The packages every build needs: compilers, CMake, and the libraries of DESIGN.md.
GTIDPROXY_BUILD_PACKAGES=(gcc make cmake pkg-config libuv1-dev libjansson-dev
  libmariadb-dev libssl-dev libmicrohttpd-dev libcurl4-openssl-dev libpcre2-dev)
# What the test command adds: clang + its sanitizer/libFuzzer runtimes, cmocka,
# the MariaDB server and client the integration tests start, docker-compose
# (validates docker/docker-compose.yml; no engine is needed for that), and the
# real drivers and load generator tests/drivers/ runs through the proxy (Node's
# mysql2 itself comes from npm: scripts/test installs it into the build tree),
# and promtool (package prometheus) that checks the admin port's /metrics.
GTIDPROXY_TEST_PACKAGES=(clang libclang-rt-14-dev libcmocka-dev mariadb-server
  mariadb-client docker-compose python3-pymysql python3-mysqldb libdbd-mariadb-perl
  nodejs npm sysbench prometheus)

# Names every installed package Provides, one a line (version constraints cut).
provided_packages() {
  dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null |
    sed -n 's/^ii *|//p' | sed -e 's/([^)]*)//g' -e 's/[, ][, ]*/\n/g' | grep -v '^$' || true
}

ensure_packages() {
  local missing=() pkg provided
  provided=$(provided_packages)
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      grep -qx -- "$pkg" <<<"$provided" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  # A policy-rc.d that says 101 keeps packages' own services (mariadb on 3306,
  # prometheus on 9090) from starting: tests start their own servers. One left
  # by the machine's owner stays as it is.
  local policy=/usr/sbin/policy-rc.d ours=0 rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" &&
      ours=1
  fi
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ "$ours" = 0 ] || $sudo rm -f "$policy"
  return "$rc"
}
