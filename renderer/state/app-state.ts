/**
 * The renderer's state: one zustand store made of one slice per domain (account, devices, conversations,
 * transfer). Slices read each other through `get()`; only the DeviceApi changes the world.
 */
import type { StateCreator } from 'zustand/vanilla';
import type { AccountSlice } from './account-slice';
import type { ConversationsSlice } from './conversations-slice';
import type { DevicesSlice } from './devices-slice';
import type { TransferSlice } from './transfer-slice';

/** The whole store. */
export type AppState = AccountSlice & DevicesSlice & ConversationsSlice & TransferSlice;

/** A slice creator over the whole store. */
export type SliceCreator<S> = StateCreator<AppState, [], [], S>;

/** A short, user-readable message from a rejected command (`[code] detail` → `detail`). */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : typeof error === 'string' ? error : 'Something went wrong.';
  const match = /\[[a-z-]+\] ([\s\S]*)$/.exec(text);
  return (match?.[1] ?? text).trim() || 'Something went wrong.';
}
