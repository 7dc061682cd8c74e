#!/bin/sh
# kitty-hook: managed by `kitty hooks install`; `kitty hooks uninstall` removes it and restores any hook it replaced.
# kitty-hook-version: 4
# Records a capture request and starts kitty's worker in the background: it never fails or slows
# the git command, and prints only when something needs attention. KITTY=0 skips it.
# Only shell builtins run before the worker starts: each extra process costs milliseconds per commit.
kitty_node=@NODE@
kitty_cli=@CLI@
kitty_hook=@HOOK@

kitty_status=0
kitty_input=
if [ "$kitty_hook" = post-rewrite ]; then
  while IFS= read -r kitty_line; do kitty_input="$kitty_input$kitty_line
"; done
fi
if [ -x "$0.pre-kitty" ]; then
  if [ "$kitty_hook" = post-rewrite ]; then
    printf '%s' "$kitty_input" | "$0.pre-kitty" "$@"
  else
    "$0.pre-kitty" "$@"
  fi
  kitty_status=$?
fi
[ "${KITTY:-1}" = 0 ] && exit $kitty_status

# git's files and kitty's requests hold one path a line: a path with a newline would be read cut
# short, and capture would write into another directory; a second line of a one-line file says so
kitty_cut=
if [ -n "$GIT_DIR" ]; then
  kitty_git_dir=$GIT_DIR
elif [ -d .git ]; then
  kitty_git_dir=.git
elif [ -f .git ]; then
  { read -r _ kitty_git_dir; read -r kitty_cut; } < .git
else
  kitty_git_dir=$(git rev-parse --git-dir 2>/dev/null) || exit $kitty_status
fi
# absolute: /…, or C:/… and C:\… as Git for Windows writes a worktree's .git and commondir
case $kitty_git_dir in /*|[A-Za-z]:[/\\]*) ;; *) kitty_git_dir=$PWD/$kitty_git_dir ;; esac
kitty_common=$kitty_git_dir
if [ -f "$kitty_git_dir/commondir" ]; then
  { read -r kitty_common; read -r kitty_more; } < "$kitty_git_dir/commondir"
  kitty_cut=$kitty_cut$kitty_more
  case $kitty_common in /*|[A-Za-z]:[/\\]*) ;; *) kitty_common=$kitty_git_dir/$kitty_common ;; esac
fi
kitty_nl='
'
case "$PWD$kitty_git_dir$kitty_common" in *"$kitty_nl"*) kitty_cut=1 ;; esac
if [ -n "$kitty_cut" ]; then
  echo "kitty: a path of this repository contains a newline, so nothing is captured here; \`kitty hooks status\` names it" >&2
  exit $kitty_status
fi

# during a rebase post-commit fires once per replayed commit; the final post-rewrite covers them all
if [ -d "$kitty_git_dir/rebase-merge" ] || [ -d "$kitty_git_dir/rebase-apply" ]; then
  case "$kitty_hook $1" in
    post-commit*|"post-rewrite amend") exit $kitty_status ;;
  esac
fi

# a problem the background worker met (kitty/problem, removed by the next clean capture or by
# `kitty doctor`): one line per git command, so the pid of git, this hook's parent, is noted
if [ -f "$kitty_common/kitty/problem" ]; then
  kitty_shown=
  { read -r kitty_shown < "$kitty_common/kitty/problem.shown"; } 2>/dev/null
  if [ "$kitty_shown" != "$PPID" ] && { read -r kitty_problem < "$kitty_common/kitty/problem"; } 2>/dev/null; then
    # printf, not echo: dash's echo would obey the backslash escapes the worker wrote to keep it one line
    printf 'kitty: %s; see `kitty doctor`\n' "$kitty_problem" >&2
    { printf '%s\n' "$PPID" > "$kitty_common/kitty/problem.shown"; } 2>/dev/null
  fi
fi

kitty_ref=HEAD
kitty_head=
read -r kitty_head_line < "$kitty_git_dir/HEAD" 2>/dev/null
case $kitty_head_line in
  "ref: "*)
    kitty_ref=${kitty_head_line#ref: }
    [ -f "$kitty_common/$kitty_ref" ] && read -r kitty_head < "$kitty_common/$kitty_ref" ;;
  *) kitty_head=$kitty_head_line ;;
esac

kitty_dir=$kitty_common/kitty/requests
{ [ -d "$kitty_dir" ] || mkdir -p "$kitty_dir"; } 2>/dev/null || exit $kitty_status
{
  printf 'hook %s %s\ngitdir %s\nref %s\nhead %s\n' "$kitty_hook" "$*" "$kitty_git_dir" "$kitty_ref" "$kitty_head"
  [ -n "$kitty_input" ] && printf 'rewritten\n%s' "$kitty_input"
  if [ "$kitty_hook $1" = "post-merge 1" ] && [ -f "$kitty_git_dir/SQUASH_MSG" ]; then
    printf 'squash\n'
    while IFS= read -r kitty_line; do printf '%s\n' "$kitty_line"; done < "$kitty_git_dir/SQUASH_MSG"
  fi
  printf 'end\n'
} > "$kitty_dir/${kitty_head:-unborn}-$$-$kitty_hook" 2>/dev/null || exit $kitty_status

# the worker backfills the identity in the work tree; the user should commit it
[ -f .kittify/config.yaml ] || [ "$kitty_hook" = post-rewrite ] ||
  echo "kitty: writing the project identity to .kittify/config.yaml; commit it so every clone shares it" >&2

# a running worker takes this request in its next round: no second node process on the commit path.
# Windows pids are not the shell's, so there kill -0 cannot tell: the worker started anyway waits for the lock
if [ "${KITTY_HOOK_SYNC:-0}" != 1 ] && [ "${OS:-}" != Windows_NT ] && [ -f "$kitty_common/kitty/worker.lock" ] &&
  read -r kitty_pid _ < "$kitty_common/kitty/worker.lock" 2>/dev/null && kill -0 "$kitty_pid" 2>/dev/null; then
  exit $kitty_status
fi

# PATH walked with builtins: `command -v` would need a subshell `$(…)`, a process on the commit path
kitty_which() {
  kitty_found=
  kitty_ifs=$IFS
  IFS=:
  for kitty_p in $PATH; do
    if [ -x "$kitty_p/$1" ] && [ ! -d "$kitty_p/$1" ]; then kitty_found=$kitty_p/$1; break; fi
  done
  IFS=$kitty_ifs
  [ -n "$kitty_found" ]
}

# the node and kitty the hooks were installed with; when kitty is gone (an npx cache, a new node
# version), the repository's own node_modules/.bin/kitty, then kitty on PATH
set --
if [ -f "$kitty_cli" ]; then
  if [ -x "$kitty_node" ]; then set -- "$kitty_node" "$kitty_cli"
  elif kitty_which node; then set -- "$kitty_found" "$kitty_cli"; fi
elif [ -x node_modules/.bin/kitty ]; then
  set -- "$PWD/node_modules/.bin/kitty"
elif kitty_which kitty; then
  set -- "$kitty_found"
fi
if [ $# = 0 ]; then
  echo "kitty: the $kitty_hook hook cannot find node or kitty ($kitty_cli); run \`kitty hooks install\` again, or \`kitty hooks uninstall\`" >&2
  exit $kitty_status
fi
if [ "${KITTY_HOOK_SYNC:-0}" = 1 ]; then
  "$@" hooks worker </dev/null >&2
else
  "$@" hooks worker </dev/null >/dev/null 2>&1 &
fi
exit $kitty_status
