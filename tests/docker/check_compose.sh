#!/usr/bin/env bash
# check_compose.sh PROFILE - validates docker/docker-compose.yml for one profile
# with docker-compose (no engine needed) and checks that the profile's cluster
# and proxy services are all there. No Docker engine runs on CI machines, so
# this is how the compose file stays correct.
set -euo pipefail
profile=${1:?usage: check_compose.sh mysql|mariadb}
file="$(dirname "$0")/../../docker/docker-compose.yml"
command -v docker-compose >/dev/null || { echo "docker-compose is not installed" >&2; exit 1; }
rendered=$(docker-compose -f "$file" --profile "$profile" config)
services=$(docker-compose -f "$file" --profile "$profile" config --services)
for svc in "$profile-primary" "$profile-replica1" "$profile-replica2" "gtidproxy-$profile"; do
  grep -qx "$svc" <<<"$services" || { echo "profile $profile: service $svc missing" >&2; exit 1; }
done
grep -q -- "- $profile" <<<"$rendered" || { echo "no service carries profile $profile" >&2; exit 1; }
echo "docker-compose profile $profile: valid"
