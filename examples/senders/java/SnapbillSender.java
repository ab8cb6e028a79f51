// A SnapBill-style webhook sender in Java, for `hooksim certify sender`: the JDK's
// java.net.http.HttpClient and Gson, written from docs/certify.md as a Java user writes one. No
// build step: the JDK's single-file source launcher runs it.
//
// It delivers one event (--event N, or HOOKSIM_EVENT from `--trigger`) to --url (or HOOKSIM_URL)
// at least once: one delivery uuid on every attempt, retried on the profile's schedule after any
// non-2xx answer, timeout, reset or refused connection; redirects never followed
// (HttpClient.Redirect.NEVER); where the profile says so, a 410 stops it and a 429/503
// Retry-After is honoured (capped at 2 h past the backoff). --secret whsec_... signs every attempt
// as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature; javax.crypto.Mac).
// --time-scale N divides the profile's delays and timeout by N, as `certify sender --time-scale
// N` expects (Retry-After stays in real seconds).
//
//   apt-get install libgoogle-gson-java        (Debian's Gson: /usr/share/java/gson.jar)
//   hooksim certify sender --listen 127.0.0.1:0 --time-scale 100 --budget 30s \
//     --trigger 'exec java -cp /usr/share/java/gson.jar examples/senders/java/SnapbillSender.java --time-scale 100'
//
// --serve runs it as a product runs: one long-lived process, one HttpClient for every delivery.
// It prints its base URL on the first line of stdout and starts a delivery for each
// `POST /events` with `{"event": N, "url": "..."}` (answered 202), so the trigger is a curl to
// its API, as docs/certify.md suggests for a real product:
//
//   java -cp /usr/share/java/gson.jar examples/senders/java/SnapbillSender.java --serve --time-scale 100
//   hooksim certify sender --listen 127.0.0.1:0 --time-scale 100 --budget 30s --trigger \
//     'curl -sf -d "{\"event\": $HOOKSIM_EVENT, \"url\": \"$HOOKSIM_URL\"}" http://127.0.0.1:PORT/events'
//
// A process per event starts a cold JVM each time: its first request spends class loading and
// the client's start-up inside HttpRequest's timeout, which runs from send(), before the
// connection is opened. At time scale 100 (a 300 ms timeout) that was seen to leave the
// certifying endpoint 9 ms ("gave up after 9 ms") with many JVMs starting at once, or to time out
// before the request was written (an attempt the endpoint cannot see). A served
// sender warms its client on its own endpoint before it prints its URL, as a product that has
// been running is warm.
//
// --defect D makes it wrong in one way a Java sender is, and the check that catches each
// (tests/it/certify_java.rs holds every line below):
//   no-retry            gives up after the first failed attempt: fails retried (and gone under
//                       snapbill, which retries a 410)
//   new-id-per-retry    UUID.randomUUID() inside the retry loop: fails same-id
//   follows-redirects   HttpClient.Redirect.NORMAL, which re-POSTs a 307's body to its Location:
//                       fails redirect-not-followed
//   no-timeout          no HttpRequest.Builder.timeout(): HttpClient then waits for an answer
//                       forever (its default), past the profile's attempt timeout: fails timeout
//   ignores-retry-after (with --profile standard-webhooks) retries at the plain backoff after a
//                       429: fails retry-after
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public class SnapbillSender {
    /** A policy profile, as docs/certify.md grades it. */
    record Profile(long[] delaysS, long timeoutS, int jitterPercent, boolean honoursRetryAfter,
                   boolean disablesOnGone, int attemptsMax) {}

    static final Map<String, Profile> PROFILES = Map.of(
            "snapbill", new Profile(new long[] {10, 60, 300, 900, 1800}, 30, 0, false, false, 0),
            "standard-webhooks", new Profile(
                    new long[] {5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400}, 15, 0, true, true, 10),
            "svix", new Profile(new long[] {5, 300, 1800, 7200, 18000, 36000, 36000}, 15, 20, true, true, 8));
    static final long RETRY_AFTER_PAST_BACKOFF_MAX_S = 2 * 3600;
    static final List<String> DEFECTS =
            List.of("no-retry", "new-id-per-retry", "follows-redirects", "no-timeout", "ignores-retry-after");
    static final Gson GSON = new Gson();
    /** Requests --serve sends to itself before it takes events (see warmUp). */
    static final int WARM_UP_REQUESTS = 5;

    final Profile profile;
    final double scale;
    final byte[] secret; // Standard Webhooks key, or null
    final String defect;
    final HttpClient client;
    final Random random = new Random();

    SnapbillSender(Profile profile, double scale, byte[] secret, String defect) {
        this.profile = profile;
        this.scale = scale;
        this.secret = secret;
        this.defect = defect == null ? "" : defect;
        HttpClient.Redirect redirect =
                this.defect.equals("follows-redirects") ? HttpClient.Redirect.NORMAL : HttpClient.Redirect.NEVER;
        this.client = HttpClient.newBuilder().followRedirects(redirect).build();
    }

    static byte[] envelope(String delivery, int event) {
        JsonObject invoice = new JsonObject();
        invoice.addProperty("id", event);
        invoice.addProperty("number", "INV-" + event);
        invoice.addProperty("client_id", 1);
        invoice.addProperty("total_cents", 1000 * event);
        invoice.addProperty("state", "unpaid");
        JsonObject details = new JsonObject();
        details.addProperty("number", "INV-" + event);
        JsonObject body = new JsonObject();
        body.addProperty("id", 1000 + event);
        body.addProperty("path", "/invoice/create");
        body.add("details", details);
        body.add("invoice", invoice);
        JsonObject envelope = new JsonObject();
        envelope.addProperty("uuid", delivery);
        envelope.add("body", body);
        return GSON.toJson(envelope).getBytes(StandardCharsets.UTF_8);
    }

    HttpRequest request(String url, String delivery, byte[] body) throws Exception {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (!defect.equals("no-timeout")) {
            builder.timeout(Duration.ofMillis(Math.round(profile.timeoutS() * 1000 / scale)));
        }
        if (secret != null) {
            String ts = Long.toString(System.currentTimeMillis() / 1000);
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((delivery + "." + ts + ".").getBytes(StandardCharsets.UTF_8));
            String signature = Base64.getEncoder().encodeToString(mac.doFinal(body));
            builder.header("webhook-id", delivery).header("webhook-timestamp", ts)
                    .header("webhook-signature", "v1," + signature);
        }
        return builder.build();
    }

    /** Retry-After in whole seconds, when the answer carries one. */
    static Optional<Long> retryAfterS(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").map(String::trim)
                .filter(v -> v.matches("[0-9]{1,9}")).map(Long::parseLong);
    }

    /** Delivers `event` to `url` until a 2xx, a stop the profile calls for, or `deadlineNanos`. */
    int deliver(String url, int event, long deadlineNanos) throws Exception {
        String delivery = UUID.randomUUID().toString();
        int failures = 0;
        while (System.nanoTime() < deadlineNanos) {
            if (defect.equals("new-id-per-retry")) {
                delivery = UUID.randomUUID().toString();
            }
            byte[] body = envelope(delivery, event);
            Integer status = null;
            Optional<Long> retryAfter = Optional.empty();
            try {
                HttpResponse<Void> response = client.send(request(url, delivery, body), HttpResponse.BodyHandlers.discarding());
                status = response.statusCode();
                retryAfter = retryAfterS(response);
            } catch (IOException noAnswer) { // a timeout, a reset, a refused connection
            }
            if (status != null && status >= 200 && status < 300) {
                return 0;
            }
            failures++;
            if (status != null && status == 410 && profile.disablesOnGone()) {
                return 0; // the profile disables the endpoint: nothing more is sent to it
            }
            if (defect.equals("no-retry") || (profile.attemptsMax() > 0 && failures >= profile.attemptsMax())) {
                return 0;
            }
            long[] delays = profile.delaysS();
            double backoffS = delays[Math.min(failures, delays.length) - 1];
            backoffS *= 1 + (random.nextDouble() * 2 - 1) * profile.jitterPercent() / 100.0;
            backoffS /= scale;
            double waitS = backoffS;
            boolean honours = profile.honoursRetryAfter() && !defect.equals("ignores-retry-after");
            if (honours && (status != null && (status == 429 || status == 503)) && retryAfter.isPresent()) {
                waitS = Math.max(backoffS, Math.min(retryAfter.get(), backoffS + RETRY_AFTER_PAST_BACKOFF_MAX_S / scale));
            }
            Thread.sleep(Math.round(waitS * 1000));
        }
        return 1;
    }

    public static void main(String[] args) throws Exception {
        String url = System.getenv("HOOKSIM_URL");
        String eventEnv = System.getenv("HOOKSIM_EVENT");
        int event = eventEnv == null ? 1 : Integer.parseInt(eventEnv);
        String profile = "snapbill";
        double scale = 1;
        byte[] secret = null;
        String defect = null;
        double giveUpAfterS = 120;
        boolean serve = false;
        int port = 0;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--serve")) {
                serve = true;
                continue;
            }
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (value == null) {
                usage("a value is missing after " + args[i]);
            }
            switch (args[i]) {
                case "--url": url = value; break;
                case "--event": event = Integer.parseInt(value); break;
                case "--profile": profile = value; break;
                case "--time-scale": scale = Double.parseDouble(value); break;
                case "--secret":
                    secret = Base64.getDecoder().decode(value.startsWith("whsec_") ? value.substring(6) : value);
                    break;
                case "--defect": defect = value; break;
                case "--give-up-after": giveUpAfterS = Double.parseDouble(value); break;
                case "--port": port = Integer.parseInt(value); break;
                default: usage("unknown argument " + args[i]);
            }
            i++;
        }
        if (url == null && !serve) {
            usage("--url (or HOOKSIM_URL) is required");
        }
        if (!PROFILES.containsKey(profile) || (defect != null && !DEFECTS.contains(defect)) || !(scale > 0)) {
            usage("unknown --profile or --defect, or a --time-scale that is not positive");
        }
        SnapbillSender sender = new SnapbillSender(PROFILES.get(profile), scale, secret, defect);
        if (serve) {
            sender.serve(port, giveUpAfterS);
            return;
        }
        long deadline = System.nanoTime() + Math.round(giveUpAfterS * 1e9);
        System.exit(sender.deliver(url, event, deadline));
    }

    /** --serve: a delivery for each `POST /events` `{"event": N, "url": "..."}`, until killed. */
    void serve(int port, double giveUpAfterS) throws IOException {
        ExecutorService deliveries = Executors.newCachedThreadPool();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.createContext("/events", ex -> {
            // Not try-with-resources: it would close the exchange before the catch could answer.
            try {
                JsonObject asked = JsonParser.parseString(new String(ex.getRequestBody().readNBytes(64 * 1024),
                        StandardCharsets.UTF_8)).getAsJsonObject();
                String url = asked.get("url").getAsString();
                int event = asked.get("event").getAsInt();
                long deadline = System.nanoTime() + Math.round(giveUpAfterS * 1e9);
                deliveries.submit(() -> deliver(url, event, deadline));
                ex.sendResponseHeaders(202, -1);
            } catch (RuntimeException unreadable) { // not the JSON above: a 400, never a dropped connection
                ex.sendResponseHeaders(400, -1);
            } finally {
                ex.close();
            }
        });
        server.createContext("/warm-up", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        warmUp(base + "/warm-up");
        System.out.println(base);
        System.out.flush();
    }

    /**
     * A few deliveries to its own endpoint before the first event, as a product that has been
     * running is warm: a cold JVM's first request loads the client's classes inside the request
     * timeout (300 ms at time scale 100), and with many JVMs starting at once on two cores it
     * timed out before its bytes were written: an attempt the endpoint never saw as one.
     */
    void warmUp(String url) {
        for (int i = 0; i < WARM_UP_REQUESTS; i++) {
            try {
                HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(envelope(UUID.randomUUID().toString(), 0))).build();
                client.send(request, HttpResponse.BodyHandlers.discarding());
            } catch (IOException | InterruptedException e) {
                System.err.println("SnapbillSender: warm-up request failed: " + e);
            }
        }
    }

    static void usage(String why) {
        System.err.println("SnapbillSender: " + why + "\nusage: SnapbillSender [--url URL] [--event N] [--serve [--port N]] "
                + "[--profile snapbill|standard-webhooks|svix] [--time-scale N] [--secret whsec_...] "
                + "[--defect " + String.join("|", DEFECTS) + "] [--give-up-after S]");
        System.exit(2);
    }
}
