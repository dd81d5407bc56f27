// Live Gram heatmap: redraws k = profile(gamma, s) from distances s sent once.
// Payload formats: see live_heatmap.py. Everything shown is a number; no text
// from Python or the user is ever written as HTML (textContent only).

const MAGIC_D = 0x4c495644, MAGIC_K = 0x4c49564b, MAGIC_F = 0x4c495646;
const NOT_FINITE = 255; // a frames byte that stands for NaN or ±inf (drawn grey)
const STEPS_PER_DECADE = 20, K_MIN = -120, K_MAX = 80; // gamma = 10^(k/20), 1e-6 … 1e4
const BINS = 60;
const VIEWS = new WeakMap();

// Viridis at 9 stops (matplotlib's), interpolated to a 256-entry table.
const VIRIDIS = [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]];
const LUT = new Uint8ClampedArray(256 * 3);
for (let i = 0; i < 256; i++) {
  const t = (i / 255) * 8, a = Math.min(7, Math.floor(t)), f = t - a;
  for (let c = 0; c < 3; c++) LUT[3 * i + c] = VIRIDIS[a][c] * (1 - f) + VIRIDIS[a + 1][c] * f;
}

const F16 = new Float32Array(65536); // float16 bits -> value
for (let h = 0; h < 65536; h++) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
  F16[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
}

export function gammaAt(k) { return Number((10 ** (k / STEPS_PER_DECADE)).toPrecision(4)); }
function stepOf(gamma) { return Math.max(K_MIN, Math.min(K_MAX, Math.round(STEPS_PER_DECADE * Math.log10(gamma)))); }
function fmt(v, digits = 4) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(digits - 1) : String(Number(v.toPrecision(digits)));
}

// k = profile(gamma, s); codes as in core/kernels/profiles.py. Decreasing in s.
function profileFn(code, gamma, alpha) {
  switch (code) {
    case 1: return (s) => { const t = Math.sqrt(6 * gamma * Math.max(s, 0)); return (1 + t) * Math.exp(-t); };
    case 2: return (s) => { const t = Math.sqrt(10 * gamma * Math.max(s, 0)); return (1 + t + t * t / 3) * Math.exp(-t); };
    case 3: return (s) => Math.pow(1 + gamma * s / alpha, -alpha);
    default: return (s) => Math.exp(-gamma * s);
  }
}

function parseDistances(buf) {
  const h = new Int32Array(buf, 0, 8);
  if (h[0] !== MAGIC_D) return null;
  const [n, side, factor, m, kind, profile] = [h[2], h[3], h[4], h[5], h[6], h[7]];
  const scale = new Float32Array(buf, 32, 1)[0];
  const order = new Int32Array(buf, 40, n);
  const start = 40 + 4 * n;
  let s = null, x = null, w = null;
  if (m === 0) s = new Float32Array(buf, start, n * n);
  else {
    // Each cell's rule, as core/scale/summary.py decode_rules: nodes (float16 · scale,
    // rounded to float32), weights w_1 … w_(q-1) and w_q = 1 − their sum (in double).
    const q = (m + 1) / 2, cells = side * (side + 1) / 2;
    const raw = new Uint16Array(buf, start, cells * m);
    x = new Float32Array(cells * q); w = new Float64Array(cells * q);
    for (let c = 0; c < cells; c++) {
      let sum = 0;
      for (let i = 0; i < q; i++) x[c * q + i] = F16[raw[c * m + i]] * scale;
      for (let i = 0; i < q - 1; i++) { const v = F16[raw[c * m + q + i]]; w[c * q + i] = v; sum += v; }
      w[c * q + q - 1] = 1 - sum;
    }
  }
  const sizes = new Int32Array(side);
  for (let r = 0; r < side; r++) sizes[r] = Math.min(factor, n - r * factor);
  const rowStart = new Int32Array(side); // index of cell (r, r) in the upper triangle
  for (let r = 1; r < side; r++) rowStart[r] = rowStart[r - 1] + (side - r + 1);
  return { n, side, factor, m, q: m > 0 ? (m + 1) / 2 : 0, kind, profile, order, s, x, w, sizes, rowStart };
}

// K at a grid of gammas (the workbench's user kernels): frames[g][r][c] as bytes over [lo, hi].
function parseFrames(buf) {
  const h = new Int32Array(buf, 0, 8);
  if (h[0] !== MAGIC_F) return null;
  const [n, side, factor, G] = [h[2], h[3], h[4], h[5]];
  const [lo, hi] = new Float64Array(buf, 32, 2);
  const lg = new Float64Array(buf, 48, G);
  const order = new Int32Array(buf, 48 + 8 * G, n);
  const frames = new Uint8Array(buf, 48 + 8 * G + 4 * n, G * side * side);
  const sizes = new Int32Array(side);
  for (let r = 0; r < side; r++) sizes[r] = Math.min(factor, n - r * factor);
  return { n, side, factor, m: 0, q: 0, kind: 0, profile: -1, order, sizes, frames, G, lg, lo, hi };
}

function parseExact(buf) {
  const h = new Int32Array(buf, 0, 8);
  if (h[0] !== MAGIC_K) return null;
  const [n, side, factor, profile, rows, token] = [h[2], h[3], h[4], h[5], h[6], h[7]];
  const [gamma, alpha] = new Float64Array(buf, 32, 2);
  const highlight = new Int32Array(buf, 48, rows);
  const K = new Float32Array(buf, 48 + 4 * rows, side * side);
  return { n, side, factor, profile, token, gamma, alpha, highlight, K };
}

class View {
  constructor(root) {
    this.root = root;
    const q = (sel) => root.querySelector(sel);
    this.canvas = q(".heatmap"); this.hist = q(".hist"); this.tip = q(".tip");
    this.slider = q(".slider"); this.fill = q(".fill"); this.thumb = q(".thumb");
    this.valueOut = q(".gamma-value"); this.status = q(".status");
    this.D = null; this.exact = null; this.step = 0; this.committed = null;
    this.dragging = false; this.keyTimer = null; this.pending = false;
    this.frames = 0; this.drawTimes = [];
    this.values = null; this.image = null; this.off = document.createElement("canvas");
    this.bindSlider(); this.bindHover();
    new ResizeObserver(() => this.request()).observe(this.canvas.parentElement);
  }

  setCallbacks(setStateValue, setTriggerValue) { this.setState = setStateValue; this.setTrigger = setTriggerValue; }

  setDistances(buf) {
    const D = parseDistances(buf) || parseFrames(buf);
    if (!D) return;
    this.D = D;
    this.values = new Float32Array(D.side * D.side);
    this.off.width = this.off.height = D.side;
    this.image = new ImageData(D.side, D.side);
    if (this.exact && this.exact.n !== D.n) this.exact = null;
    this.request();
  }

  setExact(buf) {
    const E = parseExact(buf);
    if (!E) return;
    this.exact = E;
    this.alpha = E.alpha;
    if (!this.dragging && this.keyTimer === null) { this.step = stepOf(E.gamma); this.committed = gammaAt(this.step); }
    this.request();
  }

  get gamma() { return gammaAt(this.step); }

  showsExact() {
    const E = this.exact, D = this.D;
    return !!(E && D && E.n === D.n && E.side === D.side && !this.dragging && this.keyTimer === null
      && Math.abs(E.gamma - this.gamma) <= 1e-9 * this.gamma);
  }

  // --- the slider ------------------------------------------------------------
  bindSlider() {
    const el = this.slider;
    const fromX = (x) => {
      const r = el.querySelector(".track").getBoundingClientRect();
      const t = Math.max(0, Math.min(1, (x - r.left) / r.width));
      return K_MIN + Math.round(t * (K_MAX - K_MIN));
    };
    el.addEventListener("pointerdown", (ev) => {
      el.setPointerCapture(ev.pointerId); el.focus(); this.dragging = true; this.move(fromX(ev.clientX));
    });
    el.addEventListener("pointermove", (ev) => { if (this.dragging) this.move(fromX(ev.clientX)); });
    const release = () => { if (this.dragging) { this.dragging = false; this.commit(); } };
    el.addEventListener("pointerup", release);
    el.addEventListener("pointercancel", release);
    el.addEventListener("keydown", (ev) => {
      const delta = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1,
        PageDown: -STEPS_PER_DECADE, PageUp: STEPS_PER_DECADE }[ev.key];
      let step = null;
      if (delta !== undefined) step = this.step + delta;
      else if (ev.key === "Home") step = K_MIN;
      else if (ev.key === "End") step = K_MAX;
      if (step === null) return;
      ev.preventDefault();
      this.move(step);
      clearTimeout(this.keyTimer); // one release per pause, not one per key press
      this.keyTimer = setTimeout(() => { this.keyTimer = null; this.commit(); }, 300);
    });
  }

  move(step) {
    step = Math.max(K_MIN, Math.min(K_MAX, step));
    if (step === this.step && this.frames > 0) return;
    this.step = step;
    this.request();
  }

  commit() {
    if (this.gamma !== this.committed && this.setState) {
      this.committed = this.gamma;
      this.setState("gamma", this.gamma);
    }
    this.request();
  }

  // --- drawing ---------------------------------------------------------------
  request() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  compute() {
    const D = this.D, g = this.gamma, out = this.values;
    const counts = new Float64Array(BINS);
    if (D.frames) { this.computeFrames(counts); this.counts = counts; return; }
    const k = profileFn(D.profile, g, this.alpha ?? 1);
    if (this.showsExact()) {
      out.set(this.exact.K);
      if (D.m === 0) for (let i = 0; i < D.n; i++) for (let j = 0; j < D.n; j++) if (i !== j) counts[bin(out[i * D.n + j])]++;
    } else if (D.m === 0) {
      const s = D.s, n = D.n;
      for (let i = 0; i < n * n; i++) out[i] = k(s[i]);
      for (let i = 0; i < n; i++) out[i * n + i] = 1; // k(x, x) = 1 whatever round-off s has
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) counts[bin(out[i * n + j])]++;
    }
    if (D.m > 0) this.computePooled(k, !this.showsExact(), counts);
    this.counts = counts;
  }

  // The workbench: K between the two precomputed gammas nearest this one (linear in
  // log gamma), or the exact pooled K of the released gamma.
  computeFrames(counts) {
    const D = this.D, side = D.side, cells = side * side, out = this.values, span = D.hi - D.lo;
    if (this.showsExact()) out.set(this.exact.K);
    else {
      const x = Math.log10(this.gamma), lg = D.lg, last = D.G - 1;
      let a = 0;
      while (a < last - 1 && lg[a + 1] <= x) a++;
      const b = Math.min(a + 1, last);
      const t = b === a ? 0 : Math.max(0, Math.min(1, (x - lg[a]) / (lg[b] - lg[a])));
      this.outside = x < lg[0] - 1e-9 || x > lg[last] + 1e-9;
      const A = D.frames.subarray(a * cells, (a + 1) * cells), B = D.frames.subarray(b * cells, (b + 1) * cells);
      for (let i = 0; i < cells; i++) {
        out[i] = A[i] === NOT_FINITE || B[i] === NOT_FINITE ? NaN
          : D.lo + span * ((1 - t) * A[i] + t * B[i]) / 254;
      }
    }
    for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) {
      const v = out[r * side + c];
      if (r !== c && Number.isFinite(v)) counts[bin((v - D.lo) / span)]++;
    }
  }

  computePooled(k, fill, counts) {
    // As core/scale/summary.py preview_from_rules: a block's off-diagonal pairs are
    // Σ w_i k(x_i) over its rule; the diagonal pairs (k = 1) are counted exactly.
    const D = this.D, q = D.q, side = D.side, x = D.x, w = D.w, out = this.values;
    let cell = 0;
    for (let r = 0; r < side; r++) {
      for (let c = r; c < side; c++, cell++) {
        const size = D.sizes[r] * D.sizes[c], diag = r === c ? D.sizes[r] : 0, off = size - diag;
        let sum = 0;
        for (let i = 0; i < q; i++) {
          const v = k(x[cell * q + i]), wi = w[cell * q + i];
          sum += wi * v;
          counts[bin(v)] += (r === c ? 1 : 2) * off * wi;
        }
        if (fill) { const v = (off * sum + diag) / size; out[r * side + c] = v; out[c * side + r] = v; }
      }
    }
  }

  draw() {
    if (!this.D) return;
    const t0 = performance.now();
    this.compute();
    this.col = this.colors(); // one style read per frame
    this.paintHeatmap(); this.paintHistogram(); this.paintSlider();
    this.frames++;
    this.drawTimes.push(t0);
    if (this.drawTimes.length > 2000) this.drawTimes.splice(0, 1000);
    this.canvas.dataset.frames = String(this.frames);
    this.canvas.dataset.shown = this.showsExact() ? "exact" : "preview";
    this.canvas.dataset.gamma = String(this.gamma);
    this.canvas.dataset.points = String(this.D.n); // the N of the N × N matrix drawn
    this.canvas.dataset.gammaText = `gamma = ${fmt(this.gamma)}`; // as the slider says it
  }

  colors() {
    const css = getComputedStyle(this.canvas);
    return { text: css.getPropertyValue("--st-text-color").trim() || "#31333f",
      grid: css.getPropertyValue("--st-border-color").trim() || "#d5dae5",
      accent: css.getPropertyValue("--st-primary-color").trim() || "#ff4b4b",
      font: css.getPropertyValue("--st-font").trim() || "sans-serif" };
  }

  layout() {
    const w = Math.max(280, Math.floor(this.canvas.parentElement.clientWidth || 480));
    const L = 52, T = 34, R = 78, B = 12, plot = Math.max(120, w - L - R);
    return { w, h: plot + T + B, L, T, plot };
  }

  paintHeatmap() {
    const D = this.D, side = D.side, px = this.image.data, v = this.values;
    const lo = D.lo ?? 0, span = (D.hi ?? 1) - lo;
    for (let i = 0; i < side * side; i++) {
      if (!Number.isFinite(v[i])) { px[4 * i] = px[4 * i + 1] = px[4 * i + 2] = 128; px[4 * i + 3] = 255; continue; }
      const c = 3 * Math.max(0, Math.min(255, Math.round(((v[i] - lo) / span) * 255)));
      px[4 * i] = LUT[c]; px[4 * i + 1] = LUT[c + 1]; px[4 * i + 2] = LUT[c + 2]; px[4 * i + 3] = 255;
    }
    this.off.getContext("2d").putImageData(this.image, 0, 0);
    const { w, h, L, T, plot } = this.geom = this.layout();
    const dpr = window.devicePixelRatio || 1, cv = this.canvas, col = this.col;
    if (cv.width !== Math.round(w * dpr)) { cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr); cv.style.height = h + "px"; }
    const ctx = cv.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    // Axes and colour bar change only with size, theme or data: drawn once, then copied.
    const frameKey = `${w}|${dpr}|${col.text}|${col.grid}|${col.font}|${D.n}|${D.lo}|${D.hi}`;
    if (this.frameKey !== frameKey) { this.frame = this.paintFrame(w, h, L, T, plot, dpr, col); this.frameKey = frameKey; }
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(this.frame, 0, 0, w, h);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.off, L, T, plot, plot);
    if (this.exact && this.exact.n === D.n) { // rows of the points selected in the scatter
      ctx.strokeStyle = col.accent; ctx.lineWidth = 1;
      for (const r of this.exact.highlight) {
        const y = T + (Math.floor(r / D.factor) + 0.5) * plot / side;
        ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + plot, y); ctx.stroke();
      }
    }
  }

  paintFrame(w, h, L, T, plot, dpr, col) {
    const D = this.D, frame = document.createElement("canvas");
    frame.width = Math.round(w * dpr); frame.height = Math.round(h * dpr);
    const ctx = frame.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = col.text; ctx.font = `11px ${col.font}`;
    ctx.textAlign = "center"; ctx.textBaseline = "bottom";
    ctx.fillText("column j (display order)", L + plot / 2, 12);
    for (const t of niceTicks(D.n)) {
      const p = (t / D.n) * plot;
      ctx.textBaseline = "bottom"; ctx.textAlign = "center"; ctx.fillText(String(t), L + p, T - 3);
      ctx.textAlign = "right"; ctx.textBaseline = "middle"; ctx.fillText(String(t), L - 4, T + p);
    }
    ctx.save(); ctx.translate(12, T + plot / 2); ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.fillText("row i", 0, 0); ctx.restore();
    const x0 = L + plot + 14, bw = 14; // colour bar, k from 0 (bottom) to 1 (top)
    for (let y = 0; y < plot; y++) {
      const c = 3 * Math.round(255 * (1 - y / plot));
      ctx.fillStyle = `rgb(${LUT[c]},${LUT[c + 1]},${LUT[c + 2]})`; ctx.fillRect(x0, T + y, bw, 1.5);
    }
    // A frame in the theme's border colour: viridis's dark end would melt into a dark page.
    ctx.strokeStyle = col.grid; ctx.lineWidth = 1;
    ctx.strokeRect(x0 - 0.5, T - 0.5, bw + 1, plot + 1); ctx.strokeRect(L - 0.5, T - 0.5, plot + 1, plot + 1);
    ctx.fillStyle = col.text; ctx.textAlign = "left"; ctx.textBaseline = "middle";
    for (const t of [0, 0.25, 0.5, 0.75, 1]) ctx.fillText(tickLabel(D, t), x0 + bw + 4, T + (1 - t) * plot);
    ctx.textBaseline = "bottom"; ctx.fillText("k", x0, T - 3);
    return frame;
  }

  paintHistogram() {
    const cv = this.hist, w = Math.max(220, Math.floor(cv.parentElement.clientWidth || 300)), h = 200;
    const dpr = window.devicePixelRatio || 1, col = this.col;
    if (cv.width !== Math.round(w * dpr)) { cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr); cv.style.height = h + "px"; }
    const ctx = cv.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0); ctx.clearRect(0, 0, w, h);
    const L = 8, R = 8, T = 22, B = 30, pw = w - L - R, ph = h - T - B;
    let max = 0; for (const c of this.counts) max = Math.max(max, c);
    ctx.fillStyle = col.accent;
    for (let b = 0; b < BINS; b++) {
      const bh = max > 0 ? (this.counts[b] / max) * ph : 0;
      ctx.fillRect(L + (b / BINS) * pw, T + ph - bh, pw / BINS, bh);
    }
    ctx.fillStyle = col.text; ctx.font = `11px ${col.font}`; ctx.textBaseline = "top";
    for (const t of [0, 0.5, 1]) { ctx.textAlign = t === 0 ? "left" : t === 1 ? "right" : "center"; ctx.fillText(tickLabel(this.D, t), L + t * pw, T + ph + 4); }
    ctx.textAlign = "center"; ctx.fillText("k(xᵢ, xⱼ), i ≠ j", L + pw / 2, T + ph + 16);
    const what = this.D.frames ? (this.D.factor > 1 ? "pooled cells" : "pairs") : this.D.m > 0 ? "pairs (from each block's rule)" : "pairs";
    ctx.textAlign = "left"; ctx.fillText(what, L, 4);
  }

  paintSlider() {
    const t = (this.step - K_MIN) / (K_MAX - K_MIN), g = this.gamma;
    this.fill.style.width = `${100 * t}%`; this.thumb.style.left = `${100 * t}%`;
    const s = this.slider;
    s.setAttribute("aria-valuemin", "0.000001"); s.setAttribute("aria-valuemax", "10000");
    s.setAttribute("aria-valuenow", String(g)); s.setAttribute("aria-valuetext", `gamma = ${fmt(g)}`);
    this.valueOut.textContent = fmt(g);
    const D = this.D, exact = this.showsExact();
    let text;
    if (D.frames) text = this.framesStatus(exact);
    else if (exact) text = D.m > 0 ? `Exact K from core at gamma = ${fmt(g)}, pooled: each cell the mean of a ${D.factor}×${D.factor} block.`
      : `Exact K from core at gamma = ${fmt(g)}.`;
    else if (this.dragging || this.keyTimer !== null) text = D.m > 0
      ? `Preview while you drag: each ${D.factor}×${D.factor} block from a ${D.q}-point rule for its distances. The exact pooled K replaces it on release.`
      : `Preview while you drag: exp(−gamma·d²) of the distances in your browser. The exact K from core replaces it on release.`;
    else text = `Computing the exact K for gamma = ${fmt(g)}…`;
    if (this.status.textContent !== text) this.status.textContent = text;
  }

  framesStatus(exact) {
    const D = this.D, g = fmt(this.gamma), pooled = D.factor > 1 ? `, pooled: each cell the mean of a ${D.factor}×${D.factor} block` : "";
    if (exact) return `Exact K of your kernel at gamma = ${g}${pooled}.`;
    if (this.dragging || this.keyTimer !== null) {
      const range = `${fmt(10 ** D.lg[0], 3)} to ${fmt(10 ** D.lg[D.G - 1], 3)}`;
      return this.outside
        ? `Outside the ${D.G} precomputed gammas (${range}): showing the nearest. The exact K replaces it on release.`
        : `Preview while you drag: K at ${D.G} gammas from ${range}, computed at once by one more vmap and interpolated in your browser. The exact K replaces it on release.`;
    }
    return `Computing the exact K for gamma = ${g}…`;
  }

  // --- hover and click ---------------------------------------------------------
  cellAt(ev) {
    const g = this.geom, D = this.D;
    if (!g || !D) return null;
    const r = this.canvas.getBoundingClientRect();
    const x = ev.clientX - r.left - g.L, y = ev.clientY - r.top - g.T;
    if (x < 0 || y < 0 || x >= g.plot || y >= g.plot) return null;
    return { r: Math.floor((y / g.plot) * D.side), c: Math.floor((x / g.plot) * D.side), x: x + g.L, y: y + g.T };
  }

  bindHover() {
    this.canvas.addEventListener("pointermove", (ev) => {
      const cell = this.cellAt(ev);
      if (!cell) { this.tip.hidden = true; return; }
      // Text nodes only (textContent): the second line, how k was found, smaller.
      const [head, how] = this.describe(cell.r, cell.c).split("\n\n");
      this.tip.textContent = head;
      if (how) { const note = document.createElement("div"); note.className = "tip-how"; note.textContent = how; this.tip.append(note); }
      this.tip.hidden = false;
      // Right of the pointer where it fits, else left of it, never past the canvas's
      // left edge (a pooled cell's line is wider than the space left of a mid cell).
      const width = this.tip.offsetWidth;
      const left = cell.x + 12 + width <= this.geom.w ? cell.x + 12 : Math.max(0, cell.x - 12 - width);
      this.tip.style.left = `${left}px`; this.tip.style.right = "";
      this.tip.style.top = `${cell.y + 12}px`;
    });
    this.canvas.addEventListener("pointerleave", () => { this.tip.hidden = true; });
    this.canvas.addEventListener("click", (ev) => {
      const cell = this.cellAt(ev);
      if (cell && this.setTrigger) this.setTrigger("picked", { i: cell.r * this.D.factor, j: cell.c * this.D.factor });
    });
  }

  describe(r, c) {
    const D = this.D, g = this.gamma, k = this.values[r * D.side + c];
    if (D.frames) {
      const exact = this.showsExact() ? "exact" : "preview";
      if (D.factor === 1) return `i = ${D.order[r]} (row ${r}), j = ${D.order[c]} (col ${c})\ngamma = ${fmt(g)}\nk = ${fmt(k)} (${exact})`;
      const lo = (a) => a * D.factor, hi = (a) => a * D.factor + D.sizes[a] - 1;
      return `rows ${lo(r)}–${hi(r)} × cols ${lo(c)}–${hi(c)} (display order)\n`
        + `${D.sizes[r]}×${D.sizes[c]} pairs pooled\ngamma = ${fmt(g)}\nmean k = ${fmt(k)} (${exact})`;
    }
    const s = D.kind === 1 ? "|x−y|₁" : "d²", exact = this.showsExact() ? "exact" : "preview";
    if (D.m === 0) {
      return `i = ${D.order[r]} (row ${r}), j = ${D.order[c]} (col ${c})\n${s} = ${fmt(D.s[r * D.n + c])}\n`
        + `gamma = ${fmt(g)}\nk = ${fmt(k)} (${exact})`;
    }
    // Which rows and columns the cell pools, and its mean k: the rule's estimate while
    // dragging, the exact block mean after release. The rule itself (nodes, weights)
    // is how the estimate is made, not what the cell is: a short second line says which.
    const lo = (a) => a * D.factor, hi = (a) => a * D.factor + D.sizes[a] - 1;
    const how = this.showsExact() ? `exact block mean of core's K at gamma = ${fmt(g)}`
      : `estimate from the cell's 4-point ${s} rule at gamma = ${fmt(g)}; exact on release`;
    return `rows ${lo(r)}–${hi(r)} × cols ${lo(c)}–${hi(c)} (${D.sizes[r]}×${D.sizes[c]} points `
      + `pooled), mean k = ${fmt(k, 3)}\n\n${how}`;
  }
}

function tickLabel(D, t) { const lo = D.lo ?? 0, hi = D.hi ?? 1; return lo === 0 && hi === 1 ? String(t) : fmt(lo + t * (hi - lo), 3); }
function bin(v) { return Math.max(0, Math.min(BINS - 1, Math.floor(v * BINS))); }
function niceTicks(n) {
  const raw = n / 4, p = 10 ** Math.floor(Math.log10(raw)), step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
  const out = []; for (let t = 0; t < n; t += step) out.push(t); return out;
}

export default function (component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  let view = VIEWS.get(parentElement);
  if (!view) { view = new View(parentElement); VIEWS.set(parentElement, view); }
  view.setCallbacks(setStateValue, setTriggerValue);
  const channel = (window.__vmapLiveGram ||= {});
  channel.view = view;
  if (data) view.setDistances((data instanceof ArrayBuffer ? new Uint8Array(data) : data).slice().buffer);
  if (channel.exact) view.setExact(channel.exact);
}
