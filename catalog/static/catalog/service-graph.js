// Draws a component's neighbourhood with cytoscape.js and the dagre layout.
// The container carries data-graph-url (JSON from catalog:component_graph); after each layout it
// gets data-node-count and data-edge-count, which tests and other scripts can read.
(function () {
  var NODE_COLOURS = { root: "#2f5bea", upstream: "#d9822b", downstream: "#1a8f7a", both: "#8e44ad" };
  var EDGE_COLOURS = { sync: "#4a5568", event: "#b7791f", data: "#6b46c1" };

  function style() {
    return [
      { selector: "node", style: {
        "shape": "round-rectangle", "label": "data(label)", "color": "#fff", "font-size": 11,
        "text-valign": "center", "text-halign": "center", "width": "label", "height": 26,
        "padding": "8px", "background-color": function (n) { return NODE_COLOURS[n.data("direction")] || "#667085"; },
        "border-width": 0 } },
      { selector: "node[direction = 'root']", style: { "font-weight": "bold", "font-size": 13, "height": 32, "border-width": 3, "border-color": "#151b2b" } },
      { selector: "node:active, node:selected", style: { "overlay-opacity": 0.15 } },
      { selector: "edge", style: {
        "width": 1.6, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.9,
        "line-color": function (e) { return EDGE_COLOURS[e.data("kind")] || "#999"; },
        "target-arrow-color": function (e) { return EDGE_COLOURS[e.data("kind")] || "#999"; } } },
      { selector: "edge[kind = 'event']", style: { "line-style": "dashed", "line-dash-pattern": [7, 4] } },
      { selector: "edge[kind = 'data']", style: { "line-style": "dotted", "width": 2.4 } },
      { selector: "edge[criticality = 'high']", style: { "width": 2.6 } },
    ];
  }

  // cytoscape.js injects a <style> unless an element with this id exists; the CSP refuses inline
  // styles, so catalog.css carries its one rule and this marker tells cytoscape so.
  function markCytoscapeStylesheet() {
    if (document.getElementById("__________cytoscape_stylesheet")) return;
    var marker = document.createElement("meta");
    marker.id = "__________cytoscape_stylesheet";
    document.head.appendChild(marker);
  }

  window.switchyardServiceGraph = function (container, controls) {
    if (!container || !window.cytoscape) return;
    markCytoscapeStylesheet();
    var note = container.parentNode.querySelector("[data-graph-note]");
    var cy = null;

    function query() {
      var params = new URLSearchParams();
      var depth = controls && controls.querySelector("input[type=radio]:checked");
      params.set("depth", depth ? depth.value : "1");
      (controls ? controls.querySelectorAll("input[type=checkbox]:checked") : []).forEach(function (box) {
        params.append("kind", box.value);
      });
      return params.toString();
    }

    function draw(data) {
      if (cy) cy.destroy();
      container.dataset.nodeCount = "";
      cy = window.cytoscape({
        container: container, elements: { nodes: data.nodes, edges: data.edges }, style: style(),
        minZoom: 0.2, maxZoom: 2.5, wheelSensitivity: 0.3, autoungrabify: true,
      });
      cy.on("tap", "node", function (evt) {
        var url = evt.target.data("url");
        if (url && evt.target.data("direction") !== "root") window.location.href = url;
      });
      cy.on("mouseover", "node", function () { container.style.cursor = "pointer"; });
      cy.on("mouseout", "node", function () { container.style.cursor = ""; });
      var layout = cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 12, rankSep: 70, edgeSep: 8, fit: true, padding: 16 });
      layout.one("layoutstop", function () {
        if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
        container.dataset.nodeCount = String(cy.nodes().length);
        container.dataset.edgeCount = String(cy.edges().length);
      });
      layout.run();
      if (note) {
        note.textContent = data.truncated
          ? "Showing the nearest " + data.nodes.length + " of " + data.total_nodes + " components."
          : data.nodes.length + " components, " + data.edges.length + " edges.";
      }
    }

    function load() {
      fetch(container.dataset.graphUrl + "?" + query(), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(draw)
        .catch(function () {
          if (window.switchyardToast) window.switchyardToast("The service graph could not be loaded.", "error");
        });
    }

    if (controls) controls.addEventListener("change", load);
    load();
  };

  // Draw every graph on the page, and those htmx swaps in later (no inline script: CSP).
  function drawAll(root) {
    (root || document).querySelectorAll(".graph[data-graph-controls-for]:not([data-graph-drawn])").forEach(function (el) {
      el.dataset.graphDrawn = "1";
      var controls = document.querySelector('[data-graph-controls="' + el.dataset.graphControlsFor + '"]');
      window.switchyardServiceGraph(el, controls);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  document.addEventListener("htmx:load", function (evt) { drawAll(evt.target); });
})();
