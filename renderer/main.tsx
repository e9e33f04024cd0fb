/**
 * The app page's entry point.
 */
import { connectDeviceApi } from './api/device-api-source';
import { boot, showStartupProblem } from './boot';
import './styles.css';

const container = document.getElementById('root');
if (container === null) throw new Error('index.html has no #root element');

let lost: (() => void) | null = null;
// The app starts once the bridge socket is open; a page the shell refused says why instead.
void connectDeviceApi(
  {
    cpm: (window as unknown as { cpm?: unknown }).cpm,
    location: window.location,
    openWebSocket: (url) => new WebSocket(url),
  },
  {
    onConnectionLost: () => lost?.(),
    onProtocolError: (problem) => console.warn(`[renderer] ${problem}`),
  },
).then((source) => {
  if (source.ok) {
    const store = boot(source.api, container);
    lost = () => store.getState().setConnectionLost();
  } else {
    showStartupProblem(container, source.problem);
  }
});
