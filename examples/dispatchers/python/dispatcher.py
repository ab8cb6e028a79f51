#!/usr/bin/env python3
"""A SnapBill webhook dispatcher speaking hooksim's dispatcher protocol (docs/protocol.md).

One file, the standard library only. Run it under the harness:

    hooksim run scenarios --dispatcher "python3 examples/dispatchers/python/dispatcher.py"

It keeps SnapBill's promises: every event is delivered at least once to each subscribed webhook,
retried until a 2xx; each attempt renders the entity as it is when the attempt is sent; one uuid
per delivery across its retries; a warning email after `warn_after_ms` of failure, a disable after
`disable_after_ms` and a full grace since the warning; nothing sent while disabled; parked
deliveries resume on enable. Retry jitter is not implemented (delays are the schedule's).

Durable state: every input line is appended to journal.jsonl in the state directory before it is
acted on; a process started with "resumed": true replays the journal with its outputs dropped.
Randomness (uuids) comes from the seed, so the replay ends in the same state.
"""
import collections
import heapq
import json
import os
import random
import sys
import uuid

VERSION = 1


def dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Dispatcher:
    def __init__(self, hello):
        self.policy = hello["policy"]
        self.webhooks = [
            {"config": w, "status": "active", "failing_since": None, "warned_at": None,
             "in_flight": 0, "pending": 0, "ready": collections.deque(), "parked": []}
            for w in hello["webhooks"]
        ]
        self.rng = random.Random(hello["seed"])
        self.entities = {}      # (kind, id) -> the entity as last changed
        self.events = {}        # id -> event
        self.deliveries = []    # dicts; index is the delivery's handle
        self.in_flight = {}     # attempt id -> (delivery index, deadline)
        self.timers = []        # heap of (at, sequence, delivery index)
        self.sequence = 0
        self.next_attempt = 1
        self.crashed = False
        self.out = []

    # ---- inputs ----
    def handle(self, message):
        kind, now = message["type"], message.get("now", 0)
        if kind == "change":
            self.change(now, message)
        elif kind == "answer":
            self.answer(now, message["attempt"], message["outcome"], message.get("retry_after_ms"))
        elif kind == "enable":
            self.enable(now, message["webhook"])
        elif kind == "crash":
            self.crash()
        elif kind == "restart":
            self.restart(now)
        elif kind == "wake":
            self.wake(now)
        else:
            raise ValueError("unknown input %r" % kind)
        self.emit({"type": "done", "wake_at": self.wake_at()})

    def change(self, now, message):
        event = message["event"]
        self.entities[(event["kind"], event["entity_id"])] = message["entity"]
        self.events[event["id"]] = dict(event, at=now)
        for w, hook in enumerate(self.webhooks):
            if not wants(hook["config"], event["path"]):
                continue
            reason = None
            if hook["status"] == "disabled":
                reason = "webhook_disabled"
            elif hook["pending"] >= self.policy["pending_per_webhook_max"]:
                reason = "queue_full"
            if reason:
                self.emit({"type": "delivery_refused", "webhook": w, "event": event["id"], "reason": reason})
                continue
            delivery = str(uuid.UUID(bytes=bytes(self.rng.getrandbits(8) for _ in range(16)), version=4))
            self.deliveries.append({"uuid": delivery, "webhook": w, "event": event["id"], "attempts": 0, "failures": 0})
            self.emit({"type": "delivery_queued", "delivery": delivery, "webhook": w, "event": event["id"]})
            hook["pending"] += 1
            hook["ready"].append(len(self.deliveries) - 1)
            self.pump(now, w)

    def answer(self, now, attempt, outcome, retry_after_ms=None):
        if attempt in self.in_flight:
            index, _ = self.in_flight.pop(attempt)
            self.finish(now, attempt, index, outcome, retry_after_ms)
        elif outcome["kind"] != "timeout":
            self.emit({"type": "late_answer_ignored", "attempt": attempt, "outcome": outcome})

    def enable(self, now, w):
        hook = self.webhooks[w]
        if hook["status"] != "disabled":
            return
        hook.update(status="active", failing_since=None, warned_at=None)
        hook["ready"].extend(hook["parked"])
        hook["parked"] = []
        self.emit({"type": "webhook_enabled", "webhook": w})
        self.pump(now, w)

    def crash(self):
        if self.crashed:
            return
        self.crashed = True
        lost = []
        for attempt in sorted(self.in_flight):
            index, _ = self.in_flight.pop(attempt)
            d = self.deliveries[index]
            hook = self.webhooks[d["webhook"]]
            hook["in_flight"] -= 1
            if hook["status"] == "disabled":
                hook["parked"].append(index)
            else:
                lost.append(index)
            self.emit({"type": "attempt_lost", "attempt": attempt, "delivery": d["uuid"], "webhook": d["webhook"]})
        # Lost attempts go before what was already waiting, oldest first: prepend newest to oldest.
        for index in reversed(lost):
            self.webhooks[self.deliveries[index]["webhook"]]["ready"].appendleft(index)

    def restart(self, now):
        if not self.crashed:
            return
        self.crashed = False
        self.emit({"type": "dispatcher_restarted"})
        self.wake(now)
        for w in range(len(self.webhooks)):
            self.pump(now, w)

    def wake(self, now):
        """Fires attempt timeouts and retry timers due at or before now, earliest first."""
        if self.crashed:
            return
        while True:
            timeout = min(((deadline, attempt) for attempt, (_, deadline) in self.in_flight.items()), default=None)
            timer = self.timers[0] if self.timers else None
            if timeout and timeout[0] <= now and (timer is None or timeout[0] <= timer[0]):
                index, _ = self.in_flight.pop(timeout[1])
                self.finish(now, timeout[1], index, {"kind": "timeout"})
            elif timer and timer[0] <= now:
                heapq.heappop(self.timers)
                index = timer[2]
                hook = self.webhooks[self.deliveries[index]["webhook"]]
                if hook["status"] == "disabled":
                    hook["parked"].append(index)
                else:
                    hook["ready"].append(index)
                    self.pump(now, self.deliveries[index]["webhook"])
            else:
                return

    def wake_at(self):
        if self.crashed:
            return None
        times = [deadline for _, deadline in self.in_flight.values()] + [t[0] for t in self.timers[:1]]
        return min(times, default=None)

    # ---- attempts ----
    def pump(self, now, w):
        hook = self.webhooks[w]
        while (not self.crashed and hook["status"] != "disabled" and hook["ready"]
               and hook["in_flight"] < self.policy["in_flight_per_webhook_max"]):
            self.start(now, hook["ready"].popleft())

    def start(self, now, index):
        d = self.deliveries[index]
        hook = self.webhooks[d["webhook"]]
        attempt, self.next_attempt = self.next_attempt, self.next_attempt + 1
        d["attempts"] += 1
        hook["in_flight"] += 1
        timeout_ms = self.policy["attempt_timeout_ms"]
        self.in_flight[attempt] = (index, now + timeout_ms)
        self.emit({"type": "send", "attempt": attempt, "delivery": d["uuid"], "webhook": d["webhook"],
                   "event": d["event"], "url": hook["config"]["url"], "body": self.render(d),
                   "timeout_ms": timeout_ms})

    def render(self, d):
        """The SnapBill envelope, with the entity as it is now (payload at send time)."""
        event = self.events[d["event"]]
        body = {"id": event["id"], "path": event["path"], "details": event["details"],
                event["kind"]: self.entities.get((event["kind"], event["entity_id"]))}
        return dumps({"uuid": d["uuid"], "body": body})

    def finish(self, now, attempt, index, outcome, retry_after_ms=None):
        d = self.deliveries[index]
        w = d["webhook"]
        hook = self.webhooks[w]
        self.emit({"type": "attempt_finished", "attempt": attempt, "delivery": d["uuid"], "webhook": w,
                   "event": d["event"], "outcome": outcome})
        hook["in_flight"] -= 1
        if outcome["kind"] == "status" and 200 <= outcome["code"] < 300:
            hook["pending"] -= 1
            self.emit({"type": "delivered", "delivery": d["uuid"], "webhook": w, "event": d["event"],
                       "attempts": d["attempts"]})
            was_warned = hook["status"] == "warned"
            hook["failing_since"] = None
            if hook["status"] != "disabled":
                hook.update(status="active", warned_at=None)
            if was_warned:
                self.emit({"type": "webhook_recovered", "webhook": w})
        else:
            d["failures"] += 1
            if outcome["kind"] == "status" and outcome["code"] == 410 and self.policy.get("disable_on_gone"):
                self.disable_gone(now, w)
            else:
                self.health_on_failure(now, w)
            if hook["status"] == "disabled":
                hook["parked"].append(index)
            else:
                asked = outcome["kind"] == "status" and outcome["code"] in (429, 503)
                self.schedule_retry(now, index, retry_after_ms if asked else None)
        self.pump(now, w)

    def disable_gone(self, now, w):
        """410 Gone under a policy that unsubscribes on it: disabled at once, no warning, no grace."""
        hook = self.webhooks[w]
        if hook["status"] == "disabled":
            return
        if hook["failing_since"] is None:
            hook["failing_since"] = now
        hook["status"] = "disabled"
        self.emit({"type": "webhook_disabled", "webhook": w, "failing_since": hook["failing_since"],
                   "reason": "gone"})
        hook["parked"].extend(hook["ready"])
        hook["ready"].clear()

    def health_on_failure(self, now, w):
        hook, p = self.webhooks[w], self.policy
        if hook["status"] == "disabled":
            return
        if hook["failing_since"] is None:
            hook["failing_since"] = now
        failing_ms = now - hook["failing_since"]
        warn_ms, disable_ms = p.get("warn_after_ms"), p.get("disable_after_ms")
        if hook["status"] == "warned" and disable_ms is not None:
            grace_ms = disable_ms - warn_ms
            if failing_ms >= disable_ms and now - hook["warned_at"] >= grace_ms:
                hook["status"] = "disabled"
                self.emit({"type": "webhook_disabled", "webhook": w, "failing_since": hook["failing_since"]})
                hook["parked"].extend(hook["ready"])
                hook["ready"].clear()
        elif hook["status"] == "active" and warn_ms is not None and failing_ms >= warn_ms:
            hook.update(status="warned", warned_at=now)
            config = hook["config"]
            self.emit({"type": "email", "to": config["owner_email"], "webhook": w, "url": config["url"],
                       "failing_since": hook["failing_since"]})

    def schedule_retry(self, now, index, retry_after_ms=None):
        d, p = self.deliveries[index], self.policy
        event_at = self.events[d["event"]]["at"]
        backoff_ms = retry_delay_ms(p["schedule"]["backoff"], d["failures"])
        at = now + honour_retry_after(p, backoff_ms, retry_after_ms)
        reason = None
        if p.get("attempts_max") is not None and d["attempts"] >= p["attempts_max"]:
            reason = "attempts_exhausted"
        elif p.get("retry_window_ms") is not None and at - event_at > p["retry_window_ms"]:
            reason = "retry_window_expired"
        if reason:
            self.webhooks[d["webhook"]]["pending"] -= 1
            self.emit({"type": "delivery_abandoned", "delivery": d["uuid"], "webhook": d["webhook"],
                       "event": d["event"], "attempts": d["attempts"], "reason": reason})
            return
        self.sequence += 1
        heapq.heappush(self.timers, (at, self.sequence, index))
        self.emit({"type": "retry_scheduled", "delivery": d["uuid"], "webhook": d["webhook"], "at": at,
                   "failures": d["failures"]})

    def emit(self, message):
        self.out.append(message)


def wants(config, path):
    paths = config.get("paths") or []
    return not paths or any(path.startswith(f[:-1]) if f.endswith("*") else path == f for f in paths)


def honour_retry_after(policy, backoff_ms, retry_after_ms):
    """The wait after a 429/503 that asked for retry_after_ms: the larger of the backoff and the
    ask, at most retry_after_past_backoff_max_ms past the backoff; a policy without that field
    (snapbill) keeps its backoff."""
    past_max_ms = policy.get("retry_after_past_backoff_max_ms")
    if past_max_ms is None or retry_after_ms is None:
        return backoff_ms
    return max(backoff_ms, min(retry_after_ms, backoff_ms + past_max_ms))


def retry_delay_ms(backoff, failures):
    if backoff["kind"] == "list":
        delays = backoff["delays_ms"]
        return delays[min(failures, len(delays)) - 1]
    delay = backoff["initial_ms"] * backoff["multiplier"] ** (failures - 1)
    return min(delay, backoff["max_ms"])


def main():
    hello = json.loads(sys.stdin.readline())
    if hello.get("type") != "hello":
        sys.exit("the first line must be hello")
    dispatcher = Dispatcher(hello)
    state_dir = hello.get("state_dir") or os.environ.get("HOOKSIM_STATE_DIR") or "."
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.join(state_dir, "journal.jsonl")
    if hello.get("resumed") and os.path.exists(path):
        with open(path) as old:
            for line in old:
                dispatcher.handle(json.loads(line))
                dispatcher.out.clear()
    journal = open(path, "a" if hello.get("resumed") else "w")
    print(dumps({"type": "hello", "version": VERSION, "name": "python example"}), flush=True)
    for line in sys.stdin:
        journal.write(line if line.endswith("\n") else line + "\n")
        journal.flush()
        dispatcher.handle(json.loads(line))
        sys.stdout.write("".join(dumps(m) + "\n" for m in dispatcher.out))
        sys.stdout.flush()
        dispatcher.out.clear()


if __name__ == "__main__":
    main()
