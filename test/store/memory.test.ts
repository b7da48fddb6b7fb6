import { createMemoryStore } from '../../src/store/memory-store.js';
import { storeConformance } from './conformance.js';

storeConformance('memory store', async (limits) => ({ store: createMemoryStore(limits) }));
