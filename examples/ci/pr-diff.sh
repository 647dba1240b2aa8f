#!/bin/sh
# Writes what a pull request does to the rendered connections as a Markdown comment.
#
#   pr-diff.sh PATH BASE_REV OUT_FILE
#
# PATH is the folder of manifests; BASE_REV the revision to compare with, as this clone knows
# it (`origin/main`, or a commit; fetch it first in a shallow checkout). The comment starts
# with a marker, so that the posting scripts update one comment instead of adding one per
# push. Exit code 0 when the diff was written (with or without changes; the comment says
# which); 2 when kubectl-connections failed (the manifests do not validate: the findings are
# on stderr), and the comment then says so, so that a stale diff does not stay up.
set -u
path=${1:?usage: pr-diff.sh PATH BASE_REV OUT_FILE}
base=${2:?usage: pr-diff.sh PATH BASE_REV OUT_FILE}
out=${3:?usage: pr-diff.sh PATH BASE_REV OUT_FILE}
marker='<!-- kubectl-connections-diff -->'

kubectl-connections diff "$path" --base "$base" --format markdown >"$out.body"
code=$?
case $code in
0 | 1)
    { echo "$marker"; cat "$out.body"; } >"$out"
    rm -f "$out.body"
    if [ "$code" = 0 ]; then
        echo "pr-diff: no change to the rendered output"
    else
        echo "pr-diff: the rendered output changes; the comment is in $out"
    fi
    ;;
*)
    rm -f "$out.body"
    {
        echo "$marker"
        echo "## kubectl connections diff"
        echo
        echo "The diff could not be made (exit code $code): the manifests here or at \`$base\` do not validate, or a tool failed. The job log has the findings."
    } >"$out"
    echo "pr-diff: kubectl-connections diff failed (exit code $code)" >&2
    exit "$code"
    ;;
esac
