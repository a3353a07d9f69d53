// Draws a component's neighbourhood with cytoscape.js and the dagre layout, left to right:
// what depends on it (upstream) -> the component -> what it depends on (downstream).
//
// Every `.graph[data-graph-url]` (JSON from catalog:component_graph) is drawn when the page loads
// or htmx inserts it; its controls are the `[data-graph-controls]` of the same card. After each
// layout the container gets data-node-count, data-edge-count and data-label-px (the node label
// size on screen at the current zoom), which tests and other scripts can read.
(function () {
  var NODE_COLOURS = { root: "#2f5bea", upstream: "#b9651a", downstream: "#147a68", both: "#7d3c98" };
  var EDGE_COLOURS = { sync: "#4a5568", event: "#b7791f", data: "#6b46c1" };
  var FONT_PX = 13;
  var FONT = "600 " + FONT_PX + "px Helvetica Neue, Helvetica, sans-serif"; // cytoscape's own
  var MIN_ZOOM_SHOWN = 1; // labels stay at FONT_PX or more when the graph is first drawn
  var measure = document.createElement("canvas").getContext("2d");

  function textWidth(text) {
    measure.font = FONT;
    return Math.ceil(measure.measureText(text || "").width);
  }

  function colour(map, key, fallback) { return map[key] || fallback; }

  function style() {
    return [
      { selector: "node", style: {
        "shape": "round-rectangle", "label": "data(label)", "color": "#fff",
        "font-size": FONT_PX, "font-weight": 600,
        "text-valign": "center", "text-halign": "center", "height": 30,
        "width": function (n) { return textWidth(n.data("label")) + 20; },
        "background-color": function (n) { return colour(NODE_COLOURS, n.data("direction"), "#667085"); },
        "border-width": 0 } },
      { selector: "node[direction = 'root']", style: { "height": 36, "border-width": 3, "border-color": "#151b2b" } },
      { selector: ":parent", style: {
        "shape": "round-rectangle", "background-color": "#eef1f6", "background-opacity": 0.7,
        "border-width": 1, "border-style": "dashed", "border-color": "#98a2b3",
        "label": "data(label)", "color": "#475467", "font-size": 12, "font-weight": 600,
        "text-valign": "top", "text-halign": "center", "text-margin-y": -4, "padding": "10px" } },
      { selector: "node:active, node:selected", style: { "overlay-opacity": 0.15 } },
      { selector: "edge", style: {
        "width": 1.6, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.9,
        "line-color": function (e) { return colour(EDGE_COLOURS, e.data("kind"), "#999"); },
        "target-arrow-color": function (e) { return colour(EDGE_COLOURS, e.data("kind"), "#999"); } } },
      { selector: "edge[kind = 'event']", style: { "line-style": "dashed", "line-dash-pattern": [7, 4] } },
      { selector: "edge[kind = 'data']", style: { "line-style": "dotted", "width": 2.4 } },
      { selector: "edge[criticality = 'high']", style: { "width": 2.6 } },
    ];
  }

  // The walk's own edges: each hop away from the component (depth 1: only the component's edges).
  // Edges among the neighbours themselves are shown only when asked for.
  function walkEdges(data, allEdges) {
    if (allEdges) return data.edges;
    var nodes = {};
    data.nodes.forEach(function (n) { nodes[n.data.id] = n.data; });
    var rootId = String(data.root);
    return data.edges.filter(function (e) {
      var s = nodes[e.data.source], t = nodes[e.data.target];
      if (!s || !t) return false;
      if (s.id === rootId || t.id === rootId) return true;
      var down = (s.direction === "downstream" || s.direction === "both") && t.depth === s.depth + 1;
      var up = (s.direction === "upstream" || s.direction === "both") && s.depth === t.depth + 1;
      return down || up;
    });
  }

  function elements(data, options) {
    var nodes = data.nodes.map(function (n) {
      var copy = { data: Object.assign({}, n.data) };
      if (options.group && n.data.system) copy.data.parent = "system:" + n.data.system;
      return copy;
    });
    if (options.group) {
      var systems = {};
      data.nodes.forEach(function (n) { if (n.data.system) systems[n.data.system] = true; });
      Object.keys(systems).forEach(function (name) {
        nodes.push({ data: { id: "system:" + name, label: name, isSystem: true } });
      });
    }
    return { nodes: nodes, edges: walkEdges(data, options.allEdges) };
  }

  // Tall enough for the biggest column of the layered layout.
  function heightFor(data) {
    var columns = {};
    data.nodes.forEach(function (n) {
      var key = n.data.direction + ":" + n.data.depth;
      columns[key] = (columns[key] || 0) + 1;
    });
    var biggest = Math.max.apply(null, [1].concat(Object.keys(columns).map(function (k) { return columns[k]; })));
    return Math.max(320, Math.min(760, biggest * 46 + 80));
  }

  function describe(el, names) {
    var d = el.data();
    if (el.isEdge()) {
      var text = names[d.source] + " → " + names[d.target] + ": " + d.kind + " dependency";
      if (d.topic) text += " (topic " + d.topic + ")";
      if (d.criticality) text += ", " + d.criticality + " criticality";
      return text;
    }
    if (d.isSystem) return "System " + d.label;
    var parts = [d.label, d.kind + (d.tier ? ", tier " + d.tier : ""), "owner: " + (d.owner || "none")];
    if (d.system) parts.push("system: " + d.system);
    return parts.join(" · ");
  }

  function draw(container, controls, data) {
    var options = {
      allEdges: !!(controls && controls.querySelector("[data-graph-option=all-edges]:checked")),
      group: !!(controls && controls.querySelector("[data-graph-option=group]:checked")),
    };
    if (container._cy) container._cy.destroy();
    container.dataset.nodeCount = "";
    container.style.height = heightFor(data) + "px";
    var cy = window.cytoscape({
      container: container, elements: elements(data, options), style: style(),
      minZoom: 0.2, maxZoom: 2.5, autoungrabify: true,
    });
    container._cy = cy;
    var names = {};
    data.nodes.forEach(function (n) { names[n.data.id] = n.data.label; });
    var tip = container.parentNode.querySelector("[data-graph-tip]");
    cy.on("tap", "node", function (evt) {
      var url = evt.target.data("url");
      if (url && evt.target.data("direction") !== "root") window.location.href = url;
    });
    cy.on("mouseover", "node, edge", function (evt) {
      container.style.cursor = evt.target.isNode() && evt.target.data("url") ? "pointer" : "";
      if (tip) { tip.textContent = describe(evt.target, names); tip.hidden = false; }
    });
    cy.on("mouseout", "node, edge", function () {
      container.style.cursor = "";
      if (tip) tip.hidden = true;
    });
    var layout = cy.layout({
      name: "dagre", rankDir: "LR", nodeSep: 14, rankSep: 80, edgeSep: 10, fit: true, padding: 20,
    });
    layout.one("layoutstop", function () {
      readable(cy);
      container.dataset.nodeCount = String(cy.nodes().filter(function (n) { return !n.data("isSystem"); }).length);
      container.dataset.edgeCount = String(cy.edges().length);
      container.dataset.hiddenEdgeCount = String(data.edges.length - cy.edges().length);
    });
    layout.run();
    cy.on("zoom", function () { container.dataset.labelPx = (FONT_PX * cy.zoom()).toFixed(1); });
    note(container, data, cy.edges().length);
  }

  // Fit, but never so small that labels drop under FONT_PX: then the component is centred and
  // the rest is a drag (or "Fit") away.
  function readable(cy) {
    if (cy.zoom() < MIN_ZOOM_SHOWN) {
      cy.zoom(MIN_ZOOM_SHOWN);
      cy.center(cy.nodes("[direction = 'root']"));
    } else if (cy.zoom() > 1.3) {
      cy.zoom(1.3);
      cy.center();
    }
    cy.container().dataset.labelPx = (FONT_PX * cy.zoom()).toFixed(1);
  }

  function note(container, data, shown) {
    var el = container.parentNode.querySelector("[data-graph-note]");
    if (!el) return;
    var text = data.truncated
      ? "The nearest " + data.nodes.length + " of " + data.total_nodes + " components"
      : data.nodes.length + " components";
    text += ", " + shown + " of " + data.edges.length + " edges shown.";
    el.textContent = text;
  }

  function query(controls) {
    var params = new URLSearchParams();
    var depth = controls && controls.querySelector("input[type=radio]:checked");
    params.set("depth", depth ? depth.value : "1");
    (controls ? controls.querySelectorAll("input[data-graph-kind]:checked") : []).forEach(function (box) {
      params.append("kind", box.value);
    });
    return params.toString();
  }

  function act(container, action) {
    var cy = container._cy;
    if (!cy) return;
    var centre = { x: container.clientWidth / 2, y: container.clientHeight / 2 };
    if (action === "fit") cy.fit(undefined, 20);
    if (action === "zoom-in") cy.zoom({ level: cy.zoom() * 1.25, renderedPosition: centre });
    if (action === "zoom-out") cy.zoom({ level: cy.zoom() / 1.25, renderedPosition: centre });
  }

  // cytoscape.js injects a <style> unless an element with this id exists; the CSP refuses inline
  // styles, so catalog.css carries its one rule and this marker tells cytoscape so.
  function markCytoscapeStylesheet() {
    if (document.getElementById("__________cytoscape_stylesheet")) return;
    var marker = document.createElement("meta");
    marker.id = "__________cytoscape_stylesheet";
    document.head.appendChild(marker);
  }

  function start(container) {
    if (!window.cytoscape || container.dataset.graphStarted) return;
    markCytoscapeStylesheet();
    container.dataset.graphStarted = "1";
    var card = container.closest(".servicegraph") || container.parentNode;
    var controls = card.querySelector("[data-graph-controls]");
    var data = null;
    function load() {
      fetch(container.dataset.graphUrl + "?" + query(controls), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (json) { data = json; draw(container, controls, data); })
        .catch(function () {
          if (window.switchyardToast) window.switchyardToast("The service graph could not be loaded.", "error");
        });
    }
    if (controls) {
      controls.addEventListener("change", function (evt) {
        // Showing more edges or grouping redraws what is loaded; depth and kinds ask again.
        if (evt.target.dataset.graphOption && data) draw(container, controls, data);
        else load();
      });
    }
    card.querySelectorAll("[data-graph-action]").forEach(function (button) {
      button.addEventListener("click", function () { act(container, button.dataset.graphAction); });
    });
    load();
  }

  function startAll(root) {
    (root || document).querySelectorAll(".graph[data-graph-url]").forEach(start);
  }
  window.switchyardServiceGraph = start;
  document.addEventListener("DOMContentLoaded", function () { startAll(document); });
  document.addEventListener("htmx:load", function (evt) { startAll(evt.detail.elt); });
  if (document.readyState !== "loading") startAll(document);
})();
