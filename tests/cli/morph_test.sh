#!/usr/bin/env bash
# edgenas morph on a model `edgenas train` made: each morph keeps the logits
# (largest difference <= 1e-4 on 1000 random inputs and on test images), the
# child it writes reads back and morphs again, --help succeeds, and a bad
# argument or a morph that does not apply fails naming the argument or node.
# Usage: morph_test.sh EDGENAS_CLI
set -euo pipefail
edgenas=$1
work=$(mktemp -d /tmp/edgenas-morph-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$edgenas" train --preset cnn-bn --epochs 1 --max-train-images 1000 --threads 2 --seed 3 \
  --out "$work/m.model" > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }

# morph_ok WHAT ARGS...: runs the morph and checks the difference it prints.
morph_ok() {
  local what=$1 out diff agree
  shift
  out=$("$edgenas" morph "$work/m.model" "$@") || fail "$what: exit $?"
  diff=$(echo "$out" | sed -nE 's/.*largest \|parent - child\| logit ([^ ]+) .*/\1/p')
  agree=$(echo "$out" | sed -nE 's/.*top class agrees on ([0-9]+ of [0-9]+).*/\1/p')
  echo "$what: largest difference $diff, top class agrees on $agree"
  [ -n "$diff" ] || fail "$what: no difference printed: $out"
  awk -v d="$diff" 'BEGIN { exit !(d <= 1e-4) }' || fail "$what: difference $diff > 1e-4"
}
morph_ok "deepen relu1" --deepen relu1 --out "$work/deep.model"
morph_ok "deepen relu3 (dense)" --deepen relu3 --no-batch-norm
morph_ok "deepen pool1 (dw_separable)" --deepen pool1 --layer dw_separable --kernel 5
morph_ok "widen conv1 48" --widen conv1 --width 48 --seed 4
morph_ok "widen conv2 96, noise 0.05" --widen conv2 --width 96 --noise 0.05
morph_ok "widen fc1 200" --widen fc1 --width 200 --batch 300
morph_ok "skip add relu1 relu2" --skip relu1 relu2
morph_ok "skip concat pool1 pool2" --skip pool1 --to pool2 --concat
morph_ok "enlarge conv2 to 7" --enlarge conv2 --kernel 7
morph_ok "enlarge conv1, test images" --enlarge conv1 --dataset fashion-mnist --batch 500

"$edgenas" info "$work/deep.model" | grep -q "relu1_deepen1/conv" || fail "the child lacks the new conv"
"$edgenas" morph "$work/deep.model" --widen relu1_deepen1/conv --width 40 > /dev/null ||
  fail "the child does not morph again"
"$edgenas" morph "$work/m.model" --list | grep -q "^widen        conv1$" || fail "--list lacks widen conv1"
"$edgenas" morph --help | grep -q -- "--deepen" || fail "--help"

expect_error() {  # expect_error WHAT CODE PATTERN ARGS...
  local what=$1 code=$2 pattern=$3 out rc=0
  shift 3
  out=$("$edgenas" morph "$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" = "$code" ] || fail "$what: exit $rc, not $code ($out)"
  echo "$what: $(echo "$out" | head -1)"
  echo "$out" | grep -q -- "$pattern" || fail "$what: the error does not say '$pattern'"
}
expect_error "no morph" 2 "give exactly one of" "$work/m.model"
expect_error "two morphs" 2 "give exactly one of" "$work/m.model" --deepen relu1 --enlarge conv1
expect_error "widen without width" 2 "^edgenas: --width" "$work/m.model" --widen conv1
expect_error "width on deepen" 2 "^edgenas: --width: goes with --widen only" "$work/m.model" --deepen relu1 --width 3
expect_error "skip without TO" 2 "^edgenas: --skip: give FROM and TO" "$work/m.model" --skip relu1
expect_error "bad layer" 2 "^edgenas: --layer: 'cnn'" "$work/m.model" --deepen relu1 --layer cnn
expect_error "bad batch" 2 "^edgenas: --batch" "$work/m.model" --deepen relu1 --batch 0
expect_error "unknown flag" 2 "unknown flag --deep" "$work/m.model" --deep relu1
expect_error "widen a pool" 1 "node 'pool1' is a max_pool: widen needs a conv or dense producer" \
  "$work/m.model" --widen pool1 --width 40
expect_error "narrower" 1 "width: 16 does not grow 'conv1'" "$work/m.model" --widen conv1 --width 16
expect_error "unknown node" 1 "'nope' is not a node" "$work/m.model" --enlarge nope
expect_error "cycle" 1 "would close a cycle" "$work/m.model" --skip relu2 relu1
expect_error "missing file" 1 "$work/none.model" "$work/none.model" --deepen relu1
echo "PASS"
