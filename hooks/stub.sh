#!/bin/sh
# kitty-hook: managed by `kitty hooks install`; `kitty hooks uninstall` removes it and restores any hook it replaced.
# kitty-hook-version: 1
# It records a capture request and starts kitty's worker in the background: it never fails or slows
# the git command, and prints only when something needs attention. KITTY=0 skips it.
kitty_node=@NODE@
kitty_cli=@CLI@
kitty_hook=@HOOK@

kitty_status=0
kitty_input=
[ "$kitty_hook" = post-rewrite ] && kitty_input=$(cat)
if [ -x "$0.pre-kitty" ]; then
  if [ "$kitty_hook" = post-rewrite ]; then
    printf '%s\n' "$kitty_input" | "$0.pre-kitty" "$@"
  else
    "$0.pre-kitty" "$@"
  fi
  kitty_status=$?
fi
[ "${KITTY:-1}" = 0 ] && exit $kitty_status

# one git call: git dir, common dir, HEAD and its branch
kitty_facts=$(git rev-parse --git-dir --git-common-dir HEAD --symbolic-full-name HEAD 2>/dev/null) || exit $kitty_status
kitty_git_dir=${kitty_facts%%
*}
kitty_common=${kitty_facts#*
}
kitty_common=${kitty_common%%
*}

# during a rebase post-commit fires once per replayed commit; the final post-rewrite covers them all
if [ -d "$kitty_git_dir/rebase-merge" ] || [ -d "$kitty_git_dir/rebase-apply" ]; then
  case "$kitty_hook $1" in
    post-commit*|"post-rewrite amend") exit $kitty_status ;;
  esac
fi

kitty_dir="$kitty_common/kitty/requests"
kitty_req="$kitty_dir/$(date +%s)-$$-$kitty_hook"
{
  { [ -d "$kitty_dir" ] || mkdir -p "$kitty_dir"; } &&
  {
    printf 'hook %s %s\n' "$kitty_hook" "$*"
    printf 'facts\n%s\n' "$kitty_facts"
    [ -n "$kitty_input" ] && printf 'rewritten\n%s\n' "$kitty_input"
    [ "$kitty_hook $1" = "post-merge 1" ] && [ -f "$kitty_git_dir/SQUASH_MSG" ] && printf 'squash\n' && cat "$kitty_git_dir/SQUASH_MSG"
    :
  } > "$kitty_req.tmp" &&
  mv "$kitty_req.tmp" "$kitty_req"
} 2>/dev/null || exit $kitty_status

# the worker backfills the identity in the work tree; the user should commit it
[ -f .kittify/config.yaml ] || [ "$kitty_hook" = post-rewrite ] ||
  echo "kitty: writing the project identity to .kittify/config.yaml; commit it so every clone shares it" >&2

[ -x "$kitty_node" ] || kitty_node=$(command -v node 2>/dev/null)
if [ -z "$kitty_node" ] || [ ! -f "$kitty_cli" ]; then
  echo "kitty: the $kitty_hook hook cannot find node or kitty ($kitty_cli); run \`kitty hooks install\` again, or \`kitty hooks uninstall\`" >&2
  exit $kitty_status
fi
if [ "${KITTY_HOOK_SYNC:-0}" = 1 ]; then
  "$kitty_node" "$kitty_cli" hooks worker </dev/null >&2
else
  "$kitty_node" "$kitty_cli" hooks worker </dev/null >/dev/null 2>&1 &
fi
exit $kitty_status
