#!/usr/bin/env bash
# Smoke test of a running whatsapp-backend, from the outside, over HTTP(S): health, metrics,
# login, an optional real template send followed to its first status at Twilio, and the two
# Twilio webhooks refusing unsigned requests. One `ok`/`FAIL` line per check; stops at the first
# failure with exit 1. Usage: scripts/smoke-test.sh --help (docs/deployment.md, docs/runbook.md).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/smoke-test.sh BASE_URL
       scripts/smoke-test.sh --help

Checks a running whatsapp-backend at BASE_URL (e.g. https://wa.example.com or
http://127.0.0.1:5000), in order, printing one "ok" or "FAIL" line each and stopping at the
first failure:

  1. GET  /api/v1/health/live    200
  2. GET  /api/v1/health/ready   200
  3. GET  /metrics               200 and a whatsapp_dependency_up series (SMOKE_METRICS_URL)
  4. POST /api/v1/auth/login     200 with an access token
  5. POST /api/v1/whatsapp/send  202 (a template send; only with SMOKE_SEND=1), then
     GET  /api/v1/whatsapp/delivery-status/:id until the message leaves pending/dispatching
  6. POST /api/v1/whatsapp/webhook unsigned   403 BAD_SIGNATURE
  7. POST /api/v1/whatsapp/status  unsigned   403 BAD_SIGNATURE

Environment:
  SMOKE_EMAIL, SMOKE_PASSWORD  required: a user to log in with (role sender or admin to send)
  SMOKE_METRICS_AUTH           the /metrics credentials when METRICS_AUTH is set: user:pass
                               (sent as HTTP Basic), or a whole header value ("Basic ...")
  SMOKE_METRICS_URL            where /metrics is when the public URL does not publish it (the
                               k8s Ingress publishes only /api/v1): e.g. a port-forward,
                               http://127.0.0.1:8080/metrics; "off" skips step 3
  SMOKE_SEND=1                 opt in to step 5: sends one real WhatsApp template message
  SMOKE_TO                     with SMOKE_SEND=1: the recipient, +E164 or whatsapp:+E164
  SMOKE_CONTENT_SID            with SMOKE_SEND=1: an approved template, HX + 32 hex characters
  SMOKE_CONTENT_VARIABLES      optional: the template's variables as a JSON object
  SMOKE_TIMEOUT                seconds to wait for the sent message's status (default 60)
  SMOKE_HTTP_TIMEOUT           seconds per HTTP request (default 10)

Exit status: 0 every check passed; 1 a check failed (the FAIL line says what); 2 bad usage.
Needs curl and node. The password and the access token are never printed or put on a command
line; phone numbers are shown masked. The two unsigned webhook probes are counted in
twilio_webhook_requests_total{result="bad_signature"} (two per run).
EOF
}

die_usage() {
  printf 'smoke-test: %s (see --help)\n' "$1" >&2
  exit 2
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  '') die_usage 'BASE_URL is required' ;;
  -*) die_usage "unknown option $1" ;;
esac
[[ $# -eq 1 ]] || die_usage 'exactly one BASE_URL is expected'
BASE_URL=${1%/}
[[ $BASE_URL =~ ^https?://[^/]+ ]] || die_usage 'BASE_URL must start with http:// or https://'

command -v curl >/dev/null 2>&1 || die_usage 'curl is not installed'
command -v node >/dev/null 2>&1 || die_usage 'node is not installed (it parses the JSON answers)'
[[ -n ${SMOKE_EMAIL:-} && -n ${SMOKE_PASSWORD:-} ]] ||
  die_usage 'SMOKE_EMAIL and SMOKE_PASSWORD must be set'
SMOKE_SEND=${SMOKE_SEND:-0}
SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-60}
SMOKE_HTTP_TIMEOUT=${SMOKE_HTTP_TIMEOUT:-10}
[[ $SMOKE_TIMEOUT =~ ^[0-9]+$ ]] || die_usage 'SMOKE_TIMEOUT must be a number of seconds'
[[ $SMOKE_HTTP_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die_usage 'SMOKE_HTTP_TIMEOUT must be a number of seconds'
if [[ $SMOKE_SEND == 1 ]]; then
  [[ ${SMOKE_TO:-} =~ ^(whatsapp:)?\+[1-9][0-9]{6,14}$ ]] ||
    die_usage 'SMOKE_SEND=1 needs SMOKE_TO, a +E164 or whatsapp:+E164 number'
  [[ ${SMOKE_CONTENT_SID:-} =~ ^HX[0-9a-fA-F]{32}$ ]] ||
    die_usage 'SMOKE_SEND=1 needs SMOKE_CONTENT_SID, HX followed by 32 hex characters'
fi

# Bodies, the login request and the Authorization headers live in a private directory, so no
# secret is ever an argument of curl (visible in ps) or echoed.
umask 077
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STATUS=''

ok() { printf 'ok   %s: %s\n' "$1" "$2"; }
fail() {
  printf 'FAIL %s: %s\n' "$1" "$2"
  exit 1
}

# What a curl exit code means, in one phrase.
curl_problem() {
  local host=${2#*://}
  host=${host%%/*}
  case $1 in
    6) printf 'cannot resolve host %s' "$host" ;;
    7) printf 'cannot connect to %s (connection refused or unreachable: is the server running?)' "$host" ;;
    28) printf 'no answer within %ss (timed out)' "$SMOKE_HTTP_TIMEOUT" ;;
    35) printf 'TLS handshake with %s failed' "$host" ;;
    52) printf 'the server closed the connection without answering' ;;
    56) printf 'the connection was reset while reading the answer' ;;
    60) printf 'the TLS certificate of %s is not trusted' "$host" ;;
    *) printf 'the request failed (curl exit code %s)' "$1" ;;
  esac
}

# request CHECK METHOD URL [curl options...]: sets STATUS, leaves the body in $WORK/body.
request() {
  local check=$1 method=$2 url=$3 rc=0
  shift 3
  STATUS=$(curl --silent --output "$WORK/body" --write-out '%{http_code}' \
    --connect-timeout 5 --max-time "$SMOKE_HTTP_TIMEOUT" --request "$method" "$@" \
    "$url" 2>/dev/null) || rc=$?
  if [[ $rc -ne 0 ]]; then fail "$check" "$method $url: $(curl_problem "$rc" "$url")"; fi
}

# json FIELD: a top-level string or number of the last answer, or nothing.
json() {
  node -e '
    const fs = require("fs");
    try {
      const value = JSON.parse(fs.readFileSync(process.argv[1], "utf8"))[process.argv[2]];
      if (typeof value === "string" || typeof value === "number") process.stdout.write(String(value));
    } catch {}
  ' "$WORK/body" "$1"
}

# "got 401 UNAUTHORIZED": the status and, for our JSON errors, the code.
got() {
  local code
  code=$(json code)
  printf 'got %s%s' "$STATUS" "${code:+ $code}"
}

expect_status() {
  local check=$1 method=$2 url=$3 expected=$4 hint=${5:-}
  if [[ $STATUS != "$expected" ]]; then
    fail "$check" "$method $url expected $expected, $(got)${hint:+ ($hint)}"
  fi
}

mask() {
  local number=${1#whatsapp:}
  printf '%s…%s' "${number:0:3}" "${number: -2}"
}

# 1–2. Probes.
url=$BASE_URL/api/v1/health/live
request live GET "$url"
expect_status live GET "$url" 200
ok live 'GET /api/v1/health/live 200'

url=$BASE_URL/api/v1/health/ready
request ready GET "$url"
expect_status ready GET "$url" 200 \
  'PostgreSQL down or a migration pending: GET /api/v1/health/details with an admin token says which'
ok ready 'GET /api/v1/health/ready 200'

# 3. Metrics, with basic auth when METRICS_AUTH is set on the server. Behind an Ingress that
# publishes only /api/v1, /metrics is reached through a port-forward (SMOKE_METRICS_URL).
url=${SMOKE_METRICS_URL:-$BASE_URL/metrics}
if [[ $url == off ]]; then
  printf 'skip metrics: SMOKE_METRICS_URL=off\n'
else
  metrics_args=()
  if [[ -n ${SMOKE_METRICS_AUTH:-} ]]; then
    if [[ $SMOKE_METRICS_AUTH =~ ^(Basic|Bearer)\  ]]; then
      printf 'Authorization: %s\n' "$SMOKE_METRICS_AUTH" >"$WORK/metrics-auth"
    else
      node -e 'process.stdout.write("Authorization: Basic " +
        Buffer.from(process.env.SMOKE_METRICS_AUTH).toString("base64") + "\n")' >"$WORK/metrics-auth"
    fi
    metrics_args=(--header "@$WORK/metrics-auth")
  fi
  request metrics GET "$url" ${metrics_args[@]+"${metrics_args[@]}"}
  case "$STATUS ${SMOKE_METRICS_AUTH:+auth}" in
    '401 ') hint='METRICS_AUTH is set on the server: set SMOKE_METRICS_AUTH=user:pass' ;;
    '401 auth') hint='SMOKE_METRICS_AUTH was refused' ;;
    '404 '*) hint='is /metrics published here? Point SMOKE_METRICS_URL at a port-forward, or set it to off' ;;
    *) hint='' ;;
  esac
  expect_status metrics GET "$url" 200 "$hint"
  if ! grep -q '^whatsapp_dependency_up{' "$WORK/body"; then
    fail metrics "GET $url expected a whatsapp_dependency_up series, got none"
  fi
  ok metrics "GET ${url#"$BASE_URL"} 200 with whatsapp_dependency_up"
fi

# 4. Login. The body is built from the environment by node, so the password is escaped
# correctly and never appears on a command line.
node -e 'process.stdout.write(JSON.stringify({
  email: process.env.SMOKE_EMAIL, password: process.env.SMOKE_PASSWORD }))' >"$WORK/login.json"
url=$BASE_URL/api/v1/auth/login
request login POST "$url" --header 'Content-Type: application/json' --data-binary "@$WORK/login.json"
rm -f "$WORK/login.json"
expect_status login POST "$url" 200
TOKEN=$(json accessToken)
rm -f "$WORK/body"
[[ -n $TOKEN ]] || fail login "POST $url answered 200 without an accessToken"
printf 'Authorization: Bearer %s\n' "$TOKEN" >"$WORK/auth"
unset TOKEN
ok login 'POST /api/v1/auth/login 200, token received'

# 5. Opt-in: one real template send, followed until Twilio has it.
if [[ $SMOKE_SEND == 1 ]]; then
  node -e '
    const body = { to: process.env.SMOKE_TO, contentSid: process.env.SMOKE_CONTENT_SID,
      reference: `smoke-test-${Date.now()}` };
    const vars = process.env.SMOKE_CONTENT_VARIABLES;
    if (vars) {
      try { body.contentVariables = JSON.parse(vars); } catch { process.exit(3); }
    }
    process.stdout.write(JSON.stringify(body));
  ' >"$WORK/send.json" || die_usage 'SMOKE_CONTENT_VARIABLES is not valid JSON'
  url=$BASE_URL/api/v1/whatsapp/send
  request send POST "$url" --header "@$WORK/auth" \
    --header 'Content-Type: application/json' \
    --header "Idempotency-Key: smoke-test-$(date +%s)-$RANDOM" \
    --data-binary "@$WORK/send.json"
  expect_status send POST "$url" 202
  MESSAGE_ID=$(json id)
  [[ -n $MESSAGE_ID ]] || fail send "POST $url answered 202 without an id"
  ok send "POST /api/v1/whatsapp/send 202, message $MESSAGE_ID to $(mask "$SMOKE_TO")"

  url=$BASE_URL/api/v1/whatsapp/delivery-status/$MESSAGE_ID
  deadline=$((SECONDS + SMOKE_TIMEOUT))
  status=pending
  while :; do
    request delivery GET "$url" --header "@$WORK/auth"
    case $STATUS in
      200) status=$(json status) ;;
      429 | 503) ;; # rate limited or database busy: ask again
      *) expect_status delivery GET "$url" 200 ;;
    esac
    case $status in
      pending | dispatching) ;;
      failed | undelivered | canceled)
        fail delivery "message $MESSAGE_ID is $status, Twilio error $(json errorCode): $(json errorMessage)"
        ;;
      *) break ;;
    esac
    if ((SECONDS >= deadline)); then
      fail delivery "GET $url expected a status past pending within ${SMOKE_TIMEOUT}s, got $status"
    fi
    sleep 1
  done
  ok delivery "message $MESSAGE_ID is $status"
else
  printf 'skip send: SMOKE_SEND=1 sends one real template message\n'
fi

# 6–7. Unsigned webhooks must be refused. The body is a form (anything else is a 415 before the
# signature is looked at) without Twilio's fields, so even a server that let it through could
# store nothing: it would answer 400.
for hook in webhook:/api/v1/whatsapp/webhook status-callback:/api/v1/whatsapp/status; do
  check=${hook%%:*}
  path=${hook#*:}
  url=$BASE_URL$path
  request "$check" POST "$url" \
    --header 'Content-Type: application/x-www-form-urlencoded' --data-binary 'SmokeTest=unsigned'
  code=$(json code)
  if [[ $STATUS != 403 || $code != BAD_SIGNATURE ]]; then
    case "$STATUS $code" in
      '400 '*) hint='the signature check let an unsigned request through: SIGNATURE_MODE=report?' ;;
      '403 HTTPS_REQUIRED') hint='plain http to a production server: use the https URL' ;;
      '429 '*) hint='this client is over WEBHOOK_UNSIGNED_LIMIT: wait a minute' ;;
      *) hint='' ;;
    esac
    fail "$check" "POST $url unsigned expected 403 BAD_SIGNATURE, $(got)${hint:+ ($hint)}"
  fi
  ok "$check" "POST $path unsigned 403 BAD_SIGNATURE"
done
