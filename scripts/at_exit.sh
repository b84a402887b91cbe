# Sourced by the scripts that start helper servers: each registers how to
# stop its server, and all of them run when the calling script exits.
# Sourced once per helper (moto.sh, localstripe.sh), so the list is made
# only by the first: remaking it dropped the hooks already registered, and
# `./scripts/test` left its moto server running (12 GB after a run).
if ! declare -p galley_exit_hooks >/dev/null 2>&1; then
  galley_exit_hooks=()
fi
galley_at_exit() {
  galley_exit_hooks+=("$1")
  trap 'for hook in "${galley_exit_hooks[@]}"; do eval "$hook"; done' EXIT
}
