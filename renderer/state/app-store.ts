/**
 * The store: the four slices over one DeviceApi, and the wiring of the API's events into them.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DeviceApi } from '../../electron/api/device-api';
import { createAccountSlice, type LabCapableApi } from './account-slice';
import type { AppState } from './app-state';
import { createConversationsSlice } from './conversations-slice';
import { createDevicesSlice } from './devices-slice';
import { createTransferSlice } from './transfer-slice';

/** The app's store. */
export type AppStore = StoreApi<AppState>;

/** Creates the store over `api` (`now` is the clock, injectable for tests). */
export function createAppStore(api: LabCapableApi, now: () => number = Date.now): AppStore {
  return createStore<AppState>()((...a) => ({
    ...createAccountSlice(api)(...a),
    ...createDevicesSlice(api)(...a),
    ...createConversationsSlice(api)(...a),
    ...createTransferSlice(api, now)(...a),
  }));
}

/** Feeds every DeviceApi event into the store; returns the function that stops it. */
export function connectDeviceEvents(api: DeviceApi, store: AppStore): () => void {
  const s = () => store.getState();
  const stops = [
    api.on('registrationState', (status) => s().applyRegistration(status)),
    api.on('devices', (devices) => s().applyDevices(devices)),
    api.on('conversationUpdated', (summary) => s().applyConversation(summary)),
    api.on('message', (message) => s().applyMessage(message)),
    api.on('messageStatus', (update) => s().applyMessageStatus(update)),
    api.on('incomingSession', (invitation) => s().applyInvitation(invitation)),
    api.on('sessionState', (update) => s().applySessionState(update)),
    api.on('transferProgress', (progress) => s().applyTransferProgress(progress)),
    api.on('joinRequest', (request) => s().applyJoinRequest(request)),
    api.on('error', (info) => s().applyDeviceError(info)),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
