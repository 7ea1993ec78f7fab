#!/usr/bin/env bash
# Browser tests: builds enshin, starts `enshin serve --demo` on loopback with a fresh data
# directory, and runs the specs (node:test + playwright-core) in Debian's headless chromium.
# Screenshots go to e2e/artifacts/ (or $E2E_ARTIFACTS). Needs node, npm and /usr/bin/chromium.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
artifacts="${E2E_ARTIFACTS:-$here/artifacts}"

cargo build --quiet -p enshin --manifest-path "$root/Cargo.toml"
binary="${CARGO_TARGET_DIR:-$root/target}/debug/enshin"
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

data="$(mktemp -d)"
log="$data/serve.log"
cleanup() {
  if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

"$binary" serve --demo --data-dir "$data/enshin" \
  --patient-addr 127.0.0.1:0 --clinic-addr 127.0.0.1:0 --operator-addr 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  [ -s "$data/enshin/ports.json" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "enshin did not start" >&2; exit 1; }
  sleep 0.2
done
[ -s "$data/enshin/ports.json" ] || { cat "$log"; echo "enshin did not start within 60 s" >&2; exit 1; }
port() { node -e "console.log(JSON.parse(require('fs').readFileSync('$data/enshin/ports.json'))['$1'].port)"; }
clinic_id="$(node -e "console.log(JSON.parse(require('fs').readFileSync('$data/enshin/demo.json')).clinic.id)")"

# The demo clinic's client certificate, signed by the service CA (until `enshin cert issue`
# exists, issue 4, openssl makes it from the CA in the data directory).
pki="$data/enshin/pki"
openssl ecparam -name prime256v1 -genkey -noout -out "$data/enshin/e2e-client.key"
openssl req -new -key "$data/enshin/e2e-client.key" -subj "/CN=e2e clinic PC" -out "$data/client.csr"
printf 'subjectAltName=URI:urn:enshin:clinic:%s\nextendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' \
  "$clinic_id" >"$data/client.ext"
openssl x509 -req -in "$data/client.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
  -set_serial "0x$(openssl rand -hex 16)" -days 1 -extfile "$data/client.ext" \
  -out "$data/enshin/e2e-client.crt" 2>/dev/null

rm -rf "$artifacts"
mkdir -p "$artifacts"
export E2E_DATA="$data/enshin"
export E2E_PATIENT_URL="https://localhost:$(port patient)"
export E2E_CLINIC_URL="https://localhost:$(port clinic)"
export E2E_ARTIFACTS="$artifacts"
# Playwright makes the TLS connection that presents the client certificate; it trusts our CA.
export NODE_EXTRA_CA_CERTS="$pki/ca.crt"
status=0
(cd "$here" && node --test --test-concurrency=1 patient.test.mjs clinic.test.mjs) || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- enshin log ---"; cat "$log"
fi
echo "screenshots: $artifacts"
exit "$status"
