// Draws a component's neighbourhood with cytoscape.js and the dagre layout, left to right:
// what depends on it (upstream) -> the component -> what it depends on (downstream).
//
// Every `.graph[data-graph-url]` (JSON from catalog:component_graph) is drawn when the page loads
// or htmx inserts it; its controls are the `[data-graph-controls]` of the same card. After each
// layout the container gets data-node-count, data-edge-count and data-label-px (the node label
// size on screen at the current zoom), which tests and other scripts can read.
//
// A hub's neighbours do not become a column of 130 boxes: a column (one side, one hop) of more
// than FOLD_OVER components is folded into one node per system (or owner when there is none)
// that says how many it holds; clicking it opens that group, clicking the group's box folds it
// again. A column still taller than WRAP_AT rows is wrapped into a grid, side by side.
(function () {
  var NODE_COLOURS = { root: "#2f5bea", upstream: "#b9651a", downstream: "#147a68", both: "#7d3c98" };
  var EDGE_COLOURS = { sync: "#4a5568", event: "#b7791f", data: "#6b46c1" };
  var FONT_PX = 13;
  var FONT = "600 " + FONT_PX + "px Helvetica Neue, Helvetica, sans-serif"; // cytoscape's own
  var MIN_ZOOM_SHOWN = 1; // labels stay at FONT_PX or more when the graph is first drawn
  var FOLD_OVER = 12; // components in one column before it is folded into groups
  var WRAP_AT = 12; // rows of a column before it wraps into a grid
  var ROW_PX = 44, COLUMN_GAP_PX = 24;
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
      { selector: "node[?isCluster]", style: {
        "shape": "round-rectangle", "height": 34, "border-width": 2, "border-style": "double",
        "border-color": "#151b2b" } },
      { selector: "node:active, node:selected", style: { "overlay-opacity": 0.15 } },
      { selector: "edge", style: {
        "width": 1.6, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.9,
        "line-color": function (e) { return colour(EDGE_COLOURS, e.data("kind"), "#999"); },
        "target-arrow-color": function (e) { return colour(EDGE_COLOURS, e.data("kind"), "#999"); } } },
      { selector: "edge[kind = 'event']", style: { "line-style": "dashed", "line-dash-pattern": [7, 4] } },
      { selector: "edge[kind = 'data']", style: { "line-style": "dotted", "width": 2.4 } },
      { selector: "edge[criticality = 'high']", style: { "width": 2.6 } },
      { selector: "edge.faint", style: { "opacity": 0.3 } },
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

  function columnKey(d) { return d.direction + ":" + d.depth; }

  function groupKey(d) { return d.system || (d.owner ? "owner " + d.owner : "no owner"); }

  // Which nodes are folded, and into what: {nodeId: cluster data}. `expanded` holds the cluster
  // ids a person opened.
  function folds(data, expanded) {
    var columns = {};
    data.nodes.forEach(function (n) {
      if (n.data.direction === "root") return;
      (columns[columnKey(n.data)] = columns[columnKey(n.data)] || []).push(n.data);
    });
    var into = {};
    Object.keys(columns).forEach(function (key) {
      if (columns[key].length <= FOLD_OVER) return;
      var groups = {};
      columns[key].forEach(function (d) { (groups[groupKey(d)] = groups[groupKey(d)] || []).push(d); });
      Object.keys(groups).forEach(function (name) {
        var members = groups[name], first = members[0];
        var id = "cluster:" + key + ":" + name;
        if (members.length < 2 || expanded[id]) return;
        var cluster = {
          id: id, isCluster: true, group: name, count: members.length,
          label: name + ": " + members.length + " components",
          direction: first.direction, depth: first.depth,
          owner: members.every(function (m) { return m.owner === first.owner; }) ? first.owner : "several",
          system: first.system,
        };
        members.forEach(function (m) { into[m.id] = cluster; });
      });
    });
    return into;
  }

  function elements(data, options) {
    var into = folds(data, options.expanded || {});
    var nodes = [], clusters = {}, systems = {};
    data.nodes.forEach(function (n) {
      var cluster = into[n.data.id];
      if (cluster) { clusters[cluster.id] = cluster; return; }
      var copy = { data: Object.assign({}, n.data) };
      if (options.group && n.data.system) {
        copy.data.parent = "system:" + n.data.system;
        systems[n.data.system] = true;
      }
      nodes.push(copy);
    });
    Object.keys(clusters).forEach(function (id) { nodes.push({ data: clusters[id] }); });
    Object.keys(systems).forEach(function (name) {
      nodes.push({ data: { id: "system:" + name, label: name, isSystem: true } });
    });
    return { nodes: nodes, edges: foldEdges(walkEdges(data, options.allEdges), into) };
  }

  // An edge to a folded node goes to its group; several become one that counts them.
  function foldEdges(edges, into) {
    var merged = {}, out = [];
    edges.forEach(function (e) {
      var s = into[e.data.source] ? into[e.data.source].id : e.data.source;
      var t = into[e.data.target] ? into[e.data.target].id : e.data.target;
      if (s === t) return;
      if (s === e.data.source && t === e.data.target) { out.push(e); return; }
      var id = "f" + s + "|" + t + "|" + e.data.kind;
      if (merged[id]) { merged[id].data.count += 1; return; }
      merged[id] = { data: { id: id, source: s, target: t, kind: e.data.kind, count: 1, folded: true } };
      out.push(merged[id]);
    });
    return out;
  }

  // Tall enough for the biggest column once wrapped.
  function heightFor(els) {
    var columns = {};
    els.nodes.forEach(function (n) {
      if (n.data.isSystem) return;
      var key = columnKey(n.data);
      columns[key] = (columns[key] || 0) + 1;
    });
    var biggest = Math.max.apply(null, [1].concat(Object.keys(columns).map(function (k) { return columns[k]; })));
    return Math.max(320, Math.min(760, Math.min(biggest, WRAP_AT) * 46 + 100));
  }

  // A column of more than WRAP_AT nodes becomes a grid of WRAP_AT rows, growing away from the
  // component (upstream to the left, downstream to the right); what lies further out moves too.
  function wrapColumns(cy) {
    var columns = {};
    cy.nodes().forEach(function (n) {
      if (n.isParent() || n.data("direction") === "root") return;
      (columns[columnKey(n.data())] = columns[columnKey(n.data())] || []).push(n);
    });
    Object.keys(columns).sort(function (a, b) {
      return Number(a.split(":")[1]) - Number(b.split(":")[1]);
    }).forEach(function (key) {
      var column = columns[key];
      if (column.length <= WRAP_AT) return;
      column.sort(function (a, b) { return a.position("y") - b.position("y"); });
      var side = column[0].data("direction") === "upstream" ? -1 : 1;
      var width = Math.max.apply(null, column.map(function (n) { return n.width(); })) + COLUMN_GAP_PX;
      var x0 = column[0].position("x"), rows = WRAP_AT;
      var ys = column.map(function (n) { return n.position("y"); });
      var middle = (Math.min.apply(null, ys) + Math.max.apply(null, ys)) / 2;
      var top = middle - ((rows - 1) * ROW_PX) / 2;
      column.forEach(function (n, i) {
        n.position({ x: x0 + side * Math.floor(i / rows) * width, y: top + (i % rows) * ROW_PX });
        // Lines from the outer columns pass behind the inner ones: drawn faint, boxes stay clear.
        if (i >= rows) n.connectedEdges().addClass("faint");
      });
      var extra = (Math.ceil(column.length / rows) - 1) * width;
      var depth = Number(key.split(":")[1]), direction = key.split(":")[0];
      cy.nodes().forEach(function (n) {
        if (!n.isParent() && n.data("direction") === direction && n.data("depth") > depth) {
          n.position("x", n.position("x") + side * extra);
        }
      });
    });
  }

  function describe(el, names) {
    var d = el.data();
    if (el.isEdge()) {
      var text = names[d.source] + " → " + names[d.target] + ": " +
        (d.count > 1 ? d.count + " " + d.kind + " dependencies" : d.kind + " dependency");
      if (d.topic) text += " (topic " + d.topic + ")";
      if (d.criticality) text += ", " + d.criticality + " criticality";
      return text;
    }
    if (d.isSystem) return "System " + d.label + (d.unfolded ? " · click the box to fold it again" : "");
    if (d.isCluster) {
      return d.label + " (" + (d.direction === "upstream" ? "they depend on it" : "it depends on them") +
        ") · owner: " + (d.owner || "none") + " · click to show them";
    }
    var parts = [d.label, d.kind + (d.tier ? ", tier " + d.tier : ""), "owner: " + (d.owner || "none")];
    if (d.system) parts.push("system: " + d.system);
    return parts.join(" · ");
  }

  function draw(container, controls, data) {
    var expanded = container._expanded = container._expanded || {};
    var options = {
      allEdges: !!(controls && controls.querySelector("[data-graph-option=all-edges]:checked")),
      group: !!(controls && controls.querySelector("[data-graph-option=group]:checked")),
      expanded: expanded,
    };
    if (container._cy) container._cy.destroy();
    container.dataset.nodeCount = "";
    var els = elements(data, options);
    markUnfolded(els, data, expanded);
    container.style.height = heightFor(els) + "px";
    var cy = window.cytoscape({
      container: container, elements: els, style: style(),
      minZoom: 0.2, maxZoom: 2.5, autoungrabify: true,
    });
    container._cy = cy;
    var names = {};
    data.nodes.forEach(function (n) { names[n.data.id] = n.data.label; });
    cy.nodes("[?isCluster]").forEach(function (n) { names[n.id()] = n.data("label"); });
    var tip = container.parentNode.querySelector("[data-graph-tip]");
    cy.on("tap", "node", function (evt) {
      var d = evt.target.data();
      if (d.isCluster) { expanded[d.id] = true; draw(container, controls, data); return; }
      if (d.isSystem && d.unfolded) {
        d.unfolded.forEach(function (id) { delete expanded[id]; });
        draw(container, controls, data);
        return;
      }
      if (d.url && d.direction !== "root") window.location.href = d.url;
    });
    cy.on("mouseover", "node, edge", function (evt) {
      var d = evt.target.data(), clickable = d.url || d.isCluster || d.unfolded;
      container.style.cursor = evt.target.isNode() && clickable ? "pointer" : "";
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
      wrapColumns(cy);
      cy.fit(undefined, 20);
      readable(cy);
      var shown = cy.nodes().filter(function (n) { return !n.data("isSystem"); });
      container.dataset.nodeCount = String(shown.length);
      container.dataset.clusterCount = String(cy.nodes("[?isCluster]").length);
      container.dataset.edgeCount = String(cy.edges().length);
      container.dataset.hiddenEdgeCount = String(data.edges.length - edgesDrawn(cy));
      note(container, data, cy);
    });
    layout.run();
    cy.on("zoom", function () { container.dataset.labelPx = (FONT_PX * cy.zoom()).toFixed(1); });
  }

  // A system box whose members were opened from a group folds them back when clicked.
  function markUnfolded(els, data, expanded) {
    var bySystem = {};
    Object.keys(expanded).forEach(function (id) {
      var group = id.split(":").slice(3).join(":");
      (bySystem[group] = bySystem[group] || []).push(id);
    });
    els.nodes.forEach(function (n) {
      if (n.data.isSystem && bySystem[n.data.label]) n.data.unfolded = bySystem[n.data.label];
    });
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

  // The dependencies drawn, counting each one a folded line stands for.
  function edgesDrawn(cy) {
    var count = 0;
    cy.edges().forEach(function (e) { count += e.data("folded") ? e.data("count") : 1; });
    return count;
  }

  function note(container, data, cy) {
    var el = container.parentNode.querySelector("[data-graph-note]");
    if (!el) return;
    var text = data.truncated
      ? "The nearest " + data.nodes.length + " of " + data.total_nodes + " components"
      : data.nodes.length + " components";
    var folded = cy.nodes("[?isCluster]");
    text += ", " + edgesDrawn(cy) + " of " + data.edges.length + " edges shown";
    if (folded.length) text += "; " + folded.length + " groups folded (click a group to open it)";
    el.textContent = text + ".";
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
      container._expanded = {}; // another depth or kinds: groups start folded again
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
      button.addEventListener("click", function () {
        if (button.dataset.graphAction === "fold") {
          container._expanded = {};
          if (data) draw(container, controls, data);
          return;
        }
        act(container, button.dataset.graphAction);
      });
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
