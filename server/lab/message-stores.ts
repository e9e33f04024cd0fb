/**
 * The lab's Message Stores (PROFILE.md "History continuity"): one per domain, each a SQLite file in a
 * temporary directory of this lab run, served by its own Digest-authenticated `StoreHttpApi` on loopback
 * (ephemeral port) with the domain as realm and the domain's users from the lab config as accounts.
 * `close()` stops the APIs, closes the databases and removes the directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { messageStoreSink, type MessageSink } from '../store/message-sink';
import type { MessageStore } from '../store/message-store';
import { SqliteMessageStore } from '../store/sqlite-message-store';
import { StoreHttpApi } from '../store/store-http-api';
import type { LabDomainConfig } from './lab-config';

/** Options of `MessageStores.start`. */
export interface MessageStoresOptions {
  domains: readonly LabDomainConfig[];
  /** Bind address of the HTTP APIs; default 127.0.0.1. */
  host?: string;
  /** Where the database files go; default a fresh temporary directory, removed on close. */
  dir?: string;
  /** Unexpected errors of the HTTP APIs and sinks. */
  onError?: (error: unknown) => void;
}

/** One domain's running Message Store. */
export interface LabMessageStore {
  domain: string;
  /** The SQLite file (absolute path): a Conversation Server in its own process opens it too (WAL lets both write). */
  file: string;
  store: MessageStore;
  api: StoreHttpApi;
  /**
   * The domain's Conversation Server's view of the store: in-path it writes what it relays there; in either
   * mode a move's Join REFER carries the conversation's cursor read from it.
   */
  sink: MessageSink;
}

/** Every domain's Message Store. */
export class MessageStores {
  private closed = false;

  private constructor(
    private readonly byDomain: ReadonlyMap<string, LabMessageStore>,
    /** The folder of the database files. */
    readonly directory: string,
    private readonly ownedDir: string | undefined,
  ) {}

  /** Open a store and start its HTTP API for every domain; on failure, everything started is closed again. */
  static async start(options: MessageStoresOptions): Promise<MessageStores> {
    const ownedDir = options.dir === undefined ? mkdtempSync(join(tmpdir(), 'cpm-lab-stores-')) : undefined;
    const dir = options.dir ?? ownedDir!;
    const started = new Map<string, LabMessageStore>();
    const stores = new MessageStores(started, dir, ownedDir);
    try {
      for (const d of options.domains) {
        const passwords = new Map(d.users.map((u) => [aorKey(`sip:${u.user}@${d.domain}`), u.password]));
        // The lab favours speed over surviving power loss: synchronous=NORMAL still survives a process crash.
        const file = resolve(dir, `${d.domain}.sqlite`);
        const store = SqliteMessageStore.open({ path: file, synchronous: 'NORMAL' });
        try {
          const api = await StoreHttpApi.start({
            store,
            realm: d.domain,
            host: options.host ?? '127.0.0.1',
            lookupUser: (aor) => {
              const password = passwords.get(aorKey(aor));
              return password === undefined ? undefined : { password };
            },
            ...(options.onError ? { onError: options.onError } : {}),
          });
          started.set(d.domain, { domain: d.domain, file, store, api, sink: messageStoreSink(store, options.onError) });
        } catch (error) {
          store.close();
          throw error;
        }
      }
    } catch (error) {
      await stores.close();
      throw error;
    }
    return stores;
  }

  /** The domain's store; throws when the lab has no such domain. */
  domain(domain: string): LabMessageStore {
    const s = this.byDomain.get(domain);
    if (s === undefined) throw new Error(`lab: no Message Store for ${domain}`);
    return s;
  }

  /** Base URL of the domain's Message Store HTTP API, e.g. `http://127.0.0.1:41234`. */
  url(domain: string): string {
    return this.domain(domain).api.url;
  }

  /** The domain's SQLite file (absolute path), for a Conversation Server process to open; throws when the lab has no such domain. */
  file(domain: string): string {
    return this.domain(domain).file;
  }

  /** Stop every API, close every database, remove the temporary directory. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.byDomain.values()].map((s) => s.api.close()));
    for (const s of this.byDomain.values()) s.store.close();
    if (this.ownedDir !== undefined) rmSync(this.ownedDir, { recursive: true, force: true });
  }
}

/** An AOR as a map key: the host is case-insensitive, the user part is not (RFC 3261 §19.1.4). */
function aorKey(aor: string): string {
  const at = aor.lastIndexOf('@');
  return at < 0 ? aor : `${aor.slice(0, at)}@${aor.slice(at + 1).toLowerCase()}`;
}
