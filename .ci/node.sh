# Sourced by .ci/run: puts on PATH the Node.js version the README names (22.22+, 24.15+ or 26+),
# installing Node 22 from the npm registry's `node-linux-<arch>` package into .ci/.node when the
# machine's own Node is older. npm itself runs on whichever `node` comes first on PATH.
node_ok() {
  node -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    const ok = (major === 22 && minor >= 22) || (major === 24 && minor >= 15) || major >= 26;
    process.exit(ok ? 0 : 1);' 2>/dev/null
}

if ! node_ok; then
  case "$(uname -m)" in
    x86_64) node_arch=x64 ;;
    aarch64 | arm64) node_arch=arm64 ;;
    *) echo "no Node.js 22 package for $(uname -m)" >&2; exit 1 ;;
  esac
  node_dir="$PWD/.ci/.node"
  node_bin="$node_dir/node_modules/node-linux-$node_arch/bin"
  if [ ! -x "$node_bin/node" ]; then
    echo "Node.js $(node --version 2>/dev/null || echo 'missing') is older than the README's; installing Node 22"
    npm install --no-audit --no-fund --no-save --prefix "$node_dir" "node-linux-$node_arch@22" >/dev/null
  fi
  export PATH="$node_bin:$PATH"
fi
echo "Node.js $(node --version), npm $(npm --version)"
