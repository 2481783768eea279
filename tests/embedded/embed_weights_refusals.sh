#!/usr/bin/env bash
# tools/embed_weights refuses what it cannot write correctly, with a sentence naming the file, the tensor or the
# option, and writes nothing then: each case below must fail with its sentence and leave no header behind.
#   embed_weights_refusals.sh <embed_weights> <fixtures dir> <scratch dir>
set -u
tool=$1 fixtures=$2 scratch=$3
mkdir -p "$scratch"
failures=0

# expect_refusal "sentence" args...: the tool must exit non-zero, print the sentence and write no header.
expect_refusal() {
  local sentence=$1; shift
  local out="$scratch/refused.hpp"
  rm -f "$out"
  local said
  said=$("$tool" "$@" 2>&1 >/dev/null)
  local status=$?
  if [ "$status" -eq 0 ] || ! grep -qF -- "$sentence" <<<"$said" || [ -e "$out" ]; then
    echo "FAIL: embed_weights $* (exit $status) should refuse with: $sentence"
    echo "  it said: $said"
    failures=$((failures + 1))
  fi
}

mlp="$fixtures/mlp_f32.safetensors"
out="$scratch/refused.hpp"
expect_refusal "usage: embed_weights" "$mlp" "$out"
expect_refusal "is not a C++ identifier" "$mlp" "$out" --name 2weights
expect_refusal "is neither float nor double" "$mlp" "$out" --name w --type half
expect_refusal "--order names '9.weight', which safetensors file" "$mlp" "$out" --name w --order 0.weight,9.weight
expect_refusal "holds '2.bias', which --order leaves out" "$mlp" "$out" --name w \
  --order 0.weight,0.bias,2.weight,4.weight,4.bias
expect_refusal "--order names '0.bias' twice" "$mlp" "$out" --name w --order 0.bias,0.bias
expect_refusal "--transposed names '0.bias', which has 1 axes" "$mlp" "$out" --name w --transposed 0.bias
expect_refusal "--buffers names 'running_mean', which safetensors file" "$mlp" "$out" --name w --buffers running_mean
expect_refusal "give --transposed or --transposed-2d, not both" "$mlp" "$out" --name w --transposed 0.weight --transposed-2d
expect_refusal "is not NAME=H,W,C with three positive extents" "$mlp" "$out" --name w --flattened 0.weight=2,3
expect_refusal "gives '0.weight' a map of 10 features, but none of its axes has" "$mlp" "$out" --name w \
  --flattened 0.weight=1,2,5
expect_refusal "--flattened names 'x', which safetensors file" "$mlp" "$out" --name w --flattened x=1,1,1
expect_refusal "cannot" "$fixtures/no_such_file.safetensors" "$out" --name w
# A file of integers: an 8-byte header length, the JSON padded to 8 bytes, then one I32.
ints="$scratch/ints.safetensors"
printf '\x40\0\0\0\0\0\0\0{"count":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}      \x07\0\0\0' >"$ints"
expect_refusal "tensor 'count' of safetensors file" "$ints" "$out" --name w

# And the same options, right, write a header.
if ! "$tool" "$mlp" "$scratch/accepted.hpp" --name w --transposed-2d || ! grep -q "struct w {" "$scratch/accepted.hpp"; then
  echo "FAIL: embed_weights did not write the header of a valid call"
  failures=$((failures + 1))
fi
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
