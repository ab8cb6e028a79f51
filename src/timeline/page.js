"use strict";
var pinned = null; // the element whose detail stays shown
// Errors are counted on <body> so that a headless browser's --dump-dom shows them.
(function () {
  const errors = [];
  const note = (m) => { errors.push(String(m)); document.body.dataset.errors = String(errors.length); document.body.dataset.errorText = errors.join(" | "); };
  window.addEventListener("error", (e) => note(e.message));
  window.addEventListener("unhandledrejection", (e) => note(e.reason));
  const consoleError = console.error.bind(console);
  console.error = (...a) => { note(a.join(" ")); consoleError(...a); };
  document.body.dataset.errors = "0";
  try { draw(JSON.parse(document.getElementById("trace-data").textContent)); } catch (e) { note(e && e.stack || e); }
})();

function draw(D) {
  const NS = "http://www.w3.org/2000/svg";
  const TOP = 58, LEFT = 24, MIN_GAP = 12, MAX_GAP = 90, BREAK_W = 56;
  // Lanes share the height there is, within bounds.
  const room = document.getElementById("scroll").clientHeight - TOP - 24;
  const LANE_H = Math.max(66, Math.min(170, Math.floor(room / D.lanes.length)));
  const svg = document.getElementById("chart");
  const el = (tag, attrs, parent) => {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    (parent || svg).appendChild(e);
    return e;
  };
  // A colour as a style: the stylesheet's default text colour would beat a fill attribute.
  const text = (s, attrs, parent) => { const t = el("text", attrs, parent); t.textContent = s; if (attrs.fill) t.style.fill = attrs.fill; return t; };
  const tip = (g, s) => { const t = document.createElementNS(NS, "title"); t.textContent = s; g.appendChild(t); };

  // ---- the axis: every instant where something happens, quiet gaps squeezed to a labelled break ----
  const times = new Set([0, D.end]);
  const addT = (t) => { if (typeof t === "number") times.add(t); };
  D.attempts.forEach((a) => { addT(a.t0); addT(a.tr); addT(a.t1); });
  D.emails.forEach((m) => { addT(m.t0); addT(m.t1); });
  D.marks.forEach((m) => addT(m.t));
  D.bands.forEach((b) => { addT(b.t0); addT(b.t1); });
  D.failures.forEach((f) => addT(f.t));
  const ts = [...times].sort((a, b) => a - b);
  const gaps = ts.slice(1).map((t, i) => t - ts[i]).filter((g) => g > 0).sort((a, b) => a - b);
  const median = gaps.length ? gaps[Math.floor(gaps.length / 2)] : 1;
  const k = 30 / median; // px per ms: a typical gap is 30 px wide
  const widths = ts.slice(1).map((t, i) => {
    const w = (t - ts[i]) * k;
    return w > MAX_GAP ? -BREAK_W : Math.max(MIN_GAP, w); // negative: a break
  });
  // A short run is stretched to the width there is.
  const avail = document.getElementById("scroll").clientWidth - LEFT - 170;
  const sum = widths.reduce((a, w) => a + Math.abs(w), 0);
  const stretch = sum > 0 ? Math.max(1, avail / sum) : 1;
  const xs = new Map(), breaks = [];
  let x = LEFT;
  xs.set(ts[0], x);
  widths.forEach((w, i) => {
    const px = Math.abs(w) * stretch;
    if (w < 0) breaks.push({ x0: x, x1: x + px, g: ts[i + 1] - ts[i] });
    x += px;
    xs.set(ts[i + 1], x);
  });
  const X = (t) => xs.get(t);
  const width = x + 160, lanes = D.lanes, height = TOP + lanes.length * LANE_H + 12;
  svg.setAttribute("width", width); svg.setAttribute("height", height);
  const Y = (lane) => TOP + lane * LANE_H + LANE_H / 2;

  const defs = el("defs", {});
  const arrow = (id, color) => {
    const m = el("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill: color }, m);
  };
  [["a-req", "#2b6cb0"], ["a-ok", "#1f9d55"], ["a-fail", "#d64545"], ["a-broken", "#8e44ad"], ["a-grey", "#8a8f9c"], ["a-mail", "#6c5ce7"]].forEach(([i, c]) => arrow(i, c));
  const hatch = el("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
  el("rect", { width: 6, height: 6, fill: "#f1f2f6" }, hatch);
  el("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#dcdfe8", "stroke-width": 3 }, hatch);

  // ---- lanes ----
  const laneBox = document.getElementById("lanes");
  laneBox.style.paddingTop = "0";
  lanes.forEach((name, i) => {
    el("rect", { x: 0, y: TOP + i * LANE_H, width, height: LANE_H, fill: i % 2 ? "#ffffff" : "#f7f8fb" });
    el("line", { x1: 0, x2: width, y1: Y(i), y2: Y(i), stroke: "#e3e6ee", "stroke-width": 1 });
    const d = document.createElement("div");
    d.style.top = TOP + i * LANE_H + "px"; d.style.height = LANE_H + "px";
    d.textContent = name;
    const small = document.createElement("small");
    small.textContent = i === 0 ? "sender" : i === D.mail ? "warning emails" : "receiver";
    const wrap = document.createElement("span"); wrap.appendChild(d.firstChild); wrap.appendChild(small);
    d.appendChild(wrap);
    laneBox.appendChild(d);
  });
  laneBox.style.height = height + "px";

  // ---- quiet gaps ----
  breaks.forEach((b) => {
    const g = el("g", { class: "gap" });
    el("rect", { x: b.x0 + 6, y: TOP, width: b.x1 - b.x0 - 12, height: lanes.length * LANE_H, fill: "url(#hatch)" }, g);
    text(dur(b.g), { x: (b.x0 + b.x1) / 2, y: TOP - 8, "text-anchor": "middle" }, g);
    tip(g, dur(b.g) + " with nothing happening, squeezed");
  });

  // ---- fault bands ----
  const bandColor = { crash: "rgba(214,69,69,0.13)", partition: "rgba(221,107,32,0.14)", hold: "rgba(43,108,176,0.12)" };
  D.bands.forEach((b) => {
    const g = el("g", { class: "band" });
    const x0 = X(b.t0), x1 = Math.max(X(b.t1), x0 + 4);
    const ls = b.lanes.length ? b.lanes : lanes.map((_, i) => i);
    ls.forEach((l) => el("rect", { x: x0, y: TOP + l * LANE_H + 3, width: x1 - x0, height: LANE_H - 6, rx: 4, fill: bandColor[b.kind] || "rgba(0,0,0,0.08)" }, g));
    text(b.text, { x: x0 + 4, y: TOP + Math.min(...ls) * LANE_H + 14, fill: "#7a3e3e" }, g).style.fontWeight = "600";
    tip(g, b.text + (b.end ? " … " + b.end : " (to the end)"));
    hover(g, () => [b.text, fmt(b.t0) + " → " + fmt(b.t1) + (b.end ? " (" + b.end + ")" : ", still on at the end"), null]);
  });

  // ---- the time axis ----
  const axis = el("g", { class: "axis" });
  let lastX = -1e9;
  ts.forEach((t) => {
    const px = X(t);
    if (px - lastX < 118) return;
    lastX = px;
    el("line", { x1: px, x2: px, y1: TOP - 4, y2: TOP, stroke: "#9aa1b0" }, axis);
    text(fmt(t, true), { x: px, y: TOP - 24, "text-anchor": "middle" }, axis);
  });

  // ---- attempts: a request arrow down to the receiver, an answer arrow back ----
  let drawn = 0;
  D.attempts.forEach((a) => {
    const x0 = X(a.t0), y0 = Y(0), y1 = Y(a.lane);
    // A status means the request reached the receiver, even when the receiver traced nothing.
    const answered = a.class === "ok" || a.class === "fail";
    const arrived = typeof a.tr === "number" || answered;
    const xr = typeof a.tr === "number" ? X(a.tr) : answered ? (x0 + X(a.t1)) / 2 : x0 + 8;
    const yr = arrived ? y1 - 4 : y0 + (y1 - y0) * 0.55;
    const g = el("g", { class: "attempt" + (arrived ? "" : " undelivered"), "data-attempt": a.id });
    el("line", { class: "hit", x1: x0, y1: y0, x2: xr, y2: yr }, g);
    el("line", { class: "vis", x1: x0, y1: y0 + 4, x2: xr, y2: yr, "marker-end": arrived ? "url(#a-req)" : "" }, g);
    if (!arrived) text("\u2715", { x: xr - 4, y: yr + 4, fill: a.class === "broken" ? "#8e44ad" : "#8a8f9c" }, g);
    if (typeof a.tr === "number") el("circle", { cx: xr, cy: y1, r: 3.2, fill: a.acted ? "#1f9d55" : "#ffffff", stroke: a.acted ? "#1f9d55" : "#8a8f9c" }, g);
    const info = () => ["Attempt " + a.n + " of event " + a.event + " → " + lanes[a.lane],
      [a.webhook, "delivery " + a.delivery, "started " + fmt(a.t0),
        typeof a.tr === "number" ? "receiver " + a.receiver + " at " + fmt(a.tr) : arrived ? "" : "never reached the receiver",
        a.outcome ? "answer: " + a.outcome + " at " + fmt(a.t1) : "no answer by the end",
        a.retry || "", a.verdict || ""].filter(Boolean).join(" · "),
      pretty(a.body) + (a.body_cut ? "\n… (body cut for the page)" : "")];
    hover(g, info);
    tip(g, "attempt " + a.n + " of event " + a.event + (a.outcome ? ": " + a.outcome : ""));
    drawn++;
    if (typeof a.t1 !== "number") return;
    const x1 = X(a.t1);
    const cls = a.class || "timeout";
    const ga = el("g", { class: "answer " + cls });
    if (arrived && (cls === "ok" || cls === "fail" || cls === "broken")) {
      el("line", { class: "hit", x1: xr, y1: y1, x2: x1, y2: y0 }, ga);
      el("line", { class: "vis", x1: xr + 1, y1: y1 - 4, x2: x1, y2: y0 + 3, "marker-end": "url(#a-" + cls + ")" }, ga);
      const code = String(a.outcome).length <= 3 ? a.outcome : "";
      if (code) text(code, { x: x1 + 4, y: y0 + 16, fill: cls === "ok" ? "#1f9d55" : "#d64545" }, ga).style.fontWeight = "600";
    } else if (!arrived && cls === "broken") {
      // Refused or reset before the request got through: the request's own cross says it all.
    } else {
      // No answer came back: a timeout (or a crash) ends the attempt at the dispatcher.
      el("circle", { cx: x1, cy: y0, r: 4.5, fill: "#fff", stroke: "#8a8f9c", "stroke-width": 1.5 }, ga);
      el("line", { class: "vis", x1: x1, y1: y0 - 2.5, x2: x1, y2: y0, stroke: "#8a8f9c" }, ga);
      el("circle", { class: "hit", cx: x1, cy: y0, r: 8 }, ga);
      if (arrived) {
        // The receiver answered, but the answer never came back: it dies half way.
        // (A request held past its timeout arrives after it: its answer still runs forward.)
        const ym = y1 - (y1 - y0) * 0.45, xm = xr + Math.max(14, (x1 - xr) * 0.45);
        el("line", { class: "vis", x1: xr + 1, y1: y1 - 4, x2: xm, y2: ym }, ga);
        text("\u2715", { x: xm - 4, y: ym - 2, fill: "#8a8f9c" }, ga);
      }
    }
    hover(ga, info);
    tip(ga, (a.outcome || "timeout") + " for attempt " + a.n + " of event " + a.event);
  });
  document.body.dataset.attempts = String(drawn);

  // ---- warning emails: dispatcher to mail ----
  D.emails.forEach((m) => {
    const g = el("g", { class: "email" });
    const x0 = X(m.t0), got = typeof m.t1 === "number", x1 = got ? X(m.t1) : x0 + 20;
    el("line", { class: "hit", x1: x0, y1: Y(0), x2: x1, y2: Y(D.mail) }, g);
    el("line", { class: "vis", x1: x0, y1: Y(0) + 4, x2: x1, y2: Y(D.mail) - 6, "marker-end": "url(#a-mail)" }, g);
    text("\u2709", { x: x1 + 6, y: Y(D.mail) + 4, fill: "#6c5ce7" }, g).style.fontSize = "15px";
    text(got ? "warning" : "warning (not received)", { x: x1 + 22, y: Y(D.mail) + 4, fill: "#6c5ce7" }, g);
    hover(g, () => ["Warning email", m.text + " · sent " + fmt(m.t0) + (got ? " · received " + fmt(m.t1) : " · never received"), null]);
  });

  // ---- marks ----
  const glyph = {
    event: ["\u25CF", "#2b6cb0"], refused: ["\u2298", "#8a8f9c"], abandoned: ["\u2715", "#d64545"],
    disabled: ["\u25A0", "#d64545"], enabled: ["\u25B2", "#1f9d55"], world: ["\u25C6", "#b7791f"],
    late: ["\u25CB", "#8a8f9c"], acted: ["\u25CF", "#1f9d55"], skipped: ["\u25CB", "#8a8f9c"], email: ["\u2709", "#6c5ce7"],
  };
  const labelled = { disabled: "disabled", enabled: "", abandoned: "gave up", refused: "refused", late: "late answer" };
  // Marks closer than a label's width on one lane stack up (or down) instead of overlapping.
  const stack = new Map();
  D.marks.forEach((m) => {
    const [ch, color] = glyph[m.kind] || ["\u25C6", "#6b7385"];
    const prev = stack.get(m.lane), near = prev && X(m.t) - prev.x < 30;
    const n = near ? prev.n + 1 : 0;
    stack.set(m.lane, { x: near ? prev.x : X(m.t), n });
    const px = X(m.t), py = Y(m.lane) + (m.lane === 0 ? -14 - n * 11 : 20 + n * 11);
    const g = el("g", { class: "mark " + m.kind });
    el("circle", { class: "hit", cx: px, cy: py - 4, r: 8 }, g);
    text(ch, { x: px, y: py, "text-anchor": "middle", fill: color }, g).style.fontSize = m.kind === "event" ? "9px" : "12px";
    const label = m.kind === "enabled" ? m.text.split(" ").slice(-1)[0] : m.kind === "event" ? m.text.split(":")[0].replace("event ", "e") : labelled[m.kind];
    if (label) text(label, { x: px + 8, y: py, fill: color }, g).style.fontWeight = "600";
    tip(g, fmt(m.t) + "  " + m.text);
    hover(g, () => [m.text, fmt(m.t), null]);
  });

  // ---- failed expectations ----
  const list = document.getElementById("failures");
  D.failures.forEach((f, i) => {
    const g = el("g", { class: "failure" });
    const px = X(f.t);
    el("line", { x1: px, x2: px, y1: TOP - 14, y2: height - 6 }, g);
    text("\u2717 " + (i + 1), { x: px + 3, y: TOP - 6 }, g);
    tip(g, fmt(f.t) + "  " + f.text);
    const li = document.createElement("li");
    li.textContent = (i + 1) + ". " + fmt(f.t) + ": " + f.text;
    li.addEventListener("click", () => { document.getElementById("scroll").scrollLeft = Math.max(0, px - 200); });
    list.appendChild(li);
  });

  // ---- header: summary, limits, legend ----
  const count = (k) => D.marks.filter((m) => m.kind === k).length;
  const ok = D.attempts.filter((a) => a.class === "ok").length;
  const summary = document.getElementById("summary");
  [[D.attempts.length, " attempts"], [ok, " answered 2xx"], [D.emails.length, " warnings"], [count("disabled"), " disables"],
    [count("abandoned"), " given up"], [D.bands.length, " faults"], [fmt(D.end), " end"]].forEach(([v, s], i) => {
    if (i) summary.appendChild(document.createTextNode(" · "));
    const b = document.createElement("b"); b.textContent = String(v); summary.appendChild(b);
    summary.appendChild(document.createTextNode(s));
  });
  if (D.cut) {
    document.getElementById("cut").textContent = "Cut at " + fmt(D.cut.t) + ": the first " + D.attempts.length + " of " + D.cut.attempts +
      " attempts are drawn (limits: " + D.cut.attempts_max + " attempts, " + D.cut.entries_max + " of the trace's " + D.cut.entries + " entries).";
  }
  const legend = document.getElementById("legend");
  [["request", "#2b6cb0"], ["2xx", "#1f9d55"], ["error status", "#d64545"], ["refused / reset", "#8e44ad"], ["warning email", "#6c5ce7"]].forEach(([s, c]) => {
    const span = document.createElement("span"), i = document.createElement("i");
    i.style.borderColor = c; span.appendChild(i); span.appendChild(document.createTextNode(s)); legend.appendChild(span);
  });
  [["crash", bandColor.crash], ["partition", bandColor.partition], ["hold", bandColor.hold], ["quiet time (length above)", "#e6e8ef"]].forEach(([s, c]) => {
    const span = document.createElement("span"), i = document.createElement("i");
    i.className = "band"; i.style.background = c; span.appendChild(i); span.appendChild(document.createTextNode(s)); legend.appendChild(span);
  });
  const o = document.createElement("span"); o.textContent = "\u25CB timeout  \u25CF acted  \u25CB skipped  \u25A0 disabled  \u2298 refused"; legend.appendChild(o);
  // `page.html#attempt=N` opens with attempt N shown and pinned.
  const want = /attempt=(\d+)/.exec(location.hash);
  const pin = want && svg.querySelector('.attempt[data-attempt="' + want[1] + '"]');
  if (pin) { pin.dispatchEvent(new MouseEvent("click")); document.getElementById("scroll").scrollLeft = Math.max(0, pin.getBBox().x - 300); }
  // `page.html#at=MS` opens scrolled to the first instant at or after MS (a failure's time).
  const at = /at=(\d+)/.exec(location.hash), near = at && ts.find((t) => t >= Number(at[1]));
  if (near !== undefined && near !== null) document.getElementById("scroll").scrollLeft = Math.max(0, X(near) - 300);
  document.body.dataset.rendered = "1";

  // ---- detail panel: hover shows, click pins ----
  function hover(g, info) {
    g.addEventListener("mouseenter", () => { if (!pinned) show(info()); });
    g.addEventListener("click", () => {
      if (pinned) pinned.classList.remove("sel");
      pinned = pinned === g ? null : g;
      if (pinned) g.classList.add("sel");
      show(info());
    });
  }
  function show([title, meta, body]) {
    const d = document.getElementById("detail");
    d.replaceChildren();
    const h = document.createElement("h2"); h.textContent = title; d.appendChild(h);
    const p = document.createElement("p"); p.className = "meta"; p.textContent = meta; d.appendChild(p);
    if (body != null) { const pre = document.createElement("pre"); pre.textContent = body; d.appendChild(pre); }
  }
}

function pretty(body) {
  try { return JSON.stringify(JSON.parse(body), null, 2); } catch (e) { return String(body); }
}
function fmt(ms, coarse) {
  const d = Math.floor(ms / 86400000), h = Math.floor(ms / 3600000) % 24, m = Math.floor(ms / 60000) % 60;
  const s = Math.floor(ms / 1000) % 60, r = ms % 1000, p = (v, n) => String(v).padStart(n || 2, "0");
  return (d ? d + "d " : "") + p(h) + ":" + p(m) + ":" + p(s) + (r && !coarse ? "." + p(r, 3) : "");
}
function dur(ms) {
  const parts = [[86400000, "d"], [3600000, "h"], [60000, "m"], [1000, "s"], [1, "ms"]];
  const out = [];
  for (const [u, s] of parts) { if (ms >= u && out.length < 2) { out.push(Math.floor(ms / u) + s); ms %= u; } }
  return out.join(" ") || "0ms";
}
