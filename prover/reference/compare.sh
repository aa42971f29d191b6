#!/usr/bin/env bash
# Side-by-side PC1/PC2 figures: Filecoin's filecoin-proofs (via fil-reference) and stoa-prover,
# CPU only, same machine, same sector sizes.
#
#   prover/reference/compare.sh                 # 8MiB then 512MiB
#   SIZES=8MiB prover/reference/compare.sh      # just one size
#   REF_MODES="multi" prover/reference/compare.sh
#
# Environment:
#   SIZES       sector sizes, in order (default "8MiB 512MiB")
#   REF_MODES   filecoin-proofs SDR labelling modes to run: "single" (filecoin-proofs' default,
#               FIL_PROOFS_USE_MULTICORE_SDR=0) and/or "multi" (=1, what Lotus miners use);
#               default "single multi"
#   RESULTS_DIR where the raw JSON of every run is kept (default: a new dir under /tmp)
#   FIL_PROOFS_PARENT_CACHE  SDR parent cache dir (default /tmp/fil-reference-cache/parents)
#
# The Stoa rows come from
#   cargo run --release -p stoa-prover -- bench --sector-size SIZE --output json
# run from the workspace root; its stdout must be one JSON object. Two schemas are read:
#  * fil-reference's own (pc1_seconds, pc2_seconds, total_seconds, mib_per_second, peak_rss_mib);
#  * stoa-prover's bench report: single_sector.{tree_d_secs, labeling_secs, trees_secs,
#    total_secs, peak_rss_bytes}. Filecoin's PC1 is copy + tree_d + SDR labelling, its PC2 is
#    tree_c + encoding + tree_r_last, so the "PC1" shown for Stoa is tree_d + labeling and
#    "PC2" is trees. Stoa's single_sector figure runs on a one-thread pool; filecoin-proofs
#    uses every core. Stoa's whole_machine MiB/s (several sectors at once) is shown as an extra
#    row.
# If the subcommand does not exist or fails, the row shows "n/a" and the reason is printed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SIZES="${SIZES:-8MiB 512MiB}"
REF_MODES="${REF_MODES:-single multi}"
RESULTS_DIR="${RESULTS_DIR:-$(mktemp -d /tmp/stoa-compare-XXXXXX)}"
mkdir -p "$RESULTS_DIR"
command -v jq >/dev/null || { echo "compare.sh needs jq (apt-get install jq)" >&2; exit 1; }

echo "== building fil-reference (release)" >&2
(cd "$HERE" && cargo build --release --locked) >&2 || { echo "fil-reference build failed" >&2; exit 1; }
FIL="$HERE/target/release/fil-reference"

echo "== building stoa-prover (release)" >&2
STOA_OK=1
if ! (cd "$ROOT" && cargo build --release -p stoa-prover) >&2; then
  STOA_OK=0
  STOA_WHY="stoa-prover did not build"
elif ! (cd "$ROOT" && cargo run -q --release -p stoa-prover -- bench --help) 2>/dev/null | grep -q -- --sector-size; then
  STOA_OK=0
  STOA_WHY="stoa-prover has no 'bench' subcommand yet"
fi
[ "$STOA_OK" = 1 ] || echo "!! $STOA_WHY: Stoa column will be n/a" >&2

# field FILE JQ-EXPR -> value or n/a
field() { jq -er "$2 // empty" "$1" 2>/dev/null || echo "n/a"; }
fmt() { case "$1" in n/a|"") echo "n/a" ;; *) printf "%.${2:-2}f" "$1" ;; esac; }

declare -a ROWS
for size in $SIZES; do
  for mode in $REF_MODES; do
    flag=""; [ "$mode" = multi ] && flag="--multicore-sdr"
    out="$RESULTS_DIR/fil-$size-$mode.json"
    echo "== filecoin-proofs $size ($mode-core SDR)" >&2
    if "$FIL" bench --sector-size "$size" --output json $flag >"$out" 2>"$out.stderr"; then
      ROWS+=("$size|filecoin-proofs ($mode SDR)|$out")
    else
      echo "!! fil-reference bench $size $mode failed: see $out.stderr" >&2
      ROWS+=("$size|filecoin-proofs ($mode SDR)|")
    fi
  done
  out="$RESULTS_DIR/stoa-$size.json"
  if [ "$STOA_OK" = 1 ]; then
    echo "== stoa-prover $size" >&2
    if (cd "$ROOT" && cargo run -q --release -p stoa-prover -- bench --sector-size "$size" --output json) \
        >"$out" 2>"$out.stderr" && jq -e 'type == "object"' "$out" >/dev/null 2>&1; then
      ROWS+=("$size|stoa-prover|$out")
      if jq -e '.whole_machine.mib_per_sec' "$out" >/dev/null 2>&1; then
        ROWS+=("$size|stoa-prover (whole machine)|$out|whole")
      fi
    else
      echo "!! stoa-prover bench $size failed or printed no JSON object: see $out $out.stderr" >&2
      ROWS+=("$size|stoa-prover|")
    fi
  else
    ROWS+=("$size|stoa-prover|")
  fi
done

echo
printf "%-8s %-32s %9s %9s %9s %9s %11s %s\n" size implementation "PC1 s" "PC2 s" "total s" "MiB/s" "peakRSS MiB" "notes"
printf '%.0s-' {1..110}; echo
for row in "${ROWS[@]}"; do
  IFS='|' read -r size impl file kind <<<"$row"
  if [ -z "$file" ]; then
    printf "%-8s %-32s %9s %9s %9s %9s %11s\n" "$size" "$impl" n/a n/a n/a n/a n/a
    continue
  fi
  if [ "${kind:-}" = whole ]; then
    n=$(field "$file" .whole_machine.sectors)
    printf "%-8s %-32s %9s %9s %9s %9s %11s %s\n" "$size" "$impl" - - \
      "$(fmt "$(field "$file" .whole_machine.secs)")" "$(fmt "$(field "$file" .whole_machine.mib_per_sec)" 3)" - \
      "$n sectors at once"
    continue
  fi
  pc1=$(field "$file" '.pc1_seconds // (if .single_sector then (.single_sector.tree_d_secs + .single_sector.labeling_secs) else null end)')
  pc2=$(field "$file" '.pc2_seconds // .single_sector.trees_secs')
  total=$(field "$file" '.total_seconds // .single_sector.total_secs')
  if [ "$total" = n/a ] && [ "$pc1" != n/a ] && [ "$pc2" != n/a ]; then
    total=$(jq -n "$pc1 + $pc2")
  fi
  mibs=$(field "$file" .mib_per_second)
  bytes=$(field "$file" .sector_size_bytes)
  if [ "$mibs" = n/a ] && [ "$total" != n/a ]; then
    case "$size" in 8MiB) b=8388608 ;; 512MiB) b=536870912 ;; *) b="$bytes" ;; esac
    [ "$b" != n/a ] && mibs=$(jq -n "$b / 1048576 / $total")
  fi
  rss=$(field "$file" '.peak_rss_mib // (if .single_sector.peak_rss_bytes then .single_sector.peak_rss_bytes / 1048576 else null end)')
  cache=$(jq -r 'if .parent_cache then
      "\(.threads) threads; parent cache " +
      (if .parent_cache.preexisting then "prebuilt"
       elif .parent_cache.build_included_in_pc1 then "built in PC1"
       else "built first (\(.parent_cache.build_seconds|tostring|.[0:6]) s, excluded)" end)
    elif .single_sector then "1 thread (single_sector)"
    else "" end' "$file" 2>/dev/null)
  printf "%-8s %-32s %9s %9s %9s %9s %11s %s\n" "$size" "$impl" \
    "$(fmt "$pc1")" "$(fmt "$pc2")" "$(fmt "$total")" "$(fmt "$mibs" 3)" "$(fmt "$rss" 1)" "$cache"
done
echo
echo "raw JSON: $RESULTS_DIR" >&2
