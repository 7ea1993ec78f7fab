#!/usr/bin/env bash
# Browser tests: builds enshin, starts `enshin serve --demo` on loopback with a fresh data
# directory, and runs the specs (node:test + playwright-core) in Debian's headless chromium.
# Screenshots go to e2e/artifacts/ (or $E2E_ARTIFACTS). Needs node, npm, /usr/bin/chromium and
# coturn's turnserver (the relay-only call).
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

# TURN for the relay-only call (call.test.mjs starts coturn on this port with this secret).
turn_port="$(node -e "const s=require('dgram').createSocket('udp4');s.bind(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
turn_secret="$data/turn.secret"
(umask 077 && node -e "console.log(require('crypto').randomBytes(24).toString('hex'))" >"$turn_secret")

"$binary" serve --demo --data-dir "$data/enshin" \
  --patient-addr 127.0.0.1:0 --clinic-addr 127.0.0.1:0 --operator-addr 127.0.0.1:0 \
  --turn-urls "turn:127.0.0.1:$turn_port?transport=udp" --turn-secret-file "$turn_secret" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  [ -s "$data/enshin/ports.json" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "enshin did not start" >&2; exit 1; }
  sleep 0.2
done
[ -s "$data/enshin/ports.json" ] || { cat "$log"; echo "enshin did not start within 60 s" >&2; exit 1; }
port() { node -e "console.log(JSON.parse(require('fs').readFileSync('$data/enshin/ports.json'))['$1'].port)"; }

# The real browser path for the clinic certificate (issue 4): an NSS database in a throw-away
# HOME, with the demo clinic's bundle imported by pk12util and the service CA trusted, and a
# Chromium policy that picks the certificate for the clinic site without a dialog. The policy
# file is system-wide, so it is removed on exit whatever happens.
nss_home="$data/home"
mkdir -p "$nss_home/.pki/nssdb"
certutil -N -d "sql:$nss_home/.pki/nssdb" --empty-password
certutil -A -d "sql:$nss_home/.pki/nssdb" -n "enshin service CA" -t "C,," -i "$data/enshin/pki/ca.crt"
bundle_password="$(node -e "console.log(JSON.parse(require('fs').readFileSync('$data/enshin/demo.json')).certificate.password)")"
pk12util -i "$data/enshin/demo-clinic.p12" -d "sql:$nss_home/.pki/nssdb" -W "$bundle_password" -K "" >/dev/null
policy_dir=/etc/chromium/policies/managed
policy="$policy_dir/enshin-e2e-$$.json"
trap 'rm -f "$policy"; cleanup' EXIT
if mkdir -p "$policy_dir" 2>/dev/null && [ -w "$policy_dir" ]; then
  clinic_port="$(port clinic)"
  printf '{"AutoSelectCertificateForUrls": ["{\\"pattern\\":\\"https://localhost:%s\\",\\"filter\\":{\\"ISSUER\\":{\\"CN\\":\\"enshin service CA\\"}}}"]}\n' \
    "$clinic_port" >"$policy"
  export E2E_NSS_HOME="$nss_home"
else
  echo "e2e: cannot write $policy_dir (not root?): the NSS/policy spec will be reported as failed" >&2
fi

# An operator for the console spec; the TOTP secret reaches the spec through the environment.
operator_uri="$(printf 'Hinoki-88-forest!\n' | "$binary" operator add e2e.ops --json --data-dir "$data/enshin" \
  | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).otpauth_uri))")"

rm -rf "$artifacts"
mkdir -p "$artifacts"
export E2E_DATA="$data/enshin"
export E2E_PATIENT_URL="https://localhost:$(port patient)"
export E2E_CLINIC_URL="https://localhost:$(port clinic)"
export E2E_OPERATOR_URL="https://localhost:$(port operator)"
export E2E_OPERATOR_URI="$operator_uri"
export E2E_ARTIFACTS="$artifacts"
export E2E_TURN_PORT="$turn_port"
export E2E_TURN_SECRET_FILE="$turn_secret"
# Playwright makes the TLS connection that presents the client certificate; it trusts our CA.
export NODE_EXTRA_CA_CERTS="$data/enshin/pki/ca.crt"
status=0
(cd "$here" && node --test --test-concurrency=1 patient.test.mjs clinic.test.mjs operator.test.mjs call.test.mjs) || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- enshin log ---"; cat "$log"
fi
echo "screenshots: $artifacts"
exit "$status"
