/**
 * A Conversation Server run as its own process by the lab (`LabNetwork.start({ conversationServers: 'process' })`):
 * server/conversation-server.ts forked with an IPC channel (`--import tsx`, like `npm run lab`), configured
 * through a JSON file, described by the first line of its stdout.
 *
 * Over the channel the child's log lines come to `log`, and its SIP trace entries to the lab's trace while
 * that trace is enabled (`setTracing`): each is recorded as the child's element, the way the element's own
 * transport hook would have in-process, with the time the child saw the message (its `process.hrtime.bigint()`,
 * the same system-wide monotonic clock as the lab's on Linux), not the later time it arrived here.
 *
 * ```
 *   starting ──(description line)──► running ──(close)──► stopping ──(exit)──► exited
 *      │  │                              │                     ▲                  ▲
 *      │  └──(close: bad line, time-out)─┼─────────────────────┘                  │
 *      └──(exit)─────────────────────────┴──(exit without close: `unexpectedExit`)─┘
 * ```
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { ConversationMode } from '../conversation/conversation-mode';
import { parseConversationServerDescription, type ConversationServerDescription } from '../conversation/conversation-server-config';
import { isFromChild, type ToChild } from '../conversation/conversation-server-ipc';
import type { Endpoint } from '../sip/transport/transport-types';
import type { TimedTransportTrace } from './sip-trace';

/** The program, and the repository root it runs from (where `tsx` resolves). */
const PROGRAM = fileURLToPath(new URL('../conversation-server.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** States of a {@link ConversationServerProcess}. */
export enum ProcessState {
  Starting = 'starting',
  Running = 'running',
  Stopping = 'stopping',
  Exited = 'exited',
}

const MOVES: Readonly<Record<ProcessState, readonly ProcessState[]>> = {
  [ProcessState.Starting]: [ProcessState.Running, ProcessState.Stopping, ProcessState.Exited],
  [ProcessState.Running]: [ProcessState.Stopping, ProcessState.Exited],
  [ProcessState.Stopping]: [ProcessState.Exited],
  [ProcessState.Exited]: [],
};

/** How a child ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** False when it ended without being asked to (`close()`). */
  expected: boolean;
}

/** Options of {@link ConversationServerProcess.start}. */
export interface ConversationServerProcessOptions {
  /** The element's name in the lab (`CS A`), in log lines. */
  name: string;
  /** The program's JSON config file. */
  configFile: string;
  /** Where the child's trace entries go, each with the child's timestamp (the element's hook on the lab trace). */
  trace?: TimedTransportTrace;
  /** The child's log lines, and the lab's lines about the child. */
  log?: (line: string) => void;
  /** How long the child may take to describe itself (default 30 s: tsx compiles the server on first start). */
  startTimeoutMs?: number;
  /** How long `close()` waits after SIGTERM before SIGKILL (default 5 s). */
  stopGraceMs?: number;
}

/** Events of a {@link ConversationServerProcess}. */
export interface ConversationServerProcessEvents {
  stateChange: [state: ProcessState, previous: ProcessState];
  /** The child ended without `close()`. */
  unexpectedExit: [exit: ProcessExit];
}

/** Most of the child's stderr kept for error messages. */
const STDERR_TAIL = 8 * 1024;

/** A forked Conversation Server. Create with {@link ConversationServerProcess.start}. */
export class ConversationServerProcess extends EventEmitter<ConversationServerProcessEvents> {
  private current = ProcessState.Starting;
  private stderrTail = '';
  private exit: ProcessExit | undefined;
  private described: ConversationServerDescription | undefined;
  private readonly exited: Promise<ProcessExit>;
  /** `setTracing` calls the child has not confirmed yet, oldest first (the channel keeps order). */
  private readonly tracingAcks: { resolve: () => void; reject: (error: Error) => void }[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly options: ConversationServerProcessOptions,
  ) {
    super();
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': its stdout and stderr have been read to the end by then.
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        const expected = this.current === ProcessState.Stopping;
        this.exit = { code, signal, expected };
        this.transition(ProcessState.Exited);
        for (const ack of this.tracingAcks.splice(0)) ack.reject(new Error(`${options.name}: exited before it confirmed the trace setting`));
        if (!expected) this.emit('unexpectedExit', this.exit);
        resolve(this.exit);
      });
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL);
    });
    child.on('message', (message: unknown) => this.onMessage(message));
    // An IPC write to a child that just died fails asynchronously; the exit is what we report.
    child.on('error', () => undefined);
  }

  /** Fork the program with `configFile` and wait for its description line; rejects (with its stderr) when it exits or stays silent. */
  static async start(options: ConversationServerProcessOptions): Promise<ConversationServerProcess> {
    const child = fork(PROGRAM, ['--config', options.configFile], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      // Its own process group: a Ctrl-C at the lab's terminal reaches the lab, which stops its servers itself; and
      // a server whose lab is gone stops on the closed IPC channel.
      detached: true,
    });
    const handle = new ConversationServerProcess(child, options);
    try {
      handle.described = await handle.readDescription(options.startTimeoutMs ?? 30_000);
    } catch (error) {
      await handle.close();
      throw error;
    }
    if (handle.current !== ProcessState.Starting) {
      throw new Error(`${options.name}: exited right after it started${handle.stderrTail ? `; its stderr: ${handle.stderrTail.trim()}` : ''}`);
    }
    handle.transition(ProcessState.Running);
    return handle;
  }

  /** What the child printed about itself (its SIP address, mode, MSRP relay, pid). */
  get description(): ConversationServerDescription {
    if (this.described === undefined) throw new Error(`${this.options.name}: not started`);
    return this.described;
  }

  /** The state (see the diagram in this file's header). */
  get state(): ProcessState {
    return this.current;
  }

  /** The child's process id. */
  get pid(): number {
    return this.description.pid;
  }

  /** The server's internal TLS listening point, where its core sends. */
  get address(): Endpoint {
    return this.description.address;
  }

  /** The mode the server serves sessions in. */
  get mode(): ConversationMode {
    return this.description.mode;
  }

  /** How the child ended, once it has. */
  get exitStatus(): ProcessExit | undefined {
    return this.exit;
  }

  /** The last few kilobytes the child wrote to stderr. */
  get stderr(): string {
    return this.stderrTail;
  }

  /**
   * Ask the child to send (or stop sending) its SIP trace entries. Resolves once it confirms: every message it
   * sees after that follows the setting. Rejects when the child is not running or exits first.
   */
  setTracing(enabled: boolean): Promise<void> {
    if (this.current !== ProcessState.Running || !this.child.connected) {
      return Promise.reject(new Error(`${this.options.name}: cannot set tracing, the process is ${this.current}`));
    }
    return new Promise((resolve, reject) => {
      this.tracingAcks.push({ resolve, reject });
      this.send({ type: 'trace', enabled });
    });
  }

  /** Stop the child (SIGTERM, then SIGKILL after the grace period) and wait until it has exited. Idempotent. */
  async close(): Promise<void> {
    if (this.current === ProcessState.Starting || this.current === ProcessState.Running) {
      this.transition(ProcessState.Stopping);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), this.options.stopGraceMs ?? 5_000);
      void this.exited.finally(() => clearTimeout(timer));
      this.child.kill('SIGTERM');
    }
    await this.exited;
  }

  private send(message: ToChild): void {
    if (!this.child.connected) return;
    this.child.send(message, (error) => {
      if (error) this.options.log?.(`${this.options.name}: cannot reach the process: ${error.message}`);
    });
  }

  private onMessage(message: unknown): void {
    if (!isFromChild(message)) {
      this.options.log?.(`${this.options.name}: ignored an unknown message from the process`);
      return;
    }
    if (message.type === 'log') {
      this.options.log?.(message.line);
      return;
    }
    if (message.type === 'tracing') {
      this.tracingAcks.shift()?.resolve();
      return;
    }
    this.options.trace?.(
      message.direction,
      message.bytes,
      { local: message.local, remote: message.remote, ...(message.flowId !== undefined ? { flowId: message.flowId } : {}) },
      message.timestampNs,
    );
  }

  private readDescription(timeoutMs: number): Promise<ConversationServerDescription> {
    const stdout = this.child.stdout;
    if (!stdout) return Promise.reject(new Error(`${this.options.name}: the process has no stdout`));
    return new Promise((resolve, reject) => {
      let buffer = '';
      const done = (error: Error | undefined, description?: ConversationServerDescription): void => {
        clearTimeout(timer);
        stdout.off('data', onData);
        this.child.off('exit', onExit);
        // Keep draining stdout so that the child never blocks on a full pipe.
        stdout.resume();
        if (error) reject(error);
        else resolve(description!);
      };
      const failure = (what: string): Error => new Error(`${this.options.name}: ${what}${this.stderrTail ? `; its stderr: ${this.stderrTail.trim()}` : ''}`);
      const onData = (chunk: string): void => {
        buffer += chunk;
        const newline = buffer.indexOf('\n');
        if (newline < 0) return;
        try {
          done(undefined, parseConversationServerDescription(buffer.slice(0, newline)));
        } catch (error) {
          done(failure((error as Error).message));
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        // stderr may still hold the reason: give it the rest of this turn
        setImmediate(() => done(failure(`exited before it was ready (${signal ?? `code ${String(code)}`})`)));
      };
      const timer = setTimeout(() => done(failure(`did not describe itself within ${timeoutMs} ms`)), timeoutMs);
      stdout.setEncoding('utf8').on('data', onData);
      this.child.once('exit', onExit);
    });
  }

  /** The one way the state changes; throws on a move the diagram does not have. */
  private transition(next: ProcessState): void {
    const previous = this.current;
    if (!MOVES[previous].includes(next)) throw new Error(`ConversationServerProcess: illegal move ${previous} → ${next}`);
    this.current = next;
    this.emit('stateChange', next, previous);
  }
}
