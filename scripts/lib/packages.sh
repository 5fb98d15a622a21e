# packages.sh - sourced by scripts/*: install missing Debian packages.
#
#   ensure_packages PKG...   installs the ones not installed yet (apt-get, quiet);
#                            does nothing, and prints nothing, when all are there.

# The packages every build needs: compilers, CMake, and the libraries of DESIGN.md.
GTIDPROXY_BUILD_PACKAGES=(gcc make cmake pkg-config libuv1-dev libjansson-dev
  libmariadb-dev libssl-dev)
# What the test command adds: clang + its sanitizer/libFuzzer runtimes, cmocka,
# the MariaDB server and client the integration tests start, docker-compose
# (validates docker/docker-compose.yml; no engine is needed for that).
GTIDPROXY_TEST_PACKAGES=(clang libclang-rt-14-dev libcmocka-dev mariadb-server
  mariadb-client docker-compose)

ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  # policy-rc.d keeps the package's own mariadb service from starting on 3306:
  # tests start their own servers.
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
