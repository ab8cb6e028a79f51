// A SnapBill webhook receiver verifying GitHub signatures (`X-Hub-Signature-256`) with the official
// @octokit/webhooks-methods, written to hooksim's effects contract (docs/certify.md).
//
//   npm ci --prefix examples/receivers/octokit
//   node examples/receivers/octokit/receiver.mjs --secret S [--defect reserialises]
//   hooksim certify receiver --url BASE/webhook --effects-url BASE/effects --secret S --scheme github
//
// It prints its base URL on the first line of stdout. Correct: it verifies the raw body before
// parsing (401 otherwise), claims each delivery uuid before acting, decides on the invoice in the
// body and never on an event older than the newest it saw for that invoice, answers 2xx to every
// readable delivery and 400 to what it cannot read. `--defect reserialises` hands the library
// JSON.stringify(JSON.parse(body)) instead of the bytes received: certification fails it on
// signature-raw-bytes and large-body.
import { createServer } from "node:http";
import { verify } from "@octokit/webhooks-methods";

const arg = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const SECRET = arg("--secret");
const DEFECT = arg("--defect");
const effects = []; // one entry per act
const claimed = new Set(); // uuids acted on or skipped
const newest = new Map(); // invoice id -> [event id, state] of the newest event seen

async function signatureOk(headers, raw) {
  const signature = headers["x-hub-signature-256"];
  if (!signature) return false;
  const text = DEFECT === "reserialises" ? JSON.stringify(JSON.parse(raw)) : raw.toString("utf8");
  try {
    return await verify(SECRET, text, signature);
  } catch {
    return false;
  }
}

// The act a delivery calls for, or null: fulfil a paid invoice that no newer event cancelled.
function decide(body) {
  const invoice = body.invoice;
  if (body.path !== "/invoice/update/state" || !invoice || typeof invoice !== "object") return null;
  let state = invoice.state;
  const seen = newest.get(invoice.id);
  if (seen && Number.isInteger(body.id) && seen[0] > body.id) state = seen[1];
  if (!seen || (Number.isInteger(body.id) && body.id > seen[0])) newest.set(invoice.id, [body.id, state]);
  return body.details === "paid" && state === "paid" ? `fulfil invoice ${invoice.id}` : null;
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
    if (SECRET && !(await signatureOk(req.headers, raw).catch(() => false))) return answer(res, 401);
    let envelope;
    try {
      envelope = JSON.parse(raw.toString("utf8"));
    } catch {
      return answer(res, 400);
    }
    if (!envelope || typeof envelope !== "object" || typeof envelope.body !== "object" || !envelope.body) {
      return answer(res, 400);
    }
    // Node runs one handler at a time: check-and-claim below has no await between them.
    if (!claimed.has(envelope.uuid)) {
      claimed.add(envelope.uuid);
      const action = decide(envelope.body);
      if (action) effects.push({ uuid: envelope.uuid, event: envelope.body.id, action, kind: "fulfil" });
    }
    answer(res, 200);
  });
});
server.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}`));
