// A receiver of GitHub's own deliveries (`X-GitHub-Event`, `X-GitHub-Delivery`, the event's JSON),
// verifying `X-Hub-Signature-256` with the official @octokit/webhooks-methods, written to hooksim's
// effects contract (docs/certify.md). What `hooksim certify receiver --provider github` sends.
//
//   npm ci --prefix examples/receivers/providers
//   node examples/receivers/providers/github_receiver.mjs --secret S [--defect D]
//   hooksim certify receiver --provider github --url BASE/webhook --effects-url BASE/effects --secret S
//
// It prints its base URL on the first line of stdout. Correct: it verifies the raw body before
// parsing (401 otherwise), reads the event (400 when it cannot), claims the `X-GitHub-Delivery`
// GUID before acting (GitHub's documented dedup id, kept by a redelivery), and fulfils the plan
// (hooksim's invoice) of a `marketplace_purchase` `purchased` event, unless a `cancelled` event of
// the same plan with a later `effective_date` was seen (a late delivery is the event as it was
// then: its time tells it is older than the cancellation). With --api-url URL (the REST API;
// `hooksim certify receiver --provider github --api-port N` serves a simulated one at
// http://127.0.0.1:N) it follows GitHub's advice before fulfilling: it lists the accounts on the
// plan now (`GET /marketplace_listing/plans/{id}/accounts`) and fulfils only a plan still held
// (a failed fetch is answered 503, unclaimed). Ids are kept for the process's life. Defects, as
// provider_receiver.py's:
//   reserialises        hands the library JSON.stringify(JSON.parse(body)), not the bytes received
//   short-dedup-window  forgets an id once it has seen an event 3 min newer (on the events' own
//                       clock, `effective_date`): shorter than GitHub's 3-day redelivery window
//   trusts-snapshot     fulfils the `purchased` snapshot without asking the API (fails
//                       paid-carrying-cancelled)
import { createServer } from "node:http";
import { verify } from "@octokit/webhooks-methods";

const arg = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const SECRET = arg("--secret");
const DEFECT = arg("--defect");
const API_URL = arg("--api-url")?.replace(/\/$/, "");
const API_TIMEOUT_MS = 5000;
const SHORT_WINDOW_S = 180;
const effects = []; // one entry per act
const claimed = new Map(); // delivery GUID -> the event's time (unix seconds)
const cancelled = new Map(); // plan id -> the time of the newest cancellation seen
let newest = null; // the newest event time seen (the short window's clock)

if (!SECRET) {
  console.error("usage: github_receiver.mjs --secret S [--defect reserialises|short-dedup-window|trusts-snapshot] [--api-url URL]");
  process.exit(2);
}

async function signatureOk(headers, raw) {
  const signature = headers["x-hub-signature-256"];
  if (!signature) return false;
  try {
    const text = DEFECT === "reserialises" ? JSON.stringify(JSON.parse(raw)) : raw.toString("utf8");
    return await verify(SECRET, text, signature);
  } catch {
    return false;
  }
}

// The delivery's GUID, its time, the plan it says was purchased (null: nothing to fulfil), and the
// plan it says was cancelled (null: none).
function read(headers, body) {
  const id = headers["x-github-delivery"];
  if (typeof id !== "string" || !body || typeof body !== "object" || Array.isArray(body)) throw new Error("not an event");
  const at = typeof body.effective_date === "string" ? Date.parse(body.effective_date) / 1000 : null;
  const purchase = headers["x-github-event"] === "marketplace_purchase";
  const plan = purchase ? body.marketplace_purchase.plan.id : null;
  return {
    id,
    at,
    paid: purchase && body.action === "purchased" ? plan : null,
    cancelled: purchase && body.action === "cancelled" ? plan : null,
  };
}

// Whether the plan is held now: the accounts on it, from the API (a 404: no such plan). Throws
// when the API cannot be read.
async function heldNow(plan) {
  const res = await fetch(`${API_URL}/marketplace_listing/plans/${plan}/accounts`, {
    signal: AbortSignal.timeout(API_TIMEOUT_MS),
  });
  if (res.status === 404) return false;
  if (!res.ok) throw new Error(`the API answered ${res.status}`);
  const accounts = await res.json();
  return Array.isArray(accounts) && accounts.length > 0;
}

async function claim(event) {
  if (DEFECT === "short-dedup-window" && event.at !== null) {
    newest = newest === null ? event.at : Math.max(newest, event.at);
    for (const [id, at] of claimed) if (at !== null && newest - at > SHORT_WINDOW_S) claimed.delete(id);
  }
  // Node runs one handler at a time: check-and-claim has no await between them.
  if (claimed.has(event.id)) return;
  claimed.set(event.id, event.at);
  if (event.cancelled !== null) cancelled.set(event.cancelled, Math.max(cancelled.get(event.cancelled) ?? event.at, event.at));
  // Paid before a cancellation already seen: stale.
  if (event.paid !== null && cancelled.has(event.paid) && event.at !== null && event.at < cancelled.get(event.paid)) return;
  if (event.paid === null) return;
  if (API_URL && DEFECT !== "trusts-snapshot") {
    // The id is claimed before the await: a concurrent copy of this delivery skips it.
    let held;
    try {
      held = await heldNow(event.paid);
    } catch (e) {
      claimed.delete(event.id); // unclaimed: GitHub's redelivery decides
      throw e;
    }
    if (!held) return; // the snapshot says purchased; the plan, now, is not held
  }
  effects.push({ uuid: event.id, action: `fulfil invoice ${event.paid}`, kind: "fulfil" });
}

function answer(res, code, body = "") {
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    if (req.method === "GET" && req.url === "/effects") return answer(res, 200, JSON.stringify({ effects }));
    if (req.method !== "POST") return answer(res, 404);
    const raw = Buffer.concat(chunks);
    if (!(await signatureOk(req.headers, raw))) return answer(res, 401);
    let event;
    try {
      event = read(req.headers, JSON.parse(raw.toString("utf8")));
    } catch {
      return answer(res, 400);
    }
    try {
      await claim(event);
    } catch {
      return answer(res, 503);
    }
    answer(res, 200);
  });
});
server.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}`));
