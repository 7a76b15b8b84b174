#!/usr/bin/env bash
# edgenas eval and predict on a model `edgenas train` made:
#   - eval --split test gives the test accuracy train reported, to the image,
#     and eval --split validation its validation accuracy;
#   - predict on ten test images (IDX and PNG) gives the classes eval predicted;
#   - a file without preprocessing, a corrupt file, a non-image file, an IDX
#     label file and an image past the size limit each fail naming the problem.
# Usage: eval_predict_test.sh EDGENAS_CLI IDX_TO_PNG MODEL_TOOL
set -euo pipefail
edgenas=$1 idx_to_png=$2 model_tool=$3
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d /tmp/edgenas-eval-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# The value of a top-level key of one JSON line; nlohmann's dump sorts keys,
# so a top-level key comes after any nested one of the same name only when
# the nesting key sorts first ("epochs" before "val_accuracy").
json() { grep -o "\"$1\":[0-9.eE+-]*" | "${2:-head}" -1 | cut -d: -f2; }

"$edgenas" train --preset cnn-bn --epochs 1 --max-train-images 3000 --threads 2 --seed 7 \
  --out "$work/m.model" --json 2> "$work/train.log" | tail -1 > "$work/train.json" ||
  { cat "$work/train.log"; fail "train"; }
trained_test=$(json test_accuracy < "$work/train.json")
trained_val=$(json val_accuracy tail < "$work/train.json")
"$edgenas" info "$work/m.model" | grep -q "^preprocessing: grayscale NCHW, pixels / 255" ||
  fail "info shows no preprocessing"

"$edgenas" eval "$work/m.model" --split test --json --predictions "$work/pred.csv" > "$work/eval.json"
"$edgenas" eval "$work/m.model" --split validation --json > "$work/val.json" 2>/dev/null
eval_test=$(json accuracy < "$work/eval.json") eval_val=$(json accuracy < "$work/val.json")
echo "train reported test $trained_test, validation $trained_val; eval says $eval_test, $eval_val"
[ "$eval_test" = "$trained_test" ] || fail "eval's test accuracy is not the trainer's"
[ "$eval_val" = "$trained_val" ] || fail "eval's validation accuracy is not the trainer's"
grep -q '"confusion":\[\[' "$work/eval.json" || fail "eval --json has no confusion matrix"

"$edgenas" predict "$work/m.model" "$data/t10k-images-idx3-ubyte.gz" --first 10 --top 1 --json \
  > "$work/predict.json"
"$idx_to_png" "$data/t10k-images-idx3-ubyte.gz" 0 10 "$work"
pngs=$(for i in $(seq 0 9); do printf '%s ' "$work/$i.png"; done)
# shellcheck disable=SC2086
"$edgenas" predict "$work/m.model" $pngs --top 1 > "$work/predict.txt"
idx_top=$(grep -o '"top":\[{"class":[0-9]*' "$work/predict.json" | grep -o '[0-9]*$')
png_top=$(sed -E 's/.* \(([0-9]+)\) .*/\1/' "$work/predict.txt")
eval_top=$(sed -n '2,11p' "$work/pred.csv" | cut -d, -f3)
right=$(sed -n '2,11p' "$work/pred.csv" | awk -F, '{ n += $4 } END { print n }')
echo "ten test images: eval predicted $(echo $eval_top), predict says $(echo $idx_top) (IDX), $(echo $png_top) (PNG); $right of 10 right"
[ "$(echo $idx_top)" = "$(echo $eval_top)" ] || fail "predict on the IDX file disagrees with eval"
[ "$(echo $png_top)" = "$(echo $eval_top)" ] || fail "predict on PNGs disagrees with eval"

expect_error() {  # expect_error WHAT PATTERN COMMAND...
  local what=$1 pattern=$2 out
  shift 2
  if out=$("$@" 2>&1 >/dev/null); then fail "$what: succeeded"; fi
  echo "$what: $out"
  echo "$out" | grep -q -- "$pattern" || fail "$what: the error does not say '$pattern'"
}
"$model_tool" strip-preprocessing "$work/m.model" "$work/old.model"
"$edgenas" info "$work/old.model" | grep -q "normalization is unknown" || fail "info: no note"
expect_error "eval, old file" "normalization is unknown" "$edgenas" eval "$work/old.model"
expect_error "predict, old file" "normalization is unknown" \
  "$edgenas" predict "$work/old.model" "$work/0.png"
cp "$work/m.model" "$work/corrupt.model"
printf 'x' | dd of="$work/corrupt.model" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_error "eval, corrupt file" "checksum mismatch" "$edgenas" eval "$work/corrupt.model"
expect_error "predict, corrupt file" "checksum mismatch" \
  "$edgenas" predict "$work/corrupt.model" "$work/0.png"
expect_error "predict, a CSV" "not a PNG, JPEG or IDX image file" \
  "$edgenas" predict "$work/m.model" "$work/pred.csv"
expect_error "predict, IDX labels" "bad magic" \
  "$edgenas" predict "$work/m.model" "$data/t10k-labels-idx1-ubyte.gz"
"$model_tool" wide-png "$work/wide.png" 20000 2
expect_error "predict, 20000 x 2 image" "more than 16384 a side" \
  "$edgenas" predict "$work/m.model" "$work/wide.png"
"$model_tool" wide-png "$work/big.png" 300 200
"$edgenas" predict "$work/m.model" "$work/big.png" > /dev/null || fail "a 300 x 200 image is not resized"
echo "PASS"
