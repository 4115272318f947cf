// graphgrad graph explorer: a layered drawing of one computation that steps forward through
// the operations in topological order, then backward in reverse, writing each value above its
// edge (green) and each gradient below (red). Arrays of more than six numbers are drawn as
// pictures (heatmaps, image grids). Self-contained: no network, no libraries.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const GAP = 150, PAD = 60; // least gap between columns, margin
  const PIC_W = 150, PIC_H = 64; // an edge's picture fits in this box
  const LINE = 15; // height of one line of edge text
  const READABLE = 0.75; // stepping zooms in to the current node when the view is smaller than this
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const groups = [...new Set(data.nodes.map((n) => n.group).filter((g) => g))];
  const state = {
    step: 0,
    collapsed: new Set(data.fold_groups ? groups : []),
    selected: null,
    view: null,
  };
  const canvas = document.getElementById("canvas");
  const svg = document.createElementNS(SVG, "svg");
  canvas.appendChild(svg);
  const tip = document.createElement("div");
  tip.id = "tip";
  tip.hidden = true;
  document.body.appendChild(tip);
  let drawn = null; // {nodes: Map(vid -> element), edges: [{edge, el, labels, val, grad}], pos, width, content}

  // when each node's value and gradient become known: its forward and backward steps
  const stepOf = new Map(data.steps.map((st, i) => [st.phase + ":" + st.node, i]));
  const known = new Map();
  for (const n of data.nodes) {
    const out = data.edges.filter((e) => e.src === n.id);
    let fwd = 0, bwd = -1;
    if (n.kind === "op") {
      fwd = stepOf.get("forward:" + n.id) ?? 0;
      bwd = stepOf.get("backward:" + n.id) ?? -1;
    } else if (n.kind === "output") {
      const into = data.edges.find((e) => e.dst === n.id);
      fwd = into ? into.fwd : 0;
      bwd = stepOf.get("backward:outputs") ?? -1;
    } else { // a leaf's gradient is complete once every edge out of it has its share
      const shares = out.filter((e) => e.grad).map((e) => e.bwd);
      bwd = shares.length && !shares.includes(-1) ? Math.max(...shares) : -1;
    }
    known.set(n.id, { fwd, bwd });
  }

  // ---- what an edge carries: lines of text and, for a big array, a picture --------------------
  function textLines(s) {
    if (s.pic) return [shapeText(s.shape) + " " + range(s.pic)];
    const lines = s.lines || [s.label];
    const out = [];
    for (const line of lines) { // a long row of numbers wraps after every third one
      if (line.length <= 30) { out.push(line); continue; }
      const parts = line.split(", ");
      for (let i = 0; i < parts.length; i += 3) out.push(parts.slice(i, i + 3).join(", ") + (i + 3 < parts.length ? "," : ""));
    }
    return out;
  }
  function range(pic) { return pic.scale === "diverging" ? "±" + pic.hi : pic.lo + "…" + pic.hi; }
  function textWidth(line) { return 7.6 * line.length + 8; }

  // the pixel size of a picture on an edge (cells stay square) and of its mosaic
  function mosaic(pic) {
    if (pic.kind === "heat") return { w: pic.cols, h: pic.rows };
    const [th, tw] = pic.tile, [gr, gc] = pic.grid;
    return { w: gc * (tw + 1) - 1, h: gr * (th + 1) - 1 };
  }
  function picSize(pic, maxW = PIC_W, maxH = PIC_H) {
    const m = mosaic(pic), k = Math.min(maxW / m.w, maxH / m.h, 10);
    return { w: m.w * k, h: m.h * k };
  }
  function labelBox(s) {
    if (!s) return { w: 0, h: 0 };
    const lines = textLines(s);
    const p = s.pic ? picSize(s.pic) : { w: 0, h: 0 };
    return { w: Math.max(p.w, ...lines.map(textWidth)), h: lines.length * LINE + (s.pic ? p.h + 4 : 0) };
  }

  // one colour per byte: diverging blue - white - red around 0, or sequential white - ink from 0
  function colour(q, scale) {
    if (scale === "sequential") { const v = 255 - q; return [v, v, v]; }
    const t = (q - 128) / 127, a = Math.abs(t); // 128 is 0: white
    const far = t < 0 ? [33, 102, 172] : [178, 24, 43];
    return far.map((c) => Math.round(255 + (c - 255) * a));
  }
  const picCache = new Map();
  function picURL(pic) {
    if (picCache.has(pic.data)) return picCache.get(pic.data);
    const bytes = Uint8Array.from(atob(pic.data), (c) => c.charCodeAt(0));
    const m = mosaic(pic);
    const c = document.createElement("canvas");
    c.width = m.w; c.height = m.h;
    const ctx = c.getContext("2d"), img = ctx.createImageData(m.w, m.h);
    img.data.fill(255);
    for (let i = 0; i < m.w * m.h; i++) { img.data[4 * i] = 208; img.data[4 * i + 1] = 215; img.data[4 * i + 2] = 222; } // tile gaps
    const put = (x, y, q) => { const k = 4 * (y * m.w + x), rgb = colour(q, pic.scale); img.data[k] = rgb[0]; img.data[k + 1] = rgb[1]; img.data[k + 2] = rgb[2]; };
    if (pic.kind === "heat") {
      for (let r = 0; r < pic.rows; r++) for (let col = 0; col < pic.cols; col++) put(col, r, bytes[r * pic.cols + col]);
    } else {
      const [th, tw] = pic.tile, gc = pic.grid[1];
      for (let t = 0; t < pic.count; t++) {
        const ox = (t % gc) * (tw + 1), oy = Math.floor(t / gc) * (th + 1);
        for (let r = 0; r < th; r++) for (let col = 0; col < tw; col++) put(ox + col, oy + r, bytes[t * th * tw + r * tw + col]);
      }
    }
    ctx.putImageData(img, 0, 0);
    const url = c.toDataURL();
    picCache.set(pic.data, url);
    return url;
  }
  // the cell under a point of a picture (fractions of its width and height), and its value
  function cellAt(pic, fx, fy) {
    const bytes = atob(pic.data), m = mosaic(pic);
    const x = Math.min(m.w - 1, Math.floor(fx * m.w)), y = Math.min(m.h - 1, Math.floor(fy * m.h));
    let where, q;
    if (pic.kind === "heat") {
      where = pic.rows === 1 ? `[${x}]` : `row ${y}, column ${x}`;
      q = bytes.charCodeAt(y * pic.cols + x);
    } else {
      const [th, tw] = pic.tile, gc = pic.grid[1];
      const tx = Math.floor(x / (tw + 1)), ty = Math.floor(y / (th + 1)), px = x % (tw + 1), py = y % (th + 1);
      const t = ty * gc + tx;
      if (px === tw || py === th || t >= pic.count) return null;
      where = `image ${t} (grid row ${ty}, column ${tx}), pixel (${py}, ${px})`;
      q = bytes.charCodeAt(t * th * tw + py * tw + px);
    }
    const hi = Number(pic.hi), v = pic.scale === "diverging" ? ((q - 128) / 127) * hi : (q / 255) * hi;
    return `${where}: ≈ ${fmt(v)}` + (pic.note ? ` (${pic.note})` : "");
  }
  function fmt(v) { return v === 0 ? "0" : String(Number(v.toPrecision(4))); }
  function hoverable(target, pic, label) {
    target.addEventListener("mousemove", (ev) => {
      const r = target.getBoundingClientRect();
      const cell = cellAt(pic, (ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height);
      if (!cell) { tip.hidden = true; return; }
      tip.textContent = `${label} ${cell}`;
      tip.hidden = false;
      tip.style.left = ev.clientX + 14 + "px"; tip.style.top = ev.clientY + 12 + "px";
    });
    target.addEventListener("mouseleave", () => { tip.hidden = true; });
  }

  // ---- layout: rank by longest path, leaves beside their first consumer, barycenter ordering,
  // a virtual node wherever an edge crosses a column (so nothing is drawn over it), and long
  // chains wrapped into bands that fit the window ---------------------------------------------
  function visibleId(id) {
    const n = byId.get(id);
    return n.group && state.collapsed.has(n.group) ? "group:" + n.group : id;
  }

  function layout() {
    const vnodes = new Map();
    for (const n of data.nodes) {
      const vid = visibleId(n.id);
      if (!vnodes.has(vid)) {
        vnodes.set(vid, vid === n.id
          ? { id: vid, kind: n.kind, label: n.label, node: n }
          : { id: vid, kind: "group", label: "▸ " + n.group, group: n.group });
      }
    }
    const vedges = [];
    for (const e of data.edges) {
      const s = visibleId(e.src), d = visibleId(e.dst);
      if (s !== d) vedges.push({ edge: e, s, d });
    }
    const succs = new Map(), indeg = new Map();
    for (const id of vnodes.keys()) { succs.set(id, []); indeg.set(id, 0); }
    for (const ve of vedges) { succs.get(ve.s).push(ve.d); indeg.set(ve.d, indeg.get(ve.d) + 1); }
    const rank = new Map(), queue = [];
    for (const [id, k] of indeg) if (k === 0) { queue.push(id); rank.set(id, 0); }
    for (let qi = 0; qi < queue.length; qi++) {
      const id = queue[qi];
      for (const d of succs.get(id)) {
        rank.set(d, Math.max(rank.get(d) || 0, rank.get(id) + 1));
        indeg.set(d, indeg.get(d) - 1);
        if (indeg.get(d) === 0) queue.push(d);
      }
    }
    let maxRank = 0;
    for (const r of rank.values()) maxRank = Math.max(maxRank, r);
    const unranked = [...vnodes.keys()].filter((id) => !rank.has(id));
    for (const id of unranked) rank.set(id, ++maxRank); // folded cycles
    // a leaf sits just before the first operation that uses it, as in the book's figures
    for (const [id, v] of vnodes) {
      if ((v.kind === "input" || v.kind === "const") && succs.get(id).length) {
        rank.set(id, Math.max(0, Math.min(...succs.get(id).map((d) => rank.get(d))) - 1));
      }
    }
    // each edge as a chain of segments through one virtual node per column it crosses
    const preds = new Map(), next = new Map(), width = new Map();
    const addNode = (id, w) => { preds.set(id, []); next.set(id, []); width.set(id, w); };
    for (const [id, v] of vnodes) addNode(id, nodeWidth(v));
    const columns = [];
    const place = (id) => { const r = rank.get(id); (columns[r] = columns[r] || []).push(id); };
    for (const id of queue.concat(unranked)) place(id);
    // virtual nodes for the shortest edges first, at most three per real node: a big tangled
    // graph draws its longest edges straight across instead of laying out tens of thousands
    let budget = 3 * vnodes.size;
    const span = (ve) => rank.get(ve.d) - rank.get(ve.s) - 1;
    const routed = new Set(vedges.slice().sort((a, b) => span(a) - span(b))
      .filter((ve) => span(ve) <= 0 || (budget -= span(ve)) >= 0));
    for (const ve of vedges) {
      ve.chain = [ve.s];
      if (routed.has(ve)) for (let r = rank.get(ve.s) + 1; r < rank.get(ve.d); r++) {
        const id = `v:${ve.edge.id}:${r}`;
        addNode(id, 0); rank.set(id, r); place(id);
        ve.chain.push(id);
      }
      ve.chain.push(ve.d);
      for (let k = 1; k < ve.chain.length; k++) { preds.get(ve.chain[k]).push(ve.chain[k - 1]); next.get(ve.chain[k - 1]).push(ve.chain[k]); }
    }
    const cols = columns.filter((c) => c);
    const order = new Map();
    cols.forEach((c) => c.forEach((id, i) => order.set(id, i - (c.length - 1) / 2)));
    const bary = (id, nbrs) => {
      const ns = nbrs.get(id);
      return ns.length ? ns.reduce((a, n) => a + order.get(n), 0) / ns.length : order.get(id);
    };
    for (let sweep = 0; sweep < 8; sweep++) {
      const nbrs = sweep % 2 === 0 ? preds : next;
      const seq = sweep % 2 === 0 ? cols : cols.slice().reverse();
      for (const c of seq) {
        const key = new Map(c.map((id) => [id, bary(id, nbrs)]));
        c.sort((a, b) => key.get(a) - key.get(b));
        c.forEach((id, i) => order.set(id, i - (c.length - 1) / 2));
      }
    }
    // sizes: a column's gap fits the labels of the edges that leave it; rows fit the labels too
    const colOf = new Map();
    cols.forEach((c, i) => c.forEach((id) => colOf.set(id, i)));
    let above = 20, below = 20;
    const gap = cols.map(() => GAP), into = cols.map(() => 0);
    for (const ve of vedges) {
      const v = labelBox(ve.edge.value), g = labelBox(ve.edge.grad);
      ve.box = { w: Math.max(v.w, g.w), above: v.h, below: g.h };
      above = Math.max(above, v.h); below = Math.max(below, g.h);
      const c = colOf.get(ve.s);
      gap[c] = Math.max(gap[c], ve.box.w + 90);
      into[colOf.get(ve.d)] = Math.max(into[colOf.get(ve.d)], ve.box.w + 60); // a wrapped edge's label sits before its node
    }
    const row = Math.max(100, above + below + 44);
    const half = cols.map((c) => Math.max(...c.map((id) => width.get(id))) / 2);
    const bands = wrap(cols, half, gap, into, row);
    const pos = new Map();
    let y0 = PAD;
    for (const band of bands) {
      let x = PAD + band.margin, prevHalf = 0, prevGap = 0;
      const mid = y0 + ((band.rows - 1) / 2) * row;
      for (let i = band.from; i < band.to; i++) {
        x += prevHalf + prevGap + half[i];
        cols[i].forEach((id, k) => pos.set(id, { x, y: mid + (k - (cols[i].length - 1) / 2) * row, band: band.index }));
        prevHalf = half[i]; prevGap = gap[i];
      }
      band.bottom = y0 + (band.rows - 0.5) * row; // wrapped edges run back left below it
      y0 += band.rows * row + 40;
    }
    return { vnodes, vedges, pos, width, bands };
  }

  // split the columns into bands, one under the other, when that shows the graph bigger
  function wrap(cols, half, gap, into, row) {
    const n = cols.length, cw = canvas.clientWidth || 800, ch = canvas.clientHeight || 600;
    const span = (a, b) => { let w = 0; for (let i = a; i < b; i++) w += 2 * half[i] + (i < b - 1 ? gap[i] : 0); return w; };
    const split = (k) => {
      const total = span(0, n), bands = [];
      let from = 0;
      for (let b = 0; b < k && from < n; b++) {
        let to = from + 1;
        while (to < n && span(from, to + 1) <= total / k + half[to]) to++;
        if (b === k - 1) to = n;
        bands.push({ from, to });
        from = to;
      }
      bands.forEach((band, i) => {
        band.index = i;
        band.margin = i === 0 ? 0 : into[band.from];
        band.rows = Math.max(...cols.slice(band.from, band.to).map((c) => c.length));
        band.width = band.margin + span(band.from, band.to);
      });
      const w = Math.max(...bands.map((b) => b.width)) + 2 * PAD;
      const h = bands.reduce((a, b) => a + b.rows * row + 40, 0) + 2 * PAD;
      return { bands, scale: Math.min(cw / w, ch / h) };
    };
    let best = split(1);
    if (n < 6) return best.bands; // the book's small figures stay one row, as printed
    for (let k = 2; k <= Math.min(8, Math.floor(n / 2)); k++) {
      const s = split(k);
      if (s.scale > best.scale * 1.15) best = s;
    }
    return best.bands;
  }

  // ---- drawing ----------------------------------------------------------------------------
  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function nodeWidth(v) {
    if (v.kind === "op" && v.label.length <= 3) return 46;
    return Math.max(46, 18 + (v.kind === "op" ? 9.5 : 8) * v.label.length);
  }

  // the text (one tspan a line) and picture of one side of an edge; `up` grows it upwards
  function edgeLabel(parent, cls, s, x, y, up) {
    const g = el("g", { class: cls }, parent);
    const t = el("text", { class: cls === "val-label" ? "val" : "grad", x, "text-anchor": "middle" }, g);
    if (!s) return { g, t };
    const lines = textLines(s);
    const pic = s.pic ? picSize(s.pic) : null;
    // values: picture on top, text just above the edge; gradients: text just below, then picture
    const firstLine = up ? y - 7 - (lines.length - 1) * LINE : y + 17;
    lines.forEach((line, i) => { const sp = el("tspan", { x, y: firstLine + i * LINE }, t); sp.textContent = line; });
    if (pic) {
      const py = up ? firstLine - 13 - pic.h : y + 17 + (lines.length - 1) * LINE + 6;
      const img = el("image", { class: "pic", x: x - pic.w / 2, y: py, width: pic.w, height: pic.h, preserveAspectRatio: "none", href: picURL(s.pic) }, g);
      el("rect", { class: "pic-frame", x: x - pic.w / 2 - 0.5, y: py - 0.5, width: pic.w + 1, height: pic.h + 1 }, g);
      hoverable(img, s.pic, cls === "val-label" ? "value" : "gradient");
    }
    return { g, t };
  }

  function draw() {
    const { vnodes, vedges, pos, width, bands } = layout();
    svg.textContent = "";
    const defs = el("defs", {}, svg);
    // arrowheads in user units: a highlighted (thicker) edge keeps the same small head
    for (const [id, fill] of [["arrow", "#8c959f"], ["arrow-active", "#0969da"]]) {
      const m = el("marker", { id, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto" }, defs);
      el("path", { d: "M0,0 L10,5 L0,10 z", fill }, m);
    }
    const content = el("g", { class: "content" }, svg);
    const boxes = el("g", { class: "group-boxes" }, content);
    const edgeLayer = el("g", { class: "edges" }, content);
    const nodeLayer = el("g", { class: "nodes" }, content);
    const labelLayer = el("g", { class: "labels" }, content);
    // expanded groups: a dashed box around their members in each band, its title folds them again
    for (const g of groups) {
      if (state.collapsed.has(g)) continue;
      const members = data.nodes.filter((n) => n.group === g).map((n) => n.id);
      const byBand = new Map();
      for (const id of members) { const p = pos.get(id); (byBand.get(p.band) || byBand.set(p.band, []).get(p.band)).push(id); }
      let first = true;
      for (const ids of byBand.values()) {
        const xs0 = ids.map((id) => pos.get(id).x - width.get(id) / 2), xs1 = ids.map((id) => pos.get(id).x + width.get(id) / 2);
        const ys = ids.map((id) => pos.get(id).y);
        const x0 = Math.min(...xs0) - 20, x1 = Math.max(...xs1) + 20;
        const y0 = Math.min(...ys) - 40, y1 = Math.max(...ys) + 40;
        const box = el("g", { class: "group-box", "data-group": g }, boxes);
        el("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, box);
        if (!first) continue;
        first = false;
        const t = el("text", { x: x0 + 6, y: y1 - 6 }, box); // at the bottom: leaves may sit at the top
        t.textContent = "▾ " + g;
        t.addEventListener("click", (ev) => { ev.stopPropagation(); toggleGroup(g); });
      }
    }
    const fanout = new Map();
    for (const ve of vedges) fanout.set(ve.s, (fanout.get(ve.s) || 0) + 1);
    const edges = [];
    vedges.forEach((ve, k) => {
      const pts = ve.chain.map((id) => pos.get(id));
      let d = "", lx, ly;
      for (let i = 0; i + 1 < pts.length; i++) {
        const a = pts[i], b = pts[i + 1];
        const x0 = a.x + width.get(ve.chain[i]) / 2, x1 = b.x - width.get(ve.chain[i + 1]) / 2;
        if (!d) d = `M${x0},${a.y}`;
        else d += ` L${x0},${a.y}`;
        if (b.band !== a.band) {
          // a wrapped chain: down into the corridor under the band, back left, into the next band
          const lane = bands[a.band].bottom + 12 + (k % 5) * 4, xl = x1 - Math.max(30, ve.box.w + 40);
          d += ` C${x0 + 40},${a.y} ${x0 + 40},${lane} ${x0},${lane} L${xl + 20},${lane} C${xl - 10},${lane} ${xl - 10},${b.y} ${xl + 20},${b.y} L${x1},${b.y}`;
          if (i === 0) { lx = (xl + x1) / 2; ly = b.y; }
        } else if (i === 0 && fanout.get(ve.s) > 1) {
          // a tensor used several times: the edges part at once, each labelled on its own way
          const mx = (x0 + x1) / 2;
          d += ` C${mx},${a.y} ${mx},${b.y} ${x1},${b.y}`;
          lx = mx; ly = (a.y + b.y) / 2;
        } else {
          // run level with the source, bend at the end: the label sits on the straight part
          const bend = Math.max(x0, x1 - Math.min(70, (x1 - x0) / 2)), mx = (bend + x1) / 2;
          d += ` L${bend},${a.y} C${mx},${a.y} ${mx},${b.y} ${x1},${b.y}`;
          if (i === 0) { lx = (x0 + bend) / 2; ly = a.y; }
        }
      }
      const attrs = { class: "edge", "data-id": ve.edge.id, "data-src": ve.edge.src, "data-dst": ve.edge.dst };
      const g = el("g", attrs, edgeLayer);
      el("path", { d, "marker-end": "url(#arrow)" }, g);
      const lg = el("g", { ...attrs, class: "edge-labels" }, labelLayer);
      const val = edgeLabel(lg, "val-label", ve.edge.value, lx, ly, true);
      const grad = edgeLabel(lg, "grad-label", ve.edge.grad, lx, ly, false);
      edges.push({ edge: ve.edge, el: g, labels: lg, val, grad });
    });
    const nodes = new Map();
    for (const [id, v] of vnodes) {
      const p = pos.get(id), w = width.get(id);
      const g = el("g", { class: "node " + v.kind, "data-id": id, transform: `translate(${p.x},${p.y})` }, nodeLayer);
      if (v.kind === "op" && w === 46) el("circle", { r: 23 }, g);
      else el("rect", { x: -w / 2, y: -17, width: w, height: 34, rx: v.kind === "op" ? 17 : 5 }, g);
      const t = el("text", {}, g);
      t.textContent = v.label;
      g.addEventListener("click", (ev) => { ev.stopPropagation(); v.kind === "group" ? toggleGroup(v.group) : select(id); });
      g.addEventListener("mouseenter", () => showDetails(id));
      nodes.set(id, g);
    }
    drawn = { nodes, edges, pos, width, content };
    if (!state.view) fit(true);
    else applyView();
    show(state.step);
  }

  // ---- stepping -----------------------------------------------------------------------------
  function show(step, stepping) {
    state.step = Math.max(0, Math.min(step, data.steps.length - 1));
    const s = data.steps[state.step];
    document.body.dataset.step = state.step;
    document.getElementById("counter").textContent = `step ${state.step + 1} / ${data.steps.length}`;
    for (const d of drawn.edges) {
      const e = d.edge;
      d.val.g.classList.toggle("hidden", e.fwd > state.step);
      d.val.t.classList.toggle("hidden", e.fwd > state.step);
      const noGrad = !(e.grad && e.bwd >= 0 && e.bwd <= state.step);
      d.grad.g.classList.toggle("hidden", noGrad);
      d.grad.t.classList.toggle("hidden", noGrad);
      const active = s.phase === "forward" ? e.dst === s.node || (s.node === "inputs" && e.fwd === 0)
        : e.dst === s.node || (s.node === "outputs" && e.dst.startsWith("out"));
      d.el.classList.toggle("active", active);
      d.el.querySelector("path").setAttribute("marker-end", active ? "url(#arrow-active)" : "url(#arrow)");
    }
    const current = currentIds(s);
    for (const [id, g] of drawn.nodes) {
      g.classList.toggle("current", current.has(id));
      const k = known.get(id);
      const n = byId.get(id);
      const opDone = n && n.kind === "op";
      g.classList.toggle("done-forward", !!opDone && k.fwd <= state.step && !(k.bwd >= 0 && k.bwd <= state.step));
      g.classList.toggle("done-backward", !!opDone && k.bwd >= 0 && k.bwd <= state.step);
    }
    const info = document.getElementById("step-info");
    info.dataset.node = s.node;
    info.dataset.phase = s.phase;
    info.innerHTML = "";
    const h = document.createElement("div");
    h.className = "phase-" + s.phase;
    h.textContent = `${s.phase === "forward" ? "→" : "←"} ${s.title}` + (byId.has(s.node) ? ` (${byId.get(s.node).label})` : "");
    info.appendChild(h);
    const ul = document.createElement("ul");
    for (const line of s.lines) { const li = document.createElement("li"); li.textContent = line; ul.appendChild(li); }
    info.appendChild(ul);
    document.getElementById("prev").disabled = state.step === 0;
    document.getElementById("next").disabled = state.step === data.steps.length - 1;
    // the panel follows the highlighted node (the output at the seed, the first input at the start)
    const first = [...current][0];
    if (state.selected) showDetails(state.selected);
    else if (first) showDetails(first);
    if (first) follow(first, stepping);
  }

  // what a step is about: the highlighted node and the values or gradients on its active edges
  // (backward at a convolution: its filters' gradient, drawn left of the node), in drawing units
  function stepBox(id) {
    const p = drawn.pos.get(id), half = (drawn.width.get(id) || 46) / 2 + 8;
    const box = { x0: p.x - half, y0: p.y - 25, x1: p.x + half, y1: p.y + 25 };
    for (const d of drawn.edges) {
      if (!d.el.classList.contains("active")) continue;
      for (const g of [d.val.g, d.grad.g]) {
        if (g.classList.contains("hidden")) continue;
        const b = g.getBBox();
        if (!b.width) continue;
        box.x0 = Math.min(box.x0, b.x - 8); box.y0 = Math.min(box.y0, b.y - 8);
        box.x1 = Math.max(box.x1, b.x + b.width + 8); box.y1 = Math.max(box.y1, b.y + b.height + 8);
      }
    }
    return box;
  }

  // keep the step on screen (its node, and its edges' labels where they fit); when stepping
  // through a view too small to read, zoom in to it
  function follow(id, stepping) {
    const p = drawn.pos.get(id), v = state.view;
    if (!p || !v) return;
    const cw = canvas.clientWidth || 800, ch = canvas.clientHeight || 600;
    const all = stepBox(id), half = (drawn.width.get(id) || 46) / 2 + 8;
    const node = { x0: p.x - half, y0: p.y - 25, x1: p.x + half, y1: p.y + 25 };
    const zoom = stepping && v.scale < READABLE;
    if (zoom) v.scale = 1;
    const w = cw / v.scale, h = ch / v.scale;
    const b = all.x1 - all.x0 <= w && all.y1 - all.y0 <= h ? all : node;
    if (zoom || b.x0 < v.x || b.x1 > v.x + w || b.y0 < v.y || b.y1 > v.y + h) { // partly off screen
      v.x = (b.x0 + b.x1) / 2 - w / 2; v.y = (b.y0 + b.y1) / 2 - h / 2;
      applyView();
    }
  }

  function currentIds(s) {
    const ids = new Set();
    if (s.node === "inputs") data.nodes.filter((n) => n.kind === "input" || n.kind === "const").forEach((n) => ids.add(visibleId(n.id)));
    else if (s.node === "outputs") data.nodes.filter((n) => n.kind === "output").forEach((n) => ids.add(n.id));
    else if (byId.has(s.node)) ids.add(visibleId(s.node));
    return ids;
  }

  // ---- details panel --------------------------------------------------------------------------
  function shapeText(shape) { return "(" + shape.join(", ") + (shape.length === 1 ? "," : "") + ")"; }

  // one value or gradient: its numbers (all of them when small), statistics, and its picture
  function describe(ul, label, s) {
    const li = (text) => { const e = document.createElement("li"); e.textContent = text; ul.appendChild(e); return e; };
    const shown = s.full || (s.head ? "" : s.label);
    li(`${label}: ${shown ? shown + "  " : ""}${shapeText(s.shape)} ${s.dtype}`);
    if (s.stats) li(`  ${s.stats}`);
    if (s.head) li(`  first values: ${s.head.join(", ")} …`);
    if (!s.pic) return;
    const fig = document.createElement("li");
    fig.className = "figure";
    const size = picSize(s.pic, 300, 220);
    const img = document.createElement("img");
    img.src = picURL(s.pic);
    img.width = Math.round(size.w); img.height = Math.round(size.h);
    img.alt = `${label} as a picture`;
    hoverable(img, s.pic, label);
    fig.appendChild(img);
    const bar = document.createElement("div");
    bar.className = "scale " + s.pic.scale;
    const ends = s.pic.scale === "diverging" ? [s.pic.lo, "0", s.pic.hi] : [s.pic.lo, s.pic.hi];
    for (const t of ends) { const e = document.createElement("span"); e.textContent = t; bar.appendChild(e); }
    fig.appendChild(bar);
    if (s.pic.note) { const e = document.createElement("div"); e.className = "hint"; e.textContent = s.pic.note; fig.appendChild(e); }
    ul.appendChild(fig);
  }

  // the name of what feeds input `i` of node `n`: the leaf's or tensor's name, else its producer
  function inputName(n, i) {
    const e = data.edges.find((x) => x.dst === n.id && x.index === i);
    if (!e) return `constant ${i}`;
    const src = byId.get(e.src);
    if (e.name) return e.name;
    if (src.kind !== "op") return src.label;
    return `input ${i} (from ${src.label})`;
  }

  function showDetails(id) {
    const box = document.getElementById("details");
    box.dataset.node = id;
    box.innerHTML = "";
    const h = document.createElement("div");
    const ul = document.createElement("ul");
    const n = byId.get(id);
    if (!n) { // a folded group
      const g = id.slice("group:".length), ops = data.nodes.filter((m) => m.group === g);
      h.textContent = `${g} — a group of ${ops.length} operations`;
      const li = document.createElement("li");
      li.textContent = `${ops.map((m) => m.label).join(", ")}; click the box to open it`;
      ul.appendChild(li);
      box.append(h, ul);
      return;
    }
    h.textContent = `${n.label} — ${n.kind === "op" ? n.detail.op : n.kind}` + (n.group ? ` in ${n.group}` : "");
    box.append(h, ul);
    const li = (text) => { const e = document.createElement("li"); e.textContent = text; ul.appendChild(e); };
    if (n.detail.rule) li(n.detail.rule);
    (n.detail.inputs || []).forEach((s, i) => li(`${inputName(n, i)}: ${s.full || (s.head ? "" : s.label)}${s.full || !s.head ? "  " : ""}${shapeText(s.shape)} ${s.dtype}`));
    const k = known.get(id), what = n.kind === "op" ? "output" : "value";
    if (!n.value) li(`${what}: unknown`);
    else if (k.fwd > state.step) li(`${what}: not computed yet (forward reaches it at step ${k.fwd + 1})`);
    else describe(ul, what, n.value);
    if (!n.grad) li("gradient: none");
    else if (k.bwd < 0) li("gradient: not shown (backward never reaches it)");
    else if (k.bwd > state.step) li(`gradient: not yet (backward reaches it at step ${k.bwd + 1})`);
    else describe(ul, "gradient", n.grad);
  }

  function select(id) {
    for (const g of drawn.nodes.values()) g.classList.remove("selected");
    state.selected = state.selected === id ? null : id;
    if (state.selected) { drawn.nodes.get(id).classList.add("selected"); showDetails(id); }
  }

  function toggleGroup(g) {
    if (state.collapsed.has(g)) state.collapsed.delete(g); else state.collapsed.add(g);
    state.view = null;
    draw();
  }

  // ---- pan and zoom -------------------------------------------------------------------------
  // the whole drawing in the window; one too big to read that way first opens legible, at its inputs
  function fit(initial) {
    const b = drawn.content.getBBox();
    const x0 = b.x - 20, y0 = b.y - 20, w = b.width + 40, h = b.height + 40;
    const cw = canvas.clientWidth || 800, ch = canvas.clientHeight || 600;
    let scale = Math.max(Math.min(cw / w, ch / h, 1.6), 0.02);
    state.view = { x: x0 + w / 2 - cw / scale / 2, y: y0 + h / 2 - ch / scale / 2, scale };
    if (initial === true && scale < 0.5) {
      scale = 0.8;
      state.view = { x: x0, y: Math.max(y0, y0 + h / 2 - ch / scale / 2), scale };
    }
    applyView();
  }
  function applyView() {
    const v = state.view, cw = canvas.clientWidth || 800, ch = canvas.clientHeight || 600;
    svg.setAttribute("viewBox", `${v.x} ${v.y} ${cw / v.scale} ${ch / v.scale}`);
    document.body.dataset.scale = v.scale.toFixed(3);
  }
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const v = state.view, r = canvas.getBoundingClientRect();
    const px = v.x + (ev.clientX - r.left) / v.scale, py = v.y + (ev.clientY - r.top) / v.scale;
    v.scale = Math.min(4, Math.max(0.05, v.scale * Math.exp(-ev.deltaY * 0.0015)));
    v.x = px - (ev.clientX - r.left) / v.scale;
    v.y = py - (ev.clientY - r.top) / v.scale;
    applyView();
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, y: ev.clientY }; canvas.classList.add("dragging"); });
  window.addEventListener("mouseup", () => { drag = null; canvas.classList.remove("dragging"); });
  window.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    state.view.x -= (ev.clientX - drag.x) / state.view.scale;
    state.view.y -= (ev.clientY - drag.y) / state.view.scale;
    drag = { x: ev.clientX, y: ev.clientY };
    applyView();
  });
  window.addEventListener("resize", () => applyView());

  // ---- controls -----------------------------------------------------------------------------
  const actions = {
    first: () => show(0, true), prev: () => show(state.step - 1, true), next: () => show(state.step + 1, true),
    last: () => show(data.steps.length - 1, true), fit: () => fit(),
    fold: () => { state.collapsed = new Set(groups); state.view = null; draw(); },
    unfold: () => { state.collapsed = new Set(); state.view = null; draw(); },
  };
  for (const [id, fn] of Object.entries(actions)) {
    const b = document.getElementById(id);
    if (b) b.addEventListener("click", fn);
  }
  if (!groups.length) for (const id of ["fold", "unfold"]) document.getElementById(id).style.display = "none";
  window.addEventListener("keydown", (ev) => {
    const key = { ArrowRight: "next", ArrowDown: "next", " ": "next", ArrowLeft: "prev", ArrowUp: "prev", Home: "first", End: "last" }[ev.key];
    if (key) { ev.preventDefault(); actions[key](); }
  });
  if (data.note) {
    const note = document.getElementById("note");
    note.textContent = data.note;
    note.hidden = false;
  }
  draw();
  document.body.dataset.ready = "true";
})();
