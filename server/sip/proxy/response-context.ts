/**
 * One proxied request: its server transaction, its branches (client transactions) and the choice of what
 * goes back upstream (RFC 3261 §16.6–§16.10).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type SipRequest, type SipResponse } from '../message/sip-message';
import { toTag } from '../message/header-fields';
import { buildResponse } from '../transaction/response-builder';
import { buildCancel } from '../transaction/request-builders';
import { assertTransition, type TransitionTable } from '../transaction/state-machine';
import { TimerSet } from '../transaction/timer-set';
import type { ClientTransaction, ServerTransaction, TransactionLayer } from '../transaction/transaction-layer';
import type { ReceivedMessage, SendTarget } from '../transport/transport-types';
import { chooseBestResponse } from './best-response';
import { buildForwardedRequest } from './forwarding';
import type { ProxyAddresses } from './proxy-addresses';
import type { ProxyContext, ProxyHooks, ProxyTarget } from './proxy-hooks';
import type { Rejection } from './request-validation';

/** What a response context needs from the proxy that owns it. */
export interface ProxyEnvironment {
  readonly layer: TransactionLayer;
  readonly addresses: ProxyAddresses;
  readonly hooks: ProxyHooks;
  /** T1, for the 64·T1 a cancelled branch gets to answer (§9.1). */
  readonly t1: number;
  /** Timer C (§16.6 item 11), > 3 minutes in production. */
  readonly timerC: number;
  /** Report a problem that did not stop processing (a hook failed, a send failed…). */
  report(error: Error): void;
}

/** States of a response context. */
export enum ResponseContextState {
  /** Waiting for the hooks (authorization, target location). */
  Locating = 'Locating',
  /** Branches are out; no final response sent upstream yet. */
  Proceeding = 'Proceeding',
  /** A final response went upstream; further 2xx to an INVITE are still forwarded. */
  Completed = 'Completed',
  /** The server transaction and every client transaction have ended. */
  Terminated = 'Terminated',
}

const S = ResponseContextState;
const TRANSITIONS: TransitionTable<ResponseContextState> = {
  [S.Locating]: [S.Proceeding, S.Completed, S.Terminated],
  [S.Proceeding]: [S.Completed, S.Terminated],
  [S.Completed]: [S.Terminated],
  [S.Terminated]: [],
};

/** One forwarded copy of the request. */
interface Branch {
  readonly index: number;
  readonly target: ProxyTarget;
  request: SipRequest | undefined;
  destination: SendTarget | undefined;
  transaction: ClientTransaction | undefined;
  provisional: boolean;
  final: SipResponse | undefined;
  cancel: 'none' | 'pending' | 'sent';
  cancelReason: string | undefined;
  readonly timers: TimerSet<'C' | 'cancelGuard'>;
}

/** Events of a response context. */
export type ResponseContextEvents = {
  stateChange: [from: ResponseContextState, to: ResponseContextState];
};

/**
 * The response context of one proxied request (§16.7).
 *
 * ```
 *   +----------+  targets: fork branches   +------------+  best final / a 2xx sent up  +-----------+
 *   | Locating |-------------------------->| Proceeding |----------------------------->| Completed |
 *   +----------+                           +------------+                              +-----------+
 *        | rejection / CANCEL: answer upstream    |                                          |
 *        +----------------------------------------|------------------------------------------+
 *                                                 |                                          |
 *                    server and all client transactions ended                                v
 *                                                 +---------------------------------->+------------+
 *                                                                                     | Terminated |
 *                                                                                     +------------+
 * ```
 * Provisional responses (but 100) are forwarded at once, every 2xx to an INVITE is forwarded at once, a 6xx
 * cancels the other branches, a 2xx cancels them too; otherwise the best final response is chosen when every
 * branch has one (§16.7 item 6). A branch without a final answer becomes a 408 on timeout (§16.8) and a 503
 * on transport failure (§16.9). Timer C guards INVITE branches (§16.6 item 11).
 */
export class ResponseContext extends EventEmitter<ResponseContextEvents> {
  private current = ResponseContextState.Locating;
  private readonly branches: Branch[] = [];
  private readonly cancels = new Set<ClientTransaction>();
  private readonly context: ProxyContext;
  private readonly original: SipRequest;
  private serverEnded = false;
  /** True while `forward` starts the branches: no best response can be chosen before all exist. */
  private forking = false;

  /**
   * @param env the owning proxy
   * @param server the server transaction of the request
   * @param received the request as received
   * @param working the request after route processing and Max-Forwards, which each branch copies
   */
  constructor(
    private readonly env: ProxyEnvironment,
    readonly server: ServerTransaction,
    readonly received: ReceivedMessage,
    private readonly working: SipRequest,
  ) {
    super();
    if (received.message.type !== 'request') throw new Error('a response context is created for a request');
    this.original = received.message;
    this.context = { received };
    server.on('stateChange', () => {
      if (server.terminated) this.onServerTerminated();
    });
  }

  /** Current state. */
  get state(): ResponseContextState {
    return this.current;
  }

  /** True for an INVITE context (the only kind with CANCEL and Timer C). */
  get isInvite(): boolean {
    return this.working.method === 'INVITE';
  }

  /** Number of branches forked so far. */
  get branchCount(): number {
    return this.branches.length;
  }

  /** Answer upstream with a rejection of our own (validation, authorization, empty target set). */
  reject(rejection: Rejection): void {
    if (this.current !== S.Locating && this.current !== S.Proceeding) return;
    const response = buildResponse(this.server.request, rejection.status, {
      toTag: randomTag(), reason: rejection.reason, headers: rejection.headers,
    });
    this.sendUpstream(response, false);
    this.transition(S.Completed);
    this.maybeTerminate();
  }

  /** Fork one branch per target (§16.6). An empty target set answers 480 (§16.5). */
  forward(targets: readonly ProxyTarget[]): void {
    if (this.current !== S.Locating) return;
    if (targets.length === 0) {
      this.reject({ status: 480 });
      return;
    }
    this.transition(S.Proceeding);
    this.forking = true;
    try {
      targets.forEach((target, index) => this.startBranch(target, index));
    } finally {
      this.forking = false;
    }
    this.checkAllFinal();
    this.maybeTerminate();
  }

  /** A CANCEL for our INVITE arrived (§16.10): cancel every pending branch, or answer 487 if none exists. */
  cancelFromUpstream(): void {
    if (this.current === S.Locating) {
      this.reject({ status: 487 });
      return;
    }
    if (this.current === S.Proceeding) for (const branch of this.branches) this.cancelBranch(branch, undefined);
  }

  /** End everything now (proxy shutdown). */
  terminate(): void {
    for (const branch of this.branches) {
      branch.timers.stopAll();
      branch.transaction?.terminate();
    }
    for (const cancel of this.cancels) cancel.terminate();
    this.server.terminate();
    if (this.current !== S.Terminated) this.transition(S.Terminated);
  }

  /** The one transition function: checks the move and emits `stateChange`. */
  private transition(to: ResponseContextState): void {
    const from = this.current;
    assertTransition('ResponseContext', TRANSITIONS, from, to);
    this.current = to;
    this.emit('stateChange', from, to);
  }

  private startBranch(target: ProxyTarget, index: number): void {
    const branch: Branch = {
      index, target, request: undefined, destination: undefined, transaction: undefined, provisional: false,
      final: undefined, cancel: 'none', cancelReason: undefined, timers: new TimerSet(),
    };
    this.branches.push(branch);
    let transaction: ClientTransaction;
    try {
      const { request, destination } = buildForwardedRequest({
        addresses: this.env.addresses, hooks: this.env.hooks, context: this.context, working: this.working,
        original: this.original, inbound: this.received.local.protocol,
        recordRoute: this.env.hooks.recordRoute?.(this.working) ?? defaultRecordRoute(this.working),
      }, target, index);
      branch.request = request;
      branch.destination = destination;
      transaction = this.env.layer.sendRequest(request, destination);
    } catch (error) {
      this.env.report(error instanceof Error ? error : new Error(String(error)));
      this.settleBranch(branch, this.synthesize(503));
      return;
    }
    branch.transaction = transaction;
    transaction.on('response', (response: SipResponse) => this.onBranchResponse(branch, response));
    transaction.on('timeout', () => this.settleBranch(branch, this.synthesize(408)));
    transaction.on('transportError', (error: Error) => {
      this.env.report(error);
      this.settleBranch(branch, this.synthesize(503));
    });
    transaction.on('stateChange', () => {
      if (transaction.terminated) this.maybeTerminate();
    });
    if (this.isInvite) this.startTimerC(branch);
  }

  private onBranchResponse(branch: Branch, response: SipResponse): void {
    if (response.status < 200) {
      if (branch.final) return;
      branch.provisional = true;
      if (this.isInvite) this.startTimerC(branch);
      if (branch.cancel === 'pending') this.sendCancel(branch);
      if (response.status > 100 && this.current === S.Proceeding) this.sendUpstream(response, true);
      return;
    }
    if (response.status < 300) {
      if (!branch.final) this.settle(branch, response);
      // §16.7 item 5: every 2xx to an INVITE goes upstream at once, even after another final response.
      if (this.isInvite || this.current === S.Proceeding) {
        this.sendUpstream(response, true);
        if (this.current === S.Proceeding) this.transition(S.Completed);
      }
      // §16.7 item 10: the other branches are no longer wanted.
      for (const other of this.branches) if (other !== branch) this.cancelBranch(other, 'SIP;cause=200;text="Call completed elsewhere"');
      this.maybeTerminate();
      return;
    }
    this.settleBranch(branch, response);
  }

  /** Record a branch's (possibly synthesised) non-2xx final response and see whether the context is done. */
  private settleBranch(branch: Branch, response: SipResponse): void {
    if (branch.final) return;
    this.settle(branch, response);
    if (response.status >= 600 && this.isInvite) {
      for (const other of this.branches) if (other !== branch) this.cancelBranch(other, undefined);
    }
    this.checkAllFinal();
    this.maybeTerminate();
  }

  private settle(branch: Branch, response: SipResponse): void {
    branch.final = response;
    branch.timers.stopAll();
  }

  /** When every branch has answered and nothing went upstream yet, send the best answer (§16.7 item 6). */
  private checkAllFinal(): void {
    if (this.forking || this.current !== S.Proceeding || this.branches.some((b) => !b.final)) return;
    const best = chooseBestResponse(this.branches.map((b) => b.final!).filter((r) => r.status >= 300));
    this.sendUpstream(best, this.hasOurVia(best));
    this.transition(S.Completed);
  }

  /** Responses from downstream carry our Via on top; those we synthesise (408, 487, 503) do not. */
  private hasOurVia(response: SipResponse): boolean {
    return response.headers.values('Via').length > this.server.request.headers.values('Via').length;
  }

  /**
   * Send a response upstream through the server transaction; a 2xx the transaction can no longer carry
   * goes statelessly to the same destination (§16.7 item 9 with RFC 6026).
   */
  private sendUpstream(response: SipResponse, stripOurVia: boolean): void {
    const copy: SipResponse = { ...response, headers: response.headers.clone() };
    if (stripOurVia) copy.headers.shift('Via');
    try {
      this.env.hooks.rewriteResponse?.(copy, this.context);
    } catch (error) {
      this.env.report(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.canCarry(copy.status)) {
      this.server.respond(copy);
    } else if (copy.status >= 200 && copy.status < 300 && this.isInvite) {
      void this.env.layer.sendStateless(copy, this.server.target);
    }
  }

  private canCarry(status: number): boolean {
    const state = this.server.state;
    if (state === 'Trying' || state === 'Proceeding') return true;
    return state === 'Accepted' && status >= 200 && status < 300;
  }

  /** Cancel one INVITE branch (§9.1): at once if it has a provisional response, else when it gets one. */
  private cancelBranch(branch: Branch, reason: string | undefined): void {
    if (!this.isInvite || branch.final || branch.cancel !== 'none' || !branch.transaction) return;
    branch.cancelReason = reason;
    branch.timers.stop('C');
    if (branch.provisional) this.sendCancel(branch);
    else branch.cancel = 'pending';
    // §9.1: with no final response 64·T1 after the CANCEL, the branch is considered cancelled.
    branch.timers.start('cancelGuard', 64 * this.env.t1, () => {
      if (branch.final) return;
      this.settleBranch(branch, this.synthesize(487));
      branch.transaction?.terminate();
      this.maybeTerminate();
    });
  }

  private sendCancel(branch: Branch): void {
    if (!branch.request || !branch.destination || !branch.transaction) return;
    branch.cancel = 'sent';
    try {
      const cancel = buildCancel(branch.request);
      if (branch.cancelReason !== undefined) cancel.headers.append('Reason', branch.cancelReason);
      const flow = branch.transaction.flow;
      const destination = flow === undefined ? branch.destination : { ...branch.destination, flowId: flow };
      const transaction = this.env.layer.sendRequest(cancel, destination);
      this.cancels.add(transaction);
      transaction.on('stateChange', () => {
        if (!transaction.terminated) return;
        this.cancels.delete(transaction);
        this.maybeTerminate();
      });
    } catch (error) {
      this.env.report(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private startTimerC(branch: Branch): void {
    branch.timers.start('C', this.env.timerC, () => {
      if (branch.final) return;
      if (branch.provisional) {
        this.cancelBranch(branch, 'SIP;cause=408;text="Timer C"');
      } else {
        // §16.8: no provisional response — behave as if the transaction received a 408.
        this.settleBranch(branch, this.synthesize(408));
        branch.transaction?.terminate();
      }
    });
  }

  private synthesize(status: number): SipResponse {
    return buildResponse(this.server.request, status, { toTag: randomTag() });
  }

  private onServerTerminated(): void {
    this.serverEnded = true;
    // Nobody upstream is listening any more (transport failure, or the transaction simply ended).
    if (this.current === S.Proceeding) for (const branch of this.branches) this.cancelBranch(branch, undefined);
    this.maybeTerminate();
  }

  private maybeTerminate(): void {
    if (this.current === S.Terminated || !this.serverEnded || this.cancels.size > 0) return;
    for (const branch of this.branches) {
      if (branch.transaction && !branch.transaction.terminated) return;
    }
    for (const branch of this.branches) branch.timers.stopAll();
    this.transition(S.Terminated);
  }
}

/** Record-Route by default on dialog-creating requests outside a dialog (INVITE, SUBSCRIBE, REFER). */
export function defaultRecordRoute(request: SipRequest): boolean {
  if (!['INVITE', 'SUBSCRIBE', 'REFER'].includes(request.method)) return false;
  return toTag(request) === undefined;
}

function randomTag(): string {
  return randomBytes(6).toString('hex');
}
