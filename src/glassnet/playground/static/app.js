// glassnet playground: the page. Plain JS, canvas and SVG; every number comes from the
// glassnet server (this file trains nothing and differentiates nothing).
"use strict";

const $ = (id) => document.getElementById(id);
const LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DOMAIN = 6;
const NAMES = { circle: "circle", xor: "XOR", gauss: "Gaussian clusters", spiral: "spiral", moons: "two moons",
  plane: "plane", multigauss: "Gaussian bumps" };
let OPTIONS = null;        // /api/options
let cfg = null;            // the configuration shown (mirrors the server's)
let sid = null;            // session id
let last = null;           // the last full state
let points = null;         // {train, test}
let selected = null;       // {layer, unit} of the open backprop panel
let polling = false;
let renders = [];          // timestamps of the last renders (updates/s)

// ------------------------------------------------------------------ server
async function api(method, path, body, raw) {
  const opts = { method };
  if (body !== undefined) {
    opts.body = raw ? body : JSON.stringify(body);
    opts.headers = { "Content-Type": raw ? "application/octet-stream" : "application/json" };
  }
  const r = await fetch(path, opts);
  const ctype = r.headers.get("Content-Type") || "";
  const data = ctype.startsWith("application/json") ? await r.json() : await r.text();
  if (!r.ok) {
    showError(data && data.error ? data.error : ("HTTP " + r.status));
    throw new Error(data && data.error ? data.error : r.status);
  }
  hideError();
  return data;
}
function showError(msg) { const e = $("error"); e.textContent = msg; e.classList.remove("hidden"); }
function hideError() { $("error").classList.add("hidden"); }
const S = (action) => `/api/session/${sid}/${action}`;

// ------------------------------------------------------------------ colours
function colour(t) {          // t in [-1, 1]: orange (-1) - white - blue (+1)
  t = Math.max(-1, Math.min(1, t));
  const o = [245, 147, 34], b = [8, 119, 189], w = [232, 234, 235];
  const c = t < 0 ? o : b, k = Math.abs(t);
  return [0, 1, 2].map((i) => Math.round(w[i] + (c[i] - w[i]) * k));
}
function paint(canvas, bytes, size) {
  canvas.width = size; canvas.height = size;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(size, size);
  for (let i = 0; i < bytes.length; i++) {
    const c = colour(bytes[i] / 127.5 - 1);
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// ------------------------------------------------------------------ URL state
function toHash(c) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(c)) p.set(k, Array.isArray(v) ? v.join(",") : String(v));
  return "#" + p.toString();
}
function fromHash(defaults) {
  const out = {};
  const p = new URLSearchParams(location.hash.slice(1));
  for (const [k, v] of p.entries()) {
    if (!(k in defaults)) continue;
    const d = defaults[k];
    if (Array.isArray(d)) {
      out[k] = v === "" ? [] : v.split(",").map((s) => (typeof d[0] === "number" || k === "hidden") ? Number(s) : s);
    } else if (typeof d === "boolean") out[k] = v === "true";
    else if (typeof d === "number") out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}

// ------------------------------------------------------------------ controls
function fillSelect(id, values, labels) {
  const s = $(id); s.innerHTML = "";
  values.forEach((v, i) => { const o = document.createElement("option"); o.value = String(v); o.textContent = labels ? labels[i] : String(v); s.appendChild(o); });
}
function syncControls() {
  $("lr").value = String(cfg.lr);
  if ($("lr").value !== String(cfg.lr)) { fillSelect("lr", [...new Set([...LRS, cfg.lr])].sort((a, b) => a - b)); $("lr").value = String(cfg.lr); }
  $("activation").value = cfg.activation;
  $("optimizer").value = cfg.optimizer;
  $("regularization").value = cfg.regularization;
  $("reg_rate").value = String(cfg.reg_rate);
  for (const k of ["noise", "batch_size", "n_samples", "dropout"]) { $(k).value = cfg[k]; $(k + "_v").textContent = cfg[k]; }
  $("test_ratio").value = Math.round(cfg.test_ratio * 100); $("test_ratio_v").textContent = Math.round(cfg.test_ratio * 100);
  $("early_stopping").checked = cfg.early_stopping; $("patience").value = cfg.patience; $("seed").value = cfg.seed;
  document.querySelectorAll("#datasets canvas").forEach((c) => c.classList.toggle("selected", c.dataset.name === cfg.dataset));
  $("layer-count").textContent = `${cfg.hidden.length} hidden layer${cfg.hidden.length === 1 ? "" : "s"}`;
  $("problem").textContent = `${NAMES[cfg.dataset] || cfg.dataset}: ${OPTIONS.classification.includes(cfg.dataset) ? "classification" : "regression"}`;
}
async function setConfig(changes) {
  const next = Object.assign({}, cfg, changes);
  const st = await api("POST", S("config"), { config: next });
  cfg = st.config; selected = null;
  $("unit-panel").classList.add("hidden"); $("update-panel").classList.add("hidden");
  history.replaceState(null, "", toHash(cfg));
  render(st, true);
}
function bindControls() {
  fillSelect("lr", LRS);
  fillSelect("activation", OPTIONS.activations);
  fillSelect("optimizer", OPTIONS.optimizers);
  fillSelect("regularization", ["none", "l1", "l2"], ["None", "L1", "L2"]);
  fillSelect("reg_rate", REG_RATES);
  for (const k of ["lr", "reg_rate"]) $(k).onchange = () => setConfig({ [k]: Number($(k).value) });
  for (const k of ["activation", "optimizer", "regularization"]) $(k).onchange = () => setConfig({ [k]: $(k).value });
  for (const k of ["noise", "batch_size", "n_samples", "dropout"]) {
    $(k).oninput = () => { $(k + "_v").textContent = $(k).value; };
    $(k).onchange = () => setConfig({ [k]: Number($(k).value) });
  }
  $("test_ratio").oninput = () => { $("test_ratio_v").textContent = $("test_ratio").value; };
  $("test_ratio").onchange = () => setConfig({ test_ratio: Number($("test_ratio").value) / 100 });
  $("early_stopping").onchange = () => setConfig({ early_stopping: $("early_stopping").checked });
  $("patience").onchange = () => setConfig({ patience: Number($("patience").value) });
  $("seed").onchange = () => setConfig({ seed: Number($("seed").value) });
  $("add-layer").onclick = () => { if (cfg.hidden.length < OPTIONS.limits.hidden_layers) setConfig({ hidden: [...cfg.hidden, 2] }); };
  $("remove-layer").onclick = () => { if (cfg.hidden.length > 0) setConfig({ hidden: cfg.hidden.slice(0, -1) }); };
  $("play").onclick = togglePlay;
  $("step").onclick = async () => { const st = await api("POST", S("step")); render(st); showUpdate(st); if (selected) openUnit(selected.layer, selected.unit); };
  $("reset").onclick = async () => { const st = await api("POST", S("reset")); render(st, true); $("update-panel").classList.add("hidden"); if (selected) openUnit(selected.layer, selected.unit); };
  $("show-test").onchange = () => drawOutput(last);
  $("show-planes").onchange = () => drawOutput(last);
  $("share").onclick = (e) => { e.preventDefault(); history.replaceState(null, "", toHash(cfg)); navigator.clipboard && navigator.clipboard.writeText(location.href).catch(() => {}); $("message").textContent = "the address bar holds this setup"; };
  $("import-file").onchange = async () => {
    const f = $("import-file").files[0]; if (!f) return;
    const st = await api("POST", S("import"), await f.arrayBuffer(), true);
    cfg = st.config; history.replaceState(null, "", toHash(cfg)); render(st, true);
  };
  const box = $("datasets");
  for (const name of OPTIONS.datasets) {
    const c = document.createElement("canvas"); c.width = 48; c.height = 48; c.dataset.name = name; c.title = NAMES[name] || name; c.id = "dataset-" + name;
    c.onclick = () => setConfig({ dataset: name });
    box.appendChild(c);
  }
}
async function drawDatasetIcons() {  // tiny previews, drawn from the server's data
  for (const c of document.querySelectorAll("#datasets canvas")) {
    const ctx = c.getContext("2d"); ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, 48, 48);
    for (const [x, y, t] of OPTIONS.previews[c.dataset.name]) {
      ctx.fillStyle = `rgb(${colour(t)})`;
      ctx.fillRect(((x + DOMAIN) / (2 * DOMAIN)) * 48 - 1, 48 - ((y + DOMAIN) / (2 * DOMAIN)) * 48 - 1, 2.5, 2.5);
    }
  }
}

// ------------------------------------------------------------------ play loop
async function togglePlay() {
  const playing = last && last.playing;
  const st = await api("POST", S(playing ? "pause" : "play"));
  render(st);
  if (!playing) poll();
}
async function poll() {
  if (polling) return;
  polling = true;
  try {
    while (true) {
      const t0 = performance.now();
      const st = await api("GET", S("state") + "?full=0");
      render(st);
      if (!st.playing) break;
      const wait = 40 - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  } finally { polling = false; }
}

// ------------------------------------------------------------------ drawing
function render(st, full) {
  if (st.points) points = st.points;
  last = st;
  if (full || !cfg) { cfg = st.config; syncControls(); }
  $("play").textContent = st.playing ? "\u275A\u275A" : "\u25B6";
  $("play").classList.toggle("on", st.playing);
  $("epoch").textContent = st.epoch; $("stepcount").textContent = st.step;
  const lossText = (v) => (v === null || v === undefined) ? "diverged" : v.toFixed(3);
  $("test-loss").textContent = lossText(st.test_loss); $("test-loss").dataset.value = st.test_loss;
  $("train-loss").textContent = lossText(st.train_loss); $("train-loss").dataset.value = st.train_loss;
  $("message").textContent = st.message || "";
  drawNetwork(st); drawOutput(st); drawCurve(st); drawFlow(st);
  const now = performance.now(); renders.push(now); renders = renders.filter((t) => now - t < 1000);
  $("rate").textContent = renders.length;
}
function layout(st) {
  const widths = [OPTIONS.features.length, ...st.config.hidden, 1];
  const W = Math.max(420, $("net-wrap").clientWidth), cols = widths.length;
  const colX = (c) => 70 + c * ((W - 140) / Math.max(cols - 1, 1));
  const rowY = (r) => 40 + r * 52;
  return { widths, colX, rowY };
}
function drawNetwork(st) {
  const { widths, colX, rowY } = layout(st), svg = $("net"), nodes = $("nodes");
  const feats = st.config.features, surf = st.surfaces;
  // active inputs: features on; their rows are the rows of all features
  const inRows = feats.map((f) => OPTIONS.features.indexOf(f));
  const rowOf = (layer, i) => (layer === 0 ? inRows[i] : i);
  const pos = (layer, i) => [colX(layer) + 20, rowY(rowOf(layer, i)) + 20];
  let lines = "";
  st.weights.forEach((W, l) => {         // W(l+1): (out, in)
    W.forEach((row, j) => row.forEach((w, i) => {
      const [x1, y1] = pos(l, i), [x2, y2] = pos(l + 1, j);
      const width = Math.min(0.5 + Math.abs(w) * 2.5, 8);
      const c = colour(Math.tanh(w * 2)), mid = (x1 + x2) / 2;
      lines += `<path d="M${x1 + 20},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 20},${y2}" stroke="rgb(${c})" stroke-width="${width.toFixed(2)}" fill="none"><title>W(${l + 1})[${j + 1},${i + 1}] = ${w.toPrecision(4)}</title></path>`;
    }));
  });
  svg.innerHTML = lines;
  // nodes are rebuilt only when the shape changes; thumbnails repainted every time
  const key = JSON.stringify([feats, st.config.hidden]);
  if (nodes.dataset.key !== key) {
    nodes.innerHTML = ""; nodes.dataset.key = key;
    OPTIONS.features.forEach((f, r) => {
      const on = feats.includes(f);
      const d = nodeDiv(colX(0), rowY(r), "feature" + (on ? "" : " off"), `input-${f}`);
      d.title = (on ? "click to remove " : "click to add ") + f;
      d.onclick = () => { const next = on ? feats.filter((g) => g !== f) : [...feats, f]; if (next.length) setConfig({ features: next }); };
      const lab = document.createElement("div"); lab.className = "node-label"; lab.textContent = f;
      lab.style.left = (colX(0) - 64) + "px"; lab.style.top = (rowY(r) + 12) + "px"; nodes.appendChild(lab);
    });
    st.config.hidden.forEach((n, l) => {
      for (let j = 0; j < n; j++) unitNode(l + 1, j, colX(l + 1), rowY(j));
      const ctl = document.createElement("div"); ctl.className = "layer-ctl";
      ctl.style.left = (colX(l + 1) - 10) + "px"; ctl.style.top = "0px";
      ctl.innerHTML = `<button data-l="${l}" data-d="1">+</button><button data-l="${l}" data-d="-1">&minus;</button><br>${n} unit${n === 1 ? "" : "s"}`;
      ctl.querySelectorAll("button").forEach((b) => { b.id = `units-${l + 1}-${b.dataset.d === "1" ? "plus" : "minus"}`; b.onclick = () => {
        const h = [...cfg.hidden]; h[l] = Math.max(1, Math.min(OPTIONS.limits.units, h[l] + Number(b.dataset.d))); setConfig({ hidden: h });
      }; });
      nodes.appendChild(ctl);
    });
    unitNode(widths.length - 1, 0, colX(widths.length - 1), rowY(0));
  }
  feats.forEach((f, i) => paintNode(`input-${f}`, surf.inputs[i], surf.thumb));
  st.config.hidden.forEach((n, l) => { for (let j = 0; j < n; j++) paintNode(`unit-${l + 1}-${j}`, surf.units[l][j], surf.thumb); });
  const out = $(`unit-${widths.length - 1}-0`);
  if (out) paint(out.firstChild, downsample(surf.output, surf.size), surf.thumb);
  document.querySelectorAll(".node.selected").forEach((n) => n.classList.remove("selected"));
  if (selected) { const n = $(`unit-${selected.layer}-${selected.unit}`); if (n) n.classList.add("selected"); }
}
function downsample(bytes, size) { const out = []; for (let r = 0; r < size; r += 2) for (let c = 0; c < size; c += 2) out.push(bytes[r * size + c]); return out; }
function nodeDiv(x, y, cls, id) {
  const d = document.createElement("div"); d.className = "node " + cls; d.id = id;
  d.style.left = x + "px"; d.style.top = y + "px";
  d.appendChild(document.createElement("canvas")); $("nodes").appendChild(d); return d;
}
function unitNode(layer, j, x, y) {
  const d = nodeDiv(x, y, "unit", `unit-${layer}-${j}`);
  d.title = `unit ${j + 1} of layer ${layer}: click for its backprop numbers`;
  d.onclick = () => openUnit(layer, j);
}
function paintNode(id, bytes, size) { const n = $(id); if (n && bytes) paint(n.firstChild, bytes, size); }
const toPx = (v) => ((v + DOMAIN) / (2 * DOMAIN)) * 300;
function drawOutput(st) {
  if (!st) return;
  const c = $("output"), ctx = c.getContext("2d"), s = st.surfaces;
  const tmp = document.createElement("canvas"); paint(tmp, s.output, s.size);
  ctx.imageSmoothingEnabled = true; ctx.drawImage(tmp, 0, 0, 300, 300);
  ctx.fillStyle = "rgba(255,255,255,0.4)"; ctx.fillRect(0, 0, 300, 300);   // paler: the points stand out
  const drawPts = (pts, stroke) => pts.forEach(([x, y, t]) => {
    const col = colour(st.problem === "classification" ? t : t);
    ctx.beginPath(); ctx.arc(toPx(x), 300 - toPx(y), 3, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${col})`; ctx.fill(); ctx.lineWidth = 1; ctx.strokeStyle = stroke; ctx.stroke();
  });
  if (points) { drawPts(points.train, "#fff"); if ($("show-test").checked) drawPts(points.test, "#000"); }
  const f = st.config.features, flat = f.every((g) => g === "x1" || g === "x2");
  $("planes-note").textContent = st.weights.length < 2 ? "(no hidden layer)"
    : flat ? "" : "(straight lines only with x1, x2 alone: see the unit thumbnails)";
  if ($("show-planes").checked && st.weights.length > 1 && flat) {
    // unit j of the first hidden layer: w1 x1 + w2 x2 + b = 0
    const W = st.weights[0], b = st.biases[0];
    ctx.strokeStyle = "rgba(0,0,0,0.55)"; ctx.lineWidth = 1; ctx.setLineDash([4, 3]);
    W.forEach((row, j) => {
      const w1 = f.includes("x1") ? row[f.indexOf("x1")] : 0, w2 = f.includes("x2") ? row[f.indexOf("x2")] : 0;
      ctx.beginPath();
      if (Math.abs(w2) > Math.abs(w1)) { for (const x of [-DOMAIN, DOMAIN]) { const y = -(w1 * x + b[j]) / w2; ctx.lineTo(toPx(x), 300 - toPx(y)); } }
      else if (Math.abs(w1) > 0) { for (const y of [-DOMAIN, DOMAIN]) { const x = -(w2 * y + b[j]) / w1; ctx.lineTo(toPx(x), 300 - toPx(y)); } }
      ctx.stroke();
    });
    ctx.setLineDash([]);
  }
}
function drawCurve(st) {
  const c = $("curve"), ctx = c.getContext("2d"), h = st.history;
  ctx.clearRect(0, 0, c.width, c.height);
  const n = h.step.length; if (n < 1) return;
  const ok = (v) => v !== null && Number.isFinite(v);
  const top = Math.max(...h.train.filter(ok), ...h.test.filter(ok), 1e-9), xmax = Math.max(h.step[n - 1], 1);
  const line = (ys, col) => { ctx.beginPath(); ctx.strokeStyle = col; ys.forEach((y, i) => ok(y) && ctx.lineTo((h.step[i] / xmax) * (c.width - 4) + 2, c.height - 2 - (y / top) * (c.height - 6))); ctx.stroke(); };
  line(h.train, "#999"); line(h.test, "#000");
}
function drawFlow(st) {
  const c = $("flow"), ctx = c.getContext("2d"), f = st.flow, L = st.weights.length;
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  if (!f.length) { $("flow-text").textContent = "press play or step"; return; }
  const rowH = c.height / L, colW = c.width / 100;
  f.forEach((g, k) => g.forEach((v, l) => {
    const t = Math.max(0, Math.min(1, (Math.log10(v + 1e-12) + 6) / 6)); // 1e-6 .. 1
    ctx.fillStyle = `rgb(${Math.round(255 - 200 * t)},${Math.round(255 - 120 * t)},255)`;
    ctx.fillRect(k * colW, (L - 1 - l) * rowH, colW + 0.5, rowH - 1);
  }));
  ctx.fillStyle = "#333"; ctx.font = "10px sans-serif";
  for (let l = 0; l < L; l++) ctx.fillText(`W(${l + 1})`, 2, (L - 1 - l) * rowH + Math.min(rowH - 2, 11));
  const lastG = f[f.length - 1];
  $("flow-text").textContent = lastG.map((v, l) => `W(${l + 1}) ${v.toExponential(2)}`).join("  ");
}

// ------------------------------------------------------------------ panels
const fmt = (v) => (v === null || v === undefined || Number.isNaN(v)) ? "-" : Number(v).toPrecision(6);
async function openUnit(layer, unit) {
  selected = { layer, unit };
  const u = await api("GET", S("unit") + `?layer=${layer}&unit=${unit}`);
  const p = $("unit-panel"); p.classList.remove("hidden");
  const n = Math.min(u.z.length, 12);
  let rows = "";
  for (let i = 0; i < n; i++) rows += `<tr><td>${u.batch[i]}</td><td>${fmt(u.z[i])}</td><td>${fmt(u.a[i])}</td><td>${fmt(u.f_prime[i])}</td><td>${fmt(u.dE_da[i])}</td><td class="delta" data-value="${u.delta[i]}">${fmt(u.delta[i])}</td></tr>`;
  const prev = layer === 1 ? cfg.features : Array.from({ length: u.weights.length }, (_, i) => `unit ${i + 1}`);
  let wrows = "";
  u.weights.forEach((w, i) => { wrows += `<tr><td>W(${layer})[${unit + 1},${i + 1}] from ${prev[i]}</td><td>${fmt(w)}</td><td class="dEdw" data-value="${u.dE_dw[i]}">${fmt(u.dE_dw[i])}</td><td>${fmt(w - cfg.lr * u.dE_dw[i])}</td></tr>`; });
  wrows += `<tr><td>b(${layer})[${unit + 1}]</td><td>${fmt(u.bias)}</td><td class="dEdb" data-value="${u.dE_db}">${fmt(u.dE_db)}</td><td>${fmt(u.bias - cfg.lr * u.dE_db)}</td></tr>`;
  const name = layer === cfg.hidden.length + 1 ? "the output unit" : `unit ${unit + 1} of hidden layer ${layer}`;
  p.innerHTML = `<h2>Backprop at ${name} (${u.activation || "linear"}), batch of ${u.z.length}, E = ${fmt(u.loss)}</h2>
    <div class="rule">f'(z) = ${u.f_prime_rule}</div>${u.rules.map((r) => `<div class="rule">${r}</div>`).join("")}
    <table id="unit-samples"><tr><th>sample</th><th>z</th><th>a = f(z)</th><th>f'(z)</th><th>&part;E/&part;a</th><th>&delta; = &part;E/&part;z</th></tr>${rows}</table>
    ${u.z.length > n ? `<div class="rule">${u.z.length - n} more samples not shown</div>` : ""}
    <table id="unit-weights"><tr><th>incoming weight</th><th>value</th><th>&part;E/&part;w</th><th>w &minus; lr &middot; &part;E/&part;w${cfg.optimizer === "sgd" && cfg.regularization === "none" ? "" : " (plain SGD)"}</th></tr>${wrows}</table>
    ${cfg.optimizer === "sgd" && cfg.regularization === "none" ? "" : `<div class="rule">${cfg.optimizer}${cfg.regularization === "none" ? "" : " with " + cfg.regularization.toUpperCase()} moves the weights differently: press step to see the update it makes</div>`}
    <div class="rule">from glassnet.inspect.trace on the current batch (dropout off; data loss, without the L1/L2 term); delta form = autograd to ${Math.max(...Object.values(u.check)).toExponential(1)}</div>`;
  drawNetwork(last);
}
function showUpdate(st) {
  if (!st.update) return;
  const p = $("update-panel"); p.classList.remove("hidden");
  let html = `<h2>Step ${st.step}: the update of every weight (new &minus; old)</h2>`;
  st.update.forEach((u, l) => {
    const names = l === 0 ? st.config.features : u.dW[0].map((_, i) => `from ${i + 1}`);
    html += `<table class="update"><tr><th>W(${l + 1})</th>${names.map((n) => `<th>${n}</th>`).join("")}<th>bias</th></tr>`;
    u.dW.forEach((row, j) => { html += `<tr><th>unit ${j + 1}</th>${row.map((v) => `<td>${v.toExponential(2)}</td>`).join("")}<td>${u.db[j].toExponential(2)}</td></tr>`; });
    html += "</table>";
  });
  p.innerHTML = html;
}

// ------------------------------------------------------------------ start
async function main() {
  OPTIONS = await api("GET", "/api/options");
  bindControls(); drawDatasetIcons();
  const wanted = Object.assign({}, OPTIONS.defaults, fromHash(OPTIONS.defaults));
  let res;
  try { res = await api("POST", "/api/session", { config: wanted }); }
  catch (e) { res = await api("POST", "/api/session", { config: OPTIONS.defaults }); }
  sid = res.id; cfg = res.state.config;
  $("export-model").href = S("export/model"); $("export-script").href = S("export/script");
  history.replaceState(null, "", toHash(cfg));
  render(res.state, true);
  // a setup pasted into the address bar of an open page: take it (bad values: the error shows)
  window.addEventListener("hashchange", () => {
    const next = fromHash(OPTIONS.defaults);
    if (Object.keys(next).length) setConfig(next).catch(() => history.replaceState(null, "", toHash(cfg)));
  });
  document.body.dataset.ready = "1";
}
main();
