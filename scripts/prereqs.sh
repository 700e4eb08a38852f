#!/usr/bin/env bash
# Installs what a fresh machine lacks for the sandbox: Go is expected; Maven fetches Keycloak; a JDK
# runs it; Node.js and npm run Backstage's validators; gcc builds Gitea's SQLite. Everything else is built from pinned Go modules by the sandbox itself.
set -euo pipefail

need_apt=()
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
# Node.js runs Backstage's validators in the idp_catalog tests (tools/backstage).
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# gpg signs the release test's checksums.
command -v gpg >/dev/null 2>&1 || need_apt+=(gnupg)
# Gitea links SQLite through cgo; Gitea and Atlantis run git (the pipeline test).
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
command -v git >/dev/null 2>&1 || need_apt+=(git)
# The JDKs the sandbox looks for, in its order (internal/sandbox/versions.go).
have_jdk=${IDP_SANDBOX_JAVA_HOME:-}
for jdk in temurin-25-jdk-amd64 temurin-21-jdk-amd64 java-21-openjdk-amd64 java-17-openjdk-amd64; do
  [ -x "/usr/lib/jvm/$jdk/bin/java" ] && have_jdk=$jdk
done
[ -n "$have_jdk" ] || need_apt+=(openjdk-17-jdk-headless)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "prereqs: installing ${need_apt[*]} with apt-get"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}"
fi

go_version=$(go env GOVERSION 2>/dev/null || true)
case "$go_version" in
  go1.2[6-9]*|go1.[3-9]*) ;;
  *) echo "prereqs: Go 1.26 or newer is needed (found '${go_version:-none}')" >&2; exit 1 ;;
esac
echo "prereqs: ok (${go_version}, $(mvn --batch-mode -v 2>/dev/null | head -n1))"
echo "prereqs: the first run builds kube-apiserver, kwok, Crossplane, Vault, OpenTofu, Terraform and more from source (most of an hour on 2 cores); later runs reuse the cache"
