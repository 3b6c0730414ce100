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

  function onHash() {
    var hash = decodeURIComponent(window.location.hash.slice(1));
    if (hash.lastIndexOf("lineage=", 0) === 0) { showLineage(hash.slice(8)); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    bindSearch();
    if (document.getElementById("lineage-panel")) {
      window.addEventListener("hashchange", onHash);
      onHash();
    }
  });
})();
