#!/usr/bin/env bash
# The README's job spec reference is the table the validator is built from:
# fails when they drift apart. Usage: readme_test.sh REPO_ROOT JOBSPEC_MARKDOWN_TOOL
set -euo pipefail
root=$1
tool=$2
table=$("$tool")
if ! grep -qF -- "$(echo "$table" | sed -n 3p)" "$root/README.md"; then
  echo "README.md lacks the job spec reference; paste the output of $tool"
  exit 1
fi
missing=0
while IFS= read -r line; do
  if ! grep -qF -- "$line" "$root/README.md"; then
    echo "README.md is out of date: missing line: $line"
    missing=1
  fi
done <<< "$table"
[ $missing -eq 0 ] && echo "README job spec reference matches the validator"
exit $missing
