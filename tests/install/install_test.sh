#!/usr/bin/env bash
# The inference library as a device's application gets it: `cmake --install`
# into a temporary prefix, then deploy/example built out of tree as its own
# CMake project with find_package(edgenas), classifying Fashion-MNIST test
# images with a model `edgenas train` made. Checks that
#   - the example's top-1 class is the one `edgenas eval` predicted, for ten
#     test images, and right for those eval counts as correct;
#   - the installed library needs oneDNN and neither gRPC nor SQLite (ldd),
#     and exports only the names of edgenas/classifier.h.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR EDGENAS_CLI IDX_TO_PNG
set -euo pipefail
build=$1 src=$2 edgenas=$3 idx_to_png=$4
data=/usr/share/datasets/fashion-mnist
work=$(mktemp -d /tmp/edgenas-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
lib=$(ls "$work"/prefix/lib*/libedgenas.so.*.*.* 2>/dev/null | head -1)
[ -n "$lib" ] || fail "no libedgenas.so installed: $(cat "$work/install.log")"
[ -f "$work/prefix/include/edgenas/classifier.h" ] || fail "no edgenas/classifier.h installed"
echo "installed: $lib ($(stat -c %s "$lib") bytes)"

echo "ldd $lib:"
ldd "$lib" | tee "$work/ldd.txt"
grep -q "libdnnl" "$work/ldd.txt" || fail "libedgenas.so does not link oneDNN"
if grep -Eiq "grpc|sqlite|not found" "$work/ldd.txt"; then
  fail "libedgenas.so needs gRPC, SQLite or a missing library"
fi
# Every exported name is the API's (edgenas/classifier.h), or a standard
# library template the API's code instantiated; nothing of the engine,
# protobuf, abseil or oneDNN that the library carries inside.
nm -DC --defined-only "$lib" | cut -d' ' -f3- > "$work/exports.txt"
api='Classifier|ClassifierOptions|ClassScore|Image|ModelInfo|Status|StatusOr|ReadImage|DecodeImage|internal::DieOfBadAccess'
others=$(grep -Ev "^edgenas::($api)\b" "$work/exports.txt" | grep -v 'std::' || true)
[ -z "$others" ] || fail "libedgenas.so exports more than the API: $(echo "$others" | head -5)"
if grep -E "google::|absl::|dnnl::|edgenas::(CompiledNet|Graph|ParamStore|Model\b)" \
    "$work/exports.txt" >/dev/null; then
  fail "engine names leak out of libedgenas.so: $(grep -E 'google::|absl::|dnnl::' "$work/exports.txt" | head -3)"
fi
for name in "edgenas::Classifier::Open" "edgenas::ReadImage" "edgenas::Classifier::Run"; do
  grep -q "^$name" "$work/exports.txt" || fail "libedgenas.so does not export $name"
done
echo "exports: $(wc -l < "$work/exports.txt") names, the API's and standard templates it instantiated"

# The example, copied out of the tree so nothing of it can reach back in.
cp -r "$src/deploy/example" "$work/example"
cmake -S "$work/example" -B "$work/example-build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" || { cat "$work/configure.log"; fail "configure"; }
cmake --build "$work/example-build" > "$work/build.log" || { cat "$work/build.log"; fail "build"; }
classify() {
  # A library built by deploy/test.sh --asan needs the sanitizer's runtime
  # loaded first, which an uninstrumented program does not do by itself.
  LD_PRELOAD="$(grep -o '/[^ ]*libasan\.so[^ ]*' "$work/ldd.txt" | head -1)" \
    "$work/example-build/classify" "$@"
}

# A model worth classifying with: lenet-300-100 for one epoch on 6000 images.
"$edgenas" train --preset lenet-300-100 --epochs 1 --max-train-images 6000 --threads 2 \
  --seed 3 --out "$work/lenet.model" > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }
"$edgenas" eval "$work/lenet.model" --split test --predictions "$work/predictions.csv" \
  > "$work/eval.txt" || fail "eval"
head -1 "$work/eval.txt"
"$idx_to_png" "$data/t10k-images-idx3-ubyte.gz" 0 10 "$work"

right=0
for i in $(seq 0 9); do
  IFS=, read -r _ label predicted correct < <(sed -n "$((i + 2))p" "$work/predictions.csv")
  out=$(classify "$work/lenet.model" "$work/$i.png" 3) || fail "classify $i.png"
  top=$(echo "$out" | head -1 | cut -f1)
  echo "test image $i: label $label, eval predicted $predicted, the example says $(echo "$out" | head -1 | tr '\t' ' ')"
  [ "$top" = "$predicted" ] || fail "test image $i: the example says $top, eval predicted $predicted"
  if [ "$correct" = 1 ]; then
    [ "$top" = "$label" ] || fail "test image $i: eval counts it correct, the example says $top"
    right=$((right + 1))
  fi
done
[ "$right" -ge 1 ] || fail "not one of the ten images classified correctly"

# Errors a user meets name their problem.
echo "not an image" > "$work/note.txt"
err=$(classify "$work/lenet.model" "$work/note.txt" 2>&1) && fail "a text file was classified"
echo "$err" | grep -q "not a PNG or JPEG image" || fail "text file: $err"
head -c 300 "$work/0.png" > "$work/cut.png"
err=$(classify "$work/lenet.model" "$work/cut.png" 2>&1) && fail "a truncated PNG was classified"
echo "$err" | grep -q "damaged PNG" || fail "truncated PNG: $err"
echo "PASS: the installed library classified $right of 10 test images correctly, as eval did"
