# Node 24 from the npm registry, for a machine whose own Node is older (Debian 12 ships 18/20).
# `source scripts/use-node24.sh` puts it first on PATH in this shell (npm, npx and node-gyp then run
# on it), then `npm ci && npm start` / `npm ci && npm test` as usual. `.ci/run` sources it.
# The binary and its C headers come from the registry's `node-linux-<arch>` package (the one the
# `node` package installs), unpacked into .tools/ (git-ignored); nothing else is downloaded.
# OCTOPLEX_NODE_VERSION picks another release line or an exact version (default 24).

_octoplex_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
_octoplex_want="${OCTOPLEX_NODE_VERSION:-24}"
_octoplex_dir="$_octoplex_root/.tools/node$_octoplex_want"

if [ "$(node -v 2>/dev/null | sed 's/^v//;s/\..*//')" = "${_octoplex_want%%.*}" ] && [ ! -x "$_octoplex_dir/bin/node" ]; then
  echo "use-node24: already on node $(node -v)" >&2
elif [ -x "$_octoplex_dir/bin/node" ] || (
  # (`set -e` does not apply inside an if's condition: every step is chained instead.)
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
  tmp="$(mktemp -d)" || exit 1
  trap 'rm -rf "$tmp"' EXIT
  echo "use-node24: fetching node-linux-$arch@$_octoplex_want from the npm registry" >&2
  tarball="$(cd "$tmp" && npm pack --silent "node-linux-$arch@$_octoplex_want" | tail -1)" &&
    [ -f "$tmp/$tarball" ] &&
    mkdir -p "$tmp/unpacked" "$(dirname "$_octoplex_dir")" &&
    tar -xzf "$tmp/$tarball" -C "$tmp/unpacked" &&
    [ -x "$tmp/unpacked/package/bin/node" ] &&
    rm -rf "$_octoplex_dir" &&
    mv "$tmp/unpacked/package" "$_octoplex_dir"
); then
  export PATH="$_octoplex_dir/bin:$PATH"
  # node-gyp (sqlite3's native build) compiles against this Node's headers, shipped in the same package.
  export npm_config_nodedir="$_octoplex_dir"
  hash -r 2>/dev/null || true
  echo "use-node24: node $(node -v) from ${_octoplex_dir#"$_octoplex_root"/}, npm $(npm -v)" >&2
  _octoplex_status=0
else
  echo "use-node24: could not fetch Node $_octoplex_want from the npm registry; staying on $(node -v 2>/dev/null)" >&2
  _octoplex_status=1
fi
unset _octoplex_root _octoplex_want _octoplex_dir
# `return` when sourced (the normal use), `exit` when run as a command.
return "${_octoplex_status:-0}" 2>/dev/null || exit "${_octoplex_status:-0}"
