/**
 * Transfer slice: the "Move this conversation to…" picker, each move this device started (source role)
 * with its progress and result, the Join prompts it received (target role), the conversations that now
 * live on another device, and the quiet markers the history shows where a conversation moved.
 *
 * The target's side of a move, as this slice follows it (from the device's `transferProgress` events):
 *
 *   joinRequest ──accept──► accepting ──► joining ──► replaced (done: banner gone, marker, history reloaded)
 *        │                      └──────────────────► failed | timed-out (joinError)
 *        └──decline / expiry / answered elsewhere──► (prompt gone)
 */
import type { DeviceApi } from '../../electron/api/device-api';
import type { DeviceInfo, JoinRequest, TransferPhase, TransferProgress } from '../../electron/api/payloads';
import { isFinalPhase, type MoveProgressPhase } from '../format/transfer-text';
import { errorText, type SliceCreator } from './app-state';

/** A move this device started. */
export interface OutgoingMove {
  conversationId: string;
  targetInstanceId: string;
  targetName: string;
  transferId: string | null;
  phase: MoveProgressPhase;
  statusCode: number | null;
  /** A command error (the REFER could not even be sent), else null. */
  error: string | null;
  /** The agent's own words for how the move ended (the last progress event's `description`), else null. */
  description: string | null;
}

/** What a move accepted without a prompt (auto-accept) calls the device it came from. */
export const UNNAMED_SOURCE = 'your other device';

/** How long a Join prompt stays up (PROFILE.md: 60 s). */
export const JOIN_PROMPT_MS = 60_000;

/**
 * A Join request as the prompt shows it: when it reached this window, and when its countdown ends. The
 * countdown starts at arrival: `expiresAt` is read on the device's clock, so it is trusted only when it
 * falls within the 60 s after arrival here; otherwise (the clocks disagree) the 60 s count from arrival.
 */
export interface PendingJoin extends JoinRequest {
  receivedAt: number;
  deadline: number;
}

/** The countdown's end for a request that reached the store at `receivedAt`. */
export function joinDeadline(expiresAt: number, receivedAt: number): number {
  const left = expiresAt - receivedAt;
  return receivedAt + (Number.isFinite(left) && left > 0 && left <= JOIN_PROMPT_MS ? left : JOIN_PROMPT_MS);
}

/**
 * The target's phases after which nothing more happens. A move that worked ends at `replaced` on the target
 * (its INVITE with Join was answered 200: the session is here, electron/device/transfer); `completed` is the
 * source's word for the same, accepted here too.
 */
export function isTargetFinalPhase(phase: TransferPhase | 'accepting'): boolean {
  return phase === 'replaced' || phase === 'completed' || phase === 'declined' || phase === 'failed' || phase === 'timed-out';
}

/** A quiet line in a conversation's history: where it moved between devices. */
export interface MoveMarker {
  at: number;
  text: string;
}

/** A conversation that continues on another device: its thread is read-only here. */
export interface MovedAway {
  deviceName: string;
  at: number;
}

/** Transfer state and actions. */
export interface TransferSlice {
  pickerOpen: boolean;
  moves: Record<string, OutgoingMove>;
  movedAway: Record<string, MovedAway>;
  markers: Record<string, MoveMarker[]>;
  joinRequests: PendingJoin[];
  /** Conversations this device joined, and from which device (to label progress events). */
  joined: Record<string, { sourceDeviceName: string; phase: TransferPhase | 'accepting' }>;
  joinError: string | null;

  openPicker(): void;
  closePicker(): void;
  move(conversationId: string, target: DeviceInfo): Promise<void>;
  dismissMove(conversationId: string): void;
  acceptJoin(joinId: string): Promise<void>;
  declineJoin(joinId: string): Promise<void>;
  /** Drop prompts whose countdown is over at `now`. */
  expireJoinRequests(now: number): void;
  applyTransferProgress(progress: TransferProgress): void;
  applyJoinRequest(request: JoinRequest): void;
  clearMovedAway(conversationId: string): void;
}

/** Creates the transfer slice over `api`; `now` is the clock (injectable for tests). */
export function createTransferSlice(api: DeviceApi, now: () => number = Date.now): SliceCreator<TransferSlice> {
  return (set, get) => {
    const addMarker = (conversationId: string, text: string): void => {
      const markers = get().markers;
      set({ markers: { ...markers, [conversationId]: [...(markers[conversationId] ?? []), { at: now(), text }] } });
    };
    const patchMove = (conversationId: string, patch: Partial<OutgoingMove>): void => {
      const move = get().moves[conversationId];
      if (move) set({ moves: { ...get().moves, [conversationId]: { ...move, ...patch } } });
    };

    return {
      pickerOpen: false,
      moves: {},
      movedAway: {},
      markers: {},
      joinRequests: [],
      joined: {},
      joinError: null,

      openPicker() {
        set({ pickerOpen: true });
      },
      closePicker() {
        set({ pickerOpen: false });
      },

      async move(conversationId, target) {
        const running = get().moves[conversationId];
        if (running && !isFinalPhase(running.phase)) return;
        set({
          pickerOpen: false,
          moves: {
            ...get().moves,
            [conversationId]: {
              conversationId, targetInstanceId: target.instanceId, targetName: target.name, transferId: null, phase: 'sending', statusCode: null, error: null, description: null,
            },
          },
        });
        try {
          const transferId = await api.moveConversation(conversationId, target.instanceId);
          patchMove(conversationId, { transferId });
        } catch (error) {
          patchMove(conversationId, { phase: 'failed', error: errorText(error) });
        }
      },

      dismissMove(conversationId) {
        const { [conversationId]: _gone, ...rest } = get().moves;
        set({ moves: rest });
      },

      async acceptJoin(joinId) {
        const request = get().joinRequests.find((r) => r.joinId === joinId);
        set({ joinRequests: get().joinRequests.filter((r) => r.joinId !== joinId), joinError: null });
        if (!request) return;
        set({ joined: { ...get().joined, [request.conversationId]: { sourceDeviceName: request.sourceDeviceName, phase: 'accepting' } } });
        try {
          await api.acceptJoin(joinId);
          get().clearMovedAway(request.conversationId);
          get().select(request.conversationId);
        } catch (error) {
          const { [request.conversationId]: _gone, ...rest } = get().joined;
          set({ joined: rest, joinError: errorText(error) });
        }
      },

      async declineJoin(joinId) {
        set({ joinRequests: get().joinRequests.filter((r) => r.joinId !== joinId), joinError: null });
        try {
          await api.declineJoin(joinId);
        } catch (error) {
          set({ joinError: errorText(error) });
        }
      },

      expireJoinRequests(at) {
        const alive = get().joinRequests.filter((r) => r.deadline > at);
        if (alive.length !== get().joinRequests.length) set({ joinRequests: alive });
      },

      applyTransferProgress(progress) {
        const { conversationId, phase } = progress;
        if (progress.role === 'source') {
          const move = get().moves[conversationId];
          if (!move) return; // a move started before this window opened: nothing to show progress on
          if (move.transferId !== null && move.transferId !== progress.transferId) return;
          const description = progress.description ?? null;
          patchMove(conversationId, { transferId: progress.transferId, phase, statusCode: progress.statusCode, ...(description === null ? {} : { description }) });
          if (phase === 'completed') {
            set({ movedAway: { ...get().movedAway, [conversationId]: { deviceName: move.targetName, at: now() } } });
            addMarker(conversationId, `Moved to ${move.targetName}`);
          }
          return;
        }
        // Answered elsewhere (the OS notification, or auto-accept): the prompt for this conversation is moot.
        const prompt = get().joinRequests.find((r) => r.conversationId === conversationId);
        if (prompt && phase !== 'requested') {
          set({ joinRequests: get().joinRequests.filter((r) => r.conversationId !== conversationId) });
          if (!get().joined[conversationId] && phase !== 'declined') {
            set({ joined: { ...get().joined, [conversationId]: { sourceDeviceName: prompt.sourceDeviceName, phase: 'accepting' } } });
          }
        } else if (!prompt && phase === 'joining' && !get().joined[conversationId]) {
          // Accepted without a prompt (auto-accept): the events do not name the source device.
          set({ joined: { ...get().joined, [conversationId]: { sourceDeviceName: UNNAMED_SOURCE, phase: 'accepting' } } });
        }
        const joined = get().joined[conversationId];
        // Nothing to follow, or the move already ended (a `completed` after the final `replaced`).
        if (!joined || isTargetFinalPhase(joined.phase)) return;
        set({ joined: { ...get().joined, [conversationId]: { ...joined, phase } } });
        if (phase === 'replaced' || phase === 'completed') {
          get().clearMovedAway(conversationId);
          addMarker(conversationId, `Moved here from ${joined.sourceDeviceName}`);
          void get().refreshHistory(conversationId);
        }
        if (phase === 'failed' || phase === 'timed-out') set({ joinError: `The chat could not be moved here from ${joined.sourceDeviceName}.` });
      },

      applyJoinRequest(request) {
        const known = get().joinRequests.find((r) => r.joinId === request.joinId);
        const receivedAt = known?.receivedAt ?? now();
        const pending: PendingJoin = { ...request, receivedAt, deadline: joinDeadline(request.expiresAt, receivedAt) };
        set({ joinRequests: [...get().joinRequests.filter((r) => r.joinId !== request.joinId), pending] });
      },

      clearMovedAway(conversationId) {
        if (!(conversationId in get().movedAway)) return;
        const { [conversationId]: _gone, ...rest } = get().movedAway;
        set({ movedAway: rest });
      },
    };
  };
}
