#!/bin/sh
# Posts FILE as the pull request's kubectl-connections comment: the comment whose body starts
# with the marker pr-diff.sh writes is updated in place, else one is created.
#
#   github-comment.sh PR_NUMBER FILE      (GH_TOKEN and GITHUB_REPOSITORY set, as in Actions)
set -eu
pr=${1:?usage: github-comment.sh PR_NUMBER FILE}
file=${2:?usage: github-comment.sh PR_NUMBER FILE}
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}
marker='<!-- kubectl-connections-diff -->'

id=$(gh api "repos/$repo/issues/$pr/comments" --paginate \
    --jq "[.[] | select(.body | startswith(\"$marker\"))][0].id // empty")
if [ -n "$id" ]; then
    gh api --method PATCH "repos/$repo/issues/comments/$id" -F "body=@$file" >/dev/null
    echo "github-comment: updated comment $id"
else
    gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$file" >/dev/null
    echo "github-comment: created a comment"
fi
