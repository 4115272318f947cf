// graphgrad graph explorer: a layered drawing of one computation that steps forward through
// the operations in topological order, then backward in reverse, writing each value above its
// edge (green) and each gradient below (red). Self-contained: no network, no libraries.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const GAP = 150, ROW = 100, PAD = 60; // gap between columns, row height, margin
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
  let drawn = null; // {nodes: Map(vid -> element), edges: [{edge, el, val, grad}], pos}

  // ---- layout: rank by longest path, leaves beside their first consumer, barycenter ordering ----
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
    const preds = new Map(), succs = new Map(), indeg = new Map();
    for (const id of vnodes.keys()) { preds.set(id, []); succs.set(id, []); indeg.set(id, 0); }
    for (const ve of vedges) {
      preds.get(ve.d).push(ve.s); succs.get(ve.s).push(ve.d);
      indeg.set(ve.d, indeg.get(ve.d) + 1);
    }
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
    for (const id of vnodes.keys()) if (!rank.has(id)) rank.set(id, ++maxRank); // folded cycles
    // a leaf sits just before the first operation that uses it, as in the book's figures
    for (const [id, v] of vnodes) {
      if ((v.kind === "input" || v.kind === "const") && succs.get(id).length) {
        rank.set(id, Math.max(0, Math.min(...succs.get(id).map((d) => rank.get(d))) - 1));
      }
    }
    const columns = [];
    for (const id of queue.concat([...vnodes.keys()].filter((id) => !queue.includes(id)))) {
      const r = rank.get(id);
      (columns[r] = columns[r] || []).push(id);
    }
    const cols = columns.filter((c) => c);
    const order = new Map();
    const renumber = () => cols.forEach((c) => c.forEach((id, i) => order.set(id, i - (c.length - 1) / 2)));
    renumber();
    const bary = (id, nbrs) => {
      const ns = nbrs.get(id);
      return ns.length ? ns.reduce((a, n) => a + order.get(n), 0) / ns.length : order.get(id);
    };
    for (let sweep = 0; sweep < 6; sweep++) {
      const nbrs = sweep % 2 === 0 ? preds : succs;
      const seq = sweep % 2 === 0 ? cols : cols.slice().reverse();
      for (const c of seq) {
        const key = new Map(c.map((id) => [id, bary(id, nbrs)]));
        c.sort((a, b) => key.get(a) - key.get(b));
        c.forEach((id, i) => order.set(id, i - (c.length - 1) / 2));
      }
    }
    // columns as wide as their widest box, with room for an edge label between neighbours
    const pos = new Map();
    let x = PAD, prevHalf = 0;
    for (const c of cols) {
      const half = Math.max(...c.map((id) => nodeWidth(vnodes.get(id)))) / 2;
      x += prevHalf + half;
      c.forEach((id, i) => pos.set(id, { x, y: PAD + (i - (c.length - 1) / 2) * ROW }));
      x += GAP;
      prevHalf = half;
    }
    return { vnodes, vedges, pos };
  }

  // ---- drawing ----------------------------------------------------------------------------
  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  // an edge label stays short: a long list of numbers is written as its shape (the panel has it all)
  function short(s) { return s.label.length > 18 ? shapeText(s.shape) : s.label; }

  function nodeWidth(v) {
    if (v.kind === "op" && v.label.length <= 3) return 46;
    return Math.max(46, 16 + 8 * v.label.length);
  }

  function draw() {
    const { vnodes, vedges, pos } = layout();
    svg.textContent = "";
    const boxes = el("g", { class: "group-boxes" }, svg);
    const edgeLayer = el("g", { class: "edges" }, svg);
    const nodeLayer = el("g", { class: "nodes" }, svg);
    const width = new Map([...vnodes].map(([id, v]) => [id, nodeWidth(v)]));
    // expanded groups: a dashed box around their members, its title folds them again
    for (const g of groups) {
      if (state.collapsed.has(g)) continue;
      const members = data.nodes.filter((n) => n.group === g).map((n) => n.id);
      if (!members.length) continue;
      const xs = members.map((id) => pos.get(id).x), ys = members.map((id) => pos.get(id).y);
      const x0 = Math.min(...xs) - 45, x1 = Math.max(...xs) + 45;
      const y0 = Math.min(...ys) - 45, y1 = Math.max(...ys) + 40;
      const box = el("g", { class: "group-box", "data-group": g }, boxes);
      el("rect", { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, box);
      const t = el("text", { x: x0 + 6, y: y1 - 6 }, box); // at the bottom: leaves may sit at the top
      t.textContent = "▾ " + g;
      t.addEventListener("click", (ev) => { ev.stopPropagation(); toggleGroup(g); });
    }
    const fanout = new Map();
    for (const ve of vedges) fanout.set(ve.s, (fanout.get(ve.s) || 0) + 1);
    const edges = [];
    for (const ve of vedges) {
      const a = pos.get(ve.s), b = pos.get(ve.d);
      const x0 = a.x + width.get(ve.s) / 2, x1 = b.x - width.get(ve.d) / 2;
      let d, lx, ly;
      if (fanout.get(ve.s) === 1) {
        // run level with the source, bend into the destination at the end: the labels sit on the
        // straight part, at the source's height, so edges into one node never share a label spot
        const bend = Math.max(x0, x1 - Math.min(70, (x1 - x0) / 2));
        const mx = (bend + x1) / 2;
        d = `M${x0},${a.y} L${bend},${a.y} C${mx},${a.y} ${mx},${b.y} ${x1},${b.y}`;
        lx = (x0 + bend) / 2; ly = a.y;
      } else {
        // a tensor used several times: the edges part at once, each labelled on its own way
        const mx = (x0 + x1) / 2;
        d = `M${x0},${a.y} C${mx},${a.y} ${mx},${b.y} ${x1},${b.y}`;
        lx = mx; ly = (a.y + b.y) / 2;
      }
      const g = el("g", { class: "edge", "data-id": ve.edge.id, "data-src": ve.edge.src, "data-dst": ve.edge.dst }, edgeLayer);
      el("path", { d, "marker-end": "url(#arrow)" }, g);
      const val = el("text", { class: "val", x: lx, y: ly - 7, "text-anchor": "middle" }, g);
      val.textContent = short(ve.edge.value);
      const grad = el("text", { class: "grad", x: lx, y: ly + 17, "text-anchor": "middle" }, g);
      grad.textContent = ve.edge.grad ? short(ve.edge.grad) : "";
      edges.push({ edge: ve.edge, el: g, val, grad });
    }
    const nodes = new Map();
    for (const [id, v] of vnodes) {
      const p = pos.get(id), w = width.get(id);
      const g = el("g", { class: "node " + v.kind, "data-id": id, transform: `translate(${p.x},${p.y})` }, nodeLayer);
      if (v.kind === "op" && w === 46) el("circle", { r: 23 }, g);
      else el("rect", { x: -w / 2, y: -17, width: w, height: 34, rx: v.kind === "op" ? 17 : 5 }, g);
      const t = el("text", {}, g);
      t.textContent = v.label;
      g.addEventListener("click", (ev) => { ev.stopPropagation(); v.kind === "group" ? toggleGroup(v.group) : select(id); });
      g.addEventListener("mouseenter", () => { if (v.kind !== "group") showDetails(id); });
      nodes.set(id, g);
    }
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8c959f" }, marker);
    drawn = { nodes, edges, pos };
    if (!state.view) fit(true);
    else applyView();
    show(state.step);
  }

  // ---- stepping -----------------------------------------------------------------------------
  function show(step) {
    state.step = Math.max(0, Math.min(step, data.steps.length - 1));
    const s = data.steps[state.step];
    document.body.dataset.step = state.step;
    document.getElementById("counter").textContent = `step ${state.step + 1} / ${data.steps.length}`;
    for (const d of drawn.edges) {
      const e = d.edge;
      d.val.classList.toggle("hidden", e.fwd > state.step);
      d.grad.classList.toggle("hidden", !(e.grad && e.bwd >= 0 && e.bwd <= state.step));
      const active = s.phase === "forward" ? e.dst === s.node || (s.node === "inputs" && e.fwd === 0)
        : e.dst === s.node || (s.node === "outputs" && e.dst.startsWith("out"));
      d.el.classList.toggle("active", active);
    }
    const current = currentIds(s);
    const opIndex = new Map(data.steps.map((st, i) => [st.phase + st.node, i]));
    for (const [id, g] of drawn.nodes) {
      g.classList.toggle("current", current.has(id));
      const n = byId.get(id);
      const f = n ? opIndex.get("forward" + id) : undefined, b = n ? opIndex.get("backward" + id) : undefined;
      g.classList.toggle("done-forward", f !== undefined && f <= state.step && !(b !== undefined && b <= state.step));
      g.classList.toggle("done-backward", b !== undefined && b <= state.step);
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
    if (byId.has(s.node) && !state.selected) showDetails(s.node);
    for (const id of current) { follow(id); break; }
  }

  // keep the highlighted node on screen while stepping through a graph wider than the window
  function follow(id) {
    const p = drawn.pos.get(id), v = state.view;
    if (!p || !v) return;
    const w = (canvas.clientWidth || 800) / v.scale, h = (canvas.clientHeight || 600) / v.scale;
    if (p.x < v.x + 40 || p.x > v.x + w - 40 || p.y < v.y + 30 || p.y > v.y + h - 30) {
      v.x = p.x - w / 2; v.y = p.y - h / 2;
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
  function describe(label, s) {
    if (!s) return [`${label}: unknown`];
    const shown = s.full || (s.head ? "" : s.label);
    const lines = [`${label}: ${shown ? shown + "  " : ""}${shapeText(s.shape)} ${s.dtype}`];
    if (s.stats) lines.push(`  ${s.stats}`);
    if (s.head) lines.push(`  first values: ${s.head.join(", ")} …`);
    return lines;
  }
  function shapeText(shape) { return "(" + shape.join(", ") + (shape.length === 1 ? "," : "") + ")"; }

  function showDetails(id) {
    const n = byId.get(id);
    const box = document.getElementById("details");
    box.dataset.node = id;
    box.innerHTML = "";
    const h = document.createElement("div");
    h.innerHTML = "";
    h.textContent = `${n.label} — ${n.kind === "op" ? n.detail.op : n.kind}` + (n.group ? ` in ${n.group}` : "");
    box.appendChild(h);
    const lines = [];
    if (n.detail.rule) lines.push(n.detail.rule);
    (n.detail.inputs || []).forEach((s, i) => lines.push(`input ${i}: ${shapeText(s.shape)} ${s.dtype}`));
    lines.push(...describe(n.kind === "op" ? "output" : "value", n.value));
    lines.push(...describe("gradient", n.grad));
    const ul = document.createElement("ul");
    for (const line of lines) { const li = document.createElement("li"); li.textContent = line; ul.appendChild(li); }
    box.appendChild(ul);
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
  // the whole graph in the window; a graph too big to read that way first opens legible, at its inputs
  function fit(initial) {
    const xs = [...drawn.pos.values()].map((p) => p.x), ys = [...drawn.pos.values()].map((p) => p.y);
    const x0 = Math.min(...xs) - PAD, y0 = Math.min(...ys) - PAD;
    const w = Math.max(...xs) - x0 + PAD, h = Math.max(...ys) - y0 + PAD;
    const cw = canvas.clientWidth || 800, ch = canvas.clientHeight || 600;
    let scale = Math.max(Math.min(cw / w, ch / h, 1.6), 0.02);
    state.view = { x: x0 + w / 2 - cw / scale / 2, y: y0 + h / 2 - ch / scale / 2, scale };
    if (initial === true && scale < 0.5) {
      scale = 0.8;
      state.view = { x: x0, y: y0 + h / 2 - ch / scale / 2, scale };
    }
    applyView();
  }
  function applyView() {
    const v = state.view, cw = canvas.clientWidth || 800, ch = canvas.clientHeight || 600;
    svg.setAttribute("viewBox", `${v.x} ${v.y} ${cw / v.scale} ${ch / v.scale}`);
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
    first: () => show(0), prev: () => show(state.step - 1), next: () => show(state.step + 1),
    last: () => show(data.steps.length - 1), fit: () => fit(),
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
