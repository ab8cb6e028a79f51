"use strict";
// The receiver's page: polls /deliveries and draws them, newest first. Everything a sender
// sent is set with textContent, never as markup.
const POLL_MS = 1000;
(function () {
  const errors = [];
  const note = (m) => { errors.push(String(m)); document.body.dataset.errors = String(errors.length); document.body.dataset.errorText = errors.join(" | "); };
  window.addEventListener("error", (e) => note(e.message));
  window.addEventListener("unhandledrejection", (e) => note(e.reason));
  const consoleError = console.error.bind(console);
  console.error = (...a) => { note(a.join(" ")); consoleError(...a); };
  document.body.dataset.errors = "0";
  let last = -1;
  const poll = () => fetch("/deliveries", { cache: "no-store" })
    .then((r) => r.json())
    .then((d) => { if (d.received !== last) { last = d.received; draw(d); } })
    .catch((e) => note(e && e.stack || e))
    .finally(() => setTimeout(poll, POLL_MS));
  poll();
})();

function el(tag, cls, text, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

const MARKS = {
  "acted": "acted",
  "duplicate-uuid": "duplicate uuid",
  "stale-state": "stale state",
  "unhandled-path": "unhandled path",
  "rejected-signature": "rejected signature",
  "unreadable-body": "unreadable body",
  "effects-full": "effects list full (503)",
};

function draw(d) {
  document.getElementById("title").textContent = "hooksim receiver (" + d.kind + ")";
  const shown = d.deliveries.length;
  document.getElementById("summary").textContent = d.received === 0
    ? "waiting for deliveries… (this page refreshes by itself)"
    : d.received + " received; the newest " + shown + " shown (at most " + d.shown_max + "), newest first";
  const list = document.getElementById("list");
  list.replaceChildren();
  if (shown === 0) el("p", "empty", "Nothing yet: POST a delivery to /webhook.", list);
  for (const r of d.deliveries) {
    const box = el("section", "delivery " + r.verdict, undefined, list);
    box.dataset.mark = r.mark;
    const line = el("div", "line", undefined, box);
    el("span", "verdict", "#" + r.number + " " + r.verdict, line);
    el("span", "mark", MARKS[r.mark] || r.mark, line);
    el("span", "ids", "HTTP " + r.status, line);
    if (r.uuid) el("span", "ids", "uuid " + r.uuid, line);
    if (r.event !== null && r.event !== undefined) el("span", "ids", "event " + r.event, line);
    el("p", "why", r.why, box);
    el("pre", "body", r.body === "" ? "(body not read)" : r.body, box);
  }
  document.body.dataset.deliveries = String(shown);
  document.body.dataset.rendered = "1";
}
