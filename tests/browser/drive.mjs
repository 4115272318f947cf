// Drive graphgrad's HTML explorer in the system Chromium and report what a user would see.
//
//   node drive.mjs PAGE.html REPORT.json [SCREENSHOT.png] [--no-steps] [--hover NODE_ID] [--expand GROUP]
//                  [--unfold] [--shot-step K] [--fit] [--pixels] [--hover-pic EDGE_ID]
//
// The report lists console errors, every network request, the load time, and for each step
// (walked with the arrow keys) the highlighted nodes and the value/gradient text on each edge.
// --expand clicks a folded group open first (its nodes before and after are reported), so the
// steps are then seen inside it; --unfold presses "expand groups" first.
// At the end: --shot-step K goes to step K (Home, then K arrow presses) and reports the view;
// --fit presses "fit"; then the geometry of what is on screen is reported (the canvas, every node
// and edge label as client rectangles, node text heights in screen pixels) and, with --pixels,
// the pixels (RGB) of every picture on an edge, read back from the page, before the screenshot;
// --hover-pic moves the mouse over the middle of that edge's value picture and reports the tooltip.
// CHROMIUM names the browser binary (default: chromium on PATH); nothing is downloaded.
import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { execSync } from "node:child_process";

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : null);
const [page_path, report_path, shot_path] = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && ["--hover", "--expand", "--shot-step", "--hover-pic"].includes(args[i - 1])));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || execSync("command -v chromium").toString().trim(),
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
    "--disable-component-update", "--disable-sync"],
});
const report = { console_errors: [], requests: [], steps: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 640 } });
  const url = pathToFileURL(resolve(page_path)).href;
  page.on("console", (m) => { if (m.type() === "error") report.console_errors.push(m.text()); });
  page.on("pageerror", (e) => report.console_errors.push(String(e)));
  page.on("request", (r) => { if (r.url() !== url) report.requests.push(r.url()); });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 10000 });
  report.load_ms = Date.now() - t0;
  report.nodes_drawn = await page.locator("#canvas .node").count();
  report.edges_drawn = await page.locator("#canvas .edge").count();
  const total = await page.evaluate(() => JSON.parse(document.getElementById("graph-data").textContent).steps.length);
  report.total_steps = total;
  const expand = option("--expand");
  if (expand) {
    const ids = () => page.evaluate(() => [...document.querySelectorAll("#canvas .node")].map((n) => n.dataset.id));
    report.nodes_before = await ids();
    await page.click(`.node[data-id="group:${expand}"]`);
    report.nodes_after = await ids();
  }
  if (flag("--unfold") && await page.isVisible("#unfold")) await page.click("#unfold");
  if (!flag("--no-steps")) {
    await page.keyboard.press("Home");
    for (let i = 0; i < total; i++) {
      report.steps.push(await page.evaluate(() => {
        // an edge's text, its lines (tspans) joined by spaces
        const text = (sel) => Object.fromEntries([...document.querySelectorAll(sel)]
          .map((t) => [t.closest("[data-id]").dataset.id, [...t.querySelectorAll("tspan")].map((s) => s.textContent).join(" ")]));
        const info = document.getElementById("step-info");
        return {
          step: Number(document.body.dataset.step),
          node: info.dataset.node,
          phase: info.dataset.phase,
          current: [...document.querySelectorAll(".node.current")].map((n) => n.dataset.id),
          values: text(".edge-labels text.val:not(.hidden)"),
          grads: text(".edge-labels text.grad:not(.hidden)"),
          info: info.innerText,
          details_node: document.getElementById("details").dataset.node,
          details: document.getElementById("details").innerText,
          scale: Number(document.body.dataset.scale),
        };
      }));
      await page.keyboard.press("ArrowRight");
    }
    if (total > 1) { // the "back" button undoes one step
      await page.click("#prev");
      report.after_back = Number(await page.evaluate(() => document.body.dataset.step));
    }
    await page.keyboard.press("End");
  }
  const hover = option("--hover");
  if (hover) {
    await page.hover(`.node[data-id="${hover}"]`);
    report.hover = await page.evaluate(() => document.getElementById("details").innerText);
  }
  const shotStep = option("--shot-step");
  if (shotStep !== null) {
    await page.click("#fit");
    await page.keyboard.press("Home");
    for (let i = 0; i < Number(shotStep); i++) await page.keyboard.press("ArrowRight");
  }
  if (flag("--fit")) await page.click("#fit");
  report.geometry = await page.evaluate(() => {
    const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    const c = document.getElementById("canvas");
    return {
      canvas: box(c),
      scale: Number(document.body.dataset.scale),
      nodes: Object.fromEntries([...c.querySelectorAll(".node")].map((n) => [n.dataset.id, box(n.querySelector("rect, circle"))])),
      node_text_px: Object.fromEntries([...c.querySelectorAll(".node")].map((n) => [n.dataset.id, n.querySelector("text").getBoundingClientRect().height])),
      labels: [...c.querySelectorAll(".edge-labels > g:not(.hidden)")].filter((g) => g.getBBox().width > 0)
        .map((g) => ({ edge: g.parentNode.dataset.id, side: g.getAttribute("class"), box: box(g) })),
      current: [...c.querySelectorAll(".node.current")].map((n) => n.dataset.id),
      markers: [...c.querySelectorAll(".edge path")].map((p) => p.getAttribute("marker-end")),
      active_markers: [...c.querySelectorAll(".edge.active path")].map((p) => p.getAttribute("marker-end")),
      marker_defs: Object.fromEntries([...document.querySelectorAll("marker")].map((m) =>
        [m.id, { units: m.getAttribute("markerUnits"), width: Number(m.getAttribute("markerWidth")), height: Number(m.getAttribute("markerHeight")) }])),
    };
  });
  if (flag("--pixels")) {
    report.pixels = await page.evaluate(async () => {
      const out = {};
      for (const img of document.querySelectorAll("#canvas .edge-labels image")) {
        const g = img.parentNode, id = g.parentNode.dataset.id + ":" + g.getAttribute("class");
        const im = new Image();
        im.src = img.getAttribute("href");
        await im.decode();
        const cv = document.createElement("canvas");
        cv.width = im.naturalWidth; cv.height = im.naturalHeight;
        const ctx = cv.getContext("2d");
        ctx.drawImage(im, 0, 0);
        const d = ctx.getImageData(0, 0, cv.width, cv.height).data;
        const rgb = [];
        for (let i = 0; i < d.length; i += 4) rgb.push([d[i], d[i + 1], d[i + 2]]);
        out[id] = { width: cv.width, height: cv.height, rgb, shown: [img.width.baseVal.value, img.height.baseVal.value] };
      }
      return out;
    });
  }
  const hoverPic = option("--hover-pic");
  if (hoverPic) {
    await page.hover(`.edge-labels[data-id="${hoverPic}"] .val-label image`);
    report.tooltip = await page.evaluate(() => document.getElementById("tip").hidden ? null : document.getElementById("tip").textContent);
  }
  if (shot_path) await page.screenshot({ path: shot_path });
} finally {
  await browser.close();
}
writeFileSync(report_path, JSON.stringify(report, null, 1));
