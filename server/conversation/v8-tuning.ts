/**
 * V8 settings of the Conversation Server process, applied by its entry point (server/conversation-server.ts)
 * before it serves anything, so that however it is started (`npm run conversation-server`, the lab's fork, a
 * supervisor) it runs the same way; the MSRP benchmark applies them too, its relay worker standing for the server.
 *
 * `--no-allocation-site-pretenuring`: V8 allocates straight in the old generation the objects of any allocation site
 * whose objects were seen to survive young-generation collections. A burst of small messages (each relayed record
 * lives until the receiving leg answers, tens of milliseconds at full speed) gets the relay's per-chunk sites
 * pretenured, and from then on every chunk record of a large transfer, in the old generation, keeps its 256 KiB body
 * alive until the next full collection: the relay thread then spent 0.85–0.93 ms per MiB instead of 0.72–0.8, and
 * relayed 1 MiB messages at 0.55–0.68 of the direct rate instead of 0.69–0.79 (bench/msrp.bench.ts, 100 B and 1 MiB
 * runs through one relay, November 2026, four runs each). Small messages do not lose by it (0.74–0.76 either way).
 */
import { setFlagsFromString } from 'node:v8';

/** The V8 flags the Conversation Server runs with. */
export const CONVERSATION_SERVER_V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

const applied = new Set<string>();

/** Set `CONVERSATION_SERVER_V8_FLAGS` for this process (every thread of it). Idempotent. */
export function applyConversationServerV8Flags(): void {
  for (const flag of CONVERSATION_SERVER_V8_FLAGS) {
    setFlagsFromString(flag);
    applied.add(flag);
  }
}

/** The flags `applyConversationServerV8Flags` set in this process, in order (the server's description lists them). */
export function appliedV8Flags(): string[] {
  return [...applied];
}
