#!/usr/bin/env node
// Composition root for `npm start`: loads the config and starts the call layer — the embedded SIP
// stack and drachtio server (or a connection to an external drachtio-server), the registrar and
// extension-to-extension calls; the stack's default core answers what no application routes.
// Shuts down cleanly on SIGINT / SIGTERM.
import { Command } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../config/load.js';
import { ConfigError } from '../lib/errors.js';
import { rootLogger } from '../lib/log.js';
import { startApiServer } from '../api/http.js';
import { startCallServices } from '../call/index.js';
import { prepareMedia } from '../call/media-setup.js';

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('switchboard')
    .description('Self-hosted telephony engine for call centres')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .parse(argv);
  const opts = program.opts<{ config: string }>();

  let config;
  try {
    config = loadConfigFile(opts.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchboard: config error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (!process.env.LOG_LEVEL) rootLogger.level = config.log.level;
  const log = rootLogger.child({ module: 'cli' });

  prepareMedia(config.media, rootLogger.child({ module: 'media' }));

  const services = await startCallServices(config, { logger: rootLogger.child({ module: 'call' }) });
  const embedded = services.signalling.embedded;
  if (embedded) {
    for (const ep of embedded.stack.endpoints) {
      log.info({ transport: ep.transport, address: ep.address, port: ep.port }, 'sip listening');
    }
    log.info({ address: embedded.drachtio.address, port: embedded.drachtio.port }, 'drachtio listening');
  } else {
    log.info({ hostports: services.signalling.hostports }, 'using external drachtio-server');
  }
  const api = await startApiServer({
    address: config.api.address,
    port: config.api.port,
    registry: services.metrics.registry,
    logger: rootLogger.child({ module: 'api' }),
  });
  log.info({ config: opts.config, extensions: services.users.size, database: services.store.path }, 'switchboard started');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 5000);
    force.unref();
    Promise.all([api.close(), services.close()]).then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Bad input must never take the process down; a bug that escapes is logged, not fatal.
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`switchboard: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
