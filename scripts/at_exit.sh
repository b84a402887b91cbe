# Sourced by the scripts that start helper servers: each registers how to
# stop its server, and all of them run when the calling script exits.
galley_exit_hooks=()
galley_at_exit() {
  galley_exit_hooks+=("$1")
  trap 'for hook in "${galley_exit_hooks[@]}"; do eval "$hook"; done' EXIT
}
