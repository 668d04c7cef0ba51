// Entry of the recording worker thread (src/media/recording-worker.ts). Switchboard runs its
// TypeScript through tsx, whose loader a worker thread does not inherit here (Node 20: an
// inherited `--import tsx` still fails on .ts with ERR_UNKNOWN_FILE_EXTENSION), so the worker
// registers it itself before loading the TypeScript module.
import { register } from 'tsx/esm/api';

register();
await import('./recording-worker.ts');
