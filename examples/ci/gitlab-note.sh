#!/bin/sh
# Posts FILE as the merge request's kubectl-connections note: the note whose body starts with
# the marker pr-diff.sh writes is updated in place, else one is created. Needs curl and jq.
#
#   gitlab-note.sh FILE    (GITLAB_TOKEN, a project access token with the `api` scope, and
#                           GitLab's CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID)
set -eu
file=${1:?usage: gitlab-note.sh FILE}
notes="${CI_API_V4_URL:?}/projects/${CI_PROJECT_ID:?}/merge_requests/${CI_MERGE_REQUEST_IID:?}/notes"
marker='<!-- kubectl-connections-diff -->'

id=$(curl --fail --silent --show-error --header "PRIVATE-TOKEN: ${GITLAB_TOKEN:?}" \
    "$notes?per_page=100&sort=asc" |
    jq -r --arg marker "$marker" '[.[] | select(.body | startswith($marker))][0].id // empty')
if [ -n "$id" ]; then
    curl --fail --silent --show-error --request PUT --header "PRIVATE-TOKEN: $GITLAB_TOKEN" \
        --data-urlencode "body@$file" "$notes/$id" >/dev/null
    echo "gitlab-note: updated note $id"
else
    curl --fail --silent --show-error --request POST --header "PRIVATE-TOKEN: $GITLAB_TOKEN" \
        --data-urlencode "body@$file" "$notes" >/dev/null
    echo "gitlab-note: created a note"
fi
