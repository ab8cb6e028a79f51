#!/usr/bin/env node
// A SnapBill webhook dispatcher speaking hooksim's dispatcher protocol (docs/protocol.md).
//
// One file, Node's standard library only. Run it under the harness:
//
//     hooksim run scenarios --dispatcher "node examples/dispatchers/node/dispatcher.js"
//
// It keeps SnapBill's promises: every event is delivered at least once to each subscribed
// webhook, retried until a 2xx; each attempt renders the entity as it is when the attempt is
// sent; one uuid per delivery across its retries; a warning email after `warn_after_ms` of
// failure, a disable after `disable_after_ms` and a full grace since the warning; nothing sent
// while disabled; parked deliveries resume on enable. Retry jitter is not implemented.
//
// Durable state: every input line is appended to journal.jsonl in the state directory before it
// is acted on; a process started with "resumed": true replays the journal with its outputs
// dropped. Uuids come from a generator seeded from `seed`, so the replay ends in the same state.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const VERSION = 1;

// splitmix32-style generator: deterministic from the seed, good enough for uuids in a simulation.
function seeded(seed) {
  let state = Number(BigInt.asUintN(32, BigInt(Math.trunc(seed)))) >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function uuidFrom(next) {
  const bytes = [];
  for (let i = 0; i < 4; i++) {
    const n = next();
    bytes.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function wants(config, eventPath) {
  const paths = config.paths || [];
  return paths.length === 0 || paths.some((f) => (f.endsWith('*') ? eventPath.startsWith(f.slice(0, -1)) : eventPath === f));
}

// The wait after a 429/503 that asked for retryAfterMs: the larger of the backoff and the ask,
// at most retry_after_past_backoff_max_ms past the backoff; a policy without it keeps its backoff.
function honourRetryAfter(policy, backoffMs, retryAfterMs) {
  const pastMaxMs = policy.retry_after_past_backoff_max_ms;
  if (pastMaxMs == null || retryAfterMs == null) return backoffMs;
  return Math.max(backoffMs, Math.min(retryAfterMs, backoffMs + pastMaxMs));
}

function retryDelayMs(backoff, failures) {
  if (backoff.kind === 'list') {
    const delays = backoff.delays_ms;
    return delays[Math.min(failures, delays.length) - 1];
  }
  return Math.min(backoff.initial_ms * Math.pow(backoff.multiplier, failures - 1), backoff.max_ms);
}

class Dispatcher {
  constructor(hello) {
    this.policy = hello.policy;
    this.webhooks = hello.webhooks.map((config) => ({
      config, status: 'active', failingSince: null, warnedAt: null, inFlight: 0, pending: 0, ready: [], parked: [],
    }));
    this.random = seeded(hello.seed);
    this.entities = new Map(); // "kind/id" -> entity as last changed
    this.events = new Map(); // id -> event (with the time it happened)
    this.deliveries = [];
    this.inFlight = new Map(); // attempt -> {index, deadline}
    this.timers = []; // [{at, seq, index}] kept sorted
    this.seq = 0;
    this.nextAttempt = 1;
    this.crashed = false;
    this.out = [];
  }

  handle(m) {
    const now = m.now || 0;
    switch (m.type) {
      case 'change': this.change(now, m); break;
      case 'answer': this.answer(now, m.attempt, m.outcome, m.retry_after_ms); break;
      case 'enable': this.enable(now, m.webhook); break;
      case 'crash': this.crash(); break;
      case 'restart': this.restart(now); break;
      case 'wake': this.wake(now); break;
      default: throw new Error(`unknown input ${m.type}`);
    }
    this.emit({ type: 'done', wake_at: this.wakeAt() });
  }

  change(now, m) {
    const event = m.event;
    this.entities.set(`${event.kind}/${event.entity_id}`, m.entity);
    this.events.set(event.id, { ...event, at: now });
    this.webhooks.forEach((hook, w) => {
      if (!wants(hook.config, event.path)) return;
      let reason = null;
      if (hook.status === 'disabled') reason = 'webhook_disabled';
      else if (hook.pending >= this.policy.pending_per_webhook_max) reason = 'queue_full';
      if (reason) {
        this.emit({ type: 'delivery_refused', webhook: w, event: event.id, reason });
        return;
      }
      const delivery = uuidFrom(this.random);
      this.deliveries.push({ uuid: delivery, webhook: w, event: event.id, attempts: 0, failures: 0 });
      this.emit({ type: 'delivery_queued', delivery, webhook: w, event: event.id });
      hook.pending += 1;
      hook.ready.push(this.deliveries.length - 1);
      this.pump(now, w);
    });
  }

  answer(now, attempt, outcome, retryAfterMs) {
    const f = this.inFlight.get(attempt);
    if (f) {
      this.inFlight.delete(attempt);
      this.finish(now, attempt, f.index, outcome, retryAfterMs);
    } else if (outcome.kind !== 'timeout') {
      this.emit({ type: 'late_answer_ignored', attempt, outcome });
    }
  }

  enable(now, w) {
    const hook = this.webhooks[w];
    if (hook.status !== 'disabled') return;
    Object.assign(hook, { status: 'active', failingSince: null, warnedAt: null });
    hook.ready.push(...hook.parked);
    hook.parked = [];
    this.emit({ type: 'webhook_enabled', webhook: w });
    this.pump(now, w);
  }

  crash() {
    if (this.crashed) return;
    this.crashed = true;
    const lost = [];
    for (const attempt of [...this.inFlight.keys()].sort((a, b) => a - b)) {
      const { index } = this.inFlight.get(attempt);
      this.inFlight.delete(attempt);
      const d = this.deliveries[index];
      const hook = this.webhooks[d.webhook];
      hook.inFlight -= 1;
      if (hook.status === 'disabled') hook.parked.push(index);
      else lost.push(index);
      this.emit({ type: 'attempt_lost', attempt, delivery: d.uuid, webhook: d.webhook });
    }
    // Lost attempts go before what was already waiting, oldest first: prepend newest to oldest.
    for (const index of lost.reverse()) this.webhooks[this.deliveries[index].webhook].ready.unshift(index);
  }

  restart(now) {
    if (!this.crashed) return;
    this.crashed = false;
    this.emit({ type: 'dispatcher_restarted' });
    this.wake(now);
    this.webhooks.forEach((_, w) => this.pump(now, w));
  }

  // Fires attempt timeouts and retry timers due at or before now, earliest first.
  wake(now) {
    if (this.crashed) return;
    for (;;) {
      let timeout = null;
      for (const [attempt, f] of this.inFlight) {
        if (!timeout || f.deadline < timeout.deadline || (f.deadline === timeout.deadline && attempt < timeout.attempt)) {
          timeout = { attempt, deadline: f.deadline };
        }
      }
      const timer = this.timers[0];
      if (timeout && timeout.deadline <= now && (!timer || timeout.deadline <= timer.at)) {
        const { index } = this.inFlight.get(timeout.attempt);
        this.inFlight.delete(timeout.attempt);
        this.finish(now, timeout.attempt, index, { kind: 'timeout' });
      } else if (timer && timer.at <= now) {
        this.timers.shift();
        const d = this.deliveries[timer.index];
        const hook = this.webhooks[d.webhook];
        if (hook.status === 'disabled') hook.parked.push(timer.index);
        else {
          hook.ready.push(timer.index);
          this.pump(now, d.webhook);
        }
      } else return;
    }
  }

  wakeAt() {
    if (this.crashed) return null;
    const times = [...this.inFlight.values()].map((f) => f.deadline);
    if (this.timers.length) times.push(this.timers[0].at);
    return times.length ? Math.min(...times) : null;
  }

  pump(now, w) {
    const hook = this.webhooks[w];
    while (!this.crashed && hook.status !== 'disabled' && hook.ready.length
      && hook.inFlight < this.policy.in_flight_per_webhook_max) {
      this.start(now, hook.ready.shift());
    }
  }

  start(now, index) {
    const d = this.deliveries[index];
    const hook = this.webhooks[d.webhook];
    const attempt = this.nextAttempt++;
    d.attempts += 1;
    hook.inFlight += 1;
    const timeoutMs = this.policy.attempt_timeout_ms;
    this.inFlight.set(attempt, { index, deadline: now + timeoutMs });
    this.emit({
      type: 'send', attempt, delivery: d.uuid, webhook: d.webhook, event: d.event,
      url: hook.config.url, body: this.render(d), timeout_ms: timeoutMs,
    });
  }

  // The SnapBill envelope, with the entity as it is now (payload at send time).
  render(d) {
    const e = this.events.get(d.event);
    const body = { id: e.id, path: e.path, details: e.details };
    body[e.kind] = this.entities.get(`${e.kind}/${e.entity_id}`) ?? null;
    return JSON.stringify({ uuid: d.uuid, body });
  }

  finish(now, attempt, index, outcome, retryAfterMs) {
    const d = this.deliveries[index];
    const w = d.webhook;
    const hook = this.webhooks[w];
    this.emit({ type: 'attempt_finished', attempt, delivery: d.uuid, webhook: w, event: d.event, outcome });
    hook.inFlight -= 1;
    if (outcome.kind === 'status' && outcome.code >= 200 && outcome.code < 300) {
      hook.pending -= 1;
      this.emit({ type: 'delivered', delivery: d.uuid, webhook: w, event: d.event, attempts: d.attempts });
      const wasWarned = hook.status === 'warned';
      hook.failingSince = null;
      if (hook.status !== 'disabled') Object.assign(hook, { status: 'active', warnedAt: null });
      if (wasWarned) this.emit({ type: 'webhook_recovered', webhook: w });
    } else {
      d.failures += 1;
      if (outcome.kind === 'status' && outcome.code === 410 && this.policy.disable_on_gone) this.disableGone(now, w);
      else this.healthOnFailure(now, w);
      if (hook.status === 'disabled') hook.parked.push(index);
      else {
        const asked = outcome.kind === 'status' && (outcome.code === 429 || outcome.code === 503);
        this.scheduleRetry(now, index, asked ? retryAfterMs : undefined);
      }
    }
    this.pump(now, w);
  }

  // 410 Gone under a policy that unsubscribes on it: disabled at once, no warning, no grace.
  disableGone(now, w) {
    const hook = this.webhooks[w];
    if (hook.status === 'disabled') return;
    if (hook.failingSince === null) hook.failingSince = now;
    hook.status = 'disabled';
    this.emit({ type: 'webhook_disabled', webhook: w, failing_since: hook.failingSince, reason: 'gone' });
    hook.parked.push(...hook.ready);
    hook.ready = [];
  }

  healthOnFailure(now, w) {
    const hook = this.webhooks[w];
    const p = this.policy;
    if (hook.status === 'disabled') return;
    if (hook.failingSince === null) hook.failingSince = now;
    const failingMs = now - hook.failingSince;
    const warnMs = p.warn_after_ms;
    const disableMs = p.disable_after_ms;
    if (hook.status === 'warned' && disableMs != null) {
      const graceMs = disableMs - warnMs;
      if (failingMs >= disableMs && now - hook.warnedAt >= graceMs) {
        hook.status = 'disabled';
        this.emit({ type: 'webhook_disabled', webhook: w, failing_since: hook.failingSince });
        hook.parked.push(...hook.ready);
        hook.ready = [];
      }
    } else if (hook.status === 'active' && warnMs != null && failingMs >= warnMs) {
      Object.assign(hook, { status: 'warned', warnedAt: now });
      this.emit({
        type: 'email', to: hook.config.owner_email, webhook: w, url: hook.config.url, failing_since: hook.failingSince,
      });
    }
  }

  scheduleRetry(now, index, retryAfterMs) {
    const d = this.deliveries[index];
    const p = this.policy;
    const at = now + honourRetryAfter(p, retryDelayMs(p.schedule.backoff, d.failures), retryAfterMs);
    let reason = null;
    if (p.attempts_max != null && d.attempts >= p.attempts_max) reason = 'attempts_exhausted';
    else if (p.retry_window_ms != null && at - this.events.get(d.event).at > p.retry_window_ms) reason = 'retry_window_expired';
    if (reason) {
      this.webhooks[d.webhook].pending -= 1;
      this.emit({
        type: 'delivery_abandoned', delivery: d.uuid, webhook: d.webhook, event: d.event, attempts: d.attempts, reason,
      });
      return;
    }
    this.seq += 1;
    const timer = { at, seq: this.seq, index };
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1].at > at)) i--;
    this.timers.splice(i, 0, timer);
    this.emit({ type: 'retry_scheduled', delivery: d.uuid, webhook: d.webhook, at, failures: d.failures });
  }

  emit(m) {
    this.out.push(m);
  }
}

// Writes all of `text` to a file descriptor, waiting out a full non-blocking pipe.
function writeAll(fd, text) {
  let buf = Buffer.from(text);
  while (buf.length) {
    try {
      buf = buf.subarray(fs.writeSync(fd, buf));
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let dispatcher = null;
  let journal = null;
  rl.on('line', (line) => {
    if (!dispatcher) {
      const hello = JSON.parse(line);
      if (hello.type !== 'hello') throw new Error('the first line must be hello');
      dispatcher = new Dispatcher(hello);
      const dir = hello.state_dir || process.env.HOOKSIM_STATE_DIR || '.';
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'journal.jsonl');
      if (hello.resumed && fs.existsSync(file)) {
        for (const old of fs.readFileSync(file, 'utf8').split('\n')) {
          if (old.trim()) dispatcher.handle(JSON.parse(old));
          dispatcher.out = [];
        }
      }
      journal = fs.openSync(file, hello.resumed ? 'a' : 'w');
      writeAll(1, JSON.stringify({ type: 'hello', version: VERSION, name: 'node example' }) + '\n');
      return;
    }
    writeAll(journal, line + '\n');
    dispatcher.handle(JSON.parse(line));
    writeAll(1, dispatcher.out.map((m) => JSON.stringify(m) + '\n').join(''));
    dispatcher.out = [];
  });
}

main();
