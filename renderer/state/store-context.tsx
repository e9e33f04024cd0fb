/**
 * Hands the store to the component tree: `<StoreProvider store>` at the root, `useAppState(selector)` below.
 */
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { AppState } from './app-state';
import type { AppStore } from './app-store';

const StoreContext = createContext<AppStore | null>(null);

/** Makes `store` available to `useAppState`. */
export function StoreProvider(props: { store: AppStore; children: ReactNode }): ReactNode {
  return <StoreContext.Provider value={props.store}>{props.children}</StoreContext.Provider>;
}

/** Selects from the store; re-renders when the selected value changes (Object.is). */
export function useAppState<T>(selector: (state: AppState) => T): T {
  const store = useContext(StoreContext);
  if (store === null) throw new Error('useAppState: no StoreProvider above this component');
  return useStore(store, selector);
}
