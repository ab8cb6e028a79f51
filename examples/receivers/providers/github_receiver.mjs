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
// then: its time tells it is older than the cancellation). Ids are kept for the
// process's life. Defects, as provider_receiver.py's:
//   reserialises        hands the library JSON.stringify(JSON.parse(body)), not the bytes received
//   short-dedup-window  forgets an id once it has seen an event 3 min newer (on the events' own
//                       clock, `effective_date`): shorter than GitHub's 3-day redelivery window
import { createServer } from "node:http";
import { verify } from "@octokit/webhooks-methods";

const arg = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const SECRET = arg("--secret");
const DEFECT = arg("--defect");
const SHORT_WINDOW_S = 180;
const effects = []; // one entry per act
const claimed = new Map(); // delivery GUID -> the event's time (unix seconds)
const cancelled = new Map(); // plan id -> the time of the newest cancellation seen
let newest = null; // the newest event time seen (the short window's clock)

if (!SECRET) {
  console.error("usage: github_receiver.mjs --secret S [--defect reserialises|short-dedup-window]");
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

function claim(event) {
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
  if (event.paid !== null) effects.push({ uuid: event.id, action: `fulfil invoice ${event.paid}`, kind: "fulfil" });
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
    claim(event);
    answer(res, 200);
  });
});
server.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}`));
