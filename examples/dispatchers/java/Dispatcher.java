/*
 * A SnapBill webhook dispatcher speaking hooksim's dispatcher protocol (docs/protocol.md).
 *
 * One file, the JDK and Gson only (Debian: libgoogle-gson-java). No build step: the JDK's
 * single-file source launcher compiles it at start. Run it under the harness:
 *
 *     hooksim run scenarios --dispatcher \
 *         "java -cp /usr/share/java/gson.jar examples/dispatchers/java/Dispatcher.java"
 *
 * It keeps SnapBill's promises: every event is delivered at least once to each subscribed
 * webhook, retried until a 2xx; each attempt renders the entity as it is when the attempt is
 * sent; one uuid per delivery across its retries; a warning email after warn_after_ms of failure,
 * a disable after disable_after_ms and a full grace since the warning; nothing sent while
 * disabled; parked deliveries resume on enable. Retry jitter is not implemented (delays are the
 * schedule's). Its behaviour is the Python example's (examples/dispatchers/python/dispatcher.py),
 * line for line; only the uuids differ (another random generator, seeded the same way).
 *
 * Durable state: every input line is appended to journal.jsonl in the state directory before it
 * is acted on; a process started with "resumed": true replays the journal with its outputs
 * dropped. Randomness (uuids) comes from the seed, so the replay ends in the same state.
 *
 * With --no-facts it reports no facts (only send, email and done): the facts are optional, and
 * the harness judges such a dispatcher from what it sends (docs/protocol.md, "Without facts").
 *
 * Times, ids and counts are longs: the schema bounds none of them by 2^53, and a JSON double
 * would round them.
 */

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;

public class Dispatcher {
    static final int VERSION = 1;

    /** Nulls kept (`"wake_at":null`), no HTML escaping: the lines say exactly what was meant. */
    static final Gson GSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();

    /** The outputs a dispatcher must write; every other output is a fact (optional). */
    static final Set<String> OUTPUTS = Set.of("send", "email", "done");

    enum Status { ACTIVE, WARNED, DISABLED }

    /** The retry schedule's base delays (docs/protocol.md, "The retry schedule"). */
    sealed interface Backoff permits ListBackoff, Exponential {
        long delayMs(long failures);
    }

    /** The n-th delay, the last one repeating. */
    record ListBackoff(long[] delaysMs) implements Backoff {
        public long delayMs(long failures) {
            return delaysMs[(int) Math.min(failures, delaysMs.length) - 1];
        }
    }

    /** min(initial * multiplier^(n-1), max), saturating instead of overflowing. */
    record Exponential(long initialMs, long multiplier, long maxMs) implements Backoff {
        public long delayMs(long failures) {
            if (multiplier == 0) {
                return Math.min(failures == 1 ? initialMs : 0, maxMs);
            }
            if (multiplier == 1) {
                return Math.min(initialMs, maxMs);
            }
            long delay = initialMs;
            // With a multiplier of 2 or more the delay reaches the cap within 64 steps.
            for (long n = 1; n < failures && delay < maxMs; n++) {
                delay = delay > Long.MAX_VALUE / multiplier ? Long.MAX_VALUE : delay * multiplier;
            }
            return Math.min(delay, maxMs);
        }
    }

    /** The policy from hello; a null field means "none". */
    record Policy(Backoff backoff, Long warnAfterMs, Long disableAfterMs, long attemptTimeoutMs,
                  Long attemptsMax, Long retryWindowMs, long inFlightPerWebhookMax,
                  long pendingPerWebhookMax, boolean disableOnGone, Long retryAfterPastBackoffMaxMs) {

        static Policy of(JsonObject p) {
            JsonObject b = p.getAsJsonObject("schedule").getAsJsonObject("backoff");
            Backoff backoff = switch (b.get("kind").getAsString()) {
                case "list" -> {
                    JsonArray delays = b.getAsJsonArray("delays_ms");
                    long[] ms = new long[delays.size()];
                    for (int i = 0; i < ms.length; i++) {
                        ms[i] = delays.get(i).getAsLong();
                    }
                    yield new ListBackoff(ms);
                }
                case "exponential" -> new Exponential(b.get("initial_ms").getAsLong(),
                        b.get("multiplier").getAsLong(), b.get("max_ms").getAsLong());
                default -> throw new IllegalArgumentException("unknown backoff " + b.get("kind"));
            };
            JsonElement gone = optional(p, "disable_on_gone");
            return new Policy(backoff, optLong(p, "warn_after_ms"), optLong(p, "disable_after_ms"),
                    p.get("attempt_timeout_ms").getAsLong(), optLong(p, "attempts_max"),
                    optLong(p, "retry_window_ms"), p.get("in_flight_per_webhook_max").getAsLong(),
                    p.get("pending_per_webhook_max").getAsLong(), gone != null && gone.getAsBoolean(),
                    optLong(p, "retry_after_past_backoff_max_ms"));
        }
    }

    /** A webhook from hello and its health, slots and queues (delivery handles). */
    static final class Hook {
        final String url;
        final String ownerEmail;
        final List<String> paths = new ArrayList<>();
        Status status = Status.ACTIVE;
        Long failingSince;
        Long warnedAt;
        long inFlight;
        long pending;
        final ArrayDeque<Integer> ready = new ArrayDeque<>();
        final List<Integer> parked = new ArrayList<>();

        Hook(JsonObject config) {
            url = config.get("url").getAsString();
            ownerEmail = config.get("owner_email").getAsString();
            JsonElement p = optional(config, "paths");
            if (p != null) {
                p.getAsJsonArray().forEach(path -> paths.add(path.getAsString()));
            }
        }

        /** An exact path, or a prefix ending in `*`; no paths means every path. */
        boolean wants(String path) {
            return paths.isEmpty() || paths.stream().anyMatch(f -> f.endsWith("*")
                    ? path.startsWith(f.substring(0, f.length() - 1)) : path.equals(f));
        }
    }

    /** An event as its change told it, and the `now` it came at (for the retry window). */
    record Event(long id, String path, JsonElement details, String kind, String entityKey, long at) {}

    /** One event for one webhook; its index in `deliveries` is its handle. */
    static final class Delivery {
        final String uuid;
        final int webhook;
        final long event;
        long attempts;
        long failures;

        Delivery(String uuid, int webhook, long event) {
            this.uuid = uuid;
            this.webhook = webhook;
            this.event = event;
        }
    }

    record InFlight(int delivery, long deadline) {}

    /** A retry due at `at`; `sequence` keeps equal times in the order they were set. */
    record Timer(long at, long sequence, int delivery) {}

    final boolean facts;
    final Policy policy;
    final List<Hook> webhooks = new ArrayList<>();
    final SplittableRandom rng;
    final Map<String, JsonElement> entities = new HashMap<>(); // kind and id -> the entity as last changed
    final Map<Long, Event> events = new HashMap<>();
    final List<Delivery> deliveries = new ArrayList<>();
    final TreeMap<Long, InFlight> inFlight = new TreeMap<>(); // attempt id -> delivery and deadline
    final PriorityQueue<Timer> timers =
            new PriorityQueue<>(Comparator.comparingLong(Timer::at).thenComparingLong(Timer::sequence));
    long sequence;
    long nextAttempt = 1;
    boolean crashed;
    final List<JsonObject> out = new ArrayList<>();

    Dispatcher(JsonObject hello, boolean facts) {
        this.facts = facts;
        this.policy = Policy.of(hello.getAsJsonObject("policy"));
        hello.getAsJsonArray("webhooks").forEach(w -> webhooks.add(new Hook(w.getAsJsonObject())));
        // The seed is any non-negative integer: its low 64 bits seed the generator.
        this.rng = new SplittableRandom(hello.get("seed").getAsBigInteger().longValue());
    }

    // ---- inputs ----

    void handle(JsonObject message) {
        String kind = message.get("type").getAsString();
        long now = message.has("now") ? message.get("now").getAsLong() : 0;
        switch (kind) {
            case "change" -> change(now, message);
            case "answer" -> answer(now, message.get("attempt").getAsLong(),
                    message.getAsJsonObject("outcome"), optLong(message, "retry_after_ms"));
            case "enable" -> enable(now, message.get("webhook").getAsInt());
            case "crash" -> crash();
            case "restart" -> restart(now);
            case "wake" -> wake(now);
            default -> throw new IllegalArgumentException("unknown input " + kind);
        }
        emit(fact("done", "wake_at", wakeAt())); // null: never
    }

    void change(long now, JsonObject message) {
        JsonObject e = message.getAsJsonObject("event");
        String kind = e.get("kind").getAsString();
        String key = kind + "\u0000" + e.get("entity_id");
        entities.put(key, message.get("entity"));
        Event event =
                new Event(e.get("id").getAsLong(), e.get("path").getAsString(), e.get("details"), kind, key, now);
        events.put(event.id(), event);
        for (int w = 0; w < webhooks.size(); w++) {
            Hook hook = webhooks.get(w);
            if (!hook.wants(event.path())) {
                continue;
            }
            String reason = null;
            if (hook.status == Status.DISABLED) {
                reason = "webhook_disabled";
            } else if (hook.pending >= policy.pendingPerWebhookMax()) {
                reason = "queue_full";
            }
            if (reason != null) {
                emit(fact("delivery_refused", "webhook", w, "event", event.id(), "reason", reason));
                continue;
            }
            Delivery d = new Delivery(newUuid(), w, event.id());
            deliveries.add(d);
            emit(fact("delivery_queued", "delivery", d.uuid, "webhook", w, "event", event.id()));
            hook.pending++;
            hook.ready.addLast(deliveries.size() - 1);
            pump(now, w);
        }
    }

    void answer(long now, long attempt, JsonObject outcome, Long retryAfterMs) {
        InFlight f = inFlight.remove(attempt);
        if (f != null) {
            finish(now, attempt, f.delivery(), outcome, retryAfterMs);
        } else if (!kindOf(outcome).equals("timeout")) {
            emit(fact("late_answer_ignored", "attempt", attempt, "outcome", outcome));
        }
    }

    void enable(long now, int w) {
        Hook hook = webhooks.get(w);
        if (hook.status != Status.DISABLED) {
            return;
        }
        hook.status = Status.ACTIVE;
        hook.failingSince = null;
        hook.warnedAt = null;
        hook.ready.addAll(hook.parked);
        hook.parked.clear();
        emit(fact("webhook_enabled", "webhook", w));
        pump(now, w);
    }

    void crash() {
        if (crashed) {
            return;
        }
        crashed = true;
        List<Integer> lost = new ArrayList<>();
        while (!inFlight.isEmpty()) { // oldest attempt first
            Map.Entry<Long, InFlight> entry = inFlight.pollFirstEntry();
            int index = entry.getValue().delivery();
            Delivery d = deliveries.get(index);
            Hook hook = webhooks.get(d.webhook);
            hook.inFlight--;
            if (hook.status == Status.DISABLED) {
                hook.parked.add(index);
            } else {
                lost.add(index);
            }
            emit(fact("attempt_lost", "attempt", entry.getKey(), "delivery", d.uuid, "webhook", d.webhook));
        }
        // Lost attempts go before what was already waiting, oldest first: prepend newest to oldest.
        for (int i = lost.size() - 1; i >= 0; i--) {
            int index = lost.get(i);
            webhooks.get(deliveries.get(index).webhook).ready.addFirst(index);
        }
    }

    void restart(long now) {
        if (!crashed) {
            return;
        }
        crashed = false;
        emit(fact("dispatcher_restarted"));
        wake(now);
        for (int w = 0; w < webhooks.size(); w++) {
            pump(now, w);
        }
    }

    /** Fires attempt timeouts and retry timers due at or before now, earliest first. */
    void wake(long now) {
        if (crashed) {
            return;
        }
        while (true) {
            Map.Entry<Long, InFlight> timeout = earliestDeadline();
            Timer timer = timers.peek();
            if (timeout != null && timeout.getValue().deadline() <= now
                    && (timer == null || timeout.getValue().deadline() <= timer.at())) {
                inFlight.remove(timeout.getKey());
                finish(now, timeout.getKey(), timeout.getValue().delivery(), outcome("timeout"), null);
            } else if (timer != null && timer.at() <= now) {
                timers.poll();
                int w = deliveries.get(timer.delivery()).webhook;
                Hook hook = webhooks.get(w);
                if (hook.status == Status.DISABLED) {
                    hook.parked.add(timer.delivery());
                } else {
                    hook.ready.addLast(timer.delivery());
                    pump(now, w);
                }
            } else {
                return;
            }
        }
    }

    /** The attempt in flight with the earliest deadline (the lower attempt id on a tie). */
    Map.Entry<Long, InFlight> earliestDeadline() {
        Map.Entry<Long, InFlight> earliest = null;
        for (Map.Entry<Long, InFlight> entry : inFlight.entrySet()) { // in attempt order
            if (earliest == null || entry.getValue().deadline() < earliest.getValue().deadline()) {
                earliest = entry;
            }
        }
        return earliest;
    }

    Long wakeAt() {
        if (crashed) {
            return null;
        }
        Map.Entry<Long, InFlight> timeout = earliestDeadline();
        Timer timer = timers.peek();
        if (timeout == null) {
            return timer == null ? null : timer.at();
        }
        long deadline = timeout.getValue().deadline();
        return timer == null ? deadline : Math.min(deadline, timer.at());
    }

    // ---- attempts ----

    void pump(long now, int w) {
        Hook hook = webhooks.get(w);
        while (!crashed && hook.status != Status.DISABLED && !hook.ready.isEmpty()
                && hook.inFlight < policy.inFlightPerWebhookMax()) {
            start(now, hook.ready.pollFirst());
        }
    }

    void start(long now, int index) {
        Delivery d = deliveries.get(index);
        Hook hook = webhooks.get(d.webhook);
        long attempt = nextAttempt++;
        d.attempts++;
        hook.inFlight++;
        long timeoutMs = policy.attemptTimeoutMs();
        inFlight.put(attempt, new InFlight(index, now + timeoutMs));
        emit(fact("send", "attempt", attempt, "delivery", d.uuid, "webhook", d.webhook, "event", d.event,
                "url", hook.url, "body", render(d), "timeout_ms", timeoutMs));
    }

    /** The SnapBill envelope, with the entity as it is now (payload at send time). */
    String render(Delivery d) {
        Event event = events.get(d.event);
        JsonObject body = new JsonObject();
        body.addProperty("id", event.id());
        body.addProperty("path", event.path());
        body.add("details", event.details());
        body.add(event.kind(), entities.getOrDefault(event.entityKey(), JsonNull.INSTANCE));
        JsonObject envelope = new JsonObject();
        envelope.addProperty("uuid", d.uuid);
        envelope.add("body", body);
        return GSON.toJson(envelope);
    }

    void finish(long now, long attempt, int index, JsonObject outcome, Long retryAfterMs) {
        Delivery d = deliveries.get(index);
        int w = d.webhook;
        Hook hook = webhooks.get(w);
        emit(fact("attempt_finished", "attempt", attempt, "delivery", d.uuid, "webhook", w, "event", d.event,
                "outcome", outcome));
        hook.inFlight--;
        boolean isStatus = kindOf(outcome).equals("status");
        long code = isStatus ? outcome.get("code").getAsLong() : 0;
        if (isStatus && code >= 200 && code < 300) {
            hook.pending--;
            emit(fact("delivered", "delivery", d.uuid, "webhook", w, "event", d.event,
                    "attempts", d.attempts));
            boolean wasWarned = hook.status == Status.WARNED;
            hook.failingSince = null;
            if (hook.status != Status.DISABLED) {
                hook.status = Status.ACTIVE;
                hook.warnedAt = null;
            }
            if (wasWarned) {
                emit(fact("webhook_recovered", "webhook", w));
            }
        } else {
            d.failures++;
            if (isStatus && code == 410 && policy.disableOnGone()) {
                disableGone(now, w);
            } else {
                healthOnFailure(now, w);
            }
            if (hook.status == Status.DISABLED) {
                hook.parked.add(index);
            } else {
                boolean asked = isStatus && (code == 429 || code == 503);
                scheduleRetry(now, index, asked ? retryAfterMs : null);
            }
        }
        pump(now, w);
    }

    /** 410 Gone under a policy that unsubscribes on it: disabled at once, no warning, no grace. */
    void disableGone(long now, int w) {
        Hook hook = webhooks.get(w);
        if (hook.status == Status.DISABLED) {
            return;
        }
        if (hook.failingSince == null) {
            hook.failingSince = now;
        }
        disable(w, "gone");
    }

    void healthOnFailure(long now, int w) {
        Hook hook = webhooks.get(w);
        if (hook.status == Status.DISABLED) {
            return;
        }
        if (hook.failingSince == null) {
            hook.failingSince = now;
        }
        long failingMs = now - hook.failingSince;
        Long warnMs = policy.warnAfterMs();
        Long disableMs = policy.disableAfterMs();
        if (hook.status == Status.WARNED && disableMs != null) {
            long graceMs = disableMs - warnMs;
            if (failingMs >= disableMs && now - hook.warnedAt >= graceMs) {
                disable(w, null);
            }
        } else if (hook.status == Status.ACTIVE && warnMs != null && failingMs >= warnMs) {
            hook.status = Status.WARNED;
            hook.warnedAt = now;
            emit(fact("email", "to", hook.ownerEmail, "webhook", w, "url", hook.url,
                    "failing_since", hook.failingSince));
        }
    }

    /** Disables webhook `w`, parking what waited for a slot; a null `reason` is a failing streak. */
    void disable(int w, String reason) {
        Hook hook = webhooks.get(w);
        hook.status = Status.DISABLED;
        JsonObject fact = fact("webhook_disabled", "webhook", w, "failing_since", hook.failingSince);
        if (reason != null) {
            fact.addProperty("reason", reason);
        }
        emit(fact);
        hook.parked.addAll(hook.ready);
        hook.ready.clear();
    }

    void scheduleRetry(long now, int index, Long retryAfterMs) {
        Delivery d = deliveries.get(index);
        long eventAt = events.get(d.event).at();
        long backoffMs = policy.backoff().delayMs(d.failures);
        long at = now + honourRetryAfter(backoffMs, retryAfterMs);
        String reason = null;
        if (policy.attemptsMax() != null && d.attempts >= policy.attemptsMax()) {
            reason = "attempts_exhausted";
        } else if (policy.retryWindowMs() != null && at - eventAt > policy.retryWindowMs()) {
            reason = "retry_window_expired";
        }
        if (reason != null) {
            webhooks.get(d.webhook).pending--;
            emit(fact("delivery_abandoned", "delivery", d.uuid, "webhook", d.webhook, "event", d.event,
                    "attempts", d.attempts, "reason", reason));
            return;
        }
        timers.add(new Timer(at, ++sequence, index));
        emit(fact("retry_scheduled", "delivery", d.uuid, "webhook", d.webhook, "at", at,
                "failures", d.failures));
    }

    /**
     * The wait after a 429/503 that asked for retryAfterMs: the larger of the backoff and the ask,
     * at most retry_after_past_backoff_max_ms past the backoff; a policy without that field
     * (snapbill) keeps its backoff.
     */
    long honourRetryAfter(long backoffMs, Long retryAfterMs) {
        Long pastMaxMs = policy.retryAfterPastBackoffMaxMs();
        if (pastMaxMs == null || retryAfterMs == null) {
            return backoffMs;
        }
        return Math.max(backoffMs, Math.min(retryAfterMs, backoffMs + pastMaxMs));
    }

    /** A version 4 uuid from 16 bytes of the seeded generator. */
    String newUuid() {
        long msb = (rng.nextLong() & ~0xf000L) | 0x4000L; // version 4
        long lsb = (rng.nextLong() & ~(0xc0L << 56)) | (0x80L << 56); // the RFC 4122 variant
        return new UUID(msb, lsb).toString();
    }

    void emit(JsonObject message) {
        if (facts || OUTPUTS.contains(message.get("type").getAsString())) {
            out.add(message);
        }
    }

    // ---- JSON ----

    /** A message of `type` with the fields given as name, value pairs, in that order. */
    static JsonObject fact(String type, Object... fields) {
        JsonObject message = new JsonObject();
        message.addProperty("type", type);
        for (int i = 0; i < fields.length; i += 2) {
            message.add((String) fields[i], json(fields[i + 1]));
        }
        return message;
    }

    static JsonElement json(Object value) {
        if (value == null) {
            return JsonNull.INSTANCE;
        } else if (value instanceof JsonElement element) {
            return element;
        } else if (value instanceof Number n) {
            return new JsonPrimitive(n);
        } else {
            return new JsonPrimitive((String) value);
        }
    }

    static JsonObject outcome(String kind) {
        JsonObject o = new JsonObject();
        o.addProperty("kind", kind);
        return o;
    }

    static String kindOf(JsonObject outcome) {
        return outcome.get("kind").getAsString();
    }

    /** The member `name`, or null when it is absent or JSON null. */
    static JsonElement optional(JsonObject o, String name) {
        JsonElement e = o.get(name);
        return e == null || e.isJsonNull() ? null : e;
    }

    static Long optLong(JsonObject o, String name) {
        JsonElement e = optional(o, name);
        return e == null ? null : e.getAsLong();
    }

    // ---- the process ----

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Writer stdout = new BufferedWriter(
                new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8));
        String first = in.readLine();
        JsonObject hello = first == null ? null : JsonParser.parseString(first).getAsJsonObject();
        if (hello == null || optional(hello, "type") == null || !hello.get("type").getAsString().equals("hello")) {
            System.err.println("the first line must be hello");
            System.exit(1);
        }
        Dispatcher dispatcher = new Dispatcher(hello, !List.of(args).contains("--no-facts"));
        Path journalPath = stateDir(hello).resolve("journal.jsonl");
        JsonElement resumedField = optional(hello, "resumed");
        boolean resumed = resumedField != null && resumedField.getAsBoolean();
        if (resumed && Files.exists(journalPath)) {
            dispatcher.replay(journalPath);
        }
        // A new run empties the journal; a resumed one appends to what it replayed.
        StandardOpenOption mode = resumed ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
        try (Writer journal = Files.newBufferedWriter(journalPath, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode)) {
            write(stdout, List.of(fact("hello", "version", VERSION, "name", "java example")));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                journal.write(line + "\n");
                journal.flush(); // out of the process before acting: a kill after this loses nothing
                dispatcher.handle(JsonParser.parseString(line).getAsJsonObject());
                write(stdout, dispatcher.out);
                dispatcher.out.clear();
            }
        }
    }

    /** hello's state directory (or HOOKSIM_STATE_DIR, or here), made if missing. */
    static Path stateDir(JsonObject hello) throws IOException {
        JsonElement named = optional(hello, "state_dir");
        String env = System.getenv("HOOKSIM_STATE_DIR");
        Path dir = Path.of(named != null ? named.getAsString() : env != null ? env : ".");
        return Files.createDirectories(dir);
    }

    /** Takes every input of an earlier process again, its outputs dropped: the same state. */
    void replay(Path journal) throws IOException {
        for (String line : Files.readAllLines(journal, StandardCharsets.UTF_8)) {
            handle(JsonParser.parseString(line).getAsJsonObject());
            out.clear();
        }
    }

    /** One line per message, then a flush: the harness reads up to `done` before it writes again. */
    static void write(Writer stdout, List<JsonObject> messages) throws IOException {
        for (JsonObject message : messages) {
            stdout.write(GSON.toJson(message));
            stdout.write('\n');
        }
        stdout.flush();
    }
}
