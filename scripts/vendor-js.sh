#!/usr/bin/env bash
# Reproduce static/vendor/ from the npm registry: the graph drawing libraries for service pages.
# cytoscape-dagre 4 bundles @dagrejs/dagre 3 into its dist file; dagre is packed here only for
# its licence text (and so the bundled version is recorded).
set -euo pipefail

CYTOSCAPE_VERSION=3.35.0
CYTOSCAPE_DAGRE_VERSION=4.0.1
DAGRE_VERSION=3.1.3

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "cytoscape@$CYTOSCAPE_VERSION" "cytoscape-dagre@$CYTOSCAPE_DAGRE_VERSION" \
  "@dagrejs/dagre@$DAGRE_VERSION" >/dev/null
for pkg in *.tgz; do
  mkdir -p "${pkg%.tgz}" && tar xzf "$pkg" -C "${pkg%.tgz}"
done

mkdir -p "$dest"
cp "cytoscape-$CYTOSCAPE_VERSION/package/dist/cytoscape.min.js" "$dest/cytoscape.min.js"
cp "cytoscape-$CYTOSCAPE_VERSION/package/LICENSE" "$dest/LICENSE.cytoscape"
# Without its source map, which is not shipped: a dangling sourceMappingURL makes the production
# collectstatic (whitenoise's manifest storage) fail.
sed '/^\/\/# sourceMappingURL=/d' "cytoscape-dagre-$CYTOSCAPE_DAGRE_VERSION/package/dist/cytoscape-dagre.min.js" \
  > "$dest/cytoscape-dagre.min.js"
cp "cytoscape-dagre-$CYTOSCAPE_DAGRE_VERSION/package/LICENSE" "$dest/LICENSE.cytoscape-dagre"
cp "dagrejs-dagre-$DAGRE_VERSION/package/LICENSE" "$dest/LICENSE.dagre"
echo "static/vendor: cytoscape $CYTOSCAPE_VERSION, cytoscape-dagre $CYTOSCAPE_DAGRE_VERSION (bundles @dagrejs/dagre $DAGRE_VERSION licence)"
