/**
 * The table of CPM sessions a Conversation Server in proxy mode has Record-Routed, keyed by dialog. A record
 * enters on the 2xx of its INVITE and leaves when it reaches Terminated (BYE answered, ACK never seen, BYE
 * never answered, shutdown). The table owns the guard timers of its records:
 * - Confirmed: the ACK must follow within 64·T1 (RFC 3261 §13.3.1.4, the UAS gives up then);
 * - Terminating: the BYE's final response must follow within 64·T1 (Timer F, §17.1.2.2); without one the
 *   dialog is over anyway (§15.1.1).
 */
import { EventEmitter } from 'node:events';
import { CpmSessionRecord, CpmSessionState, type CpmSessionInit } from './cpm-session-record';

/** Events of the table. */
export type SessionTableEvents = {
  added: [record: CpmSessionRecord];
  removed: [record: CpmSessionRecord];
};

/** Options of the table. */
export interface SessionTableOptions {
  /** How long Confirmed and Terminating may last, ms (64·T1; default 32 000). */
  guardMs?: number;
}

/** Sessions by dialog. */
export class SessionTable extends EventEmitter<SessionTableEvents> {
  private readonly byKey = new Map<string, CpmSessionRecord>();
  private readonly timers = new Map<CpmSessionRecord, NodeJS.Timeout>();
  private readonly guardMs: number;

  constructor(options: SessionTableOptions = {}) {
    super();
    const guard = options.guardMs ?? 32_000;
    if (!Number.isFinite(guard) || guard <= 0) throw new RangeError(`SessionTable: guardMs must be a positive number, got ${String(guard)}`);
    this.guardMs = guard;
  }

  /** Sessions alive. */
  sessionCount(): number {
    return this.byKey.size;
  }

  /** Every live record. */
  sessions(): CpmSessionRecord[] {
    return [...this.byKey.values()];
  }

  /**
   * Add the session a 2xx confirmed. A 2xx for a dialog already in the table returns the record there: a
   * retransmission, or the same 2xx passing us in our other role (both users are ours), which is recorded.
   */
  add(init: CpmSessionInit): CpmSessionRecord {
    const existing = this.findByDialog(init.callId, init.caller.tag, init.callee.tag);
    if (existing) {
      existing.addRole(init.role);
      return existing;
    }
    const record = new CpmSessionRecord(init);
    this.byKey.set(dialogKey(init.callId, init.caller.tag, init.callee.tag), record);
    record.on('stateChange', (_from, to) => this.onStateChange(record, to));
    this.guard(record, 'ack-timeout');
    this.emit('added', record);
    return record;
  }

  /** The session of a dialog: its Call-ID and both tags, in either order (Target-Dialog names them so). */
  findByDialog(callId: string, tagA: string, tagB: string): CpmSessionRecord | undefined {
    return this.byKey.get(dialogKey(callId, tagA, tagB));
  }

  /** End every session (shutdown). */
  close(): void {
    for (const record of [...this.byKey.values()]) record.transition(CpmSessionState.Terminated, 'shutdown');
  }

  private onStateChange(record: CpmSessionRecord, to: CpmSessionState): void {
    this.unguard(record);
    if (to === CpmSessionState.Terminating) this.guard(record, 'bye-failed');
    if (to !== CpmSessionState.Terminated) return;
    const key = dialogKey(record.callId, record.caller.tag, record.callee.tag);
    if (this.byKey.get(key) === record) this.byKey.delete(key);
    this.emit('removed', record);
  }

  private guard(record: CpmSessionRecord, reason: 'ack-timeout' | 'bye-failed'): void {
    const timer = setTimeout(() => {
      this.timers.delete(record);
      if (record.state !== CpmSessionState.Terminated) record.transition(CpmSessionState.Terminated, reason);
    }, this.guardMs);
    timer.unref();
    this.timers.set(record, timer);
  }

  private unguard(record: CpmSessionRecord): void {
    const timer = this.timers.get(record);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(record);
  }
}

/** The key of a dialog regardless of which side's tag comes first. */
function dialogKey(callId: string, tagA: string, tagB: string): string {
  const [x, y] = tagA <= tagB ? [tagA, tagB] : [tagB, tagA];
  return `${callId}\u0000${x}\u0000${y}`;
}
