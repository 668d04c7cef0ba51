// Entry point of the embedded drachtio server: the server side of drachtio's wire protocol on
// top of the SipStack, so drachtio-srf applications run against Switchboard unchanged.
import { moduleLogger } from '../../lib/log.js';
import { DrachtioServer } from './server.js';
import type { DrachtioServerHandle, DrachtioServerOptions } from './types.js';

export type { DrachtioDump, DrachtioListen, DrachtioServerHandle, DrachtioServerOptions, RouteInfo, UnroutedHandler } from './types.js';
export { MAX_FRAME_BYTES } from './framing.js';
export { SERVER_VERSION } from './server.js';

/** Starts listening (default 127.0.0.1:9022); resolves once bound. */
export async function startDrachtioServer(
  opts: Omit<DrachtioServerOptions, 'logger'> & { logger?: DrachtioServerOptions['logger'] },
): Promise<DrachtioServerHandle> {
  const server = await DrachtioServer.start({ ...opts, logger: opts.logger ?? moduleLogger('drachtio') });
  const { address, port } = server.address;
  return {
    address,
    port,
    dump: () => server.dump(),
    close: () => server.close(),
  };
}
