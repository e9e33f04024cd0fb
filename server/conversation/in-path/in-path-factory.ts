/**
 * How a Conversation Server gets its in-path handler: `ConversationServer.start({ mode: 'in-path', inPath:
 * await inPathFactory({ host }) })`. The factory's MSRP listener is bound first (the handler's SDP needs its
 * address); the handler owns it from then on and closes it with the server.
 */
import type { MsrpEndpointLimits } from '../../../protocol/msrp/msrp-connection-pool';
import type { CpmSessionHandlerFactory } from '../session-handler';
import { InPathHandler, type InPathOptions } from './in-path-handler';
import { MsrpServerEndpoint } from './msrp/msrp-server-endpoint';

/** Options of {@link inPathFactory}. */
export interface InPathFactoryOptions extends Omit<InPathOptions, 'msrp' | 'ownsEndpoint'> {
  /** MSRP listening address (default 127.0.0.1, ephemeral port). */
  host?: string;
  port?: number;
  /** Bounds of the MSRP listener. */
  limits?: Partial<MsrpEndpointLimits>;
  /** Called with the handler once the server built it (tests and the lab keep a typed reference). */
  onCreated?: (handler: InPathHandler) => void;
}

/** Bind an MSRP listener and return the factory of an in-path handler that uses it. */
export async function inPathFactory(options: InPathFactoryOptions = {}): Promise<CpmSessionHandlerFactory> {
  const { host, port, limits, onCreated, ...handlerOptions } = options;
  const msrp = new MsrpServerEndpoint(limits ? { limits } : {});
  await msrp.listen({ ...(host !== undefined ? { host } : {}), ...(port !== undefined ? { port } : {}) });
  return (environment) => {
    const handler = new InPathHandler(environment, { ...handlerOptions, msrp, ownsEndpoint: true });
    onCreated?.(handler);
    return handler;
  };
}
