// Media objects use the engine-wide typed, safe event emitter from src/lib/events.ts.
export { SafeEmitter as MediaEmitter, type EventMap as MediaEventMap } from '../lib/events.js';
