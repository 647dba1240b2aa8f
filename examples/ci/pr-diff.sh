#!/bin/sh
# Writes what a pull request does to the rendered connections as a Markdown comment.
#
#   pr-diff.sh PATH BASE_REV OUT_FILE
#
# PATH is the folder of manifests, BASE_REV the target branch as this clone knows it
# (`origin/main`; fetch it first in a shallow checkout). Exit code 0 when the diff was written
# (with or without changes; the comment says which), 2 when kubectl-connections failed: a
# pull request whose manifests do not validate fails here, with the findings on stderr.
set -u
path=${1:?usage: pr-diff.sh PATH BASE_REV OUT_FILE}
base=${2:?usage: pr-diff.sh PATH BASE_REV OUT_FILE}
out=${3:?usage: pr-diff.sh PATH BASE_REV OUT_FILE}

kubectl-connections diff "$path" --base "$base" --format markdown >"$out"
code=$?
case $code in
0) echo "pr-diff: no change to the rendered output" ;;
1) echo "pr-diff: the rendered output changes; the comment is in $out" ;;
*)
    echo "pr-diff: kubectl-connections diff failed (exit code $code)" >&2
    rm -f "$out"
    exit "$code"
    ;;
esac
