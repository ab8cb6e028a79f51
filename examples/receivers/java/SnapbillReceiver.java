// A SnapBill webhook receiver in Java, written to hooksim's effects contract (docs/certify.md),
// with defects on demand: the JDK's own HTTP server (com.sun.net.httpserver) and Gson for JSON,
// as a Java user writes one. No build step: the JDK's single-file source launcher runs it.
//
//   apt-get install libgoogle-gson-java        (Debian's Gson: /usr/share/java/gson.jar)
//   java -cp /usr/share/java/gson.jar examples/receivers/java/SnapbillReceiver.java --port 0 \
//       [--defect D] [--secret whsec_...] [--race-ms 10]
//   hooksim certify receiver --url BASE/webhook --effects-url BASE/effects [--secret whsec_...]
//
// It prints its base URL (http://127.0.0.1:PORT) on the first line of stdout, then serves
// `POST /webhook` and `GET /effects` until killed.
//
// Without --defect it is correct: it claims each delivery uuid atomically
// (ConcurrentHashMap.putIfAbsent) before acting, decides on the invoice in the body (fulfils a
// `paid` event only while the invoice is paid, and never an invoice it saw cancelled by a newer
// event), answers 2xx to every readable delivery and 400 to what it cannot read. With --secret it
// verifies Standard Webhooks signatures over the raw bytes received (javax.crypto.Mac), 401 and no
// act otherwise. Each act is one entry of the effects list, with a machine-readable `kind`.
//
// Defects, each a bug Java users write, and the certification cases that catch each one
// (tests/it/certify_java.rs holds every line below):
//   reparses          (with --secret) verifies the signature over gson.toJson(parsed), not the
//                     bytes received: fails signature-raw-bytes and large-body
//   check-then-act    `if (!seen.contains(uuid)) { seen.add(uuid); act(); }` on a
//                     Collections.synchronizedSet: each call is atomic, the pair is not (--race-ms
//                     between check and add, 10 ms by default): fails concurrent-redelivery-once
//   dedup-in-handler  `Set<String> seen = new HashSet<>()` inside handle(): every delivery meets an
//                     empty set, so nothing is remembered across deliveries: fails every dedup case
//   trusts-snapshot   acts on the invoice state in the body, with no memory of newer events:
//                     fails out-of-order
//   catches-syntax-only   `JsonParser.parseString(text).getAsJsonObject()` in a try that catches
//                     JsonSyntaxException alone: an empty body or a JSON array throws
//                     IllegalStateException, which escapes the handler, and the JDK's server then
//                     closes the connection without any answer (not a 500): fails malformed-json,
//                     with the broken connection as its reason (a sender retries that forever)
//   chunked-unclosed  answers a readable delivery with sendResponseHeaders(200, 0) and never closes
//                     the exchange: 0 is the JDK's "chunked, length unknown", not "no body", so
//                     the answer never ends: every case but malformed-json fails, "no whole answer
//                     within N ms (a 200 whose body did not end)"
// and one that must pass (a false fail would be hooksim's bug):
//   chunked-empty     the same 200 with the exchange closed at once: an empty chunked body
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.JsonSyntaxException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public class SnapbillReceiver {
    static final Gson GSON = new Gson();
    static final long TOLERANCE_S = 300;
    /** Bodies longer than this are refused (413) unread: GitHub's 25 MB cap fits. */
    static final int BODY_BYTES_MAX = 32 * 1024 * 1024;
    /** Requests handled at once; more wait for a thread (the JDK's default runs one at a time). */
    static final int THREADS = 32;

    final String defect;
    final byte[] secret; // Standard Webhooks HMAC key, or null
    final long raceMs;
    final Object lock = new Object();
    final JsonArray effects = new JsonArray(); // one entry per act; guarded by lock
    final Map<String, Long> newestEvent = new HashMap<>(); // invoice id -> newest event id; lock
    final Map<String, String> newestState = new HashMap<>(); // invoice id -> its state then; lock
    final ConcurrentHashMap<String, Boolean> claimed = new ConcurrentHashMap<>();
    final Set<String> seen = Collections.synchronizedSet(new HashSet<>()); // check-then-act's

    SnapbillReceiver(String defect, byte[] secret, long raceMs) {
        this.defect = defect == null ? "" : defect;
        this.secret = secret;
        this.raceMs = raceMs;
    }

    /** Standard Webhooks: any `v1,<base64 HMAC-SHA256 of id.timestamp.body>` in the header. */
    boolean signatureOk(HttpExchange ex, byte[] raw) throws Exception {
        String id = ex.getRequestHeaders().getFirst("webhook-id");
        String ts = ex.getRequestHeaders().getFirst("webhook-timestamp");
        String sigs = ex.getRequestHeaders().getFirst("webhook-signature");
        if (id == null || ts == null || sigs == null || !ts.matches("[0-9]{1,12}")) {
            return false;
        }
        if (Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(ts)) > TOLERANCE_S) {
            return false;
        }
        byte[] body = raw;
        if (defect.equals("reparses")) {
            body = GSON.toJson(JsonParser.parseString(new String(raw, StandardCharsets.UTF_8)))
                    .getBytes(StandardCharsets.UTF_8);
        }
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        mac.update((id + "." + ts + ".").getBytes(StandardCharsets.UTF_8));
        byte[] expected = Base64.getEncoder().encode(mac.doFinal(body));
        for (String part : sigs.split(" ")) {
            if (part.startsWith("v1,")
                    && MessageDigest.isEqual(expected, part.substring(3).getBytes(StandardCharsets.UTF_8))) {
                return true;
            }
        }
        return false;
    }

    static String text(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : null;
    }

    /** The event id when it is a whole number; null otherwise (then no order is known). */
    static Long eventId(JsonObject body) {
        JsonElement e = body.get("id");
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            return null;
        }
        try {
            return e.getAsBigDecimal().longValueExact();
        } catch (ArithmeticException notWhole) {
            return null;
        }
    }

    /** The act a delivery calls for ("fulfil invoice N"), or null; called under lock. */
    String decide(JsonObject body) {
        JsonElement invoiceEl = body.get("invoice");
        if (!"/invoice/update/state".equals(text(body, "path")) || invoiceEl == null || !invoiceEl.isJsonObject()) {
            return null;
        }
        JsonObject invoice = invoiceEl.getAsJsonObject();
        String invoiceId = String.valueOf(invoice.get("id"));
        String state = text(invoice, "state");
        Long event = eventId(body);
        if (!defect.equals("trusts-snapshot") && event != null) {
            Long newest = newestEvent.get(invoiceId);
            if (newest != null && newest > event) {
                state = newestState.get(invoiceId); // an older event delivered late: the newer one holds
            } else {
                newestEvent.put(invoiceId, event);
                newestState.put(invoiceId, state);
            }
        }
        if ("paid".equals(text(body, "details")) && "paid".equals(state)) {
            return "fulfil invoice " + invoiceId;
        }
        return null;
    }

    void actOn(String uuid, JsonObject body) {
        synchronized (lock) {
            String action = decide(body);
            if (action == null) {
                return;
            }
            JsonObject entry = new JsonObject();
            entry.addProperty("uuid", uuid);
            entry.add("event", body.get("id"));
            entry.addProperty("action", action);
            entry.addProperty("kind", "fulfil");
            effects.add(entry);
        }
    }

    /** Claims the uuid, then acts; a duplicate (already claimed) is skipped. */
    void handle(String uuid, JsonObject body) throws InterruptedException {
        switch (defect) {
            case "check-then-act":
                if (!seen.contains(uuid)) {
                    Thread.sleep(raceMs); // the window between the check and the add
                    seen.add(uuid);
                    actOn(uuid, body);
                }
                return;
            case "dedup-in-handler":
                Set<String> seenHere = new HashSet<>(); // a fresh set per delivery: remembers nothing
                if (seenHere.add(uuid)) {
                    actOn(uuid, body);
                }
                return;
            default:
                if (claimed.putIfAbsent(uuid, Boolean.TRUE) == null) {
                    actOn(uuid, body);
                }
        }
    }

    /** The envelope `{"uuid", "body": {...}}`, or null when the bytes are not one. */
    JsonObject envelope(String text) {
        if (defect.equals("catches-syntax-only")) {
            try {
                // The bug: an empty body or an array makes getAsJsonObject() throw
                // IllegalStateException, which no catch here sees.
                JsonObject envelope = JsonParser.parseString(text).getAsJsonObject();
                return envelope.get("body").isJsonObject() && envelope.has("uuid") ? envelope : null;
            } catch (JsonSyntaxException e) {
                return null;
            }
        }
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(text);
        } catch (RuntimeException e) { // JsonSyntaxException, JsonIOException: unreadable
            return null;
        }
        if (!parsed.isJsonObject()) {
            return null;
        }
        JsonObject envelope = parsed.getAsJsonObject();
        JsonElement body = envelope.get("body");
        JsonElement uuid = envelope.get("uuid");
        if (body == null || !body.isJsonObject() || uuid == null || !uuid.isJsonPrimitive()) {
            return null;
        }
        return envelope;
    }

    void webhook(HttpExchange ex) throws Exception {
        if (!ex.getRequestMethod().equals("POST")) {
            answer(ex, 405, new byte[0]);
            return;
        }
        byte[] raw = ex.getRequestBody().readNBytes(BODY_BYTES_MAX + 1);
        if (raw.length > BODY_BYTES_MAX) {
            answer(ex, 413, new byte[0]);
            return;
        }
        if (secret != null) {
            boolean ok;
            try {
                ok = signatureOk(ex, raw);
            } catch (RuntimeException unreadable) { // reparses: a body that is not JSON
                ok = false;
            }
            if (!ok) {
                answer(ex, 401, new byte[0]);
                return;
            }
        }
        JsonObject envelope = envelope(new String(raw, StandardCharsets.UTF_8));
        if (envelope == null) {
            answer(ex, 400, new byte[0]);
            return;
        }
        handle(envelope.get("uuid").getAsString(), envelope.getAsJsonObject("body"));
        if (defect.equals("chunked-unclosed") || defect.equals("chunked-empty")) {
            // 0 is not "no body" to the JDK but "chunked, length unknown": the answer ends only
            // when the exchange is closed.
            ex.sendResponseHeaders(200, 0);
            if (defect.equals("chunked-empty")) {
                ex.close();
            }
            return;
        }
        answer(ex, 200, new byte[0]);
    }

    void effectsList(HttpExchange ex) throws IOException {
        JsonObject doc = new JsonObject();
        synchronized (lock) {
            doc.add("effects", effects.deepCopy());
        }
        answer(ex, 200, GSON.toJson(doc).getBytes(StandardCharsets.UTF_8));
    }

    /** An answer of exactly `body` (Content-Length; -1 is the JDK's way to say "no body"). */
    static void answer(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    public static void main(String[] args) throws Exception {
        int port = 0;
        String defect = null;
        byte[] secret = null;
        long raceMs = 10;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--port": port = Integer.parseInt(value); i++; break;
                case "--defect": defect = value; i++; break;
                case "--secret":
                    secret = Base64.getDecoder().decode(value.startsWith("whsec_") ? value.substring(6) : value);
                    i++;
                    break;
                case "--race-ms": raceMs = Long.parseLong(value); i++; break;
                default:
                    System.err.println("usage: SnapbillReceiver [--port N] [--defect D] [--secret whsec_...] [--race-ms N]");
                    System.exit(2);
            }
        }
        SnapbillReceiver receiver = new SnapbillReceiver(defect, secret, raceMs);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.createContext("/webhook", ex -> {
            try {
                receiver.webhook(ex);
            } catch (IOException | RuntimeException e) {
                throw e; // catches-syntax-only's IllegalStateException escapes here, as in the bug
            } catch (Exception e) {
                throw new IOException(e);
            } finally {
                if (!receiver.defect.equals("chunked-unclosed")) {
                    ex.close();
                }
            }
        });
        server.createContext("/effects", ex -> {
            try {
                receiver.effectsList(ex);
            } finally {
                ex.close();
            }
        });
        server.setExecutor(Executors.newFixedThreadPool(THREADS));
        server.start();
        System.out.println("http://127.0.0.1:" + server.getAddress().getPort());
        System.out.flush();
    }
}
