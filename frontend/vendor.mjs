// Copy the browser libraries' dist files from node_modules/ (installed by `npm ci` from
// package-lock.json) into static/vendor/, with their source maps and licences.
// Run by `make static`; the copies are build output, not committed.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dest = join(here, "..", "static", "vendor");

// [package, file inside the package, name under static/vendor/]
const FILES = [
  ["cytoscape", "dist/cytoscape.min.js", "cytoscape.min.js"],
  ["cytoscape", "LICENSE", "LICENSE.cytoscape"],
  ["cytoscape-dagre", "dist/cytoscape-dagre.min.js", "cytoscape-dagre.min.js"],
  ["cytoscape-dagre", "dist/cytoscape-dagre.min.js.map", "cytoscape-dagre.min.js.map"],
  ["cytoscape-dagre", "LICENSE", "LICENSE.cytoscape-dagre"],
  ["@dagrejs/dagre", "LICENSE", "LICENSE.dagre"],
];

rmSync(dest, { recursive: true, force: true });
mkdirSync(dest, { recursive: true });
const versions = {};
for (const [pkg, file, name] of FILES) {
  const root = join(here, "node_modules", pkg);
  versions[pkg] = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
  copyFileSync(join(root, file), join(dest, name));
}
console.log(
  "static/vendor:",
  Object.entries(versions).map(([pkg, version]) => `${pkg} ${version}`).join(", "),
);
