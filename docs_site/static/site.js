/* Silverline docs site: search and column lineage, with no request beyond the site.
 * Data arrives as script shards (JSONP style) so the site also works from file://,
 * where fetch() and workers fail. No telemetry, no third-party code. */
(function () {
  "use strict";
  var SL = window.SL = window.SL || {};
  var root = document.documentElement.getAttribute("data-root") || "";
  var pending = {};   // script src -> [callbacks]
  var loaded = {};    // script src -> true once its callback ran or it failed

  function loadScript(src, done) {
    if (loaded[src]) { done(); return; }
    if (pending[src]) { pending[src].push(done); return; }
    pending[src] = [done];
    var tag = document.createElement("script");
    tag.src = src;
    function finish() {
      loaded[src] = true;
      var waiting = pending[src] || [];
      delete pending[src];
      for (var i = 0; i < waiting.length; i++) { waiting[i](); }
    }
    tag.onload = finish;
    tag.onerror = finish; // a missing shard means: nothing there
    document.head.appendChild(tag);
  }
  SL.loadScript = loadScript;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var key in attrs) { if (attrs.hasOwnProperty(key)) { node.setAttribute(key, attrs[key]); } }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  /* The same anchor rule as docs_site.pages.anchor(). */
  SL.anchor = function (name) {
    return "col-" + name.replace(/[^A-Za-z0-9_-]/g, function (c) { return "." + c.charCodeAt(0).toString(16) + "."; });
  };

  // -- search ------------------------------------------------------------------------
  var datasets = null;
  var shards = {};
  var split = {};
  SL.searchDatasets = function (data) {
    datasets = data[0];
    for (var i = 0; i < data[1].length; i++) { split[data[1][i]] = true; }
  };
  SL.searchShard = function (key, data) {
    data.nk = Object.keys(data.n).sort();
    data.wk = Object.keys(data.w).sort();
    shards[key] = data;
  };

  /* The same rule as docs_site.search.shard_key; a split key goes one character deeper
   * (its two-character shard holds only two-character tokens). */
  function shardKey(q) {
    var key = q.slice(0, 2).replace(/[^a-z0-9]/g, "_");
    return split[key] && q.length > 2 ? q.slice(0, 3).replace(/[^a-z0-9]/g, "_") : key;
  }

  function lowerBound(keys, q) {
    var lo = 0, hi = keys.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (keys[mid] < q) { lo = mid + 1; } else { hi = mid; } }
    return lo;
  }

  function rank(shard, q, terms) {
    var best = {}; // doc position -> score (lower is better)
    function scan(keys, map, exactScore, prefixScore) {
      for (var i = lowerBound(keys, q); i < keys.length && keys[i].lastIndexOf(q, 0) === 0; i++) {
        var score = keys[i] === q ? exactScore : prefixScore;
        var postings = map[keys[i]];
        for (var j = 0; j < postings.length; j++) {
          var p = postings[j];
          if (best[p] === undefined || best[p] > score) { best[p] = score; }
        }
      }
    }
    scan(shard.nk, shard.n, 0, 2);
    scan(shard.wk, shard.w, 1, 3);
    var hits = [];
    for (var key in best) {
      if (!best.hasOwnProperty(key)) { continue; }
      var doc = shard.d[key];
      var ds = datasets[doc[0]];
      var label = doc[1] ? ds[0] + "." + doc[1] : ds[0];
      var ok = true;
      for (var t = 1; t < terms.length; t++) { if (label.toLowerCase().indexOf(terms[t]) < 0) { ok = false; break; } }
      if (ok) { hits.push([best[key], doc[1] ? 1 : 0, label.length, label, doc]); }
    }
    hits.sort(function (a, b) {
      return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || (a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0);
    });
    return hits.slice(0, 50).map(function (h) {
      var ds = datasets[h[4][0]];
      var href = ds[1] + (h[4][1] ? "#" + SL.anchor(h[4][1]) : "");
      return { label: h[3], kind: h[4][1] ? "column" : ds[2], layer: ds[3], href: href, exact: h[0] === 0 };
    });
  }

  /* Search: resolves with the ranked hits (an exact name first). */
  SL.search = function (text) {
    return new Promise(function (resolve) {
      var terms = text.toLowerCase().trim().split(/\s+/).filter(Boolean);
      // "table.column": search the column name, keep hits whose label holds the rest.
      if (terms.length && terms[0].indexOf(".") > 0 && terms[0].lastIndexOf(".") < terms[0].length - 1) {
        var dot = terms[0].lastIndexOf(".");
        terms = [terms[0].slice(dot + 1), terms[0].slice(0, dot)].concat(terms.slice(1));
      }
      if (!terms.length || terms[0].length < 2) { resolve([]); return; }
      var q = terms[0];
      loadScript(root + "search/datasets.js", function () {
        var key = shardKey(q);
        loadScript(root + "search/s-" + key + ".js", function () {
          var shard = shards[key];
          resolve(shard && datasets ? rank(shard, q, terms) : []);
        });
      });
    });
  };

  function bindSearch() {
    var input = document.getElementById("search");
    var list = document.getElementById("search-results");
    if (!input || !list) { return; }
    var seq = 0;
    input.addEventListener("input", function () {
      var mine = ++seq, started = performance.now();
      SL.search(input.value).then(function (hits) {
        if (mine !== seq) { return; }
        list.textContent = "";
        for (var i = 0; i < hits.length; i++) {
          var item = el("li", { "class": "hit hit-" + hits[i].kind });
          var link = el("a", { href: root + hits[i].href }, hits[i].label);
          item.appendChild(link);
          item.appendChild(el("span", { "class": "hit-kind" }, " " + hits[i].kind + (hits[i].layer ? " · " + hits[i].layer : "")));
          list.appendChild(item);
        }
        list.setAttribute("data-ms", String(Math.round((performance.now() - started) * 10) / 10));
        list.hidden = hits.length === 0;
      });
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        var first = list.querySelector("a");
        if (first) { window.location.href = first.getAttribute("href"); }
      } else if (event.key === "Escape") { input.blur(); list.hidden = true; }
    });
    document.addEventListener("keydown", function (event) {
      var typing = /^(INPUT|TEXTAREA|SELECT)$/.test((event.target && event.target.tagName) || "");
      if ((event.key === "/" && !typing) || (event.key === "k" && (event.ctrlKey || event.metaKey))) {
        event.preventDefault();
        input.focus();
        input.select();
      }
    });
  }

  // -- column lineage over many hops ---------------------------------------------------
  var lineage = {};
  SL.lineageShard = function (slug, data) { lineage[slug] = data; };

  function shardSrc(slug) { return root + "data/lineage/" + slug + ".js"; }

  function loadAll(slugs, done) {
    var left = slugs.length;
    if (!left) { done(); return; }
    for (var i = 0; i < slugs.length; i++) { loadScript(shardSrc(slugs[i]), function () { if (--left === 0) { done(); } }); }
  }

  /* Walk a column's lineage upstream ("u") or downstream ("d"), hop by hop, loading the
   * shard of each dataset reached. Resolves with [{distance, slug, column, label,
   * status, job, via}] in breadth-first order. */
  SL.walk = function (slug, column, direction, limit) {
    limit = limit || 2000;
    return new Promise(function (resolve) {
      var seen = {}, out = [], frontier = [[slug, column]];
      seen[slug + "\u0000" + column] = true;
      var distance = 0;
      function step() {
        if (!frontier.length || out.length >= limit) { resolve(out); return; }
        var need = [];
        for (var i = 0; i < frontier.length; i++) { if (!lineage[frontier[i][0]]) { need.push(frontier[i][0]); } }
        loadAll(need, function () {
          distance += 1;
          var next = [];
          for (var i = 0; i < frontier.length; i++) {
            var shard = lineage[frontier[i][0]];
            var col = shard && shard.c[frontier[i][1]];
            var hops = (col && col[direction]) || [];
            // Filters and join keys shape every row of the dataset: inputs of each column.
            if (direction === "u" && shard && shard.r) { hops = hops.concat(shard.r); }
            for (var j = 0; j < hops.length; j++) {
              var h = hops[j], key = h[0] + "\u0000" + h[1];
              if (seen[key]) { continue; }
              seen[key] = true;
              out.push({ distance: distance, slug: h[0], column: h[1], label: h[2], status: h[3], job: h[4],
                         via: frontier[i], dataset: h[5] });
              if (h[1]) { next.push([h[0], h[1]]); }
              if (out.length >= limit) { break; }
            }
          }
          frontier = next;
          step();
        });
      }
      step();
    });
  };

  function renderWalk(table, hits, direction) {
    var body = table.querySelector("tbody");
    body.textContent = "";
    for (var i = 0; i < hits.length; i++) {
      var h = hits[i];
      var row = el("tr", { "class": "hop hop-" + h.status, "data-distance": String(h.distance) });
      row.appendChild(el("td", {}, String(h.distance)));
      var cell = el("td");
      var name = h.column ? h.dataset + "." + h.column : h.dataset + " (every row)";
      cell.appendChild(el("a", { href: root + "datasets/" + h.slug + ".html" + (h.column ? "#" + SL.anchor(h.column) : "") }, name));
      row.appendChild(cell);
      row.appendChild(el("td", { "class": "label" }, h.label));
      row.appendChild(el("td", { "class": "status status-" + h.status }, h.status));
      row.appendChild(el("td", {}, h.job || ""));
      var via = lineage[h.via[0]];
      row.appendChild(el("td", {}, (direction === "u" ? "feeds " : "from ") + (via ? via.n : h.via[0]) + "." + h.via[1]));
      body.appendChild(row);
    }
    table.hidden = hits.length === 0;
  }

  function showLineage(column) {
    var panel = document.getElementById("lineage-panel");
    if (!panel) { return; }
    var slug = panel.getAttribute("data-slug");
    panel.hidden = false;
    panel.querySelector(".lineage-column").textContent = column;
    var done = 0;
    ["u", "d"].forEach(function (direction) {
      var table = panel.querySelector(direction === "u" ? "table.upstream" : "table.downstream");
      SL.walk(slug, column, direction).then(function (hits) {
        renderWalk(table, hits, direction);
        var empty = panel.querySelector(direction === "u" ? ".upstream-empty" : ".downstream-empty");
        empty.hidden = hits.length > 0;
        if (++done === 2) { panel.setAttribute("data-ready", column); }
      });
    });
    panel.scrollIntoView();
  }

  // -- each column's hops and the neighbourhood graph, drawn from the page's own shard --
  function datasetHref(h) {
    return root + "datasets/" + h[0] + ".html" + (h[1] ? "#" + SL.anchor(h[1]) : "");
  }

  function hopItem(arrow, h, withStatus) {
    var item = el("li");
    item.appendChild(document.createTextNode(arrow + " "));
    var name = h[1] ? h[5] + "." + h[1] : h[5] + " (every row)";
    item.appendChild(h[0] ? el("a", { href: datasetHref(h) }, name) : document.createTextNode(name));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(el("span", { "class": "label" }, h[2]));
    if (withStatus) {
      item.appendChild(document.createTextNode(" "));
      item.appendChild(el("span", { "class": "muted" }, h[3]));
    }
    return item;
  }

  var MORE_AFTER = 3; // downstream hops listed in a row before "N more downstream"

  function drawHops(table, shard) {
    var cells = table.querySelectorAll("td.lineage-cell");
    for (var i = 0; i < cells.length; i++) {
      var name = cells[i].getAttribute("data-column");
      var col = shard.c[name];
      if (!col) { continue; }
      if (col.u.length) {
        var ups = el("ul", { "class": "hops" });
        for (var j = 0; j < col.u.length; j++) { ups.appendChild(hopItem("\u2190", col.u[j], true)); }
        cells[i].appendChild(ups);
      }
      if (col.d.length) {
        var downs = el("ul", { "class": "hops" });
        for (var k = 0; k < Math.min(col.d.length, MORE_AFTER); k++) { downs.appendChild(hopItem("\u2192", col.d[k], false)); }
        if (col.d.length > MORE_AFTER) {
          var more = el("li");
          more.appendChild(el("a", { href: "#lineage=" + encodeURIComponent(name) },
                              "\u2192 " + (col.d.length - MORE_AFTER) + " more downstream"));
          downs.appendChild(more);
        }
        cells[i].appendChild(downs);
      }
    }
  }

  /* The dataset's one-hop neighbourhood as SVG: inputs, the dataset, outputs; each
   * dataset a box whose rows are its columns (the ports), each column edge a curve,
   * dashed for INDIRECT. Neighbours are ordered by the mean position of the ports they
   * connect to (one barycentre pass). Only the page's own neighbourhood, never more. */
  var BOX_W = 230, ROW_H = 16, HEAD_H = 22, GAP_X = 120, GAP_Y = 14, MAX_BOXES = 8, MAX_PORTS = 30;
  var SVG_NS = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG_NS, tag);
    for (var key in attrs) { if (attrs.hasOwnProperty(key)) { node.setAttribute(key, attrs[key]); } }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function shortName(text, size) {
    return text.length <= size ? text : "\u2026" + text.slice(text.length - (size - 1));
  }

  function makeBox(key, name, slug, columns) {
    return {
      key: key, name: name, slug: slug, columns: columns, x: 0, y: 0,
      height: function () { return HEAD_H + ROW_H * Math.max(this.columns.length, 1) + 4; },
      portY: function (c) { return this.y + HEAD_H + ROW_H * this.columns.indexOf(c) + ROW_H / 2; }
    };
  }

  function drawGraph(section, slug, shard, names) {
    var center = makeBox(slug, shard.n, slug, names.slice(0, MAX_PORTS));
    var sides = { u: {}, d: {} }, about = {}, links = [], rank = {};
    center.columns.forEach(function (name, position) {
      rank[name] = position;
      var col = shard.c[name];
      if (!col) { return; }
      ["u", "d"].forEach(function (direction) {
        col[direction].forEach(function (h) {
          if (!h[1] || (h[0] && h[0] === slug)) { return; } // a whole-row hop, or itself
          var key = h[0] || "?" + h[5];
          about[key] = h;
          (sides[direction][key] = sides[direction][key] || {})[h[1]] = true;
          links.push(direction === "u" ? { s: key, sc: h[1], t: slug, tc: name, h: h }
                                       : { s: slug, sc: name, t: key, tc: h[1], h: h });
        });
      });
    });
    if (!links.length) { return; }
    function boxes(direction) {
      var made = Object.keys(sides[direction]).map(function (key) {
        var ports = Object.keys(sides[direction][key]).sort().slice(0, MAX_PORTS);
        var ranks = links.filter(function (l) {
          return direction === "u" ? l.s === key && ports.indexOf(l.sc) >= 0
                                   : l.t === key && ports.indexOf(l.tc) >= 0;
        }).map(function (l) { return rank[direction === "u" ? l.tc : l.sc]; });
        var mean = ranks.length ? ranks.reduce(function (a, b) { return a + b; }, 0) / ranks.length : 0;
        return { mean: mean, box: makeBox(key, about[key][5], about[key][0], ports) };
      });
      made.sort(function (a, b) {
        return a.mean - b.mean || (a.box.name < b.box.name ? -1 : a.box.name > b.box.name ? 1 : 0);
      });
      return made.slice(0, MAX_BOXES).map(function (m) { return m.box; });
    }
    var left = boxes("u"), right = boxes("d");
    var step = BOX_W + GAP_X;
    var xs = left.length ? [0, step, 2 * step] : [0, 0, step];
    var height = 0, placed = {};
    [[left, xs[0]], [[center], xs[1]], [right, xs[2]]].forEach(function (stack) {
      var y = 10;
      stack[0].forEach(function (box) {
        box.x = stack[1] + 10; box.y = y; y += box.height() + GAP_Y;
        placed[box.key] = box;
      });
      height = Math.max(height, y);
    });
    var width = (right.length ? xs[2] : xs[1]) + BOX_W + 20;
    var graph = svg("svg", { "class": "graph", viewBox: "0 0 " + width + " " + height.toFixed(0),
                             width: String(width), height: height.toFixed(0), role: "img" });
    graph.appendChild(svg("title", {}, "Column lineage around " + shard.n));
    links.forEach(function (l) {
      var a = placed[l.s], b = placed[l.t];
      if (!a || !b || a.columns.indexOf(l.sc) < 0 || b.columns.indexOf(l.tc) < 0) { return; }
      var x1 = a.x + BOX_W, y1 = a.portY(l.sc), x2 = b.x, y2 = b.portY(l.tc), mid = (x1 + x2) / 2;
      var attrs = { "class": "edge edge-" + l.h[3], fill: "none",
                    d: "M" + x1 + "," + y1 + " C" + mid + "," + y1 + " " + mid + "," + y2 + " " + x2 + "," + y2 };
      if (l.h[3] === "indirect") { attrs["stroke-dasharray"] = "4 3"; }
      var path = svg("path", attrs);
      path.appendChild(svg("title", {}, l.sc + " -> " + l.tc + ": " + l.h[2]));
      graph.appendChild(path);
    });
    Object.keys(placed).forEach(function (key) {
      var box = placed[key];
      var group = svg("g", { "class": box === center ? "box box-main" : "box" });
      group.appendChild(svg("rect", { x: String(box.x), y: String(box.y), width: String(BOX_W),
                                      height: String(box.height()), rx: "4" }));
      var title = svg("text", { x: String(box.x + 6), y: String(box.y + 15), "class": "box-title" },
                      shortName(box.name, 34));
      group.appendChild(box.slug ? linked(title, { 0: box.slug, 1: "" }) : title);
      box.columns.forEach(function (column) {
        var port = svg("text", { x: String(box.x + 10), y: String(box.portY(column) + 4), "class": "port" },
                       shortName(column, 32));
        group.appendChild(box.slug ? linked(port, { 0: box.slug, 1: column }) : port);
      });
      graph.appendChild(group);
    });
    section.querySelector(".graph-wrap").appendChild(graph);
    section.hidden = false;
  }

  function linked(node, h) {
    var link = svg("a", { href: datasetHref(h) });
    link.appendChild(node);
    return link;
  }

  function drawDataset() {
    var table = document.querySelector("table.schema[data-slug]");
    if (!table) { return; }
    var slug = table.getAttribute("data-slug"), shard = lineage[slug];
    if (shard) {
      drawHops(table, shard);
      var names = [];
      var cells = table.querySelectorAll("td.lineage-cell");
      for (var i = 0; i < cells.length; i++) { names.push(cells[i].getAttribute("data-column")); }
      var section = document.getElementById("graph");
      if (section) { drawGraph(section, slug, shard, names); }
    }
    table.setAttribute("data-ready", "");
  }

  function onHash() {
    var hash = decodeURIComponent(window.location.hash.slice(1));
    if (hash.lastIndexOf("lineage=", 0) === 0) { showLineage(hash.slice(8)); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    bindSearch();
    drawDataset();
    if (document.getElementById("lineage-panel")) {
      window.addEventListener("hashchange", onHash);
      onHash();
    }
  });
})();
