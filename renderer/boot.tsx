/**
 * Starts the UI on a page: finds the DeviceApi (preload or browser-shell bridge), builds the store, wires
 * the events, loads the account and renders. Shared by the app page (main.tsx) and the test harness.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { DeviceApi } from '../electron/api/device-api';
import { App } from './components/app';
import { connectDeviceEvents, createAppStore, type AppStore } from './state/app-store';
import { StoreProvider } from './state/store-context';

/** Renders the app over `api` into `container`; returns the store (tests look at it). */
export function boot(api: DeviceApi, container: HTMLElement, options: { onStore?: (store: AppStore) => void } = {}): AppStore {
  const store = createAppStore(api);
  connectDeviceEvents(api, store);
  options.onStore?.(store);
  void store.getState().loadAccount();
  createRoot(container).render(
    <StrictMode>
      <StoreProvider store={store}>
        <App />
      </StoreProvider>
    </StrictMode>,
  );
  return store;
}

/** Shows a problem that prevents the app from starting. */
export function showStartupProblem(container: HTMLElement, problem: string): void {
  const box = document.createElement('div');
  box.className = 'startup-problem';
  box.setAttribute('role', 'alert');
  box.textContent = problem;
  container.replaceChildren(box);
}
