# Sourced by check-changesets.sh and check-proto.sh. Sets BASE_REF (a commit)
# and BASE_REASON: what "the change under test" is compared against.
#
# - OPF_BASE_REF, when set, wins (e.g. a CI system that knows the PR's target).
# - On a branch other than main: the merge-base with main (local main, else
#   origin/main, which every clone has): the whole branch is the change.
# - On main (CI runs on a clean clone of main): the commit before HEAD. Comparing
#   against main itself, changesets' default, would diff HEAD with itself and
#   never fail; the previous commit makes the last change the one under test.
# BASE_REF is empty when there is nothing to compare against (a root commit).
resolve_base_ref() {
  BASE_REF=""
  BASE_REASON=""
  if [[ -n "${OPF_BASE_REF:-}" ]]; then
    BASE_REF="$(git rev-parse --verify "${OPF_BASE_REF}^{commit}")"
    BASE_REASON="OPF_BASE_REF=${OPF_BASE_REF}"
    return
  fi
  local branch main_ref=""
  branch="$(git rev-parse --abbrev-ref HEAD)"
  if git rev-parse --verify -q refs/heads/main >/dev/null; then
    main_ref=refs/heads/main
  elif git rev-parse --verify -q refs/remotes/origin/main >/dev/null; then
    main_ref=refs/remotes/origin/main
  fi
  if [[ "$branch" != "main" && -n "$main_ref" ]] &&
    ! git merge-base --is-ancestor HEAD "$main_ref"; then
    BASE_REF="$(git merge-base HEAD "$main_ref")"
    BASE_REASON="merge-base of ${branch} and ${main_ref#refs/*/}"
  elif git rev-parse --verify -q "HEAD^" >/dev/null; then
    BASE_REF="$(git rev-parse "HEAD^")"
    BASE_REASON="the commit before HEAD ($(git log -1 --format='%h %s' HEAD^ | cut -c1-60))"
  fi
}
