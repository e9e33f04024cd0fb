/**
 * The component-test harness page: boots the real renderer over the in-page scripted DeviceAgent
 * (a test double, see scripted-device-agent.ts). The test drives it through `window.harness`.
 */
import type { AppStore } from '../state/app-store';
import { boot } from '../boot';
import { createScriptedDevice, type HarnessSeed, type ScriptedDevice } from './scripted-device-agent';
import '../styles.css';

/** What the test reaches through `window.harness`. */
export interface HarnessHandle {
  start(seed: HarnessSeed): void;
  device: ScriptedDevice | null;
  store: AppStore | null;
}

const handle: HarnessHandle = {
  device: null,
  store: null,
  start(seed) {
    const container = document.getElementById('root');
    if (container === null) throw new Error('harness: no #root');
    const device = createScriptedDevice(seed);
    handle.device = device;
    const store = boot(device.api, container);
    handle.store = store;
    if (seed.preloadBulk && device.bulk && seed.bulkConversationId) {
      const id = seed.bulkConversationId;
      store.setState({ histories: { [id]: { messages: device.bulk, hasMore: false, loading: false, error: null } } });
    }
  },
};

(window as unknown as { harness: HarnessHandle }).harness = handle;
