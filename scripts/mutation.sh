#!/usr/bin/env bash
# Mutation testing of the decision code with gremlins
# (github.com/go-gremlins/gremlins). Not part of CI: it rebuilds and runs a
# package's tests once per mutant, which takes minutes to hours. Results and
# the equivalent mutants are recorded in docs/TESTING.md.
#
#   scripts/mutation.sh                 # every target below, one after another
#   scripts/mutation.sh webhook lists   # only these targets
#   WORKERS=2 TIMEOUT_COEF=5 OUT=/tmp/mut scripts/mutation.sh crm
#
# Targets: bitrix (retry, limits, refresh, batch, paging, redaction, errors;
# bitrix-core is the same without client.go, oauth.go and list.go),
# bitrixtest (limits, batch), events (verification, decoding), webhook,
# crm (bulk), lists (bulk). Each writes $OUT/<target>.log (one line per
# mutant: KILLED, LIVED, NOT COVERED, TIMED OUT, NOT VIABLE) and
# $OUT/<target>.json, and the script prints each target's efficacy
# (killed / (killed + lived)).
#
# Install the tool once: go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
set -euo pipefail
cd "$(dirname "$0")/.."

GREMLINS=${GREMLINS:-$(command -v gremlins || echo "$(go env GOPATH)/bin/gremlins")}
if [ ! -x "$GREMLINS" ]; then
  echo "gremlins not found; install it: go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0" >&2
  exit 1
fi
# -count=1: a cached coverage run takes ~2 s, and gremlins times each
# mutant out at that time x TIMEOUT_COEF: every mutant would "time out".
export GOFLAGS="${GOFLAGS:--trimpath} -count=1"
WORKERS=${WORKERS:-1}         # the machine is shared: keep it low
TIMEOUT_COEF=${TIMEOUT_COEF:-5}
OUT=${OUT:-${TMPDIR:-/tmp}/b24go-mutation}
mkdir -p "$OUT"

# Exclusions are regular expressions over file paths relative to the
# target directory: only the decision code is mutated.
run() {
  local name=$1 dir=$2
  shift 2
  local args=()
  for re in "$@"; do args+=(-E "$re"); done
  echo "== $name ($dir)"
  nice -n 10 "$GREMLINS" unleash --workers "$WORKERS" --test-cpu 1 --timeout-coefficient "$TIMEOUT_COEF" \
    -o "$OUT/$name.json" "${args[@]}" "$dir" >"$OUT/$name.log" 2>&1 || true
  local k l
  k=$(grep -c '^ *KILLED' "$OUT/$name.log" || true)
  l=$(grep -c '^ *LIVED' "$OUT/$name.log" || true)
  echo "killed $k, lived $l, efficacy $(awk -v k="$k" -v l="$l" 'BEGIN { if (k + l) printf "%.1f%%", 100 * k / (k + l); else print "n/a" }')"
  grep '^ *LIVED' "$OUT/$name.log" || true
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(bitrix bitrixtest events webhook crm lists)
for t in "${targets[@]}"; do
  case $t in
  bitrix)
    run bitrix ./bitrix '^(bitrixtest|otelbitrix|redisstore)/' \
      '^(auth|coalesce|doc|dump|observe|options|params|response|secret|tokenstore|wire)\.go$' ;;
  bitrix-core) # bitrix without client.go, oauth.go and list.go: a shorter run
    run bitrix-core ./bitrix '^(bitrixtest|otelbitrix|redisstore)/' \
      '^(auth|coalesce|doc|dump|observe|options|params|response|secret|tokenstore|wire|client|oauth|list)\.go$' ;;
  bitrixtest)
    run bitrixtest ./bitrix/bitrixtest '^cmd/' \
      '^(basic|crm|doc|events|faults|fire|imbot|imbotv2|inspect|jsonw|lists|oauth|options|params|productrows|rest|server)\.go$' ;;
  events)
    run events ./events '^(data|observe|offline|v2|v2json)\.go$' ;;
  webhook)
    run webhook ./webhook ;;
  crm)
    run crm ./crm '^(crm|decimal|doc|errors|item|items|legacy|multifield|productrow)\.go$' ;;
  lists)
    run lists ./lists '^(dates|doc|element|elements|lists|meta|values)\.go$' ;;
  *)
    echo "unknown target $t" >&2
    exit 2 ;;
  esac
done
