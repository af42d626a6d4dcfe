/**
 * Operational alerts of a running pipeline, sent to the Slack and/or webhook targets reconcile
 * alerts use (reconcile.alert): replication lag above observe.alerts.lagSeconds for
 * observe.alerts.forSeconds, dead letters growing, and (log capture) WAL kept for the pipeline above
 * observe.alerts.retainedBytes. Each alert sends one "firing" message and,
 * once its condition has cleared, one "resolved" message. A condition that flaps sends at most
 * one firing message per observe.alerts.minIntervalSeconds; a firing that was held back sends no
 * recovery either, so a receiver never sees a "resolved" without its "firing".
 *
 * Webhook URLs are secrets (a Slack URL is its own credential): logs carry scheme and host only.
 */

export interface AlertChannel {
  slack?: { webhookUrl: string };
  webhook?: { url: string; headers?: Record<string, string> };
}

export interface AlertRules {
  /** Lag (seconds) above which the lag alert counts; absent: no lag alert. */
  readonly lagSeconds?: number | undefined;
  /** How long a condition must hold before it fires, and be clear before it resolves (seconds). */
  readonly forSeconds: number;
  /** Alert when dead letters grow. */
  readonly deadLetters: boolean;
  /** WAL / binlog the source server keeps for the pipeline (bytes) above which it alerts; absent: none. */
  readonly retainedBytes?: number | undefined;
  readonly minIntervalSeconds: number;
}

export interface AlertInputs {
  lagSeconds(): number;
  /** Dead letters created so far (only grows). */
  deadLettered(): number;
  /** WAL / binlog kept for the pipeline, when the source can tell. */
  retainedBytes?(): number | undefined;
}

export interface AlertMessage {
  readonly event: 'sluice.alert';
  readonly pipeline: string;
  readonly alert: 'replication_lag' | 'dead_letters' | 'retained_wal';
  readonly status: 'firing' | 'resolved';
  readonly value: number;
  readonly threshold: number;
  readonly summary: string;
  readonly at: string;
}

interface Log {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

interface RuleState {
  /** When the condition started holding (or stopped holding, while firing). */
  since: number | undefined;
  firing: boolean;
  /** The firing message went out (a rate-limited firing sends no recovery). */
  announced: boolean;
  lastSentAt: number | undefined;
}

const TIMEOUT_MS = 5_000;

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid url)';
  }
}

export async function deliver(channel: AlertChannel, msg: AlertMessage, log: Log): Promise<void> {
  const posts: Array<{ kind: string; url: string; body: unknown; headers?: Record<string, string> }> = [];
  if (channel.slack)
    posts.push({
      kind: 'slack',
      url: channel.slack.webhookUrl,
      body: { text: `${msg.status === 'firing' ? ':rotating_light:' : ':white_check_mark:'} *${msg.pipeline}*: ${msg.summary}` },
    });
  if (channel.webhook)
    posts.push({
      kind: 'webhook',
      url: channel.webhook.url,
      body: msg,
      ...(channel.webhook.headers ? { headers: channel.webhook.headers } : {}),
    });
  await Promise.all(
    posts.map(async (p) => {
      try {
        const res = await fetch(p.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(p.headers ?? {}) },
          body: JSON.stringify(p.body),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) log.warn({ target: p.kind, host: hostOf(p.url), status: res.status }, 'alert not accepted');
      } catch (err) {
        log.warn({ target: p.kind, host: hostOf(p.url), err: (err as Error).message }, 'alert not delivered');
      }
    }),
  );
}

export class AlertMonitor {
  private readonly lag: RuleState = { since: undefined, firing: false, announced: false, lastSentAt: undefined };
  private readonly dl: RuleState = { since: undefined, firing: false, announced: false, lastSentAt: undefined };
  private readonly wal: RuleState = { since: undefined, firing: false, announced: false, lastSentAt: undefined };
  private lastDeadLettered: number;
  private lastDeadLetterGrowthAt: number | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly pipeline: string,
    private readonly rules: AlertRules,
    private readonly inputs: AlertInputs,
    private readonly channel: AlertChannel,
    private readonly log: Log,
    opts: { everyMs?: number; now?: () => number } = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.lastDeadLettered = inputs.deadLettered();
    const every = opts.everyMs ?? 1000;
    if (every > 0) {
      this.timer = setInterval(() => this.evaluate(), every);
      this.timer.unref();
    }
  }

  private readonly now: () => number;

  /** Evaluates every rule once; messages go out in order, one at a time. */
  evaluate(): void {
    const now = this.now();
    if (this.rules.lagSeconds !== undefined) {
      const lag = this.inputs.lagSeconds();
      this.step(this.lag, lag > this.rules.lagSeconds, now, (status) => ({
        alert: 'replication_lag',
        status,
        value: lag,
        threshold: this.rules.lagSeconds!,
        summary:
          status === 'firing'
            ? `replication lag is ${lag.toFixed(1)} s, above ${this.rules.lagSeconds} s for ${this.rules.forSeconds} s`
            : `replication lag is back to ${lag.toFixed(1)} s (threshold ${this.rules.lagSeconds} s)`,
      }));
    }
    const limit = this.rules.retainedBytes;
    const kept = this.inputs.retainedBytes?.();
    if (limit !== undefined && kept !== undefined) {
      const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
      this.step(this.wal, kept > limit, now, (status) => ({
        alert: 'retained_wal',
        status,
        value: kept,
        threshold: limit,
        summary:
          status === 'firing'
            ? `the source keeps ${mib(kept)} of WAL for this pipeline, above ${mib(limit)}: the pipeline is behind or stopped, and the server's disk fills`
            : `the source keeps ${mib(kept)} of WAL for this pipeline again (limit ${mib(limit)})`,
      }));
    }
    if (this.rules.deadLetters) {
      const n = this.inputs.deadLettered();
      if (n > this.lastDeadLettered) this.lastDeadLetterGrowthAt = now;
      const grew = n - this.lastDeadLettered;
      this.lastDeadLettered = n;
      // Growing: a new dead letter within the last forSeconds.
      const growing =
        grew > 0 || (this.lastDeadLetterGrowthAt !== undefined && now - this.lastDeadLetterGrowthAt < this.rules.forSeconds * 1000);
      this.step(
        this.dl,
        growing,
        now,
        (status) => ({
          alert: 'dead_letters',
          status,
          value: n,
          threshold: 0,
          summary:
            status === 'firing'
              ? `dead letters are growing (${n} since start): see the dashboard's dead letters`
              : `no new dead letter for ${this.rules.forSeconds} s (${n} since start)`,
        }),
        0,
      );
    }
  }

  private step(
    s: RuleState,
    holds: boolean,
    now: number,
    make: (status: 'firing' | 'resolved') => Omit<AlertMessage, 'event' | 'pipeline' | 'at'>,
    fireAfterMs = this.rules.forSeconds * 1000,
  ): void {
    if (!s.firing) {
      if (!holds) {
        s.since = undefined;
        return;
      }
      s.since ??= now;
      if (now - s.since < fireAfterMs) return;
      s.firing = true;
      s.since = undefined;
      const limited = s.lastSentAt !== undefined && now - s.lastSentAt < this.rules.minIntervalSeconds * 1000;
      s.announced = !limited;
      if (limited)
        return void this.log.info({ alert: make('firing').alert }, 'alert firing again within observe.alerts.minIntervalSeconds: not sent');
      s.lastSentAt = now;
      this.send(make('firing'));
      return;
    }
    if (holds) {
      s.since = undefined;
      return;
    }
    s.since ??= now;
    if (now - s.since < this.rules.forSeconds * 1000 && fireAfterMs > 0) return;
    s.firing = false;
    s.since = undefined;
    if (s.announced) this.send(make('resolved'));
    s.announced = false;
  }

  private send(m: Omit<AlertMessage, 'event' | 'pipeline' | 'at'>): void {
    const msg: AlertMessage = { event: 'sluice.alert', pipeline: this.pipeline, at: new Date(this.now()).toISOString(), ...m };
    this.log.warn({ alert: msg.alert, status: msg.status, value: msg.value }, msg.summary);
    this.sending = this.sending.then(() => deliver(this.channel, msg, this.log));
  }

  /** Stops evaluating; resolves once messages already queued went out. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sending;
  }
}
